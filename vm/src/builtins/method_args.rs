//! Argument parsing for the built-in methods of str and bytes, with CPython's error wording
//! for each calling convention, and the index arguments of find/count/startswith (`start`,
//! `end`, adjusted as CPython's ADJUST_INDICES does).

use crate::objects::function::Args;
use crate::ops;
use crate::value::Value;
use crate::vm::Vm;
use crate::PyResult;

/// How a method takes its arguments; each style has CPython's own error wording.
#[derive(Clone, Copy)]
pub enum Sig<'a> {
    /// `str.upper()`: "str.upper() takes no arguments (1 given)".
    NoArgs,
    /// `str.join(x)`: "str.join() takes exactly one argument (0 given)".
    One,
    /// Argument Clinic, positional only: "center expected at least 1 argument, got 0".
    Clinic(usize, usize),
    /// Old-style parsing: "find() takes at least 1 argument (0 given)".
    Old(usize, usize),
    /// Keywords allowed, all optional: "split() takes at most 2 arguments (3 given)".
    Kw(&'a [&'a str]),
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        "argument"
    } else {
        "arguments"
    }
}

/// The arguments after the receiver, one slot per parameter (None when not given).
pub fn method_args(
    vm: &Vm,
    tname: &str,
    name: &str,
    mut a: Args,
    sig: Sig,
) -> PyResult<Vec<Option<Value>>> {
    let given: Vec<Value> = a.pos.drain(1.min(a.pos.len())..).collect();
    let n = given.len();
    if let Sig::Kw(names) = sig {
        if n > names.len() {
            return Err(vm.type_error(format!(
                "{name}() takes at most {} {} ({n} given)",
                names.len(),
                plural(names.len())
            )));
        }
        let mut out: Vec<Option<Value>> = given.into_iter().map(Some).collect();
        out.resize(names.len(), None);
        for (k, v) in a.kw.drain(..) {
            let Some(i) = names.iter().position(|p| *p == &*k.s) else {
                return Err(vm.type_error(format!(
                    "'{}' is an invalid keyword argument for {name}()",
                    k.s
                )));
            };
            if out[i].is_some() {
                return Err(vm.type_error(format!(
                    "argument for {name}() given by name ('{}') and position ({})",
                    k.s,
                    i + 1
                )));
            }
            out[i] = Some(v);
        }
        return Ok(out);
    }
    if !a.kw.is_empty() {
        return Err(vm.type_error(match sig {
            Sig::Old(..) => format!("{name}() takes no keyword arguments"),
            _ => format!("{tname}.{name}() takes no keyword arguments"),
        }));
    }
    let (min, max) = match sig {
        Sig::NoArgs => (0, 0),
        Sig::One => (1, 1),
        Sig::Clinic(lo, hi) | Sig::Old(lo, hi) => (lo, hi),
        Sig::Kw(_) => (0, 0),
    };
    if n < min || n > max {
        return Err(vm.type_error(match sig {
            Sig::NoArgs => format!("{tname}.{name}() takes no arguments ({n} given)"),
            Sig::One => format!("{tname}.{name}() takes exactly one argument ({n} given)"),
            Sig::Clinic(..) if n < min => {
                format!("{name} expected at least {min} {}, got {n}", plural(min))
            }
            Sig::Clinic(..) => format!("{name} expected at most {max} {}, got {n}", plural(max)),
            _ if n < min => format!("{name}() takes at least {min} {} ({n} given)", plural(min)),
            _ => format!("{name}() takes at most {max} {} ({n} given)", plural(max)),
        }));
    }
    let mut out: Vec<Option<Value>> = given.into_iter().map(Some).collect();
    out.resize(max, None);
    Ok(out)
}

/// A start/end argument of find/count/startswith...: an int, None, or an `__index__` object.
pub fn slice_index(vm: &mut Vm, v: &Option<Value>, default: i64) -> PyResult<i64> {
    match v {
        None | Some(Value::None) => Ok(default),
        Some(Value::Int(i)) => Ok(*i),
        Some(Value::Bool(b)) => Ok(*b as i64),
        Some(Value::BigInt(b)) => Ok(if b.sign() == num_bigint::Sign::Minus {
            i64::MIN
        } else {
            i64::MAX
        }),
        Some(v @ Value::Instance(_)) if vm.type_of(v).lookup("__index__").is_some() => {
            ops::index_value(vm, v, "slice")
        }
        _ => {
            Err(vm.type_error("slice indices must be integers or None or have an __index__ method"))
        }
    }
}

/// CPython's ADJUST_INDICES: negative indices count from the end; `end` is clamped to `len`,
/// `start` only below (a start past the end makes every search fail).
pub fn adjust_indices(start: i64, end: i64, len: usize) -> (i64, i64) {
    let len = len as i64;
    let end = if end > len {
        len
    } else if end < 0 {
        (end + len).max(0)
    } else {
        end
    };
    let start = if start < 0 {
        (start + len).max(0)
    } else {
        start
    };
    (start, end)
}

/// An integer argument (width, count, maxsplit...): ints and `__index__` objects only.
pub fn int_arg(vm: &mut Vm, v: &Value) -> PyResult<i64> {
    match v {
        Value::Int(i) => Ok(*i),
        Value::Bool(b) => Ok(*b as i64),
        Value::BigInt(b) => {
            let _ = b;
            Err(vm.error(
                "OverflowError",
                "Python int too large to convert to C ssize_t",
            ))
        }
        Value::Instance(_) if vm.type_of(v).lookup("__index__").is_some() => {
            ops::index_value(vm, v, "int")
        }
        _ => Err(vm.type_error(format!(
            "'{}' object cannot be interpreted as an integer",
            vm.type_name(v)
        ))),
    }
}
