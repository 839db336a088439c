//! Resource limits a host puts on scripts, enforced through the VM's eval breaker (a tick hook
//! run about every thousand jumps and returns, see `vm/src/breaker.rs`): an instruction budget
//! (fuel, counted in ticks), a wall-clock deadline, an approximate heap size and a host
//! interrupt. Call depth is the VM's recursion limit and the live-task cap is checked where
//! asyncio creates a task. Each limit raises its own exception class; the ones that stop the
//! whole run derive from `KeyboardInterrupt` (as Ctrl-C does, they end the event loop rather than
//! one task), and the next run starts with a fresh budget, so the VM stays usable.
//!
//! While the event loop sleeps no code ticks, so a deadline or an interrupt also wakes the
//! loop's reactor through a daemon future (`reactor::spawn_daemon`).

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use eddy_stdlib::asyncio::reactor::{self, Completion};
use eddy_vm::breaker::{HookId, Tick};
use eddy_vm::objects::class::BuiltinKind;
use eddy_vm::{PyResult, Value};

use super::task_limits::TaskBudgets;
use super::RawVm;

/// The limits a host sets; each is off unless set.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Limits {
    /// Ticks (loop iterations, returns) a run may execute.
    pub fuel: Option<u64>,
    /// Approximate bytes the run may allocate beyond what was live when it started.
    pub heap: Option<usize>,
    /// Maximum depth of nested script calls.
    pub call_depth: Option<usize>,
    /// Maximum number of asyncio tasks alive at once.
    pub tasks: Option<usize>,
    /// Wall-clock time a run may take.
    pub deadline: Option<Duration>,
}

/// Which limit stopped a script; see [`Error::limit`](crate::Error::limit).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Limit {
    /// The instruction budget ran out: `FuelExhausted`.
    Fuel,
    /// The heap grew beyond the limit: `HeapLimitExceeded`.
    Heap,
    /// Calls nested too deeply: `RecursionError`.
    CallDepth,
    /// Too many live tasks: `TooManyTasks`.
    Tasks,
    /// The wall-clock deadline passed: `DeadlineExceeded`.
    Deadline,
    /// The host called [`InterruptHandle::interrupt`]: `Interrupted`.
    Interrupted,
    /// One host-spawned task used up its own fuel: `TaskFuelExhausted`.
    TaskFuel,
    /// One host-spawned task ran past its own deadline: `TaskDeadlineExceeded`.
    TaskDeadline,
}

impl Limit {
    /// The script exception class this limit raises.
    pub fn exception_name(self) -> &'static str {
        match self {
            Limit::Fuel => "FuelExhausted",
            Limit::Heap => "HeapLimitExceeded",
            Limit::CallDepth => "RecursionError",
            Limit::Tasks => "TooManyTasks",
            Limit::Deadline => "DeadlineExceeded",
            Limit::Interrupted => "Interrupted",
            Limit::TaskFuel => "TaskFuelExhausted",
            Limit::TaskDeadline => "TaskDeadlineExceeded",
        }
    }

    /// The limit an exception class stands for.
    pub fn from_exception_name(name: &str) -> Option<Limit> {
        [
            Limit::Fuel,
            Limit::Heap,
            Limit::CallDepth,
            Limit::Tasks,
            Limit::Deadline,
            Limit::Interrupted,
            Limit::TaskFuel,
            Limit::TaskDeadline,
        ]
        .into_iter()
        .find(|l| l.exception_name() == name)
    }
}

/// A `Send + Sync` handle that stops a VM's running script from any thread (a runaway
/// `while True: pass` stops within microseconds): the script raises `Interrupted`.
#[derive(Clone, Debug)]
pub struct InterruptHandle {
    flag: Arc<AtomicBool>,
    wake: async_channel::Sender<()>,
}

impl InterruptHandle {
    /// Interrupts the run in progress (or the next one, if none is running).
    pub fn interrupt(&self) {
        self.flag.store(true, Ordering::SeqCst);
        let _ = self.wake.try_send(());
    }
}

