//! `asyncio.Future`: a result slot with done callbacks, and the iterator `await fut` runs (it
//! yields the future itself to the task, which resumes when the future completes).
//! Tasks are Futures too: a task's instance keeps a `TaskState`, its `FutState` and its
//! `TaskData` (tasks.rs) side by side in one 128-byte block; `with` reaches the future part of
//! either kind.

use std::rc::Rc;

use eddy_vm::objects::class::{Class, Payload};
use eddy_vm::{ops, Args, PyResult, Value, Vm};

use super::classes;
use super::events::{self, Job};
use super::parking::Park;
use super::tasks::{self, TaskData};
use crate::native_state;
use crate::util;

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum FutSt {
    Pending,
    Cancelled,
    Finished,
}

pub use super::callbacks::{Callback, Callbacks, NativeCallback};

pub struct FutState {
    pub state: FutSt,
    /// An exception nobody has looked at yet (reported at exit).
    pub log_tb: bool,
    /// Set when `await` yields the future to the task (CPython's `_asyncio_future_blocking`).
    pub blocking: bool,
    /// `result` holds the exception the future finished with (one slot for both keeps a
    /// future in 80 bytes).
    failed: bool,
    /// Set while gather walks its children, to see each future once (tasks.rs).
    pub gather_mark: bool,
    pub result: Value,
    pub callbacks: Callbacks,
    /// What few futures need, out of line so that a plain future stays small.
    pub rare: Option<Box<FutRare>>,
    // Three flags of the task part (tasks.rs, parking.rs), here because they fit the bytes the
    // flags above leave spare: a task's `TaskState` then fits mimalloc's 128-byte class.
    /// `cancel()` reached the task while its coroutine was not waiting on anything.
    pub must_cancel: bool,
    /// How a wait parked on a primitive stands (parking.rs).
    pub park: Park,
    /// A parked wait returns None (`__aenter__`) rather than True.
    pub park_returns_none: bool,
}

const _: () = assert!(std::mem::size_of::<FutState>() <= 64);

/// A task's Rust state: the future it is and its task part, in one allocation.
pub struct TaskState {
    pub fut: FutState,
    pub task: TaskData,
}

const _: () = assert!(std::mem::size_of::<TaskState>() <= 128);

/// The state only cancelled futures and gather's outer future use.
pub struct FutRare {
    pub cancel_msg: Value,
    /// The CancelledError a task's coroutine raised, re-raised by `result()`.
    pub cancelled_exc: Option<Value>,
    /// gather's outer future: a cancel() reached its children.
    pub cancel_requested: bool,
    /// gather's outer future: the children cancel() is forwarded to.
    pub children: Vec<Value>,
}

impl Default for FutRare {
    fn default() -> FutRare {
        FutRare {
            // Not `Value::default()`, which is the VM's internal Null marker.
            cancel_msg: Value::None,
            cancelled_exc: None,
            cancel_requested: false,
            children: Vec::new(),
        }
    }
}

impl Default for FutState {
    fn default() -> FutState {
        FutState::new()
    }
}

impl FutState {
    pub fn new() -> FutState {
        FutState {
            state: FutSt::Pending,
            log_tb: false,
            blocking: false,
            failed: false,
            gather_mark: false,
            result: Value::None,
            callbacks: Callbacks::None,
            rare: None,
            must_cancel: false,
            park: Park::None,
            park_returns_none: false,
        }
    }

    /// The exception the future finished with, if it failed.
    pub fn exception(&self) -> Option<Value> {
        self.failed.then(|| self.result.clone())
    }

    /// Finishes the future with `exc`.
    pub fn set_exception(&mut self, exc: Value) {
        self.result = exc;
        self.failed = true;
        self.state = FutSt::Finished;
        self.log_tb = true;
    }

    /// The rare part, created on first use.
    pub fn rare(&mut self) -> &mut FutRare {
        self.rare.get_or_insert_with(Default::default)
    }

    /// The message `cancel(msg)` gave (None if none).
    pub fn cancel_msg(&self) -> Value {
        self.rare
            .as_ref()
            .map_or(Value::None, |r| r.cancel_msg.clone())
    }

    pub fn children(&self) -> Vec<Value> {
        self.rare
            .as_ref()
            .map_or_else(Vec::new, |r| r.children.clone())
    }
}

