//! `interpreters`, in the spirit of PEP 734 (CPython 3.14's `concurrent.interpreters`): each
//! Interpreter is a separate VM on its own OS thread, so CPU work fans out to every core without
//! processes. An interpreter *is* a one-worker process pool (concurrent/process.rs): it starts
//! from a snapshot of its creator's `__main__`, and calls, results and exceptions cross as
//! portable values (concurrent/portable.rs). This file adds what pools lack: interpreter ids,
//! and `Queue`, a channel of copied values that every interpreter of the process shares (a
//! handle crosses to another interpreter through `__reduce__`, by queue id). The Python half
//! (Interpreter, ExecutionFailed, `call_async`) is at the foot.

use std::cell::Cell;
use std::collections::{BTreeSet, HashMap, VecDeque};
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use eddy_vm::objects::class::Class;
use eddy_vm::objects::module::Module;
use eddy_vm::{Args, PyResult, Value, Vm};

use crate::clock;
use crate::concurrent::portable::{Copier, Restorer, P};
use crate::native_state;
use crate::threading::sched;
use crate::util;

/// How often a blocked `get`/`put` looks at its queue again, besides being woken by the
/// scheduler's notifier when another interpreter puts or gets (CPython's queues poll every
/// 10 ms).
const POLL: f64 = 0.005;

/// Interpreter ids: 0 is the main interpreter; created ones count up across the process.
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

fn live() -> &'static Mutex<BTreeSet<u64>> {
    static LIVE: OnceLock<Mutex<BTreeSet<u64>>> = OnceLock::new();
    LIVE.get_or_init(|| Mutex::new(BTreeSet::new()))
}

thread_local! {
    /// The id of the interpreter running on this OS thread (set by its worker's initializer).
    static CURRENT: Cell<u64> = const { Cell::new(0) };
}

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

pub fn init(vm: &mut Vm) -> PyResult<Rc<Module>> {
    let m = Rc::new(Module::new("interpreters"));
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
        &m,
        &[
            ("create_queue", create_queue),
            ("_queue_by_id", queue_by_id),
            ("_new_id", |_vm, _a| {
                let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
                if let Ok(mut l) = live().lock() {
                    l.insert(id);
                }
                Ok(Value::Int(id as i64))
            }),
            ("_forget", |vm, a| {
                util::arity(vm, "_forget", &a, 1, 1)?;
                let id = util::to_i64(vm, &a.pos[0])? as u64;
                if let Ok(mut l) = live().lock() {
                    l.remove(&id);
                }
                Ok(Value::None)
            }),
            ("_live", |_vm, _a| {
                let ids = live().lock().map(|l| l.clone()).unwrap_or_default();
                let ids = ids.into_iter().map(|i| Value::Int(i as i64));
                Ok(Value::list(ids.collect()))
            }),
            ("_current_id", |_vm, _a| {
                Ok(Value::Int(CURRENT.with(|c| c.get()) as i64))
            }),
            ("_set_id", |vm, a| {
                util::arity(vm, "_set_id", &a, 1, 1)?;
                let id = util::to_i64(vm, &a.pos[0])? as u64;
                CURRENT.with(|c| c.set(id));
                Ok(Value::None)
            }),
            ("_set_main", set_main),
        ],
    );
    let code = eddy_vm::import::compile_source(vm, "<interpreters>", PY)?;
    vm.run_module_code(code, m.clone())?;
    Ok(m)
}

fn shared(vm: &Vm, a: &Args) -> PyResult<Arc<Shared>> {
    let Some(q) = a.pos.first() else {
        return Err(vm.type_error("Queue method needs a Queue"));
    };
    util::state(vm, q, "interpreters.Queue", |q: &mut QueueRef| q.0.clone())
}

