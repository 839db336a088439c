//! asyncio's Lock, Event, Semaphore and BoundedSemaphore, native. Their waits follow CPython
//! 3.11's `asyncio/locks.py` step for step over a FIFO queue of waiters, so that waiters wake
//! in the same order, a cancelled waiter hands its turn on, and nothing leaks a permit. A wait
//! awaited at once in a task parks the task itself in the queue (parking.rs); any other wait
//! is a native coroutine (native_coro.rs) over a waiter future. (Condition stays Python, in
//! locks.rs, built on these.)

use std::collections::VecDeque;
use std::rc::Rc;

use eddy_vm::objects::class::Class;
use eddy_vm::objects::module::Module;
use eddy_vm::{Args, PyResult, Value, Vm};

use super::classes;
use super::futures;
use super::native_coro::{self, CoroBody, Step};
use super::parking;
use crate::native_state;
use crate::util;

/// What kind of primitive a `Prim` is (they share the state and the wait machinery).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Lock,
    Event,
    Semaphore,
}

/// The state of one primitive. `flag` is Lock's `_locked` and Event's `_value`; `value` is a
/// semaphore's counter and `bound` a BoundedSemaphore's limit.
struct Prim {
    kind: Kind,
    flag: bool,
    value: i64,
    bound: Option<i64>,
    waiters: VecDeque<Value>,
}

native_state!(
    Prim,
    |s, f| { s.waiters.iter().for_each(&mut *f) },
    |c, out| {
        out.extend(c.waiters.drain(..));
    }
);

fn with<R>(vm: &Vm, v: &Value, what: &str, f: impl FnOnce(&mut Prim) -> R) -> PyResult<R> {
    util::state(vm, v, what, f)
}

/// `waiters.remove(fut)`: the woken waiter is usually first, so this is O(1) in the common case.
/// A waiter is a future or a parked task (parking.rs).
fn remove_waiter(p: &mut Prim, fut: &Value) {
    if let Some(i) = p.waiters.iter().position(|w| w.is(fut)) {
        p.waiters.remove(i);
    }
}

/// Lock's `_wake_up_first`.
fn wake_up_first(vm: &mut Vm, lock: &Value) -> PyResult<()> {
    let first = with(vm, lock, "Lock", |p| p.waiters.front().cloned())?;
    match first {
        Some(w) if !parking::done(&w) => parking::wake(vm, &w),
        _ => Ok(()),
    }
}

/// Semaphore's `_wake_up_next`: the first waiter not done gets the permit.
fn wake_up_next(vm: &mut Vm, sem: &Value) -> PyResult<()> {
    let next = with(vm, sem, "Semaphore", |p| {
        let w = p.waiters.iter().find(|w| !parking::done(w)).cloned();
        if w.is_some() {
            p.value -= 1;
        }
        w
    })?;
    match next {
        Some(w) => parking::wake(vm, &w),
        None => Ok(()),
    }
}

fn sem_locked(p: &Prim) -> bool {
    p.value == 0 || p.waiters.iter().any(|w| !parking::cancelled(w))
}

/// A wait on a primitive: `Lock.acquire`, `Semaphore.acquire` (and their `__aenter__`, which
/// return None instead of True), `Event.wait`.
struct Wait {
    prim: Value,
    kind: Kind,
    /// The waiter future once the fast path failed.
    fut: Option<Value>,
    /// What the wait returns on success.
    ret: Value,
}

impl Wait {
    /// The fast path: done at once without waiting?
    fn try_now(&self, vm: &Vm) -> PyResult<bool> {
        with(vm, &self.prim, "primitive", |p| match self.kind {
            Kind::Lock => {
                let free = !p.flag && p.waiters.iter().all(parking::cancelled);
                if free {
                    p.flag = true;
                }
                free
            }
            Kind::Event => p.flag,
            Kind::Semaphore => {
                let free = !sem_locked(p);
                if free {
                    p.value -= 1;
                }
                free
            }
        })
    }

    /// After the waiter future completed normally (the `finally` already removed it).
    fn on_woken(&self, vm: &mut Vm) -> PyResult<()> {
        match self.kind {
            Kind::Lock => with(vm, &self.prim, "Lock", |p| p.flag = true),
            Kind::Event => Ok(()),
            Kind::Semaphore => {
                if with(vm, &self.prim, "Semaphore", |p| p.value > 0)? {
                    wake_up_next(vm, &self.prim)?;
                }
                Ok(())
            }
        }
    }

