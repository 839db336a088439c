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
            let r = throw(vm, &g, exc);
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

/// The iterator a generator suspended inside `yield from` delegates to: the frame is about to
/// run the loop's `Jump` back to `Send`, with the sub-iterator on top of its saved stack.
fn yield_from_target(g: &Generator) -> Option<Value> {
    use crate::opcode::Instr;
    let inner = g.inner.borrow();
    let frame = inner.frame.as_ref()?;
    let Some(Instr::Jump(l)) = frame.code.instrs.get(frame.ip) else { return None };
    if !matches!(frame.code.instrs.get(*l as usize), Some(Instr::Send(_))) {
        return None;
    }
    inner.saved.last().cloned()
}

/// Ends the `yield from` a suspended generator is in with `value` as its result, and runs the
/// generator on to its next yield or return.
fn finish_yield_from(vm: &mut Vm, g: &Rc<Generator>, value: Value) -> PyResult<Result<Value, Value>> {
    use crate::opcode::Instr;
    {
        let mut inner = g.inner.borrow_mut();
        let exit = match inner.frame.as_ref().and_then(|f| f.code.instrs.get(f.ip).copied()) {
            Some(Instr::Jump(l)) => match inner.frame.as_ref().and_then(|f| f.code.instrs.get(l as usize).copied()) {
                Some(Instr::Send(t)) => t as usize,
                _ => return Err(vm.error("SystemError", "generator is not in yield from")),
            },
            _ => return Err(vm.error("SystemError", "generator is not in yield from")),
        };
        inner.saved.pop();
        if let Some(f) = inner.frame.as_mut() {
            f.ip = exit;
        }
    }
    vm.gen_send(g, value)
}

/// `gen.throw(exc)`, delegating to the iterator of a `yield from` the generator is suspended
/// in, as CPython does: the sub-iterator sees the exception first; if it returns, that value
/// ends the `yield from`; if it raises, the exception continues in this generator.
pub fn throw(vm: &mut Vm, g: &Rc<Generator>, exc: Value) -> PyResult<Result<Value, Value>> {
    let Some(sub) = (if g.state() == GenState::Suspended { yield_from_target(g) } else { None }) else {
        return vm.gen_throw(g, exc);
    };
    let mut exc = exc;
    if vm.exc_matches(&exc, "GeneratorExit") {
        // Close the sub-iterator, then raise GeneratorExit (or what closing raised) here.
        let closed = match &sub {
            Value::Generator(sg) => close(vm, sg),
            other => match crate::attr::try_get_attr(vm, other, "close")? {
                Some(m) => vm.call(&m, vec![]).map(|_| ()),
                None => Ok(()),
            },
        };
        if let Err(e) = closed {
            exc = e;
        }
        return vm.gen_throw(g, exc);
    }
    let r = match &sub {
        Value::Generator(sg) => throw(vm, sg, exc.clone()),
        other => match crate::attr::try_get_attr(vm, other, "throw")? {
            Some(m) => match vm.call(&m, vec![exc.clone()]) {
                Ok(v) => Ok(Ok(v)),
                Err(e) if vm.exc_matches(&e, "StopIteration") => {
                    let v = crate::attr::get_attr(vm, &e, "value")?;
                    Ok(Err(v))
                }
                Err(e) => Err(e),
            },
            None => return vm.gen_throw(g, exc),
        },
    };
    match r {
        Ok(Ok(v)) => Ok(Ok(v)),
        Ok(Err(ret)) => finish_yield_from(vm, g, ret),
        Err(e) => vm.gen_throw(g, e),
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
    match throw(vm, g, exit) {
        Ok(Ok(_)) => Err(vm.error("RuntimeError", "generator ignored GeneratorExit")),
        Ok(Err(_)) => Ok(()),
        Err(e) if vm.exc_matches(&e, "GeneratorExit") || vm.exc_matches(&e, "StopIteration") => Ok(()),
        Err(e) => Err(e),
    }
}
