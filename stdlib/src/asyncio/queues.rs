//! asyncio's Queue, PriorityQueue and LifoQueue, native, following CPython 3.11's
//! `asyncio/queues.py` step for step: getters and putters wait on futures in FIFO deques, a
//! waiter that fails or is cancelled after being woken passes the wake-up on, task_done/join
//! count unfinished items, and `maxsize` bounds the queue (backpressure on `put`).
//!
//! The item order is the class's: FIFO, LIFO, or a binary heap compared with `<` as heapq does.
//! (Unlike CPython, a subclass overriding `_put`/`_get` is not consulted.)

use std::collections::VecDeque;
use std::rc::Rc;

use eddy_vm::objects::class::Class;
use eddy_vm::objects::misc::Property;
use eddy_vm::objects::module::Module;
use eddy_vm::{ops, PyResult, Value, Vm};

use super::classes;
use super::futures;
use super::native_coro::{self, CoroBody, Step};
use super::primitives;
use crate::native_state;
use crate::util;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Order {
    Fifo,
    Lifo,
    Priority,
}

struct QueueState {
    order: Order,
    maxsize: i64,
    items: VecDeque<Value>,
    getters: VecDeque<Value>,
    putters: VecDeque<Value>,
    unfinished: i64,
    /// An Event, set when every item put has been marked done.
    finished: Value,
}

native_state!(
    QueueState,
    |s, f| {
        s.items
            .iter()
            .chain(s.getters.iter())
            .chain(s.putters.iter())
            .for_each(&mut *f);
        f(&s.finished);
    },
    |c, out| {
        out.extend(c.items.drain(..));
        out.extend(c.getters.drain(..));
        out.extend(c.putters.drain(..));
        out.push(std::mem::take(&mut c.finished));
    }
);

fn with<R>(vm: &Vm, q: &Value, f: impl FnOnce(&mut QueueState) -> R) -> PyResult<R> {
    util::state(vm, q, "Queue", f)
}

fn is_full(s: &QueueState) -> bool {
    s.maxsize > 0 && s.items.len() as i64 >= s.maxsize
}

/// `_wakeup_next`: wake the first waiter that is not done yet.
fn wakeup_next(vm: &mut Vm, q: &Value, putters: bool) -> PyResult<()> {
    let next = with(vm, q, |s| {
        let waiters = if putters {
            &mut s.putters
        } else {
            &mut s.getters
        };
        while let Some(w) = waiters.pop_front() {
            if !futures::is_done(&w) {
                return Some(w);
            }
        }
        None
    })?;
    match next {
        Some(w) => futures::set_result(vm, &w, Value::None),
        None => Ok(()),
    }
}

/// heapq's `heappush` / `heappop` over the items, comparing with `<`.
fn heap_push(vm: &mut Vm, items: &mut VecDeque<Value>, item: Value) -> PyResult<()> {
    items.push_back(item);
    let mut pos = items.len() - 1;
    while pos > 0 {
        let parent = (pos - 1) / 2;
        if !ops::less_than(vm, &items[pos], &items[parent])? {
            break;
        }
        items.swap(pos, parent);
        pos = parent;
    }
    Ok(())
}

fn heap_pop(vm: &mut Vm, items: &mut VecDeque<Value>) -> PyResult<Value> {
    let last = items.pop_back().unwrap_or_default();
    if items.is_empty() {
        return Ok(last);
    }
    let top = std::mem::replace(&mut items[0], last);
    let n = items.len();
    let mut pos = 0;
    loop {
        let mut child = 2 * pos + 1;
        if child >= n {
            break;
        }
        if child + 1 < n && ops::less_than(vm, &items[child + 1], &items[child])? {
            child += 1;
        }
        if !ops::less_than(vm, &items[child], &items[pos])? {
            break;
        }
        items.swap(pos, child);
        pos = child;
    }
    Ok(top)
}