    /// `except CancelledError:` around the wait: pass the turn on so nothing is lost.
    /// `wait_cancelled`: the waiter itself was cancelled (rather than woken, then cancelled).
    fn on_cancelled(&self, vm: &mut Vm, wait_cancelled: bool) -> PyResult<()> {
        match self.kind {
            Kind::Lock => {
                if !with(vm, &self.prim, "Lock", |p| p.flag)? {
                    wake_up_first(vm, &self.prim)?;
                }
            }
            Kind::Event => {}
            Kind::Semaphore => {
                if !wait_cancelled {
                    with(vm, &self.prim, "Semaphore", |p| p.value += 1)?;
                    wake_up_next(vm, &self.prim)?;
                }
            }
        }
        Ok(())
    }

    /// The wait ended with `exc` (raised by the future or thrown in): clean up, re-raise.
    fn fail(&mut self, vm: &mut Vm, exc: Value) -> PyResult<Step> {
        if let Some(fut) = self.fut.take() {
            with(vm, &self.prim, "primitive", |p| remove_waiter(p, &fut))?;
            if vm.isinstance(&exc, &classes().cancelled_error) {
                self.on_cancelled(vm, futures::is_cancelled(&fut))?;
            }
        }
        Err(exc)
    }
}

impl CoroBody for Wait {
    fn send(&mut self, vm: &mut Vm, sent: Value) -> PyResult<Step> {
        let Some(fut) = self.fut.clone() else {
            if self.try_now(vm)? {
                return Ok(Err(self.ret.clone()));
            }
            let fut = futures::new_future();
            with(vm, &self.prim, "primitive", |p| {
                p.waiters.push_back(fut.clone())
            })?;
            self.fut = Some(fut.clone());
            return futures::await_step(vm, &fut, Value::None);
        };
        match futures::await_step(vm, &fut, sent) {
            Ok(Ok(v)) => Ok(Ok(v)),
            Ok(Err(_)) => {
                self.fut = None;
                with(vm, &self.prim, "primitive", |p| remove_waiter(p, &fut))?;
                self.on_woken(vm)?;
                Ok(Err(self.ret.clone()))
            }
            Err(exc) => self.fail(vm, exc),
        }
    }

    fn throw(&mut self, vm: &mut Vm, exc: Value) -> PyResult<Step> {
        self.fail(vm, exc)
    }

    fn traverse(&self, f: &mut dyn FnMut(&Value)) {
        f(&self.prim);
        self.fut.iter().for_each(&mut *f);
    }
}

/// `Lock.acquire()` and the other waits: a coroutine, unless the call is awaited at once in
/// a task (`await lock.acquire()`, `async with lock`, the usual case). Then the coroutine
/// would run its fast path on the spot, so the call runs it: a finished awaitable when no wait
/// is needed, else the task parks itself in the waiter queue (parking.rs). No coroutine object
/// and no waiter future either way.
fn wait(vm: &mut Vm, name: &'static str, prim: &Value, kind: Kind, ret: Value) -> PyResult<Value> {
    let w = Wait {
        prim: prim.clone(),
        kind,
        fut: None,
        ret,
    };
    let task = match vm.take_awaited_call() {
        true => parking::current_task(),
        false => None,
    };
    let Some(task) = task else {
        return Ok(native_coro::new(name, w));
    };
    if w.try_now(vm)? {
        return Ok(native_coro::finished(w.ret));
    }
    with(vm, prim, "primitive", |p| p.waiters.push_back(task.clone()))?;
    Ok(parking::park(&task, prim, w.ret.is_none()))
}

/// The wait of `task`, parked on `prim`, ending now.
fn parked_wait(vm: &Vm, prim: &Value, task: &Value) -> PyResult<Wait> {
    let kind = with(vm, prim, "primitive", |p| {
        remove_waiter(p, task);
        p.kind
    })?;
    Ok(Wait {
        prim: prim.clone(),
        kind,
        fut: None,
        ret: Value::None,
    })
}

/// A parked task was woken and resumes: what the wait coroutine does after its `await fut`.
pub fn parked_woken(vm: &mut Vm, prim: &Value, task: &Value) -> PyResult<()> {
    parked_wait(vm, prim, task)?.on_woken(vm)
}

/// An exception reached a parked task's wait (it was cancelled): the wait coroutine's
/// `except CancelledError` and `finally`.
pub fn parked_failed(
    vm: &mut Vm,
    prim: &Value,
    task: &Value,
    wait_cancelled: bool,
    exc: &Value,
) -> PyResult<()> {
    let w = parked_wait(vm, prim, task)?;
    if vm.isinstance(exc, &classes().cancelled_error) {
        w.on_cancelled(vm, wait_cancelled)?;
    }
    Ok(())
}

