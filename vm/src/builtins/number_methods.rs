//! Methods of `int` and `float` (`bit_length`, `to_bytes`, `hex`, `as_integer_ratio`, ...) and
//! their arithmetic and comparison dunders, so `int.__add__(x, y)` and `super().__add__(y)` in a
//! subclass work. The arithmetic itself is `crate::ops`.

use std::rc::Rc;

use num_bigint::{BigInt, Sign};
use num_integer::Integer;
use num_traits::{One, Signed, Zero};

use super::list_methods::{descriptor_error, exact_args, ssize_arg};
use crate::objects::class::Class;
use crate::objects::function::{Args, NativeFn};
use crate::ops;
use crate::value::Value;
use crate::vm::Vm;
use crate::PyResult;

const BINARY: [(&str, &str, u8); 12] = [
    ("__add__", "__radd__", 0),
    ("__sub__", "__rsub__", 1),
    ("__mul__", "__rmul__", 2),
    ("__truediv__", "__rtruediv__", 4),
    ("__floordiv__", "__rfloordiv__", 5),
    ("__mod__", "__rmod__", 6),
    ("__pow__", "__rpow__", 7),
    ("__lshift__", "__rlshift__", 8),
    ("__rshift__", "__rrshift__", 9),
    ("__or__", "__ror__", 10),
    ("__xor__", "__rxor__", 11),
    ("__and__", "__rand__", 12),
];
const COMPARE: [&str; 6] = ["__eq__", "__ne__", "__lt__", "__le__", "__gt__", "__ge__"];

pub fn install(vm: &mut Vm) {
    install_int(vm);
    install_float(vm);
}

/// The int value of an int, bool or int-subclass instance.
fn as_int(v: &Value) -> Option<Value> {
    match v {
        Value::Int(_) | Value::BigInt(_) => Some(v.clone()),
        Value::Bool(b) => Some(Value::Int(*b as i64)),
        Value::Instance(_) => match super::payload_value(v)? {
            p @ (Value::Int(_) | Value::BigInt(_) | Value::Bool(_)) => as_int(&p),
            _ => None,
        },
        _ => None,
    }
}

/// The float value of a float or float-subclass instance.
fn as_float(v: &Value) -> Option<f64> {
    match v {
        Value::Float(f) => Some(*f),
        Value::Instance(_) => match super::payload_value(v)? {
            Value::Float(f) => Some(f),
            _ => None,
        },
        _ => None,
    }
}

fn int_recv(vm: &Vm, a: &Args, name: &str) -> PyResult<Value> {
    let recv = a.pos.first().cloned().unwrap_or(Value::None);
    as_int(&recv).ok_or_else(|| descriptor_error(vm, name, "int", &recv))
}

fn float_recv(vm: &Vm, a: &Args, name: &str) -> PyResult<f64> {
    let recv = a.pos.first().cloned().unwrap_or(Value::None);
    as_float(&recv).ok_or_else(|| descriptor_error(vm, name, "float", &recv))
}

fn big(v: &Value) -> BigInt {
    ops::to_bigint(v).unwrap_or_default()
}

fn install_int(vm: &mut Vm) {
    let int = vm.types.int.clone();
    let defs: &[(&str, NativeFn)] = &[
        ("bit_length", |vm, a| {
            exact_args(vm, "int.bit_length", &a, 0)?;
            let n = big(&int_recv(vm, &a, "bit_length")?);
            Ok(Value::Int(n.bits() as i64))
        }),
        ("bit_count", |vm, a| {
            exact_args(vm, "int.bit_count", &a, 0)?;
            let n = big(&int_recv(vm, &a, "bit_count")?);
            let ones: u64 = n
                .magnitude()
                .to_u64_digits()
                .iter()
                .map(|d| d.count_ones() as u64)
                .sum();
            Ok(Value::Int(ones as i64))
        }),
        ("as_integer_ratio", |vm, a| {
            exact_args(vm, "int.as_integer_ratio", &a, 0)?;
            let n = int_recv(vm, &a, "as_integer_ratio")?;
            Ok(Value::tuple(vec![n, Value::Int(1)]))
        }),
        ("conjugate", |vm, a| {
            exact_args(vm, "int.conjugate", &a, 0)?;
            int_recv(vm, &a, "conjugate")
        }),
        ("is_integer", |vm, a| {
            exact_args(vm, "int.is_integer", &a, 0)?;
            int_recv(vm, &a, "is_integer")?;
            Ok(Value::Bool(true))
        }),
        ("to_bytes", to_bytes),
        ("__init__", |vm, a| init_payload(vm, a, true)),
        ("__index__", |vm, a| int_recv(vm, &a, "__index__")),
        ("__int__", |vm, a| int_recv(vm, &a, "__int__")),
        ("__float__", |vm, a| {
            let n = int_recv(vm, &a, "__float__")?;
            match ops::to_f64(&n) {
                Some(f) if f.is_finite() => Ok(Value::Float(f)),
                _ => Err(vm.error("OverflowError", "int too large to convert to float")),
            }
        }),
        ("__neg__", |vm, a| unary(vm, a, 3, true)),
        ("__pos__", |vm, a| unary(vm, a, 2, true)),
        ("__invert__", |vm, a| unary(vm, a, 0, true)),
        ("__abs__", |vm, a| {
            let n = int_recv(vm, &a, "__abs__")?;
            Ok(Value::from_bigint(big(&n).abs()))
        }),
    ];
    for (name, f) in defs {
        vm.add_method(&int, name, *f);
    }
    let from_bytes = vm.native("from_bytes", from_bytes);
    int.set_attr(
        vm.intern("from_bytes"),
        Value::ClassMethod(Rc::new(from_bytes)),
    );
    install_dunders(vm, &int, true);
}

