//! The call machinery: binding arguments to parameters, pushing script frames, creating
//! generators, instantiating classes and running class bodies.

use std::cell::RefCell;
use std::rc::Rc;

use crate::code::Code;
use crate::frame::{Frame, ReturnMode};
use crate::objects::class::{BuiltinKind, Class, Instance, Payload};
use crate::objects::exception::ExceptionData;
use crate::objects::function::{Args, Function};
use crate::objects::generator::{GenInner, Generator};
use crate::objects::module::Module;
use crate::value::{AttrMap, PyStr, StrKey, Value};
use crate::vm::Vm;
use crate::PyResult;

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("{n} {word}")
    } else {
        format!("{n} {word}s")
    }
}

fn name_list(names: &[String]) -> String {
    let quoted: Vec<String> = names.iter().map(|n| format!("'{n}'")).collect();
    match quoted.len() {
        1 => quoted[0].clone(),
        2 => format!("{} and {}", quoted[0], quoted[1]),
        _ => format!(
            "{}, and {}",
            quoted[..quoted.len() - 1].join(", "),
            quoted[quoted.len() - 1]
        ),
    }
}

/// Binds `args` to `f`'s parameters, producing the initial local slots (`code.nlocals()` long).
///
/// Returns TypeError with CPython's wording when the arguments don't fit.
pub fn bind_args(vm: &mut Vm, f: &Function, args: Args) -> PyResult<Vec<Value>> {
    let code = &f.code;
    let nlocals = code.nlocals();
    let argcount = code.argcount as usize;
    let kwonly = code.kwonlyargcount as usize;
    let posonly = code.posonlyargcount as usize;
    // The name is only needed for an error message: made then, not on every call.
    let fname = || f.qualname.borrow().s.to_string();
    let mut locals = vec![Value::Null; nlocals];
    let Args { pos, kw } = args;
    let npos = pos.len();
    let mut extra = Vec::new();
    for (i, v) in pos.into_iter().enumerate() {
        if i < argcount {
            locals[i] = v;
        } else {
            extra.push(v);
        }
    }
    let mut next_slot = argcount + kwonly;
    if code.flags.varargs {
        locals[next_slot] = Value::tuple(extra);
        next_slot += 1;
    } else if !extra.is_empty() {
        let ndefaults = f.defaults.len();
        let given_kw = kw
            .iter()
            .filter(|(k, _)| {
                code.varnames[..argcount + kwonly]
                    .iter()
                    .any(|n| n.s == k.s)
            })
            .count();
        let takes = if ndefaults > 0 {
            format!(
                "from {} to {} positional arguments",
                argcount - ndefaults,
                argcount
            )
        } else {
            plural(argcount, "positional argument")
        };
        let was = if npos == 1 { "was" } else { "were" };
        let msg = if given_kw > 0 {
            format!("{}() takes {takes} but {npos} positional argument{} (and {} keyword-only argument{}) were given", fname(), if npos == 1 { "" } else { "s" }, given_kw, if given_kw == 1 { "" } else { "s" })
        } else {
            format!("{}() takes {takes} but {npos} {was} given", fname())
        };
        return Err(vm.type_error(msg));
    }
    // The keyword names, kept only for the positional-only error (a cheap Rc clone each).
    let kw_names: Vec<Rc<PyStr>> = if kw.is_empty() {
        Vec::new()
    } else {
        kw.iter().map(|(k, _)| k.clone()).collect()
    };
    let kwargs_dict = if code.flags.varkw {
        Some(vm.new_dict())
    } else {
        None
    };
    for (k, v) in kw {
        let slot = code.varnames[posonly..argcount + kwonly]
            .iter()
            .position(|n| n.s == k.s)
            .map(|i| i + posonly);
        match slot {
            Some(i) => {
                if !locals[i].is_null() {
                    return Err(vm.type_error(format!(
                        "{}() got multiple values for argument '{}'",
                        fname(),
                        k.s
                    )));
                }
                locals[i] = v;
            }
            None => match &kwargs_dict {
                Some(d) => crate::ops::dict_set(vm, d, Value::Str(k), v)?,
                None => {
                    if code.varnames[..posonly].iter().any(|n| n.s == k.s) {
                        let all: Vec<&str> = code.varnames[..posonly]
                            .iter()
                            .filter(|n| kw_names.iter().any(|k| k.s == n.s))
                            .map(|n| &*n.s)
                            .collect();
                        return Err(vm.type_error(format!("{}() got some positional-only arguments passed as keyword arguments: '{}'", fname(), all.join(", "))));
                    }
                    return Err(vm.type_error(format!(
                        "{}() got an unexpected keyword argument '{}'",
                        fname(),
                        k.s
                    )));
                }
            },
        }
    }
    if let Some(d) = kwargs_dict {
        locals[next_slot] = d;
    }
    // Defaults for missing positional parameters.
    let ndefaults = f.defaults.len();
    let mut missing = Vec::new();
    for (i, slot) in locals.iter_mut().enumerate().take(argcount) {
        if slot.is_null() {
            if i >= argcount - ndefaults {
                *slot = f.defaults[i - (argcount - ndefaults)].clone();
            } else {
                missing.push(code.varnames[i].s.to_string());
            }
        }
    }
    if !missing.is_empty() {
        return Err(vm.type_error(format!(
            "{}() missing {} required positional argument{}: {}",
            fname(),
            missing.len(),
            if missing.len() == 1 { "" } else { "s" },
            name_list(&missing)
        )));
    }
    for (i, slot) in locals
        .iter_mut()
        .enumerate()
        .take(argcount + kwonly)
        .skip(argcount)
    {
        if slot.is_null() {
            let name = &code.varnames[i];
            match f.kwdefaults.iter().find(|(k, _)| k.s == name.s) {
                Some((_, v)) => *slot = v.clone(),
                None => missing.push(name.s.to_string()),
            }
        }
    }
    if !missing.is_empty() {
        return Err(vm.type_error(format!(
            "{}() missing {} required keyword-only argument{}: {}",
            fname(),
            missing.len(),
            if missing.len() == 1 { "" } else { "s" },
            name_list(&missing)
        )));
    }
    Ok(locals)
}

