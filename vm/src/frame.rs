//! `Frame`: one activation of a code object on the VM's frame stack.
//!
//! Frames share one value stack (`Vm::stack`): a frame's locals are the slots
//! `stack[base .. base + nlocals]` and its operands follow them. A call leaves the arguments where
//! the caller pushed them, so they become the callee's first locals without a copy (as in Lua).
//!
//! A frame is pushed and popped on every script call, so it is kept small (56 bytes): what only
//! closures, class bodies and generators need lives in a boxed `FrameExtra`, absent otherwise.

use std::cell::RefCell;
use std::rc::Rc;

use crate::code::Code;
use crate::objects::generator::Generator;
use crate::objects::module::Module;
use crate::value::{AttrMap, Value};

/// What happens to a frame's result when it returns (or, for a generator frame, yields).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReturnMode {
    /// Cut the stack back to `ret_sp` and push the result there (an ordinary call).
    Push,
    /// `__init__` returned: check the result is None and push nothing; the new instance already
    /// sits just below `ret_sp` (the call put it there).
    Init,
    /// Return from `Vm::run` to the native code that started this frame.
    Entry,
    /// A generator resumed by FOR_ITER: a yield pushes the value; a return pops the iterator in the
    /// caller and jumps to the loop exit.
    ForIter(u32),
    /// A generator resumed by SEND: a yield pushes the value; a return replaces the sub-iterator
    /// with the result and jumps to the exit.
    Send(u32),
    /// A coroutine called by `await f(...)` and run straight away on the awaiting frame stack,
    /// with no coroutine object (the payload is the caller's SEND index). A return pushes the
    /// result and jumps past the caller's await loop, so the await costs what a call costs. If it
    /// suspends, the interpreter makes the coroutine object then, and the frame goes on as if
    /// SEND had resumed it (see `Vm::adopt_inline_coroutine`).
    Await(u32),
}

/// The parts of a frame that ordinary calls do not need.
#[derive(Default)]
pub struct FrameExtra {
    /// Cells: the code's cellvars, then its freevars.
    pub cells: Vec<Rc<RefCell<Value>>>,
    /// The class namespace while a class body runs.
    pub namespace: Option<Rc<RefCell<AttrMap>>>,
    /// A generator suspended inside an `except` block: the exception it is handling, which
    /// `sys.exception()` and a bare `raise` see again when it resumes (CPython's
    /// `gi_exc_state`). Boxed here since few suspended frames have one.
    pub exc_state: Option<Value>,
}

pub struct Frame {
    pub code: Rc<Code>,
    pub globals: Rc<Module>,
    /// Index of the next instruction.
    pub ip: usize,
    /// Stack index of local slot 0 (u32, like `ret_sp`, so that `generator` fits in 56 bytes).
    pub base: u32,
    /// Stack length to restore when the frame ends (below the callee slot, for calls).
    pub ret_sp: u32,
    pub mode: ReturnMode,
    /// Cells and class namespace, when the frame has any.
    pub extra: Option<Box<FrameExtra>>,
    /// Set while this frame belongs to a running generator or coroutine (None while suspended:
    /// the generator owns its frame then, and the frame must not own it back). Kept here rather
    /// than in `extra` so a suspended coroutine carries no extra allocation.
    pub generator: Option<Rc<Generator>>,
}

const _: () = assert!(std::mem::size_of::<Frame>() <= 56);

impl Frame {
    /// A frame for `code` starting at its first instruction, with no cells.
    #[inline]
    pub fn new(
        code: Rc<Code>,
        globals: Rc<Module>,
        base: usize,
        ret_sp: usize,
        mode: ReturnMode,
    ) -> Frame {
        Frame {
            code,
            globals,
            ip: 0,
            base: base as u32,
            ret_sp: ret_sp as u32,
            mode,
            extra: None,
            generator: None,
        }
    }
    /// The frame's cells (cellvars, then freevars).
    #[inline]
    pub fn cells(&self) -> &[Rc<RefCell<Value>>] {
        match &self.extra {
            Some(e) => &e.cells,
            None => &[],
        }
    }
    /// Sets the cells (a no-op for none, so plain calls stay allocation-free).
    pub fn set_cells(&mut self, cells: Vec<Rc<RefCell<Value>>>) {
        if !cells.is_empty() || self.extra.is_some() {
            self.extra_mut().cells = cells;
        }
    }
    pub fn namespace(&self) -> Option<&Rc<RefCell<AttrMap>>> {
        self.extra.as_ref().and_then(|e| e.namespace.as_ref())
    }
    pub fn generator(&self) -> Option<&Rc<Generator>> {
        self.generator.as_ref()
    }
    /// Stack index of local slot 0.
    #[inline]
    pub fn base(&self) -> usize {
        self.base as usize
    }
    /// Stack length to restore when the frame ends.
    #[inline]
    pub fn ret_sp(&self) -> usize {
        self.ret_sp as usize
    }
    /// The extra part, created on first use.
    pub fn extra_mut(&mut self) -> &mut FrameExtra {
        self.extra.get_or_insert_with(Default::default)
    }
}
