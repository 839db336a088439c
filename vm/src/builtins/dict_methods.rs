//! Methods of `dict` (also reached by dict subclasses through `super()`, so the receiver may be
//! an instance whose payload is the dict), and the view types `dict_keys`, `dict_values` and
//! `dict_items`: live windows on a dict, with set operations on keys and items views.

use std::cell::RefCell;
use std::rc::Rc;

use super::list_methods::{clinic_args, descriptor_error, exact_args};
use super::new_iter;
use crate::objects::class::{BuiltinKind, Class, Instance, Payload};
use crate::objects::dict::PyDict;
use crate::objects::function::{Args, NativeFn};
use crate::objects::iter::NativeIter;
use crate::ops;
use crate::value::Value;
use crate::vm::Vm;
use crate::PyResult;

pub fn install(vm: &mut Vm) {
    let dict = vm.types.dict.clone();
    let defs: &[(&str, NativeFn)] = &[
        ("get", get),
        ("setdefault", setdefault),
        ("pop", pop),
        ("popitem", popitem),
        ("update", update),
        ("copy", |vm, a| {
            exact_args(vm, "dict.copy", &a, 0)?;
            let d = dict_recv(vm, &a, "copy")?;
            Ok(copy_of(&d))
        }),
        ("clear", |vm, a| {
            exact_args(vm, "dict.clear", &a, 0)?;
            dict_recv(vm, &a, "clear")?.borrow_mut().clear();
            Ok(Value::None)
        }),
        ("__init__", dict_init),
        ("__getitem__", getitem),
        ("__setitem__", |vm, a| {
            if a.pos.len() != 3 {
                return Err(vm.type_error(format!(
                    "expected 2 arguments, got {}",
                    a.pos.len().saturating_sub(1)
                )));
            }
            let d = dict_recv(vm, &a, "__setitem__")?;
            ops::dict_set_in(vm, &d, a.pos[1].clone(), a.pos[2].clone())?;
            Ok(Value::None)
        }),
        ("__delitem__", |vm, a| {
            exact_args(vm, "dict.__delitem__", &a, 1)?;
            let d = dict_recv(vm, &a, "__delitem__")?;
            match ops::dict_del_in(vm, &d, &a.pos[1])? {
                Some(_) => Ok(Value::None),
                None => Err(vm.key_error(a.pos[1].clone())),
            }
        }),
        ("__contains__", |vm, a| {
            exact_args(vm, "dict.__contains__", &a, 1)?;
            let d = dict_recv(vm, &a, "__contains__")?;
            Ok(Value::Bool(ops::dict_get_in(vm, &d, &a.pos[1])?.is_some()))
        }),
        ("__len__", |vm, a| {
            let d = dict_recv(vm, &a, "__len__")?;
            let n = d.borrow().len();
            Ok(Value::Int(n as i64))
        }),
        ("__iter__", |vm, a| {
            let d = dict_recv(vm, &a, "__iter__")?;
            Ok(dict_iter(&a.pos[0], &d, 0))
        }),
        ("__reversed__", |vm, a| {
            let d = dict_recv(vm, &a, "__reversed__")?;
            Ok(reversed_iter(&d, 0))
        }),
        ("__eq__", |vm, a| dict_compare(vm, a, false)),
        ("__ne__", |vm, a| dict_compare(vm, a, true)),
        ("__or__", |vm, a| dict_or(vm, a, false)),
        ("__ror__", |vm, a| dict_or(vm, a, true)),
        ("__ior__", |vm, a| {
            exact_args(vm, "dict.__ior__", &a, 1)?;
            let d = dict_recv(vm, &a, "__ior__")?;
            ops::dict_update_from(vm, &Value::Dict(d), &a.pos[1], false)?;
            Ok(a.pos[0].clone())
        }),
    ];
    for (name, f) in defs {
        vm.add_method(&dict, name, *f);
    }
    dict.set_attr(vm.intern("__hash__"), Value::None);
    let fromkeys = vm.native("fromkeys", fromkeys);
    dict.set_attr(vm.intern("fromkeys"), Value::ClassMethod(Rc::new(fromkeys)));
    install_views(vm, &dict);
}