native_state!(
    FutState,
    |s, f| {
        f(&s.result);
        if let Some(r) = &s.rare {
            f(&r.cancel_msg);
            r.cancelled_exc
                .iter()
                .chain(r.children.iter())
                .for_each(&mut *f);
        }
        s.callbacks.traverse(f);
    },
    |c, out| {
        out.push(std::mem::replace(&mut c.result, Value::None));
        if let Some(r) = &mut c.rare {
            out.push(std::mem::replace(&mut r.cancel_msg, Value::None));
            out.extend(r.cancelled_exc.take());
            out.append(&mut r.children);
        }
        c.callbacks.clear();
    }
);

native_state!(
    TaskState,
    |s, f| {
        eddy_vm::objects::class::NativeState::traverse(&s.fut, f);
        s.task.traverse(f);
    },
    |c, out| {
        eddy_vm::objects::class::NativeState::clear(&mut c.fut, out);
        c.task.clear(out);
    }
);

/// Runs `f` on the future state of `v`, a future or a task (None if `v` is neither).
pub fn with<R>(v: &Value, f: impl FnOnce(&mut FutState) -> R) -> Option<R> {
    let Value::Instance(i) = v else { return None };
    let Payload::Native(cell) = &i.payload else {
        return None;
    };
    let mut b = cell.try_borrow_mut().ok()?;
    let any = b.as_any_mut();
    if any.is::<FutState>() {
        return any.downcast_mut::<FutState>().map(f);
    }
    any.downcast_mut::<TaskState>().map(|t| f(&mut t.fut))
}

/// Runs `f` on both parts of the task `v` (None if `v` is not a task).
pub fn with_task<R>(v: &Value, f: impl FnOnce(&mut FutState, &mut TaskData) -> R) -> Option<R> {
    util::with_state(v, |t: &mut TaskState| f(&mut t.fut, &mut t.task))
}

pub fn is_task(v: &Value) -> bool {
    with_task(v, |_, _| ()).is_some()
}

pub fn is_future(v: &Value) -> bool {
    with(v, |_| ()).is_some()
}

pub fn state_of(v: &Value) -> FutSt {
    with(v, |s| s.state).unwrap_or(FutSt::Pending)
}

pub fn is_done(v: &Value) -> bool {
    state_of(v) != FutSt::Pending
}

pub fn is_cancelled(v: &Value) -> bool {
    state_of(v) == FutSt::Cancelled
}

pub fn exception_of(v: &Value) -> Option<Value> {
    with(v, |s| s.exception()).flatten()
}

pub fn new_future() -> Value {
    util::new_native(&classes().future, FutState::new())
}

fn fut_arg(vm: &Vm, v: &Value) -> PyResult<()> {
    if is_future(v) {
        Ok(())
    } else {
        Err(vm.type_error(format!(
            "descriptor requires a '_asyncio.Future' object but received a '{}'",
            vm.type_name(v)
        )))
    }
}

/// Queues every done callback on the running loop, in registration order: they stay in the
/// future, marked due, and one job runs them (events.rs `Job::Callbacks`).
pub fn schedule_callbacks(vm: &Vm, fut: &Value) -> PyResult<()> {
    let Value::Instance(inst) = fut else {
        return Ok(());
    };
    if with(fut, |s| s.callbacks.schedule()) != Some(true) {
        return Ok(());
    }
    match events::running() {
        Some(core) => {
            core.push(Job::Callbacks(inst.clone()));
            Ok(())
        }
        None => {
            // Nowhere to run them: they are dropped, as the loop error says.
            with(fut, |s| s.callbacks.clear());
            events::running_or_err(vm).map(|_| ())
        }
    }
}

/// `add_done_callback`: runs soon if the future is already done.
pub fn add_callback(vm: &Vm, fut: &Value, cb: Callback) -> PyResult<()> {
    let cb = with(fut, |s| {
        if s.state == FutSt::Pending {
            s.callbacks.push(cb);
            None
        } else {
            Some(cb)
        }
    });
    // Done already: the callback runs soon. (Not a future at all: nothing to call back on.)
    if let Some(Some(cb)) = cb {
        events::running_or_err(vm)?.push(Job::fut_cb(cb, fut.clone()));
    }
    Ok(())
}

pub fn run_callback(vm: &mut Vm, cb: Callback, fut: &Value) -> PyResult<()> {
    match cb {
        Callback::Py(f) => vm.call(&f, vec![fut.clone()]).map(|_| ()),
        Callback::Wakeup(task) => tasks::wakeup(vm, &task, fut),
        Callback::Native(f) => f(vm, fut),
    }
}

