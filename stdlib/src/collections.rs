//! `collections`: deque (collections/deque.rs), namedtuple (collections/namedtuple.rs), ChainMap,
//! UserDict and UserList (collections/userclasses.rs), and the
//! dict subclasses defaultdict, OrderedDict and Counter, defined here. The dict subclasses keep
//! their items in the instance's dict payload, so every dict operation works on them and scripts
//! can subclass them in turn.

use std::rc::Rc;

use eddy_vm::objects::class::{BuiltinKind, Class};
use eddy_vm::objects::iter::NativeIter;
use eddy_vm::objects::module::Module;
use eddy_vm::value::StrKey;
use eddy_vm::{attr, ops, Args, PyResult, Value, Vm};

use crate::util::{self, arity, s};

mod abc;
mod deque;
mod namedtuple;
mod userclasses;

pub fn init(vm: &mut Vm) -> PyResult<Rc<Module>> {
    let m = Rc::new(Module::new("collections"));
    m.set(
        "deque",
        Value::Class(util::shared_class(vm, "deque", deque::class)),
    );
    m.set(
        "defaultdict",
        Value::Class(util::shared_class(vm, "defaultdict", defaultdict_class)),
    );
    m.set(
        "OrderedDict",
        Value::Class(util::shared_class(vm, "OrderedDict", ordered_dict_class)),
    );
    m.set("Counter", Value::Class(counter_class(vm)));
    util::def(vm, &m, "namedtuple", namedtuple::namedtuple);
    // `collections.abc` is compiled on first use: it is Python source, more than `collections`
    // itself costs to set up, and most scripts that import one never touch the other.
    util::def(vm, &m, "__getattr__", module_getattr);
    userclasses::install(vm, &m)?;
    Ok(m)
}

/// `collections.abc` (a module of its own, imported on demand).
pub fn abc_init(vm: &mut Vm) -> PyResult<Rc<Module>> {
    abc::module(vm)
}

/// `collections.__getattr__(name)` (PEP 562): `collections.abc` without importing it first,
/// as CPython allows (its start-up has always imported it).
fn module_getattr(vm: &mut Vm, a: Args) -> PyResult<Value> {
    util::arity(vm, "__getattr__", &a, 1, 1)?;
    if matches!(&a.pos[0], Value::Str(n) if &*n.s == "abc") {
        return eddy_vm::import::import_module(vm, "collections.abc");
    }
    let name = ops::to_str(vm, &a.pos[0])?;
    Err(vm.attribute_error(format!("module 'collections' has no attribute '{name}'")))
}

fn dict_subclass(vm: &Vm, name: &str) -> Rc<Class> {
    let cls = eddy_vm::types::new_class(name, vec![vm.types.dict.clone()], BuiltinKind::Dict, true);
    cls.set_attr(s("__module__"), Value::str("collections"));
    cls
}

/// The dict payload of a dict-subclass instance, as a dict value.
fn payload(vm: &Vm, v: &Value) -> PyResult<Value> {
    Ok(Value::Dict(util::dict_data(vm, v)?))
}

/// `self[key]` for dict subclasses with `__missing__`: the payload's value, else `__missing__`.
fn missing_getitem(vm: &mut Vm, a: Args) -> PyResult<Value> {
    arity(vm, "__getitem__", &a, 2, 2)?;
    let d = payload(vm, &a.pos[0])?;
    if let Some(v) = ops::dict_get(vm, &d, &a.pos[1])? {
        return Ok(v);
    }
    vm.call_method(&a.pos[0], "__missing__", vec![a.pos[1].clone()])
}

/// Sets the instance attribute `name` (kept out of the dict payload).
fn set_field(v: &Value, name: &str, value: Value) {
    if let Value::Instance(i) = v {
        i.dict.borrow_mut().insert(StrKey(s(name)), value);
    }
}

fn update_from_args(
    vm: &mut Vm,
    this: &Value,
    pos: &[Value],
    kw: Vec<(Rc<eddy_vm::value::PyStr>, Value)>,
    name: &str,
) -> PyResult<()> {
    if pos.len() > 1 {
        return Err(vm.type_error(format!(
            "{name} expected at most 1 argument, got {}",
            pos.len()
        )));
    }
    let d = payload(vm, this)?;
    if let Some(src) = pos.first() {
        ops::dict_update_from(vm, &d, src, false)?;
    }
    for (k, v) in kw {
        ops::dict_set(vm, &d, Value::Str(k), v)?;
    }
    Ok(())
}

