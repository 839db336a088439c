//! Methods of the built-in sequence types `list`, `tuple` and `range`, plus the argument-checking
//! helpers the container method files share (CPython's two message styles: `list.append() takes
//! exactly one argument (0 given)` for simple methods, `insert expected 2 arguments, got 1` for
//! Argument Clinic ones).
//!
//! The receiver may be an instance of a subclass (its list or tuple is the payload), because
//! subclasses reach these through `super().append(x)` or `list.__getitem__(self, i)`.

use std::rc::Rc;

use super::new_iter;
use crate::objects::class::Payload;
use crate::objects::function::{Args, NativeFn};
use crate::objects::iter::NativeIter;
use crate::ops;
use crate::value::{PyList, PyTuple, Value};
use crate::vm::Vm;
use crate::PyResult;

// ---- argument helpers shared by the container method files ----

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// Checks a simple method (`METH_O` / `METH_NOARGS` in CPython) got `n` (0 or 1) arguments
/// besides its receiver, and no keywords.
pub fn exact_args(vm: &Vm, qualname: &str, a: &Args, n: usize) -> PyResult<()> {
    if !a.kw.is_empty() {
        return Err(vm.type_error(format!("{qualname}() takes no keyword arguments")));
    }
    let given = a.pos.len().saturating_sub(1);
    if given != n {
        return Err(vm.type_error(if n == 0 {
            format!("{qualname}() takes no arguments ({given} given)")
        } else {
            format!("{qualname}() takes exactly one argument ({given} given)")
        }));
    }
    Ok(())
}

/// Checks an Argument Clinic method got between `min` and `max` positional arguments besides
/// its receiver, and no keywords.
pub fn clinic_args(vm: &Vm, name: &str, a: &Args, min: usize, max: usize) -> PyResult<()> {
    if !a.kw.is_empty() {
        return Err(vm.type_error(format!("{name}() takes no keyword arguments")));
    }
    let given = a.pos.len().saturating_sub(1);
    let msg = if min == max && given != min {
        format!("{name} expected {min} argument{}, got {given}", plural(min))
    } else if given < min {
        format!(
            "{name} expected at least {min} argument{}, got {given}",
            plural(min)
        )
    } else if given > max {
        format!(
            "{name} expected at most {max} argument{}, got {given}",
            plural(max)
        )
    } else {
        return Ok(());
    };
    Err(vm.type_error(msg))
}

/// `descriptor 'append' for 'list' objects doesn't apply to a 'int' object`.
pub fn descriptor_error(vm: &Vm, name: &str, owner: &str, recv: &Value) -> Value {
    vm.type_error(format!(
        "descriptor '{name}' for '{owner}' objects doesn't apply to a '{}' object",
        vm.type_name(recv)
    ))
}

/// An integer argument (`PyNumber_AsSsize_t`): ints, bools, `__index__`; big ints overflow.
pub fn ssize_arg(vm: &mut Vm, v: &Value) -> PyResult<i64> {
    match v {
        Value::Int(i) => Ok(*i),
        Value::Bool(b) => Ok(*b as i64),
        Value::BigInt(_) => Err(vm.error(
            "OverflowError",
            "Python int too large to convert to C ssize_t",
        )),
        _ => {
            if let Some(f) = vm.type_of(v).lookup("__index__") {
                if !matches!(v, Value::Float(_) | Value::Str(_)) {
                    let r = vm.call(&f, vec![v.clone()])?;
                    return ssize_arg(vm, &r);
                }
            }
            Err(vm.type_error(format!(
                "'{}' object cannot be interpreted as an integer",
                vm.type_name(v)
            )))
        }
    }
}

/// A start/stop bound of `index()` (`_PyEval_SliceIndexNotNone`): big ints clamp.
fn slice_bound(vm: &mut Vm, v: &Value) -> PyResult<i64> {
    match v {
        Value::Int(i) => Ok(*i),
        Value::Bool(b) => Ok(*b as i64),
        Value::BigInt(b) => Ok(if num_traits::Signed::is_negative(&**b) {
            i64::MIN
        } else {
            i64::MAX
        }),
        _ => {
            if matches!(v, Value::Instance(_)) && vm.type_of(v).lookup("__index__").is_some() {
                return ssize_arg(vm, v);
            }
            Err(vm.type_error("slice indices must be integers or have an __index__ method"))
        }
    }
}

