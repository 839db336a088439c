//! The iteration-heavy builtins (sorted, min, max, sum, zip, ...), `object`'s methods and the
//! `super` proxy. The methods of str, list, dict, set and friends live in their own files.

use std::rc::Rc;

use super::{check_args, new_iter};
use crate::objects::class::Class;
use crate::objects::function::{Args, BoundMethod};
use crate::objects::iter::NativeIter;
use crate::ops;
use crate::value::{StrKey, Value};
use crate::vm::Vm;
use crate::PyResult;

pub fn install(vm: &mut Vm) {
    let object = vm.types.object.clone();
    vm.add_method(&object, "__init__", |_vm, _a| Ok(Value::None));
    vm.add_method(&object, "__eq__", |_vm, a| {
        Ok(if a.pos[0].is(&a.pos[1]) {
            Value::Bool(true)
        } else {
            Value::NotImplemented
        })
    });
    // object.__ne__ inverts whatever __eq__ says, so defining __eq__ alone gives both.
    vm.add_method(&object, "__ne__", |vm, a| {
        check_args(vm, "__ne__", &a, 2, 2)?;
        let eq = vm.type_of(&a.pos[0]).lookup("__eq__");
        let r = match eq {
            Some(f) => vm.call(&f, vec![a.pos[0].clone(), a.pos[1].clone()])?,
            None => Value::Bool(a.pos[0].is(&a.pos[1])),
        };
        match r {
            Value::NotImplemented => Ok(Value::NotImplemented),
            r => Ok(Value::Bool(!ops::truthy(vm, &r)?)),
        }
    });
    vm.add_method(&object, "__setattr__", |vm, a| {
        check_args(vm, "__setattr__", &a, 3, 3)?;
        let Value::Str(name) = &a.pos[1] else {
            return Err(attr_name_error(vm, &a.pos[1]));
        };
        crate::attr::generic_set_attr(vm, &a.pos[0], name, a.pos[2].clone())?;
        Ok(Value::None)
    });
    vm.add_method(&object, "__getattribute__", |vm, a| {
        check_args(vm, "__getattribute__", &a, 2, 2)?;
        let Value::Str(name) = &a.pos[1] else {
            return Err(attr_name_error(vm, &a.pos[1]));
        };
        crate::attr::object_getattribute(vm, &a.pos[0], &name.s)
    });
    vm.add_method(&object, "__delattr__", |vm, a| {
        check_args(vm, "__delattr__", &a, 2, 2)?;
        let Value::Str(name) = &a.pos[1] else {
            return Err(attr_name_error(vm, &a.pos[1]));
        };
        crate::attr::generic_del_attr(vm, &a.pos[0], &name.s)?;
        Ok(Value::None)
    });
    let new = vm.native("__new__", |vm, a| {
        let Some(Value::Class(c)) = a.pos.first() else {
            return Err(vm.type_error("object.__new__(X): X is not a type object"));
        };
        let c = c.clone();
        // `int.__new__(C, 5)` and friends: a built-in base takes its value from the arguments.
        let rest = match c.kind {
            crate::objects::class::BuiltinKind::Object => Args::default(),
            _ => Args::new(a.pos[1..].to_vec()),
        };
        crate::call::new_instance(vm, &c, &rest)
    });
    object.dict.borrow_mut().insert(
        StrKey(vm.intern("__new__")),
        Value::StaticMethod(Rc::new(new)),
    );
    vm.add_method(&object, "__repr__", |vm, a| {
        let v = &a.pos[0];
        Ok(Value::string(format!(
            "<{} object at 0x{:x}>",
            ops::class_display_name(&vm.type_of(v)),
            v.ptr_id().unwrap_or(0)
        )))
    });
    vm.add_method(&object, "__str__", |vm, a| {
        Ok(Value::string(ops::repr(vm, &a.pos[0])?))
    });
    vm.add_method(&object, "__hash__", |vm, a| {
        Ok(Value::Int(ops::hash(vm, &a.pos[0])?))
    });
    vm.add_method(&object, "__format__", |vm, a| {
        let spec = a
            .pos
            .get(1)
            .and_then(|s| s.as_str().map(|s| s.to_string()))
            .unwrap_or_default();
        if !spec.is_empty() {
            return Err(vm.type_error(format!(
                "unsupported format string passed to {}.__format__",
                vm.type_name(&a.pos[0])
            )));
        }
        Ok(Value::string(ops::to_str(vm, &a.pos[0])?))
    });
    vm.add_method(&object, "__init_subclass__", |vm, a| {
        if !a.kw.is_empty() {
            let name = match a.pos.first() {
                Some(Value::Class(c)) => c.name().to_string(),
                _ => "object".to_string(),
            };
            return Err(vm.type_error(format!(
                "{name}.__init_subclass__() takes no keyword arguments"
            )));
        }
        Ok(Value::None)
    });
    install_union(vm);
    let property = vm.types.property.clone();
    vm.add_method(&property, "setter", |vm, a| property_with(vm, a, 1));
    vm.add_method(&property, "getter", |vm, a| property_with(vm, a, 0));
    vm.add_method(&property, "deleter", |vm, a| property_with(vm, a, 2));
    vm.add_method(&property, "__get__", |vm, a| {
        let Some(Value::Property(p)) = a.pos.first() else {
            return Err(vm.type_error("descriptor needs a property"));
        };
        match a.pos.get(1) {
            Some(obj) if !obj.is_none() => {
                let g = p.fget.clone();
                vm.call(&g, vec![obj.clone()])
            }
            _ => Ok(a.pos[0].clone()),
        }
    });
    let type_ = vm.types.type_.clone();
    vm.add_method(&type_, "mro", |vm, a| {
        let Value::Class(c) = &a.pos[0] else {
            return Err(vm.type_error("mro() needs a class"));
        };
        let mut v = vec![a.pos[0].clone()];
        v.extend(c.mro.iter().map(|m| Value::Class(m.clone())));
        Ok(Value::list(v))
    });
    vm.add_method(&type_, "__subclasses__", |vm, a| {
        let Some(Value::Class(c)) = a.pos.first() else {
            return Err(
                vm.type_error("descriptor '__subclasses__' of 'type' object needs an argument")
            );
        };
        let subs = c.subclasses.borrow();
        Ok(Value::list(
            subs.iter()
                .filter_map(|w| w.upgrade())
                .map(Value::Class)
                .collect(),
        ))
    });
}