// ---- defaultdict ----

fn defaultdict_class(vm: &Vm) -> Rc<Class> {
    let cls = dict_subclass(vm, "defaultdict");
    util::methods(
        vm,
        &cls,
        &[
            ("__init__", defaultdict_init),
            ("__getitem__", missing_getitem),
            ("__missing__", defaultdict_missing),
            ("__repr__", defaultdict_repr),
            ("copy", defaultdict_copy),
            ("__copy__", defaultdict_copy),
        ],
    );
    cls
}

fn defaultdict_init(vm: &mut Vm, mut a: Args) -> PyResult<Value> {
    let this = a.pos.remove(0);
    let factory = if a.pos.is_empty() {
        Value::None
    } else {
        a.pos.remove(0)
    };
    let callable = match &factory {
        Value::None
        | Value::Function(_)
        | Value::Native(_)
        | Value::BoundMethod(_)
        | Value::Class(_) => true,
        v => vm.type_of(v).lookup("__call__").is_some(),
    };
    if !callable {
        return Err(vm.type_error("first argument must be callable or None"));
    }
    set_field(&this, "default_factory", factory);
    update_from_args(vm, &this, &a.pos, a.kw, "defaultdict")?;
    Ok(Value::None)
}

fn defaultdict_missing(vm: &mut Vm, a: Args) -> PyResult<Value> {
    arity(vm, "__missing__", &a, 2, 2)?;
    let factory = attr::try_get_attr(vm, &a.pos[0], "default_factory")?.unwrap_or(Value::None);
    if factory.is_none() {
        return Err(vm.key_error(a.pos[1].clone()));
    }
    let v = vm.call(&factory, vec![])?;
    ops::setitem(vm, &a.pos[0], a.pos[1].clone(), v.clone())?;
    Ok(v)
}

fn defaultdict_repr(vm: &mut Vm, a: Args) -> PyResult<Value> {
    let this = &a.pos[0];
    let factory = attr::try_get_attr(vm, this, "default_factory")?.unwrap_or(Value::None);
    let Some(_guard) = util::ReprGuard::enter(this) else {
        return Ok(Value::str("..."));
    };
    let f = ops::repr(vm, &factory)?;
    let d = payload(vm, this)?;
    let inner = ops::repr(vm, &d)?;
    Ok(Value::string(format!(
        "{}({f}, {inner})",
        vm.type_name(this)
    )))
}

fn defaultdict_copy(vm: &mut Vm, a: Args) -> PyResult<Value> {
    let this = &a.pos[0];
    let factory = attr::try_get_attr(vm, this, "default_factory")?.unwrap_or(Value::None);
    let cls = Value::Class(vm.type_of(this));
    let d = payload(vm, this)?;
    vm.call(&cls, vec![factory, d])
}

// ---- OrderedDict ----

fn ordered_dict_class(vm: &Vm) -> Rc<Class> {
    let cls = dict_subclass(vm, "OrderedDict");
    util::methods(
        vm,
        &cls,
        &[
            ("__init__", |vm, mut a| {
                let this = a.pos.remove(0);
                update_from_args(vm, &this, &a.pos, a.kw, "OrderedDict")?;
                Ok(Value::None)
            }),
            ("move_to_end", move_to_end),
            ("popitem", od_popitem),
            ("__repr__", od_repr),
            ("__eq__", |vm, a| od_eq(vm, a, false)),
            ("__ne__", |vm, a| od_eq(vm, a, true)),
            ("__reversed__", |vm, a| {
                let d = util::dict_data(vm, &a.pos[0])?;
                let mut keys = d.borrow().keys();
                keys.reverse();
                Ok(eddy_vm::builtins::new_iter(NativeIter::Values {
                    items: keys,
                    index: 0,
                }))
            }),
            ("copy", |vm, a| {
                let cls = Value::Class(vm.type_of(&a.pos[0]));
                let d = payload(vm, &a.pos[0])?;
                vm.call(&cls, vec![d])
            }),
        ],
    );
    cls
}

