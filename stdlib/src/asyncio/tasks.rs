//! `asyncio.Task` and the task-level functions: a task drives its coroutine one step per ready
//! callback, as CPython's `Task.__step` (send or throw; a yielded pending future gets the task's
//! wakeup as a done callback; a bare yield reschedules the task at the back of the queue).
//! Also create_task, ensure_future, gather, current_task, all_tasks; sleep and wait_for are short
//! Python (`PY`) over these.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use eddy_vm::objects::class::Class;
use eddy_vm::objects::generator::{GenKind, GenState};
use eddy_vm::objects::module::Module;
use eddy_vm::value::PyStr;
use eddy_vm::{ops, Args, PyResult, Value, Vm};

use super::events::{self, Job, LoopCore};
use super::futures::{self, Callback, FutSt, FutState};
use super::parking::{self, Park};
use super::registry::NO_SLOT;
use super::{classes, native_coro};
use crate::native_state;
use crate::util;

/// The task part of a Task's state (`futures::TaskState`); its three flags live in the
/// future part (`FutState::must_cancel`, `park`, `park_returns_none`).
pub struct TaskData {
    /// The coroutine, kept after the task is done as CPython keeps it (`get_coro()`, reprs).
    pub coro: Value,
    /// The name given to the task; None means the default `Task-<id>`, made when asked for.
    /// (A string pointer rather than a Value: 8 bytes fewer.)
    pub name: Option<Rc<PyStr>>,
    pub id: u64,
    /// The future the task waits on, or the primitive it is parked on (parking.rs).
    pub fut_waiter: Option<Value>,
    pub num_cancels: i32,
    /// Counts live Task objects (`sys._eddy_stats()`).
    pub live: super::tasktree::LiveTask,
    /// Loop time when the task was created (the REPL's `:tasks` shows how long it has run).
    pub created: f64,
    /// The task's place in its loop's registry (registry.rs), NO_SLOT once finished.
    pub slot: u32,
}

/// With the future part's 64 bytes, a task's state is one 128-byte block (futures::TaskState).
const _: () = assert!(std::mem::size_of::<TaskData>() <= 64);

impl TaskData {
    pub fn traverse(&self, f: &mut dyn FnMut(&Value)) {
        f(&self.coro);
        if let Some(w) = &self.fut_waiter {
            f(w);
        }
    }
    pub fn clear(&mut self, out: &mut Vec<Value>) {
        out.push(std::mem::take(&mut self.coro));
        out.extend(self.fut_waiter.take());
    }
    /// The task's name as scripts see it.
    pub fn name(&self) -> Value {
        match &self.name {
            Some(n) => Value::Str(n.clone()),
            None => Value::string(format!("Task-{}", self.id)),
        }
    }
    /// The coroutine's qualified name, for reprs.
    pub fn coro_name(&self) -> String {
        match &self.coro {
            Value::Generator(g) => g.qualname().s.to_string(),
            _ => "?".into(),
        }
    }
    /// `file:line` of the coroutine function's definition.
    pub fn defined_at(&self) -> String {
        match &self.coro {
            Value::Generator(g) => format!("{}:{}", g.code.source.name, g.code.first_line),
            _ => "?".into(),
        }
    }
}

thread_local! {
    static TASK_COUNTER: Cell<u64> = const { Cell::new(0) };
    /// Tasks that finished with an exception, checked at loop close for "never retrieved".
    static FAILED: RefCell<Vec<Value>> = const { RefCell::new(Vec::new()) };
}

pub const PY: &str = r#"
async def _wrap_awaitable(awaitable):
    return await awaitable

def _set_result_unless_cancelled(fut, result):
    if fut.cancelled():
        return
    fut.set_result(result)

def _release_waiter(waiter, *args):
    if not waiter.done():
        waiter.set_result(None)

async def _cancel_and_wait(fut):
    waiter = get_running_loop().create_future()
    cb = lambda f: _release_waiter(waiter)
    fut.add_done_callback(cb)
    try:
        fut.cancel()
        await waiter
    finally:
        fut.remove_done_callback(cb)