fn attr_name_error(vm: &Vm, got: &Value) -> Value {
    vm.type_error(format!(
        "attribute name must be string, not '{}'",
        vm.type_name(got)
    ))
}

/// `prop.setter(f)` and friends: a copy of the property with one accessor replaced.
fn property_with(vm: &mut Vm, a: Args, which: usize) -> PyResult<Value> {
    check_args(vm, "setter", &a, 2, 2)?;
    let Value::Property(p) = &a.pos[0] else {
        return Err(vm.type_error("descriptor needs a property"));
    };
    let f = a.pos[1].clone();
    let mut q = crate::objects::misc::Property {
        fget: p.fget.clone(),
        fset: p.fset.clone(),
        fdel: p.fdel.clone(),
        doc: p.doc.clone(),
    };
    match which {
        0 => q.fget = f,
        1 => q.fset = f,
        _ => q.fdel = f,
    }
    Ok(Value::Property(Rc::new(q)))
}

thread_local! {
    static SUPER: std::cell::RefCell<Option<Rc<Class>>> = const { std::cell::RefCell::new(None) };
}

/// The class of `super()` proxies; its `__getattr__` searches the MRO after `__thisclass__`.
pub fn super_class(vm: &mut Vm) -> Rc<Class> {
    if let Some(c) = SUPER.with(|s| s.borrow().clone()) {
        return c;
    }
    let c = crate::types::new_class(
        "super",
        vec![],
        crate::objects::class::BuiltinKind::Object,
        false,
    );
    vm.add_method(&c, "__getattr__", super_getattr);
    let mut flags = c.slots.get();
    flags.has_getattr = true;
    c.slots.set(flags);
    SUPER.with(|s| *s.borrow_mut() = Some(c.clone()));
    c
}

