//! Methods of `set` and `frozenset` (and the dunders subclasses reach through `super()`), with
//! CPython's argument handling and messages. The algorithms are `crate::ops::sets`.

use std::rc::Rc;

use super::list_methods::{descriptor_error, exact_args};
use super::new_iter;
use crate::objects::class::{BuiltinKind, Payload};
use crate::objects::function::{Args, NativeFn};
use crate::objects::iter::NativeIter;
use crate::objects::set::PySet;
use crate::ops;
use crate::value::Value;
use crate::vm::Vm;
use crate::PyResult;

pub fn install(vm: &mut Vm) {
    let set = vm.types.set.clone();
    let frozenset = vm.types.frozenset.clone();
    let shared: &[(&str, NativeFn)] = &[
        ("copy", copy),
        ("union", union),
        ("intersection", intersection),
        ("difference", difference),
        ("symmetric_difference", symmetric_difference),
        ("issubset", issubset),
        ("issuperset", issuperset),
        ("isdisjoint", isdisjoint),
        ("__contains__", contains),
        ("__len__", len),
        ("__iter__", iter),
        ("__or__", |vm, a| binary_dunder(vm, a, 10, false)),
        ("__and__", |vm, a| binary_dunder(vm, a, 12, false)),
        ("__sub__", |vm, a| binary_dunder(vm, a, 1, false)),
        ("__xor__", |vm, a| binary_dunder(vm, a, 11, false)),
        ("__ror__", |vm, a| binary_dunder(vm, a, 10, true)),
        ("__rand__", |vm, a| binary_dunder(vm, a, 12, true)),
        ("__rsub__", |vm, a| binary_dunder(vm, a, 1, true)),
        ("__rxor__", |vm, a| binary_dunder(vm, a, 11, true)),
        ("__eq__", |vm, a| compare_dunder(vm, a, 0)),
        ("__ne__", |vm, a| compare_dunder(vm, a, 1)),
        ("__lt__", |vm, a| compare_dunder(vm, a, 2)),
        ("__le__", |vm, a| compare_dunder(vm, a, 3)),
        ("__gt__", |vm, a| compare_dunder(vm, a, 4)),
        ("__ge__", |vm, a| compare_dunder(vm, a, 5)),
    ];
    for (name, f) in shared {
        vm.add_method(&set, name, *f);
        vm.add_method(&frozenset, name, *f);
    }
    let set_only: &[(&str, NativeFn)] = &[
        ("add", add),
        ("remove", remove),
        ("discard", discard),
        ("pop", pop),
        ("clear", clear),
        ("update", update),
        ("intersection_update", intersection_update),
        ("difference_update", difference_update),
        ("symmetric_difference_update", symmetric_difference_update),
        ("__init__", set_init),
        ("__ior__", |vm, a| inplace_dunder(vm, a, 10)),
        ("__iand__", |vm, a| inplace_dunder(vm, a, 12)),
        ("__isub__", |vm, a| inplace_dunder(vm, a, 1)),
        ("__ixor__", |vm, a| inplace_dunder(vm, a, 11)),
    ];
    for (name, f) in set_only {
        vm.add_method(&set, name, *f);
    }
    vm.add_method(&frozenset, "__init__", frozenset_init);
    vm.add_method(&frozenset, "__hash__", |vm, a| {
        exact_args(vm, "frozenset.__hash__", &a, 0)?;
        let s = receiver(vm, &a, "__hash__", false)?;
        let h = s.borrow().frozen_hash();
        Ok(Value::Int(h))
    });
    set.set_attr(vm.intern("__hash__"), Value::None);
}

/// The table of the receiver `a.pos[0]`: a set or frozenset, or the payload of an instance of a
/// subclass. `mutating` methods refuse a frozenset with CPython's descriptor message.
fn receiver(vm: &mut Vm, a: &Args, name: &str, mutating: bool) -> PyResult<Rc<PySet>> {
    let recv = a.pos.first().cloned().unwrap_or(Value::None);
    let owner = if mutating {
        "set"
    } else {
        set_type_name(&recv)
    };
    if mutating && ops::is_frozen(&recv) {
        return Err(descriptor_error(vm, name, owner, &recv));
    }
    match &recv {
        Value::Set(s) | Value::FrozenSet(s) => Ok(s.clone()),
        Value::Instance(i) if matches!(i.class.kind, BuiltinKind::Set | BuiltinKind::FrozenSet) => {
            instance_set(vm, &recv)
        }
        _ => Err(descriptor_error(vm, name, owner, &recv)),
    }
}

