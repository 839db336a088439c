//! Closing async generators the way CPython's event loop does (its asyncgen hooks). An async
//! generator dropped while suspended inside a `try`/`with` is revived by the VM; after each
//! task step the loop schedules a callback that runs `aclose()` on it in a task (its `finally`
//! blocks may await). When `asyncio.run` ends, `shutdown` closes the ones still waiting and
//! every async generator iterated in the run that is still suspended (`shutdown_asyncgens`).

use std::cell::Cell;
use std::rc::Rc;

use eddy_vm::objects::generator::{self, Generator};
use eddy_vm::{Args, PyResult, Value, Vm};

use super::events::{self, Job, LoopCore};
use super::tasks;

thread_local! {
    /// A finalizing callback is already in the ready queue.
    static SCHEDULED: Cell<bool> = const { Cell::new(false) };
}

/// After a task step: if generators were dropped, schedule the callback closing them.
pub fn after_step(vm: &mut Vm, core: &LoopCore) {
    if !generator::has_dropped_async_gens() || SCHEDULED.with(|s| s.get()) {
        return;
    }
    SCHEDULED.with(|s| s.set(true));
    let cb = vm.native("_asyncgen_finalizer_hook", finalize_dropped);
    core.push(Job::call(cb, vec![], Rc::new(Cell::new(false))));
}

/// The scheduled callback: an `aclose()` task for each dropped generator.
fn finalize_dropped(vm: &mut Vm, _a: Args) -> PyResult<Value> {
    SCHEDULED.with(|s| s.set(false));
    for g in generator::take_dropped_async_gens() {
        aclose_task(vm, g)?;
    }
    Ok(Value::None)
}

fn aclose_task(vm: &mut Vm, g: Rc<Generator>) -> PyResult<Value> {
    let gen = eddy_vm::gc::track_generator(g);
    let aw = vm.call_method(&gen, "aclose", vec![])?;
    tasks::ensure_future(vm, &aw)
}

/// `loop.shutdown_asyncgens()` at the end of `asyncio.run`: close every async generator still
/// suspended, running the loop until their `aclose()` tasks finish. Errors are not raised
/// (CPython reports them through the loop's exception handler).
pub fn shutdown(vm: &mut Vm) -> PyResult<()> {
    let Some(core) = events::running() else {
        return Ok(());
    };
    let mut gens = generator::take_dropped_async_gens();
    gens.extend(generator::take_started_async_gens());
    if gens.is_empty() {
        return Ok(());
    }
    let mut closing = Vec::with_capacity(gens.len());
    for g in gens {
        closing.push(aclose_task(vm, g)?);
    }
    let gather = match vm.modules.get("asyncio").cloned() {
        Some(m) => eddy_vm::attr::get_attr(vm, &m, "gather")?,
        None => return Ok(()),
    };
    let mut args = Args::new(closing);
    args.kw
        .push((vm.intern("return_exceptions"), Value::Bool(true)));
    let all = vm.call_args(&gather, args)?;
    events::run_until_complete(vm, &core, &all)?;
    Ok(())
}