fn new_cells(f: &Function, locals: &[Value]) -> Vec<Rc<RefCell<Value>>> {
    let code = &f.code;
    if code.cellvars.is_empty() && f.closure.is_empty() {
        return Vec::new();
    }
    let mut cells: Vec<Rc<RefCell<Value>>> = code
        .cellvars
        .iter()
        .map(|_| Rc::new(RefCell::new(Value::Null)))
        .collect();
    for &(cell, slot) in &code.cell_params {
        *cells[cell as usize].borrow_mut() = locals[slot as usize].clone();
    }
    for c in &cells {
        crate::gc::track_cell(c);
    }
    cells.extend(f.closure.iter().cloned());
    cells
}

/// Slots a new generator's buffer for `code` is made with: its locals, and room for the operands
/// its deepest suspension saves (`Code::suspend_slots`, from the compiler), so a coroutine parked at
/// an `await` keeps an exactly sized buffer (a fixed guess of four operands made a parked
/// `async def f(ev, i): await ev.wait()` hold 96 bytes where it needs 48).
#[inline]
pub(crate) fn generator_slots(code: &Code) -> usize {
    code.nlocals().max(code.suspend_slots as usize)
}

impl Vm {
    /// Pushes a frame for script function `f` with `args` bound. The caller's stack above
    /// `ret_sp` is discarded when the frame returns. Errors (bad arguments, recursion) push nothing.
    pub fn push_function_frame(
        &mut self,
        f: &Rc<Function>,
        args: Args,
        ret_sp: usize,
        mode: ReturnMode,
    ) -> PyResult<()> {
        if self.frames.len() >= self.recursion_limit {
            return Err(self.error("RecursionError", "maximum recursion depth exceeded"));
        }
        let locals = bind_args(self, f, args)?;
        let cells = new_cells(f, &locals);
        let base = self.stack.len();
        self.stack.extend(locals);
        let mut frame = Frame::new(f.code.clone(), f.globals.clone(), base, ret_sp, mode);
        frame.set_cells(cells);
        self.frames.push(frame);
        Ok(())
    }

    /// Calling a generator or coroutine function: binds the arguments into a suspended frame.
    pub fn make_generator(&mut self, f: &Rc<Function>, args: Args) -> PyResult<Value> {
        let locals = bind_args(self, f, args)?;
        Ok(self.generator_with_locals(f, locals))
    }