async def wait_for(fut, timeout):
    loop = get_running_loop()
    if timeout is None:
        return await fut
    if timeout <= 0:
        fut = ensure_future(fut)
        if fut.done():
            return fut.result()
        await _cancel_and_wait(fut)
        try:
            return fut.result()
        except CancelledError as exc:
            raise TimeoutError() from exc
    waiter = loop.create_future()
    timeout_handle = loop.call_later(timeout, _release_waiter, waiter)
    cb = lambda f: _release_waiter(waiter)
    fut = ensure_future(fut)
    fut.add_done_callback(cb)
    try:
        try:
            await waiter
        except CancelledError:
            if fut.done():
                return fut.result()
            else:
                fut.remove_done_callback(cb)
                await _cancel_and_wait(fut)
                raise
        if fut.done():
            return fut.result()
        else:
            fut.remove_done_callback(cb)
            await _cancel_and_wait(fut)
            try:
                return fut.result()
            except CancelledError as exc:
                raise TimeoutError() from exc
    finally:
        timeout_handle.cancel()

FIRST_COMPLETED = 'FIRST_COMPLETED'
FIRST_EXCEPTION = 'FIRST_EXCEPTION'
ALL_COMPLETED = 'ALL_COMPLETED'

async def wait(fs, *, timeout=None, return_when=ALL_COMPLETED):
    if isfuture(fs) or iscoroutine(fs):
        raise TypeError(f"expect a list of futures, not {type(fs).__name__}")
    if not fs:
        raise ValueError('Set of Tasks/Futures is empty.')
    if return_when not in (FIRST_COMPLETED, FIRST_EXCEPTION, ALL_COMPLETED):
        raise ValueError(f'Invalid return_when value: {return_when}')
    fs = set(fs)
    if any(iscoroutine(f) for f in fs):
        raise TypeError("Passing coroutines is forbidden, use tasks explicitly.")
    loop = get_running_loop()
    waiter = loop.create_future()
    timeout_handle = None
    if timeout is not None:
        timeout_handle = loop.call_later(timeout, _release_waiter, waiter)
    counter = len(fs)

    def _on_completion(f):
        nonlocal counter
        counter -= 1
        if (counter <= 0 or return_when == FIRST_COMPLETED or
                return_when == FIRST_EXCEPTION and (not f.cancelled() and f.exception() is not None)):
            if timeout_handle is not None:
                timeout_handle.cancel()
            if not waiter.done():
                waiter.set_result(None)

    for f in fs:
        f.add_done_callback(_on_completion)
    try:
        await waiter
    finally:
        if timeout_handle is not None:
            timeout_handle.cancel()
        for f in fs:
            f.remove_done_callback(_on_completion)
    done, pending = set(), set()
    for f in fs:
        if f.done():
            done.add(f)
        else:
            pending.add(f)
    return done, pending

def as_completed(fs, *, timeout=None):
    if isfuture(fs) or iscoroutine(fs):
        raise TypeError(f"expect an iterable of futures, not {type(fs).__name__}")
    loop = get_running_loop()
    todo = {ensure_future(f) for f in set(fs)}
    done = []
    timeout_handle = None

    def _on_timeout():
        for f in todo:
            f.remove_done_callback(_on_completion)
            done.append(None)
        todo.clear()
        _wake()

    def _wake():
        for w in waiters:
            if not w.done():
                w.set_result(None)
                break

    def _on_completion(f):
        if not todo:
            return
        todo.remove(f)
        done.append(f)
        if not todo and timeout_handle is not None:
            timeout_handle.cancel()
        _wake()

    waiters = []

    async def _wait_for_one():
        while not done:
            w = loop.create_future()
            waiters.append(w)
            try:
                await w
            finally:
                waiters.remove(w)
        f = done.pop(0)
        if f is None:
            raise TimeoutError
        return f.result()

    for f in todo:
        f.add_done_callback(_on_completion)
    if todo and timeout is not None:
        timeout_handle = loop.call_later(timeout, _on_timeout)
    for _ in range(len(todo)):
        yield _wait_for_one()

