//! `functools.singledispatch` and `functools.singledispatchmethod` (CPython 3.11): generic
//! functions that pick an implementation by the class of their first argument, walking its MRO.
//! Implementations are registered by explicit class (`@f.register(int)`, `f.register(int, g)`),
//! by the first parameter's annotation (`@f.register`), or for every member of a union
//! (`int | str`). Abstract base classes outside the MRO are not consulted (Eddy's `issubclass`
//! does not know virtual subclasses).

use std::rc::Rc;

use eddy_vm::objects::class::Class;
use eddy_vm::objects::function::BoundMethod;
use eddy_vm::value::StrKey;
use eddy_vm::{attr, builtins, ops, Args, PyResult, Value, Vm};

use crate::native_state;
use crate::util::{self, s};

/// State of a singledispatch function: its registry (`{class: implementation}`, also exposed
/// as the `registry` attribute) and the name its error messages use.
struct Dispatcher {
    registry: Value,
    name: String,
}

native_state!(
    Dispatcher,
    |st, f| {
        f(&st.registry);
    },
    |st, out| {
        out.push(std::mem::replace(&mut st.registry, Value::None));
    }
);

/// `functools.singledispatch(func)`.
pub fn singledispatch(vm: &mut Vm, a: Args) -> PyResult<Value> {
    util::arity(vm, "singledispatch", &a, 1, 1)?;
    util::no_kwargs(vm, "singledispatch", &a)?;
    make_dispatcher(vm, a.pos[0].clone())
}

fn make_dispatcher(vm: &mut Vm, func: Value) -> PyResult<Value> {
    let name = match attr::try_get_attr(vm, &func, "__name__")? {
        Some(Value::Str(n)) => n.s.to_string(),
        _ => "singledispatch function".to_string(),
    };
    let registry = vm.new_dict();
    ops::dict_set(
        vm,
        &registry,
        Value::Class(vm.types.object.clone()),
        func.clone(),
    )?;
    let cls = dispatcher_class(vm);
    let w = util::new_native(
        &cls,
        Dispatcher {
            registry: registry.clone(),
            name,
        },
    );
    crate::functools::copy_attrs(vm, &w, &func, None, None)?;
    if let Value::Instance(i) = &w {
        i.dict.borrow_mut().insert(StrKey(s("registry")), registry);
    }
    Ok(w)
}

fn dispatcher_class(vm: &Vm) -> Rc<Class> {
    util::shared_class(vm, "singledispatch", |vm| {
        // CPython's wrapper is a plain function.
        let cls = util::plain_class("function", "functools", vm.types.object.clone());
        util::methods(
            vm,
            &cls,
            &[
                ("__call__", dispatcher_call),
                ("dispatch", dispatch_method),
                ("register", register),
                ("_clear_cache", |_vm, _a| Ok(Value::None)),
                ("__get__", |_vm, a| {
                    // Used as a method: binds to the instance, as a function would.
                    Ok(bind_function(&a.pos[0], a.pos.get(1)))
                }),
                ("__repr__", |vm, a| {
                    let this = &a.pos[0];
                    let name = match attr::try_get_attr(vm, this, "__qualname__")? {
                        Some(Value::Str(n)) => n.s.to_string(),
                        _ => "singledispatch".to_string(),
                    };
                    Ok(Value::string(format!(
                        "<function {name} at 0x{:x}>",
                        this.ptr_id().unwrap_or(0)
                    )))
                }),
            ],
        );
        cls
    })
}

fn bind_function(func: &Value, obj: Option<&Value>) -> Value {
    match obj {
        Some(o) if !o.is_none() => Value::BoundMethod(Rc::new(BoundMethod {
            func: func.clone(),
            receiver: o.clone(),
        })),
        _ => func.clone(),
    }
}

fn state(vm: &Vm, this: &Value) -> PyResult<(Value, String)> {
    util::state(vm, this, "singledispatch function", |d: &mut Dispatcher| {
        (d.registry.clone(), d.name.clone())
    })
}

fn dispatcher_call(vm: &mut Vm, mut a: Args) -> PyResult<Value> {
    let this = a.pos.remove(0);
    let (registry, name) = state(vm, &this)?;
    let Some(first) = a.pos.first() else {
        return Err(vm.type_error(format!("{name} requires at least 1 positional argument")));
    };
    let cls = vm.type_of(first);
    let imp = find_impl(vm, &registry, &cls)?;
    vm.call_args(&imp, a)
}

fn dispatch_method(vm: &mut Vm, a: Args) -> PyResult<Value> {
    util::arity(vm, "dispatch", &a, 2, 2)?;
    let (registry, _) = state(vm, &a.pos[0])?;
    match &a.pos[1] {
        Value::Class(c) => find_impl(vm, &registry, c),
        other => Err(vm.type_error(format!("'{}' object is not a class", vm.type_name(other)))),
    }
}

