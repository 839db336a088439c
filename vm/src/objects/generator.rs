//! Generators, coroutines and async generators: a suspended frame and its saved stack slice.
//!
//! Resuming pushes the frame back onto the VM's frame stack and its values back onto the value
//! stack; yielding moves them out again. No Rust stack is held while suspended, which is what lets
//! a coroutine be parked in the event loop as plain data.

use std::cell::RefCell;
use std::rc::Rc;

use crate::frame::Frame;
use crate::value::{PyStr, Value};

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
    pub fn state(&self) -> GenState {
        self.inner.borrow().state
    }
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
    static PENDING_COUNT: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// True when some dropped generator waits to be closed (a cheap check for the interpreter).
#[inline]
pub fn has_pending_close() -> bool {
    PENDING_COUNT.with(|c| c.get()) != 0
}

/// Takes the generators waiting to be closed.
pub fn take_pending_close() -> Vec<PendingClose> {
    PENDING_COUNT.with(|c| c.set(0));
    PENDING.with(|p| std::mem::take(&mut *p.borrow_mut()))
}

impl Drop for Generator {
    fn drop(&mut self) {
        let inner = self.inner.get_mut();
        // Async generators are closed by the event loop (aclose is awaitable), not here.
        if inner.state != GenState::Suspended || self.kind == GenKind::AsyncGenerator {
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
