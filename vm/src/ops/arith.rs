//! Arithmetic: `+ - * / // % ** << >> | ^ &` and unary operators, for ints (promoting to big
//! integers on overflow), floats, sequences, sets, and instances through their dunders.

use num_bigint::BigInt;
use num_integer::Integer;
use num_traits::{One, Pow, Signed, ToPrimitive, Zero};

use crate::value::Value;
use crate::vm::Vm;
use crate::PyResult;

pub const OP_SYMBOLS: [&str; 13] = [
    "+", "-", "*", "@", "/", "//", "%", "**", "<<", ">>", "|", "^", "&",
];
const DUNDERS: [(&str, &str, &str); 13] = [
    ("__add__", "__radd__", "__iadd__"),
    ("__sub__", "__rsub__", "__isub__"),
    ("__mul__", "__rmul__", "__imul__"),
    ("__matmul__", "__rmatmul__", "__imatmul__"),
    ("__truediv__", "__rtruediv__", "__itruediv__"),
    ("__floordiv__", "__rfloordiv__", "__ifloordiv__"),
    ("__mod__", "__rmod__", "__imod__"),
    ("__pow__", "__rpow__", "__ipow__"),
    ("__lshift__", "__rlshift__", "__ilshift__"),
    ("__rshift__", "__rrshift__", "__irshift__"),
    ("__or__", "__ror__", "__ior__"),
    ("__xor__", "__rxor__", "__ixor__"),
    ("__and__", "__rand__", "__iand__"),
];

pub fn to_bigint(v: &Value) -> Option<BigInt> {
    match v {
        Value::Int(i) => Some(BigInt::from(*i)),
        Value::BigInt(b) => Some((**b).clone()),
        Value::Bool(b) => Some(BigInt::from(*b as i64)),
        _ => None,
    }
}

/// The float value of an int-like or float, for mixed arithmetic.
pub fn to_f64(v: &Value) -> Option<f64> {
    match v {
        Value::Int(i) => Some(*i as f64),
        Value::Bool(b) => Some(*b as i64 as f64),
        Value::Float(f) => Some(*f),
        Value::BigInt(b) => b.to_f64(),
        _ => None,
    }
}

fn is_intlike(v: &Value) -> bool {
    matches!(v, Value::Int(_) | Value::BigInt(_) | Value::Bool(_))
}

fn as_i64(v: &Value) -> Option<i64> {
    match v {
        Value::Int(i) => Some(*i),
        Value::Bool(b) => Some(*b as i64),
        _ => None,
    }
}

pub fn binary_op(vm: &mut Vm, a: &Value, b: &Value, op: u8) -> PyResult<Value> {
    // `int | None` and friends build a union (types.UnionType) for annotations and isinstance.
    if op == 10 {
        let is_type =
            |v: &Value| matches!(v, Value::Class(_)) || crate::builtins::union_args(v).is_some();
        if (is_type(a) && (is_type(b) || b.is_none())) || (a.is_none() && is_type(b)) {
            let r = crate::builtins::make_union(vm, a, b)?;
            if !matches!(r, Value::NotImplemented) {
                return Ok(r);
            }
        }
    }
    // A str operand (concatenation, `%` formatting) can never be a number: skip the numeric
    // checks for the most common non-numeric case.
    if !matches!(a, Value::Str(_)) {
        if let Some(r) = numeric_op(vm, a, b, op)? {
            return Ok(r);
        }
    }
    if let Some(r) = sequence_op(vm, a, b, op)? {
        return Ok(r);
    }
    dunder_binary(vm, a, b, op, false)
}