/// Resolves `index(x, start, stop)` bounds against a length, as CPython clamps them.
fn index_range(vm: &mut Vm, a: &Args, len: usize) -> PyResult<(usize, usize)> {
    let norm = |i: i64| -> usize {
        if i < 0 {
            (i.saturating_add(len as i64)).max(0) as usize
        } else {
            (i as usize).min(len)
        }
    };
    let start = match a.pos.get(2) {
        Some(v) => norm(slice_bound(vm, v)?),
        None => 0,
    };
    let stop = match a.pos.get(3) {
        Some(v) => norm(slice_bound(vm, v)?),
        None => len,
    };
    Ok((start, stop))
}

// ---- list ----

pub fn install(vm: &mut Vm) {
    install_list(vm);
    install_tuple(vm);
    install_range(vm);
}

fn install_list(vm: &mut Vm) {
    let list = vm.types.list.clone();
    let defs: &[(&str, NativeFn)] = &[
        ("append", append),
        ("extend", extend),
        ("insert", insert),
        ("remove", remove),
        ("pop", pop),
        ("clear", |vm, a| {
            exact_args(vm, "list.clear", &a, 0)?;
            list_of(vm, &a, "clear")?.borrow_mut().clear();
            Ok(Value::None)
        }),
        ("index", list_index),
        ("count", list_count),
        ("sort", sort),
        ("reverse", |vm, a| {
            exact_args(vm, "list.reverse", &a, 0)?;
            list_of(vm, &a, "reverse")?.borrow_mut().reverse();
            Ok(Value::None)
        }),
        ("copy", |vm, a| {
            exact_args(vm, "list.copy", &a, 0)?;
            let items = list_of(vm, &a, "copy")?.borrow().clone();
            Ok(Value::list(items))
        }),
        ("__init__", list_init),
        ("__len__", |vm, a| {
            let n = list_of(vm, &a, "__len__")?.borrow().len();
            Ok(Value::Int(n as i64))
        }),
        ("__getitem__", |vm, a| {
            exact_args(vm, "list.__getitem__", &a, 1)?;
            let l = Value::List(list_of(vm, &a, "__getitem__")?);
            ops::getitem(vm, &l, &a.pos[1])
        }),
        ("__setitem__", |vm, a| {
            clinic_args(vm, "__setitem__", &a, 2, 2)?;
            let l = Value::List(list_of(vm, &a, "__setitem__")?);
            ops::setitem(vm, &l, a.pos[1].clone(), a.pos[2].clone())?;
            Ok(Value::None)
        }),
        ("__delitem__", |vm, a| {
            exact_args(vm, "list.__delitem__", &a, 1)?;
            let l = Value::List(list_of(vm, &a, "__delitem__")?);
            ops::delitem(vm, &l, &a.pos[1])?;
            Ok(Value::None)
        }),
        ("__contains__", |vm, a| {
            exact_args(vm, "list.__contains__", &a, 1)?;
            let l = Value::List(list_of(vm, &a, "__contains__")?);
            Ok(Value::Bool(ops::contains(vm, &l, &a.pos[1])?))
        }),
        ("__iter__", |vm, a| {
            let l = Value::List(list_of(vm, &a, "__iter__")?);
            Ok(new_iter(NativeIter::List { list: l, index: 0 }))
        }),
        ("__reversed__", |vm, a| {
            let l = list_of(vm, &a, "__reversed__")?;
            let n = l.borrow().len() as i64;
            Ok(new_iter(NativeIter::Reversed {
                seq: Value::List(l),
                index: n - 1,
            }))
        }),
        ("__add__", |vm, a| seq_binary(vm, a, 0)),
        ("__mul__", |vm, a| seq_binary(vm, a, 2)),
        ("__rmul__", |vm, a| seq_binary(vm, a, 2)),
        ("__iadd__", |vm, a| {
            exact_args(vm, "list.__iadd__", &a, 1)?;
            let l = list_of(vm, &a, "__iadd__")?;
            let items = ops::collect(vm, &a.pos[1])?;
            l.borrow_mut().extend(items);
            Ok(a.pos[0].clone())
        }),
        ("__imul__", |vm, a| {
            exact_args(vm, "list.__imul__", &a, 1)?;
            let l = Value::List(list_of(vm, &a, "__imul__")?);
            ops::inplace_op(vm, &l, &a.pos[1], 2)?;
            Ok(a.pos[0].clone())
        }),
        ("__eq__", |vm, a| seq_compare(vm, a, 0)),
        ("__ne__", |vm, a| seq_compare(vm, a, 1)),
        ("__lt__", |vm, a| seq_compare(vm, a, 2)),
        ("__le__", |vm, a| seq_compare(vm, a, 3)),
        ("__gt__", |vm, a| seq_compare(vm, a, 4)),
        ("__ge__", |vm, a| seq_compare(vm, a, 5)),
    ];
    for (name, f) in defs {
        vm.add_method(&list, name, *f);
    }
    list.set_attr(vm.intern("__hash__"), Value::None);
}

