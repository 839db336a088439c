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
