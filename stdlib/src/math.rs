//! `math`: the constants and functions of CPython's math module, with its error conventions
//! (ValueError "math domain error" for results outside the domain, OverflowError "math range
//! error" when a finite argument overflows). Integer functions work on arbitrary-size ints.

use std::rc::Rc;

use eddy_vm::objects::module::Module;
use eddy_vm::ops;
use eddy_vm::{Args, PyResult, Value, Vm};
use num_bigint::{BigInt, Sign};
use num_integer::Integer;
use num_traits::{One, Signed, ToPrimitive, Zero};

use crate::util::{arity, defs, float_to_int, no_kwargs, to_bigint, to_float};

pub fn init(vm: &mut Vm) -> PyResult<Rc<Module>> {
    let m = Rc::new(Module::new("math"));
    m.set("pi", Value::Float(std::f64::consts::PI));
    m.set("e", Value::Float(std::f64::consts::E));
    m.set("tau", Value::Float(std::f64::consts::TAU));
    m.set("inf", Value::Float(f64::INFINITY));
    m.set("nan", Value::Float(f64::NAN));
    defs(
        vm,
        &m,
        &[
            ("sqrt", |vm, a| unary(vm, a, "sqrt", f64::sqrt, false)),
            ("exp", |vm, a| unary(vm, a, "exp", f64::exp, true)),
            ("exp2", |vm, a| unary(vm, a, "exp2", f64::exp2, true)),
            ("expm1", |vm, a| unary(vm, a, "expm1", f64::exp_m1, true)),
            ("cbrt", |vm, a| unary(vm, a, "cbrt", libm_cbrt, false)),
            ("log1p", |vm, a| unary(vm, a, "log1p", f64::ln_1p, false)),
            ("sin", |vm, a| unary(vm, a, "sin", f64::sin, false)),
            ("cos", |vm, a| unary(vm, a, "cos", f64::cos, false)),
            ("tan", |vm, a| unary(vm, a, "tan", f64::tan, false)),
            ("asin", |vm, a| unary(vm, a, "asin", f64::asin, false)),
            ("acos", |vm, a| unary(vm, a, "acos", f64::acos, false)),
            ("atan", |vm, a| unary(vm, a, "atan", f64::atan, false)),
            ("sinh", |vm, a| unary(vm, a, "sinh", f64::sinh, true)),
            ("cosh", |vm, a| unary(vm, a, "cosh", f64::cosh, true)),
            ("tanh", |vm, a| unary(vm, a, "tanh", f64::tanh, false)),
            ("asinh", |vm, a| unary(vm, a, "asinh", f64::asinh, false)),
            ("acosh", |vm, a| unary(vm, a, "acosh", f64::acosh, false)),
            ("atanh", |vm, a| unary(vm, a, "atanh", f64::atanh, false)),
            ("erf", |vm, a| unary(vm, a, "erf", libm_erf, false)),
            ("erfc", |vm, a| unary(vm, a, "erfc", libm_erfc, false)),
            ("gamma", gamma),
            ("lgamma", lgamma),
            ("fabs", |vm, a| unary(vm, a, "fabs", f64::abs, false)),
            ("degrees", |vm, a| {
                unary(vm, a, "degrees", f64::to_degrees, true)
            }),
            ("radians", |vm, a| {
                unary(vm, a, "radians", f64::to_radians, false)
            }),
            ("log", log),
            ("log2", |vm, a| log_n(vm, a, "log2", 2.0)),
            ("log10", |vm, a| log_n(vm, a, "log10", 10.0)),
            ("pow", pow),
            ("atan2", |vm, a| {
                let (y, x) = two_floats(vm, &a, "atan2")?;
                Ok(Value::Float(y.atan2(x)))
            }),
            ("copysign", |vm, a| {
                let (x, y) = two_floats(vm, &a, "copysign")?;
                Ok(Value::Float(x.copysign(y)))
            }),
            ("fmod", fmod),
            ("remainder", remainder),
            ("modf", modf),
            ("frexp", frexp),
            ("ldexp", ldexp),
            ("floor", |vm, a| {
                rounding(vm, a, "floor", "__floor__", f64::floor)
            }),
            ("ceil", |vm, a| {
                rounding(vm, a, "ceil", "__ceil__", f64::ceil)
            }),
            ("trunc", |vm, a| {
                rounding(vm, a, "trunc", "__trunc__", f64::trunc)
            }),
            ("isfinite", |vm, a| {
                arity(vm, "math.isfinite", &a, 1, 1)?;
                Ok(Value::Bool(to_float(vm, &a.pos[0])?.is_finite()))
            }),
            ("isinf", |vm, a| {
                arity(vm, "math.isinf", &a, 1, 1)?;
                Ok(Value::Bool(to_float(vm, &a.pos[0])?.is_infinite()))
            }),
            ("isnan", |vm, a| {
                arity(vm, "math.isnan", &a, 1, 1)?;
                Ok(Value::Bool(to_float(vm, &a.pos[0])?.is_nan()))
            }),
            ("isclose", isclose),
            ("hypot", hypot),
            ("dist", dist),
            ("fsum", fsum),
            ("prod", prod),
            ("gcd", gcd),
            ("lcm", lcm),
            ("factorial", factorial),
            ("comb", comb),
            ("perm", perm),
            ("isqrt", isqrt),
            ("nextafter", |vm, a| {
                let (x, y) = two_floats(vm, &a, "nextafter")?;
                Ok(Value::Float(next_after(x, y)))
            }),
            ("ulp", ulp),
        ],
    );
    Ok(m)
}

