//! Containers: subscripting, membership, dict and set operations with Python key semantics,
//! unpacking, and the iteration protocol (`iter`, `next`).

use std::cell::RefCell;
use std::rc::Rc;

use super::compare::{eq, fast_eq, hash};
use super::sets::set_contains;
use crate::objects::dict::{DictData, Lookup};
use crate::objects::iter::NativeIter;
use crate::value::{PyStr, Value};
use crate::vm::Vm;
use crate::PyResult;

// ---- dicts ----

/// The dict storage behind a dict or a dict-subclass instance.
pub fn dict_of(v: &Value) -> Option<Rc<RefCell<DictData>>> {
    match v {
        Value::Dict(d) => Some(d.clone()),
        _ => crate::builtins::payload_dict(v),
    }
}

/// Finds `key` (with hash `h`) in `d`, calling script `__eq__` only where needed.
pub fn dict_find(
    vm: &mut Vm,
    d: &RefCell<DictData>,
    key: &Value,
    h: i64,
) -> PyResult<Option<usize>> {
    let found = match key {
        // Str keys are the common case: compare them inline (pointer, then bytes) rather than
        // through the general `fast_eq`.
        Value::Str(s) => d.borrow().lookup(h, |k| match k {
            Value::Str(x) => Some(Rc::ptr_eq(x, s) || x.s == s.s),
            _ => fast_eq(k, key),
        }),
        _ => d.borrow().lookup(h, |k| {
            if k.is(key) {
                Some(true)
            } else {
                fast_eq(k, key)
            }
        }),
    };
    match found {
        Lookup::Found(i) => Ok(Some(i)),
        Lookup::Absent => Ok(None),
        Lookup::Undecided(candidates) => {
            for i in candidates {
                let k = match d.borrow().entry(i) {
                    Some(e) => e.key.clone(),
                    None => continue,
                };
                if eq(vm, &k, key)? {
                    return Ok(Some(i));
                }
            }
            Ok(None)
        }
    }
}

pub fn dict_get_in(vm: &mut Vm, d: &RefCell<DictData>, key: &Value) -> PyResult<Option<Value>> {
    let h = hash(vm, key)?;
    Ok(dict_find(vm, d, key, h)?.and_then(|i| d.borrow().entry(i).map(|e| e.value.clone())))
}

pub fn dict_set_in(vm: &mut Vm, d: &RefCell<DictData>, key: Value, value: Value) -> PyResult<()> {
    let h = hash(vm, &key)?;
    match dict_find(vm, d, &key, h)? {
        Some(i) => d.borrow_mut().set_value_at(i, value),
        None => d.borrow_mut().insert_new(h, key, value),
    }
    Ok(())
}

pub fn dict_del_in(vm: &mut Vm, d: &RefCell<DictData>, key: &Value) -> PyResult<Option<Value>> {
    let h = hash(vm, key)?;
    match dict_find(vm, d, key, h)? {
        Some(i) => Ok(d.borrow_mut().remove_at(i).map(|e| e.value)),
        None => Ok(None),
    }
}

/// A new dict holding a snapshot of an attribute namespace (`obj.__dict__`, `globals()`).
pub fn dict_from_attrs(vm: &mut Vm, attrs: &crate::value::AttrMap) -> PyResult<Value> {
    let items = attr_items(attrs);
    dict_from_attr_items(vm, items)
}

/// The items of an attribute namespace, copied out so no borrow of it is held afterwards.
pub fn attr_items(attrs: &crate::value::AttrMap) -> Vec<(Rc<PyStr>, Value)> {
    attrs
        .iter()
        .map(|(k, v)| (k.0.clone(), v.clone()))
        .collect()
}

/// A new dict holding `items` (from `attr_items`), in order.
pub fn dict_from_attr_items(vm: &mut Vm, items: Vec<(Rc<PyStr>, Value)>) -> PyResult<Value> {
    let d = vm.new_dict();
    for (k, v) in items {
        dict_set(vm, &d, Value::Str(k), v)?;
    }
    Ok(d)
}

