//! Attribute access: `obj.name`, `obj.name = v`, `del obj.name`, with Python's lookup order
//! (data descriptors on the type, then the instance dict, then the type) and method binding.

use std::rc::Rc;

use crate::objects::class::Class;
use crate::objects::function::BoundMethod;
use crate::value::{PyStr, StrKey, Value};
use crate::vm::Vm;
use crate::PyResult;

/// Binds a value found on a class to the object it was looked up through.
fn bind(vm: &mut Vm, found: Value, obj: &Value, cls: &Rc<Class>) -> PyResult<Value> {
    Ok(match found {
        Value::Function(_) | Value::Native(_) => Value::BoundMethod(Rc::new(BoundMethod {
            func: found,
            receiver: obj.clone(),
        })),
        Value::ClassMethod(f) => Value::BoundMethod(Rc::new(BoundMethod {
            func: (*f).clone(),
            receiver: Value::Class(cls.clone()),
        })),
        Value::StaticMethod(f) => (*f).clone(),
        Value::Property(p) => {
            if p.fget.is_none() {
                return Err(vm.attribute_error("property has no getter"));
            }
            let g = p.fget.clone();
            vm.call(&g, vec![obj.clone()])?
        }
        Value::Instance(_) => {
            // A user-defined descriptor with __get__.
            if let Some(get) = lookup_special(vm, &found, "__get__") {
                vm.call(
                    &get,
                    vec![found.clone(), obj.clone(), Value::Class(cls.clone())],
                )?
            } else {
                found
            }
        }
        other => other,
    })
}

/// Finds a dunder on the object's type (not the instance), as the interpreter does for operators.
pub fn lookup_special(vm: &Vm, obj: &Value, name: &str) -> Option<Value> {
    vm.type_of(obj).lookup(name)
}

/// `getattr(obj, name)`.
pub fn get_attr(vm: &mut Vm, obj: &Value, name: &str) -> PyResult<Value> {
    if let Value::Instance(inst) = obj {
        let flags = inst.class.slots.get();
        if flags.has_getattribute || flags.has_getattr {
            return get_attr_hooked(vm, obj, &inst.class.clone(), name);
        }
    }
    match generic_get_attr(vm, obj, name)? {
        Some(v) => Ok(v),
        None => match module_getattr_hook(obj) {
            // Whatever the hook raises reaches the caller unchanged, as in CPython.
            Some(hook) => vm.call(&hook, vec![Value::str(name)]),
            None => Err(no_attribute(vm, obj, name)),
        },
    }
}

/// A module's `__getattr__` (PEP 562), which runs when a name is not in the module: scripts
/// use it for deprecations and lazy attributes, and `asyncio` to compile its streams and
/// subprocess parts only when first used.
fn module_getattr_hook(obj: &Value) -> Option<Value> {
    match obj {
        Value::Module(m) => m.get("__getattr__"),
        _ => None,
    }
}

/// `object.__getattribute__(obj, name)`: the generic lookup, never consulting `__getattr__`.
pub fn object_getattribute(vm: &mut Vm, obj: &Value, name: &str) -> PyResult<Value> {
    match generic_get_attr(vm, obj, name)? {
        Some(v) => Ok(v),
        None => Err(no_attribute(vm, obj, name)),
    }
}

/// Lookup on an instance whose class defines `__getattribute__` and/or `__getattr__`: the
/// former replaces the generic lookup, the latter runs when the lookup raises AttributeError,
/// and whatever `__getattr__` raises reaches the caller unchanged (as in CPython).
fn get_attr_hooked(vm: &mut Vm, obj: &Value, cls: &Rc<Class>, name: &str) -> PyResult<Value> {
    let flags = cls.slots.get();
    let getattr = if flags.has_getattr {
        cls.lookup("__getattr__")
    } else {
        None
    };
    let first = match cls
        .lookup("__getattribute__")
        .filter(|_| flags.has_getattribute)
    {
        Some(ga) => vm.call(&ga, vec![obj.clone(), Value::str(name)]),
        None => match generic_get_attr(vm, obj, name)? {
            Some(v) => return Ok(v),
            // Skip building an AttributeError that `__getattr__` would only discard.
            None if getattr.is_some() => Err(Value::None),
            None => return Err(no_attribute(vm, obj, name)),
        },
    };
    match (first, getattr) {
        (Err(e), Some(ga)) if e.is_none() || vm.exc_matches(&e, "AttributeError") => {
            vm.call(&ga, vec![obj.clone(), Value::str(name)])
        }
        (r, _) => r,
    }
}

pub fn no_attribute(vm: &Vm, obj: &Value, name: &str) -> Value {
    let msg = match obj {
        Value::Module(m) => format!("module '{}' has no attribute '{}'", m.name.s, name),
        Value::Class(c) => format!("type object '{}' has no attribute '{}'", c.name(), name),
        _ => format!("'{}' object has no attribute '{}'", vm.type_name(obj), name),
    };
    let exc = vm.attribute_error(msg);
    if let Value::Instance(i) = &exc {
        i.dict
            .borrow_mut()
            .insert(StrKey(Rc::new(PyStr::new("name"))), Value::str(name));
        i.dict
            .borrow_mut()
            .insert(StrKey(Rc::new(PyStr::new("obj"))), obj.clone());
    }
    exc
}