fn domain_error(vm: &Vm) -> Value {
    vm.value_error("math domain error")
}

fn range_error(vm: &Vm) -> Value {
    vm.error("OverflowError", "math range error")
}

/// Applies a one-argument float function with CPython's error checks: NaN from a non-NaN argument
/// is a domain error; infinity from a finite one is a range error (`overflows`) or a domain error.
fn unary(vm: &mut Vm, a: Args, name: &str, f: fn(f64) -> f64, overflows: bool) -> PyResult<Value> {
    arity(vm, &format!("math.{name}"), &a, 1, 1)?;
    let x = to_float(vm, &a.pos[0])?;
    let r = f(x);
    if r.is_nan() && !x.is_nan() {
        return Err(domain_error(vm));
    }
    if r.is_infinite() && x.is_finite() {
        return Err(if overflows {
            range_error(vm)
        } else {
            domain_error(vm)
        });
    }
    Ok(Value::Float(r))
}

fn two_floats(vm: &mut Vm, a: &Args, name: &str) -> PyResult<(f64, f64)> {
    arity(vm, name, a, 2, 2)?;
    Ok((to_float(vm, &a.pos[0])?, to_float(vm, &a.pos[1])?))
}

extern "C" {
    fn cbrt(x: f64) -> f64;
    fn erf(x: f64) -> f64;
    fn erfc(x: f64) -> f64;
    fn tgamma(x: f64) -> f64;
    fn lgamma_r(x: f64, sign: *mut i32) -> f64;
}

fn libm_cbrt(x: f64) -> f64 {
    // SAFETY: cbrt is a pure C math function from the system libm (CPython calls the same one).
    unsafe { cbrt(x) }
}

fn libm_erf(x: f64) -> f64 {
    // SAFETY: erf is a pure C math function from the system libm; it takes and returns a double.
    unsafe { erf(x) }
}

fn libm_erfc(x: f64) -> f64 {
    // SAFETY: as for erf.
    unsafe { erfc(x) }
}

fn gamma(vm: &mut Vm, a: Args) -> PyResult<Value> {
    arity(vm, "math.gamma", &a, 1, 1)?;
    let x = to_float(vm, &a.pos[0])?;
    if x.is_nan() {
        return Ok(Value::Float(x));
    }
    if x == f64::NEG_INFINITY || (x <= 0.0 && x == x.floor()) {
        return Err(domain_error(vm));
    }
    // SAFETY: tgamma is a pure libm function on doubles.
    let r = unsafe { tgamma(x) };
    if r.is_infinite() && x.is_finite() {
        return Err(range_error(vm));
    }
    Ok(Value::Float(r))
}