/// The state the tick hook reads, shared between the `Vm` and the hook.
pub(crate) struct Shared {
    armed: Cell<bool>,
    fuel_end: Cell<Option<u64>>,
    deadline: Cell<Option<Instant>>,
    heap_end: Cell<Option<usize>>,
    tripped: Cell<Option<Limit>>,
    interrupt: Arc<AtomicBool>,
    wake: async_channel::Receiver<()>,
    pub(crate) tasks: RefCell<TaskBudgets>,
}

/// A VM's limits and the machinery enforcing them.
pub(crate) struct LimitState {
    pub(crate) limits: Limits,
    pub(crate) shared: Rc<Shared>,
    handle: InterruptHandle,
    hook: Option<HookId>,
    daemon: Option<u64>,
}

/// How many bytes one tracked object stands for when no counting allocator is installed.
const BYTES_PER_OBJECT: usize = 64;

impl LimitState {
    pub(crate) fn new(limits: Limits) -> LimitState {
        let flag = Arc::new(AtomicBool::new(false));
        let (tx, rx) = async_channel::bounded(1);
        LimitState {
            limits,
            shared: Rc::new(Shared {
                armed: Cell::new(false),
                fuel_end: Cell::new(None),
                deadline: Cell::new(None),
                heap_end: Cell::new(None),
                tripped: Cell::new(None),
                interrupt: flag.clone(),
                wake: rx,
                tasks: RefCell::new(TaskBudgets::default()),
            }),
            handle: InterruptHandle { flag, wake: tx },
            hook: None,
            daemon: None,
        }
    }

    pub(crate) fn interrupt_handle(&self) -> InterruptHandle {
        self.handle.clone()
    }

    /// Installs the exception classes and the tick hook on a new VM.
    pub(crate) fn install(&mut self, raw: &mut RawVm) {
        install_exceptions(raw);
        let shared = self.shared.clone();
        self.hook = Some(raw.add_tick_hook(Rc::new(move |vm| on_tick(vm, &shared))));
    }

    /// Starts a run: fresh budgets from now.
    pub(crate) fn arm(&mut self, raw: &mut RawVm) {
        let s = &self.shared;
        s.tripped.set(None);
        // An interrupt requested before this run is for this run (a host may interrupt early).
        s.armed.set(true);
        s.fuel_end
            .set(self.limits.fuel.map(|f| raw.ticks().saturating_add(f)));
        if let Some(f) = self.limits.fuel {
            raw.request_tick_within(f.min(u32::MAX as u64) as u32);
        }
        let deadline = self.limits.deadline.map(|d| Instant::now() + d);
        s.deadline.set(deadline);
        s.heap_end
            .set(self.limits.heap.map(|h| heap_bytes().saturating_add(h)));
        if let Some(depth) = self.limits.call_depth {
            raw.recursion_limit = depth;
        }
        raw.max_tasks = self.limits.tasks;
        self.daemon = Some(spawn_waker(s.wake.clone(), deadline));
    }

    /// Ends a run; returns the limit that stopped it, if one did.
    pub(crate) fn disarm(&mut self, _raw: &mut RawVm) -> Option<Limit> {
        self.shared.armed.set(false);
        self.shared.interrupt.store(false, Ordering::SeqCst);
        while self.shared.wake.try_recv().is_ok() {}
        if let Some(id) = self.daemon.take() {
            reactor::cancel(id);
        }
        self.shared.tasks.borrow_mut().clear();
        self.shared.tripped.take()
    }
}

/// Bytes allocated on this thread, when the host installed [`CountingAllocator`]; otherwise an
/// estimate from the number of objects the cycle collector tracks.
///
/// [`CountingAllocator`]: crate::CountingAllocator
fn heap_bytes() -> usize {
    match super::heap::thread_bytes() {
        Some(b) => b,
        None => eddy_vm::gc::tracked_objects() * BYTES_PER_OBJECT,
    }
}

