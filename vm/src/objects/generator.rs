//! Generators, coroutines and async generators: a suspended frame and its saved stack slice.
//!
//! Resuming pushes the frame back onto the VM's frame stack and its values back onto the value
//! stack; yielding moves them out again. No Rust stack is held while suspended, which is what lets
//! a coroutine be parked in the event loop as plain data.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use crate::code::Code;
use crate::frame::{Frame, FrameExtra, ReturnMode};
use crate::objects::module::Module;
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
/// Every parked task holds one, so it is kept small: 64 bytes, 80 with Rc's counts, in
/// mimalloc's 80-byte class (it was 136 bytes, in the 160 class). The kind and the usual names
/// come from the code object, the names of a generator whose names differ from its code's are
/// kept in a side table (`RENAMED`), and a suspended frame keeps only what a resume cannot
/// rebuild (`SavedFrame`).
pub struct Generator {
    /// The code it runs, for its whole life (the frame comes and goes): its flags give the
    /// kind, its names are the generator's unless it is `GenInner::renamed`.
    pub code: Rc<Code>,
    pub inner: RefCell<GenInner>,
}

// 64 bytes plus Rc's two counts is 80, a mimalloc size class (see the type's comment).
const _: () = assert!(std::mem::size_of::<Generator>() <= 64);

pub struct GenInner {
    pub state: GenState,
    /// For coroutines: whether anything ever awaited it (for the never-awaited warning).
    pub awaited: bool,
    /// Index of the next instruction to run while created or suspended (u32, as frame stack
    /// indices are, so it shares a word with the state).
    pub ip: u32,
    /// Whether `__name__` and `__qualname__` are not the code's (the function was renamed, or
    /// the script assigned them): they are in `RENAMED` then. Set by `Generator::set_names` only.
    renamed: bool,
    /// The suspended frame (None while running or finished).
    pub frame: Option<SavedFrame>,
    /// The frame's locals and operands while suspended.
    pub saved: Vec<Value>,
}

/// What a suspended frame keeps besides its instruction index (`GenInner::ip`): the code is the
/// generator's, and the stack indices and return mode are set anew by each resume.
pub struct SavedFrame {
    pub globals: Rc<Module>,
    /// Cells, when the code has any.
    pub extra: Option<Box<FrameExtra>>,
}

impl SavedFrame {
    /// The frame's cells (cellvars, then freevars).
    pub fn cells(&self) -> &[Rc<RefCell<Value>>] {
        match &self.extra {
            Some(e) => &e.cells,
            None => &[],
        }
    }
}

/// A generator's own `__name__` and `__qualname__`.
#[derive(Clone)]
pub struct GenNames {
    pub name: Rc<PyStr>,
    pub qualname: Rc<PyStr>,
}

impl GenInner {
    /// A new generator's state: not started, with its locals bound in `saved` and its cells.
    #[inline]
    pub fn created(
        globals: Rc<Module>,
        cells: Vec<Rc<RefCell<Value>>>,
        saved: Vec<Value>,
    ) -> GenInner {
        // Cells go where a frame keeps them; none, no allocation (as `Frame::set_cells`).
        let extra = (!cells.is_empty()).then(|| {
            Box::new(FrameExtra {
                exc_state: None,
                cells,
                namespace: None,
            })
        });
        GenInner {
            state: GenState::Created,
            awaited: false,
            ip: 0,
            renamed: false,
            frame: Some(SavedFrame { globals, extra }),
            saved,
        }
    }

    /// The state of a generator whose frame is on the frame stack now.
    pub fn running(awaited: bool) -> GenInner {
        GenInner {
            state: GenState::Running,
            awaited,
            ip: 0,
            frame: None,
            saved: Vec::new(),
            renamed: false,
        }
    }

    /// Keeps what `frame` (leaving the frame stack) needs to resume later; the state and the
    /// saved stack are the caller's to set. On every yield, so inline.
    #[inline(always)]
    pub fn suspend(&mut self, frame: Frame) {
        // Instruction indices fit in u32: jump targets are u32 already (`Instr::Jump(u32)`).
        self.ip = frame.ip as u32;
        self.frame = Some(SavedFrame {
            globals: frame.globals,
            extra: frame.extra,
        });
    }

    /// The suspended frame of `code` rebuilt to go back on the frame stack at `base` (None when
    /// there is none: running or finished).
    #[inline]
    pub fn take_frame(&mut self, code: &Rc<Code>, base: usize, mode: ReturnMode) -> Option<Frame> {
        let saved = self.frame.take()?;
        let mut frame = Frame::new(code.clone(), saved.globals, base, base, mode);
        frame.ip = self.ip as usize;
        frame.extra = saved.extra;
        Some(frame)
    }

