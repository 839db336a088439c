//! `collections.deque`: a ring buffer (`VecDeque`) with an optional maximum length, and the
//! sequence protocol (indexing, iteration, comparison, `+`, `*`, `in`) as CPython's deque.

use std::collections::VecDeque;
use std::rc::Rc;

use eddy_vm::objects::class::Class;
use eddy_vm::objects::iter::NativeIter;
use eddy_vm::objects::misc::Property;
use eddy_vm::{ops, Args, PyResult, Value, Vm};

use crate::native_state;
use crate::util::{self, arity, s};

pub struct Deque {
    pub items: VecDeque<Value>,
    pub maxlen: Option<usize>,
}

native_state!(
    Deque,
    |st, f| {
        st.items.iter().for_each(f);
    },
    |st, out| {
        out.extend(st.items.drain(..));
    }
);

impl Deque {
    fn push_back(&mut self, v: Value) {
        if self.maxlen == Some(0) {
            return;
        }
        if Some(self.items.len()) == self.maxlen {
            self.items.pop_front();
        }
        self.items.push_back(v);
    }
    fn push_front(&mut self, v: Value) {
        if self.maxlen == Some(0) {
            return;
        }
        if Some(self.items.len()) == self.maxlen {
            self.items.pop_back();
        }
        self.items.push_front(v);
    }
}

pub fn class(vm: &Vm) -> Rc<Class> {
    let cls = util::native_class(vm, "deque", "collections", None, deque_new);
    // `deque[int]` in annotations is a types.GenericAlias, as in CPython.
    cls.set_attr(
        util::s("__class_getitem__"),
        Value::ClassMethod(Rc::new(vm.native(
            "__class_getitem__",
            eddy_vm::builtins::generic_alias::class_getitem,
        ))),
    );
    util::methods(
        vm,
        &cls,
        &[
            ("__init__", deque_init),
            ("append", |vm, a| {
                arity(vm, "deque.append", &a, 2, 2)?;
                with(vm, &a, |d| d.push_back(a.pos[1].clone()))?;
                Ok(Value::None)
            }),
            ("appendleft", |vm, a| {
                arity(vm, "deque.appendleft", &a, 2, 2)?;
                with(vm, &a, |d| d.push_front(a.pos[1].clone()))?;
                Ok(Value::None)
            }),
            ("pop", |vm, a| {
                arity(vm, "deque.pop", &a, 1, 1)?;
                with(vm, &a, |d| d.items.pop_back())?
                    .ok_or_else(|| vm.index_error("pop from an empty deque"))
            }),
            ("popleft", |vm, a| {
                arity(vm, "deque.popleft", &a, 1, 1)?;
                with(vm, &a, |d| d.items.pop_front())?
                    .ok_or_else(|| vm.index_error("pop from an empty deque"))
            }),
            ("extend", |vm, a| extend(vm, a, false)),
            ("extendleft", |vm, a| extend(vm, a, true)),
            ("rotate", rotate),
            ("clear", |vm, a| {
                let old = with(vm, &a, |d| std::mem::take(&mut d.items))?;
                drop(old);
                Ok(Value::None)
            }),
            ("copy", copy),
            ("__copy__", copy),
            ("count", count),
            ("index", index),
            ("insert", insert),
            ("remove", remove),
            ("reverse", |vm, a| {
                with(vm, &a, |d| d.items.make_contiguous().reverse())?;
                Ok(Value::None)
            }),
            ("__len__", |vm, a| {
                Ok(Value::Int(with(vm, &a, |d| d.items.len())? as i64))
            }),
            ("__bool__", |vm, a| {
                Ok(Value::Bool(!with(vm, &a, |d| d.items.is_empty())?))
            }),
            ("__iter__", |vm, a| {
                let items: Vec<Value> = with(vm, &a, |d| d.items.iter().cloned().collect())?;
                Ok(eddy_vm::builtins::new_iter(NativeIter::Values {
                    items,
                    index: 0,
                }))
            }),
            ("__reversed__", |vm, a| {
                let items: Vec<Value> = with(vm, &a, |d| d.items.iter().rev().cloned().collect())?;
                Ok(eddy_vm::builtins::new_iter(NativeIter::Values {
                    items,
                    index: 0,
                }))
            }),
            ("__getitem__", getitem),
            ("__setitem__", setitem),
            ("__delitem__", delitem),
            ("__contains__", |vm, a| {
                arity(vm, "__contains__", &a, 2, 2)?;
                let items = snapshot(vm, &a.pos[0])?;
                for v in &items {
                    if v.is(&a.pos[1]) || ops::eq(vm, v, &a.pos[1])? {
                        return Ok(Value::Bool(true));
                    }
                }
                Ok(Value::Bool(false))
            }),
            ("__repr__", repr),
            ("__eq__", |vm, a| compare(vm, a, 0)),
            ("__ne__", |vm, a| compare(vm, a, 1)),
            ("__lt__", |vm, a| compare(vm, a, 2)),
            ("__le__", |vm, a| compare(vm, a, 3)),
            ("__gt__", |vm, a| compare(vm, a, 4)),
            ("__ge__", |vm, a| compare(vm, a, 5)),
            ("__add__", add),
            ("__iadd__", |vm, a| {
                arity(vm, "__iadd__", &a, 2, 2)?;
                extend(vm, Args::new(a.pos.clone()), false)?;
                Ok(a.pos[0].clone())
            }),
            ("__mul__", mul),
            ("__rmul__", mul),
            ("__imul__", |vm, a| {
                arity(vm, "__imul__", &a, 2, 2)?;
                let n = util::to_i64(vm, &a.pos[1])?;
                with(vm, &a, |d| {
                    let base: Vec<Value> = d.items.iter().cloned().collect();
                    d.items.clear();
                    for _ in 0..n.max(0) {
                        for v in &base {
                            d.push_back(v.clone());
                        }
                    }
                })?;
                Ok(a.pos[0].clone())
            }),
        ],
    );
    cls.set_attr(s("__hash__"), Value::None);
    let getter = vm.native("maxlen", |vm, a| {
        let m = util::state(vm, &a.pos[0], "collections.deque", |d: &mut Deque| d.maxlen)?;
        Ok(m.map(|m| Value::Int(m as i64)).unwrap_or(Value::None))
    });
    cls.set_attr(
        s("maxlen"),
        Value::Property(Rc::new(Property {
            fget: getter,
            fset: Value::None,
            fdel: Value::None,
            doc: Value::None,
        })),
    );
    cls
}