    /// The generator, coroutine or async generator object of `f` with its locals bound
    /// (`code.nlocals()` slots; the cells are made here).
    pub(crate) fn generator_with_locals(
        &mut self,
        f: &Rc<Function>,
        mut locals: Vec<Value>,
    ) -> Value {
        // A suspension saves the frame's operands after its locals into this buffer: make room
        // for them now rather than grow it then.
        locals.reserve_exact(generator_slots(&f.code).saturating_sub(locals.len()));
        let cells = new_cells(f, &locals);
        let gen = Rc::new(Generator::new(
            f.code.clone(),
            GenInner::created(f.globals.clone(), cells, locals),
        ));
        // CPython names a generator after its function, which may have been renamed.
        let (name, qualname) = (f.name.borrow(), f.qualname.borrow());
        if !Rc::ptr_eq(&name, &f.code.name) || !Rc::ptr_eq(&qualname, &f.code.qualname) {
            gen.set_names(name.clone(), qualname.clone());
        }
        crate::gc::track_generator(gen)
    }

    /// The coroutine that runs a module's top-level code (compiled with a top-level `await`, so
    /// `code.flags.coroutine` is set) with `module` as its globals. Eddy's top-level await: the
    /// host drives it in an event loop, as `asyncio.run` drives any coroutine.
    pub fn module_coroutine(&mut self, code: Rc<Code>, module: Rc<Module>) -> Value {
        let locals = vec![Value::Null; code.nlocals()];
        let cells = (0..code.ncells())
            .map(|_| Rc::new(RefCell::new(Value::Null)))
            .collect();
        let gen = Rc::new(Generator::new(
            code.clone(),
            GenInner::created(module, cells, locals),
        ));
        let name = self.intern("<module>");
        gen.set_names(name.clone(), name);
        crate::gc::track_generator(gen)
    }
}

/// `cls(*args)`: creates the instance and runs `__init__` (re-entrantly; the interpreter has a
/// stackless path for script `__init__`s).
pub fn instantiate(vm: &mut Vm, cls: &Rc<Class>, args: Args) -> PyResult<Value> {
    if !cls.is_user {
        if let Some(ctor) = crate::builtins::constructor_for(vm, cls) {
            return ctor(vm, cls, args);
        }
    }
    // A __new__ defined in script code takes over creation.
    if let Some(new) = cls.lookup("__new__") {
        if is_script_new(&new) {
            let f = match new {
                Value::StaticMethod(f) => (*f).clone(),
                f => f,
            };
            let mut pos = vec![Value::Class(cls.clone())];
            pos.extend(args.pos.iter().cloned());
            let inst = vm.call_args(
                &f,
                Args {
                    pos,
                    kw: args.kw.clone(),
                },
            )?;
            if vm.isinstance(&inst, cls) {
                call_init(vm, &inst, args)?;
            }
            return Ok(inst);
        }
    }
    let inst = new_instance(vm, cls, &args)?;
    call_init(vm, &inst, args)?;
    Ok(inst)
}

pub fn call_init(vm: &mut Vm, inst: &Value, args: Args) -> PyResult<()> {
    let cls = vm.type_of(inst);
    match cls.lookup("__init__") {
        Some(init @ Value::Function(_)) => {
            let mut args = args;
            args.pos.insert(0, inst.clone());
            let r = vm.call_args(&init, args)?;
            if !r.is_none() {
                return Err(vm.type_error(format!(
                    "__init__() should return None, not '{}'",
                    vm.type_name(&r)
                )));
            }
        }
        Some(init @ Value::Native(_)) if !is_object_init(vm, &init) => {
            let mut args = args;
            args.pos.insert(0, inst.clone());
            vm.call_args(&init, args)?;
        }
        _ => {
            // Subclasses of built-in types (str, int...) took their arguments in new_instance.
            if cls.kind == BuiltinKind::Object && (!args.pos.is_empty() || !args.kw.is_empty()) {
                return Err(vm.type_error(format!("{}() takes no arguments", cls.name())));
            }
        }
    }
    Ok(())
}