/// `put_nowait` once the queue is known not to be full.
fn put_item(vm: &mut Vm, q: &Value, item: Value) -> PyResult<()> {
    let order = with(vm, q, |s| s.order)?;
    if order == Order::Priority {
        // Comparisons may run script code: work on the items outside the state's borrow.
        let mut items = with(vm, q, |s| std::mem::take(&mut s.items))?;
        let r = heap_push(vm, &mut items, item);
        with(vm, q, |s| s.items = items)?;
        r?;
    } else {
        with(vm, q, |s| s.items.push_back(item))?;
    }
    let finished = with(vm, q, |s| {
        s.unfinished += 1;
        s.finished.clone()
    })?;
    primitives::clear_event(vm, &finished)?;
    wakeup_next(vm, q, false)
}

/// `get_nowait` once the queue is known not to be empty.
fn get_item(vm: &mut Vm, q: &Value) -> PyResult<Value> {
    let order = with(vm, q, |s| s.order)?;
    let item = match order {
        Order::Fifo => with(vm, q, |s| s.items.pop_front())?.unwrap_or_default(),
        Order::Lifo => with(vm, q, |s| s.items.pop_back())?.unwrap_or_default(),
        Order::Priority => {
            let mut items = with(vm, q, |s| std::mem::take(&mut s.items))?;
            let r = heap_pop(vm, &mut items);
            with(vm, q, |s| s.items = items)?;
            r?
        }
    };
    wakeup_next(vm, q, true)?;
    Ok(item)
}

/// `await q.get()` and `await q.put(item)`: wait while empty (or full), then act.
struct Transfer {
    queue: Value,
    /// Some(item) for put.
    item: Option<Value>,
    waiter: Option<Value>,
}

impl Transfer {
    fn must_wait(&self, vm: &Vm) -> PyResult<bool> {
        let put = self.item.is_some();
        with(vm, &self.queue, |s| {
            if put {
                is_full(s)
            } else {
                s.items.is_empty()
            }
        })
    }

    /// The bare `except:` around the wait: drop out of line, pass a wake-up on, re-raise.
    fn fail(&mut self, vm: &mut Vm, exc: Value) -> PyResult<Step> {
        let Some(w) = self.waiter.take() else {
            return Err(exc);
        };
        futures::cancel_future(vm, &w, Value::None)?;
        let put = self.item.is_some();
        with(vm, &self.queue, |s| {
            let waiters = if put { &mut s.putters } else { &mut s.getters };
            if let Some(i) = waiters.iter().position(|x| x.is(&w)) {
                waiters.remove(i);
            }
        })?;
        if !self.must_wait(vm)? && !futures::is_cancelled(&w) {
            wakeup_next(vm, &self.queue, put)?;
        }
        Err(exc)
    }
}

impl CoroBody for Transfer {
    fn send(&mut self, vm: &mut Vm, sent: Value) -> PyResult<Step> {
        if let Some(w) = self.waiter.clone() {
            match futures::await_step(vm, &w, sent) {
                Ok(Ok(v)) => return Ok(Ok(v)),
                Ok(Err(_)) => self.waiter = None,
                Err(exc) => return self.fail(vm, exc),
            }
        }
        // `while self.empty()` / `while self.full()`.
        if self.must_wait(vm)? {
            let w = futures::new_future();
            let put = self.item.is_some();
            with(vm, &self.queue, |s| {
                if put {
                    s.putters.push_back(w.clone())
                } else {
                    s.getters.push_back(w.clone())
                }
            })?;
            self.waiter = Some(w.clone());
            return futures::await_step(vm, &w, Value::None);
        }
        match self.item.take() {
            Some(item) => put_item(vm, &self.queue, item).map(|()| Err(Value::None)),
            None => get_item(vm, &self.queue).map(Err),
        }
    }

    fn throw(&mut self, vm: &mut Vm, exc: Value) -> PyResult<Step> {
        self.fail(vm, exc)
    }

