//! `itertools`: lazy iterators as Rust-defined classes (one class per name, so `type(x)` and
//! reprs match CPython), whose state is an `Iter` value taken out of the instance while a step
//! runs (a step may call back into scripts). Combinatoric iterators copy their input pools
//! first, as CPython does.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;

use eddy_vm::objects::class::Class;
use eddy_vm::objects::module::Module;
use eddy_vm::{ops, Args, PyResult, Value, Vm};

use crate::native_state;
use crate::util::{self, s};

/// Items fetched from a `tee`'s source, shared by its iterators.
struct TeeData {
    source: Value,
    buffer: VecDeque<Value>,
    /// Index (in the whole stream) of `buffer[0]`.
    start: usize,
    exhausted: bool,
}

enum Iter {
    /// Taken out while a step runs.
    Busy,
    Count {
        next: Value,
        step: Value,
    },
    Cycle {
        source: Option<Value>,
        saved: Vec<Value>,
        index: usize,
    },
    Repeat {
        obj: Value,
        remaining: Option<i64>,
    },
    Chain {
        sources: Value,
        current: Option<Value>,
    },
    ISlice {
        source: Value,
        next_yield: usize,
        stop: Option<usize>,
        step: usize,
        consumed: usize,
    },
    Product {
        pools: Vec<Vec<Value>>,
        indices: Vec<usize>,
        started: bool,
        done: bool,
    },
    Permutations {
        pool: Vec<Value>,
        r: usize,
        indices: Vec<usize>,
        cycles: Vec<usize>,
        started: bool,
        done: bool,
    },
    Combinations {
        pool: Vec<Value>,
        r: usize,
        indices: Vec<usize>,
        started: bool,
        done: bool,
        replace: bool,
    },
    Accumulate {
        source: Value,
        func: Value,
        total: Option<Value>,
        initial: Option<Value>,
    },
    GroupBy {
        source: Value,
        key: Value,
        target: Option<Value>,
        current_key: Option<Value>,
        current: Option<Value>,
        id: u64,
    },
    Grouper {
        parent: Value,
        target: Value,
        id: u64,
        started: bool,
    },
    ZipLongest {
        sources: Vec<Option<Value>>,
        active: usize,
        fill: Value,
    },
    TakeWhile {
        pred: Value,
        source: Value,
        done: bool,
    },
    DropWhile {
        pred: Value,
        source: Value,
        dropping: bool,
    },
    StarMap {
        func: Value,
        source: Value,
    },
    Tee {
        data: Rc<RefCell<TeeData>>,
        index: usize,
    },
    Pairwise {
        source: Value,
        last: Option<Value>,
    },
    Compress {
        data: Value,
        selectors: Value,
    },
    FilterFalse {
        pred: Value,
        source: Value,
    },
    Batched {
        source: Value,
        n: usize,
    },
}

// Values held here are reported to the collector conservatively (not at all), so they always
// count as referenced from outside: cycles through an itertools object are kept, never broken.
native_state!(Iter, |_s, _f| {}, |_c, _out| {});

const NAMES: &[(&str, eddy_vm::objects::function::NativeFn)] = &[
    ("count", count_new),
    ("cycle", cycle_new),
    ("repeat", repeat_new),
    ("chain", chain_new),
    ("islice", islice_new),
    ("product", product_new),
    ("permutations", permutations_new),
    ("combinations", |vm, a| combinations_new(vm, a, false)),
    ("combinations_with_replacement", |vm, a| {
        combinations_new(vm, a, true)
    }),
    ("accumulate", accumulate_new),
    ("groupby", groupby_new),
    ("zip_longest", zip_longest_new),
    ("takewhile", |vm, a| pred_new(vm, a, "takewhile")),
    ("dropwhile", |vm, a| pred_new(vm, a, "dropwhile")),
    ("starmap", starmap_new),
    ("pairwise", pairwise_new),
    ("compress", compress_new),
    ("filterfalse", |vm, a| pred_new(vm, a, "filterfalse")),
    ("batched", batched_new),
];

