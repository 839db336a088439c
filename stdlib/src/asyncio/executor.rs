//! The event loop and script threads: `loop.run_in_executor(executor, f, *args)` (a
//! ThreadPoolExecutor by default, or any `concurrent.futures` executor, a ProcessPoolExecutor
//! included), `asyncio.to_thread`, `asyncio.wrap_future`, `loop.call_soon_threadsafe`,
//! `loop.set_debug/get_debug`, and `wait`, the loop's idle wait while threads exist: instead of
//! blocking in the reactor, the loop thread runs the other script threads (the GIL handed over)
//! until a timer is due, a native future is woken, or a thread scheduled a callback.

use std::cell::Cell;
use std::rc::Rc;

use eddy_vm::objects::module::Module;
use eddy_vm::{PyResult, Value, Vm};

use super::{classes, events, reactor};
use crate::threading::sched::{self, Wake};

/// While script threads exist and the loop has nothing ready: let them run until `deadline`
/// (a `reactor::now()` value), a woken native future, or a callback they scheduled.
pub fn wait(vm: &mut Vm, deadline: Option<f64>) -> PyResult<()> {
    if !sched::has_threads() && !sched::has_external() {
        return reactor::wait(vm, deadline);
    }
    let core = events::running();
    let failed: Rc<Cell<Option<Value>>> = Rc::new(Cell::new(None));
    let seen = failed.clone();
    let ready = move || {
        let err = seen.take();
        let failed_now = err.is_some();
        seen.set(err);
        failed_now || reactor::any_woken() || core.as_ref().is_some_and(|c| c.has_ready())
    };
    sched::wait_main(vm, Wake::when(deadline, ready), &mut |vm, d| {
        // Work outside the VM (a process pool) wakes the scheduler's notifier, not the
        // reactor: look again every millisecond while some is pending.
        let d = match (d, sched::has_external()) {
            (Some(d), true) => Some(d.min(reactor::now() + 0.001)),
            (None, true) => Some(reactor::now() + 0.001),
            (d, false) => d,
        };
        if d.is_none() && !reactor::has_pending() {
            sched::idle_wait(vm, None);
            return;
        }
        if let Err(e) = reactor::wait(vm, d) {
            failed.set(Some(e));
        }
    });
    if let Some(e) = failed.take() {
        return Err(e);
    }
    reactor::poll_woken(vm)?;
    Ok(())
}

/// At the end of `asyncio.run`: `loop.shutdown_default_executor()`, joining its threads.
/// Also closes the async generators still suspended first, as `Runner.close` runs
/// `shutdown_asyncgens` just before `shutdown_default_executor`.
pub fn shutdown_default(vm: &mut Vm, loop_obj: &Value) -> PyResult<()> {
    super::asyncgens::shutdown(vm)?;
    let Some(ex) = eddy_vm::attr::try_get_attr(vm, loop_obj, "_default_executor")? else {
        return Ok(());
    };
    if ex.is_none() {
        return Ok(());
    }
    eddy_vm::attr::set_attr(vm, loop_obj, &vm.intern("_default_executor"), Value::None)?;
    vm.call_method(&ex, "shutdown", vec![Value::Bool(true)])?;
    Ok(())
}

pub fn install(vm: &mut Vm, m: &Module) {
    crate::util::def(vm, m, "_task_frames", task_frames);
}

/// `_task_frames(coro)`: (function, file, line, source) of the frame a suspended coroutine waits
/// in, then of each coroutine it awaits.
fn task_frames(_vm: &mut Vm, a: eddy_vm::Args) -> PyResult<Value> {
    let coro = a.pos.first().cloned().unwrap_or(Value::None);
    let frames = super::tasktree::await_chain(&coro)
        .into_iter()
        .filter(|f| f.line != 0)
        .map(|f| {
            Value::tuple(vec![
                Value::string(f.func),
                Value::string(f.file),
                Value::Int(f.line as i64),
                Value::string(f.source),
            ])
        })
        .collect();
    Ok(Value::list(frames))
}

