//! The parts of asyncio most scripts never touch — streams and subprocesses, ~900 lines of
//! embedded Python, and the rarer 3.11 API of runners.rs — are compiled on first use instead of at `import asyncio`, which they would
//! make about twice as slow (~16M of its ~30M instructions). A module `__getattr__` (PEP 562)
//! on `asyncio`, `asyncio.streams` and `asyncio.subprocess` loads them when a name is missing,
//! and stubs stand in for the loop methods they define until then.

use std::rc::Rc;

use eddy_vm::objects::function::Args;
use eddy_vm::objects::module::Module;
use eddy_vm::{PyResult, Value, Vm};

use super::{streams, subprocess};

/// Set in the asyncio module once the lazy parts ran (per module, so each VM loads its own).
const LOADED: &str = "_lazy_parts_loaded";

/// Loop methods defined by the lazy Python, with the module function each one is.
const LOOP_METHODS: [(&str, &str); 3] = [
    ("create_connection", "_loop_create_connection"),
    ("create_server", "_loop_create_server"),
    ("shutdown_asyncgens", "_loop_shutdown_asyncgens"),
];

/// The public names the lazy parts define (CPython's `__all__` of asyncio.streams, .subprocess,
/// .protocols, .exceptions and .base_events has them), so `from asyncio import *` finds them.
const LAZY_PUBLIC: [&str; 16] = [
    "Barrier",
    "BaseProtocol",
    "BrokenBarrierError",
    "IncompleteReadError",
    "LimitOverrunError",
    "Protocol",
    "Runner",
    "Server",
    "StreamReader",
    "StreamReaderProtocol",
    "StreamWriter",
    "create_subprocess_exec",
    "create_subprocess_shell",
    "open_connection",
    "run_coroutine_threadsafe",
    "start_server",
];

/// Hooks the lazy parts into `m` (asyncio) and its `streams` and `subprocess` submodules, and
/// gives `m` an `__all__`: its public names now plus the lazy ones.
pub fn install(vm: &Vm, m: &Rc<Module>, subprocess_module: &Rc<Module>) {
    let mut all: Vec<Value> = m
        .dict
        .borrow()
        .iter()
        .filter(|(k, v)| !k.0.s.starts_with('_') && !matches!(v, Value::Module(_)))
        .map(|(k, _)| Value::Str(k.0.clone()))
        .collect();
    all.extend(LAZY_PUBLIC.iter().map(|name| Value::str(name)));
    m.set("__all__", Value::list(all));
    let asyncio = Value::Module(m.clone());
    m.set(
        "__getattr__",
        vm.native_with("__getattr__", module_getattr, asyncio.clone()),
    );
    let streams_module = Rc::new(Module::new("asyncio.streams"));
    m.set("streams", Value::Module(streams_module.clone()));
    for sub in [&streams_module, subprocess_module] {
        let data = Value::tuple(vec![asyncio.clone(), Value::Module(sub.clone())]);
        sub.set(
            "__getattr__",
            vm.native_with("__getattr__", submodule_getattr, data),
        );
    }
    let loop_cls = super::classes().event_loop.clone();
    for (method, function) in LOOP_METHODS {
        let data = Value::tuple(vec![asyncio.clone(), Value::str(function)]);
        loop_cls.set_attr(
            vm.intern(method),
            vm.native_with(method, loop_method_stub, data),
        );
    }
}

/// Compiles and runs the lazy parts into the asyncio module, once.
pub fn ensure_loaded(vm: &mut Vm, m: &Rc<Module>) -> PyResult<()> {
    if m.get(LOADED).is_some() {
        return Ok(());
    }
    // Set first: the code run below looks names up in the module and must not recurse here.
    m.set(LOADED, Value::Bool(true));
    for (file, src) in [
        ("<asyncio.streams>", streams::PY),
        ("<asyncio.subprocess>", subprocess::PY),
        ("<asyncio.runners>", super::runners::PY),
    ] {
        let code = eddy_vm::import::compile_source(vm, file, src)?;
        vm.run_module_code(code, m.clone())?;
    }
    streams::export(vm, m);
    super::runners::export(vm, m);
    if let Some(Value::Module(sub)) = m.get("subprocess") {
        subprocess::export(m, &sub);
    }
    Ok(())
}

fn module_of(v: &Value) -> Option<&Rc<Module>> {
    match v {
        Value::Module(m) => Some(m),
        _ => None,
    }
}

/// Looks `name` up in `m` after loading the lazy parts; AttributeError as for any module.
fn lookup_after_load(
    vm: &mut Vm,
    asyncio: &Rc<Module>,
    m: &Module,
    name: &Value,
) -> PyResult<Value> {
    ensure_loaded(vm, asyncio)?;
    let text = eddy_vm::ops::to_str(vm, name)?;
    m.get(&text).ok_or_else(|| {
        vm.attribute_error(format!("module '{}' has no attribute '{text}'", m.name.s))
    })
}

/// `asyncio.__getattr__(name)`; bound data: the asyncio module.
fn module_getattr(vm: &mut Vm, a: Args) -> PyResult<Value> {
    crate::util::arity(vm, "__getattr__", &a, 2, 2)?;
    let Some(m) = module_of(&a.pos[0]).cloned() else {
        return Err(vm.type_error("asyncio.__getattr__ lost its module"));
    };
    lookup_after_load(vm, &m, &m, &a.pos[1])
}

/// `asyncio.streams.__getattr__` and `asyncio.subprocess.__getattr__`; bound data: (asyncio,
/// the submodule).
fn submodule_getattr(vm: &mut Vm, a: Args) -> PyResult<Value> {
    crate::util::arity(vm, "__getattr__", &a, 2, 2)?;
    let (asyncio, sub) = match &a.pos[0] {
        Value::Tuple(t) if t.len() == 2 => (module_of(&t[0]).cloned(), module_of(&t[1]).cloned()),
        _ => (None, None),
    };
    let (Some(asyncio), Some(sub)) = (asyncio, sub) else {
        return Err(vm.type_error("submodule __getattr__ lost its modules"));
    };
    lookup_after_load(vm, &asyncio, &sub, &a.pos[1])
}

/// A loop method the lazy parts define: loads them (which replaces this stub on the class)
/// and calls the real one. Bound data: (asyncio, the module function's name); then the loop.
fn loop_method_stub(vm: &mut Vm, mut a: Args) -> PyResult<Value> {
    let data = a.pos.remove(0);
    let (asyncio, function) = match &data {
        Value::Tuple(t) if t.len() == 2 => (module_of(&t[0]).cloned(), t[1].clone()),
        _ => (None, Value::None),
    };
    let Some(asyncio) = asyncio else {
        return Err(vm.type_error("loop method stub lost its module"));
    };
    let real = lookup_after_load(vm, &asyncio, &asyncio, &function)?;
    vm.call_args(&real, a)
}