pub fn init(vm: &mut Vm) -> PyResult<Rc<Module>> {
    let m = Rc::new(Module::new("itertools"));
    for (name, new) in NAMES {
        let cls = util::native_class(vm, name, "itertools", None, *new);
        util::methods(
            vm,
            &cls,
            &[
                ("__iter__", util::iter_self),
                ("__next__", next),
                ("__repr__", repr),
            ],
        );
        if *name == "chain" {
            cls.set_attr(
                s("from_iterable"),
                Value::ClassMethod(Rc::new(vm.native("from_iterable", chain_from_iterable))),
            );
        }
        m.set(name, Value::Class(cls));
    }
    let grouper = util::plain_class("_grouper", "itertools", vm.types.object.clone());
    util::methods(
        vm,
        &grouper,
        &[("__iter__", util::iter_self), ("__next__", next)],
    );
    m.set("_grouper", Value::Class(grouper));
    let tee_cls = util::plain_class("_tee", "itertools", vm.types.object.clone());
    util::methods(
        vm,
        &tee_cls,
        &[
            ("__iter__", util::iter_self),
            ("__next__", next),
            ("__copy__", tee_copy),
        ],
    );
    m.set("_tee", Value::Class(tee_cls));
    util::def(vm, &m, "tee", tee);
    Ok(m)
}

fn module_class(vm: &mut Vm, name: &str) -> PyResult<Rc<Class>> {
    let m = eddy_vm::import::import_module(vm, "itertools")?;
    match eddy_vm::attr::get_attr(vm, &m, name)? {
        Value::Class(c) => Ok(c),
        _ => Err(vm.type_error(format!("itertools.{name} is not a class"))),
    }
}

fn take(vm: &Vm, v: &Value) -> PyResult<Iter> {
    util::state(vm, v, "itertools iterator", |st: &mut Iter| {
        std::mem::replace(st, Iter::Busy)
    })
}

fn put(v: &Value, st: Iter) {
    util::with_state(v, |slot: &mut Iter| *slot = st);
}

fn next(vm: &mut Vm, a: Args) -> PyResult<Value> {
    let this = a.pos[0].clone();
    let mut st = take(vm, &this)?;
    let r = match &mut st {
        Iter::Busy => return Err(vm.value_error("generator already executing")),
        Iter::GroupBy { .. } => {
            put(&this, st);
            groupby_step(vm, &this)
        }
        Iter::Grouper {
            parent,
            target,
            id,
            started,
        } => {
            let (parent, target, id, was_started) = (parent.clone(), target.clone(), *id, *started);
            *started = true;
            put(&this, st);
            grouper_next(vm, &parent, &target, id, was_started)
        }
        _ => {
            let r = step(vm, &mut st);
            put(&this, st);
            r
        }
    };
    match r? {
        Some(v) => Ok(v),
        None => Err(util::stop(vm)),
    }
}

fn truthy_call(vm: &mut Vm, f: &Value, v: &Value) -> PyResult<bool> {
    let r = if f.is_none() {
        v.clone()
    } else {
        vm.call(f, vec![v.clone()])?
    };
    ops::truthy(vm, &r)
}

