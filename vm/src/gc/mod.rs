//! The cycle collector. Reference counting frees acyclic garbage at once; this finds reference
//! cycles among container objects, the way CPython's collector does: for every tracked object,
//! subtract the references that come from other tracked objects from its reference count. What is
//! left over is referenced from outside (the stack, a frame, a native temporary): those objects and
//! everything reachable from them live. The rest is garbage held only by cycles, and is cleared,
//! which drops the cycle's internal references so reference counting frees it.
//!
//! Because it works from reference counts, it needs no root set and may run at any allocation.

use rustc_hash::FxHashMap as HashMap;
use std::cell::RefCell;
use std::rc::Rc;

mod tracked;
use tracked::Tracked;

use crate::objects::class::{Instance, Payload};
use crate::objects::dict::PyDict;
use crate::objects::function::Function;
use crate::objects::generator::Generator;
use crate::value::{PyList, PyTuple, Value};

/// Collections start after this many new tracked objects, and at least this many after the
/// number that survived the previous collection (so cost stays linear in allocation).
const MIN_THRESHOLD: usize = 20_000;

struct Collector {
    objects: Vec<Tracked>,
    since_last: usize,
    threshold: usize,
    /// Tracked objects alive after the last collection.
    survivors: usize,
    enabled: bool,
    collecting: bool,
}

thread_local! {
    static GC: RefCell<Collector> = const {
        RefCell::new(Collector {
            objects: Vec::new(),
            since_last: 0,
            threshold: MIN_THRESHOLD,
            survivors: 0,
            enabled: true,
            collecting: false,
        })
    };
}

fn track(t: Tracked) {
    let due = GC.with(|gc| {
        let mut gc = gc.borrow_mut();
        if gc.objects.len() == gc.objects.capacity() {
            // Grow by a quarter, not double: the list holds every live container (millions
            // with many parked tasks), and doubling would leave up to half of it unused.
            let more = (gc.objects.capacity() / 4).max(1024);
            gc.objects.reserve_exact(more);
        }
        gc.objects.push(t);
        gc.since_last += 1;
        gc.enabled && !gc.collecting && gc.since_last >= gc.threshold && net_growth_due(&mut gc)
    });
    if due {
        collect();
    }
}

/// Most tracked objects die young through their reference counts. Like CPython, which counts
/// allocations minus deallocations, only collect when the objects still alive have grown by
/// the threshold: dropping the dead entries is far cheaper than a collection, and garbage
/// cycles are exactly what stays alive, so they still trigger one.
fn net_growth_due(gc: &mut Collector) -> bool {
    gc.objects.retain(|t| t.alive());
    let grown = gc.objects.len().saturating_sub(gc.survivors);
    if grown >= gc.threshold {
        return true;
    }
    gc.since_last = grown;
    false
}

/// How many objects the collector tracks (some may have died since its last sweep): a cheap
/// measure of heap size, for hosts that limit it.
pub fn tracked_objects() -> usize {
    GC.with(|gc| gc.borrow().objects.len())
}

pub fn track_list(l: Rc<PyList>) -> Value {
    track(Tracked::list(&l));
    Value::List(l)
}
pub fn track_tuple(t: Rc<PyTuple>) -> Value {
    if t.iter().any(may_hold_cycle) {
        track(Tracked::tuple(&t));
    }
    Value::Tuple(t)
}
pub fn track_dict(d: Rc<PyDict>) -> Value {
    track(Tracked::dict(&d));
    Value::Dict(d)
}
pub fn track_instance(i: Rc<Instance>) -> Value {
    track(Tracked::instance(&i));
    Value::Instance(i)
}
pub fn track_function(f: Rc<Function>) -> Value {
    track(Tracked::function(&f));
    Value::Function(f)
}
pub fn track_generator(g: Rc<Generator>) -> Value {
    track(Tracked::generator(&g));
    Value::Generator(g)
}
pub fn track_cell(c: &Rc<RefCell<Value>>) {
    track(Tracked::cell(c));
}

fn may_hold_cycle(v: &Value) -> bool {
    matches!(
        v,
        Value::List(_)
            | Value::Tuple(_)
            | Value::Dict(_)
            | Value::Instance(_)
            | Value::Function(_)
            | Value::Generator(_)
            | Value::Set(_)
            | Value::BoundMethod(_)
    )
}

/// Calls `f` on every value `v` references directly.
fn trace(v: &Value, f: &mut dyn FnMut(&Value)) {
    match v {
        Value::List(l) => {
            if let Ok(l) = l.try_borrow() {
                l.iter().for_each(f);
            }
        }
        Value::Tuple(t) => t.iter().for_each(f),
        Value::Dict(d) => {
            if let Ok(d) = d.try_borrow() {
                for e in d.iter() {
                    f(&e.key);
                    f(&e.value);
                }
            }
        }
        Value::Instance(i) => {
            if let Ok(d) = i.dict.try_borrow() {
                d.values().for_each(&mut *f);
            }
            match &i.payload {
                Payload::Dict(d) => f(&Value::Dict(d.clone())),
                Payload::List(l) => f(&Value::List(l.clone())),
                Payload::Tuple(t) => f(&Value::Tuple(t.clone())),
                Payload::Value(v) => {
                    if let Ok(v) = v.try_borrow() {
                        f(&v)
                    }
                }
                Payload::Exception(e) => {
                    if let Ok(e) = e.try_borrow() {
                        f(&e.args);
                        f(&e.cause);
                        f(&e.context);
                    }
                }
                Payload::Native(n) => {
                    if let Ok(n) = n.try_borrow() {
                        n.traverse(f);
                    }
                }
                Payload::None => {}
            }
        }
        Value::Function(func) => {
            for c in &func.closure {
                f(&Value::Cell(c.clone()));
            }
            func.defaults.iter().for_each(&mut *f);
            for (_, v) in &func.kwdefaults {
                f(v);
            }
            if let Ok(d) = func.dict.try_borrow() {
                d.values().for_each(&mut *f);
            }
        }
        Value::Generator(g) => {
            if let Ok(inner) = g.inner.try_borrow() {
                inner.saved.iter().for_each(&mut *f);
                if let Some(frame) = &inner.frame {
                    for c in frame.cells() {
                        f(&Value::Cell(c.clone()));
                    }
                }
            }
        }
        Value::Cell(c) => {
            if let Ok(c) = c.try_borrow() {
                f(&c);
            }
        }
        _ => {}
    }
}

