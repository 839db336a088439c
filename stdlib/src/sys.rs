//! `sys`: argv, exit, stdout/stderr writers, recursion limit.

use std::rc::Rc;

use eddy_vm::objects::module::Module;
use eddy_vm::{Args, PyResult, Value, Vm};

pub fn init(vm: &mut Vm) -> PyResult<Rc<Module>> {
    let m = Rc::new(Module::new("sys"));
    m.set(
        "argv",
        Value::list(vm.argv.iter().map(|a| Value::str(a)).collect()),
    );
    m.set(
        "exit",
        vm.native("exit", |vm, a: Args| {
            let code = a.pos.first().cloned().unwrap_or(Value::None);
            let cls = vm.exc_class("SystemExit");
            let args = if code.is_none() && a.pos.is_empty() {
                vec![]
            } else {
                vec![code]
            };
            Err(vm.new_exception(&cls, args))
        }),
    );
    m.set(
        "getrecursionlimit",
        vm.native("getrecursionlimit", |vm, _a| {
            Ok(Value::Int(vm.recursion_limit as i64))
        }),
    );
    m.set(
        "setrecursionlimit",
        vm.native("setrecursionlimit", |vm, a| {
            if let Some(Value::Int(n)) = a.pos.first() {
                vm.recursion_limit = (*n).max(1) as usize;
            }
            Ok(Value::None)
        }),
    );
    m.set("maxsize", Value::Int(i64::MAX));
    m.set("platform", Value::str("linux"));
    m.set("version", Value::str("3.11.7 (eddy)"));
    m.set("modules", vm.new_dict());
    Ok(m)
}
