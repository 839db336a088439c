//! The per-thread part of the interpreter state, so that several script threads can share one
//! `Vm` on one OS thread (GIL semantics: one of them runs at a time).
//!
//! A script thread is its own value stack, frame stack, handled exception and native re-entry
//! depth. Everything else — modules, types, the heap — is shared, as in CPython. The scheduler
//! (stdlib `threading`) keeps the state of every thread that is not running in a
//! `ThreadContext` and swaps it with the `Vm`'s fields when it switches threads. A swap moves
//! vectors, not their contents: the dispatch loop of a suspended thread keeps indexes and code
//! pointers into its own frames, which are exactly as it left them when they are swapped back.

use crate::frame::Frame;
use crate::value::Value;
use crate::vm::Vm;

/// The state of a script thread that is not running (a fresh thread starts empty).
#[derive(Default)]
pub struct ThreadContext {
    stack: Vec<Value>,
    frames: Vec<Frame>,
    handled: Value,
    gen_exc: Vec<(u32, Value)>,
    native_depth: usize,
    gen_returned: bool,
    reraising: bool,
}

impl ThreadContext {
    /// An empty context for a new thread.
    pub fn new() -> ThreadContext {
        ThreadContext {
            stack: Vec::with_capacity(256),
            frames: Vec::with_capacity(16),
            // Not `Value::default()` (the internal Null marker): no exception is being handled.
            handled: Value::None,
            ..Default::default()
        }
    }
}

impl Vm {
    /// Exchanges the running thread's state with `ctx`: afterwards the VM runs the thread whose
    /// state `ctx` held, and `ctx` holds the state of the thread that was running.
    pub fn swap_thread_context(&mut self, ctx: &mut ThreadContext) {
        std::mem::swap(&mut self.stack, &mut ctx.stack);
        std::mem::swap(&mut self.frames, &mut ctx.frames);
        std::mem::swap(&mut self.handled, &mut ctx.handled);
        std::mem::swap(&mut self.gen_exc, &mut ctx.gen_exc);
        std::mem::swap(&mut self.native_depth, &mut ctx.native_depth);
        std::mem::swap(&mut self.gen_returned, &mut ctx.gen_returned);
        std::mem::swap(&mut self.reraising, &mut ctx.reraising);
    }
}
