//! `Vm`: the interpreter state (value stack, frame stack, built-in types, module cache) and the
//! helpers native code uses to talk to it: raising exceptions, looking up types, calling values.

use std::cell::RefCell;
use std::collections::HashMap;
use std::io::Write;
use std::path::PathBuf;
use std::rc::Rc;

use crate::code::Code;
use crate::frame::{Frame, ReturnMode};
use crate::objects::class::{Class, Instance, Payload};
use crate::objects::exception::ExceptionData;
use crate::objects::function::{Args, NativeFn, NativeFunction};
use crate::objects::module::Module;
use crate::types::Types;
use crate::value::{PyStr, StrKey, Value};
use crate::PyResult;

/// Default maximum depth of script calls, as CPython's `sys.getrecursionlimit()`.
pub const DEFAULT_RECURSION_LIMIT: usize = 1000;
/// Maximum nesting of native code calling back into scripts (each costs Rust stack).
pub const MAX_NATIVE_REENTRY: usize = 1000;

/// A function that builds a native module on first import.
pub type ModuleInit = fn(&mut Vm) -> PyResult<Rc<Module>>;

/// Where script output goes.
pub trait OutputSink {
    fn write_stdout(&mut self, s: &str);
    fn write_stderr(&mut self, s: &str);
    fn flush(&mut self) {}
}

/// Buffered process stdout and stderr (stdout is flushed before anything goes to stderr).
pub struct StdOutput {
    out: std::io::BufWriter<std::io::Stdout>,
}

impl Default for StdOutput {
    fn default() -> Self {
        StdOutput {
            out: std::io::BufWriter::with_capacity(1 << 16, std::io::stdout()),
        }
    }
}

impl OutputSink for StdOutput {
    fn write_stdout(&mut self, s: &str) {
        let _ = self.out.write_all(s.as_bytes());
    }
    fn write_stderr(&mut self, s: &str) {
        let _ = self.out.flush();
        let _ = std::io::stderr().write_all(s.as_bytes());
    }
    fn flush(&mut self) {
        let _ = self.out.flush();
    }
}

pub struct Vm {
    /// Checked by the dispatch loop every few ticks (see breaker.rs); first, to sit near `stack`.
    pub(crate) breaker: crate::breaker::Breaker,
    pub stack: Vec<Value>,
    pub frames: Vec<Frame>,
    pub types: Types,
    pub builtins: Rc<Module>,
    /// Imported modules by name (`sys.modules`).
    pub modules: HashMap<String, Value>,
    /// Native modules available to `import`, built on first use.
    pub native_modules: HashMap<String, ModuleInit>,
    /// The `sys.stdout` object `sys` starts with (None before `sys` is built). `print` writes
    /// through the output sink while `sys.stdout` is still this one, and through the current
    /// object's `write` once a script has replaced it (`contextlib.redirect_stdout`).
    pub default_stdout: Value,
    /// The exception currently being handled (`sys.exc_info()`), or None.
    pub handled: Value,
    /// For each running generator frame (by frame index), `handled` as it was when the frame
    /// was resumed: restored when the frame yields or finishes, so a generator suspended in an
    /// `except` block keeps its exception to itself (generators.rs: `enter_gen_exc`).
    pub(crate) gen_exc: Vec<(u32, Value)>,
    pub recursion_limit: usize,
    /// Most asyncio tasks alive at once, when a host limits them (`TooManyTasks` beyond).
    pub max_tasks: Option<usize>,
    pub native_depth: usize,
    /// True while the interpreter runs a native function whose result the next instruction
    /// awaits (`await lock.acquire()`): see `take_awaited_call`.
    pub(crate) awaited_call: bool,
    /// Set by a generator frame's return (as opposed to a yield) when it hands control to native code.
    pub(crate) gen_returned: bool,
    /// Set while re-raising, so the traceback does not gain a duplicate entry.
    pub(crate) reraising: bool,
    pub output: Box<dyn OutputSink>,
    /// Directories searched for `import name` (`name.eddy`, then `name.py`).
    pub search_path: Vec<PathBuf>,
    pub argv: Vec<String>,
    /// Interned attribute names used by the VM itself.
    pub names: crate::names::Names,
    /// What scripts may touch outside the VM (files, network, programs, environment);
    /// None grants everything (see sandbox.rs).
    pub sandbox: Option<Box<crate::sandbox::Sandbox>>,
}

