//! Calling a built-in class: `int(x)`, `str(x)`, `list(it)`, `ValueError("msg")`, `type(x)`, ...

use std::cell::RefCell;
use std::rc::Rc;

use num_bigint::BigInt;

use super::check_args;
use crate::objects::class::{BuiltinKind, Class};
use crate::objects::function::Args;
use crate::objects::misc::{Property, Range, Slice};
use crate::ops;
use crate::value::Value;
use crate::vm::Vm;
use crate::PyResult;

pub fn install(_vm: &mut Vm) {}

pub fn for_kind(kind: BuiltinKind) -> Option<super::Constructor> {
    Some(match kind {
        BuiltinKind::Object => |vm, _c, a| {
            if !a.pos.is_empty() || !a.kw.is_empty() {
                return Err(vm.type_error("object() takes no arguments"));
            }
            let c = vm.types.object.clone();
            crate::call::new_instance(vm, &c, &a)
        },
        BuiltinKind::Type => type_new,
        BuiltinKind::Int => int_new,
        BuiltinKind::Bool => |vm, _c, a| {
            check_args(vm, "bool", &a, 0, 1)?;
            match a.pos.first() {
                Some(v) => Ok(Value::Bool(ops::truthy(vm, v)?)),
                None => Ok(Value::Bool(false)),
            }
        },
        BuiltinKind::Float => float_new,
        BuiltinKind::Str => |vm, _c, mut a| {
            // `str(x)`, by far the most common form.
            if let ([v], true) = (&a.pos[..], a.kw.is_empty()) {
                return ops::str_value(vm, v);
            }
            let encoding = a.take_kw("encoding");
            if a.pos.is_empty() {
                return Ok(Value::str(""));
            }
            match (&a.pos[0], encoding.or_else(|| a.pos.get(1).cloned())) {
                (Value::Bytes(b), Some(_)) => match String::from_utf8(b.to_vec()) {
                    Ok(s) => Ok(Value::string(s)),
                    Err(_) => {
                        Err(vm.error("UnicodeDecodeError", "'utf-8' codec can't decode bytes"))
                    }
                },
                (v, _) => {
                    let v = v.clone();
                    ops::str_value(vm, &v)
                }
            }
        },
        BuiltinKind::Bytes => bytes_new,
        BuiltinKind::List => |vm, _c, a| {
            check_args(vm, "list", &a, 0, 1)?;
            match a.pos.first() {
                Some(v) => {
                    let v = v.clone();
                    Ok(Value::list(ops::collect(vm, &v)?))
                }
                None => Ok(Value::list(vec![])),
            }
        },
        BuiltinKind::Tuple => |vm, _c, a| {
            check_args(vm, "tuple", &a, 0, 1)?;
            match a.pos.first() {
                Some(Value::Tuple(t)) => Ok(Value::Tuple(t.clone())),
                Some(v) => {
                    let v = v.clone();
                    Ok(Value::tuple(ops::collect(vm, &v)?))
                }
                None => Ok(Value::tuple(vec![])),
            }
        },
        BuiltinKind::Dict => |vm, _c, a| {
            if a.pos.len() > 1 {
                return Err(vm.type_error(format!(
                    "dict expected at most 1 argument, got {}",
                    a.pos.len()
                )));
            }
            let d = vm.new_dict();
            if let Some(v) = a.pos.first() {
                let v = v.clone();
                ops::dict_update_from(vm, &d, &v, false)?;
            }
            for (k, v) in a.kw {
                ops::dict_set(vm, &d, Value::Str(k), v)?;
            }
            Ok(d)
        },
        BuiltinKind::Set | BuiltinKind::FrozenSet => |vm, c, a| {
            let name = if c.kind == BuiltinKind::Set {
                "set"
            } else {
                "frozenset"
            };
            if !a.kw.is_empty() {
                return Err(vm.type_error(format!("{name}() takes no keyword arguments")));
            }
            if a.pos.len() > 1 {
                return Err(vm.type_error(format!(
                    "{name} expected at most 1 argument, got {}",
                    a.pos.len()
                )));
            }
            let frozen = c.kind == BuiltinKind::FrozenSet;
            match a.pos.first() {
                // frozenset(f) is f itself when f is exactly a frozenset.
                Some(v @ Value::FrozenSet(_)) if frozen => Ok(v.clone()),
                Some(v) => {
                    let v = v.clone();
                    let s = ops::set_from(vm, &v)?;
                    Ok(ops::wrap_set(frozen, s))
                }
                None => Ok(ops::wrap_set(frozen, ops::empty_set_data())),
            }
        },
        BuiltinKind::Range => |vm, _c, a| {
            check_args(vm, "range", &a, 1, 3)?;
            let mut n = Vec::new();
            for v in &a.pos {
                n.push(match v {
                    Value::Int(i) => *i,
                    Value::Bool(b) => *b as i64,
                    other => {
                        let other = other.clone();
                        if let Value::Instance(_) = other {
                            ops::index_value(vm, &other, "range")?
                        } else {
                            return Err(vm.type_error(format!(
                                "'{}' object cannot be interpreted as an integer",
                                vm.type_name(&other)
                            )));
                        }
                    }
                });
            }
            let (start, stop, step) = match n.len() {
                1 => (0, n[0], 1),
                2 => (n[0], n[1], 1),
                _ => (n[0], n[1], n[2]),
            };
            if step == 0 {
                return Err(vm.value_error("range() arg 3 must not be zero"));
            }
            Ok(Value::Range(Rc::new(Range { start, stop, step })))
        },
        BuiltinKind::Slice => |vm, _c, a| {
            check_args(vm, "slice", &a, 1, 3)?;
            let p = &a.pos;
            let (start, stop, step) = match p.len() {
                1 => (Value::None, p[0].clone(), Value::None),
                2 => (p[0].clone(), p[1].clone(), Value::None),
                _ => (p[0].clone(), p[1].clone(), p[2].clone()),
            };
            Ok(Value::Slice(Rc::new(Slice { start, stop, step })))
        },
        BuiltinKind::Property => |vm, _c, mut a| {
            let fget = a
                .take_kw("fget")
                .or_else(|| a.pos.first().cloned())
                .unwrap_or(Value::None);
            let fset = a
                .take_kw("fset")
                .or_else(|| a.pos.get(1).cloned())
                .unwrap_or(Value::None);
            let fdel = a
                .take_kw("fdel")
                .or_else(|| a.pos.get(2).cloned())
                .unwrap_or(Value::None);
            let mut doc = a
                .take_kw("doc")
                .or_else(|| a.pos.get(3).cloned())
                .unwrap_or(Value::None);
            // Without an explicit doc, a property documents itself with its getter's docstring.
            if doc.is_none() && !fget.is_none() {
                doc = crate::attr::try_get_attr(vm, &fget, "__doc__")?.unwrap_or(Value::None);
            }
            Ok(Value::Property(Rc::new(Property {
                fget,
                fset,
                fdel,
                doc,
            })))
        },
        BuiltinKind::StaticMethod => |vm, _c, a| {
            check_args(vm, "staticmethod", &a, 1, 1)?;
            Ok(Value::StaticMethod(Rc::new(a.pos[0].clone())))
        },
        BuiltinKind::ClassMethod => |vm, _c, a| {
            check_args(vm, "classmethod", &a, 1, 1)?;
            Ok(Value::ClassMethod(Rc::new(a.pos[0].clone())))
        },
        BuiltinKind::BaseException => |vm, c, a| {
            if c.is_subclass(&vm.exc_class("BaseExceptionGroup")) {
                return exception_group_new(vm, c, a);
            }
            if c.is_subclass(&vm.exc_class("OSError")) {
                return os_error_new(vm, c, a);
            }
            Ok(vm.new_exception(c, a.pos))
        },
        BuiltinKind::Iterator => |vm, c, a| {
            let it = &vm.types.iters;
            let f: crate::objects::function::NativeFn = if Rc::ptr_eq(c, &it.enumerate) {
                super::methods::builtin_enumerate
            } else if Rc::ptr_eq(c, &it.zip) {
                super::methods::builtin_zip
            } else if Rc::ptr_eq(c, &it.map) {
                super::methods::builtin_map
            } else if Rc::ptr_eq(c, &it.filter) {
                super::methods::builtin_filter
            } else if Rc::ptr_eq(c, &it.reversed) {
                super::methods::builtin_reversed
            } else {
                return Err(vm.type_error(format!("cannot create '{}' instances", c.name())));
            };
            f(vm, a)
        },
        _ => return None,
    })
}

