//! A task parked on a Lock, Event or Semaphore. CPython makes a waiter future per wait and
//! the task waits on it; a parked task costs that future (an object, its state, a collector
//! entry: ~170 bytes). Here, when a wait is awaited at once inside a task (`await ev.wait()`,
//! `async with lock`), the task itself goes into the primitive's waiter queue and remembers
//! which primitive it waits on and how the wait stands (`TaskData::fut_waiter` and `park`).
//! Its coroutine awaits one shared token; resuming the token finishes the wait exactly where
//! CPython's wait coroutine would go on after its `await fut`.
//!
//! The wait's states mirror the waiter future's: `Waiting` (pending), `Woken` (result set,
//! the task's step scheduled) and `Cancelled` (cancelled, the CancelledError's throw
//! scheduled). The primitive's queue holds waiter futures (a wait called but not awaited at
//! once, run as a coroutine) and parked tasks side by side; `done`, `cancelled` and `wake`
//! below treat both alike.

use std::rc::Rc;

use eddy_vm::objects::class::Class;
use eddy_vm::{PyResult, Value, Vm};

use super::events::{self, Job};
use super::futures::{self, FutSt};
use super::native_coro::Step;
use super::{classes, primitives};
use crate::util;

/// How a parked task's wait stands.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub enum Park {
    /// Not parked.
    #[default]
    None,
    /// In the primitive's waiter queue, pending.
    Waiting,
    /// Woken by the primitive (its waiter future would have the result True); the task's
    /// step is scheduled and finishes the wait.
    Woken,
    /// Cancelled while waiting; the step that throws CancelledError in is scheduled.
    Cancelled,
}

/// The park state of `task`, if it is a task.
fn state(task: &Value) -> Option<Park> {
    futures::with_task(task, |s, _| s.park)
}

fn set_state(task: &Value, park: Park) {
    futures::with_task(task, |s, _| s.park = park);
}

/// The running loop's current task, when a wait can park it: it must be running a step.
pub fn current_task() -> Option<Value> {
    let core = events::running()?;
    let t = core.current_task.borrow().clone();
    t
}

/// Parks `task` on `prim` (the caller adds it to the primitive's queue) and returns what its
/// coroutine awaits.
pub fn park(task: &Value, prim: &Value, returns_none: bool) -> Value {
    futures::with_task(task, |s, t| {
        t.fut_waiter = Some(prim.clone());
        s.park = Park::Waiting;
        s.park_returns_none = returns_none;
    });
    classes().park_token.clone()
}

/// A parked task in a primitive's queue (as opposed to a waiter future).
fn parked(w: &Value) -> Option<Park> {
    state(w).filter(|p| *p != Park::None)
}

/// `fut.done()` for a waiter-queue entry.
pub fn done(w: &Value) -> bool {
    match parked(w) {
        Some(p) => p != Park::Waiting,
        None => futures::is_done(w),
    }
}

/// `fut.cancelled()` for a waiter-queue entry.
pub fn cancelled(w: &Value) -> bool {
    match parked(w) {
        Some(p) => p == Park::Cancelled,
        None => futures::is_cancelled(w),
    }
}

/// `fut.set_result(True)` for a pending waiter-queue entry: a parked task is scheduled to
/// step, as the future's wakeup callback would be.
pub fn wake(vm: &mut Vm, w: &Value) -> PyResult<()> {
    match parked(w) {
        Some(Park::Waiting) => {
            set_state(w, Park::Woken);
            events::running_or_err(vm)?.push(Job::step(w, None));
            Ok(())
        }
        Some(_) => Ok(()),
        None if futures::state_of(w) == FutSt::Pending => {
            futures::set_result(vm, w, Value::Bool(true))
        }
        None => Ok(()),
    }
}