/// The class of a built-in iterator, from what it iterates.
fn iter_type<'t>(
    t: &'t crate::types::Types,
    it: &crate::objects::iter::NativeIter,
) -> &'t Rc<Class> {
    use crate::objects::iter::NativeIter as I;
    let c = &t.iters;
    match it {
        I::List { .. } => &c.list,
        I::Tuple { .. } => &c.tuple,
        I::Range { .. } => &c.range,
        I::Str { s, .. } if s.is_ascii() => &c.str_ascii,
        I::Str { .. } => &c.str_,
        I::Bytes { .. } => &c.bytes,
        I::Dict { dict, .. } if !matches!(dict, Value::Dict(_)) => &c.set,
        I::Dict { kind: 0, .. } => &c.dict_keys,
        I::Dict { kind: 1, .. } => &c.dict_values,
        I::Dict { .. } => &c.dict_items,
        I::Reversed {
            seq: Value::List(_),
            ..
        } => &c.list_reverse,
        I::Reversed { .. } => &c.reversed,
        I::Enumerate { .. } => &c.enumerate,
        I::Zip { .. } => &c.zip,
        I::Map { .. } => &c.map,
        I::Filter { .. } => &c.filter,
        I::Callable { .. } => &c.callable,
        I::Count { .. } => &c.count,
        I::Values { .. } | I::SeqIndex { .. } | I::Exhausted => &t.iterator,
    }
}

impl Vm {
    pub fn new() -> Vm {
        let types = Types::new();
        let builtins = Rc::new(Module::new("builtins"));
        let mut vm = Vm {
            breaker: Default::default(),
            stack: Vec::with_capacity(1024),
            frames: Vec::with_capacity(64),
            types,
            builtins,
            modules: HashMap::new(),
            native_modules: HashMap::new(),
            default_stdout: Value::None,
            handled: Value::None,
            gen_exc: Vec::new(),
            recursion_limit: DEFAULT_RECURSION_LIMIT,
            max_tasks: None,
            native_depth: 0,
            awaited_call: false,
            gen_returned: false,
            reraising: false,
            output: Box::new(StdOutput::default()),
            search_path: Vec::new(),
            argv: Vec::new(),
            names: crate::names::Names::new(),
            sandbox: None,
        };
        crate::builtins::install(&mut vm);
        vm.modules
            .insert("builtins".into(), Value::Module(vm.builtins.clone()));
        vm
    }

    // ---- output ----

    pub fn write_stdout(&mut self, s: &str) {
        self.output.write_stdout(s);
    }
    pub fn write_stderr(&mut self, s: &str) {
        self.output.write_stderr(s);
    }
    pub fn flush(&mut self) {
        self.output.flush();
    }

    // ---- making values ----

    pub fn native(&self, name: &str, func: NativeFn) -> Value {
        Value::Native(Rc::new(NativeFunction {
            name: Rc::new(PyStr::new(name)),
            func,
            data: Value::Null,
        }))
    }
    /// A native function that receives `data` as its first argument.
    pub fn native_with(&self, name: &str, func: NativeFn, data: Value) -> Value {
        Value::Native(Rc::new(NativeFunction {
            name: Rc::new(PyStr::new(name)),
            func,
            data,
        }))
    }
    /// Adds a native method to a built-in class.
    pub fn add_method(&self, class: &Rc<Class>, name: &str, func: NativeFn) {
        let f = self.native(name, func);
        class
            .dict
            .borrow_mut()
            .insert(crate::value::StrKey(Rc::new(PyStr::new(name))), f);
        // A dunder may change what the class's cached flags say (e.g. a native `__eq__`).
        if name.starts_with("__") {
            class.refresh_flags();
        }
    }
    pub fn new_dict(&self) -> Value {
        crate::gc::track_dict(Rc::new(RefCell::new(crate::objects::dict::DictData::new())))
    }

    // ---- exceptions ----

