//! The built-in functions: print, len, isinstance, sorted, min, max, ...

use std::rc::Rc;

use num_bigint::BigInt;

use super::{check_args, new_iter};
use crate::objects::function::Args;
use crate::objects::iter::NativeIter;
use crate::ops;
use crate::value::Value;
use crate::vm::Vm;
use crate::PyResult;

pub fn install(vm: &mut Vm) {
    let b = vm.builtins.clone();
    let defs: &[(&str, crate::objects::function::NativeFn)] = &[
        ("print", print),
        ("len", len),
        ("repr", |vm, a| {
            check_args(vm, "repr", &a, 1, 1)?;
            Ok(Value::string(ops::repr(vm, &a.pos[0])?))
        }),
        ("ascii", |vm, a| {
            check_args(vm, "ascii", &a, 1, 1)?;
            let r = ops::repr(vm, &a.pos[0])?;
            Ok(Value::string(ops::ascii(&r)))
        }),
        ("isinstance", isinstance),
        ("issubclass", issubclass),
        ("hash", |vm, a| {
            check_args(vm, "hash", &a, 1, 1)?;
            Ok(Value::Int(ops::hash(vm, &a.pos[0])?))
        }),
        ("id", |vm, a| {
            check_args(vm, "id", &a, 1, 1)?;
            Ok(Value::Int(match &a.pos[0] {
                Value::Int(i) => *i,
                v => v.ptr_id().unwrap_or(0) as i64,
            }))
        }),
        ("abs", |vm, a| {
            check_args(vm, "abs", &a, 1, 1)?;
            match &a.pos[0] {
                Value::Int(i) => Ok(match i.checked_abs() {
                    Some(v) => Value::Int(v),
                    None => Value::from_bigint(-BigInt::from(*i)),
                }),
                Value::Bool(b) => Ok(Value::Int(*b as i64)),
                Value::Float(f) => Ok(Value::Float(f.abs())),
                Value::BigInt(b) => Ok(Value::from_bigint(num_traits::Signed::abs(&**b))),
                v => {
                    let v = v.clone();
                    match vm.type_of(&v).lookup("__abs__") {
                        Some(f) => vm.call(&f, vec![v]),
                        None => Err(vm.type_error(format!(
                            "bad operand type for abs(): '{}'",
                            vm.type_name(&v)
                        ))),
                    }
                }
            }
        }),
        ("callable", |vm, a| {
            check_args(vm, "callable", &a, 1, 1)?;
            Ok(Value::Bool(match &a.pos[0] {
                Value::Function(_) | Value::Native(_) | Value::BoundMethod(_) | Value::Class(_) => {
                    true
                }
                v @ Value::Instance(_) => vm.type_of(v).lookup("__call__").is_some(),
                _ => false,
            }))
        }),
        ("iter", |vm, a| {
            check_args(vm, "iter", &a, 1, 2)?;
            if a.pos.len() == 2 {
                return Ok(new_iter(NativeIter::Callable {
                    func: a.pos[0].clone(),
                    sentinel: a.pos[1].clone(),
                }));
            }
            ops::get_iter(vm, &a.pos[0])
        }),
        ("next", |vm, a| {
            check_args(vm, "next", &a, 1, 2)?;
            let it = a.pos[0].clone();
            if !matches!(it, Value::Iterator(_) | Value::Generator(_))
                && vm.type_of(&it).lookup("__next__").is_none()
            {
                return Err(
                    vm.type_error(format!("'{}' object is not an iterator", vm.type_name(&it)))
                );
            }
            if let Value::Generator(g) = &it {
                let g = g.clone();
                return match vm.gen_send(&g, Value::None)? {
                    Ok(v) => Ok(v),
                    Err(r) => match a.pos.get(1) {
                        Some(d) => Ok(d.clone()),
                        None => Err(vm.stop_iteration(r)),
                    },
                };
            }
            match ops::iter_next(vm, &it)? {
                Some(v) => Ok(v),
                None => match a.pos.get(1) {
                    Some(d) => Ok(d.clone()),
                    None => Err(vm.stop_iteration(Value::None)),
                },
            }
        }),
        ("getattr", |vm, a| {
            check_args(vm, "getattr", &a, 2, 3)?;
            let name = match &a.pos[1] {
                Value::Str(s) => s.s.to_string(),
                v => return Err(attr_name_error(vm, v)),
            };
            match a.pos.get(2) {
                None => crate::attr::get_attr(vm, &a.pos[0], &name),
                Some(d) => match crate::attr::get_attr(vm, &a.pos[0], &name) {
                    Ok(v) => Ok(v),
                    Err(e) if vm.exc_matches(&e, "AttributeError") => Ok(d.clone()),
                    Err(e) => Err(e),
                },
            }
        }),
        ("setattr", |vm, a| {
            check_args(vm, "setattr", &a, 3, 3)?;
            let Value::Str(name) = &a.pos[1] else {
                return Err(attr_name_error(vm, &a.pos[1]));
            };
            crate::attr::set_attr(vm, &a.pos[0], name, a.pos[2].clone())?;
            Ok(Value::None)
        }),
        ("delattr", |vm, a| {
            check_args(vm, "delattr", &a, 2, 2)?;
            let Value::Str(name) = &a.pos[1] else {
                return Err(attr_name_error(vm, &a.pos[1]));
            };
            crate::attr::del_attr(vm, &a.pos[0], &name.s)?;
            Ok(Value::None)
        }),
        ("hasattr", |vm, a| {
            check_args(vm, "hasattr", &a, 2, 2)?;
            let Value::Str(name) = &a.pos[1] else {
                return Err(attr_name_error(vm, &a.pos[1]));
            };
            match crate::attr::get_attr(vm, &a.pos[0], &name.s) {
                Ok(_) => Ok(Value::Bool(true)),
                Err(e) if vm.exc_matches(&e, "AttributeError") => Ok(Value::Bool(false)),
                Err(e) => Err(e),
            }
        }),
        ("super", super_),
        ("chr", |vm, a| {
            check_args(vm, "chr", &a, 1, 1)?;
            let n = ops::int_arg(vm, &a.pos[0])?;
            match u32::try_from(n).ok().and_then(char::from_u32) {
                Some(c) => Ok(Value::string(c.to_string())),
                None => Err(vm.value_error("chr() arg not in range(0x110000)")),
            }
        }),
        ("ord", |vm, a| {
            check_args(vm, "ord", &a, 1, 1)?;
            match &a.pos[0] {
                Value::Str(s) if s.char_len() == 1 => {
                    Ok(Value::Int(s.s.chars().next().unwrap() as i64))
                }
                Value::Str(s) => Err(vm.type_error(format!(
                    "ord() expected a character, but string of length {} found",
                    s.char_len()
                ))),
                Value::Bytes(b) if b.len() == 1 => Ok(Value::Int(b[0] as i64)),
                v => Err(vm.type_error(format!(
                    "ord() expected string of length 1, but {} found",
                    vm.type_name(v)
                ))),
            }
        }),
        ("hex", |vm, a| radix(vm, a, "hex", "x")),
        ("oct", |vm, a| radix(vm, a, "oct", "o")),
        ("bin", |vm, a| radix(vm, a, "bin", "b")),
        ("format", |vm, a| {
            check_args(vm, "format", &a, 1, 2)?;
            let spec = match a.pos.get(1) {
                Some(Value::Str(s)) => s.s.to_string(),
                _ => String::new(),
            };
            Ok(Value::string(ops::format(vm, &a.pos[0], &spec)?))
        }),
        ("globals", |vm, _a| {
            let g = vm.frames.last().map(|f| f.globals.clone());
            match g {
                Some(g) => ops::dict_from_attrs(vm, &g.dict.borrow()),
                None => Ok(vm.new_dict()),
            }
        }),
        ("locals", locals),
        // The site module's exit() and quit(), which scripts call as sys.exit.
        ("exit", site_exit),
        ("quit", site_exit),
        ("vars", |vm, a| {
            if a.pos.is_empty() {
                check_args(vm, "vars", &a, 0, 0)?;
                return locals(vm, a);
            }
            check_args(vm, "vars", &a, 1, 1)?;
            crate::attr::get_attr(vm, &a.pos[0], "__dict__")
        }),
        ("dir", |vm, a| {
            check_args(vm, "dir", &a, 0, 1)?;
            let mut names: Vec<String> = Vec::new();
            if let Some(v) = a.pos.first() {
                if let Value::Instance(i) = v {
                    names.extend(i.dict.borrow().keys().map(|k| k.0.s.to_string()));
                }
                let cls = match v {
                    Value::Class(c) => c.clone(),
                    Value::Module(m) => {
                        names.extend(m.dict.borrow().keys().map(|k| k.0.s.to_string()));
                        names.sort();
                        names.dedup();
                        return Ok(Value::list(names.into_iter().map(Value::string).collect()));
                    }
                    _ => vm.type_of(v),
                };
                names.extend(cls.dict.borrow().keys().map(|k| k.0.s.to_string()));
                for m in &cls.mro {
                    names.extend(m.dict.borrow().keys().map(|k| k.0.s.to_string()));
                }
                // What CPython's `object` and a class statement's type define, which Eddy
                // keeps elsewhere or not at all; `__qualname__` lives on the type, not in
                // the class's namespace.
                names.extend(OBJECT_ATTRS.iter().map(|n| n.to_string()));
                if cls.is_user && cls.kind == crate::objects::class::BuiltinKind::Object {
                    names.extend(["__dict__", "__module__", "__weakref__"].map(String::from));
                }
                if cls.kind == crate::objects::class::BuiltinKind::BaseException {
                    names.extend(
                        [
                            "__cause__",
                            "__context__",
                            "__dict__",
                            "__setstate__",
                            "__suppress_context__",
                            "__traceback__",
                            "args",
                        ]
                        .map(String::from),
                    );
                    if cls.is_user {
                        names.extend(["__module__", "__weakref__"].map(String::from));
                    }
                }
                names.retain(|n| n != "__qualname__");
            }
            names.sort();
            names.dedup();
            Ok(Value::list(names.into_iter().map(Value::string).collect()))
        }),
        ("input", |vm, a| {
            if let Some(p) = a.pos.first() {
                let s = ops::to_str(vm, p)?;
                vm.write_stdout(&s);
            }
            vm.flush();
            let mut line = String::new();
            match std::io::stdin().read_line(&mut line) {
                Ok(0) => Err(vm.error("EOFError", "EOF when reading a line")),
                Ok(_) => Ok(Value::string(
                    line.trim_end_matches(['\n', '\r']).to_string(),
                )),
                Err(e) => Err(vm.error("OSError", e.to_string())),
            }
        }),
    ];
    for (name, f) in defs {
        b.set(name, vm.native(name, *f));
    }
    super::methods::install_functions(vm);
}

