//! Registering host code with a [`Vm`]: plain and async Rust functions as builtins, raw native
//! functions, and host modules (`import host`) with functions, async functions, constants and
//! types.

use std::rc::Rc;

use eddy_vm::objects::function::NativeFn;
use eddy_vm::objects::module::Module;
use eddy_vm::Value;

use super::async_fn::AsyncHostFn;
use super::class::ClassBuilder;
use super::convert::IntoValue;
use super::host_fn::{erase, native_value, HostFn};
use super::{RawVm, Vm};
use crate::Error;

/// A script function value calling the async host function `f`.
fn async_value<M, F: AsyncHostFn<M>>(name: &str, f: F) -> Value {
    native_value(
        name,
        Rc::new(move |vm: &mut RawVm, name: &str, args: &[Value]| f.start(vm, name, args)),
    )
}

impl Vm {
    /// Makes a Rust function callable from every script as a builtin named `name`. Arguments
    /// and the result convert through [`FromValue`](crate::FromValue) and
    /// [`HostResult`](crate::HostResult); return a `Result` to raise.
    ///
    /// ```
    /// let mut vm = eddy::Vm::new();
    /// vm.register_fn("shout", |s: String, times: Option<usize>| s.to_uppercase().repeat(times.unwrap_or(1)));
    /// assert_eq!(vm.eval::<String>("shout('hi', 2)").unwrap(), "HIHI");
    /// ```
    pub fn register_fn<M, F: HostFn<M>>(&mut self, name: &str, f: F) {
        let v = native_value(name, erase(f));
        self.raw.set_builtin(name, v);
    }

    /// Makes an async Rust function awaitable from every script: calling it returns an
    /// `asyncio.Future` that the loop resolves when the Rust future completes, without blocking
    /// other tasks meanwhile.
    ///
    /// ```
    /// use std::time::Duration;
    /// let mut vm = eddy::Vm::new();
    /// vm.register_async_fn("fetch", |key: String| async move {
    ///     async_io::Timer::after(Duration::from_millis(5)).await;
    ///     format!("value of {key}")
    /// });
    /// vm.run("import asyncio\nasync def main():\n    return await asyncio.gather(fetch('a'), fetch('b'))\n").unwrap();
    /// assert_eq!(vm.run_async::<Vec<String>>("main()").unwrap(), ["value of a", "value of b"]);
    /// ```
    pub fn register_async_fn<M, F: AsyncHostFn<M>>(&mut self, name: &str, f: F) {
        let v = async_value(name, f);
        self.raw.set_builtin(name, v);
    }

    /// Registers a native function with the raw VM's calling convention, for full control
    /// (keyword arguments, any number of arguments).
    pub fn register_raw(&mut self, name: &str, f: NativeFn) {
        let v = self.raw.native(name, f);
        self.raw.set_builtin(name, v);
    }

    /// Starts a host module scripts import as `import name`; add to it with the returned
    /// builder. Registering a name again replaces the module.
    ///
    /// ```
    /// let mut vm = eddy::Vm::new();
    /// vm.module("host")
    ///     .function("double", |x: i64| x * 2)
    ///     .constant("VERSION", "1.2");
    /// vm.run("import host\nr = host.double(21)\nv = host.VERSION").unwrap();
    /// assert_eq!(vm.get_global::<i64>("r").unwrap(), 42);
    /// assert_eq!(vm.get_global::<String>("v").unwrap(), "1.2");
    /// ```
    pub fn module(&mut self, name: &str) -> ModuleBuilder<'_> {
        let module = Rc::new(Module::new(name));
        self.raw
            .modules
            .insert(name.to_string(), Value::Module(module.clone()));
        ModuleBuilder { vm: self, module }
    }
}

/// Adds functions, constants and types to a host module.
pub struct ModuleBuilder<'a> {
    vm: &'a mut Vm,
    module: Rc<Module>,
}

impl ModuleBuilder<'_> {
    /// Adds a Rust function (see [`Vm::register_fn`]).
    pub fn function<M, F: HostFn<M>>(self, name: &str, f: F) -> Self {
        let v = native_value(name, erase(f));
        self.module.set(name, v);
        self
    }

    /// Adds an async Rust function (see [`Vm::register_async_fn`]).
    pub fn async_function<M, F: AsyncHostFn<M>>(self, name: &str, f: F) -> Self {
        let v = async_value(name, f);
        self.module.set(name, v);
        self
    }

    /// Adds a constant. A value that cannot convert is skipped (see [`Self::try_constant`]).
    pub fn constant(mut self, name: &str, value: impl IntoValue) -> Self {
        let _ = self.try_constant(name, value);
        self
    }

    /// Adds a constant, reporting a conversion error.
    pub fn try_constant(&mut self, name: &str, value: impl IntoValue) -> Result<(), Error> {
        let v = self.vm.to_value(value)?;
        self.module.set(name, v);
        Ok(())
    }

    /// Adds a host type as a class of this module; see [`ClassBuilder`].
    pub fn class<T: 'static>(
        self,
        name: &str,
        build: impl FnOnce(ClassBuilder<T>) -> ClassBuilder<T>,
    ) -> Self {
        let cls = build(ClassBuilder::new(&self.vm.raw, name, &self.module.name.s)).finish(self.vm);
        self.module.set(name, Value::Class(cls));
        self
    }

    /// The module value.
    pub fn value(&self) -> Value {
        Value::Module(self.module.clone())
    }
}