    /// The index of the next instruction, while there is a frame to resume.
    pub fn suspended_ip(&self) -> Option<usize> {
        self.frame.as_ref().map(|_| self.ip as usize)
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
        match self.own_names() {
            Some(names) => names.name,
            None => self.code.name.clone(),
        }
    }

    /// `__qualname__`.
    pub fn qualname(&self) -> Rc<PyStr> {
        match self.own_names() {
            Some(names) => names.qualname,
            None => self.code.qualname.clone(),
        }
    }

    /// The names in `RENAMED`, if this generator is there.
    fn own_names(&self) -> Option<GenNames> {
        let renamed = match self.inner.try_borrow() {
            Ok(inner) => inner.renamed,
            // Borrowed for a resume or a suspension: look in the table anyway.
            Err(_) => true,
        };
        if !renamed {
            return None;
        }
        RENAMED.with(|r| r.borrow().get(&self.key()).cloned())
    }

    /// This generator's key in `RENAMED`: its address, stable because `set_names` takes it in
    /// its `Rc`, and freed from the table by `drop`.
    fn key(&self) -> usize {
        self as *const Generator as usize
    }

    /// Sets `__name__` and `__qualname__`; a table entry is kept only when they differ from the
    /// code's.
    pub fn set_names(self: &Rc<Self>, name: Rc<PyStr>, qualname: Rc<PyStr>) {
        let renamed = name.s != self.code.name.s || qualname.s != self.code.qualname.s;
        RENAMED.with(|r| {
            let mut r = r.borrow_mut();
            if renamed {
                r.insert(self.key(), GenNames { name, qualname });
            } else {
                r.remove(&self.key());
            }
        });
        self.inner.borrow_mut().renamed = renamed;
    }

    /// Takes this generator's names out of `RENAMED` (it is going away).
    fn take_names(&mut self) -> Option<GenNames> {
        if !std::mem::take(&mut self.inner.get_mut().renamed) {
            return None;
        }
        RENAMED.with(|r| r.borrow_mut().remove(&self.key()))
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
    code: Rc<Code>,
    inner: GenInner,
    names: Option<GenNames>,
}

impl PendingClose {
    /// The suspended generator again, for `close()` to run its cleanup.
    pub fn revive(self) -> Rc<Generator> {
        let gen = Rc::new(Generator::new(self.code, self.inner));
        if let Some(names) = self.names {
            gen.set_names(names.name, names.qualname);
        }
        gen
    }
}

thread_local! {
    static PENDING: RefCell<Vec<PendingClose>> = const { RefCell::new(Vec::new()) };
    /// Qualnames of coroutines dropped without ever being started, to warn about.
    static UNAWAITED: RefCell<Vec<Rc<PyStr>>> = const { RefCell::new(Vec::new()) };
    static PENDING_COUNT: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
    /// Generators made by `Generator::new` and not yet dropped.
    static LIVE: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
    /// The names of live generators named otherwise than their code, by address (see
    /// `Generator::key`). Rare, so kept out of every generator's allocation.
    static RENAMED: RefCell<HashMap<usize, GenNames>> = RefCell::new(HashMap::new());
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
        let names = self.take_names();
        let inner = self.inner.get_mut();
        if kind == GenKind::Coroutine && inner.state == GenState::Created && !inner.awaited {
            let qualname = match names {
                Some(n) => n.qualname,
                None => self.code.qualname.clone(),
            };
            UNAWAITED.with(|u| u.borrow_mut().push(qualname));
            PENDING_COUNT.with(|c| c.set(c.get() + 1));
            return;
        }
        if inner.state != GenState::Suspended {
            return;
        }
        let Some(ip) = inner.suspended_ip() else {
            return;
        };
        // Only a frame suspended inside a handler region has cleanup code to run.
        if self.code.handler_for(ip.saturating_sub(1)).is_none() {
            return;
        }
        let mut inner = std::mem::replace(inner, GenInner::running(true));
        inner.awaited = true;
        let pending = PendingClose {
            code: self.code.clone(),
            inner,
            names,
        };
        if kind == GenKind::AsyncGenerator {
            // Closed by the event loop (aclose is awaitable): revived for it, as CPython's
            // finalizer hook gets the generator before it is freed.
            let revived = pending.revive();
            let _ = ASYNC_DROPPED.try_with(|d| d.borrow_mut().push(revived));
            return;
        }
        PENDING.with(|p| p.borrow_mut().push(pending));
        PENDING_COUNT.with(|c| c.set(c.get() + 1));
    }
}