fn install_float(vm: &mut Vm) {
    let float = vm.types.float.clone();
    let defs: &[(&str, NativeFn)] = &[
        ("is_integer", |vm, a| {
            exact_args(vm, "float.is_integer", &a, 0)?;
            let f = float_recv(vm, &a, "is_integer")?;
            Ok(Value::Bool(f.is_finite() && f.fract() == 0.0))
        }),
        ("as_integer_ratio", |vm, a| {
            exact_args(vm, "float.as_integer_ratio", &a, 0)?;
            let f = float_recv(vm, &a, "as_integer_ratio")?;
            let (n, d) = float_ratio(vm, f)?;
            Ok(Value::tuple(vec![
                Value::from_bigint(n),
                Value::from_bigint(d),
            ]))
        }),
        ("conjugate", |vm, a| {
            exact_args(vm, "float.conjugate", &a, 0)?;
            Ok(Value::Float(float_recv(vm, &a, "conjugate")?))
        }),
        ("hex", |vm, a| {
            exact_args(vm, "float.hex", &a, 0)?;
            Ok(Value::string(float_hex(float_recv(vm, &a, "hex")?)))
        }),
        ("__float__", |vm, a| {
            Ok(Value::Float(float_recv(vm, &a, "__float__")?))
        }),
        ("__int__", |vm, a| {
            let f = float_recv(vm, &a, "__int__")?;
            vm.call(&Value::Class(vm.types.int.clone()), vec![Value::Float(f)])
        }),
        ("__trunc__", |vm, a| {
            let f = float_recv(vm, &a, "__trunc__")?;
            vm.call(&Value::Class(vm.types.int.clone()), vec![Value::Float(f)])
        }),
        ("__neg__", |vm, a| unary(vm, a, 3, false)),
        ("__pos__", |vm, a| unary(vm, a, 2, false)),
        ("__abs__", |vm, a| {
            Ok(Value::Float(float_recv(vm, &a, "__abs__")?.abs()))
        }),
    ];
    for (name, f) in defs {
        vm.add_method(&float, name, *f);
    }
    let fromhex = vm.native("fromhex", fromhex);
    float.set_attr(vm.intern("fromhex"), Value::ClassMethod(Rc::new(fromhex)));
    install_dunders(vm, &float, false);
}

/// `int.__init__` / `float.__init__` for subclass instances: the instance was created holding
/// its raw constructor argument; convert it (`N("5")` holds 5) as `int.__new__` would have.
fn init_payload(vm: &mut Vm, a: Args, is_int: bool) -> PyResult<Value> {
    let Some(Value::Instance(i)) = a.pos.first() else {
        return Ok(Value::None);
    };
    let crate::objects::class::Payload::Value(p) = &i.payload else {
        return Ok(Value::None);
    };
    let current = p.borrow().clone();
    let done = if is_int {
        matches!(current, Value::Int(_) | Value::BigInt(_))
    } else {
        matches!(current, Value::Float(_))
    };
    if done {
        return Ok(Value::None);
    }
    let cls = if is_int {
        vm.types.int.clone()
    } else {
        vm.types.float.clone()
    };
    let args = Args {
        pos: a.pos[1..].to_vec(),
        kw: a.kw,
    };
    let v = vm.call_args(&Value::Class(cls), args)?;
    *p.borrow_mut() = v;
    Ok(Value::None)
}