fn super_getattr(vm: &mut Vm, a: Args) -> PyResult<Value> {
    let (Value::Instance(proxy), Value::Str(name)) = (&a.pos[0], &a.pos[1]) else {
        return Err(vm.type_error("bad super call"));
    };
    let get = |k: &str| proxy.dict.borrow().get(k).cloned().unwrap_or(Value::None);
    let (Value::Class(this), obj, Value::Class(objcls)) =
        (get("__thisclass__"), get("__self__"), get("__self_class__"))
    else {
        return Err(vm.type_error("bad super object"));
    };
    let mut mro = vec![objcls.clone()];
    mro.extend(objcls.mro.iter().cloned());
    let start = mro
        .iter()
        .position(|c| Rc::ptr_eq(c, &this))
        .map(|i| i + 1)
        .unwrap_or(mro.len());
    for c in &mro[start..] {
        let found = c.dict.borrow().get(&*name.s).cloned();
        if let Some(v) = found {
            return Ok(match v {
                Value::Function(_) | Value::Native(_) => {
                    if matches!(obj, Value::Class(_)) && matches!(v, Value::Function(_)) {
                        v
                    } else {
                        Value::BoundMethod(Rc::new(BoundMethod {
                            func: v,
                            receiver: obj.clone(),
                        }))
                    }
                }
                Value::ClassMethod(f) => Value::BoundMethod(Rc::new(BoundMethod {
                    func: (*f).clone(),
                    receiver: Value::Class(objcls.clone()),
                })),
                Value::StaticMethod(f) => (*f).clone(),
                Value::Property(p) => {
                    let g = p.fget.clone();
                    vm.call(&g, vec![obj.clone()])?
                }
                other => other,
            });
        }
    }
    Err(vm.attribute_error(format!("'super' object has no attribute '{}'", name.s)))
}