/// The OSError subclass CPython picks for an errno (`OSError(2, ...)` is a FileNotFoundError).
fn os_error_subclass(errno: i64) -> Option<&'static str> {
    Some(match errno {
        1 | 13 => "PermissionError",
        2 => "FileNotFoundError",
        3 => "ProcessLookupError",
        4 => "InterruptedError",
        10 => "ChildProcessError",
        11 | 114 | 115 => "BlockingIOError",
        17 => "FileExistsError",
        20 => "NotADirectoryError",
        21 => "IsADirectoryError",
        32 | 108 => "BrokenPipeError",
        103 => "ConnectionAbortedError",
        104 => "ConnectionResetError",
        110 => "TimeoutError",
        111 => "ConnectionRefusedError",
        _ => return None,
    })
}

/// `OSError(errno, strerror[, filename])`: a known errno selects the subclass, and a filename
/// is kept as an attribute rather than in `args`.
fn os_error_new(vm: &mut Vm, c: &Rc<Class>, a: Args) -> PyResult<Value> {
    let mut cls = c.clone();
    let errno = match a.pos.first() {
        Some(Value::Int(n)) if (2..=5).contains(&a.pos.len()) => Some(*n),
        _ => None,
    };
    if let Some(sub) = errno.and_then(os_error_subclass) {
        if Rc::ptr_eq(c, &vm.exc_class("OSError")) {
            cls = vm.exc_class(sub);
        }
    }
    let filename = if errno.is_some() {
        a.pos.get(2).filter(|f| !f.is_none()).cloned()
    } else {
        None
    };
    let args = if filename.is_some() {
        a.pos[..2].to_vec()
    } else {
        a.pos
    };
    let e = vm.new_exception(&cls, args);
    if let (Some(f), Value::Instance(i)) = (filename, &e) {
        i.dict
            .borrow_mut()
            .insert(crate::value::StrKey(vm.intern("filename")), f);
    }
    Ok(e)
}