def shield(arg):
    inner = ensure_future(arg)
    if inner.done():
        return inner
    loop = get_running_loop()
    outer = loop.create_future()

    def _inner_done_callback(inner):
        if outer.cancelled():
            if not inner.cancelled():
                inner.exception()
            return
        if inner.cancelled():
            outer.cancel()
        else:
            exc = inner.exception()
            if exc is not None:
                outer.set_exception(exc)
            else:
                outer.set_result(inner.result())

    def _outer_done_callback(outer):
        if not inner.done():
            inner.remove_done_callback(_inner_done_callback)

    inner.add_done_callback(_inner_done_callback)
    outer.add_done_callback(_outer_done_callback)
    return outer
"#;

/// True for coroutine objects (what create_task and asyncio.run accept).
pub fn is_coroutine(v: &Value) -> bool {
    matches!(v, Value::Generator(g) if g.kind() == GenKind::Coroutine)
        || native_coro::is_native_coro(v)
}

/// Makes a task for `coro` on `core` and schedules its first step.
pub fn new_task(vm: &mut Vm, core: &Rc<LoopCore>, coro: Value, name: Value) -> PyResult<Value> {
    if !is_coroutine(&coro) {
        let r = ops::repr(vm, &coro)?;
        return Err(vm.type_error(format!("a coroutine was expected, got {r}")));
    }
    if let Some(max) = vm.max_tasks {
        // A host's limit (embedding API): the live tasks of this loop, done ones excluded.
        if core.tasks.borrow().len() >= max {
            return Err(vm.error(
                "TooManyTasks",
                format!("too many live tasks: the limit is {max}"),
            ));
        }
    }
    let id = TASK_COUNTER.with(|c| {
        c.set(c.get() + 1);
        c.get()
    });
    let name = if name.is_none() {
        None
    } else {
        Some(Rc::new(PyStr::new(ops::to_str(vm, &name)?)))
    };
    let data = TaskData {
        coro,
        name,
        id,
        fut_waiter: None,
        num_cancels: 0,
        live: super::tasktree::LiveTask::new(),
        created: super::reactor::now(),
        slot: NO_SLOT,
    };
    let state = futures::TaskState {
        fut: FutState::new(),
        task: data,
    };
    let task = util::new_native(&classes().task, state);
    core.push(Job::step(&task, None));
    let slot = core.tasks.borrow_mut().insert(&task);
    with_task(&task, |t| t.slot = slot);
    Ok(task)
}

fn with_task<R>(t: &Value, f: impl FnOnce(&mut TaskData) -> R) -> Option<R> {
    futures::with_task(t, |_, d| f(d))
}

/// Drives the coroutine one step: send None, or throw `exc` in.
fn send_or_throw(vm: &mut Vm, coro: &Value, exc: Option<Value>) -> PyResult<Result<Value, Value>> {
    match coro {
        Value::Generator(g) => match exc {
            None => vm.gen_send(g, Value::None),
            Some(e) => vm.gen_throw(g, e),
        },
        _ if native_coro::is_native_coro(coro) => native_coro::resume(vm, coro, Value::None, exc),
        _ => Err(vm.type_error("task coroutine is not a coroutine")),
    }
}