/// The dict behind the receiver (a dict or a dict-subclass instance).
fn dict_recv(vm: &Vm, a: &Args, name: &str) -> PyResult<Rc<PyDict>> {
    let recv = a.pos.first().unwrap_or(&Value::None);
    ops::dict_of(recv).ok_or_else(|| descriptor_error(vm, name, "dict", recv))
}

/// A plain dict holding the same items, in the same order.
fn copy_of(d: &PyDict) -> Value {
    let data = d.borrow().clone();
    crate::gc::track_dict(Rc::new(RefCell::new(data)))
}

/// An iterator over keys (0), values (1) or items (2) of `owner` (a dict or subclass instance).
fn dict_iter(owner: &Value, d: &PyDict, kind: u8) -> Value {
    let len = d.borrow().len();
    new_iter(NativeIter::Dict {
        dict: owner.clone(),
        pos: 0,
        kind,
        len_at_start: len,
    })
}

fn reversed_iter(d: &PyDict, kind: u8) -> Value {
    let data = d.borrow();
    let mut items: Vec<Value> = match kind {
        0 => data.keys(),
        1 => data.values(),
        _ => data
            .items()
            .into_iter()
            .map(|(k, v)| Value::tuple(vec![k, v]))
            .collect(),
    };
    items.reverse();
    new_iter(NativeIter::Values { items, index: 0 })
}

fn dict_init(vm: &mut Vm, a: Args) -> PyResult<Value> {
    if a.pos.len() > 2 {
        return Err(vm.type_error(format!(
            "dict expected at most 1 argument, got {}",
            a.pos.len() - 1
        )));
    }
    let d = dict_recv(vm, &a, "__init__")?;
    update_into(vm, &d, a.pos.get(1), a.kw)
}

/// `d.update(other, **kw)`: a mapping (keys() and `[]`), or an iterable of pairs, then keywords.
fn update_into(
    vm: &mut Vm,
    d: &Rc<PyDict>,
    other: Option<&Value>,
    kw: Vec<(Rc<crate::value::PyStr>, Value)>,
) -> PyResult<Value> {
    if let Some(o) = other {
        ops::dict_update_from(vm, &Value::Dict(d.clone()), o, false)?;
    }
    for (k, v) in kw {
        ops::dict_set_in(vm, d, Value::Str(k), v)?;
    }
    Ok(Value::None)
}

fn update(vm: &mut Vm, a: Args) -> PyResult<Value> {
    if a.pos.len() > 2 {
        return Err(vm.type_error(format!(
            "update expected at most 1 argument, got {}",
            a.pos.len() - 1
        )));
    }
    let d = dict_recv(vm, &a, "update")?;
    update_into(vm, &d, a.pos.get(1), a.kw)
}

fn get(vm: &mut Vm, a: Args) -> PyResult<Value> {
    clinic_args(vm, "get", &a, 1, 2)?;
    let d = dict_recv(vm, &a, "get")?;
    match ops::dict_get_in(vm, &d, &a.pos[1])? {
        Some(v) => Ok(v),
        None => Ok(a.pos.get(2).cloned().unwrap_or(Value::None)),
    }
}

fn setdefault(vm: &mut Vm, a: Args) -> PyResult<Value> {
    clinic_args(vm, "setdefault", &a, 1, 2)?;
    let d = dict_recv(vm, &a, "setdefault")?;
    if let Some(v) = ops::dict_get_in(vm, &d, &a.pos[1])? {
        return Ok(v);
    }
    let default = a.pos.get(2).cloned().unwrap_or(Value::None);
    ops::dict_set_in(vm, &d, a.pos[1].clone(), default.clone())?;
    Ok(default)
}