/// `Event.wait` and the like, for the task tree: the wait of a task parked on `prim`.
pub fn wait_name(prim: &Value, returns_none: bool) -> Option<&'static str> {
    let kind = util::with_state(prim, |p: &mut Prim| p.kind)?;
    Some(match (kind, returns_none) {
        (Kind::Lock, false) => "Lock.acquire",
        (Kind::Lock, true) => "Lock.__aenter__",
        (Kind::Event, _) => "Event.wait",
        (Kind::Semaphore, false) => "Semaphore.acquire",
        (Kind::Semaphore, true) => "Semaphore.__aenter__",
    })
}

fn new_prim(kind: Kind) -> Prim {
    Prim {
        kind,
        flag: false,
        value: 1,
        bound: None,
        waiters: VecDeque::new(),
    }
}

/// `<asyncio.locks.Lock object at 0x... [unlocked, waiters:1]>`.
fn repr(vm: &mut Vm, a: Args) -> PyResult<Value> {
    let me = &a.pos[0];
    let (kind, flag, value, waiters) = with(vm, me, "primitive", |p| {
        (p.kind, p.flag, p.value, p.waiters.len())
    })?;
    let mut extra = match kind {
        Kind::Lock => if flag { "locked" } else { "unlocked" }.to_string(),
        Kind::Event => if flag { "set" } else { "unset" }.to_string(),
        Kind::Semaphore => {
            let locked = with(vm, me, "Semaphore", |p| sem_locked(p))?;
            if locked {
                "locked".into()
            } else {
                format!("unlocked, value:{value}")
            }
        }
    };
    if waiters > 0 {
        extra.push_str(&format!(", waiters:{waiters}"));
    }
    let cls = vm.type_of(me);
    let id = me.ptr_id().unwrap_or(0);
    Ok(Value::string(format!(
        "<asyncio.locks.{} object at {id:#x} [{extra}]>",
        cls.name()
    )))
}

/// `Semaphore(value=1)`'s argument, checked.
fn initial_value(vm: &mut Vm, a: &mut Args) -> PyResult<i64> {
    let value = match util::arg(a, 1, "value") {
        Some(v) => util::to_i64(vm, &v)?,
        None => 1,
    };
    if value < 0 {
        return Err(vm.value_error("Semaphore initial value must be >= 0"));
    }
    Ok(value)
}

/// `Lock.release`.
fn lock_release(vm: &mut Vm, lock: &Value) -> PyResult<Value> {
    let was = with(vm, lock, "Lock", |p| std::mem::replace(&mut p.flag, false))?;
    if !was {
        return Err(vm.error("RuntimeError", "Lock is not acquired."));
    }
    wake_up_first(vm, lock)?;
    Ok(Value::None)
}

/// `Semaphore.release` (and BoundedSemaphore's, which checks the bound).
fn semaphore_release(vm: &mut Vm, sem: &Value) -> PyResult<Value> {
    let over = with(vm, sem, "Semaphore", |p| {
        p.bound.is_some_and(|b| p.value >= b)
    })?;
    if over {
        return Err(vm.value_error("BoundedSemaphore released too many times"));
    }
    with(vm, sem, "Semaphore", |p| p.value += 1)?;
    wake_up_next(vm, sem)?;
    Ok(Value::None)
}

/// `async def __aexit__(self, *exc): self.release()` of Lock and Semaphore. The asyncio
/// classes themselves release directly (the method lookup and call cost more than the
/// release); a script subclass may override `release`, so it gets the full call.
fn release_on_exit(vm: &mut Vm, a: Args) -> PyResult<Value> {
    let awaited = vm.take_awaited_call();
    let prim = &a.pos[0];
    let kind = with(vm, prim, "primitive", |p| p.kind)?;
    // Native classes count as `is_user` too: what matters is whether `release` is ours.
    let subclassed = !matches!(prim, Value::Instance(i)
        if matches!(i.class.lookup("release"), Some(Value::Native(_))));
    match kind {
        _ if subclassed => {
            vm.call_method(prim, "release", vec![])?;
        }
        Kind::Lock => {
            lock_release(vm, prim)?;
        }
        _ => {
            semaphore_release(vm, prim)?;
        }
    }
    let name = if matches!(kind, Kind::Lock) {
        "Lock.__aexit__"
    } else {
        "Semaphore.__aexit__"
    };
    if awaited {
        return Ok(native_coro::finished(Value::None));
    }
    Ok(native_coro::ready(name, Value::None))
}

fn lock_class(vm: &Vm) -> Rc<Class> {
    let cls = util::native_class(vm, "Lock", "asyncio.locks", None, |vm, mut a| {
        let cls = util::new_cls(vm, &mut a)?;
        Ok(util::new_native(&cls, new_prim(Kind::Lock)))
    });
    util::methods(
        vm,
        &cls,
        &[
            ("acquire", |vm, a| {
                wait(vm, "Lock.acquire", &a.pos[0], Kind::Lock, Value::Bool(true))
            }),
            ("__aenter__", |vm, a| {
                wait(vm, "Lock.__aenter__", &a.pos[0], Kind::Lock, Value::None)
            }),
            ("release", |vm, a| lock_release(vm, &a.pos[0])),
            ("__aexit__", release_on_exit),
            ("locked", |vm, a| {
                Ok(Value::Bool(with(vm, &a.pos[0], "Lock", |p| p.flag)?))
            }),
            ("__repr__", repr),
        ],
    );
    cls
}