/// `getattr(obj, name, None)`-style lookup: Ok(None) when the attribute does not exist.
pub fn try_get_attr(vm: &mut Vm, obj: &Value, name: &str) -> PyResult<Option<Value>> {
    if let Value::Instance(inst) = obj {
        let flags = inst.class.slots.get();
        if flags.has_getattribute || flags.has_getattr {
            return match get_attr_hooked(vm, obj, &inst.class.clone(), name) {
                Ok(v) => Ok(Some(v)),
                Err(e) if vm.exc_matches(&e, "AttributeError") => Ok(None),
                Err(e) => Err(e),
            };
        }
    }
    match generic_get_attr(vm, obj, name)? {
        Some(v) => Ok(Some(v)),
        None => match module_getattr_hook(obj) {
            Some(hook) => match vm.call(&hook, vec![Value::str(name)]) {
                Ok(v) => Ok(Some(v)),
                Err(e) if vm.exc_matches(&e, "AttributeError") => Ok(None),
                Err(e) => Err(e),
            },
            None => Ok(None),
        },
    }
}

/// True for a user-defined descriptor whose type defines `__set__` or `__delete__`: it takes
/// precedence over the instance dict.
fn is_data_descriptor(vm: &Vm, v: &Value) -> bool {
    match v {
        Value::Property(_) => true,
        Value::Instance(_) => {
            lookup_special(vm, v, "__set__").is_some()
                || lookup_special(vm, v, "__delete__").is_some()
        }
        _ => false,
    }
}

/// The generic lookup (`object.__getattribute__`): data descriptors on the type, the instance
/// dict, then the rest of the type. Ok(None) when the attribute does not exist.
fn generic_get_attr(vm: &mut Vm, obj: &Value, name: &str) -> PyResult<Option<Value>> {
    match obj {
        Value::Instance(inst) => {
            let cls = inst.class.clone();
            let found = cls.lookup(name);
            if let Some(f) = found.as_ref().filter(|f| is_data_descriptor(vm, f)) {
                return bind(vm, f.clone(), obj, &cls).map(Some);
            }
            if let Some(v) = inst.dict.borrow().get(name) {
                return Ok(Some(v.clone()));
            }
            if let Some(v) = found {
                return bind(vm, v, obj, &cls).map(Some);
            }
            crate::builtins::special_attr(vm, obj, name)
        }
        Value::Class(cls) => {
            if let Some(v) = cls.lookup(name) {
                return Ok(Some(match v {
                    Value::ClassMethod(f) => Value::BoundMethod(Rc::new(BoundMethod {
                        func: (*f).clone(),
                        receiver: obj.clone(),
                    })),
                    Value::StaticMethod(f) => (*f).clone(),
                    Value::Instance(_) => {
                        if let Some(get) = lookup_special(vm, &v, "__get__") {
                            vm.call(&get, vec![v.clone(), Value::None, obj.clone()])?
                        } else {
                            v
                        }
                    }
                    other => other,
                }));
            }
            if let Some(v) = crate::builtins::special_attr(vm, obj, name)? {
                return Ok(Some(v));
            }
            // Methods of `type` itself (e.g. `cls.mro()`).
            let meta = vm.types.type_.clone();
            if let Some(v) = meta.lookup(name) {
                return bind(vm, v, obj, &meta).map(Some);
            }
            Ok(None)
        }
        Value::Module(m) => {
            if let Some(v) = m.get(name) {
                return Ok(Some(v));
            }
            if name == "__dict__" {
                return crate::ops::dict_from_attrs(vm, &m.dict.borrow()).map(Some);
            }
            Ok(None)
        }
        _ => {
            let cls = vm.type_of(obj);
            if let Some(v) = cls.lookup(name) {
                return bind(vm, v, obj, &cls).map(Some);
            }
            crate::builtins::special_attr(vm, obj, name)
        }
    }
}

/// `object.__setattr__(obj, name, value)`: a data descriptor on the type, else the instance dict.
pub fn generic_set_attr(vm: &mut Vm, obj: &Value, name: &Rc<PyStr>, value: Value) -> PyResult<()> {
    let Value::Instance(inst) = obj else {
        return set_attr(vm, obj, name, value);
    };
    let cls = inst.class.clone();
    if let Some(found) = cls.lookup_name(name) {
        match found {
            Value::Property(p) => {
                if p.fset.is_none() {
                    return Err(vm.attribute_error(format!(
                        "property '{}' of '{}' object has no setter",
                        name.s,
                        cls.name()
                    )));
                }
                let s = p.fset.clone();
                vm.call(&s, vec![obj.clone(), value])?;
                return Ok(());
            }
            Value::Instance(_) => {
                if let Some(set) = lookup_special(vm, &found, "__set__") {
                    vm.call(&set, vec![found.clone(), obj.clone(), value])?;
                    return Ok(());
                }
            }
            _ => {}
        }
    }
    if let Some(exc) = inst.exception() {
        let mut e = exc.borrow_mut();
        match &*name.s {
            "__cause__" => {
                e.cause = value;
                e.suppress_context = true;
                return Ok(());
            }
            "__context__" => {
                e.context = value;
                return Ok(());
            }
            "__suppress_context__" => {
                e.suppress_context = matches!(value, Value::Bool(true));
                return Ok(());
            }
            "args" => {
                drop(e);
                let t = Value::tuple(crate::ops::collect(vm, &value)?);
                exc.borrow_mut().args = t;
                return Ok(());
            }
            _ => {}
        }
    }
    inst.dict.borrow_mut().insert(StrKey(name.clone()), value);
    Ok(())
}