/// `Task.__step`.
pub fn step(vm: &mut Vm, task: &Value, exc: Option<Value>) -> PyResult<()> {
    // One look at the task's state: done? must it cancel? its coroutine.
    let start = futures::with_task(task, |s, t| {
        let pending = s.state == FutSt::Pending;
        // A parked task's wait ends in its coroutine, which needs the primitive.
        if s.park == Park::None {
            t.fut_waiter = None;
        }
        let must_cancel = pending && std::mem::replace(&mut s.must_cancel, false);
        (pending, must_cancel, t.coro.clone())
    });
    let (must_cancel, coro) = match start {
        Some((true, must_cancel, coro)) => (must_cancel, coro),
        _ => {
            let r = ops::repr(vm, task)?;
            return Err(vm.new_exception(
                &classes().invalid_state,
                vec![Value::string(format!("_step(): already done: {r}"))],
            ));
        }
    };
    let core = events::running_or_err(vm)?;
    let mut exc = exc;
    if must_cancel {
        let is_cancel = matches!(&exc, Some(e) if vm.isinstance(e, &classes().cancelled_error));
        if !is_cancel {
            exc = Some(futures::make_cancelled_error(vm, task));
        }
    }
    let prev = core.current_task.replace(Some(task.clone()));
    let r = send_or_throw(vm, &coro, exc);
    *core.current_task.borrow_mut() = prev;
    // Before the task reschedules itself, as CPython's finalizer hook runs during the step.
    super::asyncgens::after_step(vm, &core);
    match r {
        Ok(Err(ret)) => {
            if futures::with(task, |s| std::mem::replace(&mut s.must_cancel, false)) == Some(true) {
                let msg = futures::with(task, |s| s.cancel_msg()).unwrap_or(Value::None);
                futures::cancel_future(vm, task, msg)?;
            } else {
                futures::set_result(vm, task, ret)?;
            }
            finished(&core, task);
        }
        Err(e) if vm.isinstance(&e, &classes().cancelled_error) => {
            futures::with(task, |s| s.rare().cancelled_exc = Some(e));
            futures::cancel_future(vm, task, Value::None)?;
            finished(&core, task);
        }
        Err(e) => {
            let fatal = vm.exc_matches(&e, "KeyboardInterrupt") || vm.exc_matches(&e, "SystemExit");
            futures::set_exception(vm, task, e.clone())?;
            finished(&core, task);
            FAILED.with(|f| f.borrow_mut().push(task.clone()));
            if fatal {
                return Err(e);
            }
        }
        Ok(Ok(y)) => yielded(vm, &core, task, y)?,
    }
    Ok(())
}

fn finished(core: &LoopCore, task: &Value) {
    if let Some(slot) = with_task(task, |t| std::mem::replace(&mut t.slot, NO_SLOT)) {
        core.tasks.borrow_mut().remove(slot, task);
    }
}

/// The coroutine yielded `y`: wait on it if it is a future, else reschedule or complain.
fn yielded(vm: &mut Vm, core: &LoopCore, task: &Value, y: Value) -> PyResult<()> {
    if parking::is_token(&y) {
        // Parked on a primitive: it wakes the task. A cancel() that came while the task
        // ran cancels the wait at once, as it would cancel a waiter future.
        if futures::with(task, |s| s.must_cancel) == Some(true) {
            let msg = futures::with(task, |s| s.cancel_msg()).unwrap_or(Value::None);
            if parking::cancel(vm, task, &msg)? == Some(true) {
                futures::with(task, |s| s.must_cancel = false);
            }
        }
        return Ok(());
    }
    if let Some(blocking) = futures::with(&y, |s| std::mem::replace(&mut s.blocking, false)) {
        if !blocking {
            let (t, r) = (ops::repr(vm, task)?, ops::repr(vm, &y)?);
            let e = vm.error(
                "RuntimeError",
                format!("yield was used instead of yield from in task {t} with {r}"),
            );
            core.push(Job::step(task, Some(e)));
        } else if same(&y, task) {
            let t = ops::repr(vm, task)?;
            let e = vm.error("RuntimeError", format!("Task cannot await on itself: {t}"));
            core.push(Job::step(task, Some(e)));
        } else {
            futures::add_callback(vm, &y, Callback::Wakeup(task.clone()))?;
            let must_cancel = futures::with_task(task, |s, t| {
                t.fut_waiter = Some(y.clone());
                s.must_cancel
            });
            if must_cancel == Some(true) {
                let msg = futures::with(task, |s| s.cancel_msg()).unwrap_or(Value::None);
                if cancel(vm, &y, msg)? {
                    futures::with(task, |s| s.must_cancel = false);
                }
            }
        }
    } else if y.is_none() {
        core.push(Job::step(task, None));
    } else {
        let r = ops::repr(vm, &y)?;
        let e = vm.error("RuntimeError", format!("Task got bad yield: {r}"));
        core.push(Job::step(task, Some(e)));
    }
    Ok(())
}

fn same(a: &Value, b: &Value) -> bool {
    matches!((a, b), (Value::Instance(x), Value::Instance(y)) if Rc::ptr_eq(x, y))
}

