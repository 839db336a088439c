//! Exception groups for `except*` (PEP 654): splitting a group by type and recombining what
//! the handlers raised.

use crate::objects::class::Class;
use crate::value::Value;
use crate::vm::Vm;
use crate::PyResult;
use std::rc::Rc;

fn is_group(vm: &Vm, v: &Value) -> bool {
    vm.isinstance(v, &vm.exc_class("BaseExceptionGroup"))
}

/// The `exceptions` tuple of a group.
pub fn group_items(v: &Value) -> Vec<Value> {
    if let Value::Instance(i) = v {
        if let Some(e) = i.exception() {
            if let Value::Tuple(args) = &e.borrow().args {
                if let Some(Value::Tuple(t)) = args.get(1) {
                    return t.to_vec();
                }
                if let Some(Value::List(l)) = args.get(1) {
                    return l.borrow().clone();
                }
            }
        }
    }
    Vec::new()
}

pub fn group_message(v: &Value) -> Value {
    if let Value::Instance(i) = v {
        if let Some(e) = i.exception() {
            if let Value::Tuple(args) = &e.borrow().args {
                if let Some(m) = args.first() {
                    return m.clone();
                }
            }
        }
    }
    Value::str("")
}

/// `BaseExceptionGroup.derive(excs)` as CPython defines it: a plain group (ExceptionGroup when
/// every item is an Exception) with the template's message, whatever the template's class.
pub fn default_derive(vm: &mut Vm, template: &Value, items: Vec<Value>) -> PyResult<Value> {
    let cls = Value::Class(vm.exc_class("BaseExceptionGroup"));
    let msg = group_message(template);
    vm.call(&cls, vec![msg, Value::list(items)])
}

/// A part of `template` holding `items`, for split/subgroup and `except*`: made by the
/// template's `derive` (which a subclass may override), with the template's cause, context,
/// traceback and notes copied over, as CPython's `exceptiongroup_subset`.
pub fn derive(vm: &mut Vm, template: &Value, items: Vec<Value>) -> PyResult<Value> {
    let g = vm.call_method(template, "derive", vec![Value::list(items)])?;
    if !is_group(vm, &g) {
        return Err(vm.type_error("derive must return an instance of BaseExceptionGroup"));
    }
    if let (Value::Instance(a), Value::Instance(b)) = (&g, template) {
        if let (Some(x), Some(y)) = (a.exception(), b.exception()) {
            if !std::ptr::eq(x, y) {
                let y = y.borrow();
                let mut x = x.borrow_mut();
                x.cause = y.cause.clone();
                x.context = y.context.clone();
                x.traceback = y.traceback.clone();
                x.notes = y.notes.clone();
            }
        }
    }
    Ok(g)
}

fn matches_type(vm: &mut Vm, exc: &Value, typ: &Value) -> PyResult<bool> {
    crate::ops::exception_matches(vm, exc, typ)
}

/// Splits `exc` into (rest, match) by `typ`; either may be None.
fn split(vm: &mut Vm, exc: &Value, typ: &Value) -> PyResult<(Value, Value)> {
    if matches_type(vm, exc, typ)? {
        return Ok((Value::None, exc.clone()));
    }
    if !is_group(vm, exc) {
        return Ok((exc.clone(), Value::None));
    }
    let mut rest = Vec::new();
    let mut matched = Vec::new();
    for item in group_items(exc) {
        let (r, m) = split(vm, &item, typ)?;
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
        derive(vm, exc, rest)?
    };
    let matched = if matched.is_empty() {
        Value::None
    } else {
        derive(vm, exc, matched)?
    };
    Ok((rest, matched))
}

