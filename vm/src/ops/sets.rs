//! Set algorithms with Python key semantics, following CPython 3.11's `Objects/setobject.c`
//! step for step (which set is iterated, which is copied, when tables are presized), because
//! those choices decide the iteration order scripts print. The table itself is
//! `crate::objects::set`; the methods scripts call are `crate::builtins::set_methods`.
//!
//! Borrows of a set never live across a call that may run script code (`__eq__`, `__hash__`,
//! iteration of an argument): entries are copied out first.

use std::cell::RefCell;
use std::rc::Rc;

use super::compare::{eq, fast_eq, hash};
use super::container::{get_iter, iter_next};
use crate::objects::class::{BuiltinKind, Payload};
use crate::objects::set::{PySet, SetData, SetLookup};
use crate::value::Value;
use crate::vm::Vm;
use crate::PyResult;

/// A fresh, empty set table behind an Rc.
pub fn empty_set_data() -> Rc<PySet> {
    Rc::new(RefCell::new(SetData::new()))
}

/// `{a, b, c}` (BUILD_SET): an empty set and each item added in order.
pub fn new_set(vm: &mut Vm, items: Vec<Value>) -> PyResult<Value> {
    let s = empty_set_data();
    for i in items {
        let h = hash(vm, &i)?;
        set_add_hashed(vm, &s, i, h)?;
    }
    Ok(Value::Set(s))
}

/// A frozenset of constants, built without a VM (the compiler folds a constant set display
/// `{1, 2, 3}` into one, as CPython does); None if some item needs script code to hash.
pub fn const_frozenset(items: Vec<Value>) -> Option<Value> {
    // CPython's constant merging (`merge_consts_recursive`) rebuilds every frozenset constant
    // from its own iteration order, which can change the layout once more.
    let first = const_set_data(items)?;
    let again = const_set_data(first.keys())?;
    Some(Value::FrozenSet(Rc::new(RefCell::new(again))))
}

fn const_set_data(items: Vec<Value>) -> Option<SetData> {
    let mut s = SetData::new();
    for k in items {
        let h = super::compare::const_hash(&k)?;
        match s.lookup(h, |x| fast_eq(x, &k)) {
            SetLookup::Found(_) => {}
            SetLookup::Absent => s.insert_absent(h, k),
            SetLookup::Undecided(_) => return None,
        }
    }
    Some(s)
}

/// The table of a set or frozenset value (not of subclass instances; see `any_set`).
pub fn set_data(v: &Value) -> Option<Rc<PySet>> {
    match v {
        Value::Set(s) | Value::FrozenSet(s) => Some(s.clone()),
        _ => None,
    }
}

/// The table of a set, a frozenset, or an instance of a subclass of either (`PyAnySet_Check`).
pub fn any_set(v: &Value) -> Option<Rc<PySet>> {
    match v {
        Value::Set(s) | Value::FrozenSet(s) => Some(s.clone()),
        Value::Instance(i) => match &i.payload {
            Payload::Value(p) => set_data(&p.borrow()),
            _ => None,
        },
        _ => None,
    }
}

/// True for a frozenset or an instance of a frozenset subclass (results of its operations are
/// frozensets, as `make_new_set_basetype` decides).
pub fn is_frozen(v: &Value) -> bool {
    match v {
        Value::FrozenSet(_) => true,
        Value::Instance(i) => i.class.kind == BuiltinKind::FrozenSet,
        _ => false,
    }
}

/// Wraps a table as a set or frozenset value.
pub fn wrap_set(frozen: bool, s: Rc<PySet>) -> Value {
    if frozen {
        Value::FrozenSet(s)
    } else {
        Value::Set(s)
    }
}

/// The hash used to look `key` up in a set: a set key is looked up as the equal frozenset
/// (`set_contains`, `set_remove` and `set_discard` retry that way).
pub fn set_key_hash(vm: &mut Vm, key: &Value) -> PyResult<i64> {
    if let (Some(s), false) = (any_set(key), is_frozen(key)) {
        let h = s.borrow().frozen_hash();
        return Ok(h);
    }
    hash(vm, key)
}

/// Finds the slot holding `key` (with hash `h`), calling script `__eq__` only where needed.
pub fn set_find(vm: &mut Vm, s: &PySet, key: &Value, h: i64) -> PyResult<Option<usize>> {
    let found = s.borrow().lookup(h, |k| {
        if k.is(key) {
            Some(true)
        } else {
            fast_eq(k, key)
        }
    });
    match found {
        SetLookup::Found(i) => Ok(Some(i)),
        SetLookup::Absent => Ok(None),
        SetLookup::Undecided(candidates) => {
            for i in candidates {
                let k = match s.borrow().key_at(i) {
                    Some(k) => k.clone(),
                    None => continue,
                };
                if k.is(key) || eq(vm, &k, key)? {
                    return Ok(Some(i));
                }
            }
            Ok(None)
        }
    }
}