/// `Task.__wakeup`: the awaited future is done; step with its result or exception.
pub fn wakeup(vm: &mut Vm, task: &Value, fut: &Value) -> PyResult<()> {
    match futures::result(vm, fut) {
        Ok(_) => step(vm, task, None),
        Err(e) => step(vm, task, Some(e)),
    }
}

/// `cancel(msg)` for futures, tasks and gather's outer future.
pub fn cancel(vm: &mut Vm, fut: &Value, msg: Value) -> PyResult<bool> {
    let children = futures::with(fut, |s| s.children()).unwrap_or_default();
    if !children.is_empty() {
        if futures::is_done(fut) {
            return Ok(false);
        }
        let mut any = false;
        for c in &children {
            any |= cancel(vm, c, msg.clone())?;
        }
        if any {
            futures::with(fut, |s| s.rare().cancel_requested = true);
        }
        return Ok(any);
    }
    if !futures::is_task(fut) {
        return futures::cancel_future(vm, fut, msg);
    }
    futures::with(fut, |s| s.log_tb = false);
    if futures::is_done(fut) {
        return Ok(false);
    }
    let waiter = with_task(fut, |t| {
        t.num_cancels = t.num_cancels.saturating_add(1);
        t.fut_waiter.clone()
    })
    .flatten();
    match parking::cancel(vm, fut, &msg)? {
        Some(true) => return Ok(true),
        Some(false) => {}
        None => {
            if let Some(w) = waiter {
                if cancel(vm, &w, msg.clone())? {
                    return Ok(true);
                }
            }
        }
    }
    futures::with(fut, |s| s.must_cancel = true);
    futures::with(fut, |s| s.rare().cancel_msg = msg);
    Ok(true)
}

/// `<Task pending name='Task-1' coro=<main() running at f.py:3>>`.
pub fn task_repr(vm: &mut Vm, task: &Value) -> PyResult<String> {
    let mut info = futures::repr_info(vm, task)?;
    let Some((name, coro, cname, defined, cancelling, waiter)) =
        futures::with_task(task, |s, t| {
            (
                t.name(),
                t.coro.clone(),
                t.coro_name(),
                t.defined_at(),
                s.must_cancel || t.num_cancels > 0,
                t.fut_waiter.clone(),
            )
        })
    else {
        return Ok("<Task>".into());
    };
    // 3.11 says "cancelling" once cancel() was requested and the task is not done yet.
    if cancelling && info == "pending" {
        info = "cancelling".into();
    }
    let name = ops::repr(vm, &name)?;
    let coro_state = match &coro {
        Value::Generator(g) if g.state() != GenState::Finished => {
            let inner = g.inner.borrow();
            match inner.suspended_ip() {
                // A coroutine that has not started is at its `def` line, as in CPython.
                Some(0) => format!("running at {}:{}", g.code.source.name, g.code.first_line),
                Some(ip) => format!(
                    "running at {}:{}",
                    g.code.source.name,
                    g.code.line_of(ip.saturating_sub(1))
                ),
                // Running: the line its live frame is at, as CPython's `f_lineno`.
                None => match vm.running_line_of(g) {
                    Some(line) => format!("running at {}:{line}", g.code.source.name),
                    None => format!("running, defined at {defined}"),
                },
            }
        }
        _ => format!("done, defined at {defined}"),
    };
    let (head, rest) = match info.split_once(' ') {
        Some((h, r)) => (h.to_string(), format!(" {r}")),
        None => (info.clone(), String::new()),
    };
    // CPython's order: state, name, coro, wait_for, result/exception, callbacks.
    let mut s = format!("<Task {head} name={name} coro=<{cname}() {coro_state}>");
    if let Some(parked) = parking::wait_for_repr(task) {
        s.push_str(&format!(" wait_for={parked}"));
    } else if let Some(w) = waiter {
        s.push_str(&format!(" wait_for={}", ops::repr(vm, &w)?));
    }
    s.push_str(&rest);
    s.push_str(&futures::callback_repr(vm, task)?);
    s.push('>');
    Ok(s)
}

/// The deadlock report lives with the task tree, which it prints.
pub use super::tasktree::deadlock_report;