/// `d[key] = value` for a dict value.
pub fn dict_set(vm: &mut Vm, d: &Value, key: Value, value: Value) -> PyResult<()> {
    match dict_of(d) {
        Some(dd) => dict_set_in(vm, &dd, key, value),
        None => Err(vm.type_error("not a dict")),
    }
}

pub fn dict_get(vm: &mut Vm, d: &Value, key: &Value) -> PyResult<Option<Value>> {
    match dict_of(d) {
        Some(dd) => dict_get_in(vm, &dd, key),
        None => Ok(None),
    }
}

/// How CPython names a callable in call errors (`_PyObject_FunctionStr`): `__main__.f()`,
/// `__main__.C.m()`, `len()`.
pub fn function_str(vm: &mut Vm, f: &Value) -> String {
    let qualname = match crate::attr::try_get_attr(vm, f, "__qualname__") {
        Ok(Some(Value::Str(q))) => q.s.to_string(),
        _ => return format!("{}()", vm.type_name(f)),
    };
    match crate::attr::try_get_attr(vm, f, "__module__") {
        Ok(Some(Value::Str(m))) if &*m.s != "builtins" => format!("{}.{}()", m.s, qualname),
        _ => format!("{qualname}()"),
    }
}

/// `**other` merged into the keyword dict `d` of a call to `func`, with CPython's messages.
pub fn call_kwargs_merge(vm: &mut Vm, func: &Value, d: &Value, other: &Value) -> PyResult<()> {
    match dict_update_from(vm, d, other, true) {
        Err(e) if vm.exc_matches(&e, "TypeError") => {
            let msg = super::to_str(vm, &e)?;
            if msg.starts_with("got multiple values") || msg.starts_with("argument after **") {
                let fs = function_str(vm, func);
                return Err(vm.type_error(format!("{fs} {msg}")));
            }
            Err(e)
        }
        r => r,
    }
}

/// `d.update(other)` (merge: a repeated key is an error, for `f(**a, **b)`).
pub fn dict_update_from(vm: &mut Vm, d: &Value, other: &Value, merge: bool) -> PyResult<()> {
    let target = dict_of(d).ok_or_else(|| vm.type_error("not a dict"))?;
    if let Some(src) = dict_of(other) {
        let items = src.borrow().items();
        for (k, v) in items {
            if merge && dict_get_in(vm, &target, &k)?.is_some() {
                let ks = super::to_str(vm, &k)?;
                return Err(
                    vm.type_error(format!("got multiple values for keyword argument '{ks}'"))
                );
            }
            dict_set_in(vm, &target, k, v)?;
        }
        return Ok(());
    }
    // A mapping with keys() and __getitem__, or an iterable of pairs.
    if crate::attr::try_get_attr(vm, other, "keys")?.is_some() {
        let keys = vm.call_method(other, "keys", vec![])?;
        for k in collect(vm, &keys)? {
            let v = getitem(vm, other, &k)?;
            dict_set_in(vm, &target, k, v)?;
        }
        return Ok(());
    }
    if merge {
        return Err(vm.type_error(format!(
            "argument after ** must be a mapping, not {}",
            vm.type_name(other)
        )));
    }
    let items = collect(vm, other)
        .map_err(|_| vm.type_error(format!("'{}' object is not iterable", vm.type_name(other))))?;
    for (i, item) in items.into_iter().enumerate() {
        let pair = collect(vm, &item).map_err(|_| {
            vm.type_error(format!(
                "cannot convert dictionary update sequence element #{i} to a sequence"
            ))
        })?;
        if pair.len() != 2 {
            return Err(vm.value_error(format!(
                "dictionary update sequence element #{i} has length {}; 2 is required",
                pair.len()
            )));
        }
        let mut it = pair.into_iter();
        let (k, v) = (it.next().unwrap(), it.next().unwrap());
        dict_set_in(vm, &target, k, v)?;
    }
    Ok(())
}

