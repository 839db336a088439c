//! Methods of generators and coroutines: send, throw, close, and the iterator protocol.

use std::rc::Rc;

use crate::objects::function::Args;
use crate::objects::generator::{GenState, Generator};
use crate::value::Value;
use crate::vm::Vm;
use crate::PyResult;

pub fn install(vm: &mut Vm) {
    install_async_generator(vm);
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
            let exc = a
                .pos
                .get(1)
                .cloned()
                .ok_or_else(|| vm.type_error("throw expected at least 1 argument, got 0"))?;
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
        if g.kind() == crate::objects::generator::GenKind::Coroutine {
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
    let Some(Instr::Jump(l)) = g.code.instrs.get(inner.suspended_ip()?) else {
        return None;
    };
    if !matches!(g.code.instrs.get(*l as usize), Some(Instr::Send(_))) {
        return None;
    }
    inner.saved.last().cloned()
}

/// Ends the `yield from` a suspended generator is in with `value` as its result, and runs the
/// generator on to its next yield or return.
fn finish_yield_from(
    vm: &mut Vm,
    g: &Rc<Generator>,
    value: Value,
) -> PyResult<Result<Value, Value>> {
    use crate::opcode::Instr;
    {
        let mut inner = g.inner.borrow_mut();
        let at = |ip: usize| g.code.instrs.get(ip).copied();
        let exit = match inner.suspended_ip().and_then(at) {
            Some(Instr::Jump(l)) => match inner.suspended_ip().and(at(l as usize)) {
                Some(Instr::Send(t)) => t as usize,
                _ => return Err(vm.error("SystemError", "generator is not in yield from")),
            },
            _ => return Err(vm.error("SystemError", "generator is not in yield from")),
        };
        inner.saved.pop();
        inner.ip = exit as u32;
    }
    vm.gen_send(g, value)
}

/// `gen.throw(exc)`, delegating to the iterator of a `yield from` the generator is suspended
/// in, as CPython does: the sub-iterator sees the exception first; if it returns, that value
/// ends the `yield from`; if it raises, the exception continues in this generator.
pub fn throw(vm: &mut Vm, g: &Rc<Generator>, exc: Value) -> PyResult<Result<Value, Value>> {
    let Some(sub) = (if g.state() == GenState::Suspended {
        yield_from_target(g)
    } else {
        None
    }) else {
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
        Err(e) if vm.exc_matches(&e, "GeneratorExit") || vm.exc_matches(&e, "StopIteration") => {
            Ok(())
        }
        Err(e) => Err(e),
    }
}

// ---- async generators (PEP 525) ----
//
// `agen.__anext__()`, `asend(v)`, `athrow(e)` and `aclose()` return an awaitable that resumes the
// generator when awaited. The generator's own `yield x` produces a *wrapped* x (AsyncGenWrap); a
// wrapped value ends the awaitable with StopIteration(x), while anything else the generator yields
// came from an `await` inside it and is passed up to the event loop unchanged.

use crate::objects::class::{BuiltinKind, Class, Instance, Payload};
use crate::value::StrKey;
use std::cell::RefCell;

thread_local! {
    static WRAPPED: RefCell<Option<Rc<Class>>> = const { RefCell::new(None) };
    static ASEND: RefCell<Option<Rc<Class>>> = const { RefCell::new(None) };
}

fn wrapped_class() -> Rc<Class> {
    WRAPPED.with(|w| {
        w.borrow_mut()
            .get_or_insert_with(|| {
                crate::types::new_class(
                    "async_generator_wrapped_value",
                    vec![],
                    BuiltinKind::Object,
                    false,
                )
            })
            .clone()
    })
}

/// Wraps a value yielded by an async generator's own `yield`.
pub fn wrap_async_gen_value(_vm: &mut Vm, v: Value) -> Value {
    let inst = Instance {
        class: wrapped_class(),
        dict: crate::objects::class::InstDict::default(),
        payload: Payload::Value(RefCell::new(v)),
    };
    Value::Instance(Rc::new(inst))
}

fn unwrap_async_gen_value(v: &Value) -> Option<Value> {
    match v {
        Value::Instance(i) if Rc::ptr_eq(&i.class, &wrapped_class()) => match &i.payload {
            Payload::Value(x) => Some(x.borrow().clone()),
            _ => None,
        },
        _ => None,
    }
}

/// What an asend/athrow/aclose awaitable does on its first step.
#[derive(Clone, Copy, PartialEq)]
enum Op {
    Send,
    Throw,
    Close,
}

fn asend_class(vm: &mut Vm) -> Rc<Class> {
    if let Some(c) = ASEND.with(|a| a.borrow().clone()) {
        return c;
    }
    let c = crate::types::new_class(
        "async_generator_asend",
        vec![vm.types.object.clone()],
        BuiltinKind::Object,
        false,
    );
    vm.add_method(&c, "__await__", |_vm, a| Ok(a.pos[0].clone()));
    vm.add_method(&c, "__iter__", |_vm, a| Ok(a.pos[0].clone()));
    vm.add_method(&c, "__next__", |vm, a| {
        asend_step(vm, &a.pos[0], Value::None, None)
    });
    vm.add_method(&c, "send", |vm, a| {
        asend_step(
            vm,
            &a.pos[0],
            a.pos.get(1).cloned().unwrap_or(Value::None),
            None,
        )
    });
    vm.add_method(&c, "throw", |vm, a| {
        let exc = a
            .pos
            .get(1)
            .cloned()
            .ok_or_else(|| vm.type_error("throw expected at least 1 argument, got 0"))?;
        let exc = crate::ops::make_exception(vm, exc)?;
        asend_step(vm, &a.pos[0], Value::None, Some(exc))
    });
    vm.add_method(&c, "close", |vm, a| {
        set_field(&a.pos[0], "__state", Value::Int(2));
        let _ = vm;
        Ok(Value::None)
    });
    ASEND.with(|a| *a.borrow_mut() = Some(c.clone()));
    c
}

fn field(obj: &Value, name: &str) -> Value {
    match obj {
        Value::Instance(i) => i.dict.borrow().get(name).cloned().unwrap_or(Value::None),
        _ => Value::None,
    }
}

fn set_field(obj: &Value, name: &str, v: Value) {
    if let Value::Instance(i) = obj {
        i.dict
            .borrow_mut()
            .insert(StrKey(Rc::new(crate::value::PyStr::new(name))), v);
    }
}

fn new_asend(vm: &mut Vm, gen: Value, op: Op, arg: Value) -> Value {
    let cls = asend_class(vm);
    let inst = Value::Instance(Rc::new(Instance {
        class: cls,
        dict: crate::objects::class::InstDict::default(),
        payload: Payload::None,
    }));
    set_field(&inst, "__gen", gen);
    set_field(&inst, "__op", Value::Int(op as i64));
    set_field(&inst, "__arg", arg);
    // 0 not started, 1 running, 2 done.
    set_field(&inst, "__state", Value::Int(0));
    inst
}

/// One step of an asend/athrow/aclose awaitable (see the section comment).
fn asend_step(vm: &mut Vm, this: &Value, sent: Value, thrown: Option<Value>) -> PyResult<Value> {
    let Value::Generator(g) = field(this, "__gen") else {
        return Err(vm.type_error("bad async generator awaitable"));
    };
    let op = match field(this, "__op") {
        Value::Int(1) => Op::Throw,
        Value::Int(2) => Op::Close,
        _ => Op::Send,
    };
    let state = field(this, "__state");
    if matches!(state, Value::Int(2)) {
        return Err(vm.error(
            "RuntimeError",
            "cannot reuse already awaited __anext__()/asend()",
        ));
    }
    let first = matches!(state, Value::Int(0));
    set_field(this, "__state", Value::Int(1));
    if g.state() == GenState::Created {
        crate::objects::generator::note_async_gen_started(&g);
    }
    if first && g.state() == GenState::Finished {
        set_field(this, "__state", Value::Int(2));
        return match op {
            Op::Close => Err(vm.stop_iteration(Value::None)),
            _ => Err(vm.error("StopAsyncIteration", ""))
                .map_err(|_| vm.new_exception(&vm.exc_class("StopAsyncIteration"), vec![])),
        };
    }
    let result = if let Some(exc) = thrown {
        vm.gen_throw(&g, exc)
    } else if first && op != Op::Send {
        let exc = if op == Op::Close {
            vm.new_exception(&vm.exc_class("GeneratorExit"), vec![])
        } else {
            field(this, "__arg")
        };
        if g.state() == GenState::Created {
            g.inner.borrow_mut().state = GenState::Finished;
            set_field(this, "__state", Value::Int(2));
            return if op == Op::Close {
                Err(vm.stop_iteration(Value::None))
            } else {
                Err(exc)
            };
        }
        vm.gen_throw(&g, exc)
    } else {
        let v = if first { field(this, "__arg") } else { sent };
        vm.gen_send(&g, v)
    };
    match result {
        Ok(Ok(y)) => match unwrap_async_gen_value(&y) {
            Some(v) => {
                set_field(this, "__state", Value::Int(2));
                if op == Op::Close {
                    return Err(vm.error("RuntimeError", "async generator ignored GeneratorExit"));
                }
                Err(vm.stop_iteration(v))
            }
            // An await inside the generator: hand its value up to the loop.
            None => Ok(y),
        },
        Ok(Err(_)) => {
            set_field(this, "__state", Value::Int(2));
            if op == Op::Close {
                return Err(vm.stop_iteration(Value::None));
            }
            Err(vm.new_exception(&vm.exc_class("StopAsyncIteration"), vec![]))
        }
        Err(e) => {
            set_field(this, "__state", Value::Int(2));
            if op == Op::Close
                && (vm.exc_matches(&e, "GeneratorExit") || vm.exc_matches(&e, "StopAsyncIteration"))
            {
                return Err(vm.stop_iteration(Value::None));
            }
            Err(e)
        }
    }
}

pub fn install_async_generator(vm: &mut Vm) {
    let c = vm.types.async_generator.clone();
    vm.add_method(&c, "__aiter__", |_vm, a| Ok(a.pos[0].clone()));
    vm.add_method(&c, "__anext__", |vm, a| {
        Ok(new_asend(vm, a.pos[0].clone(), Op::Send, Value::None))
    });
    vm.add_method(&c, "asend", |vm, a| {
        Ok(new_asend(
            vm,
            a.pos[0].clone(),
            Op::Send,
            a.pos.get(1).cloned().unwrap_or(Value::None),
        ))
    });
    vm.add_method(&c, "athrow", |vm, a| {
        let exc = a
            .pos
            .get(1)
            .cloned()
            .ok_or_else(|| vm.type_error("athrow expected at least 1 argument, got 0"))?;
        let exc = match (&exc, a.pos.get(2)) {
            (Value::Class(_), Some(v)) if !v.is_none() => vm.call(&exc, vec![v.clone()])?,
            _ => crate::ops::make_exception(vm, exc)?,
        };
        Ok(new_asend(vm, a.pos[0].clone(), Op::Throw, exc))
    });
    vm.add_method(&c, "aclose", |vm, a| {
        Ok(new_asend(vm, a.pos[0].clone(), Op::Close, Value::None))
    });
}