/// Advances one iterator; Ok(None) at its end.
fn step(vm: &mut Vm, st: &mut Iter) -> PyResult<Option<Value>> {
    match st {
        Iter::Busy => Ok(None),
        Iter::Count { next, step } => {
            let cur = next.clone();
            *next = ops::binary_op(vm, &cur, step, 0)?;
            Ok(Some(cur))
        }
        Iter::Cycle {
            source,
            saved,
            index,
        } => {
            if let Some(src) = source.clone() {
                match ops::iter_next(vm, &src)? {
                    Some(v) => {
                        saved.push(v.clone());
                        return Ok(Some(v));
                    }
                    None => *source = None,
                }
            }
            if saved.is_empty() {
                return Ok(None);
            }
            let v = saved[*index % saved.len()].clone();
            *index = (*index + 1) % saved.len();
            Ok(Some(v))
        }
        Iter::Repeat { obj, remaining } => match remaining {
            None => Ok(Some(obj.clone())),
            Some(n) if *n > 0 => {
                *n -= 1;
                Ok(Some(obj.clone()))
            }
            Some(_) => Ok(None),
        },
        Iter::Chain { sources, current } => loop {
            if let Some(cur) = current.clone() {
                if let Some(v) = ops::iter_next(vm, &cur)? {
                    return Ok(Some(v));
                }
                *current = None;
            }
            match ops::iter_next(vm, sources)? {
                Some(iterable) => *current = Some(ops::get_iter(vm, &iterable)?),
                None => return Ok(None),
            }
        },
        Iter::ISlice {
            source,
            next_yield,
            stop,
            step,
            consumed,
        } => {
            if stop.is_some_and(|s| *next_yield >= s) {
                // Consume up to stop, as CPython does, then finish.
                while stop.is_some_and(|s| *consumed < s) {
                    if ops::iter_next(vm, source)?.is_none() {
                        break;
                    }
                    *consumed += 1;
                }
                *stop = Some(0);
                *next_yield = 1;
                return Ok(None);
            }
            while *consumed < *next_yield {
                if ops::iter_next(vm, source)?.is_none() {
                    *stop = Some(0);
                    *next_yield = 1;
                    return Ok(None);
                }
                *consumed += 1;
            }
            let Some(v) = ops::iter_next(vm, source)? else {
                *stop = Some(0);
                *next_yield = 1;
                return Ok(None);
            };
            *consumed += 1;
            *next_yield += *step;
            Ok(Some(v))
        }
        Iter::Product {
            pools,
            indices,
            started,
            done,
        } => {
            if *done {
                return Ok(None);
            }
            if !*started {
                *started = true;
                if pools.iter().any(|p| p.is_empty()) {
                    *done = true;
                    return Ok(None);
                }
            } else {
                // Odometer: advance the rightmost index that can move.
                let mut i = pools.len();
                loop {
                    if i == 0 {
                        *done = true;
                        return Ok(None);
                    }
                    i -= 1;
                    indices[i] += 1;
                    if indices[i] < pools[i].len() {
                        break;
                    }
                    indices[i] = 0;
                }
            }
            Ok(Some(Value::tuple(
                indices
                    .iter()
                    .zip(pools.iter())
                    .map(|(i, p)| p[*i].clone())
                    .collect(),
            )))
        }
        Iter::Permutations {
            pool,
            r,
            indices,
            cycles,
            started,
            done,
        } => {
            let n = pool.len();
            if *done {
                return Ok(None);
            }
            if !*started {
                *started = true;
                if *r > n {
                    *done = true;
                    return Ok(None);
                }
                return Ok(Some(Value::tuple(
                    indices[..*r].iter().map(|i| pool[*i].clone()).collect(),
                )));
            }
            let mut i = *r;
            while i > 0 {
                i -= 1;
                cycles[i] -= 1;
                if cycles[i] == 0 {
                    let moved = indices.remove(i);
                    indices.push(moved);
                    cycles[i] = n - i;
                } else {
                    let j = cycles[i];
                    indices.swap(i, n - j);
                    return Ok(Some(Value::tuple(
                        indices[..*r].iter().map(|i| pool[*i].clone()).collect(),
                    )));
                }
            }
            *done = true;
            Ok(None)
        }
        Iter::Combinations {
            pool,
            r,
            indices,
            started,
            done,
            replace,
        } => {
            let n = pool.len();
            if *done {
                return Ok(None);
            }
            if !*started {
                *started = true;
                if (!*replace && *r > n) || (*replace && n == 0 && *r > 0) {
                    *done = true;
                    return Ok(None);
                }
                return Ok(Some(Value::tuple(
                    indices.iter().map(|i| pool[*i].clone()).collect(),
                )));
            }
            let r = *r;
            let mut i = r;
            let found = loop {
                if i == 0 {
                    break None;
                }
                i -= 1;
                let limit = if *replace { n - 1 } else { i + n - r };
                if indices[i] != limit {
                    break Some(i);
                }
            };
            let Some(i) = found else {
                *done = true;
                return Ok(None);
            };
            if *replace {
                let v = indices[i] + 1;
                for x in indices[i..].iter_mut() {
                    *x = v;
                }
            } else {
                indices[i] += 1;
                for j in i + 1..r {
                    indices[j] = indices[j - 1] + 1;
                }
            }
            Ok(Some(Value::tuple(
                indices.iter().map(|i| pool[*i].clone()).collect(),
            )))
        }
        Iter::Accumulate {
            source,
            func,
            total,
            initial,
        } => {
            if let Some(init) = initial.take() {
                *total = Some(init.clone());
                return Ok(Some(init));
            }
            let Some(v) = ops::iter_next(vm, source)? else {
                return Ok(None);
            };
            let new = match total.take() {
                None => v,
                Some(t) => {
                    if func.is_none() {
                        ops::binary_op(vm, &t, &v, 0)?
                    } else {
                        vm.call(func, vec![t, v])?
                    }
                }
            };
            *total = Some(new.clone());
            Ok(Some(new))
        }
        Iter::GroupBy {
            source,
            key,
            target,
            current_key,
            current,
            id,
        } => {
            *id += 1;
            // Skip the rest of the current group.
            loop {
                let same = match (&*current_key, &*target) {
                    (None, None) => true,
                    (Some(a), Some(b)) => ops::eq(vm, a, b)?,
                    _ => false,
                };
                if !same {
                    break;
                }
                let Some(v) = ops::iter_next(vm, source)? else {
                    return Ok(None);
                };
                let k = if key.is_none() {
                    v.clone()
                } else {
                    vm.call(key, vec![v.clone()])?
                };
                *current = Some(v);
                *current_key = Some(k);
            }
            *target = current_key.clone();
            let k = current_key.clone().unwrap_or(Value::None);
            Ok(Some(Value::tuple(vec![k.clone(), Value::Int(*id as i64)])))
        }
        Iter::Grouper { .. } => Ok(None),
        Iter::ZipLongest {
            sources,
            active,
            fill,
        } => {
            if *active == 0 {
                return Ok(None);
            }
            let mut out = Vec::with_capacity(sources.len());
            for slot in sources.iter_mut() {
                let v = match slot.clone() {
                    None => fill.clone(),
                    Some(it) => match ops::iter_next(vm, &it)? {
                        Some(v) => v,
                        None => {
                            *slot = None;
                            *active -= 1;
                            if *active == 0 {
                                return Ok(None);
                            }
                            fill.clone()
                        }
                    },
                };
                out.push(v);
            }
            Ok(Some(Value::tuple(out)))
        }
        Iter::TakeWhile { pred, source, done } => {
            if *done {
                return Ok(None);
            }
            let Some(v) = ops::iter_next(vm, source)? else {
                return Ok(None);
            };
            if truthy_call(vm, pred, &v)? {
                Ok(Some(v))
            } else {
                *done = true;
                Ok(None)
            }
        }
        Iter::DropWhile {
            pred,
            source,
            dropping,
        } => loop {
            let Some(v) = ops::iter_next(vm, source)? else {
                return Ok(None);
            };
            if !*dropping || !truthy_call(vm, pred, &v)? {
                *dropping = false;
                return Ok(Some(v));
            }
        },
        Iter::StarMap { func, source } => {
            let Some(args) = ops::iter_next(vm, source)? else {
                return Ok(None);
            };
            let args = ops::collect(vm, &args)?;
            vm.call(func, args).map(Some)
        }
        Iter::Tee { data, index } => {
            let (start, len, exhausted, source) = {
                let d = data.borrow();
                (d.start, d.buffer.len(), d.exhausted, d.source.clone())
            };
            if *index < start + len {
                let v = data.borrow().buffer[*index - start].clone();
                *index += 1;
                return Ok(Some(v));
            }
            if exhausted {
                return Ok(None);
            }
            match ops::iter_next(vm, &source)? {
                Some(v) => {
                    data.borrow_mut().buffer.push_back(v.clone());
                    *index += 1;
                    Ok(Some(v))
                }
                None => {
                    data.borrow_mut().exhausted = true;
                    Ok(None)
                }
            }
        }
        Iter::Pairwise { source, last } => {
            let prev = match last.take() {
                Some(p) => p,
                None => match ops::iter_next(vm, source)? {
                    Some(v) => v,
                    None => return Ok(None),
                },
            };
            let Some(v) = ops::iter_next(vm, source)? else {
                return Ok(None);
            };
            *last = Some(v.clone());
            Ok(Some(Value::tuple(vec![prev, v])))
        }
        Iter::Compress { data, selectors } => loop {
            let Some(d) = ops::iter_next(vm, data)? else {
                return Ok(None);
            };
            let Some(sel) = ops::iter_next(vm, selectors)? else {
                return Ok(None);
            };
            if ops::truthy(vm, &sel)? {
                return Ok(Some(d));
            }
        },
        Iter::FilterFalse { pred, source } => loop {
            let Some(v) = ops::iter_next(vm, source)? else {
                return Ok(None);
            };
            if !truthy_call(vm, pred, &v)? {
                return Ok(Some(v));
            }
        },
        Iter::Batched { source, n } => {
            let mut out = Vec::with_capacity(*n);
            while out.len() < *n {
                match ops::iter_next(vm, source)? {
                    Some(v) => out.push(v),
                    None => break,
                }
            }
            Ok(if out.is_empty() {
                None
            } else {
                Some(Value::tuple(out))
            })
        }
    }
}