/// Builtins that consume iterables.
pub fn install_functions(vm: &mut Vm) {
    let b = vm.builtins.clone();
    let defs: &[(&str, crate::objects::function::NativeFn)] = &[
        ("sorted", sorted),
        ("min", |vm, a| min_max(vm, a, "min", true)),
        ("max", |vm, a| min_max(vm, a, "max", false)),
        ("sum", sum),
        ("any", |vm, a| {
            check_args(vm, "any", &a, 1, 1)?;
            let it = ops::get_iter(vm, &a.pos[0])?;
            while let Some(v) = ops::iter_next(vm, &it)? {
                if ops::truthy(vm, &v)? {
                    return Ok(Value::Bool(true));
                }
            }
            Ok(Value::Bool(false))
        }),
        ("all", |vm, a| {
            check_args(vm, "all", &a, 1, 1)?;
            let it = ops::get_iter(vm, &a.pos[0])?;
            while let Some(v) = ops::iter_next(vm, &it)? {
                if !ops::truthy(vm, &v)? {
                    return Ok(Value::Bool(false));
                }
            }
            Ok(Value::Bool(true))
        }),
        ("divmod", |vm, a| {
            check_args(vm, "divmod", &a, 2, 2)?;
            if matches!(
                (&a.pos[0], &a.pos[1]),
                (
                    Value::Float(_),
                    Value::Float(_) | Value::Int(_) | Value::Bool(_)
                ) | (Value::Int(_) | Value::Bool(_), Value::Float(_))
            ) && ops::to_f64(&a.pos[1]) == Some(0.0)
            {
                return Err(vm.error("ZeroDivisionError", "float divmod()"));
            }
            let q = ops::binary_op(vm, &a.pos[0], &a.pos[1], 5)?;
            let r = ops::binary_op(vm, &a.pos[0], &a.pos[1], 6)?;
            Ok(Value::tuple(vec![q, r]))
        }),
        ("pow", |vm, a| {
            if a.pos.len() < 2 {
                let (name, pos) = if a.pos.is_empty() {
                    ("base", 1)
                } else {
                    ("exp", 2)
                };
                return Err(vm.type_error(format!(
                    "pow() missing required argument '{name}' (pos {pos})"
                )));
            }
            check_args(vm, "pow", &a, 2, 3)?;
            if let Some(m) = a.pos.get(2) {
                // A class with __pow__ takes the modulus as its third argument.
                if let Value::Instance(_) = &a.pos[0] {
                    if let Some(f) = vm.type_of(&a.pos[0]).lookup("__pow__") {
                        return vm.call(&f, vec![a.pos[0].clone(), a.pos[1].clone(), m.clone()]);
                    }
                }
                if !m.is_none() {
                    let (Some(b), Some(e), Some(m)) = (
                        ops::to_bigint(&a.pos[0]),
                        ops::to_bigint(&a.pos[1]),
                        ops::to_bigint(m),
                    ) else {
                        return Err(vm.type_error(
                            "pow() 3rd argument not allowed unless all arguments are integers",
                        ));
                    };
                    if m == num_bigint::BigInt::from(0) {
                        return Err(vm.value_error("pow() 3rd argument cannot be 0"));
                    }
                    let (b, e) = if e < num_bigint::BigInt::from(0) {
                        match mod_inverse(&b, &m) {
                            Some(inv) => (inv, -e),
                            None => {
                                return Err(
                                    vm.value_error("base is not invertible for the given modulus")
                                )
                            }
                        }
                    } else {
                        (b, e)
                    };
                    let r = b.modpow(&e, &m);
                    let r = if r != num_bigint::BigInt::from(0)
                        && (r < num_bigint::BigInt::from(0)) != (m < num_bigint::BigInt::from(0))
                    {
                        r + m
                    } else {
                        r
                    };
                    return Ok(Value::from_bigint(r));
                }
            }
            ops::binary_op(vm, &a.pos[0], &a.pos[1], 7)
        }),
        ("round", round),
    ];
    for (name, f) in defs {
        b.set(name, vm.native(name, *f));
    }
}

/// `enumerate(...)`: what calling the `enumerate` class does.
pub(super) fn builtin_enumerate(vm: &mut Vm, mut a: Args) -> PyResult<Value> {
    let start = a.take_kw("start");
    super::reject_kw(vm, "enumerate", &a)?;
    if a.pos.is_empty() {
        return Err(vm.type_error("enumerate() missing required argument 'iterable'"));
    }
    check_args(vm, "enumerate", &a, 1, 2)?;
    let inner = ops::get_iter(vm, &a.pos[0])?;
    let count = start
        .or_else(|| a.pos.get(1).cloned())
        .unwrap_or(Value::Int(0));
    Ok(new_iter(NativeIter::Enumerate { inner, count }))
}

/// `zip(...)`: what calling the `zip` class does.
pub(super) fn builtin_zip(vm: &mut Vm, mut a: Args) -> PyResult<Value> {
    let strict = match a.take_kw("strict") {
        Some(v) => ops::truthy(vm, &v)?,
        None => false,
    };
    let mut iters = Vec::new();
    for v in &a.pos {
        iters.push(ops::get_iter(vm, v)?);
    }
    Ok(new_iter(NativeIter::Zip { iters, strict }))
}

/// `map(...)`: what calling the `map` class does.
pub(super) fn builtin_map(vm: &mut Vm, a: Args) -> PyResult<Value> {
    if a.pos.len() < 2 {
        return Err(vm.type_error("map() must have at least two arguments."));
    }
    let mut iters = Vec::new();
    for v in &a.pos[1..] {
        iters.push(ops::get_iter(vm, v)?);
    }
    Ok(new_iter(NativeIter::Map {
        func: a.pos[0].clone(),
        iters,
    }))
}

/// `filter(...)`: what calling the `filter` class does.
pub(super) fn builtin_filter(vm: &mut Vm, a: Args) -> PyResult<Value> {
    check_args(vm, "filter", &a, 2, 2)?;
    let inner = ops::get_iter(vm, &a.pos[1])?;
    Ok(new_iter(NativeIter::Filter {
        func: a.pos[0].clone(),
        inner,
    }))
}