pub fn dict_eq(vm: &mut Vm, a: &Value, b: &Value) -> PyResult<bool> {
    let (Some(x), Some(y)) = (dict_of(a), dict_of(b)) else {
        return Ok(false);
    };
    if x.borrow().len() != y.borrow().len() {
        return Ok(false);
    }
    let items = x.borrow().items();
    for (k, v) in items {
        match dict_get_in(vm, &y, &k)? {
            Some(w) => {
                if !v.is(&w) && !eq(vm, &v, &w)? {
                    return Ok(false);
                }
            }
            None => return Ok(false),
        }
    }
    Ok(true)
}

// ---- indexing ----

/// Normalises an index for a sequence of length `len`; None if out of range.
pub fn norm_index(i: i64, len: usize) -> Option<usize> {
    let i = if i < 0 { i + len as i64 } else { i };
    if i < 0 || i >= len as i64 {
        None
    } else {
        Some(i as usize)
    }
}

/// An integer index from a value (ints, bools, or `__index__`).
pub fn index_value(vm: &mut Vm, v: &Value, what: &str) -> PyResult<i64> {
    match v {
        Value::Int(i) => Ok(*i),
        Value::Bool(b) => Ok(*b as i64),
        Value::BigInt(_) => Err(vm.index_error("cannot fit 'int' into an index-sized integer")),
        Value::Instance(_) => {
            if let Some(f) = vm.type_of(v).lookup("__index__") {
                let r = vm.call(&f, vec![v.clone()])?;
                return index_value(vm, &r, what);
            }
            if let Some(p) = crate::builtins::payload_value(v) {
                return index_value(vm, &p, what);
            }
            Err(vm.type_error(format!(
                "{what} indices must be integers or slices, not {}",
                vm.type_name(v)
            )))
        }
        _ => Err(vm.type_error(format!(
            "{what} indices must be integers or slices, not {}",
            vm.type_name(v)
        ))),
    }
}

/// An integer argument that is not a subscript (`chr(n)`, `round(x, n)`): as `index_value`,
/// but other types fail with CPython's "'str' object cannot be interpreted as an integer".
pub fn int_arg(vm: &mut Vm, v: &Value) -> PyResult<i64> {
    let integral = match v {
        Value::Int(_) | Value::Bool(_) | Value::BigInt(_) => true,
        Value::Instance(_) => {
            vm.type_of(v).lookup("__index__").is_some()
                || crate::builtins::payload_value(v).is_some()
        }
        _ => false,
    };
    if integral {
        return index_value(vm, v, "sequence");
    }
    Err(vm.type_error(format!(
        "'{}' object cannot be interpreted as an integer",
        vm.type_name(v)
    )))
}

/// Resolves a slice against a length: (start, stop, step) as CPython's `PySlice_AdjustIndices`.
pub fn slice_indices(
    vm: &mut Vm,
    s: &crate::objects::misc::Slice,
    len: usize,
) -> PyResult<(i64, i64, i64)> {
    let len = len as i64;
    let step = if s.step.is_none() {
        1
    } else {
        index_value(vm, &s.step, "slice")?
    };
    if step == 0 {
        return Err(vm.value_error("slice step cannot be zero"));
    }
    let get = |vm: &mut Vm, v: &Value, default: i64| -> PyResult<i64> {
        if v.is_none() {
            return Ok(default);
        }
        match v {
            Value::BigInt(b) => Ok(if num_traits::Signed::is_negative(&**b) {
                i64::MIN / 2
            } else {
                i64::MAX / 2
            }),
            _ => index_value(vm, v, "slice"),
        }
    };
    let (lower, upper) = if step < 0 { (-1, len - 1) } else { (0, len) };
    let mut start = get(vm, &s.start, if step < 0 { upper } else { lower })?;
    if !s.start.is_none() {
        if start < 0 {
            start = (start + len).max(lower);
        } else {
            start = start.min(upper);
        }
    }
    let mut stop = get(vm, &s.stop, if step < 0 { lower } else { upper })?;
    if !s.stop.is_none() {
        if stop < 0 {
            stop = (stop + len).max(lower);
        } else {
            stop = stop.min(upper);
        }
    }
    Ok((start, stop, step))
}