/// The binary and comparison dunders of int (`is_int`) or float, each a thin wrapper over
/// `ops` that answers NotImplemented for operands of other types, as CPython's slots do.
fn install_dunders(vm: &mut Vm, cls: &Rc<Class>, is_int: bool) {
    for (name, rname, op) in BINARY {
        if !is_int && op >= 8 {
            continue;
        }
        let data = Value::tuple(vec![
            Value::Int(op as i64),
            Value::Bool(is_int),
            Value::Bool(false),
        ]);
        cls.set_attr(vm.intern(name), vm.native_with(name, binary_dunder, data));
        let data = Value::tuple(vec![
            Value::Int(op as i64),
            Value::Bool(is_int),
            Value::Bool(true),
        ]);
        cls.set_attr(vm.intern(rname), vm.native_with(rname, binary_dunder, data));
    }
    for (op, name) in COMPARE.iter().enumerate() {
        let data = Value::tuple(vec![
            Value::Int(op as i64),
            Value::Bool(is_int),
            Value::Bool(false),
        ]);
        cls.set_attr(vm.intern(name), vm.native_with(name, compare_dunder, data));
    }
}

/// Unpacks a dunder's (op, is_int, reflected) data and its two operands as plain numbers.
fn dunder_operands(vm: &Vm, a: &Args) -> PyResult<Option<(u8, Value, Value, bool)>> {
    let Value::Tuple(t) = &a.pos[0] else {
        return Ok(None);
    };
    let (Value::Int(op), Value::Bool(is_int), Value::Bool(reflected)) = (&t[0], &t[1], &t[2])
    else {
        return Ok(None);
    };
    if a.pos.len() != 3 {
        return Err(vm.type_error(format!(
            "expected 1 argument, got {}",
            a.pos.len().saturating_sub(2)
        )));
    }
    let plain = |v: &Value| -> Option<Value> {
        if let Some(i) = as_int(v) {
            return Some(i);
        }
        if *is_int {
            return None;
        }
        as_float(v).map(Value::Float)
    };
    let recv = if *is_int {
        as_int(&a.pos[1])
    } else {
        as_float(&a.pos[1]).map(Value::Float)
    };
    let Some(x) = recv else {
        let owner = if *is_int { "int" } else { "float" };
        return Err(descriptor_error(vm, "__add__", owner, &a.pos[1]));
    };
    let Some(y) = plain(&a.pos[2]) else {
        return Ok(None);
    };
    Ok(Some((*op as u8, x, y, *reflected)))
}

fn binary_dunder(vm: &mut Vm, a: Args) -> PyResult<Value> {
    let Some((op, x, y, reflected)) = dunder_operands(vm, &a)? else {
        return Ok(Value::NotImplemented);
    };
    if reflected {
        ops::binary_op(vm, &y, &x, op)
    } else {
        ops::binary_op(vm, &x, &y, op)
    }
}

fn compare_dunder(vm: &mut Vm, a: Args) -> PyResult<Value> {
    let Some((op, x, y, _)) = dunder_operands(vm, &a)? else {
        return Ok(Value::NotImplemented);
    };
    ops::compare(vm, &x, &y, op)
}

fn unary(vm: &mut Vm, a: Args, op: u8, is_int: bool) -> PyResult<Value> {
    let x = if is_int {
        int_recv(vm, &a, "__neg__")?
    } else {
        Value::Float(float_recv(vm, &a, "__neg__")?)
    };
    ops::unary_op(vm, &x, op)
}

/// Takes a positional-or-keyword argument: position `i` (after the receiver) or keyword `name`.
fn arg(a: &mut Args, i: usize, name: &str) -> Option<Value> {
    let kw = a.take_kw(name);
    a.pos.get(i).cloned().or(kw)
}

fn byteorder_arg(vm: &Vm, v: Option<Value>) -> PyResult<bool> {
    match v {
        None => Ok(false),
        Some(Value::Str(s)) => match &*s.s {
            "little" => Ok(true),
            "big" => Ok(false),
            _ => Err(vm.value_error("byteorder must be either 'little' or 'big'")),
        },
        Some(v) => Err(vm.type_error(format!(
            "to_bytes() argument 'byteorder' must be str, not {}",
            vm.type_name(&v)
        ))),
    }
}