/// `reversed(...)`: what calling the `reversed` class does.
pub(super) fn builtin_reversed(vm: &mut Vm, a: Args) -> PyResult<Value> {
    check_args(vm, "reversed", &a, 1, 1)?;
    let v = a.pos[0].clone();
    match &v {
        Value::List(l) => {
            let n = l.borrow().len() as i64;
            Ok(new_iter(NativeIter::Reversed {
                seq: v.clone(),
                index: n - 1,
            }))
        }
        // A `reversed` object over the tuple itself, as CPython's.
        Value::Tuple(t) => Ok(new_iter(NativeIter::Reversed {
            seq: v.clone(),
            index: t.len() as i64 - 1,
        })),
        Value::Str(_) | Value::Range(_) | Value::Bytes(_) => {
            let mut items = ops::collect(vm, &v)?;
            items.reverse();
            Ok(new_iter(NativeIter::Values { items, index: 0 }))
        }
        Value::Dict(d) => {
            let mut items = d.borrow().keys();
            items.reverse();
            Ok(new_iter(NativeIter::Values { items, index: 0 }))
        }
        _ => {
            if let Some(f) = vm.type_of(&v).lookup("__reversed__") {
                return vm.call(&f, vec![v.clone()]);
            }
            if vm.type_of(&v).lookup("__len__").is_some()
                && vm.type_of(&v).lookup("__getitem__").is_some()
            {
                let n = vm.call_method(&v, "__len__", vec![])?;
                let n = ops::index_value(vm, &n, "len")?;
                return Ok(new_iter(NativeIter::Reversed {
                    seq: v.clone(),
                    index: n - 1,
                }));
            }
            if let Some(p) = super::payload_value(&v) {
                let mut items = ops::collect(vm, &p)?;
                items.reverse();
                return Ok(new_iter(NativeIter::Values { items, index: 0 }));
            }
            Err(vm.type_error(format!("'{}' object is not reversible", vm.type_name(&v))))
        }
    }
}

/// Sorts values with an optional key function, stably; comparison errors propagate.
pub fn sort_values(
    vm: &mut Vm,
    items: Vec<Value>,
    key: Option<Value>,
    reverse: bool,
) -> PyResult<Vec<Value>> {
    let keys = match &key {
        Some(k) if !k.is_none() => {
            let mut ks = Vec::with_capacity(items.len());
            for v in &items {
                ks.push(vm.call(k, vec![v.clone()])?);
            }
            ks
        }
        _ => items.clone(),
    };
    let mut idx: Vec<usize> = (0..items.len()).collect();
    // Merge sort on indices with a fallible comparison (a panic-free stable sort).
    let mut err = None;
    let mut less = |x: usize, y: usize| -> bool {
        if err.is_some() {
            return false;
        }
        match ops::less_than(vm, &keys[x], &keys[y]) {
            Ok(b) => b,
            Err(e) => {
                err = Some(e);
                false
            }
        }
    };
    merge_sort(&mut idx, &mut less, reverse);
    if let Some(e) = err {
        return Err(e);
    }
    Ok(idx.into_iter().map(|i| items[i].clone()).collect())
}

fn merge_sort(v: &mut Vec<usize>, less: &mut dyn FnMut(usize, usize) -> bool, reverse: bool) {
    if v.len() <= 1 {
        return;
    }
    let mut width = 1;
    let n = v.len();
    let mut buf = v.clone();
    while width < n {
        let mut i = 0;
        while i < n {
            let mid = (i + width).min(n);
            let end = (i + 2 * width).min(n);
            let (mut a, mut b, mut k) = (i, mid, i);
            while a < mid && b < end {
                // Stable: take from the right only when strictly before the left.
                let take_right = if reverse {
                    less(v[a], v[b])
                } else {
                    less(v[b], v[a])
                };
                if take_right {
                    buf[k] = v[b];
                    b += 1;
                } else {
                    buf[k] = v[a];
                    a += 1;
                }
                k += 1;
            }
            while a < mid {
                buf[k] = v[a];
                a += 1;
                k += 1;
            }
            while b < end {
                buf[k] = v[b];
                b += 1;
                k += 1;
            }
            i += 2 * width;
        }
        std::mem::swap(v, &mut buf);
        width *= 2;
    }
}