fn move_to_end(vm: &mut Vm, mut a: Args) -> PyResult<Value> {
    let last = match util::arg(&mut a, 2, "last") {
        Some(v) => ops::truthy(vm, &v)?,
        None => true,
    };
    if a.pos.len() < 2 {
        return Err(vm.type_error("move_to_end() missing required argument 'key' (pos 1)"));
    }
    let d = util::dict_data(vm, &a.pos[0])?;
    let key = a.pos[1].clone();
    let Some(v) = ops::dict_del_in(vm, &d, &key)? else {
        return Err(vm.key_error(key));
    };
    if last {
        ops::dict_set_in(vm, &d, key, v)?;
    } else {
        let rest = d.borrow().items();
        d.borrow_mut().clear();
        ops::dict_set_in(vm, &d, key, v)?;
        for (k, val) in rest {
            ops::dict_set_in(vm, &d, k, val)?;
        }
    }
    Ok(Value::None)
}

fn od_popitem(vm: &mut Vm, mut a: Args) -> PyResult<Value> {
    let last = match util::arg(&mut a, 1, "last") {
        Some(v) => ops::truthy(vm, &v)?,
        None => true,
    };
    let d = util::dict_data(vm, &a.pos[0])?;
    let key = {
        let b = d.borrow();
        let k = if last {
            b.iter().last()
        } else {
            b.iter().next()
        };
        k.map(|e| e.key.clone())
    };
    let Some(key) = key else {
        return Err(vm.key_error(Value::str("dictionary is empty")));
    };
    let v = ops::dict_del_in(vm, &d, &key)?.unwrap_or(Value::None);
    Ok(Value::tuple(vec![key, v]))
}

fn od_repr(vm: &mut Vm, a: Args) -> PyResult<Value> {
    let this = &a.pos[0];
    let name = vm.type_name(this);
    let items = util::dict_items(this).unwrap_or_default();
    if items.is_empty() {
        return Ok(Value::string(format!("{name}()")));
    }
    let Some(_guard) = util::ReprGuard::enter(this) else {
        return Ok(Value::str("..."));
    };
    let list = Value::list(
        items
            .into_iter()
            .map(|(k, v)| Value::tuple(vec![k, v]))
            .collect(),
    );
    Ok(Value::string(format!("{name}({})", ops::repr(vm, &list)?)))
}

fn od_eq(vm: &mut Vm, a: Args, negate: bool) -> PyResult<Value> {
    arity(vm, "__eq__", &a, 2, 2)?;
    let od = util::shared_class(vm, "OrderedDict", ordered_dict_class);
    let Some(other) = ops::dict_of(&a.pos[1]) else {
        return Ok(Value::NotImplemented);
    };
    let mine = payload(vm, &a.pos[0])?;
    let mut equal = ops::dict_eq(vm, &mine, &Value::Dict(other.clone()))?;
    if equal && vm.isinstance(&a.pos[1], &od) {
        // Two OrderedDicts are equal only with the same order.
        let (k1, k2) = (
            util::dict_data(vm, &a.pos[0])?.borrow().keys(),
            other.borrow().keys(),
        );
        for (x, y) in k1.iter().zip(&k2) {
            if !ops::eq(vm, x, y)? {
                equal = false;
                break;
            }
        }
    }
    Ok(Value::Bool(equal != negate))
}

// ---- Counter ----