/// Breaks an unreachable object's references; returns what it held so it is dropped afterwards.
fn clear(v: &Value, graveyard: &mut Vec<Value>) {
    match v {
        Value::List(l) => {
            if let Ok(mut l) = l.try_borrow_mut() {
                graveyard.extend(l.drain(..));
            }
        }
        Value::Dict(d) => {
            if let Ok(mut d) = d.try_borrow_mut() {
                for e in d.iter() {
                    graveyard.push(e.key.clone());
                    graveyard.push(e.value.clone());
                }
                d.clear();
            }
        }
        Value::Instance(i) => {
            if !i.dict.is_unallocated() {
                graveyard.extend(i.dict.take().into_values());
            }
            match &i.payload {
                Payload::Value(v) => {
                    if let Ok(mut v) = v.try_borrow_mut() {
                        graveyard.push(std::mem::take(&mut *v));
                    }
                }
                Payload::Exception(e) => {
                    if let Ok(mut e) = e.try_borrow_mut() {
                        graveyard.push(std::mem::replace(&mut e.cause, Value::None));
                        graveyard.push(std::mem::replace(&mut e.context, Value::None));
                    }
                }
                Payload::Native(n) => {
                    if let Ok(mut n) = n.try_borrow_mut() {
                        n.clear(graveyard);
                    }
                }
                _ => {}
            }
        }
        Value::Function(func) => {
            if let Ok(mut d) = func.dict.try_borrow_mut() {
                graveyard.extend(d.drain(..).map(|(_, v)| v));
            }
        }
        Value::Generator(g) => {
            if let Ok(mut inner) = g.inner.try_borrow_mut() {
                graveyard.append(&mut inner.saved);
                // Cells and globals go with the frame (the code stays: it is the generator's).
                if let Some(frame) = inner.frame.take() {
                    graveyard.extend(frame.cells().iter().map(|c| Value::Cell(c.clone())));
                }
            }
        }
        Value::Cell(c) => {
            if let Ok(mut c) = c.try_borrow_mut() {
                graveyard.push(std::mem::take(&mut *c));
            }
        }
        _ => {}
    }
}

fn strong_count(v: &Value) -> usize {
    match v {
        Value::List(r) => Rc::strong_count(r),
        Value::Tuple(r) => Rc::strong_count(r),
        Value::Dict(r) => Rc::strong_count(r),
        Value::Instance(r) => Rc::strong_count(r),
        Value::Function(r) => Rc::strong_count(r),
        Value::Generator(r) => Rc::strong_count(r),
        Value::Cell(r) => Rc::strong_count(r),
        _ => 0,
    }
}

/// Runs one collection; returns the number of objects found unreachable.
pub fn collect() -> usize {
    let tracked = GC.with(|gc| {
        let mut gc = gc.borrow_mut();
        gc.collecting = true;
        gc.objects.retain(|t| t.alive());
        std::mem::take(&mut gc.objects)
    });
    let live: Vec<Value> = tracked.iter().filter_map(|t| t.upgrade()).collect();
    let mut index: HashMap<usize, usize> =
        HashMap::with_capacity_and_hasher(live.len(), Default::default());
    for (i, v) in live.iter().enumerate() {
        if let Some(id) = v.ptr_id() {
            index.insert(id, i);
        }
    }
    // References from outside = count - our upgrade - references from tracked objects.
    let mut refs: Vec<isize> = live.iter().map(|v| strong_count(v) as isize - 1).collect();
    for v in &live {
        trace(v, &mut |child| {
            if let Some(id) = child.ptr_id() {
                if let Some(&j) = index.get(&id) {
                    refs[j] -= 1;
                }
            }
        });
    }
    let mut reachable = vec![false; live.len()];
    let mut work: Vec<usize> = (0..live.len()).filter(|&i| refs[i] > 0).collect();
    for &i in &work {
        reachable[i] = true;
    }
    while let Some(i) = work.pop() {
        trace(&live[i], &mut |child| {
            if let Some(id) = child.ptr_id() {
                if let Some(&j) = index.get(&id) {
                    if !reachable[j] {
                        reachable[j] = true;
                        work.push(j);
                    }
                }
            }
        });
    }
    let mut graveyard = Vec::new();
    let mut freed = 0;
    for (i, v) in live.iter().enumerate() {
        if !reachable[i] {
            clear(v, &mut graveyard);
            freed += 1;
        }
    }
    let survivors = live.len() - freed;
    drop(live);
    GC.with(|gc| {
        let mut gc = gc.borrow_mut();
        let mut objects = tracked;
        objects.append(&mut gc.objects);
        gc.objects = objects;
        gc.since_last = 0;
        gc.threshold = MIN_THRESHOLD.max(survivors);
        gc.survivors = survivors;
        gc.collecting = false;
    });
    drop(graveyard);
    freed
}

/// Turns automatic collection on or off (`gc.disable()`), returning the previous setting.
pub fn set_enabled(on: bool) -> bool {
    GC.with(|gc| std::mem::replace(&mut gc.borrow_mut().enabled, on))
}