fn sorted(vm: &mut Vm, mut a: Args) -> PyResult<Value> {
    let key = a.take_kw("key");
    let reverse = match a.take_kw("reverse") {
        Some(v) => ops::truthy(vm, &v)?,
        None => false,
    };
    super::reject_kw(vm, "sort", &a)?;
    check_args(vm, "sorted", &a, 1, 1)?;
    let items = ops::collect(vm, &a.pos[0])?;
    Ok(Value::list(sort_values(vm, items, key, reverse)?))
}

fn min_max(vm: &mut Vm, mut a: Args, name: &str, is_min: bool) -> PyResult<Value> {
    let key = a.take_kw("key").filter(|k| !k.is_none());
    let default = a.take_kw("default");
    super::reject_kw(vm, name, &a)?;
    if default.is_some() && a.pos.len() > 1 {
        return Err(vm.type_error(format!(
            "Cannot specify a default for {name}() with multiple positional arguments"
        )));
    }
    let items = if a.pos.len() == 1 {
        ops::collect(vm, &a.pos[0])?
    } else if a.pos.is_empty() {
        return Err(vm.type_error(format!("{name} expected at least 1 argument, got 0")));
    } else {
        a.pos.clone()
    };
    if items.is_empty() {
        return match default {
            Some(d) => Ok(d),
            None => Err(vm.value_error(format!("{name}() arg is an empty sequence"))),
        };
    }
    let mut best = items[0].clone();
    let mut best_key = match &key {
        Some(k) => vm.call(k, vec![best.clone()])?,
        None => best.clone(),
    };
    for v in items.into_iter().skip(1) {
        let k = match &key {
            Some(f) => vm.call(f, vec![v.clone()])?,
            None => v.clone(),
        };
        let better = if is_min {
            ops::less_than(vm, &k, &best_key)?
        } else {
            ops::less_than(vm, &best_key, &k)?
        };
        if better {
            best = v;
            best_key = k;
        }
    }
    Ok(best)
}

fn sum(vm: &mut Vm, mut a: Args) -> PyResult<Value> {
    let start = a.take_kw("start");
    super::reject_kw(vm, "sum", &a)?;
    if a.pos.is_empty() {
        return Err(vm.type_error("sum() takes at least 1 positional argument (0 given)"));
    }
    check_args(vm, "sum", &a, 1, 2)?;
    let mut acc = start
        .or_else(|| a.pos.get(1).cloned())
        .unwrap_or(Value::Int(0));
    if let Value::Str(_) = acc {
        return Err(vm.type_error("sum() can't sum strings [use ''.join(seq) instead]"));
    }
    let it = ops::get_iter(vm, &a.pos[0])?;
    // CPython 3.11 adds floats naively (compensated summation arrived in 3.12).
    while let Some(v) = ops::iter_next(vm, &it)? {
        acc = match (&acc, &v) {
            (Value::Int(x), Value::Int(y)) => match x.checked_add(*y) {
                Some(s) => Value::Int(s),
                None => ops::binary_op(vm, &acc, &v, 0)?,
            },
            (Value::Float(x), Value::Float(y)) => Value::Float(x + y),
            _ => ops::binary_op(vm, &acc, &v, 0)?,
        };
    }
    Ok(acc)
}