pub fn counter_class(vm: &Vm) -> Rc<Class> {
    util::shared_class(vm, "Counter", |vm| {
        let cls = dict_subclass(vm, "Counter");
        util::methods(
            vm,
            &cls,
            &[
                ("__init__", counter_init),
                ("__getitem__", missing_getitem),
                ("__missing__", |_vm, _a| Ok(Value::Int(0))),
                ("__delitem__", |vm, a| {
                    arity(vm, "__delitem__", &a, 2, 2)?;
                    let d = util::dict_data(vm, &a.pos[0])?;
                    ops::dict_del_in(vm, &d, &a.pos[1])?;
                    Ok(Value::None)
                }),
                ("update", |vm, a| counter_update(vm, a, false)),
                ("subtract", |vm, a| counter_update(vm, a, true)),
                ("most_common", most_common),
                ("elements", elements),
                ("total", |vm, a| {
                    let mut acc = Value::Int(0);
                    for (_, v) in util::dict_items(&a.pos[0]).unwrap_or_default() {
                        acc = ops::binary_op(vm, &acc, &v, 0)?;
                    }
                    Ok(acc)
                }),
                ("copy", |vm, a| {
                    let cls = Value::Class(vm.type_of(&a.pos[0]));
                    let d = payload(vm, &a.pos[0])?;
                    vm.call(&cls, vec![d])
                }),
                ("__repr__", counter_repr),
                ("__add__", |vm, a| counter_binary(vm, a, Combine::Add)),
                ("__sub__", |vm, a| counter_binary(vm, a, Combine::Sub)),
                ("__or__", |vm, a| counter_binary(vm, a, Combine::Or)),
                ("__and__", |vm, a| counter_binary(vm, a, Combine::And)),
                ("__iadd__", |vm, a| counter_inplace(vm, a, Combine::Add)),
                ("__isub__", |vm, a| counter_inplace(vm, a, Combine::Sub)),
                ("__ior__", |vm, a| counter_inplace(vm, a, Combine::Or)),
                ("__iand__", |vm, a| counter_inplace(vm, a, Combine::And)),
                ("__pos__", |vm, a| counter_unary(vm, a, false)),
                ("__neg__", |vm, a| counter_unary(vm, a, true)),
                ("__eq__", |vm, a| counter_compare(vm, a, 0)),
                ("__ne__", |vm, a| counter_compare(vm, a, 1)),
                ("__le__", |vm, a| counter_compare(vm, a, 3)),
                ("__lt__", |vm, a| counter_compare(vm, a, 2)),
                ("__ge__", |vm, a| counter_compare(vm, a, 5)),
                ("__gt__", |vm, a| counter_compare(vm, a, 4)),
                ("fromkeys", |vm, _a| {
                    Err(vm.error(
                        "NotImplementedError",
                        "Counter.fromkeys() is undefined.  Use Counter(iterable) instead.",
                    ))
                }),
            ],
        );
        cls
    })
}

fn counter_init(vm: &mut Vm, a: Args) -> PyResult<Value> {
    if a.pos.len() > 2 {
        return Err(vm.type_error(format!(
            "expected at most 1 argument, got {}",
            a.pos.len() - 1
        )));
    }
    counter_update(vm, a, false)
}

fn is_mapping(vm: &mut Vm, v: &Value) -> PyResult<bool> {
    if ops::dict_of(v).is_some() {
        return Ok(true);
    }
    Ok(matches!(v, Value::Instance(_))
        && attr::try_get_attr(vm, v, "keys")?.is_some()
        && attr::try_get_attr(vm, v, "__getitem__")?.is_some())
}

/// `update` (add counts) and `subtract`, from a mapping, an iterable of elements, or keywords.
fn counter_update(vm: &mut Vm, a: Args, subtract: bool) -> PyResult<Value> {
    let name = if subtract { "subtract" } else { "update" };
    if a.pos.len() > 2 {
        return Err(vm.type_error(format!(
            "{name} expected at most 1 argument, got {}",
            a.pos.len() - 1
        )));
    }
    let this = a.pos[0].clone();
    let d = payload(vm, &this)?;
    let op = if subtract { 1 } else { 0 };
    let add = |vm: &mut Vm, k: Value, n: Value| -> PyResult<()> {
        let cur = ops::dict_get(vm, &d, &k)?.unwrap_or(Value::Int(0));
        let new = ops::binary_op(vm, &cur, &n, op)?;
        ops::dict_set(vm, &d, k, new)
    };
    if let Some(src) = a.pos.get(1).filter(|v| !v.is_none()) {
        if is_mapping(vm, src)? {
            let items = match util::dict_items(src) {
                Some(items) => items,
                None => {
                    let keys = vm.call_method(src, "keys", vec![])?;
                    let mut out = Vec::new();
                    for k in ops::collect(vm, &keys)? {
                        let v = ops::getitem(vm, src, &k)?;
                        out.push((k, v));
                    }
                    out
                }
            };
            for (k, v) in items {
                add(vm, k, v)?;
            }
        } else {
            let it = ops::get_iter(vm, src)?;
            while let Some(k) = ops::iter_next(vm, &it)? {
                add(vm, k, Value::Int(1))?;
            }
        }
    }
    for (k, v) in a.kw {
        add(vm, Value::Str(k), v)?;
    }
    Ok(Value::None)
}

/// Items sorted by count, largest first; ties keep insertion order (a stable sort, as CPython).
fn sorted_by_count(vm: &mut Vm, items: Vec<(Value, Value)>) -> PyResult<Vec<(Value, Value)>> {
    if items.iter().all(|(_, v)| matches!(v, Value::Int(_))) {
        let mut items = items;
        items.sort_by_key(|(_, v)| std::cmp::Reverse(if let Value::Int(i) = v { *i } else { 0 }));
        return Ok(items);
    }
    let mut sorted: Vec<(Value, Value)> = Vec::with_capacity(items.len());
    for item in items {
        // Insert after every element whose count is >= this one (stable, descending).
        let (mut lo, mut hi) = (0, sorted.len());
        while lo < hi {
            let mid = (lo + hi) / 2;
            if ops::less_than(vm, &sorted[mid].1, &item.1)? {
                hi = mid;
            } else {
                lo = mid + 1;
            }
        }
        sorted.insert(lo, item);
    }
    Ok(sorted)
}