/// The list behind the receiver: a list, or a list-subclass instance's payload.
pub fn list_payload(v: &Value) -> Option<Rc<PyList>> {
    match v {
        Value::List(l) => Some(l.clone()),
        Value::Instance(i) => match &i.payload {
            Payload::List(l) => Some(l.clone()),
            _ => None,
        },
        _ => None,
    }
}

fn list_of(vm: &Vm, a: &Args, name: &str) -> PyResult<Rc<PyList>> {
    let recv = a.pos.first().unwrap_or(&Value::None);
    list_payload(recv).ok_or_else(|| descriptor_error(vm, name, "list", recv))
}

/// The built-in sequence behind a list or tuple receiver or operand (subclass payloads too).
fn seq_value(v: &Value) -> Option<Value> {
    match v {
        Value::List(_) | Value::Tuple(_) => Some(v.clone()),
        Value::Instance(i) => match &i.payload {
            Payload::List(l) => Some(Value::List(l.clone())),
            Payload::Tuple(t) => Some(Value::Tuple(t.clone())),
            _ => None,
        },
        _ => None,
    }
}

/// `__add__` / `__mul__` of lists and tuples, for subclasses and direct calls; NotImplemented
/// for operands of another kind, so the other operand's reflected method gets its turn.
fn seq_binary(vm: &mut Vm, a: Args, op: u8) -> PyResult<Value> {
    super::check_one_operand(vm, &a)?;
    let Some(x) = seq_value(&a.pos[0]) else {
        return Ok(Value::NotImplemented);
    };
    let y = if op == 0 {
        match seq_value(&a.pos[1]) {
            Some(y) if std::mem::discriminant(&y) == std::mem::discriminant(&x) => y,
            _ => return Ok(Value::NotImplemented),
        }
    } else {
        match &a.pos[1] {
            Value::Int(_) | Value::Bool(_) | Value::BigInt(_) => a.pos[1].clone(),
            v if matches!(v, Value::Instance(_)) && vm.type_of(v).lookup("__index__").is_some() => {
                v.clone()
            }
            _ => return Ok(Value::NotImplemented),
        }
    };
    ops::binary_op(vm, &x, &y, op)
}

fn seq_compare(vm: &mut Vm, a: Args, op: u8) -> PyResult<Value> {
    super::check_one_operand(vm, &a)?;
    let (Some(x), Some(y)) = (seq_value(&a.pos[0]), seq_value(&a.pos[1])) else {
        return Ok(Value::NotImplemented);
    };
    if std::mem::discriminant(&x) != std::mem::discriminant(&y) {
        return Ok(Value::NotImplemented);
    }
    ops::compare(vm, &x, &y, op)
}

fn list_init(vm: &mut Vm, a: Args) -> PyResult<Value> {
    if !a.kw.is_empty() {
        return Err(vm.type_error("list() takes no keyword arguments"));
    }
    if a.pos.len() > 2 {
        return Err(vm.type_error(format!(
            "list expected at most 1 argument, got {}",
            a.pos.len() - 1
        )));
    }
    let l = list_of(vm, &a, "__init__")?;
    let items = match a.pos.get(1) {
        Some(v) => ops::collect(vm, v)?,
        None => Vec::new(),
    };
    *l.borrow_mut() = items;
    Ok(Value::None)
}

