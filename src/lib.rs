//! Eddy: an async-first scripting language with Python syntax. This crate is the facade: it
//! wires the parser, compiler, VM and standard library together and is what hosts embed.

use std::path::Path;
use std::rc::Rc;

pub use eddy_vm::sandbox::{Capability, Grant, Sandbox};
pub use eddy_vm::Value;

pub mod api;
pub mod check;
pub mod error;
pub mod lint;
pub mod render;
pub mod repl;

pub use api::*;
pub use error::Error;

/// Parses and compiles source text into a module code object.
pub fn compile(name: &str, source: &str) -> Result<Rc<eddy_vm::Code>, Error> {
    let file = Rc::new(eddy_vm::SourceFile::new(name, source));
    let module =
        eddy_parser::parse_module(source).map_err(|e| Error::from_parse_error(&file, e))?;
    eddy_vm::compile::compile_module(&module, file.clone(), eddy_vm::compile::Mode::Module)
        .map_err(|e| Error::syntax(&file, e.message, e.span, "here".into(), None))
}

/// A VM with the standard library installed and `import` able to load script files.
pub fn new_vm() -> RawVm {
    let mut vm = RawVm::new();
    eddy_stdlib::install(&mut vm);
    eddy_vm::import::set_source_compiler(|name, text| {
        compile(name, text).map_err(|e| e.to_string())
    });
    vm
}

/// How to set up a VM, for hosts that want more than [`new_vm`]'s defaults:
///
/// ```no_run
/// let mut vm = eddy::VmOptions::new().virtual_time(true).build();
/// eddy::run_source(&mut vm, "<test>", "import time\ntime.sleep(3600)\n").ok();
/// ```
#[derive(Debug, Clone, Default)]
pub struct VmOptions {
    virtual_time: bool,
    sandbox: Option<Sandbox>,
}

impl VmOptions {
    pub fn new() -> VmOptions {
        VmOptions::default()
    }

    /// Virtual time (`eddy --virtual-time`): when the event loop has nothing ready it moves the
    /// clock to the next timer instead of sleeping, and a blocking `time.sleep` moves it too;
    /// the clock stands still while code runs, so runs are reproducible. `loop.time()`,
    /// `time.monotonic()` and `time.time()` read it. The clock belongs to the thread, so this
    /// applies to every VM built on this thread afterwards (`build` sets it either way).
    pub fn virtual_time(mut self, on: bool) -> VmOptions {
        self.virtual_time = on;
        self
    }

    /// Runs scripts in `sandbox`: only what it grants of files, network, subprocesses and
    /// environment variables (`eddy --sandbox --allow-read=DIR`). Without it, everything.
    pub fn sandbox(mut self, sandbox: Option<Sandbox>) -> VmOptions {
        self.sandbox = sandbox;
        self
    }

    /// A VM with the standard library installed, set up as these options say.
    pub fn build(&self) -> RawVm {
        eddy_stdlib::clock::set_virtual(self.virtual_time);
        let mut vm = new_vm();
        vm.sandbox = self.sandbox.clone().map(Box::new);
        vm
    }
}

/// Runs a script file as `__main__`.
pub fn run_file(vm: &mut RawVm, path: &Path) -> Result<(), Error> {
    let text = read_source(path)?;
    if let Some(dir) = path.parent() {
        let dir = if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            dir
        };
        vm.search_path.insert(0, dir.to_path_buf());
    }
    run_source(vm, &path.display().to_string(), &text)
}

/// Runs source text as `__main__`.
pub fn run_source(vm: &mut RawVm, name: &str, text: &str) -> Result<(), Error> {
    let code = compile(name, text)?;
    let module = Rc::new(eddy_vm::objects::module::Module::new("__main__"));
    module.set("__file__", Value::str(name));
    vm.modules
        .insert("__main__".into(), Value::Module(module.clone()));
    let result = run_code_in(vm, code, module);
    // As CPython's finalization: non-daemon threads are joined when the main module ends.
    let result = result.and_then(|_| eddy_stdlib::threading::shutdown(vm));
    match result {
        Ok(_) => Ok(()),
        Err(exc) => Err(Error::from_exception(vm, exc)),
    }
}

/// Runs compiled module code with `module` as its globals, through an implicit `asyncio.run`
/// when its top level awaits.
pub(crate) fn run_code_in(
    vm: &mut RawVm,
    code: Rc<eddy_vm::Code>,
    module: Rc<eddy_vm::objects::module::Module>,
) -> eddy_vm::PyResult<Value> {
    if code.flags.coroutine {
        run_with_top_level_await(vm, code, module)
    } else {
        vm.run_module_code(code, module)
    }
}

/// Beyond CPython: a script whose top level uses `await` (or `async for`/`async with`) runs as
/// the main coroutine of an implicit `asyncio.run`, so `await asyncio.sleep(1)` is a whole
/// script. `asyncio.run` inside it raises RuntimeError, as inside any running loop.
fn run_with_top_level_await(
    vm: &mut RawVm,
    code: Rc<eddy_vm::Code>,
    module: Rc<eddy_vm::objects::module::Module>,
) -> eddy_vm::PyResult<Value> {
    let main = vm.module_coroutine(code, module);
    let asyncio = eddy_vm::import::import_module(vm, "asyncio")?;
    let run = eddy_vm::attr::get_attr(vm, &asyncio, "run")?;
    vm.call(&run, vec![main])
}

/// Reads a script file as UTF-8 text, with errors worded as CPython words them.
pub fn read_source(path: &Path) -> Result<String, Error> {
    let bytes = std::fs::read(path).map_err(|e| {
        Error::Io(format!(
            "can't open file '{}': {}",
            path.display(),
            os_error(&e)
        ))
    })?;
    String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        Error::Io(format!("can't read file '{}': it is not valid UTF-8 (invalid byte at offset {at}); Eddy source files must be UTF-8", path.display()))
    })
}

/// `[Errno 2] No such file or directory`, as Python prints an `OSError`.
fn os_error(e: &std::io::Error) -> String {
    let text = e.to_string();
    match e.raw_os_error() {
        Some(code) => {
            let suffix = format!(" (os error {code})");
            format!(
                "[Errno {code}] {}",
                text.strip_suffix(&suffix).unwrap_or(&text)
            )
        }
        None => text,
    }
}
