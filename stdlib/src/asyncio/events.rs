//! The event loop: a FIFO ready queue of callbacks and a timer heap ordered by (deadline,
//! creation), run as CPython's `BaseEventLoop._run_once` does (each round runs the callbacks that
//! were ready when it began). Also `asyncio.run`, `get_running_loop` and the loop object's API.

use std::cell::{Cell, RefCell};
use std::cmp::Ordering;
use std::collections::{BinaryHeap, VecDeque};
use std::rc::Rc;

use eddy_vm::objects::class::Instance;
use eddy_vm::objects::module::Module;
use eddy_vm::{ops, Args, PyResult, Value, Vm};

use super::futures::{self, Callback};
use super::registry::TaskRegistry;
use super::{classes, interrupt, reactor, tasks};
use crate::native_state;
use crate::util;

/// One ready-queue (or timer) entry: a tag and one pointer, 16 bytes, since at a wake-up of
/// 200k parked tasks the queue holds one per task. The hot jobs (a task step, a finished
/// future's callbacks) hold the object itself; the rare ones are boxed.
pub enum Job {
    /// A task step sending None into its coroutine.
    Step(Rc<Instance>),
    /// The due done callbacks of a finished future, in registration order (callbacks.rs).
    Callbacks(Rc<Instance>),
    /// A task step throwing an exception into the coroutine (or any step of a task that is not
    /// an instance).
    Throw(Box<(Value, Option<Value>)>),
    /// One done callback added to a future already finished: `cb(fut)`.
    FutCb(Box<(Callback, Value)>),
    /// `call_soon(func, *args)`, skipped if its handle was cancelled.
    Call(Box<CallJob>),
    /// A native timer (asyncio.sleep): sets the future's result unless the timer was cancelled
    /// or the future is already done.
    Resolve(Box<ResolveJob>),
}

const _: () = assert!(std::mem::size_of::<Job>() == 16);

pub struct CallJob {
    func: Value,
    args: Vec<Value>,
    cancelled: Rc<Cell<bool>>,
}

pub struct ResolveJob {
    fut: Value,
    result: Value,
    cancelled: Rc<Cell<bool>>,
}

impl Job {
    /// A step of `task`, throwing `exc` in if given.
    pub fn step(task: &Value, exc: Option<Value>) -> Job {
        match (task, exc) {
            (Value::Instance(t), None) => Job::Step(t.clone()),
            (_, exc) => Job::Throw(Box::new((task.clone(), exc))),
        }
    }

    /// `cb(fut)`, for a callback added to a future that is already done.
    pub fn fut_cb(cb: Callback, fut: Value) -> Job {
        Job::FutCb(Box::new((cb, fut)))
    }

    /// `func(*args)` unless `cancelled` is set by then.
    pub fn call(func: Value, args: Vec<Value>, cancelled: Rc<Cell<bool>>) -> Job {
        Job::Call(Box::new(CallJob {
            func,
            args,
            cancelled,
        }))
    }

    /// Sets `fut`'s result unless `cancelled` is set or the future is done by then.
    pub fn resolve(fut: Value, result: Value, cancelled: Rc<Cell<bool>>) -> Job {
        Job::Resolve(Box::new(ResolveJob {
            fut,
            result,
            cancelled,
        }))
    }
}

struct Timer {
    when: f64,
    seq: u64,
    job: Job,
}