fn pop(vm: &mut Vm, a: Args) -> PyResult<Value> {
    clinic_args(vm, "pop", &a, 1, 2)?;
    let d = dict_recv(vm, &a, "pop")?;
    match ops::dict_del_in(vm, &d, &a.pos[1])? {
        Some(v) => Ok(v),
        None => match a.pos.get(2) {
            Some(default) => Ok(default.clone()),
            None => Err(vm.key_error(a.pos[1].clone())),
        },
    }
}

fn popitem(vm: &mut Vm, a: Args) -> PyResult<Value> {
    exact_args(vm, "dict.popitem", &a, 0)?;
    let d = dict_recv(vm, &a, "popitem")?;
    let last = d.borrow_mut().pop_last();
    match last {
        Some(e) => Ok(Value::tuple(vec![e.key, e.value])),
        None => Err(vm.key_error(Value::str("popitem(): dictionary is empty"))),
    }
}

/// `d[key]`; a subclass's `__missing__` supplies absent keys.
fn getitem(vm: &mut Vm, a: Args) -> PyResult<Value> {
    exact_args(vm, "dict.__getitem__", &a, 1)?;
    let d = dict_recv(vm, &a, "__getitem__")?;
    if let Some(v) = ops::dict_get_in(vm, &d, &a.pos[1])? {
        return Ok(v);
    }
    if let Value::Instance(i) = &a.pos[0] {
        if let Some(missing) = i.class.lookup("__missing__") {
            return vm.call(&missing, vec![a.pos[0].clone(), a.pos[1].clone()]);
        }
    }
    Err(vm.key_error(a.pos[1].clone()))
}

/// `dict.fromkeys(iterable, value=None)`; a subclass is built by calling it and setting items.
fn fromkeys(vm: &mut Vm, a: Args) -> PyResult<Value> {
    clinic_args(vm, "fromkeys", &a, 1, 2)?;
    let value = a.pos.get(2).cloned().unwrap_or(Value::None);
    let is_plain = matches!(&a.pos[0], Value::Class(c) if Rc::ptr_eq(c, &vm.types.dict));
    let target = if is_plain {
        vm.new_dict()
    } else {
        vm.call(&a.pos[0], vec![])?
    };
    let it = ops::get_iter(vm, &a.pos[1])?;
    while let Some(k) = ops::iter_next(vm, &it)? {
        if is_plain {
            ops::dict_set(vm, &target, k, value.clone())?;
        } else {
            ops::setitem(vm, &target, k, value.clone())?;
        }
    }
    Ok(target)
}

fn dict_compare(vm: &mut Vm, a: Args, negate: bool) -> PyResult<Value> {
    super::check_one_operand(vm, &a)?;
    if ops::dict_of(&a.pos[0]).is_none() || ops::dict_of(&a.pos[1]).is_none() {
        return Ok(Value::NotImplemented);
    }
    let same = ops::dict_eq(vm, &a.pos[0], &a.pos[1])?;
    Ok(Value::Bool(same != negate))
}

/// `a | b` for dicts: a plain-dict copy of the left operand updated with the right.
fn dict_or(vm: &mut Vm, a: Args, reflected: bool) -> PyResult<Value> {
    super::check_one_operand(vm, &a)?;
    let (x, y) = if reflected {
        (&a.pos[1], &a.pos[0])
    } else {
        (&a.pos[0], &a.pos[1])
    };
    let (Some(left), Some(_)) = (ops::dict_of(x), ops::dict_of(y)) else {
        return Ok(Value::NotImplemented);
    };
    let out = copy_of(&left);
    let y = y.clone();
    ops::dict_update_from(vm, &out, &y, false)?;
    Ok(out)
}

// ---- views ----

const VIEW_NAMES: [&str; 3] = ["dict_keys", "dict_values", "dict_items"];