/// Reports failed tasks whose exception nobody retrieved, as CPython does when they are freed.
pub fn report_unretrieved(vm: &mut Vm, _core: &LoopCore) {
    let failed = FAILED.with(|f| std::mem::take(&mut *f.borrow_mut()));
    for t in failed {
        let Some((true, Some(exc))) = futures::with(&t, |s| (s.log_tb, s.exception())) else {
            continue;
        };
        let r = ops::repr(vm, &t).unwrap_or_default();
        let tb = eddy_vm::traceback::format_exception(vm, &exc);
        vm.write_stderr(&format!(
            "Task exception was never retrieved\nfuture: {r}\n{tb}"
        ));
    }
}

/// `ensure_future(x)`: futures as they are, coroutines wrapped in a task.
pub fn ensure_future(vm: &mut Vm, v: &Value) -> PyResult<Value> {
    if futures::is_future(v) {
        return Ok(v.clone());
    }
    if is_coroutine(v) {
        let core = events::running_or_err(vm)?;
        return new_task(vm, &core, v.clone(), Value::None);
    }
    // Any other awaitable (an async generator's `__anext__()`, an object with `__await__`)
    // runs in a task through a coroutine that awaits it, as CPython's `_wrap_awaitable`.
    if vm.type_of(v).lookup("__await__").is_some() {
        let wrap = match vm.modules.get("asyncio").cloned() {
            Some(m) => util::getattr_opt(vm, &m, "_wrap_awaitable")?,
            None => None,
        };
        if let Some(wrap) = wrap {
            let coro = vm.call(&wrap, vec![v.clone()])?;
            let core = events::running_or_err(vm)?;
            return new_task(vm, &core, coro, Value::None);
        }
    }
    Err(vm.type_error("An asyncio.Future, a coroutine or an awaitable is required"))
}

struct Gather {
    outer: Value,
    /// Distinct children (a future passed twice counts once).
    nfuts: usize,
    nfinished: usize,
    return_exceptions: bool,
}

/// gather's outer future over `children` (already futures).
pub fn gather_futures(
    vm: &mut Vm,
    children: Vec<Value>,
    return_exceptions: bool,
) -> PyResult<Value> {
    let outer = futures::new_future();
    let state = Rc::new(RefCell::new(Gather {
        outer: outer.clone(),
        nfuts: 0,
        nfinished: 0,
        return_exceptions,
    }));
    // One callback shared by every child (it learns which child from its argument).
    let st = state.clone();
    let on_done: futures::NativeCallback = Rc::new(move |vm, fut| gather_child_done(vm, &st, fut));
    // A future passed twice gets one callback: each child is marked when first seen (no
    // script code runs until the marks are cleared below).
    let mut nfuts = 0;
    let mut added = Ok(());
    for c in &children {
        if futures::with(c, |s| std::mem::replace(&mut s.gather_mark, true)) != Some(false) {
            continue;
        }
        nfuts += 1;
        added = futures::add_callback(vm, c, Callback::Native(on_done.clone()));
        if added.is_err() {
            break;
        }
    }
    for c in &children {
        futures::with(c, |s| s.gather_mark = false);
    }
    added?;
    state.borrow_mut().nfuts = nfuts;
    // The outer future keeps the children (for cancel() and the task tree) until it is done.
    futures::with(&outer, |s| s.rare().children = children);
    Ok(outer)
}

/// An object's identity (its address), for deduplicating by `is`.
fn identity(v: &Value) -> usize {
    match v {
        Value::Instance(i) => Rc::as_ptr(i) as *const u8 as usize,
        Value::Generator(g) => Rc::as_ptr(g) as *const u8 as usize,
        _ => 0,
    }
}