/// Adds `key` with a known hash unless an equal key is present (`set_add_entry`).
pub fn set_add_hashed(vm: &mut Vm, s: &PySet, key: Value, h: i64) -> PyResult<()> {
    if set_find(vm, s, &key, h)?.is_none() {
        s.borrow_mut().insert_absent(h, key);
    }
    Ok(())
}

/// `s.add(item)` for a set value (or subclass instance).
pub fn set_add(vm: &mut Vm, s: &Value, item: Value) -> PyResult<()> {
    let Some(d) = any_set(s) else {
        return Err(vm.type_error("not a set"));
    };
    let h = hash(vm, &item)?;
    set_add_hashed(vm, &d, item, h)
}

/// `item in s`.
pub fn set_contains(vm: &mut Vm, s: &PySet, item: &Value) -> PyResult<bool> {
    let h = set_key_hash(vm, item)?;
    Ok(set_find(vm, s, item, h)?.is_some())
}

/// Removes `item` if present; true when it was (`set_discard_key`).
pub fn set_discard(vm: &mut Vm, s: &PySet, item: &Value) -> PyResult<bool> {
    let h = set_key_hash(vm, item)?;
    discard_hashed(vm, s, item, h)
}

fn discard_hashed(vm: &mut Vm, s: &PySet, item: &Value, h: i64) -> PyResult<bool> {
    match set_find(vm, s, item, h)? {
        Some(i) => Ok(s.borrow_mut().remove_at(i).is_some()),
        None => Ok(false),
    }
}

/// Adds every key of `other` (`set_merge`): presize, copy the layout into an empty set, or
/// add key by key in `other`'s table order.
pub fn set_merge(vm: &mut Vm, s: &PySet, other: &PySet) -> PyResult<()> {
    if std::ptr::eq(s, other) {
        return Ok(());
    }
    let other_used = other.borrow().len();
    if other_used == 0 {
        return Ok(());
    }
    s.borrow_mut().reserve_for(other_used);
    if s.borrow_mut().merge_into_empty(&other.borrow()) {
        return Ok(());
    }
    for (h, k) in other.borrow().entries() {
        set_add_hashed(vm, s, k, h)?;
    }
    Ok(())
}

/// `s.update(other)` for one argument (`set_update_internal`).
pub fn set_update(vm: &mut Vm, s: &PySet, other: &Value) -> PyResult<()> {
    if let Some(o) = any_set(other) {
        return set_merge(vm, s, &o);
    }
    if let Value::Dict(d) = other {
        let n = d.borrow().len();
        s.borrow_mut().reserve_for(n);
        let entries: Vec<(i64, Value)> =
            d.borrow().iter().map(|e| (e.hash, e.key.clone())).collect();
        for (h, k) in entries {
            set_add_hashed(vm, s, k, h)?;
        }
        return Ok(());
    }
    let it = get_iter(vm, other)?;
    while let Some(k) = iter_next(vm, &it)? {
        let h = hash(vm, &k)?;
        set_add_hashed(vm, s, k, h)?;
    }
    Ok(())
}

/// A new table holding `other`'s items (`make_new_set` from an iterable).
pub fn set_from(vm: &mut Vm, other: &Value) -> PyResult<Rc<PySet>> {
    let s = empty_set_data();
    set_update(vm, &s, other)?;
    Ok(s)
}

/// A copy of a set's table (`set_copy`: a merge into an empty set).
pub fn set_copy(vm: &mut Vm, s: &PySet) -> PyResult<Rc<PySet>> {
    let out = empty_set_data();
    set_merge(vm, &out, s)?;
    Ok(out)
}

