//! Methods of generators and coroutines: send, throw, close, and the iterator protocol.

use std::rc::Rc;

use crate::objects::function::Args;
use crate::objects::generator::{GenState, Generator};
use crate::value::Value;
use crate::vm::Vm;
use crate::PyResult;

pub fn install(vm: &mut Vm) {
    for class in [vm.types.generator.clone(), vm.types.coroutine.clone()] {
        vm.add_method(&class, "send", |vm, a| {
            let g = receiver(vm, &a)?;
            let v = a.pos.get(1).cloned().unwrap_or(Value::None);
            let r = vm_send(vm, &g, v);
            finish(vm, r)
        });
        vm.add_method(&class, "__next__", |vm, a| {
            let g = receiver(vm, &a)?;
            let r = vm_send(vm, &g, Value::None);
            finish(vm, r)
        });
        vm.add_method(&class, "__iter__", |_vm, a| Ok(a.pos[0].clone()));
        vm.add_method(&class, "throw", |vm, a| {
            let g = receiver(vm, &a)?;
            let exc = a.pos.get(1).cloned().ok_or_else(|| vm.type_error("throw expected at least 1 argument, got 0"))?;
            let exc = match (&exc, a.pos.get(2)) {
                (Value::Class(_), Some(v)) if !v.is_none() => {
                    let v = v.clone();
                    if let Value::Instance(_) = v {
                        v
                    } else {
                        vm.call(&exc, vec![v])?
                    }
                }
                _ => crate::ops::make_exception(vm, exc)?,
            };
            let r = vm.gen_throw(&g, exc);
            finish(vm, r)
        });
        vm.add_method(&class, "close", |vm, a| {
            let g = receiver(vm, &a)?;
            close(vm, &g)?;
            Ok(Value::None)
        });
    }
}

fn receiver(vm: &Vm, a: &Args) -> PyResult<Rc<Generator>> {
    match a.pos.first() {
        Some(Value::Generator(g)) => Ok(g.clone()),
        _ => Err(vm.type_error("descriptor requires a 'generator' object")),
    }
}

fn vm_send(vm: &mut Vm, g: &Rc<Generator>, v: Value) -> PyResult<Result<Value, Value>> {
    if g.state() == GenState::Finished {
        if g.kind == crate::objects::generator::GenKind::Coroutine {
            return Err(vm.error("RuntimeError", "cannot reuse already awaited coroutine"));
        }
        return Ok(Err(Value::None));
    }
    vm.gen_send(g, v)
}

/// Yielded values come back; a return becomes StopIteration(value).
fn finish(vm: &mut Vm, r: PyResult<Result<Value, Value>>) -> PyResult<Value> {
    match r? {
        Ok(v) => Ok(v),
        Err(ret) => Err(vm.stop_iteration(ret)),
    }
}

/// `gen.close()`: raise GeneratorExit at the yield point; the generator must not yield again.
pub fn close(vm: &mut Vm, g: &Rc<Generator>) -> PyResult<()> {
    match g.state() {
        GenState::Created => {
            g.inner.borrow_mut().state = GenState::Finished;
            return Ok(());
        }
        GenState::Finished => return Ok(()),
        _ => {}
    }
    let exit = vm.new_exception(&vm.exc_class("GeneratorExit"), vec![]);
    match vm.gen_throw(g, exit) {
        Ok(Ok(_)) => Err(vm.error("RuntimeError", "generator ignored GeneratorExit")),
        Ok(Err(_)) => Ok(()),
        Err(e) if vm.exc_matches(&e, "GeneratorExit") || vm.exc_matches(&e, "StopIteration") => Ok(()),
        Err(e) => Err(e),
    }
}