fn gather_child_done(vm: &mut Vm, st: &Rc<RefCell<Gather>>, fut: &Value) -> PyResult<()> {
    let (outer, nfuts, nfinished, return_exceptions) = {
        let mut g = st.borrow_mut();
        g.nfinished += 1;
        (g.outer.clone(), g.nfuts, g.nfinished, g.return_exceptions)
    };
    if futures::is_done(&outer) {
        if !futures::is_cancelled(fut) {
            futures::exception(vm, fut)?;
        }
        return Ok(());
    }
    if !return_exceptions {
        if futures::is_cancelled(fut) {
            let e = futures::make_cancelled_error(vm, fut);
            return futures::set_exception(vm, &outer, e);
        }
        let e = futures::exception(vm, fut)?;
        if !e.is_none() {
            return futures::set_exception(vm, &outer, e);
        }
    }
    if nfinished == nfuts {
        // Done with them: the outer future is about to finish.
        // Each child's slot becomes its result: no second vector at the peak.
        let mut results =
            futures::with(&outer, |s| std::mem::take(&mut s.rare().children)).unwrap_or_default();
        for slot in results.iter_mut() {
            let c = &*slot;
            let r = if futures::is_cancelled(c) {
                let msg = futures::with(c, |s| s.cancel_msg()).unwrap_or(Value::None);
                let msg = if msg.is_none() { Value::str("") } else { msg };
                vm.new_exception(&classes().cancelled_error, vec![msg])
            } else {
                let e = futures::exception(vm, c)?;
                if e.is_none() {
                    futures::result(vm, c)?
                } else {
                    e
                }
            };
            *slot = r;
        }
        if futures::with(&outer, |s| {
            s.rare.as_ref().is_some_and(|r| r.cancel_requested)
        }) == Some(true)
        {
            let e = futures::make_cancelled_error(vm, fut);
            futures::set_exception(vm, &outer, e)?;
        } else {
            futures::set_result(vm, &outer, Value::list(results))?;
        }
    }
    Ok(())
}

fn gather(vm: &mut Vm, mut a: Args) -> PyResult<Value> {
    let return_exceptions = match a.take_kw("return_exceptions") {
        Some(v) => ops::truthy(vm, &v)?,
        None => false,
    };
    util::no_kwargs(vm, "gather", &a)?;
    if a.pos.is_empty() {
        let f = futures::new_future();
        futures::set_result(vm, &f, Value::list(vec![]))?;
        return Ok(f);
    }
    // The same awaitable passed twice shares one child future, as CPython's `arg_to_fut`.
    // A future is its own child; only the other awaitables passed more than once need a map.
    let mut twice = repeated_awaitables(&a.pos);
    // Each argument's slot becomes its child future (no second vector of 200k children).
    let mut children = std::mem::take(&mut a.pos);
    for slot in children.iter_mut() {
        if futures::is_future(slot) {
            continue;
        }
        let arg = &*slot;
        let key = identity(arg);
        let made = twice.as_mut().and_then(|m| m.get_mut(&key));
        let fut = match made {
            Some(Some(f)) => f.clone(),
            Some(slot) => {
                let f = ensure_future(vm, arg)?;
                *slot = Some(f.clone());
                f
            }
            None => ensure_future(vm, arg)?,
        };
        *slot = fut;
    }
    drop(twice);
    gather_futures(vm, children, return_exceptions)
}

/// The identities of the non-future arguments given more than once (None when there are
/// none, the usual case), each with no child future made yet.
fn repeated_awaitables(args: &[Value]) -> Option<rustc_hash::FxHashMap<usize, Option<Value>>> {
    let mut keys: Vec<usize> = args
        .iter()
        .filter(|a| !futures::is_future(a))
        .map(identity)
        .filter(|&k| k != 0)
        .collect();
    keys.sort_unstable();
    let mut twice = rustc_hash::FxHashMap::default();
    for w in keys.windows(2) {
        if w[0] == w[1] {
            twice.insert(w[0], None);
        }
    }
    (!twice.is_empty()).then_some(twice)
}

fn task_arg(vm: &Vm, v: &Value) -> PyResult<()> {
    if with_task(v, |_| ()).is_some() {
        Ok(())
    } else {
        Err(vm.type_error(format!(
            "descriptor requires a '_asyncio.Task' object but received a '{}'",
            vm.type_name(v)
        )))
    }
}