/// A daemon future that wakes the loop for an interrupt or at the deadline; its completion
/// raises, ending the loop (the hook then reports which limit it was).
fn spawn_waker(wake: async_channel::Receiver<()>, deadline: Option<Instant>) -> u64 {
    reactor::spawn_daemon(async move {
        let interrupted = async {
            let _ = wake.recv().await;
            Limit::Interrupted
        };
        let limit = match deadline {
            Some(at) => {
                futures_lite::future::or(interrupted, async move {
                    async_io::Timer::at(at).await;
                    Limit::Deadline
                })
                .await
            }
            None => interrupted.await,
        };
        let c: Completion = Box::new(move |vm: &mut RawVm| Err(limit_error(vm, limit)));
        c
    })
}

/// The exception for `limit`, with a message saying what ran out.
pub(crate) fn limit_error(vm: &RawVm, limit: Limit) -> Value {
    let msg = match limit {
        Limit::Fuel => "the script used up its instruction budget (fuel)",
        Limit::Heap => "the script's heap grew beyond its limit",
        Limit::CallDepth => "maximum recursion depth exceeded",
        Limit::Tasks => "too many live tasks",
        Limit::Deadline => "the script ran past its deadline",
        Limit::Interrupted => "the host interrupted the script",
        Limit::TaskFuel => "the task used up its instruction budget (fuel)",
        Limit::TaskDeadline => "the task ran past its deadline",
    };
    vm.error(limit.exception_name(), msg)
}

/// The tick hook: raises the first limit found exceeded.
fn on_tick(vm: &mut RawVm, s: &Shared) -> PyResult<Tick> {
    if !s.armed.get() {
        return Ok(Tick::Continue);
    }
    if let Some(limit) = s.tripped.get() {
        // Already stopped: whatever runs (a handler, cleanup) stops again.
        vm.request_tick_within(1);
        return Err(limit_error(vm, limit));
    }
    if let Some(limit) = exceeded(vm, s) {
        s.tripped.set(Some(limit));
        return Err(limit_error(vm, limit));
    }
    super::task_limits::check_current(vm, s)?;
    Ok(Tick::Continue)
}

fn exceeded(vm: &mut RawVm, s: &Shared) -> Option<Limit> {
    if s.interrupt.swap(false, Ordering::SeqCst) {
        return Some(Limit::Interrupted);
    }
    if let Some(end) = s.fuel_end.get() {
        let now = vm.ticks();
        if now >= end {
            return Some(Limit::Fuel);
        }
        vm.request_tick_within((end - now).min(u32::MAX as u64) as u32);
    }
    if matches!(s.deadline.get(), Some(d) if Instant::now() >= d) {
        return Some(Limit::Deadline);
    }
    if matches!(s.heap_end.get(), Some(h) if heap_bytes() > h) {
        return Some(Limit::Heap);
    }
    None
}

/// Adds the limit exception classes to the VM and its builtins. The ones that end a whole run
/// derive from KeyboardInterrupt; `TooManyTasks` is a RuntimeError raised by `create_task`; the
/// per-task ones are plain exceptions that end their task only.
fn install_exceptions(raw: &mut RawVm) {
    let classes: [(&'static str, &str); 7] = [
        ("FuelExhausted", "KeyboardInterrupt"),
        ("HeapLimitExceeded", "KeyboardInterrupt"),
        ("DeadlineExceeded", "KeyboardInterrupt"),
        ("Interrupted", "KeyboardInterrupt"),
        ("TooManyTasks", "RuntimeError"),
        ("TaskFuelExhausted", "Exception"),
        ("TaskDeadlineExceeded", "Exception"),
    ];
    for (name, base) in classes {
        let cls = eddy_vm::types::new_class(
            name,
            vec![raw.exc_class(base)],
            BuiltinKind::BaseException,
            true,
        );
        cls.set_attr(raw.intern("__module__"), Value::str("builtins"));
        raw.types.exceptions.insert(name, cls.clone());
        raw.set_builtin(name, Value::Class(cls));
    }
}