/// `obj.name = value`.
pub fn set_attr(vm: &mut Vm, obj: &Value, name: &Rc<PyStr>, value: Value) -> PyResult<()> {
    match obj {
        Value::Instance(inst) => {
            if inst.class.slots.get().has_setattr {
                if let Some(sa) = inst.class.lookup("__setattr__") {
                    vm.call(&sa, vec![obj.clone(), Value::Str(name.clone()), value])?;
                    return Ok(());
                }
            }
            generic_set_attr(vm, obj, name, value)
        }
        Value::Class(cls) => {
            if !cls.is_user {
                return Err(vm.type_error(format!(
                    "cannot set '{}' attribute of immutable type '{}'",
                    name.s,
                    cls.name()
                )));
            }
            cls.set_attr(name.clone(), value);
            Ok(())
        }
        Value::Module(m) => {
            m.store(name.clone(), value);
            Ok(())
        }
        Value::Generator(g) if matches!(&*name.s, "__name__" | "__qualname__") => {
            let Value::Str(s) = value else {
                return Err(vm.type_error(format!("{} must be set to a string object", name.s)));
            };
            if &*name.s == "__name__" {
                g.set_names(s, g.qualname());
            } else {
                g.set_names(g.name(), s);
            }
            Ok(())
        }
        Value::Function(f) => {
            match &*name.s {
                "__name__" => {
                    if let Value::Str(s) = &value {
                        *f.name.borrow_mut() = s.clone();
                    }
                }
                "__qualname__" => {
                    if let Value::Str(s) = &value {
                        *f.qualname.borrow_mut() = s.clone();
                    }
                }
                _ => {}
            }
            f.dict.borrow_mut().insert(StrKey(name.clone()), value);
            Ok(())
        }
        _ => {
            let cls = vm.type_of(obj);
            if cls.lookup_name(name).is_some() {
                Err(vm.attribute_error(format!(
                    "'{}' object attribute '{}' is read-only",
                    cls.name(),
                    name.s
                )))
            } else {
                Err(vm.attribute_error(format!(
                    "'{}' object has no attribute '{}'",
                    cls.name(),
                    name.s
                )))
            }
        }
    }
}

/// `object.__delattr__(obj, name)`: a data descriptor's deleter, else the instance dict.
pub fn generic_del_attr(vm: &mut Vm, obj: &Value, name: &str) -> PyResult<()> {
    let Value::Instance(inst) = obj else {
        return del_attr(vm, obj, name);
    };
    match inst.class.lookup(name) {
        Some(Value::Property(p)) => {
            if p.fdel.is_none() {
                return Err(vm.attribute_error(format!(
                    "property '{}' of '{}' object has no deleter",
                    name,
                    inst.class.name()
                )));
            }
            let d = p.fdel.clone();
            vm.call(&d, vec![obj.clone()])?;
            return Ok(());
        }
        Some(found @ Value::Instance(_)) => {
            if let Some(del) = lookup_special(vm, &found, "__delete__") {
                vm.call(&del, vec![found.clone(), obj.clone()])?;
                return Ok(());
            }
            if lookup_special(vm, &found, "__set__").is_some() {
                return Err(vm.attribute_error("__delete__"));
            }
        }
        _ => {}
    }
    if inst.dict.borrow_mut().shift_remove(name).is_none() {
        return Err(no_attribute(vm, obj, name));
    }
    Ok(())
}

/// `del obj.name`.
pub fn del_attr(vm: &mut Vm, obj: &Value, name: &str) -> PyResult<()> {
    match obj {
        Value::Instance(inst) => {
            if inst.class.slots.get().has_delattr {
                if let Some(da) = inst.class.lookup("__delattr__") {
                    vm.call(&da, vec![obj.clone(), Value::str(name)])?;
                    return Ok(());
                }
            }
            generic_del_attr(vm, obj, name)
        }
        Value::Class(cls) if cls.is_user => {
            if cls.dict.borrow_mut().shift_remove(name).is_none() {
                return Err(no_attribute(vm, obj, name));
            }
            cls.refresh_flags();
            Ok(())
        }
        Value::Module(m) => {
            m.remove(name);
            Ok(())
        }
        _ => Err(no_attribute(vm, obj, name)),
    }
}
