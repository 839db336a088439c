//! Methods of the built-in list type(s).

use crate::vm::Vm;

pub fn install(vm: &mut Vm) {
    let _ = vm;
}