impl PartialEq for Timer {
    fn eq(&self, o: &Self) -> bool {
        self.cmp(o) == Ordering::Equal
    }
}
impl Eq for Timer {}
impl PartialOrd for Timer {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Timer {
    /// Reversed, so the max-heap pops the earliest deadline (then the earliest created).
    fn cmp(&self, o: &Self) -> Ordering {
        o.when.total_cmp(&self.when).then(o.seq.cmp(&self.seq))
    }
}

/// The state of one event loop.
pub struct LoopCore {
    ready: RefCell<VecDeque<Job>>,
    timers: RefCell<BinaryHeap<Timer>>,
    seq: Cell<u64>,
    stopping: Cell<bool>,
    pub closed: Cell<bool>,
    /// The task whose step is running.
    pub current_task: RefCell<Option<Value>>,
    /// Every task not yet done (the loop keeps them alive, unlike CPython's weak set).
    pub tasks: RefCell<TaskRegistry>,
    /// The script-visible loop object.
    pub obj: RefCell<Value>,
}

thread_local! {
    static RUNNING: RefCell<Option<Rc<LoopCore>>> = const { RefCell::new(None) };
    /// The loop `set_event_loop` installed (what `get_event_loop` returns outside a running loop).
    static CURRENT: RefCell<Value> = const { RefCell::new(Value::None) };
    /// The loop a host keeps running between its own inputs (see `start_host_loop`).
    static HOST: RefCell<Option<Rc<LoopCore>>> = const { RefCell::new(None) };
}

/// Makes a new loop the running loop of this thread for good, for a host that runs script code
/// between waits on the loop (the REPL: each input runs with the loop running, and the loop
/// runs tasks while the host waits for the next input with `run_until_complete`). There,
/// `asyncio.run(coro)` called outside any task runs `coro` as a task of this loop instead of
/// raising, so scripts pasted into the REPL work unchanged.
pub fn start_host_loop() -> Rc<LoopCore> {
    let core = LoopCore::new();
    RUNNING.with(|r| *r.borrow_mut() = Some(core.clone()));
    HOST.with(|h| *h.borrow_mut() = Some(core.clone()));
    core
}

/// `asyncio.run` on the host loop, outside any task: `coro` runs as a task until done.
fn run_on_host(vm: &mut Vm, coro: Value) -> Option<PyResult<Value>> {
    let host = HOST.with(|h| h.borrow().clone())?;
    let is_host = running().is_some_and(|r| Rc::ptr_eq(&r, &host));
    if !is_host || host.current_task.borrow().is_some() {
        return None;
    }
    let task = match tasks::new_task(vm, &host, coro, Value::None) {
        Ok(t) => t,
        Err(e) => return Some(Err(e)),
    };
    let r = run_until_complete(vm, &host, &task);
    if r.is_err() && !futures::is_done(&task) {
        // Interrupted (KeyboardInterrupt escaped the loop): the run is over, so is its task.
        if let Err(e) = tasks::cancel(vm, &task, Value::None) {
            return Some(Err(e));
        }
    }
    Some(r)
}

/// The running loop, if any.
pub fn running() -> Option<Rc<LoopCore>> {
    RUNNING.with(|r| r.borrow().clone())
}

/// The running loop, or CPython's RuntimeError.
pub fn running_or_err(vm: &Vm) -> PyResult<Rc<LoopCore>> {
    running().ok_or_else(|| vm.error("RuntimeError", "no running event loop"))
}

impl LoopCore {
    fn new() -> Rc<LoopCore> {
        let core = Rc::new(LoopCore {
            ready: RefCell::new(VecDeque::new()),
            timers: RefCell::new(BinaryHeap::new()),
            seq: Cell::new(0),
            stopping: Cell::new(false),
            closed: Cell::new(false),
            current_task: RefCell::new(None),
            tasks: RefCell::new(TaskRegistry::default()),
            obj: RefCell::new(Value::None),
        });
        let obj = util::new_native(&classes().event_loop, LoopRef(Some(core.clone())));
        *core.obj.borrow_mut() = obj;
        core
    }

    pub fn push(&self, job: Job) {
        self.ready.borrow_mut().push_back(job);
    }

    /// Schedules `job` at loop time `when`.
    pub fn push_timer(&self, when: f64, job: Job) {
        let seq = self.seq.get();
        self.seq.set(seq + 1);
        self.timers.borrow_mut().push(Timer { when, seq, job });
    }

    /// One `_run_once`: move due timers to the ready queue (waiting for the first one if
    /// nothing is ready), then run the callbacks that are ready now.
    fn run_once(&self, vm: &mut Vm) -> PyResult<()> {
        self.run_once_until(vm, None)
    }

