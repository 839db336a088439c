//! [`Vm`]: the embedding entry point. It owns a raw VM with the standard library, a persistent
//! `__main__` module whose globals survive from one run to the next, and the host's settings
//! (sandbox, limits, output). Running, evaluating, calling script functions and reading or
//! setting globals are here; registering host functions, modules and types is in `register.rs`.

use std::path::Path;
use std::rc::Rc;

use eddy_vm::objects::module::Module;
use eddy_vm::{attr, PyResult, Value};

use super::builder::Builder;
use super::convert::{FromValue, IntoValue};
use super::limits::LimitState;
use super::output::Captured;
use super::RawVm;
use crate::Error;

/// An embedded Eddy interpreter.
///
/// `Vm` is `!Send` (it is built on `Rc`); [`VmHandle`](crate::VmHandle) runs one on its own
/// thread for multi-threaded hosts. A VM made with [`Vm::new`] is sandboxed: scripts can compute,
/// print and use asyncio, but touching files, the network, subprocesses or environment
/// variables raises `PermissionError` until the host grants it (see [`Builder`]).
///
/// ```
/// let mut vm = eddy::Vm::new();
/// vm.register_fn("add", |a: i64, b: i64| a + b);
/// vm.run("total = add(2, 3) * 10").unwrap();
/// assert_eq!(vm.get_global::<i64>("total").unwrap(), 50);
/// ```
pub struct Vm {
    pub(crate) raw: RawVm,
    pub(crate) main: Rc<Module>,
    pub(crate) limits: LimitState,
    pub(crate) captured: Option<Captured>,
    /// How many sources were run, for the `<eval-N>` names in tracebacks.
    runs: u64,
}

impl Default for Vm {
    fn default() -> Self {
        Vm::new()
    }
}

impl Vm {
    /// A sandboxed VM with the standard library and no limits.
    pub fn new() -> Vm {
        Builder::new().build()
    }

    /// Settings beyond the defaults: capabilities, limits, output, virtual time.
    pub fn builder() -> Builder {
        Builder::new()
    }

    pub(crate) fn from_parts(raw: RawVm, limits: LimitState, captured: Option<Captured>) -> Vm {
        let main = Rc::new(Module::new("__main__"));
        main.set("__file__", Value::str("<host>"));
        let mut vm = Vm {
            raw,
            main: main.clone(),
            limits,
            captured,
            runs: 0,
        };
        vm.raw
            .modules
            .insert("__main__".into(), Value::Module(main));
        vm
    }

    /// The underlying VM, for what this API does not cover (the `eddy_vm` crate's API).
    pub fn raw(&mut self) -> &mut RawVm {
        &mut self.raw
    }

    /// Runs source text in `__main__` (its globals persist across runs). A top level that
    /// awaits runs under an implicit `asyncio.run`.
    pub fn run(&mut self, source: &str) -> Result<(), Error> {
        self.runs += 1;
        let name = format!("<eval-{}>", self.runs);
        self.run_named(&name, source)
    }

    /// Runs source text in `__main__`, naming it `name` in tracebacks.
    pub fn run_named(&mut self, name: &str, source: &str) -> Result<(), Error> {
        let code = crate::compile(name, source)?;
        let main = self.main.clone();
        // Non-daemon script threads finish within the run (and its limits), as at a script's end.
        self.guarded(move |raw| {
            crate::run_code_in(raw, code, main)?;
            eddy_stdlib::threading::shutdown(raw).map(|_| Value::None)
        })
        .map(|_| ())
    }