/// An exception class of the `interpreters` module (QueueEmpty, QueueFull).
fn module_error(vm: &mut Vm, name: &str, msg: &str) -> Value {
    let cls = match vm.modules.get("interpreters") {
        Some(Value::Module(m)) => m.get(name),
        _ => None,
    };
    match cls {
        Some(c) => vm.call(&c, vec![Value::str(msg)]).unwrap_or_else(|e| e),
        None => vm.error("RuntimeError", msg.to_string()),
    }
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

/// `_set_main(ns)`: binds the names of dict `ns` in this interpreter's `__main__`
/// (`Interpreter.prepare_main`).
fn set_main(vm: &mut Vm, a: Args) -> PyResult<Value> {
    util::arity(vm, "_set_main", &a, 1, 1)?;
    let Some(Value::Module(main)) = vm.modules.get("__main__").cloned() else {
        return Err(vm.error("RuntimeError", "the interpreter has no __main__"));
    };
    for (k, v) in util::dict_items(&a.pos[0]).unwrap_or_default() {
        let Value::Str(k) = k else {
            return Err(vm.type_error("prepare_main() names must be strings"));
        };
        main.set(&k.s, v);
    }
    Ok(Value::None)
}

const PY: &str = r#"
import concurrent.futures as _cf


class InterpreterError(Exception):
    pass


class InterpreterNotFoundError(InterpreterError):
    pass


class QueueError(RuntimeError):
    pass


class QueueNotFoundError(QueueError):
    pass


class QueueEmpty(QueueError):
    pass


class QueueFull(QueueError):
    pass


class _ExcType:
    def __init__(self, name, qualname, module):
        self.__name__ = name
        self.__qualname__ = qualname
        self.__module__ = module

    def __repr__(self):
        return f"<class '{self.__qualname__}'>" if self.__module__ == "builtins" else \
            f"<class '{self.__module__}.{self.__qualname__}'>"


class ExcInfo:
    """A snapshot of an exception raised in another interpreter."""

    def __init__(self, type, msg, formatted, errdisplay):
        self.type = type
        self.msg = msg
        self.formatted = formatted
        self.errdisplay = errdisplay

    def __repr__(self):
        return f"ExcInfo(type={self.type!r}, msg={self.msg!r})"


class ExecutionFailed(InterpreterError):
    """An uncaught exception in another interpreter (PEP 734)."""

    def __init__(self, excinfo):
        super().__init__(excinfo.formatted)
        self.excinfo = excinfo

    def __str__(self):
        return (f"{self.excinfo.formatted}\n\nUncaught in the interpreter:\n\n"
                + self.excinfo.errdisplay).rstrip()


def _excinfo(exc, tb):
    t = type(exc)
    msg = str(exc)
    text = (tb or "").rstrip()
    formatted = text.splitlines()[-1] if text else (f"{t.__name__}: {msg}" if msg else t.__name__)
    return ExcInfo(_ExcType(t.__name__, t.__qualname__, t.__module__), msg, formatted,
                   text or formatted)


def _deliver(fut, ok, value, tb):
    if ok is None:
        fut.set_exception(InterpreterError(value))
    elif ok:
        fut.set_result(value)
    else:
        fut.set_exception(ExecutionFailed(_excinfo(value, tb)))


# The interpreters this interpreter created: id -> its one-worker pool.
_pools = {}


class Interpreter:
    """A separate VM on its own OS thread. Its __main__ starts as a copy of its creator's."""

    def __init__(self, id):
        self._id = id

    @property
    def id(self):
        return self._id

    def __repr__(self):
        return f"Interpreter({self._id})"

    def __eq__(self, other):
        return isinstance(other, Interpreter) and other._id == self._id

    def __hash__(self):
        return hash(self._id)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _pool(self):
        pool = _pools.get(self._id)
        if pool is not None:
            return pool
        if self._id == _current_id():
            raise InterpreterError("cannot run code in the current interpreter")
        if self._id in _live() or self._id == 0:
            raise InterpreterError(
                f"interpreter {self._id} was not created by the current interpreter")
        raise InterpreterNotFoundError(f"unrecognized interpreter ID {self._id}")

    def is_running(self):
        return bool(self._pool().pending())

    def submit(self, callable, /, *args, **kwargs):
        """Starts callable(*args, **kwargs) there; returns a concurrent.futures.Future."""
        pool = self._pool()
        fut = _cf.Future()
        pool.submit(fut, callable, args, kwargs)
        return fut

    def exec(self, code, /):
        if not isinstance(code, str):
            raise TypeError(f"exec() expected a str, got {type(code).__name__}")
        pool = self._pool()
        fut = _cf.Future()
        pool.exec(fut, code)
        fut.result()

    def call(self, callable, /, *args, **kwargs):
        return self.submit(callable, *args, **kwargs).result()

    def call_in_thread(self, callable, /, *args, **kwargs):
        import threading
        t = threading.Thread(target=self.call, args=(callable, *args), kwargs=kwargs)
        t.start()
        return t

    def call_async(self, callable, /, *args, **kwargs):
        """An asyncio future for callable(*args, **kwargs) run there: awaiting it lets the
        event loop go on meanwhile."""
        import asyncio
        return asyncio.wrap_future(self.submit(callable, *args, **kwargs))

    def prepare_main(self, ns=None, /, **kwargs):
        names = dict(ns or {}, **kwargs)
        if names:
            self.call(_set_main, names)

    def close(self):
        if self._id == 0:
            raise InterpreterError("cannot close the main interpreter")
        pool = _pools.get(self._id)
        if pool is None:
            if self._id in _live():
                self._pool()
            return
        pending = pool.pending()
        if pending:
            _cf.wait(pending)
        del _pools[self._id]
        pool.close()
        _forget(self._id)


def create():
    id = _new_id()
    try:
        _pools[id] = _cf._pool_start(1, _set_id, (id,), _deliver)
    except BaseException:
        _forget(id)
        raise
    return Interpreter(id)


def get_main():
    return Interpreter(0)


def get_current():
    return Interpreter(_current_id())


def list_all():
    return [Interpreter(0)] + [Interpreter(i) for i in _live()]
"#;
