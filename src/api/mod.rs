//! The embedding API: what a Rust host uses to run Eddy scripts inside its application.
//!
//! - [`Vm`] and its [`Builder`]: run source or files, evaluate expressions, call script functions
//!   (sync or async) from Rust, read and set globals.
//! - Host code: plain functions ([`Vm::register_fn`]), async functions whose futures scripts
//!   await without blocking the loop ([`Vm::register_async_fn`]), modules ([`Vm::module`]) and
//!   types ([`ClassBuilder`], [`Obj`]); values convert through [`FromValue`] and [`IntoValue`].
//! - Safety: a sandbox that grants nothing until the host allows it ([`Builder::allow_read`]...),
//!   and [`Limits`] on fuel, heap, call depth, tasks and time, per run or per task
//!   ([`TaskLimits`]), with an [`InterruptHandle`] to stop a runaway script from any thread.
//! - Threads: [`VmHandle`] runs a VM on its own thread for multi-threaded hosts.

#![warn(missing_docs)]

mod async_fn;
mod builder;
mod class;
mod convert;
mod handle;
mod heap;
mod host_error;
mod host_fn;
mod limits;
mod output;
mod register;
#[cfg(feature = "serde")]
mod serde;
mod task_limits;
mod vm;

/// The VM underneath the embedding API (the `eddy_vm` crate's `Vm`).
pub type RawVm = eddy_vm::Vm;

pub use async_fn::{spawn_awaitable, AsyncHostFn};
pub use builder::Builder;
pub use class::{with_host, ClassBuilder, HostMethod, Obj};
pub use convert::{mismatch, Bytes, FromValue, IntoValue};
pub use eddy_vm::vm::OutputSink;
pub use handle::VmHandle;
pub use heap::CountingAllocator;
pub use host_error::HostError;
pub use host_fn::{HostFn, HostResult};
pub use limits::{InterruptHandle, Limit, Limits};
pub use output::{CallbackSink, WriterSink};
pub use register::ModuleBuilder;
#[cfg(feature = "serde")]
pub use serde::Serde;
pub use task_limits::TaskLimits;
pub use vm::{IntoArgs, Vm};

impl Vm {
    /// A `Send` handle that stops this VM's running script from another thread: the script
    /// raises `Interrupted` within microseconds, even in a loop that never awaits.
    pub fn interrupt_handle(&self) -> InterruptHandle {
        self.limits.interrupt_handle()
    }

    /// The limits this VM runs scripts under.
    pub fn limits(&self) -> &Limits {
        &self.limits.limits
    }

    /// Changes the limits for the runs that follow.
    pub fn set_limits(&mut self, limits: Limits) {
        self.limits.limits = limits;
    }
}