fn exception_group_new(vm: &mut Vm, c: &Rc<Class>, a: Args) -> PyResult<Value> {
    check_args(vm, "BaseExceptionGroup.__new__", &a, 2, 2)?;
    let msg = a.pos[0].clone();
    if !matches!(msg, Value::Str(_)) {
        return Err(vm.type_error(format!(
            "BaseExceptionGroup.__new__() argument 1 must be str, not {}",
            vm.type_name(&msg)
        )));
    }
    // `args` keeps the sequence as given (a list stays a list in the repr).
    let seq = a.pos[1].clone();
    let items = match &seq {
        Value::List(l) => l.borrow().clone(),
        Value::Tuple(t) => t.to_vec(),
        _ => return Err(vm.type_error("second argument (exceptions) must be a sequence")),
    };
    if items.is_empty() {
        return Err(vm.value_error("second argument (exceptions) must be a non-empty sequence"));
    }
    let base = vm.exc_class("BaseException");
    if let Some(i) = items.iter().position(|i| !vm.isinstance(i, &base)) {
        return Err(vm.value_error(format!(
            "Item {i} of second argument (exceptions) is not an exception"
        )));
    }
    let exc_base = vm.exc_class("Exception");
    let mut cls = c.clone();
    // BaseExceptionGroup of plain Exceptions is an ExceptionGroup.
    if Rc::ptr_eq(c, &vm.exc_class("BaseExceptionGroup"))
        && items.iter().all(|i| vm.isinstance(i, &exc_base))
    {
        cls = vm.exc_class("ExceptionGroup");
    }
    if cls.is_subclass(&exc_base) && items.iter().any(|i| !vm.isinstance(i, &exc_base)) {
        return Err(vm.type_error("Cannot nest BaseExceptions in an ExceptionGroup"));
    }
    Ok(vm.new_exception(&cls, vec![msg, seq]))
}