pub fn event_class(vm: &Vm) -> Rc<Class> {
    let cls = util::native_class(vm, "Event", "asyncio.locks", None, |vm, mut a| {
        let cls = util::new_cls(vm, &mut a)?;
        Ok(util::new_native(&cls, new_prim(Kind::Event)))
    });
    util::methods(
        vm,
        &cls,
        &[
            ("wait", |vm, a| {
                wait(vm, "Event.wait", &a.pos[0], Kind::Event, Value::Bool(true))
            }),
            ("set", |vm, a| {
                let ev = &a.pos[0];
                let n = with(vm, ev, "Event", |p| match p.flag {
                    true => 0,
                    false => {
                        p.flag = true;
                        p.waiters.len()
                    }
                })?;
                // By index, without copying the queue: waking runs no script code, so the
                // queue does not change meanwhile.
                for i in 0..n {
                    let w = with(vm, ev, "Event", |p| p.waiters.get(i).cloned())?;
                    match w {
                        Some(w) if !parking::done(&w) => parking::wake(vm, &w)?,
                        _ => {}
                    }
                }
                Ok(Value::None)
            }),
            ("clear", |vm, a| {
                with(vm, &a.pos[0], "Event", |p| p.flag = false)?;
                Ok(Value::None)
            }),
            ("is_set", |vm, a| {
                Ok(Value::Bool(with(vm, &a.pos[0], "Event", |p| p.flag)?))
            }),
            ("__repr__", repr),
        ],
    );
    cls
}

fn semaphore_class(vm: &Vm) -> Rc<Class> {
    let cls = util::native_class(vm, "Semaphore", "asyncio.locks", None, |vm, mut a| {
        let cls = util::new_cls(vm, &mut a)?;
        Ok(util::new_native(&cls, new_prim(Kind::Semaphore)))
    });
    util::methods(
        vm,
        &cls,
        &[
            ("__init__", |vm, mut a| {
                let value = initial_value(vm, &mut a)?;
                with(vm, &a.pos[0], "Semaphore", |p| p.value = value)?;
                Ok(Value::None)
            }),
            ("acquire", |vm, a| {
                wait(
                    vm,
                    "Semaphore.acquire",
                    &a.pos[0],
                    Kind::Semaphore,
                    Value::Bool(true),
                )
            }),
            ("__aenter__", |vm, a| {
                wait(
                    vm,
                    "Semaphore.__aenter__",
                    &a.pos[0],
                    Kind::Semaphore,
                    Value::None,
                )
            }),
            ("release", |vm, a| semaphore_release(vm, &a.pos[0])),
            ("__aexit__", release_on_exit),
            ("locked", |vm, a| {
                Ok(Value::Bool(with(vm, &a.pos[0], "Semaphore", |p| {
                    sem_locked(p)
                })?))
            }),
            ("__repr__", repr),
        ],
    );
    cls
}

fn bounded_semaphore_class(vm: &Vm, semaphore: &Rc<Class>) -> Rc<Class> {
    let cls = util::plain_class("BoundedSemaphore", "asyncio.locks", semaphore.clone());
    util::method(vm, &cls, "__init__", |vm, mut a| {
        let value = initial_value(vm, &mut a)?;
        with(vm, &a.pos[0], "BoundedSemaphore", |p| {
            p.value = value;
            p.bound = Some(value);
        })?;
        Ok(Value::None)
    });
    cls
}

/// A new asyncio.Event, already set if `set` (for Queue.join).
pub fn new_event(set: bool) -> Value {
    let mut p = new_prim(Kind::Event);
    p.flag = set;
    util::new_native(&classes().event, p)
}

/// `event.clear()`.
pub fn clear_event(vm: &Vm, ev: &Value) -> PyResult<()> {
    with(vm, ev, "Event", |p| p.flag = false)
}

/// Adds Lock, Event, Semaphore and BoundedSemaphore to `asyncio`.
pub fn install(vm: &Vm, m: &Module) {
    let semaphore = semaphore_class(vm);
    m.set("Lock", Value::Class(lock_class(vm)));
    m.set("Event", Value::Class(classes().event.clone()));
    m.set(
        "BoundedSemaphore",
        Value::Class(bounded_semaphore_class(vm, &semaphore)),
    );
    m.set("Semaphore", Value::Class(semaphore));
}