/// The TypeError getattr/setattr/delattr/hasattr raise for a name that is not a str.
fn attr_name_error(vm: &Vm, got: &Value) -> Value {
    vm.type_error(format!(
        "attribute name must be string, not '{}'",
        vm.type_name(got)
    ))
}

fn radix(vm: &mut Vm, a: Args, name: &str, code: &str) -> PyResult<Value> {
    check_args(vm, name, &a, 1, 1)?;
    let v = a.pos[0].clone();
    let n = match &v {
        Value::Int(_) | Value::BigInt(_) | Value::Bool(_) => v.clone(),
        _ => Value::Int(ops::index_value(vm, &v, name).map_err(|_| {
            vm.type_error(format!(
                "'{}' object cannot be interpreted as an integer",
                vm.type_name(&v)
            ))
        })?),
    };
    Ok(Value::string(ops::format(vm, &n, &format!("#{code}"))?))
}

/// `sys.stdout` when a script has replaced it (an assignment, `contextlib.redirect_stdout`);
/// None while it is the stream `sys` started with, which writes through the output sink.
fn redirected_stdout(vm: &Vm) -> Option<Value> {
    let Some(Value::Module(sys)) = vm.modules.get("sys") else {
        return None;
    };
    let current = sys.get("stdout")?;
    match (&current, &vm.default_stdout) {
        (Value::Instance(a), Value::Instance(b)) if Rc::ptr_eq(a, b) => None,
        _ => Some(current),
    }
}