    /// Runs a script file in `__main__`; its directory is searched for imports. Reading the
    /// file is the host's act, so it needs no capability.
    pub fn run_file(&mut self, path: impl AsRef<Path>) -> Result<(), Error> {
        let path = path.as_ref();
        let text = crate::read_source(path)?;
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            self.raw.search_path.insert(0, dir.to_path_buf());
        }
        self.main
            .set("__file__", Value::string(path.display().to_string()));
        self.run_named(&path.display().to_string(), &text)
    }

    /// Evaluates an expression in `__main__`'s globals and converts its value.
    ///
    /// ```
    /// let mut vm = eddy::Vm::new();
    /// assert_eq!(vm.eval::<String>("'-'.join(['a', 'b'])").unwrap(), "a-b");
    /// ```
    pub fn eval<T: FromValue>(&mut self, expr: &str) -> Result<T, Error> {
        let v = self.eval_value(expr)?;
        self.convert(&v)
    }

    /// Evaluates an expression to a raw script value.
    pub fn eval_value(&mut self, expr: &str) -> Result<Value, Error> {
        const SLOT: &str = "__eddy_eval_result__";
        self.run(&format!("{SLOT} = (\n{expr}\n)\n"))?;
        let v = self.main.get(SLOT).unwrap_or(Value::None);
        self.main.remove(SLOT);
        Ok(v)
    }

    /// Reads a global of `__main__`, converted; a missing one is a `NameError`.
    pub fn get_global<T: FromValue>(&mut self, name: &str) -> Result<T, Error> {
        let v = self.global_value(name)?;
        self.convert(&v)
    }

    /// A global of `__main__` as a raw value.
    pub fn global_value(&mut self, name: &str) -> Result<Value, Error> {
        match self.main.get(name) {
            Some(v) => Ok(v),
            None => {
                let e = self
                    .raw
                    .error("NameError", format!("name '{name}' is not defined"));
                Err(Error::from_exception(&mut self.raw, e))
            }
        }
    }

    /// Sets a global of `__main__`.
    pub fn set_global(&mut self, name: &str, value: impl IntoValue) -> Result<(), Error> {
        let v = self.to_value(value)?;
        self.main.set(name, v);
        Ok(())
    }

    /// Converts a Rust value to a script value.
    pub fn to_value(&mut self, value: impl IntoValue) -> Result<Value, Error> {
        value
            .into_value(&mut self.raw)
            .map_err(|e| Error::from_exception(&mut self.raw, e))
    }

    /// Converts a script value to a Rust value.
    pub fn convert<T: FromValue>(&mut self, v: &Value) -> Result<T, Error> {
        T::from_value(&mut self.raw, v).map_err(|e| Error::from_exception(&mut self.raw, e))
    }

    /// Calls a global function of `__main__` (or a builtin) by name with Rust arguments.
    /// Calling an `async def` function runs its coroutine to completion on an event loop.
    ///
    /// ```
    /// let mut vm = eddy::Vm::new();
    /// vm.run("def greet(name, n):\n    return f'hi {name}' * n\n").unwrap();
    /// assert_eq!(vm.call::<String>("greet", ("ann", 2)).unwrap(), "hi annhi ann");
    /// vm.run("async def twice(x):\n    return x * 2\n").unwrap();
    /// assert_eq!(vm.call::<i64>("twice", (21,)).unwrap(), 42);
    /// ```
    pub fn call<T: FromValue>(&mut self, func: &str, args: impl IntoArgs) -> Result<T, Error> {
        let f = match self.main.get(func).or_else(|| self.raw.builtins.get(func)) {
            Some(f) => f,
            None => self.global_value(func)?,
        };
        self.call_value(&f, args)
    }

    /// Calls any callable script value (a function a script handed to the host, a method).
    /// A coroutine result (an `async def` function) is run to completion first.
    pub fn call_value<T: FromValue>(
        &mut self,
        func: &Value,
        args: impl IntoArgs,
    ) -> Result<T, Error> {
        let args = args
            .into_args(&mut self.raw)
            .map_err(|e| Error::from_exception(&mut self.raw, e))?;
        let func = func.clone();
        let v = self.guarded(move |raw| {
            let r = raw.call(&func, args)?;
            if eddy_stdlib::asyncio::tasks::is_coroutine(&r) {
                return run_coroutine(raw, r);
            }
            Ok(r)
        })?;
        self.convert(&v)
    }

    /// Evaluates `expr` to a coroutine (`main()`) and runs it on a new event loop, as
    /// `asyncio.run` does: the async entry point of a script.
    ///
    /// ```
    /// let mut vm = eddy::Vm::new();
    /// vm.run("import asyncio\nasync def main():\n    await asyncio.sleep(0)\n    return 'done'\n").unwrap();
    /// assert_eq!(vm.run_async::<String>("main()").unwrap(), "done");
    /// ```
    pub fn run_async<T: FromValue>(&mut self, expr: &str) -> Result<T, Error> {
        let coro = self.eval_value(expr)?;
        let v = self.guarded(move |raw| run_coroutine(raw, coro))?;
        self.convert(&v)
    }

    /// Runs `f` with limits armed, turning an escaping exception into an [`Error`] that says
    /// which limit (if any) stopped the script.
    pub(crate) fn guarded(
        &mut self,
        f: impl FnOnce(&mut RawVm) -> PyResult<Value>,
    ) -> Result<Value, Error> {
        self.limits.arm(&mut self.raw);
        let r = f(&mut self.raw);
        let tripped = self.limits.disarm(&mut self.raw);
        self.raw.flush();
        r.map_err(|e| {
            let mut err = Error::from_exception(&mut self.raw, e);
            if let (Some(limit), Error::Exception(u)) = (tripped, &mut err) {
                u.limit = Some(limit);
            }
            err
        })
    }

    /// What scripts printed to stdout since the last call, when output is captured.
    pub fn take_stdout(&mut self) -> String {
        self.raw.flush();
        self.captured
            .as_ref()
            .map(|c| c.take_stdout())
            .unwrap_or_default()
    }

    /// What scripts printed to stderr since the last call, when output is captured.
    pub fn take_stderr(&mut self) -> String {
        self.captured
            .as_ref()
            .map(|c| c.take_stderr())
            .unwrap_or_default()
    }

    /// The `__main__` module's attribute `name` on a value (`obj.name`).
    pub fn get_attr(&mut self, obj: &Value, name: &str) -> Result<Value, Error> {
        attr::get_attr(&mut self.raw, obj, name)
            .map_err(|e| Error::from_exception(&mut self.raw, e))
    }
}

