//! `loop.run_in_executor(None, f, *args)` and `asyncio.to_thread`. The VM is single-threaded
//! (`!Send`), so only native functions known to be thread-safe leave the loop thread: today
//! `time.sleep`, whose argument is plain data, runs on smol's `blocking` pool (in virtual time it
//! becomes a timer). Any other function — every script function — runs on the loop thread as a
//! callback when its turn comes, its result or exception delivered through the future as CPython
//! delivers a worker's. While such a job is inside `time.sleep`, the loop keeps running other
//! callbacks until the sleep is over (a nested run of the loop), which is what CPython's GIL
//! release gives a blocked worker thread; nested sleeps finish innermost first.

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use eddy_vm::objects::module::Module;
use eddy_vm::{Args, PyResult, Value, Vm};

use super::events::{self, Job};
use super::reactor::{self, Completion};
use super::streams::settle;
use super::{classes, futures};
use crate::{clock, util};

thread_local! {
    /// How many executor jobs are running on the loop thread right now (not counting those
    /// suspended in a nested run of the loop).
    static DEPTH: Cell<u32> = const { Cell::new(0) };
}

/// `time.sleep(secs)` called from an executor job on the loop thread: run the loop until the
/// deadline instead of blocking it. None when not inside a job (a real sleep is due).
pub fn sleep_in_job(vm: &mut Vm, secs: f64) -> Option<PyResult<()>> {
    if DEPTH.with(|d| d.get()) == 0 {
        return None;
    }
    let core = events::running()?;
    let deadline = reactor::now() + secs;
    let saved = DEPTH.with(|d| d.replace(0));
    let r = (|| {
        while reactor::now() < deadline {
            core.run_once_until(vm, Some(deadline))?;
        }
        Ok(())
    })();
    DEPTH.with(|d| d.set(saved));
    Some(r)
}

/// The seconds of a `time.sleep(secs)` call that may run off the loop thread.
fn offloadable_sleep(func: &Value, args: &[Value]) -> Option<f64> {
    let Value::Native(nf) = func else {
        return None;
    };
    if nf.func as usize != crate::time::sleep as eddy_vm::objects::function::NativeFn as usize {
        return None;
    }
    match args {
        [Value::Int(n)] if *n >= 0 => Some(*n as f64),
        [Value::Float(f)] if f.is_finite() && *f >= 0.0 && *f <= 1e9 => Some(*f),
        _ => None,
    }
}

/// `_run_in_executor(func, args)`: a future of `func(*args)`.
fn run_in_executor(vm: &mut Vm, a: Args) -> PyResult<Value> {
    util::arity(vm, "_run_in_executor", &a, 2, 2)?;
    let core = events::running_or_err(vm)?;
    let func = a.pos[0].clone();
    let args = eddy_vm::ops::collect(vm, &a.pos[1])?;
    let fut = futures::new_future();
    if let Some(secs) = offloadable_sleep(&func, &args) {
        if clock::is_virtual() {
            let job = Job::Call(
                vm.native("_executor_done", |vm, a| {
                    settle(vm, &a.pos[0], Ok(Value::None))?;
                    Ok(Value::None)
                }),
                vec![fut.clone()],
                Rc::new(Cell::new(false)),
            );
            core.push_timer(reactor::now() + secs, job);
            return Ok(fut);
        }
        let target = fut.clone();
        vm.flush();
        reactor::spawn(async move {
            blocking::unblock(move || std::thread::sleep(Duration::from_secs_f64(secs))).await;
            let c: Completion = Box::new(move |vm: &mut Vm| settle(vm, &target, Ok(Value::None)));
            c
        });
        return Ok(fut);
    }
    let job = vm.native("_executor_job", executor_job);
    let mut call = vec![fut.clone(), func];
    call.extend(args);
    core.push(Job::Call(job, call, Rc::new(Cell::new(false))));
    Ok(fut)
}

/// Runs one job on the loop thread: `(future, func, *args)`.
fn executor_job(vm: &mut Vm, mut a: Args) -> PyResult<Value> {
    let fut = a.pos.remove(0);
    let func = a.pos.remove(0);
    // Runs even if the future was cancelled meanwhile: CPython's idle pool thread would have
    // picked the job up at once, and cancelling the asyncio future does not stop it.
    DEPTH.with(|d| d.set(d.get() + 1));
    let r = vm.call(&func, a.pos);
    DEPTH.with(|d| d.set(d.get() - 1));
    settle(vm, &fut, r)?;
    Ok(Value::None)
}

pub fn install(vm: &mut Vm, m: &Module) {
    util::def(vm, m, "_run_in_executor", run_in_executor);
}

/// After `PY` ran: the loop's `run_in_executor` method is its `_loop_run_in_executor`.
pub fn export(vm: &Vm, m: &Module) {
    if let Some(f) = m.get("_loop_run_in_executor") {
        classes()
            .event_loop
            .set_attr(vm.intern("run_in_executor"), f);
    }
}

pub const PY: &str = r#"
def _loop_run_in_executor(self, executor, func, *args):
    if executor is None:
        return _run_in_executor(func, args)
    submitted = executor.submit(func, *args)
    if isfuture(submitted):
        return submitted
    fut = self.create_future()

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

    submitted.add_done_callback(lambda cf: self.call_soon(_copy, cf))
    return fut


async def to_thread(func, /, *args, **kwargs):
    loop = get_running_loop()
    if kwargs:
        import functools
        return await loop.run_in_executor(None, functools.partial(func, *args, **kwargs))
    return await loop.run_in_executor(None, func, *args)
"#;