fn append(vm: &mut Vm, mut a: Args) -> PyResult<Value> {
    exact_args(vm, "list.append", &a, 1)?;
    let l = list_of(vm, &a, "append")?;
    // Moved out rather than cloned: the argument vector is dropped right after.
    let item = std::mem::take(&mut a.pos[1]);
    l.borrow_mut().push(item);
    Ok(Value::None)
}

fn extend(vm: &mut Vm, a: Args) -> PyResult<Value> {
    exact_args(vm, "list.extend", &a, 1)?;
    let l = list_of(vm, &a, "extend")?;
    let items = ops::collect(vm, &a.pos[1])?;
    l.borrow_mut().extend(items);
    Ok(Value::None)
}

fn insert(vm: &mut Vm, a: Args) -> PyResult<Value> {
    clinic_args(vm, "insert", &a, 2, 2)?;
    let l = list_of(vm, &a, "insert")?;
    let i = ssize_arg(vm, &a.pos[1])?;
    let mut l = l.borrow_mut();
    let n = l.len() as i64;
    let at = if i < 0 { (i + n).max(0) } else { i.min(n) };
    l.insert(at as usize, a.pos[2].clone());
    Ok(Value::None)
}

fn pop(vm: &mut Vm, a: Args) -> PyResult<Value> {
    clinic_args(vm, "pop", &a, 0, 1)?;
    let l = list_of(vm, &a, "pop")?;
    let i = match a.pos.get(1) {
        Some(v) => ssize_arg(vm, v)?,
        None => -1,
    };
    let mut l = l.borrow_mut();
    if l.is_empty() {
        return Err(vm.index_error("pop from empty list"));
    }
    match ops::norm_index(i, l.len()) {
        Some(i) => Ok(l.remove(i)),
        None => Err(vm.index_error("pop index out of range")),
    }
}

/// The first position in `start..stop` whose item equals `x` (identity first, then `==`, the
/// list re-read each step because a script `__eq__` may change it).
fn find_in_list(
    vm: &mut Vm,
    l: &PyList,
    x: &Value,
    start: usize,
    stop: usize,
) -> PyResult<Option<usize>> {
    let mut i = start;
    while i < stop {
        let item = match l.borrow().get(i) {
            Some(v) => v.clone(),
            None => break,
        };
        if item.is(x) || ops::eq(vm, &item, x)? {
            return Ok(Some(i));
        }
        i += 1;
    }
    Ok(None)
}

fn remove(vm: &mut Vm, a: Args) -> PyResult<Value> {
    exact_args(vm, "list.remove", &a, 1)?;
    let l = list_of(vm, &a, "remove")?;
    let n = l.borrow().len();
    match find_in_list(vm, &l, &a.pos[1], 0, n)? {
        Some(i) => {
            let mut l = l.borrow_mut();
            if i < l.len() {
                l.remove(i);
            }
            Ok(Value::None)
        }
        None => Err(vm.value_error("list.remove(x): x not in list")),
    }
}

fn list_index(vm: &mut Vm, a: Args) -> PyResult<Value> {
    clinic_args(vm, "index", &a, 1, 3)?;
    let l = list_of(vm, &a, "index")?;
    let n = l.borrow().len();
    let (start, stop) = index_range(vm, &a, n)?;
    match find_in_list(vm, &l, &a.pos[1], start, stop)? {
        Some(i) => Ok(Value::Int(i as i64)),
        None => {
            let r = ops::repr(vm, &a.pos[1])?;
            Err(vm.value_error(format!("{r} is not in list")))
        }
    }
}

fn count_in(vm: &mut Vm, items: &[Value], x: &Value) -> PyResult<Value> {
    let mut n = 0;
    for item in items {
        if item.is(x) || ops::eq(vm, item, x)? {
            n += 1;
        }
    }
    Ok(Value::Int(n))
}

fn list_count(vm: &mut Vm, a: Args) -> PyResult<Value> {
    exact_args(vm, "list.count", &a, 1)?;
    let items = list_of(vm, &a, "count")?.borrow().clone();
    count_in(vm, &items, &a.pos[1])
}

