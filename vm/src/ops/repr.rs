//! `repr()` and `str()`: byte-identical to CPython for the built-in types, including the
//! shortest round-trip float repr. `format()` and its mini-language are in `format_spec.rs`.

use num_bigint::BigInt;

use crate::objects::class::Payload;
use crate::value::Value;
use crate::vm::Vm;
use crate::PyResult;

/// Python's `repr(float)`: shortest digits that round-trip, switching to exponent form outside
/// 1e-4 <= |x| < 1e16.
pub fn float_repr(f: f64) -> String {
    if f.is_nan() {
        return "nan".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "inf".into() } else { "-inf".into() };
    }
    if f == 0.0 {
        return if f.is_sign_negative() {
            "-0.0".into()
        } else {
            "0.0".into()
        };
    }
    let e_form = format!("{:e}", f);
    let (mant, exp) = e_form.split_once('e').unwrap();
    let exp: i32 = exp.parse().unwrap();
    let neg = mant.starts_with('-');
    let digits: String = mant.chars().filter(|c| c.is_ascii_digit()).collect();
    let mut out = String::new();
    if neg {
        out.push('-');
    }
    if (-4..16).contains(&exp) {
        if exp >= 0 {
            let e = exp as usize;
            if digits.len() > e + 1 {
                out.push_str(&digits[..e + 1]);
                out.push('.');
                out.push_str(&digits[e + 1..]);
            } else {
                out.push_str(&digits);
                for _ in digits.len()..e + 1 {
                    out.push('0');
                }
                out.push_str(".0");
            }
        } else {
            out.push_str("0.");
            for _ in 0..(-exp - 1) {
                out.push('0');
            }
            out.push_str(&digits);
        }
    } else {
        out.push_str(&digits[..1]);
        if digits.len() > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        out.push('e');
        out.push(if exp < 0 { '-' } else { '+' });
        out.push_str(&format!("{:02}", exp.abs()));
    }
    out
}