/// A fresh instance of a user class, with the payload its built-in base needs.
pub fn new_instance(vm: &mut Vm, cls: &Rc<Class>, args: &Args) -> PyResult<Value> {
    let payload = match cls.kind {
        BuiltinKind::BaseException => Payload::Exception(Box::new(RefCell::new(
            ExceptionData::new(Value::tuple(args.pos.clone())),
        ))),
        BuiltinKind::Dict => match vm.new_dict() {
            Value::Dict(d) => Payload::Dict(d),
            _ => Payload::None,
        },
        BuiltinKind::List => Payload::List(Rc::new(RefCell::new(Vec::new()))),
        BuiltinKind::Tuple => match Value::tuple(
            args.pos
                .first()
                .map(|v| crate::ops::collect(vm, v))
                .transpose()?
                .unwrap_or_default(),
        ) {
            Value::Tuple(t) => Payload::Tuple(t),
            _ => Payload::None,
        },
        BuiltinKind::Object => Payload::None,
        // `class E(enumerate)`: the instance wraps the iterator its built-in base makes.
        BuiltinKind::Iterator => {
            let base = cls.mro.iter().find(|c| !c.is_user).cloned();
            let it =
                match base.and_then(|b| crate::builtins::constructor_for(vm, &b).map(|f| (b, f))) {
                    Some((b, ctor)) => {
                        let copy = Args {
                            pos: args.pos.clone(),
                            kw: args.kw.clone(),
                        };
                        ctor(vm, &b, copy)?
                    }
                    None => Value::None,
                };
            Payload::Value(RefCell::new(it))
        }
        BuiltinKind::Str => Payload::Value(RefCell::new(match args.pos.first() {
            Some(v) => Value::string(crate::ops::to_str(vm, v)?),
            None => Value::str(""),
        })),
        _ => Payload::Value(RefCell::new(
            args.pos.first().cloned().unwrap_or(Value::None),
        )),
    };
    let inst = Instance {
        class: cls.clone(),
        dict: crate::objects::class::InstDict::default(),
        payload,
    };
    Ok(crate::gc::track_instance(Rc::new(inst)))
}