pub fn inplace_op(vm: &mut Vm, a: &Value, b: &Value, op: u8) -> PyResult<Value> {
    // Lists extend in place (`x += y` keeps identity).
    if let (Value::List(l), 0) = (a, op) {
        let items = super::collect(vm, b)
            .map_err(|_| vm.type_error(format!("'{}' object is not iterable", vm.type_name(b))))?;
        l.borrow_mut().extend(items);
        return Ok(a.clone());
    }
    if let (Value::List(l), 2) = (a, op) {
        let n = match as_i64(b) {
            Some(n) => n,
            None if matches!(b, Value::Instance(_))
                && vm.type_of(b).lookup("__index__").is_some() =>
            {
                super::index_value(vm, b, "")?
            }
            None => {
                return Err(vm.type_error(format!(
                    "can't multiply sequence by non-int of type '{}'",
                    vm.type_name(b)
                )))
            }
        };
        let items = l.borrow().clone();
        let mut out = Vec::new();
        for _ in 0..n.max(0) {
            out.extend(items.iter().cloned());
        }
        *l.borrow_mut() = out;
        return Ok(a.clone());
    }
    if let (Value::Set(_), 10 | 11 | 12 | 1) = (a, op) {
        // In place, as CPython's set_ior & co. do (the table layout, hence order, depends on it).
        if let Some(r) = super::set_inplace(vm, a, b, op)? {
            return Ok(r);
        }
    }
    if let Value::Dict(d) = a {
        if op == 10 {
            if !matches!(b, Value::Dict(_)) && crate::builtins::payload_dict(b).is_none() {
                return Err(vm.type_error(format!(
                    "unsupported operand type(s) for |=: 'dict' and '{}'",
                    vm.type_name(b)
                )));
            }
            super::dict_update_from(vm, &Value::Dict(d.clone()), b, false)?;
            return Ok(a.clone());
        }
    }
    if let Value::Instance(_) = a {
        let (_, _, iname) = DUNDERS[op as usize];
        if let Some(f) = vm.type_of(a).lookup(iname) {
            let r = vm.call(&f, vec![a.clone(), b.clone()])?;
            if !matches!(r, Value::NotImplemented) {
                return Ok(r);
            }
        }
    }
    if let Some(r) = numeric_op(vm, a, b, op)? {
        return Ok(r);
    }
    if let Some(r) = sequence_op(vm, a, b, op)? {
        return Ok(r);
    }
    dunder_binary(vm, a, b, op, true)
}