    /// `run_once`, waiting no later than `limit` when nothing is ready (a nested run of the
    /// loop while an executor job sleeps, see executor.rs).
    pub fn run_once_until(&self, vm: &mut Vm, limit: Option<f64>) -> PyResult<()> {
        let stopping = self.stopping.get() && limit.is_none();
        if self.ready.borrow().is_empty() && !stopping {
            let next = self.timers.borrow().peek().map(|t| t.when);
            let deadline = match (next, limit) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            // With script threads, they run while the loop would wait (executor.rs).
            super::executor::wait(vm, deadline)?;
        } else {
            // Script threads that can run get a turn, as CPython's select(0) releases the GIL.
            crate::threading::sched::yield_now(vm);
            if reactor::any_woken() {
                reactor::poll_woken(vm)?;
            }
        }
        let now = reactor::now();
        loop {
            let due = matches!(self.timers.borrow().peek(), Some(t) if t.when <= now);
            if !due {
                break;
            }
            if let Some(t) = self.timers.borrow_mut().pop() {
                self.push(t.job);
            }
        }
        let n = self.ready.borrow().len();
        for _ in 0..n {
            let Some(job) = self.ready.borrow_mut().pop_front() else {
                break;
            };
            run_job(vm, self, job)?;
        }
        Ok(())
    }

    fn is_idle(&self) -> bool {
        self.ready.borrow().is_empty()
            && self.timers.borrow().is_empty()
            && !reactor::has_pending()
            && !crate::threading::sched::has_threads()
            && !crate::threading::sched::has_external()
    }