/// After `PY` ran: the loop's methods written in Python join its class.
pub fn export(vm: &Vm, m: &Module) {
    let cls = &classes().event_loop;
    for (name, py) in [
        ("run_in_executor", "_loop_run_in_executor"),
        ("set_default_executor", "_loop_set_default_executor"),
        (
            "shutdown_default_executor",
            "_loop_shutdown_default_executor",
        ),
        ("get_debug", "_loop_get_debug"),
        ("set_debug", "_loop_set_debug"),
    ] {
        if let Some(f) = m.get(py) {
            cls.set_attr(vm.intern(name), f);
        }
    }
    for (name, py) in [
        ("get_stack", "_task_get_stack"),
        ("print_stack", "_task_print_stack"),
    ] {
        if let Some(f) = m.get(py) {
            classes().task.set_attr(vm.intern(name), f);
        }
    }
    // One OS thread runs every script thread, so scheduling from a thread is scheduling.
    if let Some(f) = cls.lookup("call_soon") {
        cls.set_attr(vm.intern("call_soon_threadsafe"), f);
    }
}

pub const PY: &str = r#"
def wrap_future(future, *, loop=None):
    if isfuture(future):
        return future
    if loop is None:
        loop = get_event_loop()
    fut = loop.create_future()

    def _copy(cf):
        if fut.done():
            return
        if cf.cancelled():
            fut.cancel()
            return
        exc = cf.exception()
        if exc is not None:
            fut.set_exception(exc)
        else:
            fut.set_result(cf.result())

    def _call_check_cancel(destination):
        if destination.cancelled():
            future.cancel()

    fut.add_done_callback(_call_check_cancel)
    future.add_done_callback(lambda cf: loop.call_soon_threadsafe(_copy, cf))
    return fut


def _loop_run_in_executor(self, executor, func, *args):
    if executor is None:
        executor = getattr(self, "_default_executor", None)
        if executor is None:
            from concurrent.futures import ThreadPoolExecutor
            executor = ThreadPoolExecutor(thread_name_prefix="asyncio")
            self._default_executor = executor
    return wrap_future(executor.submit(func, *args), loop=self)


def _loop_set_default_executor(self, executor):
    from concurrent.futures import ThreadPoolExecutor
    if not isinstance(executor, ThreadPoolExecutor):
        raise TypeError("executor must be ThreadPoolExecutor")
    self._default_executor = executor


async def _loop_shutdown_default_executor(self):
    executor = getattr(self, "_default_executor", None)
    if executor is None:
        return
    self._default_executor = None
    executor.shutdown(wait=True)


def _loop_get_debug(self):
    return getattr(self, "_debug", False)


def _loop_set_debug(self, enabled):
    self._debug = bool(enabled)


class _StackCode:
    def __init__(self, name, filename):
        self.co_name = name.rpartition(".")[2]
        self.co_qualname = name
        self.co_filename = filename


class _StackFrame:
    def __init__(self, name, filename, lineno, line):
        self.f_code = _StackCode(name, filename)
        self.f_lineno = lineno
        self.f_back = None
        self._line = line

    def __repr__(self):
        return (f"<frame at {id(self):#x}, file '{self.f_code.co_filename}', "
                f"line {self.f_lineno}, code {self.f_code.co_name}>")


def _task_get_stack(self, *, limit=None):
    if self.done():
        return []
    # As CPython: the task's own coroutine frame (a suspended frame has no f_back).
    frames = [_StackFrame(*f) for f in _task_frames(self.get_coro())[:1]]
    if limit is not None:
        frames = frames[:max(limit, 0)]
    return frames


def _task_print_stack(self, *, limit=None, file=None):
    import sys
    if file is None:
        file = sys.stderr
    frames = _task_get_stack(self, limit=limit)
    if not frames:
        print(f"No stack for {self!r}", file=file)
        return
    print(f"Stack for {self!r} (most recent call last):", file=file)
    for f in frames:
        print(f'  File "{f.f_code.co_filename}", line {f.f_lineno}, in {f.f_code.co_name}', file=file)
        if f._line:
            print(f"    {f._line}", file=file)


async def to_thread(func, /, *args, **kwargs):
    loop = get_running_loop()
    if kwargs:
        import functools
        return await loop.run_in_executor(None, functools.partial(func, *args, **kwargs))
    return await loop.run_in_executor(None, func, *args)
"#;