    /// The line a running generator or coroutine is at (its frame is on this thread's frame
    /// stack, executing or calling), as CPython's `f_lineno`; None when it is not running here.
    pub fn running_line_of(&self, g: &crate::objects::generator::Generator) -> Option<u32> {
        let f = self.frames.iter().rev().find(|f| {
            f.generator()
                .is_some_and(|fg| std::ptr::eq(Rc::as_ptr(fg), g as *const _))
        })?;
        Some(f.code.line_of(f.ip.saturating_sub(1)))
    }
    pub fn exc_class(&self, name: &str) -> Rc<Class> {
        self.types
            .exceptions
            .get(name)
            .cloned()
            .unwrap_or_else(|| self.types.exceptions["Exception"].clone())
    }
    /// An exception instance of `class` with the given args.
    pub fn new_exception(&self, class: &Rc<Class>, args: Vec<Value>) -> Value {
        let inst = Instance {
            class: class.clone(),
            dict: crate::objects::class::InstDict::default(),
            payload: Payload::Exception(Box::new(RefCell::new(ExceptionData::new(Value::tuple(
                args,
            ))))),
        };
        crate::gc::track_instance(Rc::new(inst))
    }
    /// An exception of the named built-in class with a message.
    pub fn error(&self, class: &str, msg: impl Into<String>) -> Value {
        self.new_exception(&self.exc_class(class), vec![Value::string(msg.into())])
    }
    pub fn type_error(&self, msg: impl Into<String>) -> Value {
        self.error("TypeError", msg)
    }
    pub fn value_error(&self, msg: impl Into<String>) -> Value {
        self.error("ValueError", msg)
    }
    pub fn index_error(&self, msg: impl Into<String>) -> Value {
        self.error("IndexError", msg)
    }
    /// `NameError: name 'x' is not defined`, with `e.name` set as CPython sets it.
    pub fn name_error(&self, name: &Rc<PyStr>) -> Value {
        let exc = self.error("NameError", format!("name '{}' is not defined", name.s));
        if let Value::Instance(i) = &exc {
            i.dict
                .borrow_mut()
                .insert(StrKey(self.intern("name")), Value::Str(name.clone()));
        }
        exc
    }
    pub fn attribute_error(&self, msg: impl Into<String>) -> Value {
        self.error("AttributeError", msg)
    }
    pub fn key_error(&self, key: Value) -> Value {
        self.new_exception(&self.exc_class("KeyError"), vec![key])
    }
    pub fn stop_iteration(&self, value: Value) -> Value {
        let args = if value.is_none() { vec![] } else { vec![value] };
        self.new_exception(&self.exc_class("StopIteration"), args)
    }
    /// True when `exc` is an instance of the named built-in exception class (or a subclass).
    pub fn exc_matches(&self, exc: &Value, name: &str) -> bool {
        match (exc, self.types.exceptions.get(name)) {
            (Value::Instance(i), Some(c)) => i.class.is_subclass(c),
            _ => false,
        }
    }

    // ---- types ----

    /// `type(v)`.
    pub fn type_of(&self, v: &Value) -> Rc<Class> {
        let t = &self.types;
        match v {
            Value::Null | Value::None => t.none.clone(),
            Value::NotImplemented => t.not_implemented.clone(),
            Value::Ellipsis => t.ellipsis.clone(),
            Value::Bool(_) => t.bool_.clone(),
            Value::Int(_) | Value::BigInt(_) => t.int.clone(),
            Value::Float(_) => t.float.clone(),
            Value::Str(_) => t.str_.clone(),
            Value::Bytes(_) => t.bytes.clone(),
            Value::List(_) => t.list.clone(),
            Value::Tuple(_) => t.tuple.clone(),
            Value::Dict(_) => t.dict.clone(),
            Value::Set(_) => t.set.clone(),
            Value::FrozenSet(_) => t.frozenset.clone(),
            Value::Range(_) => t.range.clone(),
            Value::Slice(_) => t.slice.clone(),
            Value::Function(_) => t.function.clone(),
            Value::Native(_) => t.builtin_function.clone(),
            Value::BoundMethod(_) => t.method.clone(),
            Value::Class(_) => t.type_.clone(),
            Value::Instance(i) => i.class.clone(),
            Value::Module(_) => t.module.clone(),
            Value::Generator(g) => match g.kind() {
                crate::objects::generator::GenKind::Generator => t.generator.clone(),
                crate::objects::generator::GenKind::Coroutine => t.coroutine.clone(),
                crate::objects::generator::GenKind::AsyncGenerator => t.async_generator.clone(),
            },
            Value::Iterator(it) => iter_type(t, &it.borrow()).clone(),
            Value::Cell(_) => t.cell.clone(),
            Value::Code(_) => t.code.clone(),
            Value::Property(_) => t.property.clone(),
            Value::StaticMethod(_) => t.staticmethod.clone(),
            Value::ClassMethod(_) => t.classmethod.clone(),
        }
    }
    pub fn type_name(&self, v: &Value) -> String {
        self.type_of(v).name().to_string()
    }
    pub fn isinstance(&self, v: &Value, class: &Rc<Class>) -> bool {
        self.type_of(v).is_subclass(class)
    }