/// `int.to_bytes(length=1, byteorder='big', *, signed=False)`.
fn to_bytes(vm: &mut Vm, mut a: Args) -> PyResult<Value> {
    let n = big(&int_recv(vm, &a, "to_bytes")?);
    let length = arg(&mut a, 1, "length");
    let order = arg(&mut a, 2, "byteorder");
    let signed = match a.take_kw("signed") {
        Some(s) => ops::truthy(vm, &s)?,
        None => false,
    };
    if let Some((k, _)) = a.kw.first() {
        return Err(vm.type_error(format!(
            "to_bytes() got an unexpected keyword argument '{}'",
            k.s
        )));
    }
    if a.pos.len() > 3 {
        return Err(vm.type_error(format!(
            "to_bytes() takes at most 2 positional arguments ({} given)",
            a.pos.len() - 1
        )));
    }
    let length = match length {
        Some(l) => ssize_arg(vm, &l)?,
        None => 1,
    };
    if length < 0 {
        return Err(vm.value_error("length argument must be non-negative"));
    }
    let little = byteorder_arg(vm, order)?;
    if !signed && n.is_negative() {
        return Err(vm.error("OverflowError", "can't convert negative int to unsigned"));
    }
    let mut bytes = if n.is_zero() {
        Vec::new()
    } else if signed {
        n.to_signed_bytes_be()
    } else {
        n.to_bytes_be().1
    };
    if bytes.len() > length as usize {
        return Err(vm.error("OverflowError", "int too big to convert"));
    }
    let pad = if n.is_negative() { 0xff } else { 0 };
    let mut out = vec![pad; length as usize - bytes.len()];
    out.append(&mut bytes);
    if little {
        out.reverse();
    }
    Ok(Value::Bytes(Rc::new(out)))
}

/// `int.from_bytes(bytes, byteorder='big', *, signed=False)`; a subclass gets `cls(value)`.
fn from_bytes(vm: &mut Vm, mut a: Args) -> PyResult<Value> {
    let data = arg(&mut a, 1, "bytes");
    let order = arg(&mut a, 2, "byteorder");
    let signed = match a.take_kw("signed") {
        Some(s) => ops::truthy(vm, &s)?,
        None => false,
    };
    let Some(data) = data else {
        return Err(vm.type_error("from_bytes() missing required argument 'bytes' (pos 1)"));
    };
    let little = byteorder_arg(vm, order)?;
    let mut bytes = match &data {
        Value::Bytes(b) => b.to_vec(),
        Value::Str(_) => {
            return Err(vm.type_error("cannot convert 'str' object to bytes"));
        }
        other => match vm.call(&Value::Class(vm.types.bytes.clone()), vec![other.clone()])? {
            Value::Bytes(b) => b.to_vec(),
            _ => Vec::new(),
        },
    };
    if little {
        bytes.reverse();
    }
    let n = if signed {
        BigInt::from_signed_bytes_be(&bytes)
    } else {
        BigInt::from_bytes_be(Sign::Plus, &bytes)
    };
    let v = Value::from_bigint(n);
    match &a.pos[0] {
        Value::Class(c) if !Rc::ptr_eq(c, &vm.types.int) => {
            let c = a.pos[0].clone();
            vm.call(&c, vec![v])
        }
        _ => Ok(v),
    }
}

/// The exact ratio of a finite float, in lowest terms.
fn float_ratio(vm: &Vm, f: f64) -> PyResult<(BigInt, BigInt)> {
    if f.is_nan() {
        return Err(vm.value_error("cannot convert NaN to integer ratio"));
    }
    if f.is_infinite() {
        return Err(vm.error("OverflowError", "cannot convert Infinity to integer ratio"));
    }
    if f == 0.0 {
        return Ok((BigInt::zero(), BigInt::one()));
    }
    let bits = f.to_bits();
    let exp = ((bits >> 52) & 0x7ff) as i64;
    let frac = bits & ((1u64 << 52) - 1);
    let (mant, e) = if exp == 0 {
        (frac, -1074)
    } else {
        (frac | (1u64 << 52), exp - 1075)
    };
    let mut num = BigInt::from(mant);
    let mut den = BigInt::one();
    if e > 0 {
        num <<= e as usize;
    } else {
        den <<= (-e) as usize;
    }
    let g = num.gcd(&den);
    num /= &g;
    den /= &g;
    if f < 0.0 {
        num = -num;
    }
    Ok((num, den))
}

/// `float.hex()`: `0x1.8000000000000p+0`, always 13 hex digits after the point.
fn float_hex(f: f64) -> String {
    if f.is_nan() {
        return "nan".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "inf".into() } else { "-inf".into() };
    }
    let sign = if f.is_sign_negative() { "-" } else { "" };
    if f == 0.0 {
        return format!("{sign}0x0.0p+0");
    }
    let bits = f.to_bits();
    let exp = ((bits >> 52) & 0x7ff) as i64;
    let frac = bits & ((1u64 << 52) - 1);
    let (lead, e) = if exp == 0 {
        (0, -1022)
    } else {
        (1, exp - 1023)
    };
    let esign = if e < 0 { '-' } else { '+' };
    format!("{sign}0x{lead}.{frac:013x}p{esign}{}", e.abs())
}

