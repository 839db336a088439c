//! Comparison and hashing: `== != < <= > >=` with Python's rich-comparison fallbacks, and
//! `hash()` with CPython's numeric hash (so equal numbers hash equal across int and float).

use std::cmp::Ordering;
use std::rc::Rc;

use num_bigint::BigInt;
use num_traits::{Signed, ToPrimitive, Zero};

use super::arith::{to_bigint, to_f64};
use crate::value::Value;
use crate::vm::Vm;
use crate::PyResult;

const CMP_DUNDERS: [&str; 6] = ["__eq__", "__ne__", "__lt__", "__le__", "__gt__", "__ge__"];
const CMP_REFLECTED: [usize; 6] = [0, 1, 4, 5, 2, 3];
const CMP_SYMBOLS: [&str; 6] = ["==", "!=", "<", "<=", ">", ">="];

/// Compares an int-like and a float exactly (no rounding of big ints).
fn cmp_int_float(i: &BigInt, f: f64) -> Option<Ordering> {
    if f.is_nan() {
        return None;
    }
    if f.is_infinite() {
        return Some(if f > 0.0 {
            Ordering::Less
        } else {
            Ordering::Greater
        });
    }
    let fl = f.floor();
    let fi = num_bigint::BigInt::from(fl as i128);
    let fi = if fl.abs() < 1e30 {
        fi
    } else {
        BigInt::parse_bytes(format!("{:.0}", fl).as_bytes(), 10).unwrap_or(fi)
    };
    match i.cmp(&fi) {
        Ordering::Equal => {
            if f > fl {
                Some(Ordering::Less)
            } else {
                Some(Ordering::Equal)
            }
        }
        o => Some(o),
    }
}

/// Ordering of two numbers, None if unordered (NaN) or not both numbers.
pub fn num_cmp(a: &Value, b: &Value) -> Option<Option<Ordering>> {
    match (a, b) {
        (Value::Int(x), Value::Int(y)) => Some(Some(x.cmp(y))),
        (Value::Float(x), Value::Float(y)) => Some(x.partial_cmp(y)),
        (Value::Float(_), _) | (_, Value::Float(_)) => {
            let (fa, fb) = (matches!(a, Value::Float(_)), matches!(b, Value::Float(_)));
            if fa && fb {
                return Some(to_f64(a)?.partial_cmp(&to_f64(b)?));
            }
            if fa {
                let i = to_bigint(b)?;
                Some(cmp_int_float(&i, to_f64(a)?).map(|o| o.reverse()))
            } else {
                let i = to_bigint(a)?;
                Some(cmp_int_float(&i, to_f64(b)?))
            }
        }
        _ => {
            let x = to_bigint(a)?;
            let y = to_bigint(b)?;
            Some(Some(x.cmp(&y)))
        }
    }
}