/// The positions a slice selects.
pub fn slice_positions(
    vm: &mut Vm,
    s: &crate::objects::misc::Slice,
    len: usize,
) -> PyResult<Vec<usize>> {
    let (start, stop, step) = slice_indices(vm, s, len)?;
    let mut out = Vec::new();
    let mut i = start;
    if step > 0 {
        while i < stop {
            out.push(i as usize);
            i += step;
        }
    } else {
        while i > stop {
            out.push(i as usize);
            i += step;
        }
    }
    Ok(out)
}

/// `obj[key]`.
pub fn getitem(vm: &mut Vm, obj: &Value, key: &Value) -> PyResult<Value> {
    match (obj, key) {
        (Value::List(l), Value::Int(i)) => {
            let l = l.borrow();
            return match norm_index(*i, l.len()) {
                Some(i) => Ok(l[i].clone()),
                None => Err(vm.index_error("list index out of range")),
            };
        }
        (Value::Tuple(t), Value::Int(i)) => {
            return match norm_index(*i, t.len()) {
                Some(i) => Ok(t[i].clone()),
                None => Err(vm.index_error("tuple index out of range")),
            };
        }
        (Value::Dict(d), _) => {
            return match dict_get_in(vm, d, key)? {
                Some(v) => Ok(v),
                None => Err(vm.key_error(key.clone())),
            };
        }
        _ => {}
    }
    match obj {
        Value::List(l) => match key {
            Value::Slice(s) => {
                let items = l.borrow().clone();
                let pos = slice_positions(vm, s, items.len())?;
                Ok(Value::list(
                    pos.into_iter().map(|i| items[i].clone()).collect(),
                ))
            }
            _ => {
                let i = index_value(vm, key, "list")?;
                getitem(vm, obj, &Value::Int(i))
            }
        },
        Value::Tuple(t) => match key {
            Value::Slice(s) => {
                let pos = slice_positions(vm, s, t.len())?;
                Ok(Value::tuple(
                    pos.into_iter().map(|i| t[i].clone()).collect(),
                ))
            }
            _ => {
                let i = index_value(vm, key, "tuple")?;
                getitem(vm, obj, &Value::Int(i))
            }
        },
        Value::Str(s) => str_getitem(vm, s, key),
        Value::Bytes(b) => match key {
            Value::Slice(sl) => {
                let pos = slice_positions(vm, sl, b.len())?;
                Ok(Value::Bytes(Rc::new(
                    pos.into_iter().map(|i| b[i]).collect(),
                )))
            }
            _ => {
                let i = index_value(vm, key, "byte")?;
                match norm_index(i, b.len()) {
                    Some(i) => Ok(Value::Int(b[i] as i64)),
                    None => Err(vm.index_error("index out of range")),
                }
            }
        },
        Value::Range(r) => match key {
            Value::Slice(sl) => {
                let (start, stop, step) = slice_indices(vm, sl, r.len() as usize)?;
                Ok(Value::Range(Rc::new(crate::objects::misc::Range {
                    start: r.get(start),
                    stop: r.get(stop),
                    step: r.step * step,
                })))
            }
            _ => {
                let i = index_value(vm, key, "range")?;
                match norm_index(i, r.len() as usize) {
                    Some(i) => Ok(Value::Int(r.get(i as i64))),
                    None => Err(vm.index_error("range object index out of range")),
                }
            }
        },
        Value::Instance(_) => {
            let cls = vm.type_of(obj);
            if let Some(f) = cls.lookup("__getitem__") {
                return vm.call(&f, vec![obj.clone(), key.clone()]);
            }
            if let Some(p) = crate::builtins::payload_value(obj) {
                if let (Value::Dict(_), Some(m)) = (&p, cls.lookup("__missing__")) {
                    if let Some(v) = dict_get(vm, &p, key)? {
                        return Ok(v);
                    }
                    return vm.call(&m, vec![obj.clone(), key.clone()]);
                }
                return getitem(vm, &p, key);
            }
            Err(vm.type_error(format!("'{}' object is not subscriptable", cls.name())))
        }
        Value::Class(c) => {
            if let Some(f) = c.lookup("__class_getitem__") {
                let f = match f {
                    Value::ClassMethod(f) => (*f).clone(),
                    f => f,
                };
                return vm.call(&f, vec![obj.clone(), key.clone()]);
            }
            // `list[int]`, `dict[str, int]`: a types.GenericAlias (PEP 585).
            // So is a subclass of one (`class Registry(dict)`, collections.Counter), which
            // inherits the built-in's `__class_getitem__` in CPython.
            if !c.is_user || c.mro.iter().any(|b| !b.is_user && b.bases.len() == 1) {
                return crate::builtins::generic_alias::new(vm, c, key);
            }
            // A script class that is not generic: CPython raises; Eddy lets annotations
            // such as `MyClass[int]` through.
            Ok(obj.clone())
        }
        _ => Err(vm.type_error(format!(
            "'{}' object is not subscriptable",
            vm.type_name(obj)
        ))),
    }
}