fn with<R>(vm: &Vm, a: &Args, f: impl FnOnce(&mut Deque) -> R) -> PyResult<R> {
    util::state(vm, &a.pos[0], "collections.deque", f)
}

fn snapshot(vm: &Vm, v: &Value) -> PyResult<Vec<Value>> {
    util::state(vm, v, "collections.deque", |d: &mut Deque| {
        d.items.iter().cloned().collect()
    })
}

fn deque_new(vm: &mut Vm, mut a: Args) -> PyResult<Value> {
    let cls = util::new_cls(vm, &mut a)?;
    Ok(util::new_native(
        &cls,
        Deque {
            items: VecDeque::new(),
            maxlen: None,
        },
    ))
}

/// A new deque of the same class as `like` (deque for plain deques).
pub fn new_deque(cls: &Rc<Class>, items: VecDeque<Value>, maxlen: Option<usize>) -> Value {
    util::new_native(cls, Deque { items, maxlen })
}

fn deque_init(vm: &mut Vm, mut a: Args) -> PyResult<Value> {
    let maxlen = util::arg(&mut a, 2, "maxlen").unwrap_or(Value::None);
    let iterable = util::arg(&mut a, 1, "iterable");
    util::no_kwargs(vm, "deque", &a)?;
    if a.pos.len() > 3 {
        return Err(vm.type_error(format!(
            "deque() takes at most 2 arguments ({} given)",
            a.pos.len() - 1
        )));
    }
    let maxlen = match maxlen {
        Value::None => None,
        v => {
            let n = util::to_i64(vm, &v)?;
            if n < 0 {
                return Err(vm.value_error("maxlen must be non-negative"));
            }
            Some(n as usize)
        }
    };
    let items = match iterable {
        Some(it) => ops::collect(vm, &it)?,
        None => vec![],
    };
    with(vm, &a, |d| {
        d.items.clear();
        d.maxlen = maxlen;
        for v in items {
            d.push_back(v);
        }
    })?;
    Ok(Value::None)
}

