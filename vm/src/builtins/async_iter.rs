//! The builtins `aiter(obj)` and `anext(it[, default])` (PEP 525's counterparts of iter/next).
//!
//! `anext(it)` is just `type(it).__anext__(it)`. With a default it returns an
//! `anext_awaitable`: a native awaitable that drives the awaitable `__anext__` returned and
//! turns its StopAsyncIteration into the default as the await's result.

use std::cell::RefCell;
use std::rc::Rc;

use super::check_args;
use crate::objects::class::{BuiltinKind, Class, InstDict, Instance, Payload};
use crate::objects::function::Args;
use crate::ops;
use crate::value::Value;
use crate::vm::Vm;
use crate::PyResult;

thread_local! {
    static ANEXT_AWAITABLE: RefCell<Option<Rc<Class>>> = const { RefCell::new(None) };
}

pub fn install(vm: &mut Vm) {
    let b = vm.builtins.clone();
    b.set("aiter", vm.native("aiter", aiter));
    b.set("anext", vm.native("anext", anext));
}

fn aiter(vm: &mut Vm, a: Args) -> PyResult<Value> {
    check_args(vm, "aiter", &a, 1, 1)?;
    let obj = a.pos[0].clone();
    let Some(f) = vm.type_of(&obj).lookup("__aiter__") else {
        return Err(vm.type_error(format!(
            "'{}' object is not an async iterable",
            vm.type_name(&obj)
        )));
    };
    let it = vm.call(&f, vec![obj])?;
    if vm.type_of(&it).lookup("__anext__").is_none() {
        return Err(vm.type_error(format!(
            "aiter() returned not an async iterator of type '{}'",
            vm.type_name(&it)
        )));
    }
    Ok(it)
}

fn anext(vm: &mut Vm, a: Args) -> PyResult<Value> {
    check_args(vm, "anext", &a, 1, 2)?;
    let it = a.pos[0].clone();
    let Some(f) = vm.type_of(&it).lookup("__anext__") else {
        return Err(vm.type_error(format!(
            "'{}' object is not an async iterator",
            vm.type_name(&it)
        )));
    };
    let awaitable = vm.call(&f, vec![it])?;
    let Some(default) = a.pos.get(1).cloned() else {
        return Ok(awaitable);
    };
    let inner = ops::get_awaitable(vm, awaitable)?;
    let state = Value::tuple(vec![inner, default]);
    Ok(Value::Instance(Rc::new(Instance {
        class: anext_class(vm),
        dict: InstDict::default(),
        payload: Payload::Value(RefCell::new(state)),
    })))
}

fn anext_class(vm: &mut Vm) -> Rc<Class> {
    if let Some(c) = ANEXT_AWAITABLE.with(|c| c.borrow().clone()) {
        return c;
    }
    let c = crate::types::new_class(
        "anext_awaitable",
        vec![vm.types.object.clone()],
        BuiltinKind::Object,
        false,
    );
    c.native_send
        .set(Some(|vm, this, sent| step(vm, this, Ok(sent))));
    c.native_throw
        .set(Some(|vm, this, exc| step(vm, this, Err(exc))));
    vm.add_method(&c, "__await__", |_vm, a| Ok(a.pos[0].clone()));
    ANEXT_AWAITABLE.with(|a| *a.borrow_mut() = Some(c.clone()));
    c
}

/// The awaited `__anext__()` and the default an `anext_awaitable` holds.
fn parts(this: &Value) -> Option<(Value, Value)> {
    let Value::Instance(i) = this else {
        return None;
    };
    let Payload::Value(v) = &i.payload else {
        return None;
    };
    match &*v.borrow() {
        Value::Tuple(t) if t.len() == 2 => Some((t[0].clone(), t[1].clone())),
        _ => None,
    }
}

/// Sends a value (Ok) or throws an exception (Err) into the inner awaitable: Ok(Ok(v)) yields
/// v up to the loop, Ok(Err(r)) finishes the await with r.
fn step(vm: &mut Vm, this: &Value, input: Result<Value, Value>) -> PyResult<Result<Value, Value>> {
    let Some((inner, default)) = parts(this) else {
        return Err(vm.type_error("bad anext_awaitable"));
    };
    let r = drive(vm, &inner, input);
    match r {
        Err(e) if vm.exc_matches(&e, "StopAsyncIteration") => Ok(Err(default)),
        r => r,
    }
}

fn drive(
    vm: &mut Vm,
    inner: &Value,
    input: Result<Value, Value>,
) -> PyResult<Result<Value, Value>> {
    match (inner, input) {
        (Value::Generator(g), Ok(v)) => vm.gen_send(g, v),
        (Value::Generator(g), Err(e)) => vm.gen_throw(g, e),
        (Value::Instance(i), input) if i.class.native_send.get().is_some() => match input {
            Ok(v) => match i.class.native_send.get() {
                Some(send) => send(vm, inner, v),
                None => Err(vm.type_error("bad awaitable")),
            },
            Err(e) => match i.class.native_throw.get() {
                Some(throw) => throw(vm, inner, e),
                None => Err(e),
            },
        },
        (_, Ok(v)) => ops::send_to_iterator(vm, inner, v),
        (_, Err(e)) => match vm.call_method(inner, "throw", vec![e]) {
            Ok(v) => Ok(Ok(v)),
            Err(e) if vm.exc_matches(&e, "StopIteration") => Ok(Err(ops::stop_iteration_value(&e))),
            Err(e) => Err(e),
        },
    }
}