fn print(vm: &mut Vm, mut a: Args) -> PyResult<Value> {
    let sep = a.take_kw("sep");
    let end = a.take_kw("end");
    let file = a.take_kw("file");
    let flush = a.take_kw("flush");
    if let Some((k, _)) = a.kw.first() {
        return Err(vm.type_error(format!(
            "'{}' is an invalid keyword argument for print()",
            k.s
        )));
    }
    let sep = match sep {
        None | Some(Value::None) => " ".to_string(),
        Some(Value::Str(s)) => s.s.to_string(),
        Some(v) => {
            return Err(vm.type_error(format!(
                "sep must be None or a string, not {}",
                vm.type_name(&v)
            )))
        }
    };
    let end = match end {
        None | Some(Value::None) => "\n".to_string(),
        Some(Value::Str(s)) => s.s.to_string(),
        Some(v) => {
            return Err(vm.type_error(format!(
                "end must be None or a string, not {}",
                vm.type_name(&v)
            )))
        }
    };
    let target = match file {
        None | Some(Value::None) => redirected_stdout(vm),
        Some(f) => Some(f),
    };
    let flush = match flush {
        Some(f) => ops::truthy(vm, &f)?,
        None => false,
    };
    match target {
        None => {
            let mut out = String::new();
            for (i, v) in a.pos.iter().enumerate() {
                if i > 0 {
                    out.push_str(&sep);
                }
                match v {
                    Value::Str(s) => out.push_str(&s.s),
                    Value::Int(n) => out.push_str(&n.to_string()),
                    _ => out.push_str(&ops::to_str(vm, v)?),
                }
            }
            out.push_str(&end);
            vm.write_stdout(&out);
            if flush {
                vm.flush();
            }
        }
        // `sys.stdout = None`: print does nothing, as in CPython.
        Some(Value::None) => {}
        // A script's stream gets one `write` per piece, as CPython's print makes them.
        Some(f) => {
            for (i, v) in a.pos.iter().enumerate() {
                if i > 0 {
                    vm.call_method(&f, "write", vec![Value::string(sep.clone())])?;
                }
                let text = ops::to_str(vm, v)?;
                vm.call_method(&f, "write", vec![Value::string(text)])?;
            }
            vm.call_method(&f, "write", vec![Value::string(end)])?;
            if flush {
                vm.call_method(&f, "flush", vec![])?;
            }
        }
    }
    Ok(Value::None)
}

