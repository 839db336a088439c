//! Generators, coroutines and async generators: a suspended frame and its saved stack slice.
//!
//! Resuming pushes the frame back onto the VM's frame stack and its values back onto the value
//! stack; yielding moves them out again. No Rust stack is held while suspended, which is what lets
//! a coroutine be parked in the event loop as plain data.

use std::cell::RefCell;
use std::rc::Rc;

use crate::code::Code;
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
///
/// Every parked task holds one, so it is kept within mimalloc's 128-byte class (it was 136
/// bytes with Rc's counts, in the 160 class): the kind and the usual names come from the code
/// object, and only a generator whose names differ from its code's carries them (boxed).
pub struct Generator {
    /// The code it runs, for its whole life (the frame comes and goes): its flags give the
    /// kind, its names are the generator's unless `GenInner::names` overrides them.
    pub code: Rc<Code>,
    pub inner: RefCell<GenInner>,
}

// 112 bytes plus Rc's two counts is 128, a mimalloc size class (see the type's comment).
const _: () = assert!(std::mem::size_of::<Generator>() <= 112);

pub struct GenInner {
    pub state: GenState,
    /// The suspended frame (None while running or finished).
    pub frame: Option<Frame>,
    /// The frame's locals and operands while suspended.
    pub saved: Vec<Value>,
    /// `__name__` and `__qualname__` when they are not the code's (the function was renamed, or
    /// the script assigned them).
    pub names: Option<Box<GenNames>>,
    /// For coroutines: whether anything ever awaited it (for the never-awaited warning).
    pub awaited: bool,
}

/// A generator's own `__name__` and `__qualname__`.
pub struct GenNames {
    pub name: Rc<PyStr>,
    pub qualname: Rc<PyStr>,
}

impl GenInner {
    /// The state of a generator that has a frame to run (`Created` or `Suspended`), with the
    /// code's names.
    pub fn new(state: GenState, frame: Frame, saved: Vec<Value>, awaited: bool) -> GenInner {
        GenInner {
            state,
            frame: Some(frame),
            saved,
            names: None,
            awaited,
        }
    }
}

impl Generator {
    /// A generator, coroutine or async generator of `code` over `inner`, counted as live until
    /// dropped.
    pub fn new(code: Rc<Code>, inner: GenInner) -> Generator {
        LIVE.with(|n| n.set(n.get() + 1));
        Generator {
            code,
            inner: RefCell::new(inner),
        }
    }

    pub fn state(&self) -> GenState {
        self.inner.borrow().state
    }

    /// Generator, coroutine or async generator, as its code was compiled.
    #[inline]
    pub fn kind(&self) -> GenKind {
        kind_of(&self.code)
    }

    /// `__name__`.
    pub fn name(&self) -> Rc<PyStr> {
        match self.inner.try_borrow().ok().and_then(|i| i.names.as_ref().map(|n| n.name.clone())) {
            Some(name) => name,
            None => self.code.name.clone(),
        }
    }

    /// `__qualname__`.
    pub fn qualname(&self) -> Rc<PyStr> {
        match self.inner.try_borrow().ok().and_then(|i| i.names.as_ref().map(|n| n.qualname.clone())) {
            Some(qualname) => qualname,
            None => self.code.qualname.clone(),
        }
    }

    /// Sets `__name__` and `__qualname__`, keeping a box only when they differ from the code's.
    pub fn set_names(&self, name: Rc<PyStr>, qualname: Rc<PyStr>) {
        let names = if name.s == self.code.name.s && qualname.s == self.code.qualname.s {
            None
        } else {
            Some(Box::new(GenNames { name, qualname }))
        };
        self.inner.borrow_mut().names = names;
    }
}

/// The kind of generator that running `code` makes.
pub fn kind_of(code: &Code) -> GenKind {
    if code.flags.coroutine {
        GenKind::Coroutine
    } else if code.flags.async_generator {
        GenKind::AsyncGenerator
    } else {
        GenKind::Generator
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
    pub code: Rc<Code>,
    pub names: Option<Box<GenNames>>,
    pub frame: Frame,
    pub saved: Vec<Value>,
}

impl PendingClose {
    /// The suspended generator again, for `close()` to run its cleanup.
    pub fn revive(self) -> Generator {
        let mut inner = GenInner::new(GenState::Suspended, self.frame, self.saved, true);
        inner.names = self.names;
        Generator::new(self.code, inner)
    }
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
        let kind = self.kind();
        let inner = self.inner.get_mut();
        if kind == GenKind::Coroutine && inner.state == GenState::Created && !inner.awaited {
            let qualname = match &inner.names {
                Some(n) => n.qualname.clone(),
                None => self.code.qualname.clone(),
            };
            UNAWAITED.with(|u| u.borrow_mut().push(qualname));
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
        let pending = PendingClose {
            code: self.code.clone(),
            names: inner.names.take(),
            frame,
            saved: std::mem::take(&mut inner.saved),
        };
        if kind == GenKind::AsyncGenerator {
            // Closed by the event loop (aclose is awaitable): revived for it, as CPython's
            // finalizer hook gets the generator before it is freed.
            let revived = pending.revive();
            let _ = ASYNC_DROPPED.try_with(|d| d.borrow_mut().push(Rc::new(revived)));
            return;
        }
        PENDING.with(|p| p.borrow_mut().push(pending));
        PENDING_COUNT.with(|c| c.set(c.get() + 1));
    }
}