fn str_getitem(vm: &mut Vm, s: &Rc<PyStr>, key: &Value) -> PyResult<Value> {
    match key {
        Value::Slice(sl) => {
            if s.is_ascii() {
                let bytes = s.s.as_bytes();
                let pos = slice_positions(vm, sl, bytes.len())?;
                let out: Vec<u8> = pos.into_iter().map(|i| bytes[i]).collect();
                return Ok(Value::string(String::from_utf8(out).unwrap_or_default()));
            }
            let chars: Vec<char> = s.s.chars().collect();
            let pos = slice_positions(vm, sl, chars.len())?;
            Ok(Value::string(pos.into_iter().map(|i| chars[i]).collect()))
        }
        _ => {
            // CPython 3.11 words this one differently from lists and tuples.
            if !matches!(key, Value::Int(_) | Value::Bool(_) | Value::BigInt(_))
                && vm.type_of(key).lookup("__index__").is_none()
            {
                return Err(vm.type_error(format!(
                    "string indices must be integers, not '{}'",
                    vm.type_name(key)
                )));
            }
            let i = index_value(vm, key, "string")?;
            let n = s.char_len();
            match norm_index(i, n) {
                Some(i) => {
                    if s.is_ascii() {
                        Ok(Value::str(&s.s[i..i + 1]))
                    } else {
                        Ok(Value::string(
                            s.s.chars()
                                .nth(i)
                                .map(|c| c.to_string())
                                .unwrap_or_default(),
                        ))
                    }
                }
                None => Err(vm.index_error("string index out of range")),
            }
        }
    }
}

/// `obj[key] = value`.
pub fn setitem(vm: &mut Vm, obj: &Value, key: Value, value: Value) -> PyResult<()> {
    match obj {
        Value::List(l) => match &key {
            Value::Slice(s) => {
                let items = collect(vm, &value)?;
                let len = l.borrow().len();
                let (start, stop, step) = slice_indices(vm, s, len)?;
                if step == 1 {
                    let stop = stop.max(start);
                    l.borrow_mut().splice(start as usize..stop as usize, items);
                    return Ok(());
                }
                let pos = slice_positions(vm, s, len)?;
                if pos.len() != items.len() {
                    return Err(vm.value_error(format!(
                        "attempt to assign sequence of size {} to extended slice of size {}",
                        items.len(),
                        pos.len()
                    )));
                }
                let mut l = l.borrow_mut();
                for (p, v) in pos.into_iter().zip(items) {
                    l[p] = v;
                }
                Ok(())
            }
            _ => {
                let i = index_value(vm, &key, "list")?;
                let mut l = l.borrow_mut();
                match norm_index(i, l.len()) {
                    Some(i) => {
                        l[i] = value;
                        Ok(())
                    }
                    None => {
                        drop(l);
                        Err(vm.index_error("list assignment index out of range"))
                    }
                }
            }
        },
        Value::Dict(d) => dict_set_in(vm, d, key, value),
        Value::Instance(_) => {
            let cls = vm.type_of(obj);
            if let Some(f) = cls.lookup("__setitem__") {
                vm.call(&f, vec![obj.clone(), key, value])?;
                return Ok(());
            }
            if let Some(p) = crate::builtins::payload_value(obj) {
                return setitem(vm, &p, key, value);
            }
            Err(vm.type_error(format!(
                "'{}' object does not support item assignment",
                cls.name()
            )))
        }
        _ => Err(vm.type_error(format!(
            "'{}' object does not support item assignment",
            vm.type_name(obj)
        ))),
    }
}