/// CHECK_EG_MATCH: `except* typ` against what is left of the group.
pub fn split_group(vm: &mut Vm, rest: Value, typ: &Value) -> PyResult<(Value, Value)> {
    if rest.is_none() {
        return Ok((Value::None, Value::None));
    }
    if let Value::Class(c) = typ {
        if c.is_subclass(&vm.exc_class("BaseExceptionGroup")) {
            return Err(vm.type_error(
                "catching ExceptionGroup with except* is not allowed. Use except instead.",
            ));
        }
    }
    if !is_group(vm, &rest) {
        // A naked exception matched by except* is wrapped in a group.
        if matches_type(vm, &rest, typ)? {
            let eg_class: Rc<Class> = if vm.isinstance(&rest, &vm.exc_class("Exception")) {
                vm.exc_class("ExceptionGroup")
            } else {
                vm.exc_class("BaseExceptionGroup")
            };
            let g = vm.new_exception(
                &eg_class,
                vec![Value::str(""), Value::tuple(vec![rest.clone()])],
            );
            return Ok((Value::None, g));
        }
        return Ok((rest, Value::None));
    }
    split(vm, &rest, typ)
}

/// PREP_RERAISE_STAR: `list` holds what each clause raised, then what no clause matched.
/// Returns what to raise (None: nothing); an error making it (a failing `derive`) is raised
/// instead, as CPython's.
pub fn prep_reraise_star(vm: &mut Vm, orig: &Value, list: &Value) -> Value {
    match reraise_star(vm, orig, list) {
        Ok(v) => v,
        Err(e) => e,
    }
}

fn reraise_star(vm: &mut Vm, orig: &Value, list: &Value) -> PyResult<Value> {
    let items: Vec<Value> = match list {
        Value::List(l) => l
            .borrow()
            .iter()
            .filter(|v| !v.is_none())
            .cloned()
            .collect(),
        _ => Vec::new(),
    };
    if items.is_empty() {
        return Ok(Value::None);
    }
    // A naked exception was wrapped for the handlers: only one clause ran, so raise what it raised.
    if !is_group(vm, orig) {
        return Ok(items[0].clone());
    }
    let orig_leaves = leaf_ids(orig);
    // Re-raised parts of the original (bare `raise` or unmatched) are subgroups of it and keep
    // its structure; a leaf raised on its own counts as newly raised.
    let mut reraised = Vec::new();
    let mut raised = Vec::new();
    for item in items {
        let leaves = leaf_ids(&item);
        if is_group(vm, &item)
            && !leaves.is_empty()
            && leaves.iter().all(|l| orig_leaves.contains(l))
        {
            reraised.extend(leaves);
        } else {
            raised.push(item);
        }
    }
    let kept = if reraised.is_empty() {
        Value::None
    } else {
        project(vm, orig, &reraised)?
    };
    if raised.is_empty() {
        return Ok(kept);
    }
    // A single new exception, with nothing re-raised or left unhandled, propagates as itself.
    if kept.is_none() && raised.len() == 1 {
        return Ok(raised.pop().unwrap_or(Value::None));
    }
    if !kept.is_none() {
        raised.push(kept);
    }
    // A single exception is raised as it is, not wrapped (CPython 3.11.4+).
    if raised.len() == 1 {
        return Ok(raised.remove(0));
    }
    let base = vm.exc_class("Exception");
    let cls = if raised.iter().all(|e| vm.isinstance(e, &base)) {
        vm.exc_class("ExceptionGroup")
    } else {
        vm.exc_class("BaseExceptionGroup")
    };
    Ok(vm.new_exception(&cls, vec![Value::str(""), Value::list(raised)]))
}

fn leaf_ids(v: &Value) -> Vec<usize> {
    let items = group_items(v);
    if items.is_empty() {
        return v.ptr_id().into_iter().collect();
    }
    items.iter().flat_map(leaf_ids).collect()
}

/// The subgroup of `orig` whose leaves are in `keep`.
fn project(vm: &mut Vm, orig: &Value, keep: &[usize]) -> PyResult<Value> {
    let items = group_items(orig);
    if items.is_empty() {
        let kept = orig.ptr_id().map(|id| keep.contains(&id)).unwrap_or(false);
        return Ok(if kept { orig.clone() } else { Value::None });
    }
    let mut parts = Vec::new();
    for i in &items {
        let p = project(vm, i, keep)?;
        if !p.is_none() {
            parts.push(p);
        }
    }
    if parts.is_empty() {
        return Ok(Value::None);
    }
    if parts.len() == items.len() && parts.iter().zip(&items).all(|(a, b)| a.is(b)) {
        return Ok(orig.clone());
    }
    derive(vm, orig, parts)
}
