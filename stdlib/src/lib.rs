//! Eddy's standard library: the built-in modules (math, json, sys, time, ...), written in Rust.
//! Each module is one file; `install` registers them with a VM so `import` finds them.

use eddy_vm::Vm;

pub mod sys;

pub fn install(vm: &mut Vm) {
    vm.native_modules.insert("sys".into(), sys::init);
}
