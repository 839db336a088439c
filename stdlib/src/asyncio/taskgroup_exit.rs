//! `TaskGroup.__aenter__` and `TaskGroup.__aexit__` as native coroutines (see native_coro.rs),
//! following CPython 3.11's `asyncio/taskgroups.py` step by step; the scenario comments are
//! CPython's. The group's state and per-child code are in taskgroups.rs.

use eddy_vm::{ops, Args, PyResult, Value, Vm};

use super::native_coro::{self, CoroBody, Step};
use super::taskgroups::{self, GroupState};
use super::{classes, events, futures};
use crate::util;

/// `async def __aenter__(self)`.
pub fn aenter(vm: &mut Vm, a: Args) -> PyResult<Value> {
    util::arity(vm, "__aenter__", &a, 1, 1)?;
    util::state(vm, &a.pos[0], "TaskGroup", |_: &mut GroupState| ())?;
    Ok(native_coro::new(
        "TaskGroup.__aenter__",
        Enter(a.pos[0].clone()),
    ))
}

struct Enter(Value);

impl CoroBody for Enter {
    fn send(&mut self, vm: &mut Vm, _sent: Value) -> PyResult<Step> {
        let group = &self.0;
        let (entered, loop_obj) =
            taskgroups::with(group, |s| (s.entered, s.loop_obj.clone())).unwrap_or((true, None));
        if entered {
            return Err(taskgroups::refused(vm, group, "has already been entered"));
        }
        let core = events::running_or_err(vm)?;
        if loop_obj.is_none() {
            let obj = core.obj.borrow().clone();
            taskgroups::with(group, |s| s.loop_obj = Some(obj));
        }
        let parent = core.current_task.borrow().clone();
        taskgroups::with(group, |s| s.parent_task = parent.clone());
        if parent.is_none() {
            return Err(taskgroups::refused(
                vm,
                group,
                "cannot determine the parent task",
            ));
        }
        taskgroups::with(group, |s| s.entered = true);
        Ok(Err(group.clone()))
    }

    fn traverse(&self, f: &mut dyn FnMut(&Value)) {
        f(&self.0);
    }
}

/// `async def __aexit__(self, et, exc, tb)`.
pub fn aexit(vm: &mut Vm, a: Args) -> PyResult<Value> {
    util::arity(vm, "__aexit__", &a, 4, 4)?;
    util::state(vm, &a.pos[0], "TaskGroup", |_: &mut GroupState| ())?;
    Ok(native_coro::new(
        "TaskGroup.__aexit__",
        Exit {
            group: a.pos[0].clone(),
            et: a.pos[1].clone(),
            exc: a.pos[2].clone(),
            propagate: None,
            waiting: None,
            started: false,
        },
    ))
}

struct Exit {
    group: Value,
    et: Value,
    exc: Value,
    /// `propagate_cancellation_error`.
    propagate: Option<Value>,
    /// The `_on_completed_fut` being awaited while suspended.
    waiting: Option<Value>,
    /// The body ran (and registered the group with `taskgroups::exit_started`).
    started: bool,
}

impl Exit {
    fn with<R>(&self, f: impl FnOnce(&mut GroupState) -> R) -> Option<R> {
        taskgroups::with(&self.group, f)
    }

    /// Everything before the wait loop.
    fn begin(&mut self, vm: &mut Vm) -> PyResult<()> {
        self.started = true;
        taskgroups::exit_started(&self.group);
        let exc = self.exc.clone();
        let base = !exc.is_none() && taskgroups::is_base_error(vm, &exc);
        let (parent, cancel_requested, aborting) = self
            .with(|s| {
                s.exiting = true;
                if base && s.base_error.is_none() {
                    s.base_error = Some(exc.clone());
                }
                (s.parent_task.clone(), s.parent_cancel_requested, s.aborting)
            })
            .unwrap_or((None, false, true));
        if is_cancelled_error_class(&self.et) {
            self.propagate = Some(exc);
        }
        if cancel_requested {
            // If this flag is set we *must* call uncancel().
            if let Some(parent) = parent {
                let left = vm.call_method(&parent, "uncancel", vec![])?;
                if matches!(left, Value::Int(0)) {
                    // If there are no pending cancellations left,
                    // don't propagate CancelledError.
                    self.propagate = None;
                }
            }
        }
        if !self.et.is_none() && !aborting {
            // Our parent task is being cancelled:
            //
            //    async with TaskGroup() as g:
            //        g.create_task(...)
            //        await ...  # <- CancelledError
            //
            // or there's an exception in "async with":
            //
            //    async with TaskGroup() as g:
            //        g.create_task(...)
            //        1 / 0
            //
            taskgroups::abort(vm, &self.group)?;
        }
        Ok(())
    }