/// Python's repr of a str: single quotes unless the text has a single quote and no double quote.
pub fn str_repr(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(s.len() + 2);
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c if (0x80..0xa0).contains(&(c as u32)) => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c if !c.is_ascii() && !crate::builtins::is_printable(c) => {
                let n = c as u32;
                if n <= 0xff {
                    out.push_str(&format!("\\x{:02x}", n));
                } else if n <= 0xffff {
                    out.push_str(&format!("\\u{:04x}", n));
                } else {
                    out.push_str(&format!("\\U{:08x}", n));
                }
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

pub fn bytes_repr(b: &[u8]) -> String {
    let quote = if b.contains(&b'\'') && !b.contains(&b'"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::from("b");
    out.push(quote);
    for &c in b {
        match c {
            b'\\' => out.push_str("\\\\"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            c if c as char == quote => {
                out.push('\\');
                out.push(c as char);
            }
            0x20..=0x7e => out.push(c as char),
            c => out.push_str(&format!("\\x{:02x}", c)),
        }
    }
    out.push(quote);
    out
}

thread_local! {
    /// Containers being repr'd right now, so a self-referencing one prints `[...]`.
    static REPR_STACK: std::cell::RefCell<Vec<usize>> = const { std::cell::RefCell::new(Vec::new()) };
}

struct ReprGuard(usize);
impl Drop for ReprGuard {
    fn drop(&mut self) {
        REPR_STACK.with(|s| {
            let mut s = s.borrow_mut();
            if let Some(pos) = s.iter().rposition(|x| *x == self.0) {
                s.remove(pos);
            }
        });
    }
}

fn enter_repr(v: &Value) -> Option<ReprGuard> {
    let id = v.ptr_id()?;
    REPR_STACK.with(|s| {
        let mut s = s.borrow_mut();
        if s.contains(&id) {
            None
        } else {
            s.push(id);
            Some(ReprGuard(id))
        }
    })
}

fn join_reprs(vm: &mut Vm, items: &[Value]) -> PyResult<String> {
    let mut out = String::new();
    for (i, v) in items.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        out.push_str(&repr(vm, v)?);
    }
    Ok(out)
}

/// The module-qualified name CPython shows for a class (`__main__.Foo`, or `int` for builtins).
pub fn class_display_name(c: &crate::objects::class::Class) -> String {
    let module = c
        .dict
        .borrow()
        .get("__module__")
        .and_then(|m| m.as_str().map(|s| s.to_string()));
    let q = c.qualname.borrow().s.to_string();
    match module {
        Some(m) if m != "builtins" => format!("{m}.{q}"),
        _ => q,
    }
}

/// The decimal digits of `i`, in a string of exactly that length. `str(n)` and f-strings format
/// ints all the time; this skips `fmt`'s machinery (`i.to_string()` costs several times more) and
/// leaves no spare capacity for `Value::string` to shrink away.
pub fn int_to_string(i: i64) -> String {
    // 19 digits and a sign hold any i64.
    let mut buf = [0u8; 20];
    let mut pos = buf.len();
    let mut n = i.unsigned_abs();
    loop {
        pos -= 1;
        buf[pos] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    if i < 0 {
        pos -= 1;
        buf[pos] = b'-';
    }
    // SAFETY: `buf[pos..]` holds only the ASCII bytes b'0'..=b'9' and b'-' written above,
    // which are valid UTF-8; skipping the check is what makes this cheaper than `to_string`.
    unsafe { String::from_utf8_unchecked(buf[pos..].to_vec()) }
}

/// `str(v)` as a value: an exact str is returned as is (as CPython does), anything else is
/// converted with `to_str`.
pub fn str_value(vm: &mut Vm, v: &Value) -> PyResult<Value> {
    match v {
        Value::Str(_) => Ok(v.clone()),
        Value::Int(i) => Ok(Value::string(int_to_string(*i))),
        _ => Ok(Value::string(to_str(vm, v)?)),
    }
}

/// `repr(v)`.
pub fn repr(vm: &mut Vm, v: &Value) -> PyResult<String> {
    Ok(match v {
        Value::Null => "<NULL>".into(),
        Value::None => "None".into(),
        Value::NotImplemented => "NotImplemented".into(),
        Value::Ellipsis => "Ellipsis".into(),
        Value::Bool(b) => (if *b { "True" } else { "False" }).into(),
        Value::Int(i) => int_to_string(*i),
        Value::BigInt(b) => bigint_to_string(vm, b)?,
        Value::Float(f) => float_repr(*f),
        Value::Str(s) => str_repr(&s.s),
        Value::Bytes(b) => bytes_repr(b),
        Value::List(l) => {
            let Some(_g) = enter_repr(v) else {
                return Ok("[...]".into());
            };
            let items = l.borrow().clone();
            format!("[{}]", join_reprs(vm, &items)?)
        }
        Value::Tuple(t) => {
            let Some(_g) = enter_repr(v) else {
                return Ok("(...)".into());
            };
            if t.len() == 1 {
                format!("({},)", repr(vm, &t[0])?)
            } else {
                format!("({})", join_reprs(vm, t)?)
            }
        }
        Value::Dict(d) => {
            let Some(_g) = enter_repr(v) else {
                return Ok("{...}".into());
            };
            let items = d.borrow().items();
            dict_repr(vm, &items)?
        }
        Value::Set(_) | Value::FrozenSet(_) => set_repr(vm, v, None)?,
        Value::Range(r) => {
            if r.step == 1 {
                format!("range({}, {})", r.start, r.stop)
            } else {
                format!("range({}, {}, {})", r.start, r.stop, r.step)
            }
        }
        Value::Slice(s) => format!(
            "slice({}, {}, {})",
            repr(vm, &s.start)?,
            repr(vm, &s.stop)?,
            repr(vm, &s.step)?
        ),
        Value::Function(f) => format!(
            "<function {} at 0x{:x}>",
            f.qualname.borrow().s,
            v.ptr_id().unwrap_or(0)
        ),
        Value::Native(n) => format!("<built-in function {}>", n.name.s),
        Value::BoundMethod(m) => {
            let fname = match &m.func {
                Value::Function(f) => f.qualname.borrow().s.to_string(),
                Value::Native(n) => n.name.s.to_string(),
                _ => "?".into(),
            };
            match &m.func {
                Value::Native(n) => format!(
                    "<built-in method {} of {} object at 0x{:x}>",
                    n.name.s,
                    vm.type_name(&m.receiver),
                    m.receiver.ptr_id().unwrap_or(0)
                ),
                _ => format!("<bound method {} of {}>", fname, repr(vm, &m.receiver)?),
            }
        }
        Value::Class(c) => match c.lookup("__class_repr__") {
            // A stand-in for a metaclass __repr__ (see ops::get_iter).
            Some(f) => match vm.call(&f, vec![v.clone()])? {
                Value::Str(s) => s.s.to_string(),
                other => {
                    return Err(vm.type_error(format!(
                        "__repr__ returned non-string (type {})",
                        vm.type_name(&other)
                    )))
                }
            },
            None => format!("<class '{}'>", class_display_name(c)),
        },
        Value::Module(m) => format!("<module '{}'>", m.name.s),
        Value::Generator(g) => {
            let kind = match g.kind() {
                crate::objects::generator::GenKind::Generator => "generator",
                crate::objects::generator::GenKind::Coroutine => "coroutine",
                crate::objects::generator::GenKind::AsyncGenerator => "async_generator",
            };
            format!(
                "<{} object {} at 0x{:x}>",
                kind,
                g.qualname().s,
                v.ptr_id().unwrap_or(0)
            )
        }
        Value::Iterator(_) => format!(
            "<{} object at 0x{:x}>",
            vm.type_name(v),
            v.ptr_id().unwrap_or(0)
        ),
        Value::Cell(_) => "<cell>".into(),
        Value::Code(c) => format!(
            "<code object {} at 0x{:x}>",
            c.name.s,
            v.ptr_id().unwrap_or(0)
        ),
        Value::Property(_) => format!("<property object at 0x{:x}>", v.ptr_id().unwrap_or(0)),
        Value::StaticMethod(_) => {
            format!("<staticmethod object at 0x{:x}>", v.ptr_id().unwrap_or(0))
        }
        Value::ClassMethod(_) => format!("<classmethod object at 0x{:x}>", v.ptr_id().unwrap_or(0)),
        Value::Instance(inst) => {
            let cls = inst.class.clone();
            if let Some(f) = cls.lookup_custom("__repr__") {
                let Some(_g) = enter_repr(v) else {
                    return Ok("...".into());
                };
                let r = vm.call(&f, vec![v.clone()])?;
                return match r {
                    Value::Str(s) => Ok(s.s.to_string()),
                    _ => Err(vm.type_error(format!(
                        "__repr__ returned non-string (type {})",
                        vm.type_name(&r)
                    ))),
                };
            }
            if inst.exception().is_some() {
                return exception_repr(vm, v);
            }
            match &inst.payload {
                Payload::Dict(d) => {
                    let items = d.borrow().items();
                    return dict_repr(vm, &items);
                }
                Payload::Value(p)
                    if matches!(&*p.borrow(), Value::Set(_) | Value::FrozenSet(_)) =>
                {
                    let p = p.borrow().clone();
                    return set_repr(vm, &p, Some(cls.name().to_string()));
                }
                Payload::List(_) | Payload::Tuple(_) | Payload::Value(_) => {
                    if let Some(p) = crate::builtins::payload_value(v) {
                        return repr(vm, &p);
                    }
                }
                _ => {}
            }
            format!(
                "<{} object at 0x{:x}>",
                class_display_name(&cls),
                v.ptr_id().unwrap_or(0)
            )
        }
    })
}

/// `{1, 2}`, `set()`, `frozenset({1})`, or for a subclass instance `Name({1, 2})` / `Name()`.
fn set_repr(vm: &mut Vm, v: &Value, subclass: Option<String>) -> PyResult<String> {
    let (Value::Set(s) | Value::FrozenSet(s)) = v else {
        return Ok(String::new());
    };
    let name = match (&subclass, v) {
        (Some(n), _) => n.as_str(),
        (None, Value::FrozenSet(_)) => "frozenset",
        _ => "set",
    };
    let Some(_g) = enter_repr(v) else {
        return Ok(format!("{name}(...)"));
    };
    let items = s.borrow().keys();
    if items.is_empty() {
        return Ok(format!("{name}()"));
    }
    let body = join_reprs(vm, &items)?;
    Ok(match (&subclass, v) {
        (None, Value::Set(_)) => format!("{{{body}}}"),
        _ => format!("{name}({{{body}}})"),
    })
}

fn dict_repr(vm: &mut Vm, items: &[(Value, Value)]) -> PyResult<String> {
    let mut out = String::from("{");
    for (i, (k, val)) in items.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        out.push_str(&repr(vm, k)?);
        out.push_str(": ");
        out.push_str(&repr(vm, val)?);
    }
    out.push('}');
    Ok(out)
}

/// Decimal text of a big int, refusing absurd sizes as CPython 3.11 does (4300 digits).
pub fn bigint_to_string(vm: &mut Vm, b: &BigInt) -> PyResult<String> {
    if b.bits() > 14_300 {
        return Err(vm.value_error("Exceeds the limit (4300 digits) for integer string conversion; use sys.set_int_max_str_digits() to increase the limit"));
    }
    Ok(b.to_string())
}

/// `str(v)`.
pub fn to_str(vm: &mut Vm, v: &Value) -> PyResult<String> {
    match v {
        Value::Str(s) => Ok(s.s.to_string()),
        Value::Instance(inst) => {
            let cls = inst.class.clone();
            if let Some(f) = cls.lookup_custom("__str__") {
                let r = vm.call(&f, vec![v.clone()])?;
                return match r {
                    Value::Str(s) => Ok(s.s.to_string()),
                    _ => Err(vm.type_error(format!(
                        "__str__ returned non-string (type {})",
                        vm.type_name(&r)
                    ))),
                };
            }
            if cls.lookup_custom("__repr__").is_some() {
                return repr(vm, v);
            }
            if inst.exception().is_some() {
                return exception_str(vm, v);
            }
            if let Some(p) = crate::builtins::payload_value(v) {
                // A set subclass prints as `Name({...})`, which only the instance's repr knows.
                if !matches!(p, Value::Set(_) | Value::FrozenSet(_)) {
                    return to_str(vm, &p);
                }
            }
            repr(vm, v)
        }
        _ => repr(vm, v),
    }
}

/// FORMAT_VALUE: conversion (0 none, 1 str, 2 repr, 3 ascii) then `format(v, spec)`.
pub fn format_value(
    vm: &mut Vm,
    v: Value,
    conversion: u32,
    spec: Option<Value>,
) -> PyResult<Value> {
    let v = match conversion {
        1 => str_value(vm, &v)?,
        2 => Value::string(repr(vm, &v)?),
        3 => Value::string(ascii(&repr(vm, &v)?)),
        _ => v,
    };
    let spec = match &spec {
        Some(Value::Str(s)) => s.s.to_string(),
        _ => String::new(),
    };
    match v {
        Value::Str(_) if spec.is_empty() => Ok(v),
        // An instance may define __format__, which sees the empty spec too.
        Value::Instance(_) => Ok(Value::string(super::format_spec::format(vm, &v, &spec)?)),
        _ if spec.is_empty() => str_value(vm, &v),
        _ => Ok(Value::string(super::format_spec::format(vm, &v, &spec)?)),
    }
}

pub fn ascii(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        let n = c as u32;
        if n < 0x80 {
            out.push(c);
        } else if n <= 0xff {
            out.push_str(&format!("\\x{:02x}", n));
        } else if n <= 0xffff {
            out.push_str(&format!("\\u{:04x}", n));
        } else {
            out.push_str(&format!("\\U{:08x}", n));
        }
    }
    out
}

/// `BaseException.__repr__`: `Name(arg)` or `Name(a, b)`, the class's own name.
pub fn exception_repr(vm: &mut Vm, v: &Value) -> PyResult<String> {
    let Value::Instance(inst) = v else {
        return repr(vm, v);
    };
    let Some(data) = inst.exception() else {
        return repr(vm, v);
    };
    let args = data.borrow().args.clone();
    let name = inst.class.name().to_string();
    Ok(match &args {
        Value::Tuple(t) if t.len() == 1 => format!("{}({})", name, repr(vm, &t[0])?),
        Value::Tuple(t) => format!("{}({})", name, join_reprs(vm, t)?),
        _ => format!("{name}()"),
    })
}

/// `BaseException.__str__` and the str of its built-in subclasses (KeyError quotes its key,
/// OSError reads `[Errno N] ...`, a group counts its members). It is also what `super().__str__()`
/// in an exception subclass reaches, so it never consults the instance's own `__str__`.
pub fn exception_str(vm: &mut Vm, v: &Value) -> PyResult<String> {
    let Value::Instance(inst) = v else {
        return to_str(vm, v);
    };
    let cls = inst.class.clone();
    let Some(data) = inst.exception() else {
        return to_str(vm, v);
    };
    let args = data.borrow().args.clone();
    let is_key_error = cls.is_subclass(&vm.exc_class("KeyError"));
    // "msg (3 sub-exceptions)".
    if cls.is_subclass(&vm.exc_class("BaseExceptionGroup")) {
        let n = crate::exceptions::group_items(v).len();
        let msg = to_str(vm, &crate::exceptions::group_message(v))?;
        return Ok(format!(
            "{msg} ({n} sub-exception{})",
            if n == 1 { "" } else { "s" }
        ));
    }
    // OSError(errno, strerror[, filename]) reads "[Errno 2] No such file: 'x'".
    if cls.is_subclass(&vm.exc_class("OSError")) {
        if let Value::Tuple(t) = &args {
            if (2..=3).contains(&t.len()) && matches!(t[0], Value::Int(_)) {
                let strerror = to_str(vm, &t[1])?;
                let mut s = format!("[Errno {}] {}", repr(vm, &t[0])?, strerror);
                let filename = inst.get_own("filename").or_else(|| t.get(2).cloned());
                if let Some(f) = filename.filter(|f| !f.is_none()) {
                    s.push_str(&format!(": {}", repr(vm, &f)?));
                }
                return Ok(s);
            }
        }
    }
    Ok(match &args {
        Value::Tuple(t) if t.is_empty() => String::new(),
        Value::Tuple(t) if t.len() == 1 => {
            if is_key_error {
                repr(vm, &t[0])?
            } else {
                to_str(vm, &t[0])?
            }
        }
        other => repr(vm, other)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn float_repr_matches_python() {
        assert_eq!(float_repr(0.1), "0.1");
        assert_eq!(float_repr(1.0), "1.0");
        assert_eq!(float_repr(1e16), "1e+16");
        assert_eq!(float_repr(1.5e-5), "1.5e-05");
        assert_eq!(float_repr(0.0001), "0.0001");
        assert_eq!(float_repr(123456789012345.6), "123456789012345.6");
        assert_eq!(float_repr(-2.5), "-2.5");
        assert_eq!(float_repr(0.1 + 0.2), "0.30000000000000004");
    }

    #[test]
    fn str_repr_picks_quotes() {
        assert_eq!(str_repr("a'b"), "\"a'b\"");
        assert_eq!(str_repr("a'b\""), "'a\\'b\"'");
        assert_eq!(str_repr("x\n"), "'x\\n'");
    }
}