fn round(vm: &mut Vm, mut a: Args) -> PyResult<Value> {
    let nd = a.take_kw("ndigits");
    super::reject_kw(vm, "round", &a)?;
    if a.pos.is_empty() {
        return Err(vm.type_error("round() missing required argument 'number' (pos 1)"));
    }
    check_args(vm, "round", &a, 1, 2)?;
    let ndigits = nd
        .or_else(|| a.pos.get(1).cloned())
        .filter(|v| !v.is_none());
    let x = a.pos[0].clone();
    match (&x, ndigits) {
        (Value::Float(f), None) => {
            if f.is_nan() {
                return Err(vm.value_error("cannot convert float NaN to integer"));
            }
            if f.is_infinite() {
                return Err(vm.error("OverflowError", "cannot convert float infinity to integer"));
            }
            let r = f.round_ties_even();
            if r.abs() < 9.2e18 {
                Ok(Value::Int(r as i64))
            } else {
                Ok(Value::from_bigint(
                    num_bigint::BigInt::parse_bytes(format!("{:.0}", r).as_bytes(), 10)
                        .unwrap_or_default(),
                ))
            }
        }
        (Value::Float(f), Some(n)) => {
            let n = ops::int_arg(vm, &n)?;
            Ok(Value::Float(round_float(*f, n)))
        }
        (Value::Int(_) | Value::BigInt(_) | Value::Bool(_), None) => Ok(match x {
            Value::Bool(b) => Value::Int(b as i64),
            x => x,
        }),
        (Value::Int(i), Some(n)) => {
            let n = ops::int_arg(vm, &n)?;
            if n >= 0 {
                return Ok(Value::Int(*i));
            }
            let p = 10i64.checked_pow((-n) as u32);
            match p {
                Some(p) => {
                    let q = i.div_euclid(p);
                    let r = i.rem_euclid(p);
                    let q = if r * 2 > p || (r * 2 == p && q % 2 != 0) {
                        q + 1
                    } else {
                        q
                    };
                    Ok(Value::Int(q * p))
                }
                None => Ok(Value::Int(0)),
            }
        }
        _ => {
            if let Some(f) = vm.type_of(&x).lookup("__round__") {
                let mut args = vec![x.clone()];
                if let Some(n) = a.pos.get(1) {
                    args.push(n.clone());
                }
                return vm.call(&f, args);
            }
            Err(vm.type_error(format!(
                "type {} doesn't define __round__ method",
                vm.type_name(&x)
            )))
        }
    }
}

/// Correctly rounded `round(f, n)`: format to n decimals (exact, half-even on the true value).
fn round_float(f: f64, n: i64) -> f64 {
    if !f.is_finite() || n > 300 {
        return f;
    }
    if n >= 0 {
        let s = format!("{:.*}", n as usize, f);
        return s.parse().unwrap_or(f);
    }
    let p = 10f64.powi((-n) as i32);
    let r = (f / p).round_ties_even() * p;
    if r == 0.0 {
        0.0f64.copysign(f)
    } else {
        r
    }
}

/// The inverse of `b` modulo `m`, if it exists (extended Euclid).
fn mod_inverse(b: &num_bigint::BigInt, m: &num_bigint::BigInt) -> Option<num_bigint::BigInt> {
    use num_bigint::BigInt;
    use num_integer::Integer;
    let m_abs = if *m < BigInt::from(0) {
        -m.clone()
    } else {
        m.clone()
    };
    let g = b.mod_floor(&m_abs).extended_gcd(&m_abs);
    if g.gcd != BigInt::from(1) {
        return None;
    }
    Some(g.x.mod_floor(&m_abs))
}

// ---- `X | Y` on types: types.UnionType (PEP 604) ----

thread_local! {
    static UNION: std::cell::RefCell<Option<Rc<Class>>> = const { std::cell::RefCell::new(None) };
}