/// `so & other` / `so.intersection(other)` (`set_intersection`).
pub fn set_intersection(vm: &mut Vm, so: &Rc<PySet>, other: &Value) -> PyResult<Rc<PySet>> {
    if let Some(o) = any_set(other) {
        if Rc::ptr_eq(so, &o) {
            return set_copy(vm, so);
        }
        let result = empty_set_data();
        // Iterate the smaller set, looking keys up in the larger one.
        let (big, small) = if o.borrow().len() > so.borrow().len() {
            (o, so.clone())
        } else {
            (so.clone(), o)
        };
        for (h, k) in small.borrow().entries() {
            if set_find(vm, &big, &k, h)?.is_some() {
                set_add_hashed(vm, &result, k, h)?;
            }
        }
        return Ok(result);
    }
    let result = empty_set_data();
    let it = get_iter(vm, other)?;
    while let Some(k) = iter_next(vm, &it)? {
        let h = hash(vm, &k)?;
        if set_find(vm, so, &k, h)?.is_some() {
            set_add_hashed(vm, &result, k, h)?;
            if result.borrow().len() >= so.borrow().len() {
                break;
            }
        }
    }
    Ok(result)
}

/// Removes every key of `other` from `so` in place (`set_difference_update_internal`).
pub fn set_difference_update(vm: &mut Vm, so: &Rc<PySet>, other: &Value) -> PyResult<()> {
    if let Some(o) = any_set(other) {
        if Rc::ptr_eq(so, &o) {
            so.borrow_mut().clear();
            return Ok(());
        }
        // When `other` is much larger, only the common keys matter.
        let o = if (o.borrow().len() >> 3) > so.borrow().len() {
            set_intersection(vm, so, other)?
        } else {
            o
        };
        for (h, k) in o.borrow().entries() {
            discard_hashed(vm, so, &k, h)?;
        }
    } else {
        let it = get_iter(vm, other)?;
        while let Some(k) = iter_next(vm, &it)? {
            set_discard(vm, so, &k)?;
        }
    }
    so.borrow_mut().shrink_after_removals();
    Ok(())
}

/// `so - other` / `so.difference(other)` (`set_difference`).
pub fn set_difference(vm: &mut Vm, so: &Rc<PySet>, other: &Value) -> PyResult<Rc<PySet>> {
    let other_size = match (any_set(other), other) {
        (Some(o), _) => o.borrow().len(),
        (None, Value::Dict(d)) => d.borrow().len(),
        _ => return copy_and_difference(vm, so, other),
    };
    if (so.borrow().len() >> 2) > other_size {
        return copy_and_difference(vm, so, other);
    }
    let result = empty_set_data();
    for (h, k) in so.borrow().entries() {
        let present = match (any_set(other), other) {
            (Some(o), _) => set_find(vm, &o, &k, h)?.is_some(),
            (None, Value::Dict(d)) => super::container::dict_find(vm, d, &k, h)?.is_some(),
            _ => false,
        };
        if !present {
            set_add_hashed(vm, &result, k, h)?;
        }
    }
    Ok(result)
}

fn copy_and_difference(vm: &mut Vm, so: &Rc<PySet>, other: &Value) -> PyResult<Rc<PySet>> {
    let result = set_copy(vm, so)?;
    set_difference_update(vm, &result, other)?;
    Ok(result)
}

/// `so ^= other` (`set_symmetric_difference_update`).
pub fn set_symmetric_difference_update(vm: &mut Vm, so: &Rc<PySet>, other: &Value) -> PyResult<()> {
    if let Value::Dict(d) = other {
        let entries: Vec<(i64, Value)> =
            d.borrow().iter().map(|e| (e.hash, e.key.clone())).collect();
        for (h, k) in entries {
            if !discard_hashed(vm, so, &k, h)? {
                set_add_hashed(vm, so, k, h)?;
            }
        }
        return Ok(());
    }
    let o = match any_set(other) {
        Some(o) => {
            if Rc::ptr_eq(so, &o) {
                so.borrow_mut().clear();
                return Ok(());
            }
            o
        }
        None => set_from(vm, other)?,
    };
    for (h, k) in o.borrow().entries() {
        if !discard_hashed(vm, so, &k, h)? {
            set_add_hashed(vm, so, k, h)?;
        }
    }
    Ok(())
}

/// `so ^ other` (`set_symmetric_difference`: a copy of `other`, updated with `so`).
pub fn set_symmetric_difference(vm: &mut Vm, so: &Rc<PySet>, other: &Value) -> PyResult<Rc<PySet>> {
    let result = set_from(vm, other)?;
    set_symmetric_difference_update(vm, &result, &Value::Set(so.clone()))?;
    Ok(result)
}

/// `so | other` (`set_or`: a copy of `so`, updated with `other`).
pub fn set_union(vm: &mut Vm, so: &Rc<PySet>, other: &Value) -> PyResult<Rc<PySet>> {
    let result = set_copy(vm, so)?;
    if any_set(other).is_some_and(|o| Rc::ptr_eq(&o, so)) {
        return Ok(result);
    }
    set_update(vm, &result, other)?;
    Ok(result)
}

