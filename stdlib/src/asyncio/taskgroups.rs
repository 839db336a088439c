//! `asyncio.TaskGroup` with 3.11 semantics (the first failing child cancels its siblings and the
//! body; errors are raised together as an ExceptionGroup), following CPython's
//! `asyncio/taskgroups.py`.
//!
//! The group's state and its once-per-group methods (`__aenter__`, `__aexit__`, `_abort`) are
//! the Python below. What runs once per child is native: `create_task`, and the done callback
//! each child gets, which handles a child that finished normally itself and hands any other
//! outcome (cancelled, failed) to the Python `_on_task_done`. Both work on the same instance
//! attributes the Python reads (`_tasks` maps `id(task)` to the task, as the task tree expects).

use std::rc::Rc;

use eddy_vm::objects::module::Module;
use eddy_vm::value::{PyStr, StrRef};
use eddy_vm::{attr, ops, Args, PyResult, Value, Vm};

use super::events;
use super::futures::{self, Callback, FutSt};
use super::tasks;

pub const PY: &str = r#"
class TaskGroup:
    def __init__(self):
        self._entered = False
        self._exiting = False
        self._aborting = False
        self._loop = None
        self._parent_task = None
        self._parent_cancel_requested = False
        self._tasks = {}
        self._errors = []
        self._base_error = None
        self._on_completed_fut = None

    def __repr__(self):
        info = ['']
        if self._tasks:
            info.append(f'tasks={len(self._tasks)}')
        if self._errors:
            info.append(f'errors={len(self._errors)}')
        if self._aborting:
            info.append('cancelling')
        elif self._entered:
            info.append('entered')
        info_str = ' '.join(info)
        return f'<TaskGroup{info_str}>'

    async def __aenter__(self):
        if self._entered:
            raise RuntimeError(f"TaskGroup {self!r} has already been entered")
        if self._loop is None:
            self._loop = get_running_loop()
        self._parent_task = current_task()
        if self._parent_task is None:
            raise RuntimeError(f'TaskGroup {self!r} cannot determine the parent task')
        self._entered = True
        return self

    async def __aexit__(self, et, exc, tb):
        self._exiting = True
        if exc is not None and self._is_base_error(exc) and self._base_error is None:
            self._base_error = exc
        propagate_cancellation_error = exc if et is CancelledError else None
        if self._parent_cancel_requested:
            if self._parent_task.uncancel() == 0:
                propagate_cancellation_error = None
        if et is not None:
            if not self._aborting:
                self._abort()
        while self._tasks:
            if self._on_completed_fut is None:
                self._on_completed_fut = self._loop.create_future()
            try:
                await self._on_completed_fut
            except CancelledError as ex:
                if not self._aborting:
                    propagate_cancellation_error = ex
                    self._abort()
            self._on_completed_fut = None
        if self._base_error is not None:
            raise self._base_error
        if propagate_cancellation_error and not self._errors:
            raise propagate_cancellation_error
        if et is not None and et is not CancelledError:
            self._errors.append(exc)
        if self._errors:
            try:
                me = BaseExceptionGroup('unhandled errors in a TaskGroup', self._errors)
                raise me from None
            finally:
                self._errors = None

    def _is_base_error(self, exc):
        return isinstance(exc, (SystemExit, KeyboardInterrupt))

    def _abort(self):
        self._aborting = True
        for t in list(self._tasks.values()):
            if not t.done():
                t.cancel()

    def _on_task_done(self, task):
        self._tasks.pop(id(task), None)
        if self._on_completed_fut is not None and not self._tasks:
            if not self._on_completed_fut.done():
                self._on_completed_fut.set_result(True)
        if task.cancelled():
            return
        exc = task.exception()
        if exc is None:
            return
        self._errors.append(exc)
        if self._is_base_error(exc) and self._base_error is None:
            self._base_error = exc
        if self._parent_task.done():
            return
        if not self._aborting and not self._parent_cancel_requested:
            self._abort()
            self._parent_cancel_requested = True
            self._parent_task.cancel()
"#;

/// The instance attributes the native parts read, as indexes into `FIELDS`.
#[derive(Clone, Copy)]
enum Field {
    Entered,
    Exiting,
    Aborting,
    Tasks,
    Loop,
    OnCompletedFut,
}

const FIELD_NAMES: [&str; 6] = [
    "_entered",
    "_exiting",
    "_aborting",
    "_tasks",
    "_loop",
    "_on_completed_fut",
];

thread_local! {
    /// `FIELD_NAMES` as strings that keep their hash, so a lookup does not hash the name again.
    static FIELDS: Vec<Rc<PyStr>> = FIELD_NAMES.iter().map(|n| Rc::new(PyStr::new(*n))).collect();
}

/// Replaces the Python `create_task` of the `TaskGroup` class in `m` with the native one.
pub fn install(vm: &Vm, m: &Module) {
    let Some(Value::Class(cls)) = m.get("TaskGroup") else {
        return;
    };
    cls.set_attr(
        vm.intern("create_task"),
        vm.native("create_task", create_task),
    );
}

/// An attribute of the group: straight from its instance dict (where `__init__` put it), or
/// through the generic lookup (and its AttributeError) when it is not there.
fn field(vm: &mut Vm, group: &Value, f: Field) -> PyResult<Value> {
    if let Value::Instance(i) = group {
        let found = FIELDS.with(|names| {
            let key = StrRef(&names[f as usize]);
            i.dict.borrow().get(&key).cloned()
        });
        if let Some(v) = found {
            return Ok(v);
        }
    }
    attr::get_attr(vm, group, FIELD_NAMES[f as usize])
}