fn len(vm: &mut Vm, a: Args) -> PyResult<Value> {
    check_args(vm, "len", &a, 1, 1)?;
    let v = &a.pos[0];
    let n = match v {
        Value::Str(s) => s.char_len(),
        Value::List(l) => l.borrow().len(),
        Value::Tuple(t) => t.len(),
        Value::Dict(d) => d.borrow().len(),
        Value::Set(s) | Value::FrozenSet(s) => s.borrow().len(),
        Value::Bytes(b) => b.len(),
        Value::Range(r) => r.len() as usize,
        Value::Class(c) if c.lookup("__class_len__").is_some() => {
            let f = c.lookup("__class_len__").unwrap_or(Value::None);
            return vm.call(&f, vec![v.clone()]);
        }
        Value::Instance(_) => {
            let v = v.clone();
            if let Some(f) = vm.type_of(&v).lookup("__len__") {
                let r = vm.call(&f, vec![v.clone()])?;
                return match r {
                    Value::Int(i) if i < 0 => Err(vm.value_error("__len__() should return >= 0")),
                    Value::Int(_) | Value::Bool(_) => Ok(r),
                    _ => Err(vm.type_error(format!(
                        "'{}' object cannot be interpreted as an integer",
                        vm.type_name(&r)
                    ))),
                };
            }
            if let Some(p) = super::payload_value(&v) {
                return len(vm, Args::new(vec![p]));
            }
            return Err(vm.type_error(format!(
                "object of type '{}' has no len()",
                vm.type_name(&v)
            )));
        }
        _ => {
            return Err(vm.type_error(format!("object of type '{}' has no len()", vm.type_name(v))))
        }
    };
    Ok(Value::Int(n as i64))
}

