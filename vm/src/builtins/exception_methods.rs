//! Methods of BaseException and of exception groups.

use crate::objects::function::Args;
use crate::value::{StrKey, Value};
use crate::vm::Vm;
use crate::PyResult;

pub fn install(vm: &mut Vm) {
    let base = vm.exc_class("BaseException");
    vm.add_method(&base, "__init__", |vm, a| {
        // `super().__init__(*args)` in a subclass sets args.
        if let Some(Value::Instance(i)) = a.pos.first() {
            if let Some(d) = i.exception() {
                d.borrow_mut().args = Value::tuple(a.pos[1..].to_vec());
            }
        }
        let _ = vm;
        Ok(Value::None)
    });
    // In the class namespace (not only built into `str()`), so that `super().__str__()` in an
    // exception subclass's own `__str__` reaches the message rather than `object.__str__`.
    vm.add_method(&base, "__str__", |vm, a| {
        let this = exception_self(vm, &a, "__str__")?;
        Ok(Value::string(crate::ops::exception_str(vm, &this)?))
    });
    vm.add_method(&base, "__repr__", |vm, a| {
        let this = exception_self(vm, &a, "__repr__")?;
        Ok(Value::string(crate::ops::exception_repr(vm, &this)?))
    });
    vm.add_method(&base, "with_traceback", |_vm, a| {
        Ok(a.pos.first().cloned().unwrap_or(Value::None))
    });
    vm.add_method(&base, "add_note", |vm, a| {
        if let (Some(Value::Instance(i)), Some(Value::Str(s))) = (a.pos.first(), a.pos.get(1)) {
            if let Some(d) = i.exception() {
                d.borrow_mut().notes.push(s.s.to_string());
            }
            return Ok(Value::None);
        }
        let got = a.pos.get(1).map(|v| vm.type_name(v)).unwrap_or_default();
        Err(vm.type_error(format!("note must be a str, not '{got}'")))
    });
    // `e.name` / `e.obj` read None on an instance built by hand, as CPython's member
    // defaults do; errors raised by the VM set them on the instance.
    for (class, attrs) in [
        ("NameError", &["name"][..]),
        ("AttributeError", &["name", "obj"]),
    ] {
        let c = vm.exc_class(class);
        for a in attrs {
            c.set_attr(vm.intern(a), Value::None);
        }
    }
    let group = vm.exc_class("BaseExceptionGroup");
    vm.add_method(&group, "subgroup", |vm, a| group_split(vm, a, false));
    vm.add_method(&group, "split", |vm, a| group_split(vm, a, true));
    vm.add_method(&group, "derive", |vm, a| {
        let items = crate::ops::collect(vm, &a.pos[1])?;
        crate::exceptions::default_derive(vm, &a.pos[0], items)
    });
    let _ = StrKey::clone;
}

/// The receiver of a BaseException method called through the class, checked as CPython's
/// descriptors check it.
fn exception_self(vm: &mut Vm, a: &Args, name: &str) -> PyResult<Value> {
    match a.pos.first() {
        Some(v @ Value::Instance(i)) if i.exception().is_some() => Ok(v.clone()),
        Some(v) => {
            let got = vm.type_name(v);
            Err(vm.type_error(format!(
                "descriptor '{name}' requires a 'BaseException' object but received a '{got}'"
            )))
        }
        None => Err(vm.type_error(format!(
            "descriptor '{name}' of 'BaseException' object needs an argument"
        ))),
    }
}

fn group_split(vm: &mut Vm, a: Args, both: bool) -> PyResult<Value> {
    let (Some(g), Some(cond)) = (a.pos.first().cloned(), a.pos.get(1).cloned()) else {
        return Err(vm.type_error("split() takes exactly one argument"));
    };
    let (rest, matched) = split_by(vm, &g, &cond)?;
    if both {
        Ok(Value::tuple(vec![matched, rest]))
    } else {
        Ok(matched)
    }
}

fn split_by(vm: &mut Vm, exc: &Value, cond: &Value) -> PyResult<(Value, Value)> {
    let hit = match cond {
        Value::Class(_) | Value::Tuple(_) => crate::ops::exception_matches(vm, exc, cond)?,
        f => {
            let r = vm.call(f, vec![exc.clone()])?;
            crate::ops::truthy(vm, &r)?
        }
    };
    if hit {
        return Ok((Value::None, exc.clone()));
    }
    let items = crate::exceptions::group_items(exc);
    if items.is_empty() {
        return Ok((exc.clone(), Value::None));
    }
    let mut rest = Vec::new();
    let mut matched = Vec::new();
    for i in items {
        let (r, m) = split_by(vm, &i, cond)?;
        if !r.is_none() {
            rest.push(r);
        }
        if !m.is_none() {
            matched.push(m);
        }
    }
    let rest = if rest.is_empty() {
        Value::None
    } else {
        crate::exceptions::derive(vm, exc, rest)?
    };
    let matched = if matched.is_empty() {
        Value::None
    } else {
        crate::exceptions::derive(vm, exc, matched)?
    };
    Ok((rest, matched))
}