fn extend(vm: &mut Vm, a: Args, left: bool) -> PyResult<Value> {
    arity(
        vm,
        if left {
            "deque.extendleft"
        } else {
            "deque.extend"
        },
        &a,
        2,
        2,
    )?;
    // Collect first: `d.extend(d)` must see the items from before the call.
    let items = if a.pos[1].is(&a.pos[0]) {
        snapshot(vm, &a.pos[1])?
    } else {
        ops::collect(vm, &a.pos[1])?
    };
    with(vm, &a, |d| {
        for v in items {
            if left {
                d.push_front(v);
            } else {
                d.push_back(v);
            }
        }
    })?;
    Ok(Value::None)
}

fn rotate(vm: &mut Vm, a: Args) -> PyResult<Value> {
    arity(vm, "deque.rotate", &a, 1, 2)?;
    let n = match a.pos.get(1) {
        Some(v) => util::to_i64(vm, v)?,
        None => 1,
    };
    with(vm, &a, |d| {
        let len = d.items.len() as i64;
        if len > 1 {
            let k = n.rem_euclid(len) as usize;
            d.items.rotate_right(k);
        }
    })?;
    Ok(Value::None)
}

fn copy(vm: &mut Vm, a: Args) -> PyResult<Value> {
    let (items, maxlen) = with(vm, &a, |d| (d.items.clone(), d.maxlen))?;
    let cls = vm.type_of(&a.pos[0]);
    Ok(new_deque(&cls, items, maxlen))
}

fn count(vm: &mut Vm, a: Args) -> PyResult<Value> {
    arity(vm, "deque.count", &a, 2, 2)?;
    let items = snapshot(vm, &a.pos[0])?;
    let mut n = 0;
    for v in &items {
        if v.is(&a.pos[1]) || ops::eq(vm, v, &a.pos[1])? {
            n += 1;
        }
    }
    Ok(Value::Int(n))
}

fn clamp_index(i: i64, len: usize) -> usize {
    let len = len as i64;
    let i = if i < 0 { (i + len).max(0) } else { i.min(len) };
    i as usize
}

fn index(vm: &mut Vm, a: Args) -> PyResult<Value> {
    arity(vm, "deque.index", &a, 2, 4)?;
    let items = snapshot(vm, &a.pos[0])?;
    let start = match a.pos.get(2) {
        Some(v) => clamp_index(util::to_i64(vm, v)?, items.len()),
        None => 0,
    };
    let stop = match a.pos.get(3) {
        Some(v) => clamp_index(util::to_i64(vm, v)?, items.len()),
        None => items.len(),
    };
    for (i, v) in items.iter().enumerate().take(stop).skip(start) {
        if v.is(&a.pos[1]) || ops::eq(vm, v, &a.pos[1])? {
            return Ok(Value::Int(i as i64));
        }
    }
    let r = ops::repr(vm, &a.pos[1])?;
    Err(vm.value_error(format!("{r} is not in deque")))
}

fn insert(vm: &mut Vm, a: Args) -> PyResult<Value> {
    arity(vm, "deque.insert", &a, 3, 3)?;
    let i = util::to_i64(vm, &a.pos[1])?;
    let full = with(vm, &a, |d| Some(d.items.len()) == d.maxlen)?;
    if full {
        return Err(vm.index_error("deque already at its maximum size"));
    }
    with(vm, &a, |d| {
        let at = clamp_index(i, d.items.len());
        d.items.insert(at, a.pos[2].clone());
    })?;
    Ok(Value::None)
}

fn remove(vm: &mut Vm, a: Args) -> PyResult<Value> {
    arity(vm, "deque.remove", &a, 2, 2)?;
    let items = snapshot(vm, &a.pos[0])?;
    for (i, v) in items.iter().enumerate() {
        if v.is(&a.pos[1]) || ops::eq(vm, v, &a.pos[1])? {
            with(vm, &a, |d| d.items.remove(i))?;
            return Ok(Value::None);
        }
    }
    let r = ops::repr(vm, &a.pos[1])?;
    Err(vm.value_error(format!("{r} is not in deque")))
}

