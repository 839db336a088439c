//! Truth testing, exception construction and matching, and protocol-method lookup.

use crate::objects::function::BoundMethod;
use crate::value::Value;
use crate::vm::Vm;
use crate::PyResult;
use std::cell::RefCell;
use std::rc::Rc;

/// `bool(v)`.
pub fn truthy(vm: &mut Vm, v: &Value) -> PyResult<bool> {
    Ok(match v {
        Value::Null | Value::None => false,
        Value::Bool(b) => *b,
        Value::Int(i) => *i != 0,
        Value::BigInt(_) => true,
        Value::Float(f) => *f != 0.0,
        Value::Str(s) => !s.s.is_empty(),
        Value::Bytes(b) => !b.is_empty(),
        Value::List(l) => !l.borrow().is_empty(),
        Value::Tuple(t) => !t.is_empty(),
        Value::Dict(d) => !d.borrow().is_empty(),
        Value::Set(s) | Value::FrozenSet(s) => !s.borrow().is_empty(),
        Value::Range(r) => !r.is_empty(),
        Value::Instance(_) => {
            let cls = vm.type_of(v);
            if let Some(f) = cls.lookup("__bool__") {
                let r = vm.call(&f, vec![v.clone()])?;
                match r {
                    Value::Bool(b) => b,
                    _ => {
                        return Err(vm.type_error(format!(
                            "__bool__ should return bool, returned {}",
                            vm.type_name(&r)
                        )))
                    }
                }
            } else if let Some(f) = cls.lookup("__len__") {
                let r = vm.call(&f, vec![v.clone()])?;
                match r {
                    Value::Int(i) => i != 0,
                    Value::Bool(b) => b,
                    _ => {
                        return Err(vm.type_error(format!(
                            "'{}' object cannot be interpreted as an integer",
                            vm.type_name(&r)
                        )))
                    }
                }
            } else if let Some(d) = crate::builtins::payload_value(v) {
                truthy(vm, &d)?
            } else {
                true
            }
        }
        _ => true,
    })
}

/// The value of a `raise` operand: a class is instantiated; anything else must be an exception.
pub fn make_exception(vm: &mut Vm, e: Value) -> PyResult<Value> {
    let base = vm.exc_class("BaseException");
    match &e {
        Value::Class(c) if c.is_subclass(&base) => vm.call(&e, vec![]),
        Value::Instance(i) if i.class.is_subclass(&base) => Ok(e),
        _ => Err(vm.type_error("exceptions must derive from BaseException")),
    }
}

/// The value of a `raise ... from cause` operand (None stays None).
pub fn make_cause(vm: &mut Vm, cause: Value) -> PyResult<Value> {
    let base = vm.exc_class("BaseException");
    match &cause {
        Value::None => Ok(Value::None),
        Value::Class(c) if c.is_subclass(&base) => vm.call(&cause, vec![]),
        Value::Instance(i) if i.class.is_subclass(&base) => Ok(cause),
        _ => Err(vm.type_error("exception causes must derive from BaseException")),
    }
}

pub fn set_cause(exc: &Value, cause: Value) {
    if let Value::Instance(i) = exc {
        if let Some(d) = i.exception() {
            let mut d = d.borrow_mut();
            d.cause = cause;
            d.suppress_context = true;
        }
    }
}

/// Records the exception being handled as the new exception's `__context__` (avoiding cycles).
pub fn set_context(exc: &Value, handled: &Value) {
    if handled.is_none() || exc.is(handled) {
        return;
    }
    if let Value::Instance(i) = exc {
        if let Some(d) = i.exception() {
            if !d.borrow().context.is_none() {
                return;
            }
            // Break a cycle: if handled's context chain contains exc, cut it there.
            let mut cur = handled.clone();
            for _ in 0..100 {
                let next = match &cur {
                    Value::Instance(ci) => match ci.exception() {
                        Some(cd) => cd.borrow().context.clone(),
                        None => break,
                    },
                    _ => break,
                };
                if next.is(exc) {
                    if let Value::Instance(ci) = &cur {
                        if let Some(cd) = ci.exception() {
                            cd.borrow_mut().context = Value::None;
                        }
                    }
                    break;
                }
                cur = next;
            }
            d.borrow_mut().context = handled.clone();
        }
    }
}

/// `except T:` — does `exc` match `typ` (a class or a tuple of classes)?
pub fn exception_matches(vm: &mut Vm, exc: &Value, typ: &Value) -> PyResult<bool> {
    match typ {
        Value::Class(c) => {
            let base = vm.exc_class("BaseException");
            if !c.is_subclass(&base) {
                return Err(vm.type_error(
                    "catching classes that do not inherit from BaseException is not allowed",
                ));
            }
            Ok(vm.isinstance(exc, c))
        }
        Value::Tuple(t) => {
            for item in t.iter() {
                if exception_matches(vm, exc, item)? {
                    return Ok(true);
                }
            }
            Ok(false)
        }
        _ => Err(
            vm.type_error("catching classes that do not inherit from BaseException is not allowed")
        ),
    }
}