/// `del obj[key]`.
pub fn delitem(vm: &mut Vm, obj: &Value, key: &Value) -> PyResult<()> {
    match obj {
        Value::List(l) => match key {
            Value::Slice(s) => {
                let len = l.borrow().len();
                let mut pos = slice_positions(vm, s, len)?;
                pos.sort_unstable();
                let mut l = l.borrow_mut();
                for p in pos.into_iter().rev() {
                    l.remove(p);
                }
                Ok(())
            }
            _ => {
                let i = index_value(vm, key, "list")?;
                let len = l.borrow().len();
                match norm_index(i, len) {
                    Some(i) => {
                        l.borrow_mut().remove(i);
                        Ok(())
                    }
                    None => Err(vm.index_error("list assignment index out of range")),
                }
            }
        },
        Value::Dict(d) => match dict_del_in(vm, d, key)? {
            Some(_) => Ok(()),
            None => Err(vm.key_error(key.clone())),
        },
        Value::Instance(_) => {
            let cls = vm.type_of(obj);
            if let Some(f) = cls.lookup("__delitem__") {
                vm.call(&f, vec![obj.clone(), key.clone()])?;
                return Ok(());
            }
            if let Some(p) = crate::builtins::payload_value(obj) {
                return delitem(vm, &p, key);
            }
            Err(vm.type_error(format!(
                "'{}' object does not support item deletion",
                cls.name()
            )))
        }
        _ => Err(vm.type_error(format!(
            "'{}' object doesn't support item deletion",
            vm.type_name(obj)
        ))),
    }
}

/// `item in container`.
pub fn contains(vm: &mut Vm, container: &Value, item: &Value) -> PyResult<bool> {
    match container {
        Value::Str(s) => match item {
            Value::Str(sub) => Ok(s.s.contains(&*sub.s)),
            _ => Err(vm.type_error(format!(
                "'in <string>' requires string as left operand, not {}",
                vm.type_name(item)
            ))),
        },
        Value::Bytes(b) => match item {
            Value::Int(i) => Ok(b.contains(&(*i as u8))),
            Value::Bytes(sub) => Ok(sub.is_empty() || b.windows(sub.len()).any(|w| w == &sub[..])),
            _ => Err(vm.type_error("a bytes-like object is required")),
        },
        Value::List(l) => {
            let items = l.borrow().clone();
            for v in items.iter() {
                if v.is(item) || eq(vm, v, item)? {
                    return Ok(true);
                }
            }
            Ok(false)
        }
        Value::Tuple(t) => {
            for v in t.iter() {
                if v.is(item) || eq(vm, v, item)? {
                    return Ok(true);
                }
            }
            Ok(false)
        }
        Value::Dict(d) => {
            let h = hash(vm, item)?;
            Ok(dict_find(vm, d, item, h)?.is_some())
        }
        Value::Set(s) | Value::FrozenSet(s) => set_contains(vm, s, item),
        Value::Range(r) => match item {
            Value::Int(i) => {
                let i = *i;
                if r.step > 0 {
                    Ok(i >= r.start && i < r.stop && (i - r.start) % r.step == 0)
                } else {
                    Ok(i <= r.start && i > r.stop && (r.start - i) % (-r.step) == 0)
                }
            }
            _ => {
                let items = collect(vm, container)?;
                for v in items {
                    if eq(vm, &v, item)? {
                        return Ok(true);
                    }
                }
                Ok(false)
            }
        },
        Value::Class(c) if c.lookup("__class_contains__").is_some() => {
            let f = c.lookup("__class_contains__").unwrap_or(Value::None);
            let r = vm.call(&f, vec![container.clone(), item.clone()])?;
            super::truthy(vm, &r)
        }
        _ => {
            let cls = vm.type_of(container);
            if let Some(f) = cls.lookup("__contains__") {
                let r = vm.call(&f, vec![container.clone(), item.clone()])?;
                return super::truthy(vm, &r);
            }
            if let Some(p) = crate::builtins::payload_value(container) {
                return contains(vm, &p, item);
            }
            let it = get_iter(vm, container).map_err(|_| {
                vm.type_error(format!("argument of type '{}' is not iterable", cls.name()))
            })?;
            while let Some(v) = iter_next(vm, &it)? {
                if v.is(item) || eq(vm, &v, item)? {
                    return Ok(true);
                }
            }
            Ok(false)
        }
    }
}