/// `list.sort(*, key=None, reverse=False)`: stable, in place. While sorting the list looks
/// empty; a change made meanwhile (by a key function or `__lt__`) is an error, as in CPython.
fn sort(vm: &mut Vm, mut a: Args) -> PyResult<Value> {
    let key = a.take_kw("key");
    let reverse = a.take_kw("reverse");
    if let Some((k, _)) = a.kw.first() {
        return Err(vm.type_error(format!(
            "'{}' is an invalid keyword argument for sort()",
            k.s
        )));
    }
    if a.pos.len() > 1 {
        return Err(vm.type_error("sort() takes no positional arguments"));
    }
    let l = list_of(vm, &a, "sort")?;
    let reverse = match reverse {
        Some(r @ (Value::Int(_) | Value::Bool(_) | Value::BigInt(_))) => ops::truthy(vm, &r)?,
        Some(r) => {
            return Err(vm.type_error(format!(
                "'{}' object cannot be interpreted as an integer",
                vm.type_name(&r)
            )))
        }
        None => false,
    };
    let items = std::mem::take(&mut *l.borrow_mut());
    let result = super::methods::sort_values(vm, items.clone(), key, reverse);
    let modified = !l.borrow().is_empty();
    match result {
        Ok(sorted) => {
            *l.borrow_mut() = sorted;
            if modified {
                return Err(vm.value_error("list modified during sort"));
            }
            Ok(Value::None)
        }
        Err(e) => {
            *l.borrow_mut() = items;
            Err(e)
        }
    }
}

// ---- tuple ----

fn install_tuple(vm: &mut Vm) {
    let tuple = vm.types.tuple.clone();
    let defs: &[(&str, NativeFn)] = &[
        ("index", |vm, a| {
            clinic_args(vm, "index", &a, 1, 3)?;
            let t = tuple_of(vm, &a, "index")?;
            let (start, stop) = index_range(vm, &a, t.len())?;
            for i in start..stop {
                if t[i].is(&a.pos[1]) || ops::eq(vm, &t[i], &a.pos[1])? {
                    return Ok(Value::Int(i as i64));
                }
            }
            Err(vm.value_error("tuple.index(x): x not in tuple"))
        }),
        ("count", |vm, a| {
            exact_args(vm, "tuple.count", &a, 1)?;
            let t = tuple_of(vm, &a, "count")?;
            count_in(vm, &t, &a.pos[1])
        }),
        // The items were fixed when the tuple was made; a subclass's `__init__` args are ignored.
        ("__init__", |_vm, _a| Ok(Value::None)),
        ("__len__", |vm, a| {
            Ok(Value::Int(tuple_of(vm, &a, "__len__")?.len() as i64))
        }),
        ("__getitem__", |vm, a| {
            exact_args(vm, "tuple.__getitem__", &a, 1)?;
            let t = Value::Tuple(tuple_of(vm, &a, "__getitem__")?);
            ops::getitem(vm, &t, &a.pos[1])
        }),
        ("__contains__", |vm, a| {
            exact_args(vm, "tuple.__contains__", &a, 1)?;
            let t = Value::Tuple(tuple_of(vm, &a, "__contains__")?);
            Ok(Value::Bool(ops::contains(vm, &t, &a.pos[1])?))
        }),
        ("__iter__", |vm, a| {
            let t = tuple_of(vm, &a, "__iter__")?;
            Ok(new_iter(NativeIter::Tuple { tuple: t, index: 0 }))
        }),
        ("__hash__", |vm, a| {
            let t = Value::Tuple(tuple_of(vm, &a, "__hash__")?);
            Ok(Value::Int(ops::hash(vm, &t)?))
        }),
        ("__add__", |vm, a| seq_binary(vm, a, 0)),
        ("__mul__", |vm, a| seq_binary(vm, a, 2)),
        ("__rmul__", |vm, a| seq_binary(vm, a, 2)),
        ("__eq__", |vm, a| seq_compare(vm, a, 0)),
        ("__ne__", |vm, a| seq_compare(vm, a, 1)),
        ("__lt__", |vm, a| seq_compare(vm, a, 2)),
        ("__le__", |vm, a| seq_compare(vm, a, 3)),
        ("__gt__", |vm, a| seq_compare(vm, a, 4)),
        ("__ge__", |vm, a| seq_compare(vm, a, 5)),
    ];
    for (name, f) in defs {
        vm.add_method(&tuple, name, *f);
    }
}