fn lgamma(vm: &mut Vm, a: Args) -> PyResult<Value> {
    arity(vm, "math.lgamma", &a, 1, 1)?;
    let x = to_float(vm, &a.pos[0])?;
    if x.is_nan() || x.is_infinite() {
        return Ok(Value::Float(x.abs()));
    }
    if x <= 0.0 && x == x.floor() {
        return Err(domain_error(vm));
    }
    let mut sign = 0i32;
    // SAFETY: lgamma_r writes the sign of gamma(x) through a valid pointer to a local.
    let r = unsafe { lgamma_r(x, &mut sign) };
    if r.is_infinite() {
        return Err(range_error(vm));
    }
    Ok(Value::Float(r))
}

/// Log of a positive int of any size: as CPython, when it overflows a float, split it into
/// m * 2**e with m in [0.5, 1) and add e * log(2).
fn log_bigint(b: &BigInt, log: fn(f64) -> f64, ln2_in_base: f64) -> f64 {
    if let Some(x) = b.to_f64().filter(|x| x.is_finite()) {
        return log(x);
    }
    let bits = b.bits();
    let shift = bits - 64;
    let top: BigInt = b >> shift;
    let m = top.to_f64().unwrap_or(0.0) / 2f64.powi(64);
    log(m) + bits as f64 * ln2_in_base
}

/// log of an argument in the base `log` computes, for ints of any size.
fn log_of(vm: &mut Vm, v: &Value, log: fn(f64) -> f64, ln2_in_base: f64) -> PyResult<f64> {
    match v {
        Value::Int(_) | Value::BigInt(_) | Value::Bool(_) => {
            let b = to_bigint(vm, v)?;
            if b.sign() != Sign::Plus {
                return Err(domain_error(vm));
            }
            Ok(log_bigint(&b, log, ln2_in_base))
        }
        _ => {
            let x = to_float(vm, v)?;
            if x.is_nan() {
                return Ok(x);
            }
            if x <= 0.0 {
                return Err(domain_error(vm));
            }
            Ok(log(x))
        }
    }
}

fn log(vm: &mut Vm, a: Args) -> PyResult<Value> {
    no_kwargs(vm, "log", &a)?;
    arity(vm, "log", &a, 1, 2)?;
    let num = log_of(vm, &a.pos[0], f64::ln, std::f64::consts::LN_2)?;
    if let Some(base) = a.pos.get(1) {
        let den = log_of(vm, base, f64::ln, std::f64::consts::LN_2)?;
        if den == 0.0 {
            return Err(vm.error("ZeroDivisionError", "float division by zero"));
        }
        return Ok(Value::Float(num / den));
    }
    Ok(Value::Float(num))
}

fn log_n(vm: &mut Vm, a: Args, name: &str, base: f64) -> PyResult<Value> {
    arity(vm, &format!("math.{name}"), &a, 1, 1)?;
    let r = if base == 2.0 {
        log_of(vm, &a.pos[0], f64::log2, 1.0)?
    } else {
        log_of(vm, &a.pos[0], f64::log10, std::f64::consts::LOG10_2)?
    };
    Ok(Value::Float(r))
}

fn pow(vm: &mut Vm, a: Args) -> PyResult<Value> {
    let (x, y) = two_floats(vm, &a, "pow")?;
    // IEEE special cases CPython keeps: pow(1, nan) == 1, pow(nan, 0) == 1.
    if x == 1.0 || y == 0.0 {
        return Ok(Value::Float(1.0));
    }
    if x.is_nan() || y.is_nan() {
        return Ok(Value::Float(f64::NAN));
    }
    if x == 0.0 && y < 0.0 && y.is_finite() {
        return Err(domain_error(vm));
    }
    let r = x.powf(y);
    if r.is_nan() {
        return Err(domain_error(vm));
    }
    if r.is_infinite() && x.is_finite() && y.is_finite() {
        return Err(range_error(vm));
    }
    Ok(Value::Float(r))
}

