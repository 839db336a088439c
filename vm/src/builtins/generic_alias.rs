//! `list[int]`, `dict[str, int]`: `types.GenericAlias` (PEP 585). Subscripting a built-in
//! class makes one; it prints as written, calls its origin, compares by origin and arguments,
//! joins unions (`list[int] | None`) and stands for its origin as a base class. Its instances
//! keep `__origin__`, `__args__` and `__parameters__` in their dict.

use std::cell::RefCell;
use std::rc::Rc;

use crate::objects::class::{BuiltinKind, Class};
use crate::objects::function::Args;
use crate::ops;
use crate::value::{StrKey, Value};
use crate::vm::Vm;
use crate::PyResult;

/// The names an alias answers itself rather than forward to its origin (CPython's
/// `attr_exceptions`).
const NOT_FORWARDED: &[&str] = &[
    "__class__",
    "__origin__",
    "__args__",
    "__unpacked__",
    "__parameters__",
    "__typing_unpacked_tuple_args__",
    "__mro_entries__",
    "__reduce_ex__",
    "__reduce__",
    "__copy__",
    "__deepcopy__",
];

thread_local! {
    static ALIAS: RefCell<Option<Rc<Class>>> = const { RefCell::new(None) };
}

fn alias_class(vm: &mut Vm) -> Rc<Class> {
    if let Some(c) = ALIAS.with(|a| a.borrow().clone()) {
        return c;
    }
    let c = crate::types::new_class(
        "GenericAlias",
        vec![vm.types.object.clone()],
        BuiltinKind::Object,
        true,
    );
    c.set_attr(vm.intern("__module__"), Value::str("types"));
    vm.add_method(&c, "__repr__", alias_repr);
    vm.add_method(&c, "__call__", |vm, mut a| {
        let this = a.pos.remove(0);
        let (origin, _) = parts(&this).ok_or_else(|| vm.type_error("bad GenericAlias"))?;
        vm.call_args(&origin, a)
    });
    vm.add_method(&c, "__eq__", |vm, a| {
        let (Some((o1, a1)), Some((o2, a2))) = (parts(&a.pos[0]), parts(&a.pos[1])) else {
            return Ok(Value::NotImplemented);
        };
        Ok(Value::Bool(o1.is(&o2) && ops::eq(vm, &a1, &a2)?))
    });
    vm.add_method(&c, "__hash__", |vm, a| {
        let (origin, args) = parts(&a.pos[0]).ok_or_else(|| vm.type_error("bad GenericAlias"))?;
        Ok(Value::Int(ops::hash(vm, &origin)? ^ ops::hash(vm, &args)?))
    });
    // Other attributes are the origin's (`list[int].append`), as CPython forwards them.
    vm.add_method(&c, "__getattr__", |vm, a| {
        let name = ops::to_str(vm, &a.pos[1])?;
        match parts(&a.pos[0]) {
            Some((origin, _)) if !NOT_FORWARDED.contains(&name.as_str()) => {
                crate::attr::get_attr(vm, &origin, &name)
            }
            _ => Err(vm.attribute_error(format!(
                "'types.GenericAlias' object has no attribute '{name}'"
            ))),
        }
    });
    vm.add_method(&c, "__mro_entries__", |vm, a| {
        let (origin, _) = parts(&a.pos[0]).ok_or_else(|| vm.type_error("bad GenericAlias"))?;
        Ok(Value::tuple(vec![origin]))
    });
    vm.add_method(&c, "__or__", |vm, a| {
        super::methods::make_union(vm, &a.pos[0], &a.pos[1])
    });
    vm.add_method(&c, "__ror__", |vm, a| {
        super::methods::make_union(vm, &a.pos[1], &a.pos[0])
    });
    let mut flags = c.slots.get();
    flags.has_getattr = true;
    c.slots.set(flags);
    ALIAS.with(|a| *a.borrow_mut() = Some(c.clone()));
    c
}

/// `origin[key]` for a built-in class.
pub fn new(vm: &mut Vm, origin: &Rc<Class>, key: &Value) -> PyResult<Value> {
    let args = match key {
        Value::Tuple(_) => key.clone(),
        k => Value::tuple(vec![k.clone()]),
    };
    let cls = alias_class(vm);
    let inst = crate::call::new_instance(vm, &cls, &Args::default())?;
    if let Value::Instance(i) = &inst {
        let mut d = i.dict.borrow_mut();
        d.insert(
            StrKey(vm.intern("__origin__")),
            Value::Class(origin.clone()),
        );
        d.insert(StrKey(vm.intern("__args__")), args);
        d.insert(
            StrKey(vm.intern("__parameters__")),
            Value::tuple(Vec::new()),
        );
    }
    Ok(inst)
}

/// A `__class_getitem__` for a native class that CPython makes generic (`deque[int]`).
pub fn class_getitem(vm: &mut Vm, a: Args) -> PyResult<Value> {
    match (a.pos.first(), a.pos.get(1)) {
        (Some(Value::Class(c)), Some(key)) => new(vm, c, key),
        _ => Err(vm.type_error("__class_getitem__ expects a class and a key")),
    }
}

/// True when `v` is a `types.GenericAlias`.
pub fn is_alias(v: &Value) -> bool {
    let Value::Instance(i) = v else { return false };
    ALIAS.with(|a| a.borrow().as_ref().is_some_and(|c| Rc::ptr_eq(c, &i.class)))
}

/// (`__origin__`, `__args__`) of an alias.
fn parts(v: &Value) -> Option<(Value, Value)> {
    if !is_alias(v) {
        return None;
    }
    let Value::Instance(i) = v else { return None };
    let d = i.dict.borrow();
    Some((d.get("__origin__")?.clone(), d.get("__args__")?.clone()))
}

/// How CPython's `ga_repr` prints one argument: classes by (qualified) name, `...`, nested
/// aliases and anything else by repr.
fn arg_repr(vm: &mut Vm, v: &Value) -> PyResult<String> {
    Ok(match v {
        Value::Class(c) => ops::class_display_name(c),
        Value::Ellipsis => "...".into(),
        Value::List(l) => {
            let items = l.borrow().clone();
            let mut out = Vec::new();
            for i in &items {
                out.push(arg_repr(vm, i)?);
            }
            format!("[{}]", out.join(", "))
        }
        other => ops::repr(vm, other)?,
    })
}

fn alias_repr(vm: &mut Vm, a: Args) -> PyResult<Value> {
    let (origin, args) = parts(&a.pos[0]).ok_or_else(|| vm.type_error("bad GenericAlias"))?;
    let mut out = arg_repr(vm, &origin)?;
    let items = match &args {
        Value::Tuple(t) => t.to_vec(),
        _ => Vec::new(),
    };
    if items.is_empty() {
        out.push_str("[()]");
    } else {
        let mut shown = Vec::new();
        for i in &items {
            shown.push(arg_repr(vm, i)?);
        }
        out.push_str(&format!("[{}]", shown.join(", ")));
    }
    Ok(Value::string(out))
}