fn install_views(vm: &mut Vm, dict: &Rc<Class>) {
    for (kind, name) in VIEW_NAMES.iter().enumerate() {
        let cls = crate::types::new_class(
            name,
            vec![vm.types.object.clone()],
            BuiltinKind::Object,
            true,
        );
        let mut defs: Vec<(&str, NativeFn)> = vec![
            ("__len__", view_len),
            ("__iter__", view_iter),
            ("__reversed__", view_reversed),
            ("__repr__", view_repr),
            ("__contains__", view_contains),
            ("__getitem__", |vm, a| {
                Err(vm.type_error(format!(
                    "'{}' object is not subscriptable",
                    vm.type_name(&a.pos[0])
                )))
            }),
        ];
        if kind != 1 {
            defs.extend_from_slice(&[
                ("__eq__", (|vm, a| view_compare(vm, a, 0)) as NativeFn),
                ("__ne__", |vm, a| view_compare(vm, a, 1)),
                ("__lt__", |vm, a| view_compare(vm, a, 2)),
                ("__le__", |vm, a| view_compare(vm, a, 3)),
                ("__gt__", |vm, a| view_compare(vm, a, 4)),
                ("__ge__", |vm, a| view_compare(vm, a, 5)),
                ("__and__", |vm, a| view_binary(vm, a, 12, false)),
                ("__rand__", |vm, a| view_binary(vm, a, 12, true)),
                ("__or__", |vm, a| view_binary(vm, a, 10, false)),
                ("__ror__", |vm, a| view_binary(vm, a, 10, true)),
                ("__sub__", |vm, a| view_binary(vm, a, 1, false)),
                ("__rsub__", |vm, a| view_binary(vm, a, 1, true)),
                ("__xor__", |vm, a| view_binary(vm, a, 11, false)),
                ("__rxor__", |vm, a| view_binary(vm, a, 11, true)),
                ("isdisjoint", view_isdisjoint),
            ]);
        }
        for (n, f) in defs {
            vm.add_method(&cls, n, f);
        }
        if kind != 1 {
            cls.set_attr(vm.intern("__hash__"), Value::None);
        }
        let method = ["keys", "values", "items"][kind];
        let f = vm.native_with(method, make_view, Value::Class(cls));
        dict.set_attr(vm.intern(method), f);
    }
}

/// `d.keys()` / `d.values()` / `d.items()`: the view class arrives as the native's data.
fn make_view(vm: &mut Vm, a: Args) -> PyResult<Value> {
    let Value::Class(cls) = a.pos[0].clone() else {
        return Err(vm.type_error("bad view class"));
    };
    let method = ["keys", "values", "items"][view_kind_of_class(&cls) as usize];
    let rest = Args {
        pos: a.pos[1..].to_vec(),
        kw: a.kw,
    };
    exact_args(vm, &format!("dict.{method}"), &rest, 0)?;
    dict_recv(vm, &rest, method)?;
    let inst = Instance {
        class: cls,
        dict: crate::objects::class::InstDict::default(),
        payload: Payload::Value(RefCell::new(rest.pos[0].clone())),
    };
    Ok(crate::gc::track_instance(Rc::new(inst)))
}

fn view_kind_of_class(c: &Class) -> u8 {
    VIEW_NAMES.iter().position(|n| *n == c.name()).unwrap_or(0) as u8
}

/// (owner dict value, its storage, kind 0 keys / 1 values / 2 items) of a view.
fn view_parts(v: &Value) -> Option<(Value, Rc<PyDict>, u8)> {
    let Value::Instance(i) = v else { return None };
    let kind = VIEW_NAMES.iter().position(|n| *n == i.class.name())? as u8;
    let Payload::Value(p) = &i.payload else {
        return None;
    };
    let owner = p.borrow().clone();
    let d = ops::dict_of(&owner)?;
    Some((owner, d, kind))
}

fn view_recv(vm: &Vm, a: &Args) -> PyResult<(Value, Rc<PyDict>, u8)> {
    let recv = a.pos.first().cloned().unwrap_or(Value::None);
    view_parts(&recv).ok_or_else(|| {
        vm.type_error(format!(
            "expected a dict view, not '{}'",
            vm.type_name(&recv)
        ))
    })
}

