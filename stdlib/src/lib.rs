//! Eddy's standard library: the built-in modules (math, json, sys, time, ...), written in Rust.
//! Each module is one file; `install` registers them with a VM so `import` finds them.

use eddy_vm::Vm;

pub mod abc;
pub mod asyncio;
pub mod bisect;
pub mod clock;
pub mod collections;
pub mod concurrent;
pub mod contextlib;
pub mod copy;
pub mod dataclasses;
pub mod r#enum;
pub mod functools;
pub mod functools_dispatch;
pub mod future;
pub mod heapq;
pub mod interpreters;
pub mod io;
pub mod itertools;
pub mod json;
pub mod logging;
pub mod math;
pub mod operator;
pub mod os;
pub mod queue;
pub mod random;
pub mod reprlib;
pub mod string;
pub mod sys;
pub mod threading;
pub mod time;
pub mod traceback;
pub mod types;
pub mod typing;
pub mod util;
pub mod warnings;

/// Registers every built-in module with `vm`.
pub fn install(vm: &mut Vm) {
    let modules: &[(&str, eddy_vm::vm::ModuleInit)] = &[
        ("__future__", future::init),
        ("abc", abc::init),
        ("asyncio", asyncio::init),
        ("bisect", bisect::init),
        ("collections", collections::init),
        ("collections.abc", collections::abc_init),
        ("concurrent", concurrent::init),
        ("concurrent.futures", concurrent::init_futures),
        ("contextlib", contextlib::init),
        ("copy", copy::init),
        ("dataclasses", dataclasses::init),
        ("enum", r#enum::init),
        ("functools", functools::init),
        ("heapq", heapq::init),
        ("interpreters", interpreters::init),
        ("io", io::init),
        ("itertools", itertools::init),
        ("json", json::init),
        ("logging", logging::init),
        ("math", math::init),
        ("operator", operator::init),
        ("os", os::init),
        ("queue", queue::init),
        ("random", random::init),
        ("reprlib", reprlib::init),
        ("string", string::init),
        ("sys", sys::init),
        ("threading", threading::init),
        ("time", time::init),
        ("traceback", traceback::init),
        ("types", types::init),
        ("typing", typing::init),
        ("warnings", warnings::init),
    ];
    for (name, init) in modules {
        vm.native_modules.insert(name.to_string(), *init);
    }
}