fn type_new(vm: &mut Vm, _c: &Rc<Class>, a: Args) -> PyResult<Value> {
    match a.pos.len() {
        1 => Ok(Value::Class(vm.type_of(&a.pos[0]))),
        3 => {
            let name = ops::to_str(vm, &a.pos[0])?;
            let bases: Vec<Rc<Class>> = ops::collect(vm, &a.pos[1])?
                .into_iter()
                .filter_map(|b| match b {
                    Value::Class(c) => Some(c),
                    _ => None,
                })
                .collect();
            let bases = if bases.is_empty() {
                vec![vm.types.object.clone()]
            } else {
                bases
            };
            let kind = bases
                .iter()
                .map(|b| b.kind)
                .find(|k| *k != BuiltinKind::Object)
                .unwrap_or(BuiltinKind::Object);
            let cls = crate::types::new_class(&name, bases, kind, true);
            if let Some(d) = ops::dict_of(&a.pos[2]) {
                for (k, v) in d.borrow().items() {
                    if let Value::Str(s) = k {
                        cls.set_attr(s, v);
                    }
                }
            }
            if cls.dict.borrow().get("__module__").is_none() {
                cls.set_attr(vm.intern("__module__"), Value::str("__main__"));
            }
            Ok(Value::Class(cls))
        }
        _ => Err(vm.type_error("type() takes 1 or 3 arguments")),
    }
}

/// Parses Python int literal text in `base` (0 = infer from prefix), allowing underscores.
pub fn parse_int(text: &str, base: u32) -> Option<BigInt> {
    // As CPython, any Unicode decimal digit counts as its ASCII digit ('٣' is 3).
    let ascii;
    let text = if text.is_ascii() {
        text
    } else {
        ascii = text
            .chars()
            .map(|c| match super::decimal_value(c) {
                Some(d) if !c.is_ascii() => char::from_digit(d, 10).unwrap_or(c),
                _ => c,
            })
            .collect::<String>();
        &ascii
    };
    let t = text.trim();
    let (neg, t) = match t.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let lower = t.to_ascii_lowercase();
    let (base, digits) = match base {
        0 => {
            if let Some(r) = lower.strip_prefix("0x") {
                (16, r.to_string())
            } else if let Some(r) = lower.strip_prefix("0o") {
                (8, r.to_string())
            } else if let Some(r) = lower.strip_prefix("0b") {
                (2, r.to_string())
            } else {
                if lower.len() > 1
                    && lower.starts_with('0')
                    && lower.chars().any(|c| c != '0' && c != '_')
                {
                    return None;
                }
                (10, lower.clone())
            }
        }
        16 => (16, lower.strip_prefix("0x").unwrap_or(&lower).to_string()),
        8 => (8, lower.strip_prefix("0o").unwrap_or(&lower).to_string()),
        2 => (2, lower.strip_prefix("0b").unwrap_or(&lower).to_string()),
        b => (b, lower.clone()),
    };
    let digits = digits.strip_prefix('_').unwrap_or(&digits).to_string();
    if digits.is_empty() || digits.ends_with('_') || digits.contains("__") {
        return None;
    }
    let clean: String = digits.chars().filter(|c| *c != '_').collect();
    let n = BigInt::parse_bytes(clean.as_bytes(), base)?;
    Some(if neg { -n } else { n })
}

