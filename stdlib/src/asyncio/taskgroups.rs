//! `asyncio.TaskGroup`, native, with the semantics of CPython 3.11's `asyncio/taskgroups.py`:
//! the first failing child cancels its siblings and the body; errors are raised together as an
//! ExceptionGroup; KeyboardInterrupt and SystemExit are raised as themselves.
//!
//! This file owns the group's state, `create_task` and what runs when a child finishes (both
//! once per child, so they are kept cheap: no attribute lookups, no script calls). The
//! `async with` part, `__aenter__` and `__aexit__`, is in taskgroup_exit.rs.

use std::cell::RefCell;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::rc::{Rc, Weak};

use eddy_vm::objects::class::{Class, Instance};
use eddy_vm::objects::module::Module;
use eddy_vm::{ops, Args, PyResult, Value, Vm};

use super::futures::{self, Callback};
use super::taskgroup_exit;
use super::{events, tasks};
use crate::native_state;
use crate::util;

/// Hashes a task's address: already unique, so one multiply spreads it over the table.
#[derive(Default)]
pub struct AddrHasher(u64);

impl Hasher for AddrHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.write_usize(self.0 as usize ^ *b as usize);
        }
    }
    fn write_usize(&mut self, n: usize) {
        // Objects are 16-byte aligned: drop the bits that are always zero.
        self.0 = ((n >> 4) as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

/// The group's tasks not yet done, by address (CPython's `_tasks` set).
pub type TaskSet = HashMap<usize, Value, BuildHasherDefault<AddrHasher>>;

/// What CPython keeps in the group's attributes.
#[derive(Default)]
pub struct GroupState {
    pub entered: bool,
    pub exiting: bool,
    pub aborting: bool,
    /// The loop `__aenter__` found running.
    pub loop_obj: Option<Value>,
    pub parent_task: Option<Value>,
    /// The group cancelled its parent task (a child failed) and `__aexit__` must uncancel it.
    pub parent_cancel_requested: bool,
    pub tasks: TaskSet,
    pub errors: Vec<Value>,
    /// The first KeyboardInterrupt or SystemExit, raised as itself by `__aexit__`.
    pub base_error: Option<Value>,
    /// The future `__aexit__` waits on; completed when the last task finishes.
    pub on_completed_fut: Option<Value>,
}

native_state!(
    GroupState,
    |s, f| {
        s.loop_obj
            .iter()
            .chain(s.parent_task.iter())
            .chain(s.tasks.values())
            .chain(s.errors.iter())
            .chain(s.base_error.iter())
            .chain(s.on_completed_fut.iter())
            .for_each(&mut *f);
    },
    |c, out| {
        out.extend(c.loop_obj.take());
        out.extend(c.parent_task.take());
        out.extend(c.tasks.drain().map(|(_, t)| t));
        out.append(&mut c.errors);
        out.extend(c.base_error.take());
        out.extend(c.on_completed_fut.take());
    }
);

thread_local! {
    /// Groups whose `__aexit__` is running, for the task tree (see `waiting_children`).
    static EXITING: RefCell<Vec<Weak<Instance>>> = const { RefCell::new(Vec::new()) };
}

/// Runs `f` on the state of `group` (None if it is not a TaskGroup).
pub fn with<R>(group: &Value, f: impl FnOnce(&mut GroupState) -> R) -> Option<R> {
    util::with_state(group, f)
}

/// Like `with`, with CPython's TypeError for a method called on something else.
fn state<R>(vm: &Vm, group: &Value, f: impl FnOnce(&mut GroupState) -> R) -> PyResult<R> {
    util::state(vm, group, "TaskGroup", f)
}

fn task_key(task: &Value) -> usize {
    task.ptr_id().unwrap_or(0)
}

/// `asyncio.TaskGroup`, added to the module `m`.
pub fn install(vm: &Vm, m: &Module) {
    let cls = group_class(vm);
    m.set("TaskGroup", Value::Class(cls));
}

fn group_class(vm: &Vm) -> Rc<Class> {
    let cls = util::native_class(vm, "TaskGroup", "asyncio.taskgroups", None, |vm, mut a| {
        let cls = util::new_cls(vm, &mut a)?;
        Ok(util::new_native(&cls, GroupState::default()))
    });
    util::methods(
        vm,
        &cls,
        &[
            ("__init__", init),
            ("__repr__", |vm, a| {
                let r = state(vm, &a.pos[0], |s| repr(s))?;
                Ok(Value::string(r))
            }),
            ("__aenter__", taskgroup_exit::aenter),
            ("__aexit__", taskgroup_exit::aexit),
            ("create_task", create_task),
            ("_abort", |vm, a| {
                state(vm, &a.pos[0], |_| ())?;
                abort(vm, &a.pos[0])?;
                Ok(Value::None)
            }),
            ("_on_task_done", |vm, a| {
                util::arity(vm, "_on_task_done", &a, 2, 2)?;
                state(vm, &a.pos[0], |_| ())?;
                child_done(vm, &a.pos[0], &a.pos[1])?;
                Ok(Value::None)
            }),
            ("_is_base_error", |vm, a| {
                util::arity(vm, "_is_base_error", &a, 2, 2)?;
                Ok(Value::Bool(is_base_error(vm, &a.pos[1])))
            }),
        ],
    );
    cls
}

/// `TaskGroup()`: takes no arguments; (re)sets the state as CPython's `__init__` does.
fn init(vm: &mut Vm, a: Args) -> PyResult<Value> {
    if let Some((k, _)) = a.kw.first() {
        return Err(vm.type_error(format!(
            "TaskGroup.__init__() got an unexpected keyword argument '{}'",
            k.s
        )));
    }
    if a.pos.len() > 1 {
        return Err(vm.type_error(format!(
            "TaskGroup.__init__() takes 1 positional argument but {} were given",
            a.pos.len()
        )));
    }
    state(vm, &a.pos[0], |s| *s = GroupState::default())?;
    Ok(Value::None)
}

/// `<TaskGroup tasks=2 errors=1 cancelling>`, as CPython's `__repr__`.
pub fn repr(s: &GroupState) -> String {
    let mut info = String::new();
    if !s.tasks.is_empty() {
        info.push_str(&format!(" tasks={}", s.tasks.len()));
    }
    if !s.errors.is_empty() {
        info.push_str(&format!(" errors={}", s.errors.len()));
    }
    if s.aborting {
        info.push_str(" cancelling");
    } else if s.entered {
        info.push_str(" entered");
    }
    format!("<TaskGroup{info}>")
}

/// CPython's `RuntimeError(f"TaskGroup {self!r} <what>")`.
pub fn refused(vm: &mut Vm, group: &Value, what: &str) -> Value {
    match ops::repr(vm, group) {
        Ok(r) => vm.error("RuntimeError", format!("TaskGroup {r} {what}")),
        Err(e) => e,
    }
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
    let (entered, finished, aborting, loop_obj) = state(vm, &group, |s| {
        (
            s.entered,
            s.exiting && s.tasks.is_empty(),
            s.aborting,
            s.loop_obj.clone(),
        )
    })?;
    if !entered {
        return Err(refused(vm, &group, "has not been entered"));
    }
    if finished {
        return Err(refused(vm, &group, "is finished"));
    }
    if aborting {
        return Err(refused(vm, &group, "is shutting down"));
    }
    let loop_obj = loop_obj.unwrap_or(Value::None);
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
        // CPython adds the bound `_on_task_done`; the native callback runs the same code.
        let g = group.clone();
        let on_done: futures::NativeCallback = Rc::new(move |vm, t| child_done(vm, &g, t));
        futures::add_callback(vm, &task, Callback::Native(on_done))?;
    } else {
        let on_done = eddy_vm::attr::get_attr(vm, &group, "_on_task_done")?;
        vm.call_method(&task, "add_done_callback", vec![on_done])?;
    }
    with(&group, |s| s.tasks.insert(task_key(&task), task.clone()));
    Ok(task)
}

/// `isinstance(exc, (SystemExit, KeyboardInterrupt))`.
pub fn is_base_error(vm: &Vm, exc: &Value) -> bool {
    vm.exc_matches(exc, "SystemExit") || vm.exc_matches(exc, "KeyboardInterrupt")
}

fn task_done(vm: &mut Vm, t: &Value) -> PyResult<bool> {
    if futures::is_future(t) {
        return Ok(futures::is_done(t));
    }
    let r = vm.call_method(t, "done", vec![])?;
    ops::truthy(vm, &r)
}

fn task_cancelled(vm: &mut Vm, t: &Value) -> PyResult<bool> {
    if futures::is_future(t) {
        return Ok(futures::is_cancelled(t));
    }
    let r = vm.call_method(t, "cancelled", vec![])?;
    ops::truthy(vm, &r)
}

fn task_exception(vm: &mut Vm, t: &Value) -> PyResult<Value> {
    if futures::is_future(t) {
        return futures::exception(vm, t);
    }
    vm.call_method(t, "exception", vec![])
}

fn cancel(vm: &mut Vm, t: &Value) -> PyResult<()> {
    if futures::is_future(t) {
        tasks::cancel(vm, t, Value::None)?;
    } else {
        vm.call_method(t, "cancel", vec![])?;
    }
    Ok(())
}

/// The tasks of `s`, oldest first (CPython iterates a set; creation order is what it mostly
/// shows, and is deterministic).
fn tasks_in_order(s: &GroupState) -> Vec<Value> {
    let mut ts: Vec<(u64, Value)> = s
        .tasks
        .values()
        .map(|t| {
            let id = futures::with_task(t, |_, d| d.id);
            (id.unwrap_or(u64::MAX), t.clone())
        })
        .collect();
    ts.sort_by_key(|(id, _)| *id);
    ts.into_iter().map(|(_, t)| t).collect()
}

/// `_abort`: cancel every task not yet done.
pub fn abort(vm: &mut Vm, group: &Value) -> PyResult<()> {
    let ts = with(group, |s| {
        s.aborting = true;
        tasks_in_order(s)
    })
    .unwrap_or_default();
    for t in ts {
        if !task_done(vm, &t)? {
            cancel(vm, &t)?;
        }
    }
    Ok(())
}

/// `_on_task_done(task)`: the done callback of each child of `group`.
fn child_done(vm: &mut Vm, group: &Value, task: &Value) -> PyResult<()> {
    let completed = with(group, |s| {
        s.tasks.remove(&task_key(task));
        if s.tasks.is_empty() {
            s.on_completed_fut.clone()
        } else {
            None
        }
    })
    .flatten();
    if let Some(fut) = completed {
        if !task_done(vm, &fut)? {
            if futures::is_future(&fut) {
                futures::set_result(vm, &fut, Value::Bool(true))?;
            } else {
                vm.call_method(&fut, "set_result", vec![Value::Bool(true)])?;
            }
        }
    }
    if task_cancelled(vm, task)? {
        return Ok(());
    }
    let exc = task_exception(vm, task)?;
    if exc.is_none() {
        return Ok(());
    }
    let base = is_base_error(vm, &exc);
    let Some((parent, abort_now)) = with(group, |s| {
        s.errors.push(exc.clone());
        if base && s.base_error.is_none() {
            s.base_error = Some(exc.clone());
        }
        (
            s.parent_task.clone(),
            !s.aborting && !s.parent_cancel_requested,
        )
    }) else {
        return Ok(());
    };
    let Some(parent) = parent else {
        return Ok(());
    };
    // The parent already finished: CPython reports this to the loop's exception handler.
    if task_done(vm, &parent)? {
        return Ok(());
    }
    if abort_now {
        // Cancel the body too; `__aexit__` uncancels the parent (see its comments).
        abort(vm, group)?;
        with(group, |s| s.parent_cancel_requested = true);
        vm.call_method(&parent, "cancel", vec![])?;
    }
    Ok(())
}

/// Records that `group`'s `__aexit__` is running (until `exit_done`).
pub fn exit_started(group: &Value) {
    if let Value::Instance(i) = group {
        EXITING.with(|e| e.borrow_mut().push(Rc::downgrade(i)));
    }
}

/// `group`'s `__aexit__` is over (finished, or its coroutine was dropped).
pub fn exit_done(group: &Value) {
    let Value::Instance(i) = group else { return };
    EXITING.with(|e| {
        let mut e = e.borrow_mut();
        if let Some(at) = e.iter().position(|w| w.as_ptr() == Rc::as_ptr(i)) {
            e.swap_remove(at);
        }
    });
}

/// The children `task` waits for at the end of an `async with TaskGroup()` block (the task
/// tree shows them under it).
pub fn waiting_children(task: &Value) -> Vec<Value> {
    let groups: Vec<Value> = EXITING.with(|e| {
        e.borrow()
            .iter()
            .filter_map(|w| w.upgrade().map(Value::Instance))
            .collect()
    });
    groups
        .iter()
        .filter_map(|g| {
            with(g, |s| match &s.parent_task {
                Some(p) if p.is(task) => tasks_in_order(s),
                _ => Vec::new(),
            })
        })
        .flatten()
        .collect()
}