pub fn task_class(vm: &Vm, future: &Rc<Class>) -> Rc<Class> {
    let cls = util::native_class(vm, "Task", "asyncio", Some(future.clone()), |vm, mut a| {
        let name = a.take_kw("name").unwrap_or(Value::None);
        a.take_kw("loop");
        a.take_kw("context");
        util::new_cls(vm, &mut a)?;
        let coro = a.pos.first().cloned().unwrap_or(Value::None);
        let core = events::running_or_err(vm)?;
        new_task(vm, &core, coro, name)
    });
    util::methods(
        vm,
        &cls,
        &[
            ("get_name", |vm, a| {
                task_arg(vm, &a.pos[0])?;
                Ok(with_task(&a.pos[0], |t| t.name()).unwrap_or(Value::None))
            }),
            ("set_name", |vm, a| {
                task_arg(vm, &a.pos[0])?;
                util::arity(vm, "set_name", &a, 2, 2)?;
                let n = Rc::new(PyStr::new(ops::to_str(vm, &a.pos[1])?));
                with_task(&a.pos[0], |t| t.name = Some(n));
                Ok(Value::None)
            }),
            ("get_coro", |vm, a| {
                task_arg(vm, &a.pos[0])?;
                Ok(with_task(&a.pos[0], |t| t.coro.clone()).unwrap_or(Value::None))
            }),
            ("cancelling", |vm, a| {
                task_arg(vm, &a.pos[0])?;
                Ok(Value::Int(
                    with_task(&a.pos[0], |t| t.num_cancels as i64).unwrap_or(0),
                ))
            }),
            ("uncancel", |vm, a| {
                task_arg(vm, &a.pos[0])?;
                Ok(Value::Int(
                    with_task(&a.pos[0], |t| {
                        if t.num_cancels > 0 {
                            t.num_cancels -= 1;
                        }
                        t.num_cancels as i64
                    })
                    .unwrap_or(0),
                ))
            }),
        ],
    );
    cls
}

/// `_sleep0()`: an awaitable that yields once (`asyncio.sleep(0)`).
pub struct Sleep0(bool);
native_state!(Sleep0, |_s, _f| {}, |_c, _out| {});

pub fn sleep0_class(vm: &Vm) -> Rc<Class> {
    let cls = util::plain_class("_Sleep0", "asyncio", vm.types.object.clone());
    util::methods(
        vm,
        &cls,
        &[
            ("__await__", util::iter_self),
            ("__iter__", util::iter_self),
            ("__next__", |vm, a| {
                let first = util::state(vm, &a.pos[0], "_Sleep0", |s: &mut Sleep0| {
                    !std::mem::replace(&mut s.0, true)
                })?;
                if first {
                    Ok(Value::None)
                } else {
                    Err(vm.stop_iteration(Value::None))
                }
            }),
        ],
    );
    cls
}

pub fn install(vm: &mut Vm, m: &Module) {
    util::defs(
        vm,
        m,
        &[
            ("create_task", |vm, mut a| {
                let name = a.take_kw("name").unwrap_or(Value::None);
                a.take_kw("context");
                util::no_kwargs(vm, "create_task", &a)?;
                util::arity(vm, "create_task", &a, 1, 1)?;
                let core = events::running_or_err(vm)?;
                new_task(vm, &core, a.pos[0].clone(), name)
            }),
            ("ensure_future", |vm, mut a| {
                a.take_kw("loop");
                util::arity(vm, "ensure_future", &a, 1, 1)?;
                ensure_future(vm, &a.pos[0])
            }),
            ("gather", gather),
            ("sleep", super::sleep::sleep),
            ("current_task", |vm, _a| {
                let core = events::running_or_err(vm)?;
                let t = core.current_task.borrow().clone();
                Ok(t.unwrap_or(Value::None))
            }),
            ("all_tasks", |vm, _a| {
                let core = events::running_or_err(vm)?;
                let items = core.tasks.borrow().pending();
                ops::new_set(vm, items)
            }),
            ("_sleep0", |_vm, _a| {
                Ok(util::new_native(&classes().sleep0, Sleep0(false)))
            }),
            ("isfuture", |_vm, a| {
                Ok(Value::Bool(
                    a.pos.first().map(futures::is_future).unwrap_or(false),
                ))
            }),
            ("iscoroutine", |_vm, a| {
                Ok(Value::Bool(
                    a.pos.first().map(is_coroutine).unwrap_or(false),
                ))
            }),
        ],
    );
    let _ = FutSt::Pending;
}