/// Splits a native `__new__`'s arguments: returns the class and leaves the script's arguments.
fn class_and_args(vm: &Vm, mut a: Args) -> PyResult<(Rc<Class>, Args)> {
    let cls = util::new_cls(vm, &mut a)?;
    Ok((cls, a))
}

fn count_new(vm: &mut Vm, a: Args) -> PyResult<Value> {
    let (cls, mut a) = class_and_args(vm, a)?;
    let start = util::arg(&mut a, 0, "start").unwrap_or(Value::Int(0));
    let step = util::arg(&mut a, 1, "step").unwrap_or(Value::Int(1));
    util::no_kwargs(vm, "count", &a)?;
    for v in [&start, &step] {
        if !matches!(
            v,
            Value::Int(_)
                | Value::BigInt(_)
                | Value::Float(_)
                | Value::Bool(_)
                | Value::Instance(_)
        ) {
            return Err(vm.type_error("a number is required"));
        }
    }
    Ok(util::new_native(&cls, Iter::Count { next: start, step }))
}

fn cycle_new(vm: &mut Vm, a: Args) -> PyResult<Value> {
    let (cls, a) = class_and_args(vm, a)?;
    util::no_kwargs(vm, "cycle", &a)?;
    if a.pos.len() != 1 {
        return Err(vm.type_error(format!("cycle expected 1 argument, got {}", a.pos.len())));
    }
    let source = ops::get_iter(vm, &a.pos[0])?;
    Ok(util::new_native(
        &cls,
        Iter::Cycle {
            source: Some(source),
            saved: Vec::new(),
            index: 0,
        },
    ))
}

