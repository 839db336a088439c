//! `interpreters.Queue`: a channel of copied values (portable values, concurrent/portable.rs)
//! that every interpreter of the process shares. The contents live in a process-wide registry by
//! queue id; a script holds a handle, and a handle crosses to another interpreter through
//! `__reduce__` (rebuilt there from the id). Blocking calls wait through the scheduler, so the
//! VM's other script threads and its event loop run meanwhile.

use std::collections::{HashMap, VecDeque};
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use eddy_vm::objects::class::Class;
use eddy_vm::objects::module::Module;
use eddy_vm::{Args, PyResult, Value, Vm};

use super::module_error;
use crate::clock;
use crate::concurrent::portable::{Copier, Restorer, P};
use crate::native_state;
use crate::threading::sched;
use crate::util;

/// How often a blocked `get`/`put` looks at its queue again, besides being woken by the
/// scheduler's notifier when another interpreter puts or gets (CPython's queues poll every
/// 10 ms).
const POLL: f64 = 0.005;

/// A queue's contents, shared by every interpreter holding a handle on it.
struct Shared {
    id: u64,
    maxsize: usize,
    items: Mutex<VecDeque<P>>,
}

impl Shared {
    fn len(&self) -> usize {
        self.items.lock().map(|q| q.len()).unwrap_or(0)
    }
    fn full(&self) -> bool {
        self.maxsize > 0 && self.len() >= self.maxsize
    }
}

/// Every queue of the process, by id. A queue lives until the program ends: a handle in
/// transit to another interpreter is only an id, so no handle count can say when it is unused.
fn queues() -> &'static Mutex<HashMap<u64, Arc<Shared>>> {
    static QUEUES: OnceLock<Mutex<HashMap<u64, Arc<Shared>>>> = OnceLock::new();
    QUEUES.get_or_init(|| Mutex::new(HashMap::new()))
}

/// A script's handle on a queue.
struct QueueRef(Arc<Shared>);
native_state!(QueueRef, |_s, _f| {}, |_c, _out| {});

/// The Queue class and the module's queue functions.
pub(super) fn install(vm: &Vm, m: &Module) {
    let cls = util::native_class(vm, "Queue", "interpreters", None, queue_new);
    util::methods(
        vm,
        &cls,
        &[
            ("put", |vm, a| queue_put(vm, a, true)),
            ("put_nowait", |vm, a| queue_put(vm, a, false)),
            ("get", |vm, a| queue_get(vm, a, true)),
            ("get_nowait", |vm, a| queue_get(vm, a, false)),
            ("qsize", |vm, a| {
                Ok(Value::Int(shared(vm, &a)?.len() as i64))
            }),
            ("empty", |vm, a| Ok(Value::Bool(shared(vm, &a)?.len() == 0))),
            ("full", |vm, a| Ok(Value::Bool(shared(vm, &a)?.full()))),
            ("__repr__", |vm, a| {
                let id = shared(vm, &a)?.id;
                Ok(Value::string(format!("interpreters.Queue(id={id})")))
            }),
            ("__hash__", |vm, a| {
                Ok(Value::Int(shared(vm, &a)?.id as i64))
            }),
            ("__eq__", |vm, a| {
                util::arity(vm, "__eq__", &a, 2, 2)?;
                let x = shared(vm, &a)?.id;
                let y = util::with_state(&a.pos[1], |q: &mut QueueRef| q.0.id);
                Ok(y.map_or(Value::NotImplemented, |y| Value::Bool(x == y)))
            }),
            ("__reduce__", queue_reduce),
        ],
    );
    m.set("Queue", Value::Class(cls));
    util::defs(
        vm,
        m,
        &[
            ("create_queue", create_queue),
            ("_queue_by_id", queue_by_id),
        ],
    );
}

fn shared(vm: &Vm, a: &Args) -> PyResult<Arc<Shared>> {
    let Some(q) = a.pos.first() else {
        return Err(vm.type_error("Queue method needs a Queue"));
    };
    util::state(vm, q, "interpreters.Queue", |q: &mut QueueRef| q.0.clone())
}

/// A new handle on `q`, an instance of `interpreters.Queue` (or of `cls`).
fn handle(vm: &mut Vm, q: Arc<Shared>, cls: Option<Rc<Class>>) -> PyResult<Value> {
    let cls = match cls {
        Some(c) => c,
        None => match vm.modules.get("interpreters") {
            Some(Value::Module(m)) => match m.get("Queue") {
                Some(Value::Class(c)) => c,
                _ => return Err(vm.error("RuntimeError", "interpreters is not initialised")),
            },
            _ => return Err(vm.error("RuntimeError", "interpreters is not initialised")),
        },
    };
    let (id, maxsize) = (q.id, q.maxsize);
    let v = util::new_native(&cls, QueueRef(q));
    eddy_vm::attr::set_attr(vm, &v, &util::s("id"), Value::Int(id as i64))?;
    eddy_vm::attr::set_attr(vm, &v, &util::s("maxsize"), Value::Int(maxsize as i64))?;
    Ok(v)
}

/// `create_queue(maxsize=0)`: a new queue (0: unbounded).
fn create_queue(vm: &mut Vm, mut a: Args) -> PyResult<Value> {
    let kw = a.take_kw("maxsize");
    util::no_kwargs(vm, "create_queue", &a)?;
    util::arity(vm, "create_queue", &a, 0, 1)?;
    let maxsize = match a.pos.first().or(kw.as_ref()) {
        Some(v) => util::to_i64(vm, v)?.max(0) as usize,
        None => 0,
    };
    static NEXT_QUEUE: AtomicU64 = AtomicU64::new(1);
    let q = Arc::new(Shared {
        id: NEXT_QUEUE.fetch_add(1, Ordering::Relaxed),
        maxsize,
        items: Mutex::new(VecDeque::new()),
    });
    if let Ok(mut all) = queues().lock() {
        all.insert(q.id, q.clone());
    }
    handle(vm, q, None)
}