fn truthy(vm: &mut Vm, v: &Value) -> PyResult<bool> {
    match v {
        Value::Bool(b) => Ok(*b),
        Value::None => Ok(false),
        _ => ops::truthy(vm, v),
    }
}

/// `id(task)`, the key of `_tasks`.
fn task_key(task: &Value) -> Value {
    Value::Int(task.ptr_id().unwrap_or(0) as i64)
}

/// The arguments of `create_task(self, coro, *, name=None, context=None)`, with the errors
/// CPython gives a Python method: (self, coro, name).
fn create_task_args(vm: &Vm, a: Args) -> PyResult<(Value, Value, Value)> {
    const F: &str = "TaskGroup.create_task()";
    let Args { pos, kw } = a;
    if pos.len() > 2 {
        return Err(vm.type_error(format!(
            "{F} takes 2 positional arguments but {} were given",
            pos.len()
        )));
    }
    let mut pos = pos.into_iter();
    let group = pos.next().unwrap_or(Value::None);
    let mut coro = pos.next();
    let mut name = Value::None;
    for (k, v) in kw {
        match &*k.s {
            "name" => name = v,
            "context" => {}
            "coro" if coro.is_none() => coro = Some(v),
            "coro" => {
                return Err(vm.type_error(format!("{F} got multiple values for argument 'coro'")))
            }
            other => {
                return Err(
                    vm.type_error(format!("{F} got an unexpected keyword argument '{other}'"))
                )
            }
        }
    }
    let coro = coro.ok_or_else(|| {
        vm.type_error(format!(
            "{F} missing 1 required positional argument: 'coro'"
        ))
    })?;
    Ok((group, coro, name))
}

/// `TaskGroup.create_task(coro, *, name=None, context=None)`.
fn create_task(vm: &mut Vm, a: Args) -> PyResult<Value> {
    let (group, coro, name) = create_task_args(vm, a)?;
    let entered = field(vm, &group, Field::Entered)?;
    if !truthy(vm, &entered)? {
        return Err(refused(vm, &group, "has not been entered"));
    }
    let tasks_v = field(vm, &group, Field::Tasks)?;
    let exiting = field(vm, &group, Field::Exiting)?;
    if truthy(vm, &exiting)? && !truthy(vm, &tasks_v)? {
        return Err(refused(vm, &group, "is finished"));
    }
    let aborting = field(vm, &group, Field::Aborting)?;
    if truthy(vm, &aborting)? {
        return Err(refused(vm, &group, "is shutting down"));
    }
    let loop_obj = field(vm, &group, Field::Loop)?;
    let task = match events::running() {
        // The loop the group was entered in is running: make the task directly.
        Some(core) if core.obj.borrow().is(&loop_obj) => tasks::new_task(vm, &core, coro, name)?,
        _ => {
            let task = vm.call_method(&loop_obj, "create_task", vec![coro])?;
            if !name.is_none() {
                vm.call_method(&task, "set_name", vec![name])?;
            }
            task
        }
    };
    if futures::is_future(&task) {
        // CPython adds the bound `_on_task_done`; its native part (see `child_done`) is
        // called directly instead, with the group captured.
        let g = group.clone();
        let on_done: futures::NativeCallback = Rc::new(move |vm, t| child_done(vm, &g, t));
        futures::add_callback(vm, &task, Callback::Native(on_done))?;
    } else {
        let on_done = attr::get_attr(vm, &group, "_on_task_done")?;
        vm.call_method(&task, "add_done_callback", vec![on_done])?;
    }
    ops::setitem(vm, &tasks_v, task_key(&task), task.clone())?;
    Ok(task)
}

/// CPython's `RuntimeError(f"TaskGroup {self!r} <what>")`.
fn refused(vm: &mut Vm, group: &Value, what: &str) -> Value {
    match ops::repr(vm, group) {
        Ok(r) => vm.error("RuntimeError", format!("TaskGroup {r} {what}")),
        Err(e) => e,
    }
}

/// The done callback of each child of `group`. A child that returned normally only leaves
/// `_tasks` (and may complete `_on_completed_fut`); that part of the Python `_on_task_done`
/// runs here. Any other outcome calls the Python method, whose first steps then find nothing
/// left to do.
fn child_done(vm: &mut Vm, group: &Value, task: &Value) -> PyResult<()> {
    let succeeded =
        futures::state_of(task) == FutSt::Finished && futures::exception_of(task).is_none();
    let tasks = match field(vm, group, Field::Tasks)? {
        v if succeeded => ops::dict_of(&v),
        _ => None,
    };
    let Some(tasks) = tasks else {
        vm.call_method(group, "_on_task_done", vec![task.clone()])?;
        return Ok(());
    };
    ops::dict_del_in(vm, &tasks, &task_key(task))?;
    let left = tasks.borrow().len();
    if left == 0 {
        let fut = field(vm, group, Field::OnCompletedFut)?;
        if !fut.is_none() {
            let done = vm.call_method(&fut, "done", vec![])?;
            if !truthy(vm, &done)? {
                vm.call_method(&fut, "set_result", vec![Value::Bool(true)])?;
            }
        }
    }
    Ok(())
}