fn repeat_new(vm: &mut Vm, a: Args) -> PyResult<Value> {
    let (cls, mut a) = class_and_args(vm, a)?;
    let times = util::arg(&mut a, 1, "times");
    let obj = util::arg(&mut a, 0, "object")
        .ok_or_else(|| vm.type_error("repeat() missing required argument 'object' (pos 1)"))?;
    util::no_kwargs(vm, "repeat", &a)?;
    let remaining = match times {
        None => None,
        Some(t) => Some(util::to_i64(vm, &t)?.max(0)),
    };
    Ok(util::new_native(&cls, Iter::Repeat { obj, remaining }))
}

fn chain_new(vm: &mut Vm, a: Args) -> PyResult<Value> {
    let (cls, a) = class_and_args(vm, a)?;
    util::no_kwargs(vm, "chain", &a)?;
    let sources = ops::get_iter(vm, &Value::tuple(a.pos))?;
    Ok(util::new_native(
        &cls,
        Iter::Chain {
            sources,
            current: None,
        },
    ))
}

fn chain_from_iterable(vm: &mut Vm, a: Args) -> PyResult<Value> {
    let Some(Value::Class(cls)) = a.pos.first().cloned() else {
        return Err(vm.type_error("from_iterable needs a class"));
    };
    if a.pos.len() != 2 {
        return Err(vm.type_error(format!(
            "chain.from_iterable() takes exactly one argument ({} given)",
            a.pos.len() - 1
        )));
    }
    let sources = ops::get_iter(vm, &a.pos[1])?;
    Ok(util::new_native(
        &cls,
        Iter::Chain {
            sources,
            current: None,
        },
    ))
}

fn islice_index(vm: &mut Vm, v: &Value, msg: &str) -> PyResult<Option<usize>> {
    match v {
        Value::None => Ok(None),
        Value::Int(i) if *i >= 0 => Ok(Some(*i as usize)),
        Value::Bool(b) => Ok(Some(*b as usize)),
        Value::Instance(_) => match ops::index_value(vm, v, "islice") {
            Ok(i) if i >= 0 => Ok(Some(i as usize)),
            _ => Err(vm.value_error(msg)),
        },
        _ => Err(vm.value_error(msg)),
    }
}

fn islice_new(vm: &mut Vm, a: Args) -> PyResult<Value> {
    let (cls, a) = class_and_args(vm, a)?;
    util::no_kwargs(vm, "islice", &a)?;
    if a.pos.len() < 2 || a.pos.len() > 4 {
        let bound = if a.pos.len() < 2 { "least 2" } else { "most 4" };
        return Err(vm.type_error(format!(
            "islice expected at {bound} arguments, got {}",
            a.pos.len()
        )));
    }
    let source = ops::get_iter(vm, &a.pos[0])?;
    let (start, stop, step) = if a.pos.len() == 2 {
        (
            None,
            islice_index(
                vm,
                &a.pos[1],
                "Stop argument for islice() must be None or an integer: 0 <= x <= sys.maxsize.",
            )?,
            None,
        )
    } else {
        let msg = "Indices for islice() must be None or an integer: 0 <= x <= sys.maxsize.";
        let start = islice_index(vm, &a.pos[1], msg)?;
        let stop = islice_index(vm, &a.pos[2], msg)?;
        let step = match a.pos.get(3) {
            None | Some(Value::None) => None,
            Some(v) => match islice_index(
                vm,
                v,
                "Step for islice() must be a positive integer or None.",
            )? {
                Some(0) | None => {
                    return Err(
                        vm.value_error("Step for islice() must be a positive integer or None.")
                    )
                }
                s => s,
            },
        };
        (start, stop, step)
    };
    Ok(util::new_native(
        &cls,
        Iter::ISlice {
            source,
            next_yield: start.unwrap_or(0),
            stop,
            step: step.unwrap_or(1),
            consumed: 0,
        },
    ))
}