/// The implementation for `cls`: the first class of its MRO that has one (`object` always does).
fn find_impl(vm: &mut Vm, registry: &Value, cls: &Rc<Class>) -> PyResult<Value> {
    // `Class::mro` leaves out the class itself.
    let mro = std::iter::once(cls.clone()).chain(cls.mro.iter().cloned());
    for c in mro {
        if let Some(f) = ops::dict_get(vm, registry, &Value::Class(c))? {
            return Ok(f);
        }
    }
    let object = Value::Class(vm.types.object.clone());
    ops::dict_get(vm, registry, &object)?
        .ok_or_else(|| vm.error("RuntimeError", "singledispatch registry lost its default"))
}

/// The classes a dispatch type stands for: a class, or every member of a union of classes.
fn dispatch_classes(v: &Value) -> Option<Vec<Value>> {
    match v {
        Value::Class(_) => Some(vec![v.clone()]),
        _ => {
            let args = builtins::union_args(v)?;
            args.iter()
                .all(|m| matches!(m, Value::Class(_)))
                .then_some(args)
        }
    }
}

/// `f.register(cls, func=None)`: registers `func` for `cls`; without `func`, returns a
/// decorator; with a function as `cls`, reads the class from its first annotation.
fn register(vm: &mut Vm, mut a: Args) -> PyResult<Value> {
    let func = a.take_kw("func").or_else(|| a.pos.get(2).cloned());
    let cls = match a.take_kw("cls") {
        Some(c) => c,
        None => a.pos.get(1).cloned().ok_or_else(|| {
            vm.type_error("register() missing 1 required positional argument: 'cls'")
        })?,
    };
    let this = a.pos[0].clone();
    let (registry, _) = state(vm, &this)?;
    let func = func.filter(|f| !f.is_none());
    if let Some(classes) = dispatch_classes(&cls) {
        let Some(func) = func else {
            // `@f.register(int)`: the decorator registers what it decorates.
            let data = Value::tuple(vec![this, cls]);
            return Ok(vm.native_with(
                "register",
                |vm, a| {
                    let Value::Tuple(t) = &a.pos[0] else {
                        return Err(vm.type_error("bad register data"));
                    };
                    let func = a.pos.get(1).cloned().ok_or_else(|| {
                        vm.type_error("register() missing 1 required positional argument")
                    })?;
                    register(vm, Args::new(vec![t[0].clone(), t[1].clone(), func]))
                },
                data,
            ));
        };
        return store(vm, &registry, &classes, func);
    }
    if func.is_some() {
        let r = ops::repr(vm, &cls)?;
        return Err(vm.type_error(format!(
            "Invalid first argument to `register()`. {r} is not a class or union type."
        )));
    }
    let func = cls;
    let Some((argname, ann)) = first_annotation(vm, &func)? else {
        let r = ops::repr(vm, &func)?;
        return Err(vm.type_error(format!(
            "Invalid first argument to `register()`: {r}. Use either `@register(some_class)` \
             or plain `@register` on an annotated function."
        )));
    };
    match dispatch_classes(&ann) {
        Some(classes) => store(vm, &registry, &classes, func),
        None => {
            let r = ops::repr(vm, &ann)?;
            let why = if builtins::union_args(&ann).is_some() {
                "not all arguments are classes"
            } else {
                "is not a class"
            };
            Err(vm.type_error(format!("Invalid annotation for '{argname}'. {r} {why}.")))
        }
    }
}

fn store(vm: &mut Vm, registry: &Value, classes: &[Value], func: Value) -> PyResult<Value> {
    for c in classes {
        ops::dict_set(vm, registry, c.clone(), func.clone())?;
    }
    Ok(func)
}

/// The first annotated parameter of `func` (as `typing.get_type_hints` orders them), with a
/// string annotation resolved in the function's globals. None without annotations.
fn first_annotation(vm: &mut Vm, func: &Value) -> PyResult<Option<(String, Value)>> {
    // classmethod/staticmethod objects forward their function's annotations (3.10+).
    let inner = match func {
        Value::ClassMethod(f) | Value::StaticMethod(f) => (**f).clone(),
        other => other.clone(),
    };
    let Some(ann) = attr::try_get_attr(vm, &inner, "__annotations__")? else {
        return Ok(None);
    };
    let Some((k, v)) = util::dict_items(&ann).and_then(|items| items.into_iter().next()) else {
        return Ok(None);
    };
    let name = ops::to_str(vm, &k)?;
    let v = match &v {
        Value::Str(text) => resolve_annotation(vm, &inner, &text.s)?,
        Value::None => Value::Class(vm.types.none.clone()),
        _ => v,
    };
    Ok(Some((name, v)))
}

/// Evaluates a string annotation of the forms `Name`, `mod.Name` and `A | B` (what
/// `from __future__ import annotations` produces for dispatch types).
fn resolve_annotation(vm: &mut Vm, func: &Value, text: &str) -> PyResult<Value> {
    let mut result: Option<Value> = None;
    for part in text.split('|') {
        let v = resolve_dotted(vm, func, part.trim())?;
        result = Some(match result {
            None => v,
            Some(prev) => builtins::make_union(vm, &prev, &v)?,
        });
    }
    Ok(result.unwrap_or(Value::None))
}