/// Keys and items views behave as sets (`PyDictViewSet_Check`).
fn is_set_view(v: &Value) -> bool {
    matches!(view_parts(v), Some((_, _, 0 | 2)))
}

fn view_len(vm: &mut Vm, a: Args) -> PyResult<Value> {
    let (_, d, _) = view_recv(vm, &a)?;
    let n = d.borrow().len();
    Ok(Value::Int(n as i64))
}

fn view_iter(vm: &mut Vm, a: Args) -> PyResult<Value> {
    let (owner, d, kind) = view_recv(vm, &a)?;
    Ok(dict_iter(&owner, &d, kind))
}

fn view_reversed(vm: &mut Vm, a: Args) -> PyResult<Value> {
    let (_, d, kind) = view_recv(vm, &a)?;
    Ok(reversed_iter(&d, kind))
}

fn view_items(d: &PyDict, kind: u8) -> Vec<Value> {
    let data = d.borrow();
    match kind {
        0 => data.keys(),
        1 => data.values(),
        _ => data
            .items()
            .into_iter()
            .map(|(k, v)| Value::tuple(vec![k, v]))
            .collect(),
    }
}

fn view_repr(vm: &mut Vm, a: Args) -> PyResult<Value> {
    let (_, d, kind) = view_recv(vm, &a)?;
    let items = Value::list(view_items(&d, kind));
    let body = ops::repr(vm, &items)?;
    Ok(Value::string(format!(
        "{}({body})",
        VIEW_NAMES[kind as usize]
    )))
}

/// `x in view`: a key lookup, an item lookup plus value comparison, or a scan of the values.
fn view_contains(vm: &mut Vm, a: Args) -> PyResult<Value> {
    exact_args(vm, "__contains__", &a, 1)?;
    let (_, d, kind) = view_recv(vm, &a)?;
    contains_in_view(vm, &d, kind, &a.pos[1]).map(Value::Bool)
}

fn contains_in_view(vm: &mut Vm, d: &PyDict, kind: u8, x: &Value) -> PyResult<bool> {
    match kind {
        0 => Ok(ops::dict_get_in(vm, d, x)?.is_some()),
        2 => {
            let Value::Tuple(t) = x else { return Ok(false) };
            if t.len() != 2 {
                return Ok(false);
            }
            match ops::dict_get_in(vm, d, &t[0])? {
                Some(v) => Ok(v.is(&t[1]) || ops::eq(vm, &v, &t[1])?),
                None => Ok(false),
            }
        }
        _ => {
            for v in d.borrow().values() {
                if v.is(x) || ops::eq(vm, &v, x)? {
                    return Ok(true);
                }
            }
            Ok(false)
        }
    }
}

/// Every item of `a` is `in` `b` (`all_contained_in`).
fn all_contained_in(vm: &mut Vm, a: &Value, b: &Value) -> PyResult<bool> {
    let it = ops::get_iter(vm, a)?;
    while let Some(x) = ops::iter_next(vm, &it)? {
        if !ops::contains(vm, b, &x)? {
            return Ok(false);
        }
    }
    Ok(true)
}

fn len_of(vm: &mut Vm, v: &Value) -> PyResult<usize> {
    if let Some(s) = ops::any_set(v) {
        return Ok(s.borrow().len());
    }
    match view_parts(v) {
        Some((_, d, _)) => Ok(d.borrow().len()),
        None => {
            let n = vm.call_method(v, "__len__", vec![])?;
            Ok(ops::index_value(vm, &n, "len")?.max(0) as usize)
        }
    }
}