/// The C Future's wording for completing a future twice.
fn invalid_state(vm: &Vm) -> Value {
    vm.new_exception(&classes().invalid_state, vec![Value::str("invalid state")])
}

pub fn set_result(vm: &mut Vm, fut: &Value, v: Value) -> PyResult<()> {
    if state_of(fut) != FutSt::Pending {
        return Err(invalid_state(vm));
    }
    with(fut, |s| {
        s.result = v;
        s.state = FutSt::Finished;
    });
    schedule_callbacks(vm, fut)
}

pub fn set_exception(vm: &mut Vm, fut: &Value, exc: Value) -> PyResult<()> {
    if state_of(fut) != FutSt::Pending {
        return Err(invalid_state(vm));
    }
    let exc = ops::make_exception(vm, exc)?;
    if vm.exc_matches(&exc, "StopIteration") {
        return Err(vm.type_error(
            "StopIteration interacts badly with generators and cannot be raised into a Future",
        ));
    }
    with(fut, |s| s.set_exception(exc));
    schedule_callbacks(vm, fut)
}

/// `Future.cancel` (tasks override it in tasks.rs).
pub fn cancel_future(vm: &Vm, fut: &Value, msg: Value) -> PyResult<bool> {
    let ok = with(fut, |s| {
        s.log_tb = false;
        if s.state != FutSt::Pending {
            return false;
        }
        s.state = FutSt::Cancelled;
        if !msg.is_none() {
            s.rare().cancel_msg = msg;
        }
        true
    })
    .unwrap_or(false);
    if ok {
        schedule_callbacks(vm, fut)?;
    }
    Ok(ok)
}

/// The CancelledError `result()` raises for a cancelled future.
pub fn make_cancelled_error(vm: &Vm, fut: &Value) -> Value {
    let (saved, msg) = with(fut, |s| {
        let saved = s.rare.as_mut().and_then(|r| r.cancelled_exc.take());
        (saved, s.cancel_msg())
    })
    .unwrap_or((None, Value::None));
    if let Some(e) = saved {
        return e;
    }
    let args = if msg.is_none() { vec![] } else { vec![msg] };
    vm.new_exception(&classes().cancelled_error, args)
}

pub fn result(vm: &mut Vm, fut: &Value) -> PyResult<Value> {
    match state_of(fut) {
        FutSt::Cancelled => Err(make_cancelled_error(vm, fut)),
        FutSt::Pending => Err(vm.new_exception(
            &classes().invalid_state,
            vec![Value::str("Result is not set.")],
        )),
        FutSt::Finished => {
            let (r, e) = with(fut, |s| {
                s.log_tb = false;
                (s.result.clone(), s.exception())
            })
            .unwrap_or((Value::None, None));
            match e {
                Some(e) => Err(e),
                None => Ok(r),
            }
        }
    }
}

pub fn exception(vm: &mut Vm, fut: &Value) -> PyResult<Value> {
    match state_of(fut) {
        FutSt::Cancelled => Err(make_cancelled_error(vm, fut)),
        FutSt::Pending => Err(vm.new_exception(
            &classes().invalid_state,
            vec![Value::str("Exception is not set.")],
        )),
        FutSt::Finished => Ok(with(fut, |s| {
            s.log_tb = false;
            s.exception()
        })
        .flatten()
        .unwrap_or(Value::None)),
    }
}

/// The `<Future ...>` / `<Task ...>` repr's state part: "pending", "finished result=1", ...
pub fn repr_info(vm: &mut Vm, fut: &Value) -> PyResult<String> {
    let (st, r, e) = with(fut, |s| (s.state, s.result.clone(), s.exception())).unwrap_or((
        FutSt::Pending,
        Value::None,
        None,
    ));
    Ok(match st {
        FutSt::Pending => "pending".into(),
        FutSt::Cancelled => "cancelled".into(),
        FutSt::Finished => match e {
            Some(e) => format!("finished exception={}", ops::repr(vm, &e)?),
            None => format!("finished result={}", reprlib(vm, &r)?),
        },
    })
}

/// `reprlib.repr`, as CPython's futures show their result.
fn reprlib(vm: &mut Vm, v: &Value) -> PyResult<String> {
    crate::reprlib::short_repr(vm, v)
}