fn tuple_of(vm: &Vm, a: &Args, name: &str) -> PyResult<Rc<PyTuple>> {
    let recv = a.pos.first().cloned().unwrap_or(Value::None);
    match &recv {
        Value::Tuple(t) => Ok(t.clone()),
        Value::Instance(i) => match &i.payload {
            Payload::Tuple(t) => Ok(t.clone()),
            _ => Err(descriptor_error(vm, name, "tuple", &recv)),
        },
        _ => Err(descriptor_error(vm, name, "tuple", &recv)),
    }
}

// ---- range ----

fn install_range(vm: &mut Vm) {
    let range = vm.types.range.clone();
    let defs: &[(&str, NativeFn)] = &[
        ("index", |vm, a| {
            exact_args(vm, "range.index", &a, 1)?;
            let r = range_of(vm, &a, "index")?;
            if let Some(i) = range_position(vm, &r, &a.pos[1])? {
                return Ok(Value::Int(i));
            }
            let s = ops::repr(vm, &a.pos[1])?;
            Err(vm.value_error(format!("{s} is not in range")))
        }),
        ("count", |vm, a| {
            exact_args(vm, "range.count", &a, 1)?;
            let r = range_of(vm, &a, "count")?;
            if matches!(a.pos[1], Value::Int(_) | Value::Bool(_)) {
                return Ok(Value::Int(
                    range_position(vm, &r, &a.pos[1])?.is_some() as i64
                ));
            }
            let items = ops::collect(vm, &r)?;
            count_in(vm, &items, &a.pos[1])
        }),
        ("__len__", |vm, a| {
            let r = range_of(vm, &a, "__len__")?;
            let Value::Range(r) = r else {
                return Ok(Value::Int(0));
            };
            Ok(Value::Int(r.len()))
        }),
        ("__contains__", |vm, a| {
            exact_args(vm, "range.__contains__", &a, 1)?;
            let r = range_of(vm, &a, "__contains__")?;
            Ok(Value::Bool(ops::contains(vm, &r, &a.pos[1])?))
        }),
        ("__iter__", |vm, a| {
            let r = range_of(vm, &a, "__iter__")?;
            ops::get_iter(vm, &r)
        }),
        ("__getitem__", |vm, a| {
            exact_args(vm, "range.__getitem__", &a, 1)?;
            let r = range_of(vm, &a, "__getitem__")?;
            ops::getitem(vm, &r, &a.pos[1])
        }),
        ("__reversed__", |vm, a| {
            let r = range_of(vm, &a, "__reversed__")?;
            let Value::Range(r) = r else {
                return Ok(Value::None);
            };
            let n = r.len();
            let last = r.get(n - 1);
            Ok(new_iter(NativeIter::Range {
                next: last,
                stop: r.start - r.step,
                step: -r.step,
            }))
        }),
    ];
    for (name, f) in defs {
        vm.add_method(&range, name, *f);
    }
}

fn range_of(vm: &Vm, a: &Args, name: &str) -> PyResult<Value> {
    match a.pos.first() {
        Some(r @ Value::Range(_)) => Ok(r.clone()),
        other => Err(descriptor_error(
            vm,
            name,
            "range",
            &other.cloned().unwrap_or(Value::None),
        )),
    }
}

/// The position of `x` in the range: arithmetic for ints, else by equality, item by item.
fn range_position(vm: &mut Vm, r: &Value, x: &Value) -> PyResult<Option<i64>> {
    let Value::Range(rg) = r else { return Ok(None) };
    if let Value::Int(_) | Value::Bool(_) = x {
        let i = if let Value::Bool(b) = x {
            *b as i64
        } else if let Value::Int(i) = x {
            *i
        } else {
            0
        };
        let inside = if rg.step > 0 {
            i >= rg.start && i < rg.stop
        } else {
            i <= rg.start && i > rg.stop
        };
        if inside && (i - rg.start) % rg.step == 0 {
            return Ok(Some((i - rg.start) / rg.step));
        }
        return Ok(None);
    }
    let items = ops::collect(vm, r)?;
    for (i, v) in items.iter().enumerate() {
        if ops::eq(vm, v, x)? {
            return Ok(Some(i as i64));
        }
    }
    Ok(None)
}