/// Comparisons of keys/items views with sets and other set-like views (`dictview_richcompare`).
fn view_compare(vm: &mut Vm, a: Args, op: u8) -> PyResult<Value> {
    exact_args(vm, "__eq__", &a, 1)?;
    let (x, y) = (a.pos[0].clone(), a.pos[1].clone());
    if ops::any_set(&y).is_none() && !is_set_view(&y) {
        return Ok(Value::NotImplemented);
    }
    let (lx, ly) = (len_of(vm, &x)?, len_of(vm, &y)?);
    let ok = match op {
        0 | 1 => {
            let same = lx == ly && all_contained_in(vm, &x, &y)?;
            same == (op == 0)
        }
        2 => lx < ly && all_contained_in(vm, &x, &y)?,
        3 => lx <= ly && all_contained_in(vm, &x, &y)?,
        4 => lx > ly && all_contained_in(vm, &y, &x)?,
        _ => lx >= ly && all_contained_in(vm, &y, &x)?,
    };
    Ok(Value::Bool(ok))
}

/// `set(view)`: a keys view of a plain dict converts as the dict itself (presized).
fn view_to_set(vm: &mut Vm, v: &Value) -> PyResult<Rc<crate::objects::set::PySet>> {
    if let Some((owner @ Value::Dict(_), _, 0)) = view_parts(v) {
        return ops::set_from(vm, &owner);
    }
    ops::set_from(vm, v)
}

/// `view & other` and friends (`_PyDictView_Intersect`, `dictviews_or`, `_sub`, `_xor`);
/// `reflected` means the view was the right operand.
fn view_binary(vm: &mut Vm, a: Args, op: u8, reflected: bool) -> PyResult<Value> {
    exact_args(vm, "__and__", &a, 1)?;
    let (left, right) = if reflected {
        (a.pos[1].clone(), a.pos[0].clone())
    } else {
        (a.pos[0].clone(), a.pos[1].clone())
    };
    if op == 12 {
        return view_intersect(vm, &a.pos[0], &a.pos[1]);
    }
    let result = view_to_set(vm, &left)?;
    match op {
        10 => ops::set_update(vm, &result, &right)?,
        1 => ops::set_difference_update(vm, &result, &right)?,
        _ => ops::set_symmetric_difference_update(vm, &result, &right)?,
    }
    Ok(Value::Set(result))
}

fn view_intersect(vm: &mut Vm, view: &Value, other: &Value) -> PyResult<Value> {
    let (mut this, mut other) = (view.clone(), other.clone());
    let len_self = len_of(vm, &this)?;
    if let Value::Set(_) = other {
        if len_self <= len_of(vm, &other)? {
            let o = other.clone();
            return vm.call_method(&o, "intersection", vec![this]);
        }
    }
    if is_set_view(&other) && len_of(vm, &other)? > len_self {
        std::mem::swap(&mut this, &mut other);
    }
    let Some((_, d, kind)) = view_parts(&this) else {
        return Ok(Value::NotImplemented);
    };
    let result = ops::empty_set_data();
    let it = ops::get_iter(vm, &other)?;
    while let Some(x) = ops::iter_next(vm, &it)? {
        if contains_in_view(vm, &d, kind, &x)? {
            let h = ops::hash(vm, &x)?;
            ops::set_add_hashed(vm, &result, x, h)?;
        }
    }
    Ok(Value::Set(result))
}

fn view_isdisjoint(vm: &mut Vm, a: Args) -> PyResult<Value> {
    exact_args(vm, "isdisjoint", &a, 1)?;
    let (this, other) = (a.pos[0].clone(), a.pos[1].clone());
    if this.is(&other) {
        return Ok(Value::Bool(len_of(vm, &this)? == 0));
    }
    let (scan, probe) = if (ops::any_set(&other).is_some() || is_set_view(&other))
        && len_of(vm, &other)? > len_of(vm, &this)?
    {
        (this, other)
    } else {
        (other, this)
    };
    let it = ops::get_iter(vm, &scan)?;
    while let Some(x) = ops::iter_next(vm, &it)? {
        if ops::contains(vm, &probe, &x)? {
            return Ok(Value::Bool(false));
        }
    }
    Ok(Value::Bool(true))
}