// ---- iteration ----

fn native_iter(it: NativeIter) -> Value {
    Value::Iterator(Rc::new(RefCell::new(it)))
}

/// `iter(v)`. A class may define `__class_iter__` (and `__class_len__`, `__class_contains__`,
/// `__class_repr__`): Eddy has no metaclasses, so these stand in for a metaclass's dunders on the
/// class object itself (the stdlib's `enum` uses them for `for m in Color`).
pub fn get_iter(vm: &mut Vm, v: &Value) -> PyResult<Value> {
    Ok(match v {
        Value::List(_) => native_iter(NativeIter::List {
            list: v.clone(),
            index: 0,
        }),
        Value::Tuple(t) => native_iter(NativeIter::Tuple {
            tuple: t.clone(),
            index: 0,
        }),
        Value::Range(r) => native_iter(NativeIter::Range {
            next: r.start,
            stop: r.stop,
            step: r.step,
        }),
        Value::Str(s) => native_iter(NativeIter::Str {
            s: s.clone(),
            pos: 0,
        }),
        Value::Bytes(b) => native_iter(NativeIter::Bytes {
            b: b.clone(),
            index: 0,
        }),
        Value::Dict(d) => native_iter(NativeIter::Dict {
            dict: v.clone(),
            pos: 0,
            kind: 0,
            len_at_start: d.borrow().len(),
        }),
        Value::Set(s) | Value::FrozenSet(s) => native_iter(NativeIter::Dict {
            dict: v.clone(),
            pos: 0,
            kind: 0,
            len_at_start: s.borrow().len(),
        }),
        Value::Iterator(_) | Value::Generator(_) => v.clone(),
        Value::Class(c) if c.lookup("__class_iter__").is_some() => {
            let f = c.lookup("__class_iter__").unwrap_or(Value::None);
            return vm.call(&f, vec![v.clone()]);
        }
        Value::Instance(_) | Value::Class(_) => {
            let cls = vm.type_of(v);
            match cls.lookup("__iter__") {
                // `__iter__ = None` declares the class not iterable.
                Some(Value::None) => {
                    return Err(vm.type_error(format!("'{}' object is not iterable", cls.name())))
                }
                Some(f) => {
                    let it = vm.call(&f, vec![v.clone()])?;
                    let is_iter = matches!(it, Value::Iterator(_) | Value::Generator(_))
                        || vm.type_of(&it).lookup("__next__").is_some();
                    if !is_iter {
                        return Err(vm.type_error(format!(
                            "iter() returned non-iterator of type '{}'",
                            vm.type_name(&it)
                        )));
                    }
                    return Ok(it);
                }
                None => {}
            }
            if let Some(p) = crate::builtins::payload_value(v) {
                return get_iter(vm, &p);
            }
            if cls.lookup("__getitem__").is_some() {
                return Ok(native_iter(NativeIter::SeqIndex {
                    obj: v.clone(),
                    index: 0,
                }));
            }
            return Err(vm.type_error(format!("'{}' object is not iterable", cls.name())));
        }
        _ => return Err(vm.type_error(format!("'{}' object is not iterable", vm.type_name(v)))),
    })
}