pub fn callback_repr(vm: &mut Vm, fut: &Value) -> PyResult<String> {
    let cbs = with(fut, |s| s.callbacks.as_slice().to_vec()).unwrap_or_default();
    if cbs.is_empty() {
        return Ok(String::new());
    }
    let mut names = Vec::new();
    for cb in &cbs {
        names.push(match cb {
            Callback::Py(f) => format_callback(vm, f, "()".into())?,
            Callback::Wakeup(_) => "Task.task_wakeup()".into(),
            Callback::Native(_) => "_done_callback()".into(),
        });
    }
    let shown = if names.len() > 2 {
        format!(
            "{}, <{} more>, {}",
            names[0],
            names.len() - 2,
            names[names.len() - 1]
        )
    } else {
        names.join(", ")
    };
    Ok(format!(" cb=[{shown}]"))
}

/// CPython's `format_helpers._format_callback_source`: `name()` for a callback, a partial as
/// its function with the bound arguments (`f(1)()`), and ` at file:line` for plain functions.
fn format_callback(vm: &mut Vm, f: &Value, suffix: String) -> PyResult<String> {
    if let Some(inner) = partial_parts(vm, f)? {
        let (func, args) = inner;
        let mut parts = Vec::new();
        for a in ops::collect(vm, &args)? {
            parts.push(ops::repr(vm, &a)?);
        }
        return format_callback(vm, &func, format!("({}){suffix}", parts.join(", ")));
    }
    let name = match util::getattr_opt(vm, f, "__qualname__")? {
        Some(Value::Str(s)) => format!("{}{suffix}", s.s),
        _ => ops::repr(vm, f)?,
    };
    Ok(match f {
        Value::Function(func) => format!(
            "{name} at {}:{}",
            func.code.source.name, func.code.first_line
        ),
        _ => name,
    })
}

/// `(func, args)` of a `functools.partial` callback.
fn partial_parts(vm: &mut Vm, f: &Value) -> PyResult<Option<(Value, Value)>> {
    if !matches!(f, Value::Instance(_)) || vm.type_of(f).name() != "partial" {
        return Ok(None);
    }
    let func = util::getattr_opt(vm, f, "func")?;
    let args = util::getattr_opt(vm, f, "args")?;
    Ok(func.zip(args))
}

pub fn future_class(vm: &Vm) -> Rc<Class> {
    let cls = util::native_class(vm, "Future", "asyncio", None, |vm, mut a| {
        a.take_kw("loop");
        let cls = util::new_cls(vm, &mut a)?;
        Ok(util::new_native(&cls, FutState::new()))
    });
    cls.native_send.set(Some(await_step));
    // An exception thrown into the awaiting frame (a cancelled task) is raised there; saying
    // so directly spares the VM looking for a `throw` method.
    cls.native_throw.set(Some(|_vm, _fut, exc| Err(exc)));
    install_methods(vm, &cls);
    cls
}

/// The methods Future and Task share.
pub fn install_methods(vm: &Vm, cls: &Rc<Class>) {
    util::methods(
        vm,
        cls,
        &[
            ("done", |vm, a| {
                fut_arg(vm, &a.pos[0])?;
                Ok(Value::Bool(is_done(&a.pos[0])))
            }),
            ("cancelled", |vm, a| {
                fut_arg(vm, &a.pos[0])?;
                Ok(Value::Bool(is_cancelled(&a.pos[0])))
            }),
            ("result", |vm, a| {
                fut_arg(vm, &a.pos[0])?;
                result(vm, &a.pos[0])
            }),
            ("exception", |vm, a| {
                fut_arg(vm, &a.pos[0])?;
                exception(vm, &a.pos[0])
            }),
            ("set_result", |vm, a| {
                fut_arg(vm, &a.pos[0])?;
                util::arity(vm, "set_result", &a, 2, 2)?;
                if is_task(&a.pos[0]) {
                    return Err(
                        vm.error("RuntimeError", "Task does not support set_result operation")
                    );
                }
                set_result(vm, &a.pos[0], a.pos[1].clone())?;
                Ok(Value::None)
            }),
            ("set_exception", |vm, a| {
                fut_arg(vm, &a.pos[0])?;
                util::arity(vm, "set_exception", &a, 2, 2)?;
                if is_task(&a.pos[0]) {
                    return Err(vm.error(
                        "RuntimeError",
                        "Task does not support set_exception operation",
                    ));
                }
                set_exception(vm, &a.pos[0], a.pos[1].clone())?;
                Ok(Value::None)
            }),
            ("cancel", |vm, mut a| {
                fut_arg(vm, &a.pos[0])?;
                let msg = util::arg(&mut a, 1, "msg").unwrap_or(Value::None);
                Ok(Value::Bool(tasks::cancel(vm, &a.pos[0], msg)?))
            }),
            ("add_done_callback", |vm, mut a| {
                a.take_kw("context");
                fut_arg(vm, &a.pos[0])?;
                util::arity(vm, "add_done_callback", &a, 2, 2)?;
                add_callback(vm, &a.pos[0], Callback::Py(a.pos[1].clone()))?;
                Ok(Value::None)
            }),
            ("remove_done_callback", |vm, a| {
                fut_arg(vm, &a.pos[0])?;
                util::arity(vm, "remove_done_callback", &a, 2, 2)?;
                let cbs = with(&a.pos[0], |s| s.callbacks.take()).unwrap_or_default();
                let mut kept = Vec::new();
                let mut removed = 0;
                for cb in cbs {
                    let hit = match &cb {
                        Callback::Py(f) => ops::eq(vm, f, &a.pos[1])?,
                        _ => false,
                    };
                    if hit {
                        removed += 1;
                    } else {
                        kept.push(cb);
                    }
                }
                with(&a.pos[0], |s| {
                    // Callbacks a removed one's __eq__ added meanwhile come after the kept.
                    kept.append(&mut s.callbacks.take());
                    s.callbacks.restore(kept);
                });
                Ok(Value::Int(removed))
            }),
            ("get_loop", |vm, _a| {
                let core = events::running_or_err(vm)?;
                let obj = core.obj.borrow().clone();
                Ok(obj)
            }),
            ("__await__", future_await),
            ("__iter__", future_await),
            ("__repr__", |vm, a| {
                let fut = &a.pos[0];
                if is_task(fut) {
                    return tasks::task_repr(vm, fut).map(Value::string);
                }
                let info = repr_info(vm, fut)?;
                let cbs = callback_repr(vm, fut)?;
                Ok(Value::string(format!("<Future {info}{cbs}>")))
            }),
        ],
    );
}

