//! Native coroutines: asyncio functions written in Rust (`sleep`, the lock and event waits)
//! that scripts use exactly like coroutine objects. `await` steps them directly through
//! `Class::native_send` (no frame, no iterator object, no StopIteration per await), and
//! create_task, gather and wait_for accept them as they accept script coroutines.
//!
//! A body is a small state machine: each `send` either yields a value to the task driving it
//! (a pending future to wait on, or None to give up one loop turn) or returns the await's result.
//! `throw` delivers an exception at the await point (cancellation), where the body cleans up
//! what a script coroutine's `finally` would.

use std::cell::RefCell;
use std::rc::Rc;

use eddy_vm::objects::class::{Class, Instance, Payload};
use eddy_vm::{ops, Args, PyResult, Value, Vm};

use super::classes;
use crate::native_state;
use crate::util;

/// What one step of a native coroutine produced: `Ok(v)` yields v, `Err(r)` returns r.
pub type Step = Result<Value, Value>;

pub trait CoroBody: 'static {
    /// Resumes with `sent` (None for a task's plain step).
    fn send(&mut self, vm: &mut Vm, sent: Value) -> PyResult<Step>;
    /// Raises `exc` at the await point; by default nothing to clean up.
    fn throw(&mut self, _vm: &mut Vm, exc: Value) -> PyResult<Step> {
        Err(exc)
    }
    /// Every value the body holds, for the cycle collector.
    fn traverse(&self, f: &mut dyn FnMut(&Value));
}

/// The state of one native coroutine object.
pub struct NativeCoro {
    /// The function's qualified name, for the repr (`Lock.acquire`).
    name: &'static str,
    /// None while a step runs (taken out so the body may call back into scripts) and once
    /// the coroutine has finished.
    body: Option<Box<dyn CoroBody>>,
    finished: bool,
}

native_state!(
    NativeCoro,
    |s, f| {
        if let Some(b) = &s.body {
            b.traverse(f);
        }
    },
    |c, _out| {
        c.body = None;
    }
);

/// Wraps `body` as a coroutine object named `name`.
pub fn new(name: &'static str, body: impl CoroBody) -> Value {
    util::new_native(
        &classes().native_coro,
        NativeCoro {
            name,
            body: Some(Box::new(body)),
            finished: false,
        },
    )
}

/// A coroutine that returns `value` at once (`__aexit__`, `join` of a finished queue).
struct Ready(Value);

impl CoroBody for Ready {
    fn send(&mut self, _vm: &mut Vm, _sent: Value) -> PyResult<Step> {
        Ok(Err(std::mem::take(&mut self.0)))
    }
    fn traverse(&self, f: &mut dyn FnMut(&Value)) {
        f(&self.0);
    }
}

pub fn ready(name: &'static str, value: Value) -> Value {
    new(name, Ready(value))
}

/// Awaits the native coroutine `inner`, then returns `value` instead of its result.
struct Returning {
    inner: Value,
    value: Value,
}

impl CoroBody for Returning {
    fn send(&mut self, vm: &mut Vm, sent: Value) -> PyResult<Step> {
        match resume(vm, &self.inner, sent, None)? {
            Ok(v) => Ok(Ok(v)),
            Err(_) => Ok(Err(std::mem::take(&mut self.value))),
        }
    }
    fn throw(&mut self, vm: &mut Vm, exc: Value) -> PyResult<Step> {
        match resume(vm, &self.inner, Value::None, Some(exc))? {
            Ok(v) => Ok(Ok(v)),
            Err(_) => Ok(Err(std::mem::take(&mut self.value))),
        }
    }
    fn traverse(&self, f: &mut dyn FnMut(&Value)) {
        f(&self.inner);
        f(&self.value);
    }
}

pub fn returning(name: &'static str, inner: Value, value: Value) -> Value {
    new(name, Returning { inner, value })
}

/// What `await f(...)` of a native gets when the native knows it is awaited at once
/// (`Vm::take_awaited_call`) and has already finished: an awaitable that returns `value`
/// without yielding, which is all such a coroutine would do. No coroutine object, no boxes;
/// True and None are shared (nothing else ever sees the object, and it never changes).
pub fn finished(value: Value) -> Value {
    let c = classes();
    match value {
        Value::Bool(true) => c.finished_true.clone(),
        Value::None => c.finished_none.clone(),
        v => eddy_vm::gc::track_instance(Rc::new(finished_instance(&c.finished, v))),
    }
}