fn product_new(vm: &mut Vm, a: Args) -> PyResult<Value> {
    let (cls, mut a) = class_and_args(vm, a)?;
    let repeat = match a.take_kw("repeat") {
        Some(r) => util::to_i64(vm, &r)?,
        None => 1,
    };
    util::no_kwargs(vm, "product", &a)?;
    if repeat < 0 {
        return Err(vm.value_error("repeat argument cannot be negative"));
    }
    let mut base = Vec::new();
    for p in &a.pos {
        base.push(ops::collect(vm, p)?);
    }
    let mut pools = Vec::new();
    for _ in 0..repeat {
        pools.extend(base.iter().cloned());
    }
    let indices = vec![0; pools.len()];
    Ok(util::new_native(
        &cls,
        Iter::Product {
            pools,
            indices,
            started: false,
            done: false,
        },
    ))
}

fn permutations_new(vm: &mut Vm, a: Args) -> PyResult<Value> {
    let (cls, mut a) = class_and_args(vm, a)?;
    let r = util::arg(&mut a, 1, "r").unwrap_or(Value::None);
    let iterable = util::arg(&mut a, 0, "iterable").ok_or_else(|| {
        vm.type_error("permutations() missing required argument 'iterable' (pos 1)")
    })?;
    util::no_kwargs(vm, "permutations", &a)?;
    let pool = ops::collect(vm, &iterable)?;
    let n = pool.len();
    let r = match r {
        Value::None => n,
        v => {
            let r = util::to_i64(vm, &v)?;
            if r < 0 {
                return Err(vm.value_error("r must be non-negative"));
            }
            r as usize
        }
    };
    let indices: Vec<usize> = (0..n).collect();
    let cycles: Vec<usize> = (0..r.min(n)).map(|i| n - i).collect();
    Ok(util::new_native(
        &cls,
        Iter::Permutations {
            pool,
            r,
            indices,
            cycles,
            started: false,
            done: false,
        },
    ))
}

fn combinations_new(vm: &mut Vm, a: Args, replace: bool) -> PyResult<Value> {
    let (cls, mut a) = class_and_args(vm, a)?;
    let name = if replace {
        "combinations_with_replacement"
    } else {
        "combinations"
    };
    let r = util::arg(&mut a, 1, "r")
        .ok_or_else(|| vm.type_error(format!("{name}() missing required argument 'r' (pos 2)")))?;
    let iterable = util::arg(&mut a, 0, "iterable").ok_or_else(|| {
        vm.type_error(format!(
            "{name}() missing required argument 'iterable' (pos 1)"
        ))
    })?;
    util::no_kwargs(vm, name, &a)?;
    let pool = ops::collect(vm, &iterable)?;
    let r = util::to_i64(vm, &r)?;
    if r < 0 {
        return Err(vm.value_error("r must be non-negative"));
    }
    let r = r as usize;
    let indices: Vec<usize> = if replace {
        vec![0; r]
    } else {
        (0..r).collect()
    };
    Ok(util::new_native(
        &cls,
        Iter::Combinations {
            pool,
            r,
            indices,
            started: false,
            done: false,
            replace,
        },
    ))
}

fn accumulate_new(vm: &mut Vm, a: Args) -> PyResult<Value> {
    let (cls, mut a) = class_and_args(vm, a)?;
    let initial = a.take_kw("initial").filter(|v| !v.is_none());
    let func = util::arg(&mut a, 1, "func").unwrap_or(Value::None);
    let iterable = util::arg(&mut a, 0, "iterable").ok_or_else(|| {
        vm.type_error("accumulate() missing required argument 'iterable' (pos 1)")
    })?;
    util::no_kwargs(vm, "accumulate", &a)?;
    let source = ops::get_iter(vm, &iterable)?;
    Ok(util::new_native(
        &cls,
        Iter::Accumulate {
            source,
            func,
            total: None,
            initial,
        },
    ))
}