/// `fut.__await__()`: an iterator that yields the future until it is done.
fn future_await(vm: &mut Vm, a: Args) -> PyResult<Value> {
    fut_arg(vm, &a.pos[0])?;
    Ok(util::new_native(
        &classes().future_iter,
        IterState(a.pos[0].clone()),
    ))
}

pub struct IterState(Value);
native_state!(IterState, |s, f| { f(&s.0) }, |c, out| {
    out.push(std::mem::take(&mut c.0));
});

/// One step of `await fut`, as the C FutureIter: yield the future to the task once while it is
/// pending, then return its result. The VM calls this directly for futures and tasks
/// (`Class::native_send`), so an await allocates no iterator and raises no StopIteration.
pub fn await_step(vm: &mut Vm, fut: &Value, _sent: Value) -> PyResult<Result<Value, Value>> {
    let step = with(fut, |s| {
        if s.state != FutSt::Pending {
            return Resume::Done;
        }
        match std::mem::replace(&mut s.blocking, true) {
            false => Resume::Yield,
            true => Resume::Misused,
        }
    })
    .unwrap_or(Resume::Done);
    match step {
        Resume::Yield => Ok(Ok(fut.clone())),
        Resume::Misused => Err(vm.error("RuntimeError", "await wasn't used with future")),
        Resume::Done => result(vm, fut).map(Err),
    }
}

/// What one `await_step` does.
enum Resume {
    /// Pending: yield the future to the task.
    Yield,
    /// Pending, yet already yielded once (a script drove the await by hand).
    Misused,
    /// Done: return its result.
    Done,
}

/// `next()` on the script-visible iterator `fut.__await__()` returns.
fn iter_next(vm: &mut Vm, a: Args) -> PyResult<Value> {
    let fut = util::state(vm, &a.pos[0], "FutureIter", |s: &mut IterState| s.0.clone())?;
    match await_step(vm, &fut, Value::None)? {
        Ok(v) => Ok(v),
        Err(r) => Err(vm.stop_iteration(r)),
    }
}

pub fn future_iter_class(vm: &Vm) -> Rc<Class> {
    let cls = util::plain_class("FutureIter", "_asyncio", vm.types.object.clone());
    util::methods(
        vm,
        &cls,
        &[
            ("__next__", iter_next),
            ("send", |vm, a| {
                iter_next(
                    vm,
                    Args {
                        pos: a.pos[..1].to_vec(),
                        kw: vec![],
                    },
                )
            }),
            ("__iter__", util::iter_self),
            ("throw", |vm, a| {
                let e = a.pos.get(1).cloned().unwrap_or(Value::None);
                let e = ops::make_exception(vm, e)?;
                Err(e)
            }),
        ],
    );
    cls
}