fn set_type_name(v: &Value) -> &'static str {
    if ops::is_frozen(v) {
        "frozenset"
    } else {
        "set"
    }
}

/// The payload table of a set-subclass instance. A `set` subclass whose `__init__` never reached
/// `set.__init__` is empty, as in CPython; a `frozenset` subclass holds its constructor argument.
fn instance_set(vm: &mut Vm, v: &Value) -> PyResult<Rc<PySet>> {
    let Value::Instance(i) = v else {
        return Err(vm.type_error("not a set"));
    };
    let Payload::Value(p) = &i.payload else {
        return Err(vm.type_error("not a set"));
    };
    let current = p.borrow().clone();
    if let Some(s) = ops::set_data(&current) {
        return Ok(s);
    }
    let s = if i.class.kind == BuiltinKind::FrozenSet && !current.is_none() {
        ops::set_from(vm, &current)?
    } else {
        ops::empty_set_data()
    };
    *p.borrow_mut() = ops::wrap_set(i.class.kind == BuiltinKind::FrozenSet, s.clone());
    Ok(s)
}

fn no_kwargs(vm: &Vm, a: &Args, qualname: &str) -> PyResult<()> {
    if !a.kw.is_empty() {
        return Err(vm.type_error(format!("{qualname}() takes no keyword arguments")));
    }
    Ok(())
}

/// `set.__init__(self, iterable=())`: refills the set.
fn set_init(vm: &mut Vm, a: Args) -> PyResult<Value> {
    no_kwargs(vm, &a, "set")?;
    if a.pos.len() > 2 {
        return Err(vm.type_error(format!(
            "set expected at most 1 argument, got {}",
            a.pos.len() - 1
        )));
    }
    let s = receiver(vm, &a, "__init__", true)?;
    s.borrow_mut().clear();
    if let Some(it) = a.pos.get(1) {
        ops::set_update(vm, &s, it)?;
    }
    Ok(Value::None)
}

/// `frozenset.__init__`: the contents were fixed at creation; this only makes sure a subclass
/// instance's payload is built.
fn frozenset_init(vm: &mut Vm, a: Args) -> PyResult<Value> {
    if let Some(v @ Value::Instance(_)) = a.pos.first() {
        let v = v.clone();
        instance_set(vm, &v)?;
    }
    Ok(Value::None)
}

fn add(vm: &mut Vm, a: Args) -> PyResult<Value> {
    exact_args(vm, "set.add", &a, 1)?;
    let s = receiver(vm, &a, "add", true)?;
    let h = ops::hash(vm, &a.pos[1])?;
    ops::set_add_hashed(vm, &s, a.pos[1].clone(), h)?;
    Ok(Value::None)
}

fn remove(vm: &mut Vm, a: Args) -> PyResult<Value> {
    exact_args(vm, "set.remove", &a, 1)?;
    let s = receiver(vm, &a, "remove", true)?;
    if !ops::set_discard(vm, &s, &a.pos[1])? {
        return Err(vm.key_error(a.pos[1].clone()));
    }
    Ok(Value::None)
}

fn discard(vm: &mut Vm, a: Args) -> PyResult<Value> {
    exact_args(vm, "set.discard", &a, 1)?;
    let s = receiver(vm, &a, "discard", true)?;
    ops::set_discard(vm, &s, &a.pos[1])?;
    Ok(Value::None)
}

fn pop(vm: &mut Vm, a: Args) -> PyResult<Value> {
    exact_args(vm, "set.pop", &a, 0)?;
    let s = receiver(vm, &a, "pop", true)?;
    let popped = s.borrow_mut().pop();
    popped.ok_or_else(|| vm.key_error(Value::str("pop from an empty set")))
}