/// `float.fromhex(s)`, rounding half-even to the nearest double.
fn fromhex(vm: &mut Vm, a: Args) -> PyResult<Value> {
    if a.pos.len() != 2 {
        return Err(vm.type_error(format!(
            "float.fromhex() takes exactly one argument ({} given)",
            a.pos.len().saturating_sub(1)
        )));
    }
    let Value::Str(s) = &a.pos[1] else {
        return Err(vm.type_error(format!(
            "fromhex() argument must be str, not {}",
            vm.type_name(&a.pos[1])
        )));
    };
    let f = match parse_hex_float(s.s.trim()) {
        Ok(f) => f,
        Err(true) => {
            return Err(vm.error(
                "OverflowError",
                "hexadecimal value too large to represent as a float",
            ))
        }
        Err(false) => return Err(vm.value_error("invalid hexadecimal floating-point string")),
    };
    match &a.pos[0] {
        Value::Class(c) if !Rc::ptr_eq(c, &vm.types.float) => {
            let c = a.pos[0].clone();
            vm.call(&c, vec![Value::Float(f)])
        }
        _ => Ok(Value::Float(f)),
    }
}

/// Parses hex float text; Err(true) on overflow, Err(false) when malformed.
fn parse_hex_float(t: &str) -> Result<f64, bool> {
    let (neg, body) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let lower = body.to_ascii_lowercase();
    let signed = |x: f64| if neg { -x } else { x };
    match lower.as_str() {
        "inf" | "infinity" => return Ok(signed(f64::INFINITY)),
        "nan" => return Ok(signed(f64::NAN)),
        _ => {}
    }
    let digits = lower.strip_prefix("0x").unwrap_or(&lower);
    let (mant_text, exp_text) = match digits.split_once('p') {
        Some((m, e)) => (m, Some(e)),
        None => (digits, None),
    };
    let (int_part, frac_part) = mant_text.split_once('.').unwrap_or((mant_text, ""));
    if int_part.is_empty() && frac_part.is_empty() {
        return Err(false);
    }
    let all: String = format!("{int_part}{frac_part}");
    if !all.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(false);
    }
    let mut exp: i64 = match exp_text {
        Some(e) => {
            let e = e.strip_prefix('+').unwrap_or(e);
            if e.is_empty()
                || !e
                    .trim_start_matches('-')
                    .chars()
                    .all(|c| c.is_ascii_digit())
                || e.trim_start_matches('-').is_empty()
            {
                return Err(false);
            }
            e.parse::<i64>().unwrap_or(if e.starts_with('-') {
                i64::MIN / 4
            } else {
                i64::MAX / 4
            })
        }
        None => 0,
    };
    exp -= 4 * frac_part.len() as i64;
    let mant = BigInt::parse_bytes(all.as_bytes(), 16).unwrap_or_default();
    if mant.is_zero() {
        return Ok(signed(0.0));
    }
    // Value = mant * 2^exp. Keep 55 significant bits plus a sticky bit, then round.
    let nbits = mant.bits() as i64;
    let top = nbits + exp; // the value is in [2^(top-1), 2^top)
    if top > 1024 {
        return Err(true);
    }
    // The bit position (as a power of two) of the last mantissa bit kept: 53 bits for normal
    // numbers, fewer below 2^-1022.
    let lsb = (top - 53).max(-1074);
    let shift = lsb - exp;
    let (mut m, rest_half, rest_sticky) = if shift > 0 {
        let s = shift as usize;
        let kept: BigInt = &mant >> s;
        let rem: BigInt = &mant - (&kept << s);
        let half = BigInt::one() << (s - 1);
        (kept, rem >= half, rem != half && !rem.is_zero())
    } else {
        (mant << ((-shift) as usize), false, false)
    };
    let odd = m.is_odd();
    if rest_half && (rest_sticky || odd) {
        m += 1;
    }
    let m = num_traits::ToPrimitive::to_f64(&m).unwrap_or(f64::INFINITY);
    let mut r = m;
    let mut e = lsb;
    while e > 0 {
        let step = e.min(1000);
        r *= 2f64.powi(step as i32);
        e -= step;
    }
    while e < 0 {
        let step = (-e).min(1000);
        r /= 2f64.powi(step as i32);
        e += step;
    }
    if r.is_infinite() {
        return Err(true);
    }
    Ok(signed(r))
}