/// A protocol method bound to `obj` (e.g. `__enter__`), or TypeError naming the protocol.
pub fn special_method(vm: &mut Vm, obj: &Value, name: &str, protocol: &str) -> PyResult<Value> {
    match vm.type_of(obj).lookup(name) {
        Some(f @ (Value::Function(_) | Value::Native(_))) => {
            Ok(Value::BoundMethod(Rc::new(BoundMethod {
                func: f,
                receiver: obj.clone(),
            })))
        }
        Some(_) => crate::attr::get_attr(vm, obj, name),
        None => {
            let tn = vm.type_name(obj);
            let msg = match name {
                "__enter__" | "__aenter__" => format!("'{tn}' object does not support {protocol}"),
                "__exit__" | "__aexit__" => {
                    format!("'{tn}' object does not support {protocol} (missed {name} method)")
                }
                "__aiter__" => {
                    format!("'async for' requires an object with __aiter__ method, got {tn}")
                }
                "__anext__" => {
                    format!("'async for' received an invalid object from __aiter__: {tn}")
                }
                _ => format!("'{tn}' object has no attribute '{name}'"),
            };
            Err(vm.type_error(msg))
        }
    }
}

thread_local! {
    /// Code objects of generator functions decorated with `types.coroutine` (CPython's
    /// CO_ITERABLE_COROUTINE flag): their generators may be awaited.
    static ITERABLE_COROUTINES: RefCell<std::collections::HashSet<usize>> = RefCell::new(std::collections::HashSet::new());
}

/// Lets generators made by `code` be awaited (`types.coroutine`).
pub fn mark_iterable_coroutine(code: &Rc<crate::code::Code>) {
    ITERABLE_COROUTINES.with(|s| s.borrow_mut().insert(Rc::as_ptr(code) as usize));
}

fn is_iterable_coroutine(code: &Rc<crate::code::Code>) -> bool {
    ITERABLE_COROUTINES.with(|s| s.borrow().contains(&(Rc::as_ptr(code) as usize)))
}

/// `await v`: coroutines pass through; other objects need `__await__`.
pub fn get_awaitable(vm: &mut Vm, v: Value) -> PyResult<Value> {
    match &v {
        Value::Instance(i) if i.class.native_send.get().is_some() => Ok(v),
        Value::Generator(g) if g.kind() == crate::objects::generator::GenKind::Coroutine => {
            if g.state() == crate::objects::generator::GenState::Finished {
                return Err(vm.error("RuntimeError", "cannot reuse already awaited coroutine"));
            }
            Ok(v)
        }
        Value::Generator(g)
            if g.kind() == crate::objects::generator::GenKind::Generator
                && g.code.flags.generator =>
        {
            // types.coroutine-decorated generators are awaitable; plain generators are not.
            if is_iterable_coroutine(&g.code) {
                return Ok(v);
            }
            Err(vm.type_error(format!(
                "object {} can't be used in 'await' expression",
                vm.type_name(&v)
            )))
        }
        _ => {
            if let Some(f) = vm.type_of(&v).lookup("__await__") {
                let it = vm.call(&f, vec![v.clone()])?;
                return Ok(it);
            }
            Err(vm.type_error(format!(
                "object {} can't be used in 'await' expression",
                vm.type_name(&v)
            )))
        }
    }
}

/// One step of `yield from`/`await` on a non-generator iterator. Ok(Ok(v)): it produced v;
/// Ok(Err(r)): it finished with result r.
pub fn send_to_iterator(vm: &mut Vm, it: &Value, sent: Value) -> PyResult<Result<Value, Value>> {
    let r = if sent.is_none() {
        match it {
            // Call `__next__` itself: the StopIteration it raises carries the await's result.
            Value::Instance(_) => vm.call_method(it, "__next__", vec![]),
            _ => iter_next_raw(vm, it),
        }
    } else {
        vm.call_method(it, "send", vec![sent])
    };
    match r {
        Ok(v) => Ok(Ok(v)),
        Err(e) if vm.exc_matches(&e, "StopIteration") => Ok(Err(stop_iteration_value(&e))),
        Err(e) => Err(e),
    }
}

/// The value a StopIteration carries (its first argument, else None).
pub fn stop_iteration_value(e: &Value) -> Value {
    let Value::Instance(i) = e else {
        return Value::None;
    };
    i.exception()
        .map(|d| match &d.borrow().args {
            Value::Tuple(t) if !t.is_empty() => t[0].clone(),
            _ => Value::None,
        })
        .unwrap_or(Value::None)
}

/// `next(it)` raising StopIteration at the end (for protocol code that wants the exception).
pub fn iter_next_raw(vm: &mut Vm, it: &Value) -> PyResult<Value> {
    match super::iter_next(vm, it)? {
        Some(v) => Ok(v),
        None => Err(vm.stop_iteration(Value::None)),
    }
}