    /// True when a callback is waiting to run.
    pub fn has_ready(&self) -> bool {
        !self.ready.borrow().is_empty()
    }
}

/// Runs one job. Errors a callback raises are reported and the loop goes on, as CPython's
/// `call_exception_handler` does; only SystemExit and KeyboardInterrupt escape.
fn run_job(vm: &mut Vm, core: &LoopCore, job: Job) -> PyResult<()> {
    let r = match job {
        Job::Step(task) => tasks::step(vm, &Value::Instance(task), None),
        Job::Callbacks(fut) => return run_due_callbacks(vm, core, &Value::Instance(fut)),
        Job::Throw(b) => {
            let (task, exc) = *b;
            tasks::step(vm, &task, exc)
        }
        Job::FutCb(b) => {
            let (cb, fut) = *b;
            futures::run_callback(vm, cb, &fut)
        }
        Job::Call(c) => {
            if c.cancelled.get() {
                return Ok(());
            }
            vm.call(&c.func, c.args).map(|_| ())
        }
        Job::Resolve(r) => {
            if r.cancelled.get() || futures::is_done(&r.fut) {
                return Ok(());
            }
            futures::set_result(vm, &r.fut, r.result)
        }
    };
    report_error(vm, r)
}

/// A finished future's callbacks, each as if it were a job of its own (CPython queues one
/// handle per callback; they sit next to each other in the queue, so the order is the same).
fn run_due_callbacks(vm: &mut Vm, core: &LoopCore, fut: &Value) -> PyResult<()> {
    let mut due = futures::with(fut, |s| s.callbacks.take_due());
    let Some(cbs) = due.as_mut() else {
        return Ok(());
    };
    while let Some(cb) = cbs.next() {
        let r = futures::run_callback(vm, cb, fut);
        if let Err(e) = report_error(vm, r) {
            // The loop stops here: the callbacks not run yet stay first in the queue, as
            // their handles would.
            for cb in cbs.rev() {
                core.ready
                    .borrow_mut()
                    .push_front(Job::fut_cb(cb, fut.clone()));
            }
            return Err(e);
        }
    }
    Ok(())
}

/// Reports a callback's error on stderr; SystemExit and KeyboardInterrupt go on up.
fn report_error(vm: &mut Vm, r: PyResult<()>) -> PyResult<()> {
    match r {
        Err(e) if vm.exc_matches(&e, "SystemExit") || vm.exc_matches(&e, "KeyboardInterrupt") => {
            Err(e)
        }
        Err(e) => {
            let text = eddy_vm::traceback::format_exception(vm, &e);
            vm.write_stderr(&format!("Exception in callback\n{text}"));
            Ok(())
        }
        Ok(()) => Ok(()),
    }
}

/// Runs the loop until `fut` is done (`loop.run_until_complete`).
pub fn run_until_complete(vm: &mut Vm, core: &Rc<LoopCore>, fut: &Value) -> PyResult<Value> {
    let stopper = core.clone();
    // CPython removes its stop callback when the run ends; this one goes quiet instead, so a
    // future left pending by `loop.stop()` cannot stop a later run when it finishes.
    let active = Rc::new(Cell::new(true));
    let armed = active.clone();
    futures::add_callback(
        vm,
        fut,
        Callback::Native(Rc::new(move |_vm, _f| {
            if armed.get() {
                stopper.stopping.set(true);
            }
            Ok(())
        })),
    )?;
    core.stopping.set(false);
    let r = (|| {
        while !core.stopping.get() {
            if core.is_idle() && !futures::is_done(fut) {
                // Nothing can ever complete the future: CPython would block forever; Eddy
                // reports where each task waits. (Pending I/O, jobs and children count as
                // "not idle".)
                let msg = tasks::deadlock_report(vm, core);
                return Err(vm.error("RuntimeError", msg));
            }
            super::tasktree::poll_sigusr1(vm, core);
            core.run_once(vm)?;
        }
        Ok(())
    })();
    active.set(false);
    r?;
    core.stopping.set(false);
    if !futures::is_done(fut) {
        // `loop.stop()` ran before the future finished.
        return Err(vm.error(
            "RuntimeError",
            "Event loop stopped before Future completed.",
        ));
    }
    futures::result(vm, fut)
}

/// `loop.run_forever()`: run iterations until `loop.stop()`; a stop requested before the
/// call still lets one iteration run, as in CPython.
fn run_forever(vm: &mut Vm, core: &Rc<LoopCore>) -> PyResult<()> {
    let r = (|| loop {
        if core.is_idle() && !core.stopping.get() {
            // Nothing could ever call stop(): CPython would block forever.
            let msg = tasks::deadlock_report(vm, core);
            return Err(vm.error("RuntimeError", msg));
        }
        super::tasktree::poll_sigusr1(vm, core);
        core.run_once(vm)?;
        if core.stopping.get() {
            return Ok(());
        }
    })();
    core.stopping.set(false);
    r
}

/// `asyncio.run(coro)`.
fn run(vm: &mut Vm, mut a: Args) -> PyResult<Value> {
    let debug = a.take_kw("debug");
    let _ = debug;
    util::no_kwargs(vm, "run", &a)?;
    util::arity(vm, "run", &a, 1, 1)?;
    let coro = a.pos[0].clone();
    if running().is_some() {
        if tasks::is_coroutine(&coro) {
            if let Some(r) = run_on_host(vm, coro) {
                return r;
            }
        }
        return Err(vm.error(
            "RuntimeError",
            "asyncio.run() cannot be called from a running event loop",
        ));
    }
    if !tasks::is_coroutine(&coro) {
        let r = ops::repr(vm, &coro)?;
        return Err(vm.value_error(format!("a coroutine was expected, got {r}")));
    }
    let core = LoopCore::new();
    set_running(Some(core.clone()));
    let result = (|| {
        let r = run_main_task(vm, &core, coro);
        let cleanup = finish(vm, &core);
        let r = r?;
        cleanup?;
        Ok(r)
    })();
    dispose(vm, &core);
    result
}

/// Makes `core` (or none) the running loop of this thread.
pub(super) fn set_running(core: Option<Rc<LoopCore>>) {
    RUNNING.with(|r| *r.borrow_mut() = core);
}

/// `asyncio.run`'s (and `Runner.run`'s) main task: `coro` as a task run to completion, with
/// Ctrl-C cancelling it.
pub(super) fn run_main_task(vm: &mut Vm, core: &Rc<LoopCore>, coro: Value) -> PyResult<Value> {
    let task = tasks::new_task(vm, core, coro, Value::None)?;
    match interrupt::install(&task) {
        Some(_ctrl_c) => {
            let r = run_until_complete(vm, core, &task);
            interrupt::translate(vm, &task, r)
        }
        None => run_until_complete(vm, core, &task),
    }
}

/// The end of a run (`Runner.close`): cancel what is left, close async generators, shut the
/// default executor down. `core` must be the running loop.
pub(super) fn finish(vm: &mut Vm, core: &Rc<LoopCore>) -> PyResult<()> {
    cancel_all_tasks(vm, core)?;
    let obj = core.obj.borrow().clone();
    super::executor::shutdown_default(vm, &obj)
}

/// After `finish`: report failed tasks nobody asked, close the loop and let go of it.
pub(super) fn dispose(vm: &mut Vm, core: &Rc<LoopCore>) {
    tasks::report_unretrieved(vm, core);
    reactor::clear();
    core.closed.set(true);
    set_running(None);
    core.tasks.borrow_mut().clear();
    // The loop object points back at the core: break that cycle now the loop is closed.
    *core.obj.borrow_mut() = Value::None;
    core.ready.borrow_mut().clear();
    core.timers.borrow_mut().clear();
}

/// `asyncio.runners._cancel_all_tasks`: cancel what is still pending and let it finish.
fn cancel_all_tasks(vm: &mut Vm, core: &Rc<LoopCore>) -> PyResult<()> {
    let pending = core.tasks.borrow().pending();
    if pending.is_empty() {
        return Ok(());
    }
    for t in &pending {
        tasks::cancel(vm, t, Value::None)?;
    }
    let gathered = tasks::gather_futures(vm, pending.clone(), true)?;
    run_until_complete(vm, core, &gathered)?;
    for t in &pending {
        if futures::is_cancelled(t) {
            continue;
        }
        if let Some(exc) = futures::exception_of(t) {
            let line = eddy_vm::traceback::format_exception(vm, &exc);
            let r = ops::repr(vm, t)?;
            vm.write_stderr(&format!(
                "unhandled exception during asyncio.run() shutdown\ntask: {r}\n{line}"
            ));
        }
    }
    Ok(())
}

// ---- handles and the loop object ----

/// A `call_soon`/`call_later` handle: its cancelled flag and deadline.
pub struct HandleState {
    cancelled: Rc<Cell<bool>>,
    when: Option<f64>,
}
native_state!(HandleState, |_s, _f| {}, |_c, _out| {});

pub fn handle_class(vm: &Vm) -> Rc<eddy_vm::objects::class::Class> {
    let cls = util::plain_class("Handle", "asyncio.events", vm.types.object.clone());
    util::methods(
        vm,
        &cls,
        &[
            ("cancel", |vm, a| {
                util::state(vm, &a.pos[0], "Handle", |h: &mut HandleState| {
                    h.cancelled.set(true)
                })?;
                Ok(Value::None)
            }),
            ("cancelled", |vm, a| {
                Ok(Value::Bool(util::state(
                    vm,
                    &a.pos[0],
                    "Handle",
                    |h: &mut HandleState| h.cancelled.get(),
                )?))
            }),
        ],
    );
    cls
}

/// `TimerHandle`, what call_later and call_at return: a Handle with a deadline.
pub fn timer_handle_class(
    vm: &Vm,
    handle: &Rc<eddy_vm::objects::class::Class>,
) -> Rc<eddy_vm::objects::class::Class> {
    let cls = util::plain_class("TimerHandle", "asyncio.events", handle.clone());
    util::method(vm, &cls, "when", |vm, a| {
        let w = util::state(vm, &a.pos[0], "TimerHandle", |h: &mut HandleState| h.when)?;
        Ok(Value::Float(w.unwrap_or(0.0)))
    });
    cls
}

/// The loop object's state: the core it fronts (None once closed).
pub struct LoopRef(Option<Rc<LoopCore>>);
native_state!(LoopRef, |_s, _f| {}, |c, _out| {
    c.0 = None;
});

pub(super) fn core_of(vm: &Vm, v: &Value) -> PyResult<Rc<LoopCore>> {
    util::state(vm, v, "_UnixSelectorEventLoop", |l: &mut LoopRef| {
        l.0.clone()
    })?
    .ok_or_else(|| vm.error("RuntimeError", "Event loop is closed"))
}

/// Schedules `f(*args)` on `core`, at `when` if given; returns the handle object.
fn schedule_call(core: &LoopCore, f: Value, args: Vec<Value>, when: Option<f64>) -> Value {
    let cancelled = Rc::new(Cell::new(false));
    let job = Job::call(f, args, cancelled.clone());
    match when {
        Some(w) => core.push_timer(w, job),
        None => core.push(job),
    }
    let cls = match when {
        Some(_) => classes().timer_handle.clone(),
        None => classes().handle.clone(),
    };
    util::new_native(&cls, HandleState { cancelled, when })
}

pub fn loop_class(vm: &Vm) -> Rc<eddy_vm::objects::class::Class> {
    let cls = util::plain_class(
        "_UnixSelectorEventLoop",
        "asyncio.unix_events",
        vm.types.object.clone(),
    );
    util::methods(
        vm,
        &cls,
        &[
            ("time", |_vm, _a| Ok(Value::Float(reactor::now()))),
            ("call_soon", |vm, mut a| {
                a.take_kw("context");
                let core = core_of(vm, &a.pos[0])?;
                let f = a.pos.get(1).cloned().ok_or_else(|| {
                    vm.type_error("call_soon() missing 1 required positional argument: 'callback'")
                })?;
                Ok(schedule_call(&core, f, a.pos[2..].to_vec(), None))
            }),
            ("call_later", |vm, mut a| {
                a.take_kw("context");
                let core = core_of(vm, &a.pos[0])?;
                if a.pos.len() < 3 {
                    return Err(vm.type_error("call_later() missing required positional arguments: 'delay' and 'callback'"));
                }
                let delay = util::to_float(vm, &a.pos[1])?;
                Ok(schedule_call(
                    &core,
                    a.pos[2].clone(),
                    a.pos[3..].to_vec(),
                    Some(reactor::now() + delay),
                ))
            }),
            ("call_at", |vm, mut a| {
                a.take_kw("context");
                let core = core_of(vm, &a.pos[0])?;
                if a.pos.len() < 3 {
                    return Err(vm.type_error(
                        "call_at() missing required positional arguments: 'when' and 'callback'",
                    ));
                }
                let when = util::to_float(vm, &a.pos[1])?;
                Ok(schedule_call(
                    &core,
                    a.pos[2].clone(),
                    a.pos[3..].to_vec(),
                    Some(when),
                ))
            }),
            ("create_future", |vm, a| {
                core_of(vm, &a.pos[0])?;
                Ok(futures::new_future())
            }),
            ("create_task", |vm, mut a| {
                let name = a.take_kw("name").unwrap_or(Value::None);
                a.take_kw("context");
                let core = core_of(vm, &a.pos[0])?;
                let coro = a.pos.get(1).cloned().ok_or_else(|| {
                    vm.type_error("create_task() missing 1 required positional argument: 'coro'")
                })?;
                tasks::new_task(vm, &core, coro, name)
            }),
            ("run_until_complete", |vm, a| {
                let core = core_of(vm, &a.pos[0])?;
                if core.closed.get() {
                    return Err(vm.error("RuntimeError", "Event loop is closed"));
                }
                if running().is_some() {
                    return Err(vm.error("RuntimeError", "This event loop is already running"));
                }
                let what = a.pos.get(1).cloned().unwrap_or(Value::None);
                RUNNING.with(|r| *r.borrow_mut() = Some(core.clone()));
                let r = tasks::ensure_future(vm, &what)
                    .and_then(|fut| run_until_complete(vm, &core, &fut));
                RUNNING.with(|r| *r.borrow_mut() = None);
                r
            }),
            ("run_forever", |vm, a| {
                let core = core_of(vm, &a.pos[0])?;
                if core.closed.get() {
                    return Err(vm.error("RuntimeError", "Event loop is closed"));
                }
                if running().is_some() {
                    return Err(vm.error("RuntimeError", "This event loop is already running"));
                }
                set_running(Some(core.clone()));
                let r = run_forever(vm, &core);
                set_running(None);
                r.map(|_| Value::None)
            }),
            ("close", |vm, a| {
                if running().is_some() {
                    return Err(vm.error("RuntimeError", "Cannot close a running event loop"));
                }
                if let Ok(core) = core_of(vm, &a.pos[0]) {
                    core.closed.set(true);
                    core.ready.borrow_mut().clear();
                    core.timers.borrow_mut().clear();
                }
                Ok(Value::None)
            }),
            ("stop", |vm, a| {
                core_of(vm, &a.pos[0])?.stopping.set(true);
                Ok(Value::None)
            }),
            ("is_running", |vm, a| {
                let core = core_of(vm, &a.pos[0]);
                Ok(Value::Bool(
                    matches!((core, running()), (Ok(c), Some(r)) if Rc::ptr_eq(&c, &r)),
                ))
            }),
            ("is_closed", |vm, a| {
                Ok(Value::Bool(
                    core_of(vm, &a.pos[0])
                        .map(|c| c.closed.get())
                        .unwrap_or(true),
                ))
            }),
            ("get_debug", |_vm, _a| Ok(Value::Bool(false))),
            ("__repr__", |vm, a| {
                let running_now = matches!((core_of(vm, &a.pos[0]), running()), (Ok(c), Some(r)) if Rc::ptr_eq(&c, &r));
                let closed = core_of(vm, &a.pos[0])
                    .map(|c| c.closed.get())
                    .unwrap_or(true);
                Ok(Value::string(format!(
                    "<_UnixSelectorEventLoop running={} closed={} debug=False>",
                    py_bool(running_now),
                    py_bool(closed)
                )))
            }),
        ],
    );
    cls
}

fn py_bool(b: bool) -> &'static str {
    if b {
        "True"
    } else {
        "False"
    }
}