/// `exit(code=None)`: raises SystemExit(code), as the site module's `Quitter` does.
fn site_exit(vm: &mut Vm, a: Args) -> PyResult<Value> {
    check_args(vm, "exit", &a, 0, 1)?;
    let class = vm.exc_class("SystemExit");
    Ok(vm.new_exception(&class, a.pos)).and_then(Err)
}

/// The attributes `dir()` finds on every object (CPython's `object.__dict__`).
const OBJECT_ATTRS: [&str; 24] = [
    "__class__",
    "__delattr__",
    "__dir__",
    "__doc__",
    "__eq__",
    "__format__",
    "__ge__",
    "__getattribute__",
    "__getstate__",
    "__gt__",
    "__hash__",
    "__init__",
    "__init_subclass__",
    "__le__",
    "__lt__",
    "__ne__",
    "__new__",
    "__reduce__",
    "__reduce_ex__",
    "__repr__",
    "__setattr__",
    "__sizeof__",
    "__str__",
    "__subclasshook__",
];

/// `locals()`: the calling frame's bound local variables (its cells included), as a new dict;
/// the namespace itself in a class body, the globals at module level.
fn locals(vm: &mut Vm, a: Args) -> PyResult<Value> {
    check_args(vm, "locals", &a, 0, 0)?;
    let Some(f) = vm.frames.last() else {
        return Ok(vm.new_dict());
    };
    if let Some(ns) = f.namespace().cloned() {
        return ops::dict_from_attrs(vm, &ns.borrow());
    }
    if f.code.flags.module {
        let g = f.globals.clone();
        return ops::dict_from_attrs(vm, &g.dict.borrow());
    }
    let code = f.code.clone();
    let base = f.base();
    let cells: Vec<_> = f.cells().to_vec();
    let mut pairs = Vec::new();
    for (i, name) in code.varnames.iter().enumerate() {
        match vm.stack.get(base + i) {
            Some(v) if !v.is_null() => pairs.push((name.clone(), v.clone())),
            _ => {}
        }
    }
    for (name, cell) in code.cellvars.iter().chain(code.freevars.iter()).zip(&cells) {
        let v = cell.borrow().clone();
        if v.is_null() {
            continue;
        }
        // A parameter that is also a cell lives in the cell, but keeps its place in the order.
        match pairs.iter_mut().find(|(n, _)| n.s == name.s) {
            Some(slot) => slot.1 = v,
            None => pairs.push((name.clone(), v)),
        }
    }
    let d = vm.new_dict();
    for (k, v) in pairs {
        ops::dict_set(vm, &d, Value::Str(k), v)?;
    }
    Ok(d)
}

fn isinstance(vm: &mut Vm, a: Args) -> PyResult<Value> {
    check_args(vm, "isinstance", &a, 2, 2)?;
    let t = vm.type_of(&a.pos[0]);
    Ok(Value::Bool(class_check(
        vm,
        Check::Instance(&a.pos[0]),
        &t,
        &a.pos[1],
    )?))
}

fn issubclass(vm: &mut Vm, a: Args) -> PyResult<Value> {
    check_args(vm, "issubclass", &a, 2, 2)?;
    let Value::Class(c) = &a.pos[0] else {
        return Err(vm.type_error("issubclass() arg 1 must be a class"));
    };
    Ok(Value::Bool(class_check(vm, Check::Subclass, c, &a.pos[1])?))
}

/// Which builtin is asking: `isinstance` (of this object) or `issubclass`.
#[derive(Clone, Copy)]
enum Check<'a> {
    Instance(&'a Value),
    Subclass,
}