fn fmod(vm: &mut Vm, a: Args) -> PyResult<Value> {
    let (x, y) = two_floats(vm, &a, "fmod")?;
    if y.is_infinite() && x.is_finite() {
        return Ok(Value::Float(x));
    }
    let r = x % y;
    if r.is_nan() && !x.is_nan() && !y.is_nan() {
        return Err(domain_error(vm));
    }
    Ok(Value::Float(r))
}

fn remainder(vm: &mut Vm, a: Args) -> PyResult<Value> {
    let (x, y) = two_floats(vm, &a, "remainder")?;
    if x.is_nan() || y.is_nan() {
        return Ok(Value::Float(f64::NAN));
    }
    if x.is_infinite() || y == 0.0 {
        return Err(domain_error(vm));
    }
    if y.is_infinite() {
        return Ok(Value::Float(x));
    }
    // IEEE remainder: x - n*y with n the nearest integer to x/y, ties to even.
    let n = (x / y).round();
    let n = if ((x / y) - (x / y).trunc()).abs() == 0.5 && n % 2.0 != 0.0 {
        n - (x / y).signum()
    } else {
        n
    };
    let r = x - n * y;
    Ok(Value::Float(if r == 0.0 { 0.0f64.copysign(x) } else { r }))
}

fn modf(vm: &mut Vm, a: Args) -> PyResult<Value> {
    arity(vm, "math.modf", &a, 1, 1)?;
    let x = to_float(vm, &a.pos[0])?;
    if x.is_infinite() {
        return Ok(Value::tuple(vec![
            Value::Float(0.0f64.copysign(x)),
            Value::Float(x),
        ]));
    }
    let i = x.trunc();
    Ok(Value::tuple(vec![
        Value::Float((x - i).copysign(x)),
        Value::Float(i),
    ]))
}

fn frexp(vm: &mut Vm, a: Args) -> PyResult<Value> {
    arity(vm, "math.frexp", &a, 1, 1)?;
    let x = to_float(vm, &a.pos[0])?;
    if x == 0.0 || !x.is_finite() {
        return Ok(Value::tuple(vec![Value::Float(x), Value::Int(0)]));
    }
    let (m, e) = frexp_f64(x);
    Ok(Value::tuple(vec![Value::Float(m), Value::Int(e as i64)]))
}

/// Splits a finite nonzero float into mantissa in [0.5, 1) and exponent.
fn frexp_f64(x: f64) -> (f64, i32) {
    let bits = x.to_bits();
    let exp = ((bits >> 52) & 0x7ff) as i32;
    if exp == 0 {
        // Subnormal: scale up first.
        let (m, e) = frexp_f64(x * 2f64.powi(64));
        return (m, e - 64);
    }
    let e = exp - 1022;
    let m = f64::from_bits((bits & !(0x7ffu64 << 52)) | (1022u64 << 52));
    (m, e)
}

fn ldexp(vm: &mut Vm, a: Args) -> PyResult<Value> {
    arity(vm, "ldexp", &a, 2, 2)?;
    let x = to_float(vm, &a.pos[0])?;
    let e = match &a.pos[1] {
        Value::Int(i) => *i,
        Value::Bool(b) => *b as i64,
        Value::BigInt(b) => {
            if b.is_negative() {
                i64::MIN / 2
            } else {
                i64::MAX / 2
            }
        }
        other => {
            return Err(vm.type_error(format!(
                "Expected an int as second argument to ldexp, not {}",
                vm.type_name(other)
            )))
        }
    };
    if x == 0.0 || !x.is_finite() {
        return Ok(Value::Float(x));
    }
    let e = e.clamp(-2200, 2200) as i32;
    // Scale in steps so intermediate powers of two stay representable.
    let mut r = x;
    let mut left = e;
    while left != 0 {
        let step = left.clamp(-1000, 1000);
        r *= 2f64.powi(step);
        left -= step;
    }
    if r.is_infinite() {
        return Err(range_error(vm));
    }
    Ok(Value::Float(r))
}