/// The class of `int | None`-style unions; its instances keep their members in `__args__`.
pub fn union_class(vm: &mut Vm) -> Rc<Class> {
    if let Some(c) = UNION.with(|u| u.borrow().clone()) {
        return c;
    }
    let c = crate::types::new_class(
        "UnionType",
        vec![vm.types.object.clone()],
        crate::objects::class::BuiltinKind::Object,
        true,
    );
    c.set_attr(vm.intern("__module__"), Value::str("types"));
    vm.add_method(&c, "__or__", |vm, a| make_union(vm, &a.pos[0], &a.pos[1]));
    vm.add_method(&c, "__ror__", |vm, a| make_union(vm, &a.pos[1], &a.pos[0]));
    vm.add_method(&c, "__eq__", |vm, a| {
        let (x, y) = (union_args(&a.pos[0]), union_args(&a.pos[1]));
        match (x, y) {
            (Some(x), Some(y)) => {
                // Members compare by value: `list[int]` is a new alias each time it is written.
                if x.len() != y.len() {
                    return Ok(Value::Bool(false));
                }
                for m in &x {
                    let mut found = false;
                    for n in &y {
                        if m.is(n) || ops::eq(vm, m, n)? {
                            found = true;
                            break;
                        }
                    }
                    if !found {
                        return Ok(Value::Bool(false));
                    }
                }
                Ok(Value::Bool(true))
            }
            _ => Ok(Value::NotImplemented),
        }
    });
    vm.add_method(&c, "__hash__", |vm, a| {
        let args = union_args(&a.pos[0]).unwrap_or_default();
        let mut h: i64 = 0;
        for m in &args {
            h ^= ops::hash(vm, m)?;
        }
        Ok(Value::Int(h))
    });
    vm.add_method(&c, "__repr__", |vm, a| {
        let args = union_args(&a.pos[0]).unwrap_or_default();
        let mut parts = Vec::new();
        for m in &args {
            parts.push(match m {
                Value::Class(c) if Rc::ptr_eq(c, &vm.types.none) => "None".to_string(),
                Value::Class(c) => ops::class_display_name(c),
                other => ops::repr(vm, other)?,
            });
        }
        Ok(Value::string(parts.join(" | ")))
    });
    UNION.with(|u| *u.borrow_mut() = Some(c.clone()));
    c
}

/// The members of a union, or None if `v` is not one.
pub fn union_args(v: &Value) -> Option<Vec<Value>> {
    let Value::Instance(i) = v else { return None };
    let is_union = UNION.with(|u| {
        u.borrow()
            .as_ref()
            .map(|c| Rc::ptr_eq(c, &i.class))
            .unwrap_or(false)
    });
    if !is_union {
        return None;
    }
    match i.dict.borrow().get("__args__") {
        Some(Value::Tuple(t)) => Some(t.to_vec()),
        _ => None,
    }
}

fn union_member(vm: &Vm, v: &Value) -> Option<Vec<Value>> {
    match v {
        Value::Class(_) => Some(vec![v.clone()]),
        Value::None => Some(vec![Value::Class(vm.types.none.clone())]),
        v if super::generic_alias::is_alias(v) => Some(vec![v.clone()]),
        _ => union_args(v),
    }
}

pub fn make_union(vm: &mut Vm, a: &Value, b: &Value) -> PyResult<Value> {
    let (Some(x), Some(y)) = (union_member(vm, a), union_member(vm, b)) else {
        return Ok(Value::NotImplemented);
    };
    let mut args: Vec<Value> = Vec::new();
    for m in x.into_iter().chain(y) {
        let mut dup = false;
        for n in &args {
            if n.is(&m) || (super::generic_alias::is_alias(&m) && ops::eq(vm, n, &m)?) {
                dup = true;
                break;
            }
        }
        if !dup {
            args.push(m);
        }
    }
    let cls = union_class(vm);
    let inst = crate::call::new_instance(vm, &cls, &Args::default())?;
    if let Value::Instance(i) = &inst {
        i.dict
            .borrow_mut()
            .insert(StrKey(vm.intern("__args__")), Value::tuple(args));
    }
    Ok(inst)
}

pub fn install_union(vm: &mut Vm) {
    let t = vm.types.type_.clone();
    vm.add_method(&t, "__or__", |vm, a| make_union(vm, &a.pos[0], &a.pos[1]));
    vm.add_method(&t, "__ror__", |vm, a| make_union(vm, &a.pos[1], &a.pos[0]));
}