/// Equality that needs no script code, or None when a script `__eq__` must decide.
pub fn fast_eq(a: &Value, b: &Value) -> Option<bool> {
    use Value::*;
    Some(match (a, b) {
        (Str(x), Str(y)) => Rc::ptr_eq(x, y) || x.s == y.s,
        (Int(x), Int(y)) => x == y,
        (Int(_) | Float(_) | Bool(_) | BigInt(_), Int(_) | Float(_) | Bool(_) | BigInt(_)) => {
            num_cmp(a, b)? == Some(Ordering::Equal)
        }
        (None, None) | (Null, Null) | (Ellipsis, Ellipsis) | (NotImplemented, NotImplemented) => {
            true
        }
        (Bytes(x), Bytes(y)) => x == y,
        (Tuple(x), Tuple(y)) => {
            if x.len() != y.len() {
                return Some(false);
            }
            for (p, q) in x.iter().zip(y.iter()) {
                if p.is(q) {
                    continue;
                }
                if !fast_eq(p, q)? {
                    return Some(false);
                }
            }
            true
        }
        (Instance(x), Instance(y)) => {
            if Rc::ptr_eq(x, y) {
                return Some(true);
            }
            if x.class.slots.get().has_eq
                || y.class.slots.get().has_eq
                || !matches!(x.payload, crate::objects::class::Payload::None)
            {
                return Option::None;
            }
            false
        }
        (Instance(x), _) | (_, Instance(x)) => {
            if x.class.slots.get().has_eq
                || !matches!(x.payload, crate::objects::class::Payload::None)
            {
                return Option::None;
            }
            false
        }
        (List(_), List(_))
        | (Dict(_), Dict(_))
        | (Set(_) | FrozenSet(_), Set(_) | FrozenSet(_)) => return Option::None,
        // CPython's method equality: the same receiver object (identity, not `==`) and the same
        // function, so `obj.m == obj.m` holds although each access makes a new bound method.
        (BoundMethod(x), BoundMethod(y)) => {
            Rc::ptr_eq(x, y) || (x.receiver.is(&y.receiver) && x.func.is(&y.func))
        }
        (Range(x), Range(y)) => {
            let (lx, ly) = (x.len(), y.len());
            lx == ly && (lx == 0 || (x.start == y.start && (lx == 1 || x.step == y.step)))
        }
        _ => match (a.ptr_id(), b.ptr_id()) {
            (Some(p), Some(q)) => p == q,
            _ => false,
        },
    })
}

/// `a == b`.
pub fn eq(vm: &mut Vm, a: &Value, b: &Value) -> PyResult<bool> {
    if let Some(r) = fast_eq(a, b) {
        return Ok(r);
    }
    let r = compare(vm, a, b, 0)?;
    super::truthy(vm, &r)
}

