//! Generators, coroutines and async generators: a suspended frame and its saved stack slice.
//!
//! Resuming pushes the frame back onto the VM's frame stack and its values back onto the value
//! stack; yielding moves them out again. No Rust stack is held while suspended, which is what lets
//! a coroutine be parked in the event loop as plain data.

use std::cell::RefCell;
use std::rc::Rc;

use crate::frame::Frame;
use crate::value::{PyStr, Value};
use crate::Vm;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GenKind {
    Generator,
    Coroutine,
    AsyncGenerator,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GenState {
    /// Created, not yet started.
    Created,
    /// Suspended at a yield.
    Suspended,
    /// Its frame is on the frame stack now.
    Running,
    /// Returned or raised; cannot be resumed.
    Finished,
}

/// Made by `Generator::new` only (it keeps the live count).
pub struct Generator {
    pub kind: GenKind,
    pub name: Rc<PyStr>,
    pub qualname: Rc<PyStr>,
    pub inner: RefCell<GenInner>,
}

pub struct GenInner {
    pub state: GenState,
    /// The suspended frame (None while running or finished).
    pub frame: Option<Frame>,
    /// The frame's locals and operands while suspended.
    pub saved: Vec<Value>,
    /// For coroutines: whether anything ever awaited it (for the never-awaited warning).
    pub awaited: bool,
}

impl Generator {
    /// A generator, coroutine or async generator over `inner`, counted as live until dropped.
    pub fn new(kind: GenKind, name: Rc<PyStr>, qualname: Rc<PyStr>, inner: GenInner) -> Generator {
        LIVE.with(|n| n.set(n.get() + 1));
        Generator {
            kind,
            name,
            qualname,
            inner: RefCell::new(inner),
        }
    }

    pub fn state(&self) -> GenState {
        self.inner.borrow().state
    }
}

/// How many generator, coroutine and async generator objects exist on this thread (for
/// `sys._eddy_stats()`: tests check that finished coroutines are released).
pub fn live_generators() -> usize {
    LIVE.with(|n| n.get())
}

/// A suspended generator dropped while inside a `try`/`with`: it still has to run its `finally`
/// blocks, as CPython closes a generator when its last reference goes away.
pub struct PendingClose {
    pub kind: GenKind,
    pub name: Rc<PyStr>,
    pub qualname: Rc<PyStr>,
    pub frame: Frame,
    pub saved: Vec<Value>,
}

thread_local! {
    static PENDING: RefCell<Vec<PendingClose>> = const { RefCell::new(Vec::new()) };
    /// Qualnames of coroutines dropped without ever being started, to warn about.
    static UNAWAITED: RefCell<Vec<Rc<PyStr>>> = const { RefCell::new(Vec::new()) };
    static PENDING_COUNT: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
    /// Generators made by `Generator::new` and not yet dropped.
    static LIVE: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
    /// Async generators dropped while suspended in a `try`/`with`, revived for the event loop
    /// to `aclose()` (CPython's asyncgen finalizer hook).
    static ASYNC_DROPPED: RefCell<Vec<Rc<Generator>>> = const { RefCell::new(Vec::new()) };
    /// Async generators iterated so far (CPython's firstiter hook), for the loop to close
    /// those still suspended when `asyncio.run` ends (`shutdown_asyncgens`).
    static ASYNC_STARTED: RefCell<Vec<std::rc::Weak<Generator>>> = const { RefCell::new(Vec::new()) };
}

/// Records an async generator's first iteration.
pub fn note_async_gen_started(g: &Rc<Generator>) {
    ASYNC_STARTED.with(|s| {
        let mut s = s.borrow_mut();
        if s.len() >= 64 && s.len().is_power_of_two() {
            s.retain(|w| w.strong_count() > 0);
        }
        s.push(Rc::downgrade(g));
    });
}

/// True when some async generator was dropped with cleanup left to run.
pub fn has_dropped_async_gens() -> bool {
    ASYNC_DROPPED.with(|d| !d.borrow().is_empty())
}

/// Takes the revived async generators waiting for `aclose()`.
pub fn take_dropped_async_gens() -> Vec<Rc<Generator>> {
    ASYNC_DROPPED.with(|d| std::mem::take(&mut *d.borrow_mut()))
}

/// Takes the async generators iterated so far that are still alive and suspended.
pub fn take_started_async_gens() -> Vec<Rc<Generator>> {
    let started = ASYNC_STARTED.with(|s| std::mem::take(&mut *s.borrow_mut()));
    started
        .iter()
        .filter_map(|w| w.upgrade())
        .filter(|g| g.state() == GenState::Suspended)
        .collect()
}

/// True when some dropped generator waits to be closed, or a dropped coroutine to be warned
/// about (a cheap check for the interpreter, which then calls `close_dropped_generators`).
#[inline]
pub fn has_pending_close() -> bool {
    PENDING_COUNT.with(|c| c.get()) != 0
}

/// Takes the generators waiting to be closed.
pub fn take_pending_close() -> Vec<PendingClose> {
    PENDING_COUNT.with(|c| c.set(0));
    PENDING.with(|p| std::mem::take(&mut *p.borrow_mut()))
}

/// Warns about the coroutines dropped without being awaited since the last call, as CPython's
/// `RuntimeWarning: coroutine 'f' was never awaited`, attributed to the line running now. It
/// goes through `warnings.warn_explicit`, so the script's filters apply; a warning turned into
/// an error cannot propagate out of a destructor and is reported as "Exception ignored".
pub fn warn_unawaited(vm: &mut Vm) {
    let names = UNAWAITED.with(|u| std::mem::take(&mut *u.borrow_mut()));
    if names.is_empty() {
        return;
    }
    let (file, line, module) = match vm.frames.last() {
        Some(f) => (
            f.code.source.name.clone(),
            f.code.line_of(f.ip.saturating_sub(1)),
            Value::Str(f.globals.name.clone()),
        ),
        None => ("sys".to_string(), 1, Value::str("sys")),
    };
    for name in names {
        let message = format!("coroutine '{}' was never awaited", name.s);
        let warned = crate::import::import_module(vm, "warnings").and_then(|w| {
            let category = vm.exc_class("RuntimeWarning");
            let args = vec![
                Value::string(message.clone()),
                Value::Class(category),
                Value::string(file.clone()),
                Value::Int(line as i64),
                module.clone(),
                Value::None,
                Value::None,
                // CPython's source is the coroutine (gone by now): any non-None source makes
                // the report end with the line suggesting tracemalloc, as CPython's does.
                Value::Str(name.clone()),
            ];
            vm.call_method(&w, "warn_explicit", args)
        });
        if let Err(e) = warned {
            let report = crate::traceback::format_exception(vm, &e);
            vm.write_stderr(&format!(
                "Exception ignored in: <coroutine object {}>\n{report}",
                name.s
            ));
        }
    }
}

impl Drop for Generator {
    fn drop(&mut self) {
        LIVE.with(|n| n.set(n.get().saturating_sub(1)));
        let inner = self.inner.get_mut();
        if self.kind == GenKind::Coroutine && inner.state == GenState::Created && !inner.awaited {
            UNAWAITED.with(|u| u.borrow_mut().push(self.qualname.clone()));
            PENDING_COUNT.with(|c| c.set(c.get() + 1));
            return;
        }
        if inner.state != GenState::Suspended {
            return;
        }
        let Some(frame) = inner.frame.take() else {
            return;
        };
        // Only a frame suspended inside a handler region has cleanup code to run.
        let ip = frame.ip.saturating_sub(1);
        if frame.code.handler_for(ip).is_none() {
            return;
        }
        if self.kind == GenKind::AsyncGenerator {
            // Closed by the event loop (aclose is awaitable): revived for it, as CPython's
            // finalizer hook gets the generator before it is freed.
            let revived = Generator::new(
                self.kind,
                self.name.clone(),
                self.qualname.clone(),
                GenInner {
                    state: GenState::Suspended,
                    frame: Some(frame),
                    saved: std::mem::take(&mut inner.saved),
                    awaited: true,
                },
            );
            let _ = ASYNC_DROPPED.try_with(|d| d.borrow_mut().push(Rc::new(revived)));
            return;
        }
        let pending = PendingClose {
            kind: self.kind,
            name: self.name.clone(),
            qualname: self.qualname.clone(),
            frame,
            saved: std::mem::take(&mut inner.saved),
        };
        PENDING.with(|p| p.borrow_mut().push(pending));
        PENDING_COUNT.with(|c| c.set(c.get() + 1));
    }
}