/// Advances an iterator: Ok(None) at the end.
pub fn iter_next(vm: &mut Vm, it: &Value) -> PyResult<Option<Value>> {
    match it {
        Value::Iterator(state) => crate::builtins::native_iter_next(vm, state),
        Value::Generator(g) => {
            let g = g.clone();
            match vm.gen_send(&g, Value::None)? {
                Ok(v) => Ok(Some(v)),
                Err(_) => Ok(None),
            }
        }
        _ => {
            let cls = vm.type_of(it);
            match cls.lookup("__next__") {
                Some(f) => match vm.call(&f, vec![it.clone()]) {
                    Ok(v) => Ok(Some(v)),
                    Err(e) if vm.exc_matches(&e, "StopIteration") => Ok(None),
                    Err(e) => Err(e),
                },
                None => Err(vm.type_error(format!("'{}' object is not an iterator", cls.name()))),
            }
        }
    }
}

/// All items of an iterable.
pub fn collect(vm: &mut Vm, v: &Value) -> PyResult<Vec<Value>> {
    match v {
        Value::List(l) => return Ok(l.borrow().clone()),
        Value::Tuple(t) => return Ok(t.to_vec()),
        _ => {}
    }
    let it = get_iter(vm, v)?;
    let mut out = Vec::new();
    while let Some(x) = iter_next(vm, &it)? {
        out.push(x);
    }
    Ok(out)
}

/// `f(*x)` with `x` the only positional argument: CPython names the function when `x` is not
/// iterable.
pub fn collect_star_call(vm: &mut Vm, func: &Value, v: &Value) -> PyResult<Vec<Value>> {
    match collect_star(vm, v) {
        Err(e)
            if vm.exc_matches(&e, "TypeError")
                && super::to_str(vm, &e)?.starts_with("Value after *") =>
        {
            let fs = function_str(vm, func);
            Err(vm.type_error(format!(
                "{fs} argument after * must be an iterable, not {}",
                vm.type_name(v)
            )))
        }
        r => r,
    }
}

/// Items for `*x` in a display or call, with CPython's message for non-iterables.
pub fn collect_star(vm: &mut Vm, v: &Value) -> PyResult<Vec<Value>> {
    match v {
        Value::List(_)
        | Value::Tuple(_)
        | Value::Str(_)
        | Value::Dict(_)
        | Value::Set(_)
        | Value::FrozenSet(_)
        | Value::Range(_)
        | Value::Iterator(_)
        | Value::Generator(_)
        | Value::Bytes(_) => collect(vm, v),
        Value::Instance(_) => collect(vm, v),
        _ => Err(vm.type_error(format!(
            "Value after * must be an iterable, not {}",
            vm.type_name(v)
        ))),
    }
}

/// Unpacks `seq` onto the stack for assignment: n values, or `before`, a list, `after` values.
pub fn unpack(vm: &mut Vm, seq: Value, before: usize, after: Option<usize>) -> PyResult<()> {
    let items = match &seq {
        Value::Tuple(t) => t.to_vec(),
        Value::List(l) => l.borrow().clone(),
        _ => match collect(vm, &seq) {
            Ok(v) => v,
            Err(e) => {
                if vm.exc_matches(&e, "TypeError") && get_iter(vm, &seq).is_err() {
                    return Err(vm.type_error(format!(
                        "cannot unpack non-iterable {} object",
                        vm.type_name(&seq)
                    )));
                }
                return Err(e);
            }
        },
    };
    match after {
        None => {
            let n = before;
            if items.len() != n {
                if items.len() > n {
                    return Err(vm.value_error(format!("too many values to unpack (expected {n})")));
                }
                return Err(vm.value_error(format!(
                    "not enough values to unpack (expected {n}, got {})",
                    items.len()
                )));
            }
            for v in items.into_iter().rev() {
                vm.stack.push(v);
            }
        }
        Some(after) => {
            if items.len() < before + after {
                return Err(vm.value_error(format!(
                    "not enough values to unpack (expected at least {}, got {})",
                    before + after,
                    items.len()
                )));
            }
            let mut items = items;
            let tail = items.split_off(items.len() - after);
            let middle = items.split_off(before);
            for v in tail.into_iter().rev() {
                vm.stack.push(v);
            }
            vm.stack.push(Value::list(middle));
            for v in items.into_iter().rev() {
                vm.stack.push(v);
            }
        }
    }
    Ok(())
}