/// `isinstance(obj, spec)` with `t = type(obj)`, or `issubclass(t, spec)`: `spec` is a class, a
/// tuple of specs, a union, or an object whose type defines `__instancecheck__` /
/// `__subclasscheck__` (typing's aliases, as with CPython's metaclass protocol).
fn class_check(
    vm: &mut Vm,
    check: Check,
    t: &Rc<crate::objects::class::Class>,
    spec: &Value,
) -> PyResult<bool> {
    let fname = match check {
        Check::Instance(_) => "isinstance",
        Check::Subclass => "issubclass",
    };
    match spec {
        Value::Class(c) => {
            if t.is_subclass(c) {
                return Ok(true);
            }
            // What a metaclass's `__instancecheck__` would decide (runtime-checkable protocols).
            if let Check::Instance(obj) = check {
                if c.slots.get().has_instancecheck {
                    if let Some(hook) = c.lookup(crate::objects::class::INSTANCECHECK) {
                        let hook = match hook {
                            Value::ClassMethod(f) => (*f).clone(),
                            f => f,
                        };
                        let r = vm.call(&hook, vec![Value::Class(c.clone()), obj.clone()])?;
                        if ops::truthy(vm, &r)? {
                            return Ok(true);
                        }
                    }
                }
            }
            virtual_subclass(vm, t, c)
        }
        Value::Tuple(items) => {
            for item in items.iter() {
                if class_check(vm, check, t, item)? {
                    return Ok(true);
                }
            }
            Ok(false)
        }
        Value::None => Ok(t.is_subclass(&vm.types.none)),
        v if super::generic_alias::is_alias(v) => Err(vm.type_error(format!(
            "{fname}() argument 2 cannot be a parameterized generic"
        ))),
        _ => {
            if let Some(members) = super::methods::union_args(spec) {
                return class_check(vm, check, t, &Value::tuple(members));
            }
            let (hook_name, subject) = match check {
                Check::Instance(obj) => ("__instancecheck__", obj.clone()),
                Check::Subclass => ("__subclasscheck__", Value::Class(t.clone())),
            };
            match vm.type_of(spec).lookup(hook_name) {
                Some(hook) => {
                    let r = vm.call(&hook, vec![spec.clone(), subject])?;
                    ops::truthy(vm, &r)
                }
                None => Err(vm.type_error(format!(
                    "{fname}() arg 2 must be a type, a tuple of types, or a union"
                ))),
            }
        }
    }
}

/// `isinstance`/`issubclass` past the MRO. Eddy has no metaclasses, so a class deriving from
/// `abc.ABC` (the `collections.abc` classes do) answers through `__eddy_subclasscheck__`,
/// abc.rs's stand-in for `ABCMeta.__subclasscheck__`: `__subclasshook__`, then registered
/// virtual subclasses, then the class's own subclasses.
fn virtual_subclass(
    vm: &mut Vm,
    sub: &Rc<crate::objects::class::Class>,
    cls: &Rc<crate::objects::class::Class>,
) -> PyResult<bool> {
    // A flag test first: a failing isinstance against a plain class is common and cheap.
    if !cls.slots.get().has_subclasscheck {
        return Ok(false);
    }
    let Some(hook) = cls.lookup(crate::objects::class::SUBCLASSCHECK) else {
        return Ok(false);
    };
    let r = vm.call(
        &hook,
        vec![Value::Class(cls.clone()), Value::Class(sub.clone())],
    )?;
    crate::ops::truthy(vm, &r)
}

/// `super(cls, obj)`: a proxy whose attribute lookups start after `cls` in obj's MRO.
fn super_(vm: &mut Vm, a: Args) -> PyResult<Value> {
    if a.pos.len() != 2 {
        return Err(vm.error("RuntimeError", "super(): no arguments"));
    }
    let Value::Class(start) = &a.pos[0] else {
        return Err(vm.type_error("super() argument 1 must be a type"));
    };
    let obj = a.pos[1].clone();
    let cls = match &obj {
        Value::Class(c) => c.clone(),
        v => vm.type_of(v),
    };
    let proxy_class = super::methods::super_class(vm);
    let inst = crate::call::new_instance(vm, &proxy_class, &Args::default())?;
    if let Value::Instance(i) = &inst {
        let mut d = i.dict.borrow_mut();
        d.insert(
            crate::value::StrKey(vm.intern("__thisclass__")),
            Value::Class(start.clone()),
        );
        d.insert(crate::value::StrKey(vm.intern("__self__")), obj);
        d.insert(
            crate::value::StrKey(vm.intern("__self_class__")),
            Value::Class(cls),
        );
    }
    Ok(inst)
}
