//! `concurrent.futures`: Future, wait, as_completed and ThreadPoolExecutor (CPython's Python,
//! ported, in base_py.rs), and ProcessPoolExecutor, whose workers are separate VMs on their own
//! OS threads that start from a copy of the parent's `__main__` (process.rs, portable.rs).

use std::rc::Rc;

use eddy_vm::objects::module::Module;
use eddy_vm::{PyResult, Value, Vm};

use crate::util;

mod base_py;
pub mod portable;
mod process;

/// The `concurrent` package: only its `futures` submodule.
pub fn init(vm: &mut Vm) -> PyResult<Rc<Module>> {
    let m = Rc::new(Module::new("concurrent"));
    let futures = eddy_vm::import::import_module(vm, "concurrent.futures")?;
    m.set("futures", futures);
    Ok(m)
}

/// `concurrent.futures`.
pub fn init_futures(vm: &mut Vm) -> PyResult<Rc<Module>> {
    let m = Rc::new(Module::new("concurrent.futures"));
    util::def(vm, &m, "_cpu_count", |_vm, _a| {
        Ok(Value::Int(cpu_count() as i64))
    });
    process::install(vm, &m);
    for (file, src) in [
        ("<concurrent.futures>", base_py::PY),
        ("<concurrent.futures.process>", process::PY),
    ] {
        let code = eddy_vm::import::compile_source(vm, file, src)?;
        vm.run_module_code(code, m.clone())?;
    }
    Ok(m)
}

/// The number of CPUs this process may use.
pub fn cpu_count() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
}