    fn traverse(&self, f: &mut dyn FnMut(&Value)) {
        f(&self.queue);
        self.item.iter().chain(self.waiter.iter()).for_each(&mut *f);
    }
}

/// `q.get()` / `q.put(item)`. Awaited at once (`await q.get()`) with no need to wait, the
/// coroutine would act on its first step, before anything else runs: act now and hand back
/// the finished result instead of a coroutine object.
fn transfer(
    vm: &mut Vm,
    name: &'static str,
    queue: &Value,
    item: Option<Value>,
) -> PyResult<Value> {
    let mut t = Transfer {
        queue: queue.clone(),
        item,
        waiter: None,
    };
    if vm.take_awaited_call() && !t.must_wait(vm)? {
        let done = match t.item.take() {
            Some(item) => put_item(vm, queue, item).map(|()| Value::None)?,
            None => get_item(vm, queue)?,
        };
        return Ok(native_coro::finished(done));
    }
    Ok(native_coro::new(name, t))
}

fn new_state(order: Order) -> QueueState {
    QueueState {
        order,
        maxsize: 0,
        items: VecDeque::new(),
        getters: VecDeque::new(),
        putters: VecDeque::new(),
        unfinished: 0,
        finished: primitives::new_event(true),
    }
}

/// `maxsize=0, items=[...]` as CPython's `_format`.
fn format(vm: &mut Vm, q: &Value) -> PyResult<String> {
    let (maxsize, items, getters, putters, unfinished) = with(vm, q, |s| {
        (
            s.maxsize,
            s.items.iter().cloned().collect::<Vec<_>>(),
            s.getters.len(),
            s.putters.len(),
            s.unfinished,
        )
    })?;
    let mut out = format!("maxsize={maxsize}");
    if !items.is_empty() {
        out.push_str(&format!(" _queue={}", ops::repr(vm, &Value::list(items))?));
    }
    if getters > 0 {
        out.push_str(&format!(" _getters[{getters}]"));
    }
    if putters > 0 {
        out.push_str(&format!(" _putters[{putters}]"));
    }
    if unfinished > 0 {
        out.push_str(&format!(" tasks={unfinished}"));
    }
    Ok(out)
}