fn dunder_binary(vm: &mut Vm, a: &Value, b: &Value, op: u8, inplace: bool) -> PyResult<Value> {
    let (name, rname, _) = DUNDERS[op as usize];
    let ta = vm.type_of(a);
    let tb = vm.type_of(b);
    let same = std::rc::Rc::ptr_eq(&ta, &tb);
    // A subclass's reflected method goes first (Python's rule for mixed operands).
    let b_first = !same && tb.is_subclass(&ta) && tb.lookup(rname).is_some() && tb.is_user;
    if b_first {
        if let Some(f) = tb.lookup(rname) {
            let r = vm.call(&f, vec![b.clone(), a.clone()])?;
            if !matches!(r, Value::NotImplemented) {
                return Ok(r);
            }
        }
    }
    if ta.is_user {
        if let Some(f) = ta.lookup(name) {
            let r = vm.call(&f, vec![a.clone(), b.clone()])?;
            if !matches!(r, Value::NotImplemented) {
                return Ok(r);
            }
        }
    }
    if !same && !b_first && tb.is_user {
        if let Some(f) = tb.lookup(rname) {
            let r = vm.call(&f, vec![b.clone(), a.clone()])?;
            if !matches!(r, Value::NotImplemented) {
                return Ok(r);
            }
        }
    }
    // Subclasses of built-in types fall back to the built-in behaviour of their payload.
    let pa = crate::builtins::payload_value(a);
    let pb = crate::builtins::payload_value(b);
    if pa.is_some() || pb.is_some() {
        let a2 = pa.unwrap_or_else(|| a.clone());
        let b2 = pb.unwrap_or_else(|| b.clone());
        if let Some(r) = numeric_op(vm, &a2, &b2, op)? {
            return Ok(r);
        }
        if let Some(r) = sequence_op(vm, &a2, &b2, op)? {
            return Ok(r);
        }
    }
    let sym = OP_SYMBOLS[op as usize];
    let sym = if inplace {
        format!("{sym}=")
    } else {
        sym.to_string()
    };
    if op == 0 {
        if let Value::Str(_) = a {
            return Err(vm.type_error(format!(
                "can only concatenate str (not \"{}\") to str",
                vm.type_name(b)
            )));
        }
        if let (Value::List(_), false) = (a, matches!(b, Value::List(_))) {
            return Err(vm.type_error(format!(
                "can only concatenate list (not \"{}\") to list",
                vm.type_name(b)
            )));
        }
        if let (Value::Tuple(_), false) = (a, matches!(b, Value::Tuple(_))) {
            return Err(vm.type_error(format!(
                "can only concatenate tuple (not \"{}\") to tuple",
                vm.type_name(b)
            )));
        }
        if let (Value::Bytes(_), false) = (a, matches!(b, Value::Bytes(_))) {
            return Err(vm.type_error(format!("can't concat {} to bytes", vm.type_name(b))));
        }
    }
    if op == 2
        && (matches!(
            a,
            Value::Str(_) | Value::List(_) | Value::Tuple(_) | Value::Bytes(_)
        ) || matches!(
            b,
            Value::Str(_) | Value::List(_) | Value::Tuple(_) | Value::Bytes(_)
        ))
    {
        let a_is_seq = matches!(
            a,
            Value::Str(_) | Value::List(_) | Value::Tuple(_) | Value::Bytes(_)
        );
        let (seq, other) = if a_is_seq { (a, b) } else { (b, a) };
        // Anything with __index__ repeats a sequence, as an int does.
        if matches!(other, Value::Instance(_)) && vm.type_of(other).lookup("__index__").is_some() {
            let n = Value::Int(super::index_value(vm, other, "")?);
            return if inplace {
                inplace_op(vm, seq, &n, 2)
            } else {
                binary_op(vm, seq, &n, 2)
            };
        }
        return Err(vm.type_error(format!(
            "can't multiply sequence by non-int of type '{}'",
            vm.type_name(other)
        )));
    }
    if op == 7 {
        return Err(vm.type_error(format!(
            "unsupported operand type(s) for {}: '{}' and '{}'",
            if inplace { "**=" } else { "** or pow()" },
            ta.name(),
            tb.name()
        )));
    }
    Err(vm.type_error(format!(
        "unsupported operand type(s) for {}: '{}' and '{}'",
        sym,
        ta.name(),
        tb.name()
    )))
}

fn zero_div(vm: &Vm, msg: &str) -> Value {
    vm.error("ZeroDivisionError", msg)
}

/// Python's floor division and modulo for i64 (None on overflow).
fn floor_divmod(a: i64, b: i64) -> Option<(i64, i64)> {
    let q = a.checked_div(b)?;
    let r = a.checked_rem(b)?;
    if r != 0 && ((r < 0) != (b < 0)) {
        Some((q - 1, r + b))
    } else {
        Some((q, r))
    }
}

pub fn float_mod(a: f64, b: f64) -> f64 {
    let m = a % b;
    if m != 0.0 {
        if (b < 0.0) != (m < 0.0) {
            m + b
        } else {
            m
        }
    } else {
        0.0f64.copysign(b)
    }
}

pub fn float_floordiv(a: f64, b: f64) -> f64 {
    let m = a % b;
    let mut div = (a - m) / b;
    if m != 0.0 && ((b < 0.0) != (m < 0.0)) {
        div -= 1.0;
    }
    if div != 0.0 {
        let floordiv = div.floor();
        if div - floordiv > 0.5 {
            floordiv + 1.0
        } else {
            floordiv
        }
    } else {
        0.0f64.copysign(a / b)
    }
}

