//! `Frame`: one activation of a code object on the VM's frame stack.
//!
//! Frames share one value stack (`Vm::stack`): a frame's locals are the slots
//! `stack[base .. base + nlocals]` and its operands follow them. A call leaves the arguments where
//! the caller pushed them, so they become the callee's first locals without a copy (as in Lua).

use std::cell::RefCell;
use std::rc::Rc;

use crate::code::Code;
use crate::objects::generator::Generator;
use crate::objects::module::Module;
use crate::value::{AttrMap, Value};

/// What happens to a frame's result when it returns (or, for a generator frame, yields).
#[derive(Clone)]
pub enum ReturnMode {
    /// Cut the stack back to `ret_sp` and push the result there (an ordinary call).
    Push,
    /// `__init__` returned: check the result is None, then push this instance.
    Init(Value),
    /// Return from `Vm::run` to the native code that started this frame.
    Entry,
    /// A generator resumed by FOR_ITER: a yield pushes the value; a return pops the iterator in the
    /// caller and jumps to the loop exit.
    ForIter(u32),
    /// A generator resumed by SEND: a yield pushes the value; a return replaces the sub-iterator
    /// with the result and jumps to the exit.
    Send(u32),
}

pub struct Frame {
    pub code: Rc<Code>,
    /// Index of the next instruction.
    pub ip: usize,
    /// Stack index of local slot 0.
    pub base: usize,
    /// Stack length to restore when the frame ends (below the callee slot, for calls).
    pub ret_sp: usize,
    /// Cells: the code's cellvars, then its freevars.
    pub cells: Vec<Rc<RefCell<Value>>>,
    pub globals: Rc<Module>,
    /// The class namespace while a class body runs.
    pub namespace: Option<Rc<RefCell<AttrMap>>>,
    pub mode: ReturnMode,
    /// Set when this frame belongs to a generator or coroutine.
    pub generator: Option<Rc<Generator>>,
}