pub fn install(vm: &mut Vm, m: &Module) {
    util::defs(
        vm,
        m,
        &[
            ("run", run),
            ("get_running_loop", |vm, a| {
                util::arity(vm, "get_running_loop", &a, 0, 0)?;
                let core = running_or_err(vm)?;
                let obj = core.obj.borrow().clone();
                Ok(obj)
            }),
            ("get_event_loop", |_vm, _a| {
                if let Some(core) = running() {
                    let obj = core.obj.borrow().clone();
                    return Ok(obj);
                }
                let cur = CURRENT.with(|c| c.borrow().clone());
                if !cur.is_none() {
                    return Ok(cur);
                }
                let obj = LoopCore::new().obj.borrow().clone();
                CURRENT.with(|c| *c.borrow_mut() = obj.clone());
                Ok(obj)
            }),
            ("new_event_loop", |_vm, _a| {
                Ok(LoopCore::new().obj.borrow().clone())
            }),
            ("set_event_loop", |_vm, a| {
                CURRENT.with(|c| *c.borrow_mut() = a.pos.first().cloned().unwrap_or(Value::None));
                Ok(Value::None)
            }),
            ("iscoroutinefunction", |_vm, a| {
                Ok(Value::Bool(
                    matches!(a.pos.first(), Some(Value::Function(f)) if f.code.flags.coroutine),
                ))
            }),
        ],
    );
}