/// `class Name(bases): body` — runs the body function with a fresh namespace and builds the class.
pub fn build_class(
    vm: &mut Vm,
    body: &Value,
    name: &Value,
    bases: &Value,
    kwargs: &Value,
) -> PyResult<Value> {
    let Value::Function(body) = body else {
        return Err(vm.type_error("class body is not a function"));
    };
    let name = name.as_str().unwrap_or("?").to_string();
    let mut base_classes = Vec::new();
    // PEP 560: a base that is not a class (`Generic[T]`, `list[int]`) names the classes it
    // stands for with `__mro_entries__`; the bases as written are kept in `__orig_bases__`.
    let mut orig_bases = None;
    if let Value::Tuple(t) = bases {
        for b in t.iter() {
            match b {
                Value::Class(c) => base_classes.push(c.clone()),
                Value::None => {}
                other => {
                    let entries = match vm.type_of(other).lookup("__mro_entries__") {
                        Some(f) => vm.call(&f, vec![other.clone(), bases.clone()])?,
                        None => {
                            return Err(vm.type_error(format!(
                                "bases must be types, not {}",
                                vm.type_name(other)
                            )))
                        }
                    };
                    let Value::Tuple(entries) = entries else {
                        return Err(vm.type_error("__mro_entries__ must return a tuple"));
                    };
                    for e in entries.iter() {
                        match e {
                            Value::Class(c) => {
                                if !base_classes.iter().any(|b| Rc::ptr_eq(b, c)) {
                                    base_classes.push(c.clone());
                                }
                            }
                            other => {
                                return Err(vm.type_error(format!(
                                    "bases must be types, not {}",
                                    vm.type_name(other)
                                )))
                            }
                        }
                    }
                    orig_bases = Some(bases.clone());
                }
            }
        }
    }
    let _ = kwargs;
    if base_classes.is_empty() {
        base_classes.push(vm.types.object.clone());
    }
    let namespace = Rc::new(RefCell::new(AttrMap::default()));
    // Run the body as a frame with the namespace attached.
    let ret_sp = vm.stack.len();
    vm.push_function_frame(body, Args::default(), ret_sp, ReturnMode::Entry)?;
    if let Some(frame) = vm.frames.last_mut() {
        frame.extra_mut().namespace = Some(namespace.clone());
    }
    vm.native_depth += 1;
    let r = vm.run();
    vm.native_depth -= 1;
    r?;
    let ns = namespace.borrow().clone();
    let kind = base_classes
        .iter()
        .map(|b| b.kind)
        .find(|k| *k != BuiltinKind::Object)
        .unwrap_or(BuiltinKind::Object);
    for b in &base_classes {
        if !b.is_user
            && matches!(
                b.kind,
                BuiltinKind::Bool | BuiltinKind::Function | BuiltinKind::Generator
            )
        {
            return Err(vm.type_error(format!(
                "type '{}' is not an acceptable base type",
                b.name()
            )));
        }
    }
    if let Some(msg) = crate::types::mro_error(&base_classes) {
        return Err(vm.type_error(msg));
    }
    let cls = crate::types::new_class(&name, base_classes, kind, true);
    let mut classcell = None;
    let (has_eq, has_hash, has_doc) = (
        ns.contains_key("__eq__"),
        ns.contains_key("__hash__"),
        ns.contains_key("__doc__"),
    );
    for (k, v) in ns {
        if &*k.0.s == "__classcell__" {
            classcell = Some(v);
            continue;
        }
        // Plain functions named like special static/class methods are wrapped as CPython does.
        let v = match (&*k.0.s, v) {
            ("__new__", Value::Function(f)) => Value::StaticMethod(Rc::new(Value::Function(f))),
            ("__init_subclass__" | "__class_getitem__", Value::Function(f)) => {
                Value::ClassMethod(Rc::new(Value::Function(f)))
            }
            (_, v) => v,
        };
        cls.dict.borrow_mut().insert(k, v);
    }
    if let Some(ob) = orig_bases {
        cls.dict
            .borrow_mut()
            .insert(StrKey(vm.intern("__orig_bases__")), ob);
    }
    // A class without a docstring has `__doc__ = None` of its own (it is not inherited).
    if !has_doc {
        cls.dict
            .borrow_mut()
            .insert(StrKey(vm.intern("__doc__")), Value::None);
    }
    // Defining __eq__ without __hash__ makes instances unhashable, as `type.__new__` does.
    if has_eq && !has_hash {
        cls.dict
            .borrow_mut()
            .insert(StrKey(vm.intern("__hash__")), Value::None);
    }
    if let Some(q) = cls
        .dict
        .borrow()
        .get("__qualname__")
        .and_then(|q| q.as_str().map(|s| s.to_string()))
    {
        *cls.qualname.borrow_mut() = Rc::new(PyStr::new(q));
    }
    cls.refresh_flags();
    if let Some(Value::Cell(c)) = classcell {
        *c.borrow_mut() = Value::Class(cls.clone());
    }
    // __set_name__ hooks and __init_subclass__ of the parent.
    let class_value = Value::Class(cls.clone());
    let items: Vec<(StrKey, Value)> = cls
        .dict
        .borrow()
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    for (k, v) in items {
        if let Value::Instance(_) = &v {
            if let Some(hook) = crate::attr::lookup_special(vm, &v, "__set_name__") {
                vm.call(
                    &hook,
                    vec![v.clone(), class_value.clone(), Value::Str(k.0.clone())],
                )?;
            }
        }
    }
    for base in cls.mro.iter() {
        if let Some(Value::ClassMethod(f)) = base.dict.borrow().get("__init_subclass__").cloned() {
            let f = (*f).clone();
            let mut a = Args::new(vec![class_value.clone()]);
            if let Value::Dict(d) = kwargs {
                for (k, v) in d.borrow().items() {
                    if let Value::Str(s) = k {
                        if &*s.s != "metaclass" {
                            a.kw.push((s, v));
                        }
                    }
                }
            }
            vm.call_args(&f, a)?;
            return Ok(class_value);
        }
    }
    // Only object.__init_subclass__ is left, and it accepts no keywords.
    if let Value::Dict(d) = kwargs {
        if d.borrow()
            .items()
            .iter()
            .any(|(k, _)| k.as_str() != Some("metaclass"))
        {
            return Err(vm.type_error(format!(
                "{}.__init_subclass__() takes no keyword arguments",
                name
            )));
        }
    }
    Ok(class_value)
}

/// True for a `__new__` written in script code, or a native one that carries data (as the stdlib's
/// `namedtuple` classes define); object's plain native `__new__` does not count.
pub fn is_script_new(v: &Value) -> bool {
    match v {
        Value::Function(_) => true,
        Value::StaticMethod(f) => match &**f {
            Value::Function(_) => true,
            Value::Native(n) => !n.data.is_null(),
            _ => false,
        },
        _ => false,
    }
}

fn is_object_init(vm: &Vm, v: &Value) -> bool {
    match (v, vm.types.object.dict.borrow().get("__init__")) {
        (Value::Native(a), Some(Value::Native(b))) => Rc::ptr_eq(a, b),
        _ => false,
    }
}