fn groupby_new(vm: &mut Vm, a: Args) -> PyResult<Value> {
    let (cls, mut a) = class_and_args(vm, a)?;
    let key = util::arg(&mut a, 1, "key").unwrap_or(Value::None);
    let iterable = util::arg(&mut a, 0, "iterable")
        .ok_or_else(|| vm.type_error("groupby() missing required argument 'iterable' (pos 1)"))?;
    util::no_kwargs(vm, "groupby", &a)?;
    let source = ops::get_iter(vm, &iterable)?;
    Ok(util::new_native(
        &cls,
        Iter::GroupBy {
            source,
            key,
            target: None,
            current_key: None,
            current: None,
            id: 0,
        },
    ))
}

fn zip_longest_new(vm: &mut Vm, a: Args) -> PyResult<Value> {
    let (cls, mut a) = class_and_args(vm, a)?;
    let fill = a.take_kw("fillvalue").unwrap_or(Value::None);
    util::no_kwargs(vm, "zip_longest", &a)?;
    let mut sources = Vec::new();
    for p in &a.pos {
        sources.push(Some(ops::get_iter(vm, p)?));
    }
    let active = sources.len();
    Ok(util::new_native(
        &cls,
        Iter::ZipLongest {
            sources,
            active,
            fill,
        },
    ))
}

fn pred_new(vm: &mut Vm, a: Args, name: &str) -> PyResult<Value> {
    let (cls, a) = class_and_args(vm, a)?;
    util::no_kwargs(vm, name, &a)?;
    if a.pos.len() != 2 {
        return Err(vm.type_error(format!("{name} expected 2 arguments, got {}", a.pos.len())));
    }
    let pred = a.pos[0].clone();
    let source = ops::get_iter(vm, &a.pos[1])?;
    let st = match name {
        "takewhile" => Iter::TakeWhile {
            pred,
            source,
            done: false,
        },
        "dropwhile" => Iter::DropWhile {
            pred,
            source,
            dropping: true,
        },
        _ => Iter::FilterFalse { pred, source },
    };
    Ok(util::new_native(&cls, st))
}

fn starmap_new(vm: &mut Vm, a: Args) -> PyResult<Value> {
    let (cls, a) = class_and_args(vm, a)?;
    util::no_kwargs(vm, "starmap", &a)?;
    if a.pos.len() != 2 {
        return Err(vm.type_error(format!("starmap expected 2 arguments, got {}", a.pos.len())));
    }
    let source = ops::get_iter(vm, &a.pos[1])?;
    Ok(util::new_native(
        &cls,
        Iter::StarMap {
            func: a.pos[0].clone(),
            source,
        },
    ))
}

fn pairwise_new(vm: &mut Vm, a: Args) -> PyResult<Value> {
    let (cls, a) = class_and_args(vm, a)?;
    util::no_kwargs(vm, "pairwise", &a)?;
    if a.pos.len() != 1 {
        return Err(vm.type_error(format!("pairwise expected 1 argument, got {}", a.pos.len())));
    }
    let source = ops::get_iter(vm, &a.pos[0])?;
    Ok(util::new_native(
        &cls,
        Iter::Pairwise { source, last: None },
    ))
}

fn compress_new(vm: &mut Vm, a: Args) -> PyResult<Value> {
    let (cls, mut a) = class_and_args(vm, a)?;
    let selectors = util::arg(&mut a, 1, "selectors")
        .ok_or_else(|| vm.type_error("compress() missing required argument 'selectors' (pos 2)"))?;
    let data = util::arg(&mut a, 0, "data")
        .ok_or_else(|| vm.type_error("compress() missing required argument 'data' (pos 1)"))?;
    let data = ops::get_iter(vm, &data)?;
    let selectors = ops::get_iter(vm, &selectors)?;
    Ok(util::new_native(&cls, Iter::Compress { data, selectors }))
}

fn batched_new(vm: &mut Vm, a: Args) -> PyResult<Value> {
    let (cls, a) = class_and_args(vm, a)?;
    if a.pos.len() != 2 {
        return Err(vm.type_error(format!("batched expected 2 arguments, got {}", a.pos.len())));
    }
    let n = util::to_i64(vm, &a.pos[1])?;
    if n < 1 {
        return Err(vm.value_error("n must be at least one"));
    }
    let source = ops::get_iter(vm, &a.pos[0])?;
    Ok(util::new_native(
        &cls,
        Iter::Batched {
            source,
            n: n as usize,
        },
    ))
}

