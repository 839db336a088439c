//! `interpreters`, in the spirit of PEP 734 (CPython 3.14's `concurrent.interpreters`): each
//! Interpreter is a separate VM on its own OS thread, so CPU work fans out to every core without
//! processes. An interpreter *is* a one-worker process pool (concurrent/process.rs): it starts
//! from a snapshot of its creator's `__main__`, and calls, results and exceptions cross as
//! portable values (concurrent/portable.rs). This module adds what pools lack: interpreter ids
//! (here), `Queue` (queue.rs) and the Python half: Interpreter, ExecutionFailed, `call_async`
//! (py.rs).

use std::cell::Cell;
use std::collections::BTreeSet;
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};

use eddy_vm::objects::module::Module;
use eddy_vm::{Args, PyResult, Value, Vm};

use crate::util;

mod py;
mod queue;

/// Interpreter ids: 0 is the main interpreter; created ones count up across the process.
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

fn live() -> &'static Mutex<BTreeSet<u64>> {
    static LIVE: OnceLock<Mutex<BTreeSet<u64>>> = OnceLock::new();
    LIVE.get_or_init(|| Mutex::new(BTreeSet::new()))
}

thread_local! {
    /// The id of the interpreter running on this OS thread (set by its worker's initializer).
    static CURRENT: Cell<u64> = const { Cell::new(0) };
}

pub fn init(vm: &mut Vm) -> PyResult<Rc<Module>> {
    let m = Rc::new(Module::new("interpreters"));
    queue::install(vm, &m);
    util::defs(
        vm,
        &m,
        &[
            ("_new_id", |_vm, _a| {
                let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
                if let Ok(mut l) = live().lock() {
                    l.insert(id);
                }
                Ok(Value::Int(id as i64))
            }),
            ("_forget", |vm, a| {
                util::arity(vm, "_forget", &a, 1, 1)?;
                let id = util::to_i64(vm, &a.pos[0])? as u64;
                if let Ok(mut l) = live().lock() {
                    l.remove(&id);
                }
                Ok(Value::None)
            }),
            ("_live", |_vm, _a| {
                let ids = live().lock().map(|l| l.clone()).unwrap_or_default();
                let ids = ids.into_iter().map(|i| Value::Int(i as i64));
                Ok(Value::list(ids.collect()))
            }),
            ("_current_id", |_vm, _a| {
                Ok(Value::Int(CURRENT.with(|c| c.get()) as i64))
            }),
            ("_set_id", |vm, a| {
                util::arity(vm, "_set_id", &a, 1, 1)?;
                let id = util::to_i64(vm, &a.pos[0])? as u64;
                CURRENT.with(|c| c.set(id));
                Ok(Value::None)
            }),
            ("_set_main", set_main),
        ],
    );
    let code = eddy_vm::import::compile_source(vm, "<interpreters>", py::PY)?;
    vm.run_module_code(code, m.clone())?;
    Ok(m)
}

/// An exception class of the `interpreters` module (QueueEmpty, QueueFull).
pub(crate) fn module_error(vm: &mut Vm, name: &str, msg: &str) -> Value {
    let cls = match vm.modules.get("interpreters") {
        Some(Value::Module(m)) => m.get(name),
        _ => None,
    };
    match cls {
        Some(c) => vm.call(&c, vec![Value::str(msg)]).unwrap_or_else(|e| e),
        None => vm.error("RuntimeError", msg.to_string()),
    }
}

/// `_set_main(ns)`: binds the names of dict `ns` in this interpreter's `__main__`
/// (`Interpreter.prepare_main`).
fn set_main(vm: &mut Vm, a: Args) -> PyResult<Value> {
    util::arity(vm, "_set_main", &a, 1, 1)?;
    let Some(Value::Module(main)) = vm.modules.get("__main__").cloned() else {
        return Err(vm.error("RuntimeError", "the interpreter has no __main__"));
    };
    for (k, v) in util::dict_items(&a.pos[0]).unwrap_or_default() {
        let Value::Str(k) = k else {
            return Err(vm.type_error("prepare_main() names must be strings"));
        };
        main.set(&k.s, v);
    }
    Ok(Value::None)
}