/// `asyncio.run(coro)`, or an error if a loop is already running on this thread.
fn run_coroutine(raw: &mut RawVm, coro: Value) -> PyResult<Value> {
    let asyncio = eddy_vm::import::import_module(raw, "asyncio")?;
    let run = attr::get_attr(raw, &asyncio, "run")?;
    raw.call(&run, vec![coro])
}

/// Arguments for a script call: a tuple of [`IntoValue`]s, `()` for none, or a `Vec<Value>`.
pub trait IntoArgs {
    /// The positional arguments.
    fn into_args(self, vm: &mut RawVm) -> PyResult<Vec<Value>>;
}

impl IntoArgs for Vec<Value> {
    fn into_args(self, _vm: &mut RawVm) -> PyResult<Vec<Value>> {
        Ok(self)
    }
}

impl IntoArgs for () {
    fn into_args(self, _vm: &mut RawVm) -> PyResult<Vec<Value>> {
        Ok(Vec::new())
    }
}

macro_rules! args_impls {
    ($($t:ident $i:tt),+) => {
        impl<$($t: IntoValue),+> IntoArgs for ($($t,)+) {
            fn into_args(self, vm: &mut RawVm) -> PyResult<Vec<Value>> {
                Ok(vec![$(self.$i.into_value(vm)?),+])
            }
        }
    };
}

args_impls!(A 0);
args_impls!(A 0, B 1);
args_impls!(A 0, B 1, C 2);
args_impls!(A 0, B 1, C 2, D 3);
args_impls!(A 0, B 1, C 2, D 3, E 4);
args_impls!(A 0, B 1, C 2, D 3, E 4, F 5);
