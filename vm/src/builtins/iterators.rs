//! Advancing the built-in iterators (`NativeIter`).

use std::cell::RefCell;

use crate::objects::iter::NativeIter;
use crate::ops;
use crate::value::Value;
use crate::vm::Vm;
use crate::PyResult;

/// The next key of a set iterator, walking the table slots (`setiter_iternext`); a change of
/// size since the iterator started is an error, and stays one.
fn set_iter_next(
    vm: &mut Vm,
    set: &crate::objects::set::PySet,
    pos: &mut usize,
    len_at_start: &mut usize,
) -> PyResult<Option<Value>> {
    if *pos == usize::MAX {
        return Ok(None);
    }
    let s = set.borrow();
    if s.len() != *len_at_start {
        *len_at_start = usize::MAX;
        return Err(vm.error("RuntimeError", "Set changed size during iteration"));
    }
    while *pos < s.raw_len() {
        let i = *pos;
        *pos += 1;
        if let Some(k) = s.key_at(i) {
            return Ok(Some(k.clone()));
        }
    }
    *pos = usize::MAX;
    Ok(None)
}

/// The next item of a native iterator, or None at its end.
pub fn native_iter_next(vm: &mut Vm, state: &RefCell<NativeIter>) -> PyResult<Option<Value>> {
    // Iterators that call back into scripts take what they need out of the RefCell first.
    let mut st = state.borrow_mut();
    match &mut *st {
        NativeIter::List { list, index } => {
            let Value::List(l) = list else {
                return Ok(None);
            };
            let l = l.borrow();
            if *index < l.len() {
                let v = l[*index].clone();
                *index += 1;
                Ok(Some(v))
            } else {
                drop(l);
                *st = NativeIter::Exhausted;
                Ok(None)
            }
        }
        NativeIter::Tuple { tuple, index } => {
            if *index < tuple.len() {
                let v = tuple[*index].clone();
                *index += 1;
                Ok(Some(v))
            } else {
                Ok(None)
            }
        }
        NativeIter::Range { next, stop, step } => {
            if (*step > 0 && *next < *stop) || (*step < 0 && *next > *stop) {
                let v = *next;
                *next = next.saturating_add(*step);
                Ok(Some(Value::Int(v)))
            } else {
                Ok(None)
            }
        }
        NativeIter::Str { s, pos } => match s.s[*pos..].chars().next() {
            Some(c) => {
                let start = *pos;
                *pos += c.len_utf8();
                Ok(Some(Value::str(&s.s[start..*pos])))
            }
            None => Ok(None),
        },
        NativeIter::Bytes { b, index } => {
            if *index < b.len() {
                let v = b[*index];
                *index += 1;
                Ok(Some(Value::Int(v as i64)))
            } else {
                Ok(None)
            }
        }
        NativeIter::Dict {
            dict,
            pos,
            kind,
            len_at_start,
        } => {
            if let Value::Set(set) | Value::FrozenSet(set) = &*dict {
                let set = set.clone();
                return set_iter_next(vm, &set, pos, len_at_start);
            }
            let data = match &*dict {
                Value::Dict(d) => d.clone(),
                other => match ops::dict_of(other) {
                    Some(d) => d,
                    None => return Ok(None),
                },
            };
            let d = data.borrow();
            if d.len() != *len_at_start {
                let len = *len_at_start;
                *len_at_start = usize::MAX;
                drop(d);
                drop(st);
                if len == usize::MAX {
                    return Ok(None);
                }
                return Err(vm.error("RuntimeError", "dictionary changed size during iteration"));
            }
            while *pos < d.raw_len() {
                let i = *pos;
                *pos += 1;
                if let Some(e) = d.raw_get(i) {
                    return Ok(Some(match kind {
                        0 => e.key.clone(),
                        1 => e.value.clone(),
                        _ => Value::tuple(vec![e.key.clone(), e.value.clone()]),
                    }));
                }
            }
            Ok(None)
        }
        NativeIter::Values { items, index } => {
            if *index < items.len() {
                let v = items[*index].clone();
                *index += 1;
                Ok(Some(v))
            } else {
                Ok(None)
            }
        }
        NativeIter::Reversed { seq, index } => {
            if *index < 0 {
                return Ok(None);
            }
            let i = *index;
            *index -= 1;
            let seq = seq.clone();
            drop(st);
            let len = match &seq {
                Value::List(l) => l.borrow().len() as i64,
                _ => i64::MAX,
            };
            if i >= len {
                return Ok(None);
            }
            ops::getitem(vm, &seq, &Value::Int(i)).map(Some)
        }
        NativeIter::Enumerate { inner, count } => {
            let inner = inner.clone();
            let c = count.clone();
            drop(st);
            match ops::iter_next(vm, &inner)? {
                Some(v) => {
                    let next = ops::binary_op(vm, &c, &Value::Int(1), 0)?;
                    if let NativeIter::Enumerate { count, .. } = &mut *state.borrow_mut() {
                        *count = next;
                    }
                    Ok(Some(Value::tuple(vec![c, v])))
                }
                None => Ok(None),
            }
        }
        NativeIter::Zip { iters, strict } => {
            // `zip()` of nothing is empty at once.
            if iters.is_empty() {
                return Ok(None);
            }
            let iters = iters.clone();
            let strict = *strict;
            drop(st);
            let mut out = Vec::with_capacity(iters.len());
            for (i, it) in iters.iter().enumerate() {
                match ops::iter_next(vm, it)? {
                    Some(v) => out.push(v),
                    None => {
                        if strict && (i > 0 || iters[1..].iter().any(|_| true)) {
                            if i > 0 {
                                return Err(vm.value_error(format!(
                                    "zip() argument {} is shorter than argument{} 1{}",
                                    i + 1,
                                    if i > 1 { "s" } else { "" },
                                    if i > 1 {
                                        format!("-{}", i)
                                    } else {
                                        String::new()
                                    }
                                )));
                            }
                            for (j, other) in iters[1..].iter().enumerate() {
                                if ops::iter_next(vm, other)?.is_some() {
                                    return Err(vm.value_error(format!(
                                        "zip() argument {} is longer than argument{} 1{}",
                                        j + 2,
                                        if j > 0 { "s" } else { "" },
                                        if j > 0 {
                                            format!("-{}", j + 1)
                                        } else {
                                            String::new()
                                        }
                                    )));
                                }
                            }
                        }
                        *state.borrow_mut() = NativeIter::Exhausted;
                        return Ok(None);
                    }
                }
            }
            Ok(Some(Value::tuple(out)))
        }
        NativeIter::Map { func, iters } => {
            let func = func.clone();
            let iters = iters.clone();
            drop(st);
            let mut args = Vec::with_capacity(iters.len());
            for it in &iters {
                match ops::iter_next(vm, it)? {
                    Some(v) => args.push(v),
                    None => return Ok(None),
                }
            }
            vm.call(&func, args).map(Some)
        }
        NativeIter::Filter { func, inner } => {
            let func = func.clone();
            let inner = inner.clone();
            drop(st);
            while let Some(v) = ops::iter_next(vm, &inner)? {
                let keep = if func.is_none() {
                    ops::truthy(vm, &v)?
                } else {
                    let r = vm.call(&func, vec![v.clone()])?;
                    ops::truthy(vm, &r)?
                };
                if keep {
                    return Ok(Some(v));
                }
            }
            Ok(None)
        }
        NativeIter::Callable { func, sentinel } => {
            let func = func.clone();
            let sentinel = sentinel.clone();
            drop(st);
            let v = vm.call(&func, vec![])?;
            if ops::eq(vm, &v, &sentinel)? {
                *state.borrow_mut() = NativeIter::Exhausted;
                Ok(None)
            } else {
                Ok(Some(v))
            }
        }
        NativeIter::SeqIndex { obj, index } => {
            let obj = obj.clone();
            let i = *index;
            *index += 1;
            drop(st);
            match ops::getitem(vm, &obj, &Value::Int(i)) {
                Ok(v) => Ok(Some(v)),
                Err(e)
                    if vm.exc_matches(&e, "IndexError") || vm.exc_matches(&e, "StopIteration") =>
                {
                    Ok(None)
                }
                Err(e) => Err(e),
            }
        }
        NativeIter::Count { next, step } => {
            let cur = next.clone();
            let step = step.clone();
            drop(st);
            let n = ops::binary_op(vm, &cur, &step, 0)?;
            if let NativeIter::Count { next, .. } = &mut *state.borrow_mut() {
                *next = n;
            }
            Ok(Some(cur))
        }
        NativeIter::Exhausted => Ok(None),
    }
}