fn queue_class(vm: &Vm) -> Rc<Class> {
    let cls = util::native_class(vm, "Queue", "asyncio.queues", None, |vm, mut a| {
        let cls = util::new_cls(vm, &mut a)?;
        Ok(util::new_native(&cls, new_state(Order::Fifo)))
    });
    util::methods(
        vm,
        &cls,
        &[
            ("__init__", |vm, mut a| {
                let maxsize = match util::arg(&mut a, 1, "maxsize") {
                    Some(v) => util::to_i64(vm, &v)?,
                    None => 0,
                };
                with(vm, &a.pos[0], |s| s.maxsize = maxsize)?;
                Ok(Value::None)
            }),
            ("qsize", |vm, a| {
                Ok(Value::Int(with(vm, &a.pos[0], |s| s.items.len() as i64)?))
            }),
            ("empty", |vm, a| {
                Ok(Value::Bool(with(vm, &a.pos[0], |s| s.items.is_empty())?))
            }),
            ("full", |vm, a| {
                Ok(Value::Bool(with(vm, &a.pos[0], |s| is_full(s))?))
            }),
            ("put", |vm, a| {
                util::arity(vm, "put", &a, 2, 2)?;
                transfer(vm, "Queue.put", &a.pos[0], Some(a.pos[1].clone()))
            }),
            ("get", |vm, a| transfer(vm, "Queue.get", &a.pos[0], None)),
            ("put_nowait", |vm, a| {
                util::arity(vm, "put_nowait", &a, 2, 2)?;
                if with(vm, &a.pos[0], |s| is_full(s))? {
                    return Err(vm.new_exception(&classes().queue_full, vec![]));
                }
                put_item(vm, &a.pos[0], a.pos[1].clone())?;
                Ok(Value::None)
            }),
            ("get_nowait", |vm, a| {
                if with(vm, &a.pos[0], |s| s.items.is_empty())? {
                    return Err(vm.new_exception(&classes().queue_empty, vec![]));
                }
                get_item(vm, &a.pos[0])
            }),
            ("task_done", |vm, a| {
                let done = with(vm, &a.pos[0], |s| {
                    if s.unfinished <= 0 {
                        return None;
                    }
                    s.unfinished -= 1;
                    Some((s.unfinished == 0).then(|| s.finished.clone()))
                })?;
                match done {
                    None => Err(vm.value_error("task_done() called too many times")),
                    Some(Some(ev)) => {
                        vm.call_method(&ev, "set", vec![])?;
                        Ok(Value::None)
                    }
                    Some(None) => Ok(Value::None),
                }
            }),
            ("join", |vm, a| {
                let (unfinished, ev) = with(vm, &a.pos[0], |s| (s.unfinished, s.finished.clone()))?;
                if unfinished > 0 {
                    let wait = vm.call_method(&ev, "wait", vec![])?;
                    return Ok(native_coro::returning("Queue.join", wait, Value::None));
                }
                Ok(native_coro::ready("Queue.join", Value::None))
            }),
            ("__repr__", |vm, a| {
                let name = vm.type_of(&a.pos[0]).name().to_string();
                let id = a.pos[0].ptr_id().unwrap_or(0);
                let f = format(vm, &a.pos[0])?;
                Ok(Value::string(format!("<{name} at {id:#x} {f}>")))
            }),
            ("__str__", |vm, a| {
                let name = vm.type_of(&a.pos[0]).name().to_string();
                let f = format(vm, &a.pos[0])?;
                Ok(Value::string(format!("<{name} {f}>")))
            }),
        ],
    );
    let getter = vm.native("maxsize", |vm, a| {
        Ok(Value::Int(with(vm, &a.pos[0], |s| s.maxsize)?))
    });
    cls.set_attr(
        util::s("maxsize"),
        Value::Property(Rc::new(Property {
            fget: getter,
            fset: Value::None,
            fdel: Value::None,
            doc: Value::None,
        })),
    );
    // `asyncio.Queue[int]` in annotations.
    cls.set_attr(
        util::s("__class_getitem__"),
        Value::ClassMethod(Rc::new(vm.native(
            "__class_getitem__",
            eddy_vm::builtins::generic_alias::class_getitem,
        ))),
    );
    cls
}

fn ordered_class(vm: &Vm, name: &str, base: &Rc<Class>, order: Order) -> Rc<Class> {
    let new: eddy_vm::objects::function::NativeFn = match order {
        Order::Lifo => |vm, mut a| {
            let cls = util::new_cls(vm, &mut a)?;
            Ok(util::new_native(&cls, new_state(Order::Lifo)))
        },
        _ => |vm, mut a| {
            let cls = util::new_cls(vm, &mut a)?;
            Ok(util::new_native(&cls, new_state(Order::Priority)))
        },
    };
    let cls = util::native_class(vm, name, "asyncio.queues", Some(base.clone()), new);
    // native_class installs a no-op __init__; the base's sets maxsize.
    cls.dict.borrow_mut().shift_remove("__init__");
    cls
}

/// Adds Queue, PriorityQueue and LifoQueue to `asyncio`.
pub fn install(vm: &Vm, m: &Module) {
    let queue = queue_class(vm);
    m.set(
        "PriorityQueue",
        Value::Class(ordered_class(vm, "PriorityQueue", &queue, Order::Priority)),
    );
    m.set(
        "LifoQueue",
        Value::Class(ordered_class(vm, "LifoQueue", &queue, Order::Lifo)),
    );
    m.set("Queue", Value::Class(queue));
}