fn most_common(vm: &mut Vm, mut a: Args) -> PyResult<Value> {
    let n = util::arg(&mut a, 1, "n").unwrap_or(Value::None);
    let items = util::dict_items(&a.pos[0]).unwrap_or_default();
    let mut sorted = sorted_by_count(vm, items)?;
    if !n.is_none() {
        let n = util::to_i64(vm, &n)?;
        sorted.truncate(n.max(0) as usize);
    }
    Ok(Value::list(
        sorted
            .into_iter()
            .map(|(k, v)| Value::tuple(vec![k, v]))
            .collect(),
    ))
}

fn elements(vm: &mut Vm, a: Args) -> PyResult<Value> {
    let mut out = Vec::new();
    for (k, v) in util::dict_items(&a.pos[0]).unwrap_or_default() {
        let n = match v {
            Value::Int(n) => n,
            Value::Bool(b) => b as i64,
            other => {
                return Err(vm.type_error(format!(
                    "'{}' object cannot be interpreted as an integer",
                    vm.type_name(&other)
                )))
            }
        };
        for _ in 0..n.max(0) {
            out.push(k.clone());
        }
    }
    Ok(eddy_vm::builtins::new_iter(NativeIter::Values {
        items: out,
        index: 0,
    }))
}

fn counter_repr(vm: &mut Vm, a: Args) -> PyResult<Value> {
    let this = &a.pos[0];
    let name = vm.type_name(this);
    let items = util::dict_items(this).unwrap_or_default();
    if items.is_empty() {
        return Ok(Value::string(format!("{name}()")));
    }
    let Some(_guard) = util::ReprGuard::enter(this) else {
        return Ok(Value::str("..."));
    };
    // Unorderable counts keep insertion order, as CPython's fallback does.
    let sorted = match sorted_by_count(vm, items.clone()) {
        Ok(s) => s,
        Err(e) if vm.exc_matches(&e, "TypeError") => items,
        Err(e) => return Err(e),
    };
    let mut parts = Vec::with_capacity(sorted.len());
    for (k, v) in &sorted {
        parts.push(format!("{}: {}", ops::repr(vm, k)?, ops::repr(vm, v)?));
    }
    Ok(Value::string(format!("{name}({{{}}})", parts.join(", "))))
}

#[derive(Clone, Copy)]
enum Combine {
    Add,
    Sub,
    Or,
    And,
}

fn count_of(vm: &mut Vm, c: &Value, k: &Value) -> PyResult<Value> {
    let d = payload(vm, c)?;
    Ok(ops::dict_get(vm, &d, k)?.unwrap_or(Value::Int(0)))
}

fn positive(vm: &mut Vm, v: &Value) -> PyResult<bool> {
    let r = ops::compare(vm, v, &Value::Int(0), 4)?;
    ops::truthy(vm, &r)
}

fn negative(vm: &mut Vm, v: &Value) -> PyResult<bool> {
    let r = ops::compare(vm, v, &Value::Int(0), 2)?;
    ops::truthy(vm, &r)
}