/// Arithmetic on numbers (bool, int, big int, float); None if either operand is not a number.
pub fn numeric_op(vm: &mut Vm, a: &Value, b: &Value, op: u8) -> PyResult<Option<Value>> {
    // bool's own &, | and ^ keep the result a bool.
    if let (Value::Bool(x), Value::Bool(y)) = (a, b) {
        match op {
            10 => return Ok(Some(Value::Bool(x | y))),
            11 => return Ok(Some(Value::Bool(x ^ y))),
            12 => return Ok(Some(Value::Bool(x & y))),
            _ => {}
        }
    }
    if let (Some(x), Some(y)) = (as_i64(a), as_i64(b)) {
        if let Some(v) = small_int_op(vm, x, y, op)? {
            return Ok(Some(v));
        }
        return big_int_op(vm, &BigInt::from(x), &BigInt::from(y), op).map(Some);
    }
    if is_intlike(a) && is_intlike(b) {
        return big_int_op(vm, &to_bigint(a).unwrap(), &to_bigint(b).unwrap(), op).map(Some);
    }
    let (Some(x), Some(y)) = (to_f64(a), to_f64(b)) else {
        return Ok(None);
    };
    if matches!(a, Value::BigInt(_)) && x.is_infinite()
        || matches!(b, Value::BigInt(_)) && y.is_infinite()
    {
        return Err(vm.error("OverflowError", "int too large to convert to float"));
    }
    let r = match op {
        0 => x + y,
        1 => x - y,
        2 => x * y,
        4 => {
            if y == 0.0 {
                return Err(zero_div(vm, "float division by zero"));
            }
            x / y
        }
        5 => {
            if y == 0.0 {
                return Err(zero_div(vm, "float floor division by zero"));
            }
            float_floordiv(x, y)
        }
        6 => {
            if y == 0.0 {
                return Err(zero_div(vm, "float modulo"));
            }
            float_mod(x, y)
        }
        7 => {
            if x == 0.0 && y < 0.0 {
                return Err(zero_div(vm, "0.0 cannot be raised to a negative power"));
            }
            if x < 0.0 && y.fract() != 0.0 {
                // CPython returns a complex number; Eddy has no complex type.
                return Err(vm.value_error("math domain error"));
            }
            let r = x.powf(y);
            if r.is_infinite() && x.is_finite() && y.is_finite() {
                return Err(vm.error("OverflowError", "(34, 'Numerical result out of range')"));
            }
            r
        }
        _ => return Ok(None),
    };
    Ok(Some(Value::Float(r)))
}

fn small_int_op(vm: &mut Vm, x: i64, y: i64, op: u8) -> PyResult<Option<Value>> {
    Ok(match op {
        0 => x.checked_add(y).map(Value::Int),
        1 => x.checked_sub(y).map(Value::Int),
        2 => x.checked_mul(y).map(Value::Int),
        4 => {
            if y == 0 {
                return Err(zero_div(vm, "division by zero"));
            }
            Some(Value::Float(int_true_div(
                &BigInt::from(x),
                &BigInt::from(y),
            )))
        }
        5 => {
            if y == 0 {
                return Err(zero_div(vm, "integer division or modulo by zero"));
            }
            floor_divmod(x, y).map(|(q, _)| Value::Int(q))
        }
        6 => {
            if y == 0 {
                return Err(zero_div(vm, "integer modulo by zero"));
            }
            floor_divmod(x, y).map(|(_, r)| Value::Int(r))
        }
        7 => {
            if y < 0 {
                if x == 0 {
                    return Err(zero_div(vm, "0.0 cannot be raised to a negative power"));
                }
                return Ok(Some(Value::Float((x as f64).powf(y as f64))));
            }
            if y > u32::MAX as i64 {
                None
            } else {
                x.checked_pow(y as u32).map(Value::Int)
            }
        }
        8 => {
            if y < 0 {
                return Err(vm.value_error("negative shift count"));
            }
            if y < 63 && x.unsigned_abs() < (1u64 << (63 - y)) {
                Some(Value::Int(x << y))
            } else {
                None
            }
        }
        9 => {
            if y < 0 {
                return Err(vm.value_error("negative shift count"));
            }
            Some(Value::Int(if y >= 64 {
                if x < 0 {
                    -1
                } else {
                    0
                }
            } else {
                x >> y
            }))
        }
        10 => Some(Value::Int(x | y)),
        11 => Some(Value::Int(x ^ y)),
        12 => Some(Value::Int(x & y)),
        _ => None,
    })
}