fn int_new(vm: &mut Vm, _c: &Rc<Class>, mut a: Args) -> PyResult<Value> {
    let base_kw = a.take_kw("base");
    super::reject_kw(vm, "int", &a)?;
    check_args(vm, "int", &a, 0, 2)?;
    let Some(x) = a.pos.first().cloned() else {
        if base_kw.is_some() {
            return Err(vm.type_error("int() missing string argument"));
        }
        return Ok(Value::Int(0));
    };
    let base = base_kw.or_else(|| a.pos.get(1).cloned());
    if let Some(b) = base {
        let b = match b {
            Value::Int(b) => b,
            _ => return Err(vm.type_error("'base' must be an integer")),
        };
        let text = match &x {
            Value::Str(s) => s.s.to_string(),
            Value::Bytes(b) => String::from_utf8_lossy(b).to_string(),
            _ => return Err(vm.type_error("int() can't convert non-string with explicit base")),
        };
        if b != 0 && !(2..=36).contains(&b) {
            return Err(vm.value_error("int() base must be >= 2 and <= 36, or 0"));
        }
        return match parse_int(&text, b as u32) {
            Some(n) => Ok(Value::from_bigint(n)),
            None => Err(vm.value_error(format!(
                "invalid literal for int() with base {}: {}",
                b,
                ops::str_repr(&text)
            ))),
        };
    }
    match &x {
        Value::Int(_) | Value::BigInt(_) => Ok(x),
        Value::Bool(b) => Ok(Value::Int(*b as i64)),
        Value::Float(f) => {
            if f.is_nan() {
                return Err(vm.value_error("cannot convert float NaN to integer"));
            }
            if f.is_infinite() {
                return Err(vm.error("OverflowError", "cannot convert float infinity to integer"));
            }
            let t = f.trunc();
            if t.abs() < 9.2e18 {
                Ok(Value::Int(t as i64))
            } else {
                Ok(Value::from_bigint(
                    BigInt::parse_bytes(format!("{:.0}", t).as_bytes(), 10).unwrap_or_default(),
                ))
            }
        }
        Value::Str(s) => match parse_int(&s.s, 10) {
            Some(n) => Ok(Value::from_bigint(n)),
            None => Err(vm.value_error(format!(
                "invalid literal for int() with base 10: {}",
                ops::str_repr(&s.s)
            ))),
        },
        Value::Bytes(b) => match parse_int(&String::from_utf8_lossy(b), 10) {
            Some(n) => Ok(Value::from_bigint(n)),
            None => Err(vm.value_error(format!(
                "invalid literal for int() with base 10: {}",
                ops::bytes_repr(b)
            ))),
        },
        _ => {
            for name in ["__int__", "__index__", "__trunc__"] {
                if let Some(f) = vm.type_of(&x).lookup(name) {
                    return vm.call(&f, vec![x.clone()]);
                }
            }
            if let Some(p) = super::payload_value(&x) {
                return int_new(vm, _c, Args::new(vec![p]));
            }
            Err(vm.type_error(format!(
                "int() argument must be a string, a bytes-like object or a real number, not '{}'",
                vm.type_name(&x)
            )))
        }
    }
}

/// Parses float text as Python's `float()` accepts it.
pub fn parse_float(text: &str) -> Option<f64> {
    let t = text.trim();
    let lower = t.to_ascii_lowercase();
    match lower.trim_start_matches(['+', '-']) {
        "inf" | "infinity" => {
            return Some(if lower.starts_with('-') {
                f64::NEG_INFINITY
            } else {
                f64::INFINITY
            })
        }
        "nan" => return Some(f64::NAN),
        _ => {}
    }
    if t.contains("__") || t.starts_with('_') || t.ends_with('_') {
        return None;
    }
    let clean: String = t.chars().filter(|c| *c != '_').collect();
    if clean.is_empty()
        || !clean
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '+' | '-'))
    {
        return None;
    }
    clean.parse::<f64>().ok()
}

fn float_new(vm: &mut Vm, _c: &Rc<Class>, a: Args) -> PyResult<Value> {
    check_args(vm, "float", &a, 0, 1)?;
    let Some(x) = a.pos.first().cloned() else {
        return Ok(Value::Float(0.0));
    };
    match &x {
        Value::Float(_) => Ok(x),
        Value::Int(i) => Ok(Value::Float(*i as f64)),
        Value::Bool(b) => Ok(Value::Float(*b as i64 as f64)),
        Value::BigInt(_) => match ops::to_f64(&x) {
            Some(f) if f.is_finite() => Ok(Value::Float(f)),
            _ => Err(vm.error("OverflowError", "int too large to convert to float")),
        },
        Value::Str(s) => match parse_float(&s.s) {
            Some(f) => Ok(Value::Float(f)),
            None => Err(vm.value_error(format!(
                "could not convert string to float: {}",
                ops::str_repr(&s.s)
            ))),
        },
        _ => {
            if let Some(f) = vm.type_of(&x).lookup("__float__") {
                return vm.call(&f, vec![x.clone()]);
            }
            if let Some(f) = vm.type_of(&x).lookup("__index__") {
                let i = vm.call(&f, vec![x.clone()])?;
                return float_new(vm, _c, Args::new(vec![i]));
            }
            Err(vm.type_error(format!(
                "float() argument must be a string or a real number, not '{}'",
                vm.type_name(&x)
            )))
        }
    }
}

