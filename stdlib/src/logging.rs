//! `logging`: (not yet implemented).

use std::rc::Rc;

use eddy_vm::objects::module::Module;
use eddy_vm::{PyResult, Vm};

pub fn init(vm: &mut Vm) -> PyResult<Rc<Module>> {
    let _ = vm;
    Ok(Rc::new(Module::new("logging")))
}