fn seq_eq(vm: &mut Vm, x: &[Value], y: &[Value]) -> PyResult<bool> {
    if x.len() != y.len() {
        return Ok(false);
    }
    for (p, q) in x.iter().zip(y) {
        if !p.is(q) && !eq(vm, p, q)? {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Lexicographic ordering of sequences for `< <= > >=`.
fn seq_cmp(vm: &mut Vm, x: &[Value], y: &[Value], op: u8) -> PyResult<bool> {
    for (p, q) in x.iter().zip(y) {
        if p.is(q) || eq(vm, p, q)? {
            continue;
        }
        let r = compare(vm, p, q, op)?;
        return super::truthy(vm, &r);
    }
    let (lx, ly) = (x.len(), y.len());
    Ok(match op {
        2 => lx < ly,
        3 => lx <= ly,
        4 => lx > ly,
        _ => lx >= ly,
    })
}

fn ord_result(o: Option<Ordering>, op: u8) -> bool {
    match o {
        None => op == 1,
        Some(o) => match op {
            0 => o == Ordering::Equal,
            1 => o != Ordering::Equal,
            2 => o == Ordering::Less,
            3 => o != Ordering::Greater,
            4 => o == Ordering::Greater,
            _ => o != Ordering::Less,
        },
    }
}

/// Rich comparison `a op b` (op: 0 ==, 1 !=, 2 <, 3 <=, 4 >, 5 >=).
pub fn compare(vm: &mut Vm, a: &Value, b: &Value, op: u8) -> PyResult<Value> {
    if let Some(o) = num_cmp(a, b) {
        return Ok(Value::Bool(ord_result(o, op)));
    }
    match (a, b) {
        (Value::Str(x), Value::Str(y)) => {
            return Ok(Value::Bool(ord_result(Some(x.s.cmp(&y.s)), op)))
        }
        (Value::Bytes(x), Value::Bytes(y)) => {
            return Ok(Value::Bool(ord_result(Some(x.cmp(y)), op)))
        }
        (Value::List(x), Value::List(y)) => {
            let (x, y) = (x.borrow().clone(), y.borrow().clone());
            return seq_compare(vm, &x, &y, op);
        }
        (Value::Tuple(x), Value::Tuple(y)) => {
            let (x, y) = (x.clone(), y.clone());
            return seq_compare(vm, &x, &y, op);
        }
        (Value::Dict(_), Value::Dict(_)) if op < 2 => {
            let r = super::dict_eq(vm, a, b)?;
            return Ok(Value::Bool(r == (op == 0)));
        }
        (Value::Set(_) | Value::FrozenSet(_), Value::Set(_) | Value::FrozenSet(_)) => {
            return super::set_compare(vm, a, b, op)
        }
        (Value::Range(_), Value::Range(_)) | (Value::BoundMethod(_), Value::BoundMethod(_))
            if op < 2 =>
        {
            return Ok(Value::Bool(fast_eq(a, b).unwrap_or(false) == (op == 0)))
        }
        _ => {}
    }
    // Script-defined comparisons, reflected operand first when it is a subclass.
    let ta = vm.type_of(a);
    let tb = vm.type_of(b);
    let name = CMP_DUNDERS[op as usize];
    let rname = CMP_DUNDERS[CMP_REFLECTED[op as usize]];
    let reflected_first = !Rc::ptr_eq(&ta, &tb) && tb.is_subclass(&ta);
    let mut tries: Vec<(Value, Value, &str)> = Vec::new();
    if reflected_first {
        tries.push((b.clone(), a.clone(), rname));
        tries.push((a.clone(), b.clone(), name));
    } else {
        tries.push((a.clone(), b.clone(), name));
        tries.push((b.clone(), a.clone(), rname));
    }
    for (x, y, n) in tries {
        let t = vm.type_of(&x);
        if !t.is_user {
            continue;
        }
        if let Some(f) = t.lookup_custom(n) {
            let r = vm.call(&f, vec![x, y])?;
            if !matches!(r, Value::NotImplemented) {
                return Ok(r);
            }
        } else if op == 1 {
            // object.__ne__ inverts __eq__, passing NotImplemented through.
            if let Some(f) = t.lookup_custom("__eq__").filter(|f| !f.is_none()) {
                let r = vm.call(&f, vec![x, y])?;
                if !matches!(r, Value::NotImplemented) {
                    return Ok(Value::Bool(!super::truthy(vm, &r)?));
                }
            }
        }
    }
    let pa = crate::builtins::payload_value(a);
    let pb = crate::builtins::payload_value(b);
    if pa.is_some() || pb.is_some() {
        let a2 = pa.unwrap_or_else(|| a.clone());
        let b2 = pb.unwrap_or_else(|| b.clone());
        return compare(vm, &a2, &b2, op);
    }
    match op {
        0 => Ok(Value::Bool(a.is(b))),
        1 => Ok(Value::Bool(!a.is(b))),
        _ => Err(vm.type_error(format!(
            "'{}' not supported between instances of '{}' and '{}'",
            CMP_SYMBOLS[op as usize],
            ta.name(),
            tb.name()
        ))),
    }
}

fn seq_compare(vm: &mut Vm, x: &[Value], y: &[Value], op: u8) -> PyResult<Value> {
    Ok(Value::Bool(match op {
        0 => seq_eq(vm, x, y)?,
        1 => !seq_eq(vm, x, y)?,
        _ => seq_cmp(vm, x, y, op)?,
    }))
}

/// `a < b` as a bool (sorting, min, max).
pub fn less_than(vm: &mut Vm, a: &Value, b: &Value) -> PyResult<bool> {
    if let (Value::Int(x), Value::Int(y)) = (a, b) {
        return Ok(x < y);
    }
    if let (Value::Str(x), Value::Str(y)) = (a, b) {
        return Ok(x.s < y.s);
    }
    // Sort keys are often tuples of ints and strings: compare them without the general path.
    if let (Value::Tuple(x), Value::Tuple(y)) = (a, b) {
        let mut simple = true;
        for (p, q) in x.iter().zip(y.iter()) {
            match (p, q) {
                (Value::Int(i), Value::Int(j)) if i != j => return Ok(i < j),
                (Value::Int(_), Value::Int(_)) => {}
                (Value::Str(s), Value::Str(t)) if s.s != t.s => return Ok(s.s < t.s),
                (Value::Str(_), Value::Str(_)) => {}
                _ => {
                    simple = false;
                    break;
                }
            }
        }
        if simple {
            return Ok(x.len() < y.len());
        }
    }
    let r = compare(vm, a, b, 2)?;
    super::truthy(vm, &r)
}

const HASH_BITS: u32 = 61;
const HASH_MODULUS: u64 = (1 << HASH_BITS) - 1;

/// CPython's hash of an int.
pub fn hash_bigint(b: &BigInt) -> i64 {
    let m = BigInt::from(HASH_MODULUS);
    let r = (b.abs() % &m).to_i64().unwrap_or(0);
    let r = if b.is_negative() { -r } else { r };
    if r == -1 {
        -2
    } else {
        r
    }
}

pub fn hash_int(i: i64) -> i64 {
    let neg = i < 0;
    let r = (i.unsigned_abs() % HASH_MODULUS) as i64;
    let r = if neg { -r } else { r };
    if r == -1 {
        -2
    } else {
        r
    }
}

/// CPython's `_Py_HashDouble`.
pub fn hash_float(f: f64) -> i64 {
    if f.is_nan() {
        return 0;
    }
    if f.is_infinite() {
        return if f > 0.0 { 314159 } else { -314159 };
    }
    if f.fract() == 0.0 && f.abs() < 9.2e18 {
        return hash_int(f as i64);
    }
    let (mut m, mut e) = frexp(f);
    let mut sign = 1i64;
    if m < 0.0 {
        sign = -1;
        m = -m;
    }
    let mut x: u64 = 0;
    while m != 0.0 {
        x = ((x << 28) & HASH_MODULUS) | (x >> (HASH_BITS - 28));
        m *= 268435456.0;
        e -= 28;
        let y = m as u64;
        m -= y as f64;
        x += y;
        if x >= HASH_MODULUS {
            x -= HASH_MODULUS;
        }
    }
    let e = if e >= 0 {
        e % HASH_BITS as i32
    } else {
        HASH_BITS as i32 - 1 - ((-1 - e) % HASH_BITS as i32)
    };
    x = ((x << e) & HASH_MODULUS) | (x >> (HASH_BITS as i32 - e));
    let r = x as i64 * sign;
    if r == -1 {
        -2
    } else {
        r
    }
}

fn frexp(f: f64) -> (f64, i32) {
    if f == 0.0 || !f.is_finite() {
        return (f, 0);
    }
    let bits = f.to_bits();
    let exp = ((bits >> 52) & 0x7ff) as i32;
    if exp == 0 {
        // Subnormal: scale up first.
        let (m, e) = frexp(f * (1u64 << 54) as f64);
        return (m, e - 54);
    }
    let e = exp - 1022;
    let m = f64::from_bits((bits & !(0x7ffu64 << 52)) | (1022u64 << 52));
    (m, e)
}

/// CPython's tuple hash (xxHash-style) from the items' hashes.
pub fn tuple_hash(lanes: &[i64]) -> i64 {
    const P1: u64 = 11400714785074694791;
    const P2: u64 = 14029467366897019727;
    const P5: u64 = 2870177450012600261;
    let mut acc: u64 = P5;
    for lane in lanes {
        acc = acc.wrapping_add((*lane as u64).wrapping_mul(P2));
        acc = acc.rotate_left(31);
        acc = acc.wrapping_mul(P1);
    }
    acc = acc.wrapping_add((lanes.len() as u64) ^ (P5 ^ 3527539));
    if acc as i64 == -1 {
        1546275796
    } else {
        acc as i64
    }
}

/// The hash of a value that needs no script code to hash (numbers, strings, bytes, None, and
/// tuples and frozensets of those), as the compiler folds constants; None for anything else.
pub fn const_hash(v: &Value) -> Option<i64> {
    match v {
        Value::Int(i) => Some(hash_int(*i)),
        Value::Bool(b) => Some(*b as i64),
        Value::Float(f) => Some(hash_float(*f)),
        Value::BigInt(b) => Some(hash_bigint(b)),
        Value::Str(s) => Some(s.hash_u64() as i64),
        Value::None => Some(NONE_HASH),
        Value::Bytes(b) => Some(bytes_hash(b)),
        Value::FrozenSet(s) => Some(s.borrow().frozen_hash()),
        Value::Tuple(t) => {
            let lanes: Option<Vec<i64>> = t.iter().map(const_hash).collect();
            Some(tuple_hash(&lanes?))
        }
        _ => None,
    }
}

const NONE_HASH: i64 = 0x5d5e_a0b1;

fn bytes_hash(b: &[u8]) -> i64 {
    let mut h: u64 = 0xcbf29ce484222325;
    for x in b.iter() {
        h ^= *x as u64;
        h = h.wrapping_mul(0x100000001b3);
    }
    (h >> 2) as i64
}

/// `hash(v)`: TypeError for unhashable values.
pub fn hash(vm: &mut Vm, v: &Value) -> PyResult<i64> {
    Ok(match v {
        Value::Int(i) => hash_int(*i),
        Value::Bool(b) => *b as i64,
        Value::Float(f) => hash_float(*f),
        Value::BigInt(b) => hash_bigint(b),
        Value::Str(s) => s.hash_u64() as i64,
        Value::None => NONE_HASH,
        Value::Bytes(b) => bytes_hash(b),
        Value::Tuple(t) => {
            let mut lanes = Vec::with_capacity(t.len());
            for item in t.iter() {
                lanes.push(hash(vm, item)?);
            }
            tuple_hash(&lanes)
        }
        Value::FrozenSet(s) => s.borrow().frozen_hash(),
        Value::List(_) | Value::Dict(_) | Value::Set(_) => {
            return Err(vm.type_error(format!("unhashable type: '{}'", vm.type_name(v))))
        }
        Value::Instance(inst) => {
            let cls = inst.class.clone();
            match cls.lookup("__hash__") {
                Some(Value::None) => {
                    return Err(vm.type_error(format!("unhashable type: '{}'", cls.name())))
                }
                // A script __hash__, or a native one defined by a Rust class (not object's default).
                Some(f @ (Value::Function(_) | Value::Native(_)))
                    if matches!(f, Value::Function(_))
                        || cls.lookup_custom("__hash__").is_some() =>
                {
                    let native = matches!(f, Value::Native(_));
                    let r = vm.call(&f, vec![v.clone()])?;
                    match r {
                        // A native hash is already final; a script's result is reduced as CPython does.
                        Value::Int(i) if native => i,
                        Value::Int(i) => hash_int(i),
                        Value::BigInt(b) => hash_bigint(&b),
                        Value::Bool(b) => b as i64,
                        _ => return Err(vm.type_error("__hash__ method should return an integer")),
                    }
                }
                _ => {
                    // Defining __eq__ without __hash__ makes instances unhashable.
                    if cls.dict.borrow().contains_key("__eq__")
                        && !cls.dict.borrow().contains_key("__hash__")
                        && cls.is_user
                    {
                        return Err(vm.type_error(format!("unhashable type: '{}'", cls.name())));
                    }
                    match crate::builtins::payload_value(v) {
                        Some(p) => hash(vm, &p)?,
                        None => id_hash(v),
                    }
                }
            }
        }
        // Consistent with method equality above: receiver identity and function.
        Value::BoundMethod(m) => id_hash(&m.receiver) ^ id_hash(&m.func),
        _ => id_hash(v),
    })
}

fn id_hash(v: &Value) -> i64 {
    let id = v.ptr_id().unwrap_or(0) as u64;
    id.rotate_right(4) as i64 & i64::MAX
}

#[allow(dead_code)]
fn _unused(b: &BigInt) -> bool {
    b.is_zero()
}