#[allow(dead_code)]
fn _unused() -> RefCell<()> {
    RefCell::new(())
}

/// `bytes()`, `bytes(n)`, `bytes(iterable_of_ints)`, `bytes(obj_with___bytes__)` and
/// `bytes(str, encoding[, errors])`, with CPython's errors for the mismatched forms.
fn bytes_new(vm: &mut Vm, _c: &Rc<Class>, mut a: Args) -> PyResult<Value> {
    let encoding = a.take_kw("encoding");
    let errors = a.take_kw("errors");
    super::reject_kw(vm, "bytes", &a)?;
    let given = a.pos.len() + encoding.is_some() as usize + errors.is_some() as usize;
    if given > 3 {
        return Err(vm.type_error(format!("bytes() takes at most 3 arguments ({given} given)")));
    }
    let mut pos = a.pos.into_iter();
    let source = pos.next();
    let encoding = encoding.or_else(|| pos.next());
    let errors = errors.or_else(|| pos.next());
    let Some(source) = source else {
        if encoding.is_some() {
            return Err(vm.type_error("encoding without a string argument"));
        }
        if errors.is_some() {
            return Err(vm.type_error("errors without a string argument"));
        }
        return Ok(Value::Bytes(Rc::new(Vec::new())));
    };
    if let Value::Str(_) = source {
        let Some(enc) = encoding else {
            return Err(vm.type_error("string argument without an encoding"));
        };
        let mut args = vec![enc];
        args.extend(errors);
        return vm.call_method(&source, "encode", args);
    }
    if encoding.is_some() {
        return Err(vm.type_error("encoding without a string argument"));
    }
    if errors.is_some() {
        return Err(vm.type_error("errors without a string argument"));
    }
    bytes_from(vm, source)
}

/// `bytes(x)` for a non-str `x`.
fn bytes_from(vm: &mut Vm, source: Value) -> PyResult<Value> {
    match &source {
        Value::Bytes(_) => return Ok(source),
        Value::Int(n) if *n < 0 => return Err(vm.value_error("negative count")),
        Value::Int(n) => return Ok(Value::Bytes(Rc::new(vec![0; *n as usize]))),
        Value::Bool(b) => return Ok(Value::Bytes(Rc::new(vec![0; *b as usize]))),
        _ => {}
    }
    if let Some(f) = vm.type_of(&source).lookup("__bytes__") {
        let r = vm.call(&f, vec![source.clone()])?;
        return match r {
            Value::Bytes(_) => Ok(r),
            other => Err(vm.type_error(format!(
                "__bytes__ returned non-bytes (type {})",
                vm.type_name(&other)
            ))),
        };
    }
    let it = match ops::get_iter(vm, &source) {
        Ok(it) => it,
        Err(e) if vm.exc_matches(&e, "TypeError") => {
            return Err(vm.type_error(format!(
                "cannot convert '{}' object to bytes",
                vm.type_name(&source)
            )))
        }
        Err(e) => return Err(e),
    };
    let items = ops::collect(vm, &it)?;
    let mut out = Vec::with_capacity(items.len());
    for i in items {
        let n = ops::int_arg(vm, &i)?;
        match u8::try_from(n) {
            Ok(b) => out.push(b),
            Err(_) => return Err(vm.value_error("bytes must be in range(0, 256)")),
        }
    }
    Ok(Value::Bytes(Rc::new(out)))
}
