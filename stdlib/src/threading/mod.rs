//! `threading` (and the `_thread` names it is built on): script threads with CPython's observable
//! GIL semantics. The scheduler (sched.rs) runs green threads on the VM's OS thread and switches
//! them when one blocks or its time slice ends (preempt.rs); the native locks are in locks.rs
//! and the rest of the module is CPython's Python, ported (py.rs). See ARCHITECTURE.md (Threads).

use std::rc::Rc;

use eddy_vm::objects::module::Module;
use eddy_vm::{Args, PyResult, Value, Vm};

use crate::util;

pub mod locks;
pub mod preempt;
mod py;
pub mod sched;

pub fn init(vm: &mut Vm) -> PyResult<Rc<Module>> {
    let m = Rc::new(Module::new("threading"));
    let lock = locks::lock_class(vm);
    let rlock = locks::rlock_class(vm);
    m.set("LockType", Value::Class(lock.clone()));
    m.set("_RLock", Value::Class(rlock));
    m.set(
        "_allocate_lock",
        vm.native_with(
            "allocate_lock",
            |vm, a| vm.call(&a.pos[0], vec![]),
            Value::Class(lock),
        ),
    );
    util::defs(
        vm,
        &m,
        &[
            ("get_ident", |_vm, _a| {
                Ok(Value::Int(sched::current() as i64))
            }),
            ("get_native_id", |_vm, _a| {
                Ok(Value::Int(sched::current() as i64))
            }),
            ("_start", start),
            ("_print_exception", print_exception),
            ("getswitchinterval", |_vm, _a| {
                Ok(Value::Float(sched::switch_interval().as_secs_f64()))
            }),
        ],
    );
    let code = eddy_vm::import::compile_source(vm, "<threading>", py::PY)?;
    vm.run_module_code(code, m.clone())?;
    Ok(m)
}

/// `_start(func)`: a new thread calling `func()`; returns its ident.
fn start(vm: &mut Vm, a: Args) -> PyResult<Value> {
    util::arity(vm, "_start", &a, 1, 1)?;
    let id = sched::spawn(vm, a.pos[0].clone()).map_err(|msg| vm.error("RuntimeError", msg))?;
    Ok(Value::Int(id as i64))
}

/// `_print_exception(header, exc)`: the report of an exception that ended a thread.
fn print_exception(vm: &mut Vm, a: Args) -> PyResult<Value> {
    util::arity(vm, "_print_exception", &a, 2, 2)?;
    let header = eddy_vm::ops::to_str(vm, &a.pos[0])?;
    let text = eddy_vm::traceback::format_exception(vm, &a.pos[1]);
    vm.flush();
    vm.write_stderr(&format!("{header}{text}"));
    Ok(Value::None)
}

/// `time.sleep(secs)` while other threads exist: block this thread only. False when there are
/// no other threads (the caller sleeps for real).
pub fn sleep(vm: &mut Vm, secs: f64) -> bool {
    if !sched::has_threads() {
        return false;
    }
    vm.flush();
    let deadline = crate::clock::monotonic() + secs;
    while crate::clock::monotonic() < deadline {
        sched::block(vm, sched::Wake::at(deadline));
    }
    true
}

/// At interpreter exit: join every non-daemon thread, as CPython's `threading._shutdown`.
pub fn shutdown(vm: &mut Vm) -> PyResult<()> {
    let Some(Value::Module(m)) = vm.modules.get("threading").cloned() else {
        return Ok(());
    };
    if let Some(f) = m.get("_shutdown") {
        vm.call(&f, vec![])?;
    }
    Ok(())
}