/// `Counter + Counter` and friends, with CPython's order: this counter's keys, then the other's.
fn counter_binary(vm: &mut Vm, a: Args, how: Combine) -> PyResult<Value> {
    arity(vm, "counter op", &a, 2, 2)?;
    let counter = counter_class(vm);
    if !vm.isinstance(&a.pos[1], &counter) {
        return Ok(Value::NotImplemented);
    }
    let (this, other) = (a.pos[0].clone(), a.pos[1].clone());
    let result = vm.call(&Value::Class(counter), vec![])?;
    let rd = payload(vm, &result)?;
    let mine = payload(vm, &this)?;
    for (k, count) in util::dict_items(&this).unwrap_or_default() {
        let oc = count_of(vm, &other, &k)?;
        let new = match how {
            Combine::Add => ops::binary_op(vm, &count, &oc, 0)?,
            Combine::Sub => ops::binary_op(vm, &count, &oc, 1)?,
            Combine::Or => {
                if ops::less_than(vm, &count, &oc)? {
                    oc
                } else {
                    count
                }
            }
            Combine::And => {
                if ops::less_than(vm, &count, &oc)? {
                    count
                } else {
                    oc
                }
            }
        };
        if positive(vm, &new)? {
            ops::dict_set(vm, &rd, k, new)?;
        }
    }
    if !matches!(how, Combine::And) {
        for (k, count) in util::dict_items(&other).unwrap_or_default() {
            if ops::dict_get(vm, &mine, &k)?.is_some() {
                continue;
            }
            match how {
                Combine::Sub => {
                    if negative(vm, &count)? {
                        let neg = ops::binary_op(vm, &Value::Int(0), &count, 1)?;
                        ops::dict_set(vm, &rd, k, neg)?;
                    }
                }
                _ => {
                    if positive(vm, &count)? {
                        ops::dict_set(vm, &rd, k, count)?;
                    }
                }
            }
        }
    }
    Ok(result)
}

fn counter_inplace(vm: &mut Vm, a: Args, how: Combine) -> PyResult<Value> {
    let this = a.pos[0].clone();
    let r = counter_binary(vm, a, how)?;
    if matches!(r, Value::NotImplemented) {
        return Ok(r);
    }
    // Replace our items with the result's, keeping identity (`c += d` mutates c).
    let d = util::dict_data(vm, &this)?;
    let items = util::dict_items(&r).unwrap_or_default();
    let mine = util::dict_items(&this).unwrap_or_default();
    let rd = payload(vm, &r)?;
    for (k, _) in mine {
        if ops::dict_get(vm, &rd, &k)?.is_none() {
            ops::dict_del_in(vm, &d, &k)?;
        }
    }
    for (k, v) in items {
        ops::dict_set_in(vm, &d, k, v)?;
    }
    Ok(this)
}

fn counter_unary(vm: &mut Vm, a: Args, negate: bool) -> PyResult<Value> {
    let counter = counter_class(vm);
    let result = vm.call(&Value::Class(counter), vec![])?;
    let rd = payload(vm, &result)?;
    for (k, v) in util::dict_items(&a.pos[0]).unwrap_or_default() {
        if negate {
            if negative(vm, &v)? {
                let n = ops::binary_op(vm, &Value::Int(0), &v, 1)?;
                ops::dict_set(vm, &rd, k, n)?;
            }
        } else if positive(vm, &v)? {
            ops::dict_set(vm, &rd, k, v)?;
        }
    }
    Ok(result)
}

/// Multiset comparisons (3.10+): missing elements count as zero.
fn counter_compare(vm: &mut Vm, a: Args, op: u8) -> PyResult<Value> {
    arity(vm, "compare", &a, 2, 2)?;
    let counter = counter_class(vm);
    let (this, other) = (a.pos[0].clone(), a.pos[1].clone());
    if !vm.isinstance(&other, &counter) {
        if op < 2 && ops::dict_of(&other).is_some() {
            let mine = payload(vm, &this)?;
            let eq = ops::dict_eq(vm, &mine, &Value::Dict(util::dict_data(vm, &other)?))?;
            return Ok(Value::Bool(eq == (op == 0)));
        }
        return Ok(Value::NotImplemented);
    }
    // pairwise(op) over the union of keys: == and != use equality, the rest subset relations.
    let check = |vm: &mut Vm, x: &Value, y: &Value| -> PyResult<bool> {
        match op {
            0 | 1 => ops::eq(vm, x, y),
            2 | 3 => Ok(!ops::less_than(vm, y, x)?),
            _ => Ok(!ops::less_than(vm, x, y)?),
        }
    };
    let mut all = true;
    let keys: Vec<Value> = util::dict_items(&this)
        .unwrap_or_default()
        .into_iter()
        .chain(util::dict_items(&other).unwrap_or_default())
        .map(|(k, _)| k)
        .collect();
    for k in &keys {
        let x = count_of(vm, &this, k)?;
        let y = count_of(vm, &other, k)?;
        if !check(vm, &x, &y)? {
            all = false;
            break;
        }
    }
    Ok(Value::Bool(match op {
        0 => all,
        1 => !all,
        2 | 4 => {
            let swapped = Args::new(vec![this, other]);
            let eq = counter_compare(vm, swapped, 0)?;
            all && !ops::truthy(vm, &eq)?
        }
        _ => all,
    }))
}