    // ---- running code ----

    /// Runs a module's top-level code with `module` as its globals.
    /// Code with a top-level `await` is a coroutine: only a host with an event loop can run it
    /// (see `module_coroutine`), so here, as for an imported module, it is CPython's error.
    pub fn run_module_code(&mut self, code: Rc<Code>, module: Rc<Module>) -> PyResult<Value> {
        if code.flags.coroutine {
            return Err(self.error(
                "SyntaxError",
                "'await' outside function (top-level await is allowed only in the main script)",
            ));
        }
        let base = self.stack.len();
        for _ in 0..code.nlocals() {
            self.stack.push(Value::Null);
        }
        let cells = (0..code.ncells())
            .map(|_| Rc::new(RefCell::new(Value::Null)))
            .collect();
        let mut frame = Frame::new(code, module, base, base, ReturnMode::Entry);
        frame.set_cells(cells);
        self.frames.push(frame);
        self.run()
    }

    /// Whether the native function now running was called by an `await f(...)` whose result
    /// nothing else can see: the interpreter awaits it on the spot. Such a native may return
    /// any awaitable that behaves as its coroutine would when awaited at once (a future to
    /// wait on, a finished result) instead of allocating a coroutine object. Answers only
    /// once, and only at the start of the native, before it calls anything.
    pub fn take_awaited_call(&mut self) -> bool {
        std::mem::replace(&mut self.awaited_call, false)
    }

    /// Calls any callable value from native code and returns its result.
    pub fn call(&mut self, callee: &Value, args: Vec<Value>) -> PyResult<Value> {
        self.call_args(callee, Args::new(args))
    }

    /// Calls with keyword arguments.
    pub fn call_args(&mut self, callee: &Value, args: Args) -> PyResult<Value> {
        // A native called from native code is never "awaited at once" (see take_awaited_call).
        self.awaited_call = false;
        if self.native_depth >= MAX_NATIVE_REENTRY.min(self.recursion_limit) {
            return Err(self.error("RecursionError", "maximum recursion depth exceeded"));
        }
        self.native_depth += 1;
        let r = self.call_inner(callee, args);
        self.native_depth -= 1;
        r
    }

    fn call_inner(&mut self, callee: &Value, args: Args) -> PyResult<Value> {
        match callee {
            Value::Function(f) => {
                let f = f.clone();
                if f.code.flags.generator || f.code.flags.coroutine || f.code.flags.async_generator
                {
                    return self.make_generator(&f, args);
                }
                let ret_sp = self.stack.len();
                self.push_function_frame(&f, args, ret_sp, ReturnMode::Entry)?;
                self.run()
            }
            Value::Native(n) => {
                let n = n.clone();
                let mut args = args;
                if !n.data.is_null() {
                    args.pos.insert(0, n.data.clone());
                }
                (n.func)(self, args)
            }
            Value::BoundMethod(m) => {
                let mut args = args;
                args.pos.insert(0, m.receiver.clone());
                let f = m.func.clone();
                self.call_inner(&f, args)
            }
            Value::Class(c) => {
                let c = c.clone();
                crate::call::instantiate(self, &c, args)
            }
            Value::Instance(_) => {
                let f = crate::attr::lookup_special(self, callee, "__call__").ok_or_else(|| {
                    self.type_error(format!(
                        "'{}' object is not callable",
                        self.type_name(callee)
                    ))
                })?;
                let mut args = args;
                args.pos.insert(0, callee.clone());
                self.call_inner(&f, args)
            }
            Value::StaticMethod(f) => {
                let f = (**f).clone();
                self.call_inner(&f, args)
            }
            _ => Err(self.type_error(format!(
                "'{}' object is not callable",
                self.type_name(callee)
            ))),
        }
    }

    /// Looks up and calls a method by name: `obj.name(*args)`.
    pub fn call_method(&mut self, obj: &Value, name: &str, args: Vec<Value>) -> PyResult<Value> {
        let m = crate::attr::get_attr(self, obj, name)?;
        self.call(&m, args)
    }

    /// Sets a global or builtin value by name.
    pub fn set_builtin(&mut self, name: &str, v: Value) {
        self.builtins.set(name, v);
    }
    pub fn intern(&self, s: &str) -> Rc<PyStr> {
        Rc::new(PyStr::new(s))
    }
}

impl Default for Vm {
    fn default() -> Self {
        Vm::new()
    }
}