/// Correctly rounded int / int.
fn int_true_div(a: &BigInt, b: &BigInt) -> f64 {
    if let (Some(x), Some(y)) = (a.to_i64(), b.to_i64()) {
        if x.unsigned_abs() < (1 << 53) && y.unsigned_abs() < (1 << 53) {
            return x as f64 / y as f64;
        }
    }
    match (a.to_f64(), b.to_f64()) {
        (Some(x), Some(y)) if x.is_finite() && y.is_finite() => x / y,
        _ => {
            // Scale down both to keep precision for huge operands.
            let shift = a.bits().max(b.bits()).saturating_sub(1000);
            let x = (a >> shift).to_f64().unwrap_or(f64::INFINITY);
            let y = (b >> shift).to_f64().unwrap_or(f64::INFINITY);
            x / y
        }
    }
}

fn big_int_op(vm: &mut Vm, x: &BigInt, y: &BigInt, op: u8) -> PyResult<Value> {
    let r = match op {
        0 => x + y,
        1 => x - y,
        2 => x * y,
        4 => {
            if y.is_zero() {
                return Err(zero_div(vm, "division by zero"));
            }
            let f = int_true_div(x, y);
            if f.is_infinite() {
                return Err(vm.error(
                    "OverflowError",
                    "integer division result too large for a float",
                ));
            }
            return Ok(Value::Float(f));
        }
        5 => {
            if y.is_zero() {
                return Err(zero_div(vm, "integer division or modulo by zero"));
            }
            x.div_floor(y)
        }
        6 => {
            if y.is_zero() {
                return Err(zero_div(vm, "integer modulo by zero"));
            }
            x.mod_floor(y)
        }
        7 => {
            if y.is_negative() {
                if x.is_zero() {
                    return Err(zero_div(vm, "0.0 cannot be raised to a negative power"));
                }
                let xf = x.to_f64().unwrap_or(f64::INFINITY);
                let yf = y.to_f64().unwrap_or(f64::NEG_INFINITY);
                return Ok(Value::Float(xf.powf(yf)));
            }
            let Some(e) = y.to_u32() else {
                if x.is_one() || x.is_zero() {
                    return Ok(Value::from_bigint(x.clone()));
                }
                return Err(vm.error("OverflowError", "exponent too large"));
            };
            if x.bits() as u128 * e as u128 > 64_000_000 {
                return Err(vm.error("OverflowError", "result too large"));
            }
            Pow::pow(x, e)
        }
        8 => {
            if y.is_negative() {
                return Err(vm.value_error("negative shift count"));
            }
            let s = y
                .to_usize()
                .ok_or_else(|| vm.error("OverflowError", "too many digits in integer"))?;
            if s > 64_000_000 {
                return Err(vm.error("OverflowError", "too many digits in integer"));
            }
            x << s
        }
        9 => {
            if y.is_negative() {
                return Err(vm.value_error("negative shift count"));
            }
            let s = y.to_usize().unwrap_or(usize::MAX);
            if s as u64 > x.bits() {
                if x.is_negative() {
                    BigInt::from(-1)
                } else {
                    BigInt::zero()
                }
            } else {
                x >> s
            }
        }
        10 => x | y,
        11 => x ^ y,
        12 => x & y,
        _ => {
            return Err(vm.type_error(format!(
                "unsupported operand type(s) for {}: 'int' and 'int'",
                OP_SYMBOLS[op as usize]
            )));
        }
    };
    Ok(Value::from_bigint(r))
}

