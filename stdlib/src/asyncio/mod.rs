//! `asyncio`, native: an event loop with CPython's callback ordering (events.rs), Future and
//! Task (futures.rs, tasks.rs), and the coroutine-level helpers (locks.rs, queues.rs,
//! timeouts.rs) whose bodies are short Python run over the native core, as CPython splits
//! `_asyncio` (C) from `asyncio/*.py`. TaskGroup is native (taskgroups.rs), as it runs code
//! for every child.

use std::cell::RefCell;
use std::rc::Rc;

use eddy_vm::objects::class::{BuiltinKind, Class};
use eddy_vm::objects::module::Module;
use eddy_vm::{PyResult, Value, Vm};

pub mod asyncgens;
pub mod callbacks;
pub mod events;
pub mod executor;
pub mod futures;
pub mod interrupt;
pub mod lazy;
pub mod locks;
pub mod native_coro;
pub mod parking;
pub mod primitives;
pub mod queues;
pub mod reactor;
pub mod registry;
pub mod runners;
pub mod sleep;
pub mod streams;
pub mod subprocess;
pub mod taskgroup_exit;
pub mod taskgroups;
pub mod tasks;
pub mod tasktree;
pub mod timeouts;
pub mod transport;

/// The classes Rust code needs to make instances of or test against.
pub struct Classes {
    pub future: Rc<Class>,
    pub task: Rc<Class>,
    pub future_iter: Rc<Class>,
    pub handle: Rc<Class>,
    pub timer_handle: Rc<Class>,
    pub event_loop: Rc<Class>,
    pub sleep0: Rc<Class>,
    pub native_coro: Rc<Class>,
    /// What an awaited-at-once native returns when it is already finished (native_coro.rs).
    pub finished: Rc<Class>,
    pub finished_true: Value,
    pub finished_none: Value,
    /// What the coroutine of a task parked on a primitive awaits (parking.rs).
    pub park_token: Value,
    pub cancelled_error: Rc<Class>,
    pub invalid_state: Rc<Class>,
    pub queue_empty: Rc<Class>,
    pub queue_full: Rc<Class>,
    pub event: Rc<Class>,
}

thread_local! {
    static CLASSES: RefCell<Option<Rc<Classes>>> = const { RefCell::new(None) };
}

/// The asyncio classes (the module is initialised before any of its functions can run).
pub fn classes() -> Rc<Classes> {
    CLASSES
        .with(|c| c.borrow().clone())
        .expect("asyncio initialised")
}

fn exception_class(vm: &Vm, name: &str, base: &str) -> Rc<Class> {
    let cls = eddy_vm::types::new_class(
        name,
        vec![vm.exc_class(base)],
        BuiltinKind::BaseException,
        true,
    );
    cls.set_attr(vm.intern("__module__"), Value::str("asyncio.exceptions"));
    cls
}

pub fn init(vm: &mut Vm) -> PyResult<Rc<Module>> {
    let m = Rc::new(Module::new("asyncio"));
    let cancelled_error = exception_class(vm, "CancelledError", "BaseException");
    let invalid_state = exception_class(vm, "InvalidStateError", "Exception");
    for (name, cls) in [
        ("CancelledError", &cancelled_error),
        ("InvalidStateError", &invalid_state),
    ] {
        m.set(name, Value::Class(cls.clone()));
    }
    let [queue_empty, queue_full] = ["QueueEmpty", "QueueFull"].map(|name| {
        let cls = exception_class(vm, name, "Exception");
        cls.set_attr(vm.intern("__module__"), Value::str("asyncio.queues"));
        m.set(name, Value::Class(cls.clone()));
        cls
    });
    m.set("TimeoutError", Value::Class(vm.exc_class("TimeoutError")));
    let future = futures::future_class(vm);
    let handle = events::handle_class(vm);
    let finished = native_coro::finished_class(vm);
    let classes = Classes {
        task: tasks::task_class(vm, &future),
        future_iter: futures::future_iter_class(vm),
        timer_handle: events::timer_handle_class(vm, &handle),
        handle,
        event_loop: events::loop_class(vm),
        sleep0: tasks::sleep0_class(vm),
        native_coro: native_coro::native_coro_class(vm),
        finished: finished.clone(),
        finished_true: native_coro::finished_with(&finished, Value::Bool(true)),
        finished_none: native_coro::finished_with(&finished, Value::None),
        park_token: native_coro::finished_with(&parking::token_class(vm), Value::None),
        future,
        cancelled_error,
        invalid_state,
        queue_empty,
        queue_full,
        event: primitives::event_class(vm),
    };
    m.set("Future", Value::Class(classes.future.clone()));
    m.set("Task", Value::Class(classes.task.clone()));
    CLASSES.with(|c| *c.borrow_mut() = Some(Rc::new(classes)));
    events::install(vm, &m);
    tasks::install(vm, &m);
    primitives::install(vm, &m);
    queues::install(vm, &m);
    streams::install(vm, &m);
    let sub = subprocess::install(vm, &m);
    executor::install(vm, &m);
    runners::install(vm, &m);
    for (file, src) in [
        ("<asyncio.tasks>", tasks::PY),
        ("<asyncio.locks>", locks::PY),
        ("<asyncio.timeouts>", timeouts::PY),
        ("<asyncio.executor>", executor::PY),
    ] {
        let code = eddy_vm::import::compile_source(vm, file, src)?;
        vm.run_module_code(code, m.clone())?;
    }
    executor::export(vm, &m);
    taskgroups::install(vm, &m);
    // Streams and subprocesses are compiled when first used (lazy.rs).
    lazy::install(vm, &m, &sub);
    Ok(m)
}