/// `task.cancel(msg)` reaching a parked task's wait (`fut_waiter.cancel(msg)`): None when
/// the task is not parked, else whether the wait was still pending and is now cancelled.
pub fn cancel(vm: &mut Vm, task: &Value, msg: &Value) -> PyResult<Option<bool>> {
    match state(task) {
        None | Some(Park::None) => Ok(None),
        Some(Park::Waiting) => {
            set_state(task, Park::Cancelled);
            let args = if msg.is_none() {
                vec![]
            } else {
                vec![msg.clone()]
            };
            let exc = vm.new_exception(&classes().cancelled_error, args);
            events::running_or_err(vm)?.push(Job::step(task, Some(exc)));
            Ok(Some(true))
        }
        Some(_) => Ok(Some(false)),
    }
}

/// What a parked task's repr shows as `wait_for=`: its waiter future's repr in CPython.
pub fn wait_for_repr(task: &Value) -> Option<&'static str> {
    Some(match parked(task)? {
        Park::Waiting => "<Future pending cb=[Task.task_wakeup()]>",
        Park::Woken => "<Future finished result=True>",
        _ => "<Future cancelled>",
    })
}

/// The primitive and the wait's kind, taken out of a parked task whose wait ends now.
fn unpark(task: &Value) -> Option<(Value, Park, bool)> {
    futures::with_task(task, |s, t| {
        let park = std::mem::take(&mut s.park);
        if park == Park::None {
            return None;
        }
        Some((t.fut_waiter.take()?, park, s.park_returns_none))
    })
    .flatten()
}

/// `Class::native_send` of the token: the first send parks the task (yields the token to
/// it); the send of the woken task's step finishes the wait.
fn token_send(vm: &mut Vm, token: &Value, _sent: Value) -> PyResult<Step> {
    let task = current_task();
    let park = task.as_ref().and_then(state).unwrap_or_default();
    match (park, task) {
        (Park::Waiting, _) => Ok(Ok(token.clone())),
        (Park::Woken, Some(task)) => match unpark(&task) {
            Some((prim, _, returns_none)) => {
                primitives::parked_woken(vm, &prim, &task)?;
                Ok(Err(if returns_none {
                    Value::None
                } else {
                    Value::Bool(true)
                }))
            }
            None => Ok(Err(Value::None)),
        },
        (Park::Cancelled, Some(task)) => {
            let exc = vm.new_exception(&classes().cancelled_error, vec![]);
            token_throw_for(vm, &task, exc)
        }
        _ => Err(vm.error("RuntimeError", "await wasn't used with future")),
    }
}

/// `Class::native_throw` of the token: an exception thrown into the parked frame (the task
/// was cancelled) ends the wait, which cleans up as CPython's `except`/`finally` would.
fn token_throw(vm: &mut Vm, _token: &Value, exc: Value) -> PyResult<Step> {
    match current_task() {
        Some(task) => token_throw_for(vm, &task, exc),
        None => Err(exc),
    }
}

fn token_throw_for(vm: &mut Vm, task: &Value, exc: Value) -> PyResult<Step> {
    if let Some((prim, park, _)) = unpark(task) {
        primitives::parked_failed(vm, &prim, task, park == Park::Cancelled, &exc)?;
    }
    Err(exc)
}

/// Is `v` the token a parked task's coroutine awaits?
pub fn is_token(v: &Value) -> bool {
    matches!((v, &classes().park_token), (Value::Instance(a), Value::Instance(b)) if Rc::ptr_eq(a, b))
}

/// The token's class: awaitable, stepped only through the VM's native hooks.
pub fn token_class(vm: &Vm) -> Rc<Class> {
    let cls = util::plain_class("_ParkedWait", "asyncio.locks", vm.types.object.clone());
    cls.native_send.set(Some(token_send));
    cls.native_throw.set(Some(token_throw));
    util::method(vm, &cls, "__await__", util::iter_self);
    cls
}

/// `Event.wait` and the like, for the task tree, when `task` is parked.
pub fn wait_name(task: &Value) -> Option<&'static str> {
    let (prim, returns_none) = futures::with_task(task, |s, t| {
        (s.park != Park::None).then(|| (t.fut_waiter.clone(), s.park_returns_none))
    })
    .flatten()?;
    primitives::wait_name(&prim?, returns_none)
}