/// floor/ceil/trunc: ints pass through, floats become ints, other objects use their dunder.
fn rounding(vm: &mut Vm, a: Args, name: &str, dunder: &str, f: fn(f64) -> f64) -> PyResult<Value> {
    arity(vm, &format!("math.{name}"), &a, 1, 1)?;
    let v = &a.pos[0];
    match v {
        Value::Int(_) | Value::BigInt(_) => Ok(v.clone()),
        Value::Bool(b) => Ok(Value::Int(*b as i64)),
        Value::Float(x) => float_to_int(vm, f(*x)),
        _ => {
            if let Some(m) = vm.type_of(v).lookup(dunder) {
                return vm.call(&m, vec![v.clone()]);
            }
            if name == "trunc" {
                return Err(vm.type_error(format!(
                    "type {} doesn't define __trunc__ method",
                    vm.type_name(v)
                )));
            }
            let x = to_float(vm, v)?;
            float_to_int(vm, f(x))
        }
    }
}

fn isclose(vm: &mut Vm, mut a: Args) -> PyResult<Value> {
    let rel = a.take_kw("rel_tol");
    let abs = a.take_kw("abs_tol");
    no_kwargs(vm, "isclose", &a)?;
    if a.pos.len() != 2 {
        return Err(vm.type_error(format!(
            "isclose() takes exactly 2 positional arguments ({} given)",
            a.pos.len()
        )));
    }
    let x = to_float(vm, &a.pos[0])?;
    let y = to_float(vm, &a.pos[1])?;
    let rel = match rel {
        Some(v) => to_float(vm, &v)?,
        None => 1e-9,
    };
    let abs = match abs {
        Some(v) => to_float(vm, &v)?,
        None => 0.0,
    };
    if rel < 0.0 || abs < 0.0 {
        return Err(vm.value_error("tolerances must be non-negative"));
    }
    if x == y {
        return Ok(Value::Bool(true));
    }
    if x.is_infinite() || y.is_infinite() {
        return Ok(Value::Bool(false));
    }
    let diff = (x - y).abs();
    Ok(Value::Bool(
        diff <= (rel * y).abs() || diff <= (rel * x).abs() || diff <= abs,
    ))
}

/// Euclidean norm of a vector, scaled by its largest component to avoid overflow.
fn vector_norm(v: &[f64]) -> f64 {
    let mut max = 0.0f64;
    let mut found_nan = false;
    for x in v {
        if x.is_infinite() {
            return f64::INFINITY;
        }
        found_nan |= x.is_nan();
        max = max.max(x.abs());
    }
    if found_nan {
        return f64::NAN;
    }
    if max == 0.0 || v.len() <= 1 {
        return max;
    }
    if v.len() == 2 {
        return v[0].hypot(v[1]);
    }
    // Compensated sum of squares of the scaled components.
    let (mut sum, mut comp) = (0.0f64, 0.0f64);
    for x in v {
        let t = x / max;
        let sq = t * t;
        let y = sq - comp;
        let s = sum + y;
        comp = (s - sum) - y;
        sum = s;
    }
    max * sum.sqrt()
}

fn hypot(vm: &mut Vm, a: Args) -> PyResult<Value> {
    no_kwargs(vm, "hypot", &a)?;
    let mut xs = Vec::with_capacity(a.pos.len());
    for v in &a.pos {
        xs.push(to_float(vm, v)?);
    }
    Ok(Value::Float(vector_norm(&xs)))
}

fn dist(vm: &mut Vm, a: Args) -> PyResult<Value> {
    arity(vm, "dist", &a, 2, 2)?;
    let mut coords = Vec::new();
    for v in &a.pos {
        if !matches!(v, Value::Tuple(_) | Value::List(_))
            && eddy_vm::builtins::payload_value(v).is_none()
        {
            return Err(vm.type_error("dist(): argument must be tuple"));
        }
        let items = ops::collect(vm, v)?;
        let mut xs = Vec::with_capacity(items.len());
        for x in &items {
            xs.push(to_float(vm, x)?);
        }
        coords.push(xs);
    }
    if coords[0].len() != coords[1].len() {
        return Err(vm.value_error("both points must have the same number of dimensions"));
    }
    let diffs: Vec<f64> = coords[0]
        .iter()
        .zip(&coords[1])
        .map(|(p, q)| (p - q).abs())
        .collect();
    Ok(Value::Float(vector_norm(&diffs)))
}