fn clear(vm: &mut Vm, a: Args) -> PyResult<Value> {
    exact_args(vm, "set.clear", &a, 0)?;
    let s = receiver(vm, &a, "clear", true)?;
    s.borrow_mut().clear();
    Ok(Value::None)
}

/// `s.copy()`: a frozenset's copy is itself.
fn copy(vm: &mut Vm, a: Args) -> PyResult<Value> {
    let recv = a.pos.first().cloned().unwrap_or(Value::None);
    exact_args(vm, &format!("{}.copy", set_type_name(&recv)), &a, 0)?;
    if let Value::FrozenSet(_) = recv {
        return Ok(recv);
    }
    let s = receiver(vm, &a, "copy", false)?;
    let c = ops::set_copy(vm, &s)?;
    Ok(ops::wrap_set(ops::is_frozen(&recv), c))
}

/// The receiver's table, its base type, and the other positional arguments.
fn multi(vm: &mut Vm, a: &Args, name: &str) -> PyResult<(Rc<PySet>, bool, Vec<Value>)> {
    let recv = a.pos.first().cloned().unwrap_or(Value::None);
    no_kwargs(vm, a, &format!("{}.{name}", set_type_name(&recv)))?;
    let s = receiver(vm, a, name, false)?;
    Ok((s, ops::is_frozen(&recv), a.pos[1..].to_vec()))
}

fn union(vm: &mut Vm, a: Args) -> PyResult<Value> {
    let (s, frozen, others) = multi(vm, &a, "union")?;
    let result = ops::set_copy(vm, &s)?;
    for o in &others {
        if ops::any_set(o).is_some_and(|x| Rc::ptr_eq(&x, &s)) {
            continue;
        }
        ops::set_update(vm, &result, o)?;
    }
    Ok(ops::wrap_set(frozen, result))
}

fn intersection_multi(vm: &mut Vm, s: &Rc<PySet>, others: &[Value]) -> PyResult<Rc<PySet>> {
    if others.is_empty() {
        return ops::set_copy(vm, s);
    }
    let mut result = s.clone();
    for o in others {
        result = ops::set_intersection(vm, &result, o)?;
    }
    Ok(result)
}

fn intersection(vm: &mut Vm, a: Args) -> PyResult<Value> {
    let (s, frozen, others) = multi(vm, &a, "intersection")?;
    let r = intersection_multi(vm, &s, &others)?;
    Ok(ops::wrap_set(frozen, r))
}

fn difference(vm: &mut Vm, a: Args) -> PyResult<Value> {
    let (s, frozen, others) = multi(vm, &a, "difference")?;
    let Some(first) = others.first() else {
        let c = ops::set_copy(vm, &s)?;
        return Ok(ops::wrap_set(frozen, c));
    };
    let result = ops::set_difference(vm, &s, first)?;
    for o in &others[1..] {
        ops::set_difference_update(vm, &result, o)?;
    }
    Ok(ops::wrap_set(frozen, result))
}

fn symmetric_difference(vm: &mut Vm, a: Args) -> PyResult<Value> {
    let recv = a.pos.first().cloned().unwrap_or(Value::None);
    exact_args(
        vm,
        &format!("{}.symmetric_difference", set_type_name(&recv)),
        &a,
        1,
    )?;
    let s = receiver(vm, &a, "symmetric_difference", false)?;
    let r = ops::set_symmetric_difference(vm, &s, &a.pos[1])?;
    Ok(ops::wrap_set(ops::is_frozen(&recv), r))
}

fn update(vm: &mut Vm, a: Args) -> PyResult<Value> {
    no_kwargs(vm, &a, "set.update")?;
    let s = receiver(vm, &a, "update", true)?;
    for o in &a.pos[1..] {
        ops::set_update(vm, &s, o)?;
    }
    Ok(Value::None)
}

fn intersection_update(vm: &mut Vm, a: Args) -> PyResult<Value> {
    no_kwargs(vm, &a, "set.intersection_update")?;
    let s = receiver(vm, &a, "intersection_update", true)?;
    let r = intersection_multi(vm, &s, &a.pos[1..])?;
    if !Rc::ptr_eq(&r, &s) {
        let body = r.borrow().clone();
        s.borrow_mut().replace_body(body);
    }
    Ok(Value::None)
}