fn tee(vm: &mut Vm, a: Args) -> PyResult<Value> {
    util::arity(vm, "tee", &a, 1, 2)?;
    let n = match a.pos.get(1) {
        Some(v) => util::to_i64(vm, v)?,
        None => 2,
    };
    if n < 0 {
        return Err(vm.value_error("n must be >= 0"));
    }
    let source = ops::get_iter(vm, &a.pos[0])?;
    let data = Rc::new(RefCell::new(TeeData {
        source,
        buffer: VecDeque::new(),
        start: 0,
        exhausted: false,
    }));
    let cls = module_class(vm, "_tee")?;
    let its: Vec<Value> = (0..n)
        .map(|_| {
            util::new_native(
                &cls,
                Iter::Tee {
                    data: data.clone(),
                    index: 0,
                },
            )
        })
        .collect();
    Ok(Value::tuple(its))
}

fn tee_copy(vm: &mut Vm, a: Args) -> PyResult<Value> {
    let cls = vm.type_of(&a.pos[0]);
    let copy = util::state(vm, &a.pos[0], "itertools._tee", |st: &mut Iter| match st {
        Iter::Tee { data, index } => Some(Iter::Tee {
            data: data.clone(),
            index: *index,
        }),
        _ => None,
    })?;
    match copy {
        Some(st) => Ok(util::new_native(&cls, st)),
        None => Err(vm.type_error("not a tee iterator")),
    }
}

fn repr(vm: &mut Vm, a: Args) -> PyResult<Value> {
    let this = a.pos[0].clone();
    let name = vm.type_name(&this);
    let shown = util::state(vm, &this, "itertools iterator", |st: &mut Iter| match st {
        Iter::Count { next, step } => Some((0, next.clone(), step.clone())),
        Iter::Repeat { obj, remaining } => Some((
            1,
            obj.clone(),
            remaining.map(Value::Int).unwrap_or(Value::Null),
        )),
        _ => None,
    })?;
    let text = match shown {
        Some((0, next, step)) => {
            let n = ops::repr(vm, &next)?;
            if matches!(step, Value::Int(1)) {
                format!("{name}({n})")
            } else {
                format!("{name}({n}, {})", ops::repr(vm, &step)?)
            }
        }
        Some((_, obj, times)) => {
            let o = ops::repr(vm, &obj)?;
            if times.is_null() {
                format!("{name}({o})")
            } else {
                format!("{name}({o}, {})", ops::repr(vm, &times)?)
            }
        }
        None => format!(
            "<itertools.{name} object at 0x{:x}>",
            this.ptr_id().unwrap_or(0)
        ),
    };
    Ok(Value::string(text))
}

// groupby yields (key, _grouper): the group iterator reads from the groupby's state.
fn grouper_next(
    vm: &mut Vm,
    parent: &Value,
    target: &Value,
    id: u64,
    started: bool,
) -> PyResult<Option<Value>> {
    let mut st = take(vm, parent)?;
    let r = (|| -> PyResult<Option<Value>> {
        let Iter::GroupBy {
            source,
            key,
            current_key,
            current,
            id: pid,
            ..
        } = &mut st
        else {
            return Ok(None);
        };
        if *pid != id {
            return Ok(None);
        }
        if started {
            let Some(v) = ops::iter_next(vm, source)? else {
                return Ok(None);
            };
            let k = if key.is_none() {
                v.clone()
            } else {
                vm.call(key, vec![v.clone()])?
            };
            *current = Some(v);
            *current_key = Some(k);
        }
        let same = match &*current_key {
            Some(k) if !k.is_null() => ops::eq(vm, k, target)?,
            _ => false,
        };
        if !same {
            return Ok(None);
        }
        Ok(current.clone())
    })();
    put(parent, st);
    r
}

/// `__next__` of groupby's group iterators and of groupby itself (which wraps the raw step).
fn groupby_step(vm: &mut Vm, this: &Value) -> PyResult<Option<Value>> {
    let mut st = take(vm, this)?;
    let r = step(vm, &mut st);
    put(this, st);
    let Some(pair) = r? else { return Ok(None) };
    let Value::Tuple(t) = &pair else {
        return Ok(Some(pair));
    };
    let (k, id) = (
        t[0].clone(),
        if let Value::Int(i) = t[1] {
            i as u64
        } else {
            0
        },
    );
    let cls = module_class(vm, "_grouper")?;
    let g = util::new_native(
        &cls,
        Iter::Grouper {
            parent: this.clone(),
            target: k.clone(),
            id,
            started: false,
        },
    );
    Ok(Some(Value::tuple(vec![k, g])))
}