/// Exactly rounded float sum (Shewchuk's algorithm, as CPython's `math.fsum`).
fn fsum(vm: &mut Vm, a: Args) -> PyResult<Value> {
    arity(vm, "math.fsum", &a, 1, 1)?;
    let it = ops::get_iter(vm, &a.pos[0])?;
    let mut partials: Vec<f64> = Vec::new();
    let (mut special, mut inf_sum) = (0.0f64, 0.0f64);
    while let Some(v) = ops::iter_next(vm, &it)? {
        let mut x = to_float(vm, &v)?;
        let saved = x;
        let mut i = 0;
        for j in 0..partials.len() {
            let mut y = partials[j];
            if x.abs() < y.abs() {
                std::mem::swap(&mut x, &mut y);
            }
            let hi = x + y;
            let lo = y - (hi - x);
            if lo != 0.0 {
                partials[i] = lo;
                i += 1;
            }
            x = hi;
        }
        partials.truncate(i);
        if x != 0.0 {
            if !x.is_finite() {
                if saved.is_finite() {
                    return Err(vm.error("OverflowError", "intermediate overflow in fsum"));
                }
                if saved.is_infinite() {
                    inf_sum += saved;
                }
                special += saved;
                partials.clear();
            } else {
                partials.push(x);
            }
        }
    }
    if special != 0.0 {
        if inf_sum.is_nan() {
            return Err(vm.value_error("-inf + inf in fsum"));
        }
        return Ok(Value::Float(special));
    }
    let mut hi = 0.0;
    let mut n = partials.len();
    if n > 0 {
        n -= 1;
        hi = partials[n];
        let mut lo = 0.0;
        while n > 0 {
            let x = hi;
            n -= 1;
            let y = partials[n];
            hi = x + y;
            let yr = hi - x;
            lo = y - yr;
            if lo != 0.0 {
                break;
            }
        }
        if n > 0 && ((lo < 0.0 && partials[n - 1] < 0.0) || (lo > 0.0 && partials[n - 1] > 0.0)) {
            let y = lo * 2.0;
            let x = hi + y;
            let yr = x - hi;
            if y == yr {
                hi = x;
            }
        }
    }
    Ok(Value::Float(hi))
}

fn prod(vm: &mut Vm, mut a: Args) -> PyResult<Value> {
    let start = a.take_kw("start").unwrap_or(Value::Int(1));
    no_kwargs(vm, "prod", &a)?;
    if a.pos.len() != 1 {
        return Err(vm.type_error(format!(
            "prod() takes exactly 1 positional argument ({} given)",
            a.pos.len()
        )));
    }
    let it = ops::get_iter(vm, &a.pos[0])?;
    let mut acc = start;
    while let Some(v) = ops::iter_next(vm, &it)? {
        acc = ops::binary_op(vm, &acc, &v, 2)?;
    }
    Ok(acc)
}

fn gcd(vm: &mut Vm, a: Args) -> PyResult<Value> {
    no_kwargs(vm, "gcd", &a)?;
    let mut acc = BigInt::zero();
    for v in &a.pos {
        let b = to_bigint(vm, v)?;
        acc = acc.gcd(&b);
    }
    Ok(Value::from_bigint(acc))
}

fn lcm(vm: &mut Vm, a: Args) -> PyResult<Value> {
    no_kwargs(vm, "lcm", &a)?;
    let mut acc = BigInt::one();
    for v in &a.pos {
        let b = to_bigint(vm, v)?;
        if b.is_zero() || acc.is_zero() {
            acc = BigInt::zero();
            continue;
        }
        acc = acc.lcm(&b);
    }
    Ok(Value::from_bigint(acc.abs()))
}

/// An int argument of an integer-only function (floats are refused, as in CPython 3.10+).
fn int_arg(vm: &mut Vm, v: &Value) -> PyResult<BigInt> {
    to_bigint(vm, v)
}