fn difference_update(vm: &mut Vm, a: Args) -> PyResult<Value> {
    no_kwargs(vm, &a, "set.difference_update")?;
    let s = receiver(vm, &a, "difference_update", true)?;
    for o in &a.pos[1..] {
        ops::set_difference_update(vm, &s, o)?;
    }
    Ok(Value::None)
}

fn symmetric_difference_update(vm: &mut Vm, a: Args) -> PyResult<Value> {
    exact_args(vm, "set.symmetric_difference_update", &a, 1)?;
    let s = receiver(vm, &a, "symmetric_difference_update", true)?;
    ops::set_symmetric_difference_update(vm, &s, &a.pos[1])?;
    Ok(Value::None)
}

fn predicate(
    vm: &mut Vm,
    a: Args,
    name: &str,
    f: fn(&mut Vm, &Rc<PySet>, &Value) -> PyResult<bool>,
) -> PyResult<Value> {
    let recv = a.pos.first().cloned().unwrap_or(Value::None);
    exact_args(vm, &format!("{}.{name}", set_type_name(&recv)), &a, 1)?;
    let s = receiver(vm, &a, name, false)?;
    Ok(Value::Bool(f(vm, &s, &a.pos[1])?))
}

fn issubset(vm: &mut Vm, a: Args) -> PyResult<Value> {
    predicate(vm, a, "issubset", ops::set_issubset)
}
fn issuperset(vm: &mut Vm, a: Args) -> PyResult<Value> {
    predicate(vm, a, "issuperset", ops::set_issuperset)
}
fn isdisjoint(vm: &mut Vm, a: Args) -> PyResult<Value> {
    predicate(vm, a, "isdisjoint", ops::set_isdisjoint)
}

fn contains(vm: &mut Vm, a: Args) -> PyResult<Value> {
    let recv = a.pos.first().cloned().unwrap_or(Value::None);
    exact_args(vm, &format!("{}.__contains__", set_type_name(&recv)), &a, 1)?;
    let s = receiver(vm, &a, "__contains__", false)?;
    Ok(Value::Bool(ops::set_contains(vm, &s, &a.pos[1])?))
}

fn len(vm: &mut Vm, a: Args) -> PyResult<Value> {
    let s = receiver(vm, &a, "__len__", false)?;
    let n = s.borrow().len();
    Ok(Value::Int(n as i64))
}

fn iter(vm: &mut Vm, a: Args) -> PyResult<Value> {
    let s = receiver(vm, &a, "__iter__", false)?;
    let n = s.borrow().len();
    Ok(new_iter(NativeIter::Dict {
        dict: Value::Set(s),
        pos: 0,
        kind: 0,
        len_at_start: n,
    }))
}

/// `self op other` (or `other op self` when `reflected`) for subclass instances and direct calls.
fn binary_dunder(vm: &mut Vm, a: Args, op: u8, reflected: bool) -> PyResult<Value> {
    super::check_one_operand(vm, &a)?;
    let (x, y) = if reflected {
        (&a.pos[1], &a.pos[0])
    } else {
        (&a.pos[0], &a.pos[1])
    };
    if ops::any_set(x).is_none() || ops::any_set(y).is_none() {
        return Ok(Value::NotImplemented);
    }
    let (x, y) = (x.clone(), y.clone());
    ops::set_binary(vm, &x, &y, op)
}

fn inplace_dunder(vm: &mut Vm, a: Args, op: u8) -> PyResult<Value> {
    super::check_one_operand(vm, &a)?;
    let (x, y) = (a.pos[0].clone(), a.pos[1].clone());
    match ops::set_inplace(vm, &x, &y, op)? {
        Some(r) => Ok(r),
        None => Ok(Value::NotImplemented),
    }
}

fn compare_dunder(vm: &mut Vm, a: Args, op: u8) -> PyResult<Value> {
    super::check_one_operand(vm, &a)?;
    let (x, y) = (a.pos[0].clone(), a.pos[1].clone());
    ops::set_compare(vm, &x, &y, op)
}