fn finished_instance(cls: &Rc<Class>, v: Value) -> Instance {
    Instance {
        class: cls.clone(),
        dict: Default::default(),
        payload: Payload::Value(RefCell::new(v)),
    }
}

pub fn finished_with(cls: &Rc<Class>, v: Value) -> Value {
    Value::Instance(Rc::new(finished_instance(cls, v)))
}

/// The class of `finished` awaitables: its `native_send` returns the value at once.
pub fn finished_class(vm: &Vm) -> Rc<Class> {
    let cls = util::plain_class("coroutine", "builtins", vm.types.object.clone());
    cls.native_send.set(Some(|_vm, me, _sent| {
        let Value::Instance(i) = me else {
            return Ok(Err(Value::None));
        };
        match &i.payload {
            Payload::Value(v) => Ok(Err(v.borrow().clone())),
            _ => Ok(Err(Value::None)),
        }
    }));
    util::method(vm, &cls, "__await__", util::iter_self);
    cls
}

/// True for native coroutine objects.
pub fn is_native_coro(v: &Value) -> bool {
    matches!(v, Value::Instance(i) if Rc::ptr_eq(&i.class, &classes().native_coro))
}

/// The qualified name of a native coroutine object (`Lock.acquire`), for the task tree.
pub fn name_of(v: &Value) -> Option<&'static str> {
    util::with_state(v, |s: &mut NativeCoro| s.name)
}

/// Runs one step (`throw` when `exc` is given) with the body taken out of the object.
pub fn resume(vm: &mut Vm, coro: &Value, sent: Value, exc: Option<Value>) -> PyResult<Step> {
    let taken = util::with_state(coro, |s: &mut NativeCoro| (s.body.take(), s.finished));
    let mut body = match taken {
        Some((Some(body), _)) => body,
        Some((None, true)) => {
            if let Some(e) = exc {
                return Err(e);
            }
            return Err(vm.error("RuntimeError", "cannot reuse already awaited coroutine"));
        }
        Some((None, false)) => return Err(vm.value_error("coroutine already executing")),
        None => return Err(vm.type_error("not a native coroutine")),
    };
    let r = match exc {
        None => body.send(vm, sent),
        Some(e) => body.throw(vm, e),
    };
    let yielded = matches!(r, Ok(Ok(_)));
    util::with_state(coro, |s: &mut NativeCoro| {
        if yielded {
            s.body = Some(body);
        } else {
            s.finished = true;
        }
    });
    r
}

/// `Class::native_send` for native coroutines.
fn await_step(vm: &mut Vm, coro: &Value, sent: Value) -> PyResult<Step> {
    resume(vm, coro, sent, None)
}

/// `coro.send(v)` / `coro.throw(e)` from scripts: a return becomes StopIteration.
fn finish_protocol(vm: &mut Vm, r: PyResult<Step>) -> PyResult<Value> {
    match r? {
        Ok(v) => Ok(v),
        Err(ret) => Err(vm.stop_iteration(ret)),
    }
}

pub fn native_coro_class(vm: &Vm) -> Rc<Class> {
    let cls = util::plain_class("coroutine", "builtins", vm.types.object.clone());
    cls.native_send.set(Some(await_step));
    cls.native_throw.set(Some(|vm, coro, exc| {
        resume(vm, coro, Value::None, Some(exc))
    }));
    util::methods(
        vm,
        &cls,
        &[
            ("send", |vm, a: Args| {
                util::arity(vm, "send", &a, 2, 2)?;
                let r = resume(vm, &a.pos[0], a.pos[1].clone(), None);
                finish_protocol(vm, r)
            }),
            ("throw", |vm, a: Args| {
                util::arity(vm, "throw", &a, 2, 4)?;
                let exc = ops::make_exception(vm, a.pos[1].clone())?;
                let r = resume(vm, &a.pos[0], Value::None, Some(exc));
                finish_protocol(vm, r)
            }),
            ("close", |_vm, a: Args| {
                util::with_state(&a.pos[0], |s: &mut NativeCoro| {
                    s.body = None;
                    s.finished = true;
                });
                Ok(Value::None)
            }),
            ("__await__", util::iter_self),
            ("__repr__", |_vm, a: Args| {
                let name = util::with_state(&a.pos[0], |s: &mut NativeCoro| s.name).unwrap_or("?");
                let id = a.pos[0].ptr_id().unwrap_or(0);
                Ok(Value::string(format!(
                    "<coroutine object {name} at {id:#x}>"
                )))
            }),
        ],
    );
    cls
}