/// Product of the integers in `lo..=hi`, by binary splitting (keeps multiplications balanced).
fn range_product(lo: u64, hi: u64) -> BigInt {
    if lo > hi {
        return BigInt::one();
    }
    if hi - lo < 16 {
        let mut acc = BigInt::one();
        let mut small: u64 = 1;
        for i in lo..=hi {
            match small.checked_mul(i) {
                Some(p) => small = p,
                None => {
                    acc *= small;
                    small = i;
                }
            }
        }
        return acc * small;
    }
    let mid = lo + (hi - lo) / 2;
    range_product(lo, mid) * range_product(mid + 1, hi)
}

fn factorial(vm: &mut Vm, a: Args) -> PyResult<Value> {
    arity(vm, "math.factorial", &a, 1, 1)?;
    let n = int_arg(vm, &a.pos[0])?;
    if n.is_negative() {
        return Err(vm.value_error("factorial() not defined for negative values"));
    }
    let Some(n) = n.to_u64().filter(|n| *n <= 1_000_000) else {
        return Err(vm.error(
            "OverflowError",
            "factorial() argument should not exceed 9223372036854775807",
        ));
    };
    Ok(Value::from_bigint(range_product(1, n)))
}

fn nonneg(vm: &mut Vm, v: &Value, what: &str) -> PyResult<BigInt> {
    let b = int_arg(vm, v)?;
    if b.is_negative() {
        return Err(vm.value_error(format!("{what} must be a non-negative integer")));
    }
    Ok(b)
}

fn comb(vm: &mut Vm, a: Args) -> PyResult<Value> {
    arity(vm, "comb", &a, 2, 2)?;
    let n = nonneg(vm, &a.pos[0], "n")?;
    let k = nonneg(vm, &a.pos[1], "k")?;
    if k > n {
        return Ok(Value::Int(0));
    }
    let k = std::cmp::min(k.clone(), &n - &k);
    let Some(k) = k.to_u64() else {
        return Err(vm.error(
            "OverflowError",
            "min(n - k, k) must not exceed 9223372036854775807",
        ));
    };
    let mut acc = BigInt::one();
    for i in 0..k {
        acc = acc * (&n - BigInt::from(i)) / BigInt::from(i + 1);
    }
    Ok(Value::from_bigint(acc))
}

fn perm(vm: &mut Vm, a: Args) -> PyResult<Value> {
    arity(vm, "perm", &a, 1, 2)?;
    let n = nonneg(vm, &a.pos[0], "n")?;
    let k = match a.pos.get(1) {
        None | Some(Value::None) => n.clone(),
        Some(v) => nonneg(vm, v, "k")?,
    };
    if k > n {
        return Ok(Value::Int(0));
    }
    let Some(k) = k.to_u64() else {
        return Err(vm.error("OverflowError", "k must not exceed 9223372036854775807"));
    };
    let mut acc = BigInt::one();
    for i in 0..k {
        acc *= &n - BigInt::from(i);
    }
    Ok(Value::from_bigint(acc))
}

fn isqrt(vm: &mut Vm, a: Args) -> PyResult<Value> {
    arity(vm, "math.isqrt", &a, 1, 1)?;
    let n = int_arg(vm, &a.pos[0])?;
    if n.is_negative() {
        return Err(vm.value_error("isqrt() argument must be nonnegative"));
    }
    Ok(Value::from_bigint(n.sqrt()))
}

fn next_after(x: f64, y: f64) -> f64 {
    if x.is_nan() || y.is_nan() {
        return f64::NAN;
    }
    if x == y {
        return y;
    }
    if x == 0.0 {
        return f64::from_bits(1).copysign(y);
    }
    let bits = x.to_bits();
    let up = (y > x) == (x > 0.0);
    f64::from_bits(if up { bits + 1 } else { bits - 1 })
}

fn ulp(vm: &mut Vm, a: Args) -> PyResult<Value> {
    arity(vm, "math.ulp", &a, 1, 1)?;
    let x = to_float(vm, &a.pos[0])?.abs();
    if x.is_nan() || x.is_infinite() {
        return Ok(Value::Float(x));
    }
    let next = next_after(x, f64::INFINITY);
    if next.is_infinite() {
        return Ok(Value::Float(x - next_after(x, 0.0)));
    }
    Ok(Value::Float(next - x))
}