/// `+`/`*` on sequences and `| & - ^` on sets; None when not applicable.
fn sequence_op(vm: &mut Vm, a: &Value, b: &Value, op: u8) -> PyResult<Option<Value>> {
    match (op, a, b) {
        (0, Value::Str(x), Value::Str(y)) => {
            let mut s = String::with_capacity(x.s.len() + y.s.len());
            s.push_str(&x.s);
            s.push_str(&y.s);
            Ok(Some(Value::string(s)))
        }
        (0, Value::List(x), Value::List(y)) => {
            let mut v = x.borrow().clone();
            v.extend(y.borrow().iter().cloned());
            Ok(Some(Value::list(v)))
        }
        (0, Value::Tuple(x), Value::Tuple(y)) => {
            let mut v = x.to_vec();
            v.extend(y.iter().cloned());
            Ok(Some(Value::tuple(v)))
        }
        (0, Value::Bytes(x), Value::Bytes(y)) => {
            let mut v = (**x).clone();
            v.extend_from_slice(y);
            Ok(Some(Value::Bytes(std::rc::Rc::new(v))))
        }
        (2, seq, n) | (2, n, seq)
            if matches!(
                seq,
                Value::Str(_) | Value::List(_) | Value::Tuple(_) | Value::Bytes(_)
            ) && matches!(n, Value::Int(_) | Value::Bool(_)) =>
        {
            let n = as_i64(n).unwrap().max(0) as usize;
            Ok(Some(match seq {
                Value::Str(s) => {
                    if s.s.len().saturating_mul(n) > 1 << 31 {
                        return Err(vm.error("MemoryError", ""));
                    }
                    Value::string(s.s.repeat(n))
                }
                Value::List(l) => {
                    let l = l.borrow();
                    let mut v = Vec::with_capacity(l.len() * n);
                    for _ in 0..n {
                        v.extend(l.iter().cloned());
                    }
                    Value::list(v)
                }
                Value::Tuple(t) => {
                    let mut v = Vec::with_capacity(t.len() * n);
                    for _ in 0..n {
                        v.extend(t.iter().cloned());
                    }
                    Value::tuple(v)
                }
                Value::Bytes(b) => Value::Bytes(std::rc::Rc::new(b.repeat(n))),
                _ => unreachable!(),
            }))
        }
        (6, Value::Str(_), _) => crate::builtins::percent_format(vm, a, b).map(Some),
        (6, Value::Bytes(f), _) => crate::builtins::percent_format_bytes(vm, f, b).map(Some),
        (
            1 | 10 | 11 | 12,
            Value::Set(_) | Value::FrozenSet(_),
            Value::Set(_) | Value::FrozenSet(_),
        ) => super::set_binary(vm, a, b, op).map(Some),
        (10, Value::Dict(_), Value::Dict(_)) => {
            let d = vm.new_dict();
            super::dict_update_from(vm, &d, a, false)?;
            super::dict_update_from(vm, &d, b, false)?;
            Ok(Some(d))
        }
        _ => Ok(None),
    }
}

pub fn unary_op(vm: &mut Vm, a: &Value, op: u8) -> PyResult<Value> {
    match (op, a) {
        (1, _) => return Ok(Value::Bool(!super::truthy(vm, a)?)),
        (0, Value::Int(i)) => return Ok(Value::Int(!i)),
        (0, Value::Bool(b)) => return Ok(Value::Int(!(*b as i64))),
        (0, Value::BigInt(b)) => return Ok(Value::from_bigint(-(**b).clone() - 1)),
        (2, Value::Int(_) | Value::Float(_) | Value::BigInt(_)) => return Ok(a.clone()),
        (2, Value::Bool(b)) => return Ok(Value::Int(*b as i64)),
        (3, Value::Int(i)) => {
            return Ok(match i.checked_neg() {
                Some(n) => Value::Int(n),
                None => Value::from_bigint(-BigInt::from(*i)),
            })
        }
        (3, Value::Bool(b)) => return Ok(Value::Int(-(*b as i64))),
        (3, Value::Float(f)) => return Ok(Value::Float(-f)),
        (3, Value::BigInt(b)) => return Ok(Value::from_bigint(-(**b).clone())),
        _ => {}
    }
    let name = ["__invert__", "", "__pos__", "__neg__"][op as usize];
    if let Some(f) = vm.type_of(a).lookup(name) {
        return vm.call(&f, vec![a.clone()]);
    }
    if let Some(p) = crate::builtins::payload_value(a) {
        return unary_op(vm, &p, op);
    }
    let sym = ["~", "not", "+", "-"][op as usize];
    Err(vm.type_error(format!(
        "bad operand type for unary {}: '{}'",
        sym,
        vm.type_name(a)
    )))
}

/// Python's `divmod`-style helpers reused by builtins.
pub fn int_floor_divmod(a: i64, b: i64) -> Option<(i64, i64)> {
    floor_divmod(a, b)
}

pub fn bigint_is_one(b: &BigInt) -> bool {
    b.is_one()
}