fn resolve_dotted(vm: &mut Vm, func: &Value, path: &str) -> PyResult<Value> {
    let mut names = path.split('.');
    let head = names.next().unwrap_or_default();
    let found = match func {
        Value::Function(f) => f.globals.get(head),
        _ => None,
    };
    let mut v = match found.or_else(|| vm.builtins.get(head)) {
        Some(v) => v,
        None if head == "None" => Value::None,
        None => return Err(vm.error("NameError", format!("name '{head}' is not defined"))),
    };
    for n in names {
        v = attr::get_attr(vm, &v, n)?;
    }
    Ok(v)
}

// ---- singledispatchmethod ----

/// `functools.singledispatchmethod`: the class whose instances wrap a dispatcher.
pub fn singledispatchmethod_class(vm: &Vm) -> Rc<Class> {
    util::shared_class(vm, "singledispatchmethod", |vm| {
        let cls = util::plain_class("singledispatchmethod", "functools", vm.types.object.clone());
        util::methods(
            vm,
            &cls,
            &[
                ("__init__", method_init),
                ("register", |vm, mut a| {
                    let this = a.pos.remove(0);
                    let dispatcher = attr::get_attr(vm, &this, "dispatcher")?;
                    if let Some(m) = a.take_kw("method") {
                        a.kw.push((s("func"), m));
                    }
                    let mut pos = vec![dispatcher];
                    pos.extend(a.pos);
                    register(vm, Args { pos, kw: a.kw })
                }),
                ("__get__", method_get),
            ],
        );
        cls
    })
}

fn method_init(vm: &mut Vm, a: Args) -> PyResult<Value> {
    util::arity(vm, "singledispatchmethod", &a, 2, 2)?;
    let (this, func) = (&a.pos[0], a.pos[1].clone());
    let callable = matches!(
        func,
        Value::Function(_) | Value::ClassMethod(_) | Value::StaticMethod(_) | Value::Native(_)
    ) || attr::lookup_special(vm, &func, "__call__").is_some()
        || attr::lookup_special(vm, &func, "__get__").is_some();
    if !callable {
        let r = ops::repr(vm, &func)?;
        return Err(vm.type_error(format!("{r} is not callable or a descriptor")));
    }
    let dispatcher = make_dispatcher(vm, func.clone())?;
    if let Value::Instance(i) = this {
        let mut d = i.dict.borrow_mut();
        d.insert(StrKey(s("dispatcher")), dispatcher);
        d.insert(StrKey(s("func")), func);
    }
    Ok(Value::None)
}

/// `__get__(obj, cls)`: a callable that dispatches on its first argument and binds the chosen
/// implementation to `obj`/`cls` the way attribute access would.
fn method_get(vm: &mut Vm, a: Args) -> PyResult<Value> {
    let this = a.pos[0].clone();
    let obj = a.pos.get(1).cloned().unwrap_or(Value::None);
    let cls = match a.pos.get(2) {
        Some(c) if !c.is_none() => c.clone(),
        _ => Value::Class(vm.type_of(&obj)),
    };
    let dispatcher = attr::get_attr(vm, &this, "dispatcher")?;
    let data = Value::tuple(vec![dispatcher, obj, cls]);
    Ok(vm.native_with("_method", method_call, data))
}

fn method_call(vm: &mut Vm, mut a: Args) -> PyResult<Value> {
    let Value::Tuple(t) = a.pos.remove(0) else {
        return Err(vm.type_error("bad singledispatchmethod data"));
    };
    let (dispatcher, obj, cls) = (&t[0], &t[1], &t[2]);
    let (registry, name) = state(vm, dispatcher)?;
    let Some(first) = a.pos.first() else {
        return Err(vm.type_error(format!("{name} requires at least 1 positional argument")));
    };
    let first_cls = vm.type_of(first);
    let imp = find_impl(vm, &registry, &first_cls)?;
    let bound = bind_descriptor(vm, imp, obj, cls)?;
    vm.call_args(&bound, a)
}

/// `imp.__get__(obj, cls)` for the kinds of callables a class body holds.
fn bind_descriptor(vm: &mut Vm, imp: Value, obj: &Value, cls: &Value) -> PyResult<Value> {
    Ok(match imp {
        Value::Function(_) | Value::Native(_) => bind_function(&imp, Some(obj)),
        Value::ClassMethod(f) => Value::BoundMethod(Rc::new(BoundMethod {
            func: (*f).clone(),
            receiver: cls.clone(),
        })),
        Value::StaticMethod(f) => (*f).clone(),
        Value::Instance(_) => match attr::lookup_special(vm, &imp, "__get__") {
            Some(get) => vm.call(&get, vec![imp.clone(), obj.clone(), cls.clone()])?,
            None => imp,
        },
        other => other,
    })
}