/// `so <= other` for any iterable `other` (`set_issubset`).
pub fn set_issubset(vm: &mut Vm, so: &Rc<PySet>, other: &Value) -> PyResult<bool> {
    let Some(o) = any_set(other) else {
        let common = set_intersection(vm, so, other)?;
        let n = common.borrow().len();
        return Ok(n == so.borrow().len());
    };
    if so.borrow().len() > o.borrow().len() {
        return Ok(false);
    }
    for (h, k) in so.borrow().entries() {
        if set_find(vm, &o, &k, h)?.is_none() {
            return Ok(false);
        }
    }
    Ok(true)
}

/// `so >= other` for any iterable `other` (`set_issuperset`).
pub fn set_issuperset(vm: &mut Vm, so: &Rc<PySet>, other: &Value) -> PyResult<bool> {
    if let Some(o) = any_set(other) {
        return set_issubset(vm, &o, &Value::Set(so.clone()));
    }
    let it = get_iter(vm, other)?;
    while let Some(k) = iter_next(vm, &it)? {
        if !set_contains(vm, so, &k)? {
            return Ok(false);
        }
    }
    Ok(true)
}

/// `so.isdisjoint(other)`.
pub fn set_isdisjoint(vm: &mut Vm, so: &Rc<PySet>, other: &Value) -> PyResult<bool> {
    if let Some(o) = any_set(other) {
        if Rc::ptr_eq(so, &o) {
            return Ok(so.borrow().is_empty());
        }
        let (big, small) = if o.borrow().len() > so.borrow().len() {
            (o, so.clone())
        } else {
            (so.clone(), o)
        };
        for (h, k) in small.borrow().entries() {
            if set_find(vm, &big, &k, h)?.is_some() {
                return Ok(false);
            }
        }
        return Ok(true);
    }
    let it = get_iter(vm, other)?;
    while let Some(k) = iter_next(vm, &it)? {
        if set_contains(vm, so, &k)? {
            return Ok(false);
        }
    }
    Ok(true)
}

/// `a | b`, `a & b`, `a - b`, `a ^ b` on two sets; the result has `a`'s base type.
pub fn set_binary(vm: &mut Vm, a: &Value, b: &Value, op: u8) -> PyResult<Value> {
    let (Some(x), Some(_)) = (any_set(a), any_set(b)) else {
        return Err(vm.type_error("set operation on a non-set"));
    };
    let r = match op {
        10 => set_union(vm, &x, b)?,
        12 => set_intersection(vm, &x, b)?,
        1 => set_difference(vm, &x, b)?,
        _ => set_symmetric_difference(vm, &x, b)?,
    };
    Ok(wrap_set(is_frozen(a), r))
}

/// `a |= b`, `a &= b`, `a -= b`, `a ^= b` on a set, in place; None when `b` is not a set
/// (the caller reports the unsupported operand).
pub fn set_inplace(vm: &mut Vm, a: &Value, b: &Value, op: u8) -> PyResult<Option<Value>> {
    let (Some(x), Some(_)) = (any_set(a), any_set(b)) else {
        return Ok(None);
    };
    if is_frozen(a) {
        return set_binary(vm, a, b, op).map(Some);
    }
    match op {
        10 => set_update(vm, &x, b)?,
        12 => {
            let r = set_intersection(vm, &x, b)?;
            let body = r.borrow().clone();
            x.borrow_mut().replace_body(body);
        }
        1 => set_difference_update(vm, &x, b)?,
        11 => set_symmetric_difference_update(vm, &x, b)?,
        _ => return Ok(None),
    }
    Ok(Some(a.clone()))
}

/// Rich comparison of two sets (`set_richcompare`): equality and the subset orders.
pub fn set_compare(vm: &mut Vm, a: &Value, b: &Value, op: u8) -> PyResult<Value> {
    let (Some(x), Some(y)) = (any_set(a), any_set(b)) else {
        return Ok(Value::NotImplemented);
    };
    let (lx, ly) = (x.borrow().len(), y.borrow().len());
    Ok(Value::Bool(match op {
        0 => lx == ly && set_issubset(vm, &x, b)?,
        1 => !(lx == ly && set_issubset(vm, &x, b)?),
        2 => lx < ly && set_issubset(vm, &x, b)?,
        3 => set_issubset(vm, &x, b)?,
        4 => lx > ly && set_issuperset(vm, &x, b)?,
        _ => set_issuperset(vm, &x, b)?,
    }))
}