/// `Queue(id)`: a handle on an existing queue, as PEP 734's (`create_queue()` makes new ones).
fn queue_new(vm: &mut Vm, mut a: Args) -> PyResult<Value> {
    let cls = util::new_cls(vm, &mut a)?;
    util::arity(vm, "Queue", &a, 1, 1)?;
    let id = util::to_i64(vm, &a.pos[0])?;
    by_id(vm, id as u64, Some(cls))
}

fn by_id(vm: &mut Vm, id: u64, cls: Option<Rc<Class>>) -> PyResult<Value> {
    let q = queues().lock().ok().and_then(|all| all.get(&id).cloned());
    match q {
        Some(q) => handle(vm, q, cls),
        None => Err(module_error(
            vm,
            "QueueNotFoundError",
            &format!("queue {id} not found"),
        )),
    }
}

/// `_queue_by_id(id)`: a handle on an existing queue (how a handle is rebuilt in another
/// interpreter).
fn queue_by_id(vm: &mut Vm, a: Args) -> PyResult<Value> {
    util::arity(vm, "_queue_by_id", &a, 1, 1)?;
    let id = util::to_i64(vm, &a.pos[0])? as u64;
    by_id(vm, id, None)
}

fn queue_reduce(vm: &mut Vm, a: Args) -> PyResult<Value> {
    let id = shared(vm, &a)?.id;
    let f = match vm.modules.get("interpreters") {
        Some(Value::Module(m)) => m.get("_queue_by_id"),
        _ => None,
    };
    let f = f.ok_or_else(|| vm.error("RuntimeError", "interpreters is not initialised"))?;
    Ok(Value::tuple(vec![
        f,
        Value::tuple(vec![Value::Int(id as i64)]),
    ]))
}

/// The `block` and `timeout` arguments of put/get: None when the call must not wait, else the
/// deadline (None inside: wait forever).
fn wait_args(
    vm: &mut Vm,
    a: &mut Args,
    first: usize,
    may_block: bool,
) -> PyResult<Option<Option<f64>>> {
    let block_kw = a.take_kw("block");
    let timeout_kw = a.take_kw("timeout");
    util::no_kwargs(vm, "Queue method", a)?;
    let block = match a.pos.get(first).or(block_kw.as_ref()) {
        Some(v) => eddy_vm::ops::truthy(vm, v)?,
        None => true,
    };
    if !may_block || !block {
        return Ok(None);
    }
    match a.pos.get(first + 1).or(timeout_kw.as_ref()) {
        None | Some(Value::None) => Ok(Some(None)),
        Some(v) => {
            let t = util::to_float(vm, v)?;
            if t < 0.0 {
                return Err(vm.value_error("'timeout' must be a non-negative number"));
            }
            Ok(Some(Some(t)))
        }
    }
}

/// Waits until `ready(q)`, letting this VM's other script threads (and so its event loop's
/// callbacks) run; false if `timeout` seconds passed first. Deadlines are kept in real time:
/// the other side is another OS thread, which virtual time knows nothing of.
fn wait(vm: &mut Vm, q: &Arc<Shared>, timeout: Option<f64>, ready: fn(&Shared) -> bool) -> bool {
    let end = timeout.map(|t| std::time::Instant::now() + std::time::Duration::from_secs_f64(t));
    vm.flush();
    loop {
        if ready(q) {
            return true;
        }
        if end.is_some_and(|e| std::time::Instant::now() >= e) {
            return false;
        }
        let s = q.clone();
        // Counted as work outside the VM, so an idle wait really waits (and can be notified)
        // instead of jumping virtual time.
        sched::external(1);
        sched::block(
            vm,
            sched::Wake::when(Some(clock::monotonic() + POLL), move || ready(&s)),
        );
        sched::external(-1);
    }
}

/// `q.put(obj, block=True, timeout=None)` (and `put_nowait(obj)`): copies `obj` in.
fn queue_put(vm: &mut Vm, mut a: Args, may_block: bool) -> PyResult<Value> {
    let q = shared(vm, &a)?;
    let obj_kw = a.take_kw("obj");
    let wait_for = wait_args(vm, &mut a, 2, may_block)?;
    let Some(obj) = a.pos.get(1).cloned().or(obj_kw) else {
        return Err(vm.type_error("put() missing required argument 'obj' (pos 1)"));
    };
    let p = Copier::new(vm, false).copy(&obj)?;
    if q.full() {
        let room = match wait_for {
            Some(timeout) => wait(vm, &q, timeout, |q| !q.full()),
            None => false,
        };
        if !room {
            return Err(module_error(vm, "QueueFull", "queue is full"));
        }
    }
    if let Ok(mut items) = q.items.lock() {
        items.push_back(p);
    }
    sched::notifier().notify();
    Ok(Value::None)
}

/// `q.get(block=True, timeout=None)` (and `get_nowait()`): a copy of the oldest item.
fn queue_get(vm: &mut Vm, mut a: Args, may_block: bool) -> PyResult<Value> {
    let q = shared(vm, &a)?;
    let wait_for = wait_args(vm, &mut a, 1, may_block)?;
    loop {
        let item = q.items.lock().ok().and_then(|mut items| items.pop_front());
        if let Some(p) = item {
            sched::notifier().notify();
            return Restorer::new(vm).restore(&p);
        }
        let got = match wait_for {
            Some(timeout) => wait(vm, &q, timeout, |q| q.len() > 0),
            None => false,
        };
        if !got {
            return Err(module_error(vm, "QueueEmpty", "queue is empty"));
        }
    }
}