fn position(vm: &mut Vm, a: &Args) -> PyResult<usize> {
    let len = with(vm, a, |d| d.items.len())?;
    if let Value::Slice(_) = a.pos[1] {
        return Err(vm.type_error("sequence index must be integer, not 'slice'"));
    }
    let i = match &a.pos[1] {
        Value::Int(i) => *i,
        Value::Bool(b) => *b as i64,
        v => ops::index_value(vm, v, "sequence").map_err(|_| {
            vm.type_error(format!(
                "sequence index must be integer, not '{}'",
                vm.type_name(v)
            ))
        })?,
    };
    let i = if i < 0 { i + len as i64 } else { i };
    if i < 0 || i >= len as i64 {
        return Err(vm.index_error("deque index out of range"));
    }
    Ok(i as usize)
}

fn getitem(vm: &mut Vm, a: Args) -> PyResult<Value> {
    arity(vm, "__getitem__", &a, 2, 2)?;
    let i = position(vm, &a)?;
    with(vm, &a, |d| d.items[i].clone())
}

fn setitem(vm: &mut Vm, a: Args) -> PyResult<Value> {
    arity(vm, "__setitem__", &a, 3, 3)?;
    let i = position(vm, &a)?;
    let old = with(vm, &a, |d| {
        std::mem::replace(&mut d.items[i], a.pos[2].clone())
    })?;
    drop(old);
    Ok(Value::None)
}

fn delitem(vm: &mut Vm, a: Args) -> PyResult<Value> {
    arity(vm, "__delitem__", &a, 2, 2)?;
    let i = position(vm, &a)?;
    let old = with(vm, &a, |d| d.items.remove(i))?;
    drop(old);
    Ok(Value::None)
}

fn repr(vm: &mut Vm, a: Args) -> PyResult<Value> {
    let this = &a.pos[0];
    let (items, maxlen) = with(vm, &a, |d| {
        (d.items.iter().cloned().collect::<Vec<_>>(), d.maxlen)
    })?;
    let name = vm.type_name(this);
    let Some(_guard) = util::ReprGuard::enter(this) else {
        return Ok(Value::str("[...]"));
    };
    let list = ops::repr(vm, &Value::list(items))?;
    Ok(Value::string(match maxlen {
        Some(m) => format!("{name}({list}, maxlen={m})"),
        None => format!("{name}({list})"),
    }))
}

fn compare(vm: &mut Vm, a: Args, op: u8) -> PyResult<Value> {
    arity(vm, "compare", &a, 2, 2)?;
    let deque_cls = vm.type_of(&a.pos[0]);
    let other_is_deque = util::with_state(&a.pos[1], |_: &mut Deque| ()).is_some();
    if !other_is_deque {
        let _ = deque_cls;
        return Ok(Value::NotImplemented);
    }
    let x = Value::list(snapshot(vm, &a.pos[0])?);
    let y = Value::list(snapshot(vm, &a.pos[1])?);
    ops::compare(vm, &x, &y, op)
}

fn add(vm: &mut Vm, a: Args) -> PyResult<Value> {
    arity(vm, "__add__", &a, 2, 2)?;
    let Some(other) = util::with_state(&a.pos[1], |d: &mut Deque| d.items.clone()) else {
        return Err(vm.type_error(format!(
            "can only concatenate deque (not \"{}\") to deque",
            vm.type_name(&a.pos[1])
        )));
    };
    let (mut items, maxlen) = with(vm, &a, |d| (d.items.clone(), d.maxlen))?;
    let cls = vm.type_of(&a.pos[0]);
    let mut out = Deque {
        items: VecDeque::new(),
        maxlen,
    };
    items.extend(other);
    for v in items {
        out.push_back(v);
    }
    Ok(new_deque(&cls, out.items, maxlen))
}

fn mul(vm: &mut Vm, a: Args) -> PyResult<Value> {
    arity(vm, "__mul__", &a, 2, 2)?;
    let n = match &a.pos[1] {
        Value::Int(n) => *n,
        Value::Bool(b) => *b as i64,
        _ => return Ok(Value::NotImplemented),
    };
    let (items, maxlen) = with(vm, &a, |d| (d.items.clone(), d.maxlen))?;
    let cls = vm.type_of(&a.pos[0]);
    let mut out = Deque {
        items: VecDeque::new(),
        maxlen,
    };
    for _ in 0..n.max(0) {
        for v in &items {
            out.push_back(v.clone());
        }
    }
    Ok(new_deque(&cls, out.items, maxlen))
}