    /// `while self._tasks: await self._on_completed_fut`, from the top of the loop; then the
    /// end of `__aexit__`.
    fn wait_loop(&mut self, vm: &mut Vm) -> PyResult<Step> {
        // We use while-loop here because "self._on_completed_fut"
        // can be cancelled multiple times if our parent task
        // is being cancelled repeatedly (or even once, when
        // our own cancellation is already in progress)
        loop {
            let Some(Some(fut)) = self.with(|s| {
                if s.tasks.is_empty() {
                    return None;
                }
                Some(
                    s.on_completed_fut
                        .get_or_insert_with(futures::new_future)
                        .clone(),
                )
            }) else {
                return self.finish(vm);
            };
            match futures::await_step(vm, &fut, Value::None) {
                Ok(Ok(y)) => {
                    self.waiting = Some(fut);
                    return Ok(Ok(y));
                }
                Ok(Err(_)) => self.fut_awaited(),
                Err(e) => self.interrupted(vm, e)?,
            }
        }
    }

    /// After `await self._on_completed_fut` (however it ended): `self._on_completed_fut = None`.
    fn fut_awaited(&mut self) {
        self.waiting = None;
        self.with(|s| s.on_completed_fut = None);
    }

    /// The await raised `e`: `except CancelledError` goes on with the loop; anything else
    /// leaves `__aexit__`.
    fn interrupted(&mut self, vm: &mut Vm, e: Value) -> PyResult<()> {
        if !vm.isinstance(&e, &classes().cancelled_error) {
            self.waiting = None;
            return Err(e);
        }
        if self.with(|s| !s.aborting) == Some(true) {
            // Our parent task is being cancelled:
            //
            //    async def wrapper():
            //        async with TaskGroup() as g:
            //            g.create_task(foo)
            //
            // "wrapper" is being cancelled while "foo" is
            // still running.
            self.propagate = Some(e);
            taskgroups::abort(vm, &self.group)?;
        }
        self.fut_awaited();
        Ok(())
    }

    /// Everything after the wait loop: raise what the group ends with, or return None.
    fn finish(&mut self, vm: &mut Vm) -> PyResult<Step> {
        let (base_error, no_errors) = self
            .with(|s| (s.base_error.clone(), s.errors.is_empty()))
            .unwrap_or((None, true));
        if let Some(b) = base_error {
            return Err(raised(vm, b));
        }
        // Propagate CancelledError if there is one, except if there
        // are other errors -- those have priority.
        if let Some(p) = self.propagate.take() {
            if no_errors {
                return Err(raised(vm, p));
            }
        }
        if !self.et.is_none() && !is_cancelled_error_class(&self.et) {
            let exc = self.exc.clone();
            self.with(|s| s.errors.push(exc));
        }
        // Exceptions are heavy objects that can have object
        // cycles (bad for GC); let's not keep a reference to
        // a bunch of them.
        let errors = self
            .with(|s| std::mem::take(&mut s.errors))
            .unwrap_or_default();
        if errors.is_empty() {
            return Ok(Err(Value::None));
        }
        let cls = Value::Class(vm.exc_class("BaseExceptionGroup"));
        let msg = Value::str("unhandled errors in a TaskGroup");
        let me = vm.call(&cls, vec![msg, Value::list(errors)])?;
        // `raise me from None`.
        ops::set_cause(&me, Value::None);
        Err(raised(vm, me))
    }
}

impl CoroBody for Exit {
    fn send(&mut self, vm: &mut Vm, sent: Value) -> PyResult<Step> {
        match self.waiting.clone() {
            None => {
                self.begin(vm)?;
                self.wait_loop(vm)
            }
            Some(fut) => {
                match futures::await_step(vm, &fut, sent) {
                    Ok(Ok(y)) => return Ok(Ok(y)),
                    Ok(Err(_)) => self.fut_awaited(),
                    Err(e) => self.interrupted(vm, e)?,
                }
                self.wait_loop(vm)
            }
        }
    }

    fn throw(&mut self, vm: &mut Vm, exc: Value) -> PyResult<Step> {
        if self.waiting.is_none() {
            // Not started: the exception is raised before the body runs.
            return Err(exc);
        }
        self.interrupted(vm, exc)?;
        self.wait_loop(vm)
    }

    fn traverse(&self, f: &mut dyn FnMut(&Value)) {
        f(&self.group);
        f(&self.et);
        f(&self.exc);
        self.propagate.iter().chain(self.waiting.iter()).for_each(f);
    }
}

impl Drop for Exit {
    fn drop(&mut self) {
        if self.started {
            taskgroups::exit_done(&self.group);
        }
    }
}

/// `et is CancelledError`.
fn is_cancelled_error_class(et: &Value) -> bool {
    matches!(et, Value::Class(c) if std::rc::Rc::ptr_eq(c, &classes().cancelled_error))
}

/// `exc`, given the `__context__` a `raise` inside `__aexit__` gives it.
fn raised(vm: &Vm, exc: Value) -> Value {
    ops::set_context(&exc, &vm.handled);
    exc
}
