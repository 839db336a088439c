//! Typed conversion between Rust values and script values: [`FromValue`] reads a script value
//! as a Rust type (arguments of host functions, results the host asks for), [`IntoValue`] makes a
//! script value from a Rust one (results of host functions, globals the host sets).
//! A value of the wrong type is a script `TypeError` naming what was expected and what came.

use std::collections::{BTreeMap, HashMap};
use std::hash::BuildHasher;

use eddy_vm::ops;
use eddy_vm::{PyResult, Value};

use super::RawVm;

/// A Rust type that can be read from a script value.
///
/// ```
/// let mut vm = eddy::Vm::new();
/// let pair: (i64, Vec<String>) = vm.eval("(1, ['a', 'b'])").unwrap();
/// assert_eq!(pair, (1, vec!["a".to_string(), "b".to_string()]));
/// ```
pub trait FromValue: Sized {
    /// What a script must pass, as Python spells it (`int`, `list[str]`), for error messages.
    fn expected() -> String;
    /// Reads `v`, or raises `TypeError` (or `OverflowError` for an int that does not fit).
    fn from_value(vm: &mut RawVm, v: &Value) -> PyResult<Self>;
}

/// A Rust type that can become a script value.
///
/// ```
/// let mut vm = eddy::Vm::new();
/// vm.set_global("xs", vec![1.5, 2.5]).unwrap();
/// assert_eq!(vm.eval::<f64>("sum(xs)").unwrap(), 4.0);
/// ```
pub trait IntoValue {
    /// The script value for `self`.
    fn into_value(self, vm: &mut RawVm) -> PyResult<Value>;
}

/// The `TypeError` for a value that is not what `T` accepts.
pub fn mismatch<T: FromValue>(vm: &RawVm, v: &Value) -> Value {
    vm.type_error(format!(
        "expected {}, got {}",
        T::expected(),
        vm.type_name(v)
    ))
}

impl FromValue for Value {
    fn expected() -> String {
        "object".into()
    }
    fn from_value(_vm: &mut RawVm, v: &Value) -> PyResult<Self> {
        Ok(v.clone())
    }
}

impl IntoValue for Value {
    fn into_value(self, _vm: &mut RawVm) -> PyResult<Value> {
        Ok(self)
    }
}

impl IntoValue for () {
    fn into_value(self, _vm: &mut RawVm) -> PyResult<Value> {
        Ok(Value::None)
    }
}

impl FromValue for () {
    fn expected() -> String {
        "None".into()
    }
    fn from_value(vm: &mut RawVm, v: &Value) -> PyResult<Self> {
        match v {
            Value::None => Ok(()),
            _ => Err(mismatch::<()>(vm, v)),
        }
    }
}

/// The integers: a script int (or bool) that fits, else `OverflowError`.
macro_rules! int_conversions {
    ($($t:ty),*) => {$(
        impl FromValue for $t {
            fn expected() -> String {
                "int".into()
            }
            fn from_value(vm: &mut RawVm, v: &Value) -> PyResult<Self> {
                let n = match v {
                    Value::Int(i) => *i,
                    Value::Bool(b) => *b as i64,
                    Value::BigInt(_) => {
                        return Err(vm.error("OverflowError", concat!("int too large to convert to ", stringify!($t))))
                    }
                    _ => return Err(mismatch::<$t>(vm, v)),
                };
                <$t>::try_from(n).map_err(|_| {
                    vm.error("OverflowError", format!("{n} does not fit in {}", stringify!($t)))
                })
            }
        }

        impl IntoValue for $t {
            fn into_value(self, _vm: &mut RawVm) -> PyResult<Value> {
                Ok(match i64::try_from(self) {
                    Ok(i) => Value::Int(i),
                    Err(_) => Value::from_bigint(num_bigint::BigInt::from(self)),
                })
            }
        }
    )*};
}

int_conversions!(i8, i16, i32, i64, isize, u8, u16, u32, u64, usize);

impl FromValue for f64 {
    fn expected() -> String {
        "float".into()
    }
    fn from_value(vm: &mut RawVm, v: &Value) -> PyResult<Self> {
        match v {
            Value::Float(f) => Ok(*f),
            Value::Int(i) => Ok(*i as f64),
            Value::Bool(b) => Ok(*b as i64 as f64),
            Value::BigInt(_) => ops::to_f64(v)
                .ok_or_else(|| vm.error("OverflowError", "int too large to convert to float")),
            _ => Err(mismatch::<f64>(vm, v)),
        }
    }
}

impl IntoValue for f64 {
    fn into_value(self, _vm: &mut RawVm) -> PyResult<Value> {
        Ok(Value::Float(self))
    }
}

impl FromValue for f32 {
    fn expected() -> String {
        "float".into()
    }
    fn from_value(vm: &mut RawVm, v: &Value) -> PyResult<Self> {
        f64::from_value(vm, v).map(|f| f as f32)
    }
}

impl IntoValue for f32 {
    fn into_value(self, _vm: &mut RawVm) -> PyResult<Value> {
        Ok(Value::Float(self as f64))
    }
}

impl FromValue for bool {
    fn expected() -> String {
        "bool".into()
    }
    fn from_value(vm: &mut RawVm, v: &Value) -> PyResult<Self> {
        match v {
            Value::Bool(b) => Ok(*b),
            _ => Err(mismatch::<bool>(vm, v)),
        }
    }
}

impl IntoValue for bool {
    fn into_value(self, _vm: &mut RawVm) -> PyResult<Value> {
        Ok(Value::Bool(self))
    }
}

impl FromValue for String {
    fn expected() -> String {
        "str".into()
    }
    fn from_value(vm: &mut RawVm, v: &Value) -> PyResult<Self> {
        match v {
            Value::Str(s) => Ok(s.s.to_string()),
            _ => Err(mismatch::<String>(vm, v)),
        }
    }
}

impl IntoValue for String {
    fn into_value(self, _vm: &mut RawVm) -> PyResult<Value> {
        Ok(Value::string(self))
    }
}

impl IntoValue for &str {
    fn into_value(self, _vm: &mut RawVm) -> PyResult<Value> {
        Ok(Value::str(self))
    }
}

impl IntoValue for &String {
    fn into_value(self, _vm: &mut RawVm) -> PyResult<Value> {
        Ok(Value::str(self))
    }
}

/// Raw bytes: a script `bytes` object (a plain `Vec<u8>` is a list of ints).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Bytes(pub Vec<u8>);

impl FromValue for Bytes {
    fn expected() -> String {
        "bytes".into()
    }
    fn from_value(vm: &mut RawVm, v: &Value) -> PyResult<Self> {
        match v {
            Value::Bytes(b) => Ok(Bytes(b.to_vec())),
            _ => Err(mismatch::<Bytes>(vm, v)),
        }
    }
}

impl IntoValue for Bytes {
    fn into_value(self, _vm: &mut RawVm) -> PyResult<Value> {
        Ok(Value::Bytes(std::rc::Rc::new(self.0)))
    }
}

impl<T: FromValue> FromValue for Option<T> {
    fn expected() -> String {
        format!("{} | None", T::expected())
    }
    fn from_value(vm: &mut RawVm, v: &Value) -> PyResult<Self> {
        match v {
            Value::None => Ok(None),
            _ => T::from_value(vm, v).map(Some),
        }
    }
}

impl<T: IntoValue> IntoValue for Option<T> {
    fn into_value(self, vm: &mut RawVm) -> PyResult<Value> {
        match self {
            None => Ok(Value::None),
            Some(t) => t.into_value(vm),
        }
    }
}

/// A list or a tuple, item by item.
impl<T: FromValue> FromValue for Vec<T> {
    fn expected() -> String {
        format!("list[{}]", T::expected())
    }
    fn from_value(vm: &mut RawVm, v: &Value) -> PyResult<Self> {
        let items = match v {
            Value::List(l) => l.borrow().clone(),
            Value::Tuple(t) => t.to_vec(),
            _ => return Err(mismatch::<Vec<T>>(vm, v)),
        };
        items.iter().map(|x| T::from_value(vm, x)).collect()
    }
}

impl<T: IntoValue> IntoValue for Vec<T> {
    fn into_value(self, vm: &mut RawVm) -> PyResult<Value> {
        let items = self
            .into_iter()
            .map(|x| x.into_value(vm))
            .collect::<PyResult<Vec<_>>>()?;
        Ok(Value::list(items))
    }
}

/// The entries of a dict with str keys.
fn str_entries<T: FromValue>(vm: &mut RawVm, v: &Value) -> PyResult<Vec<(String, T)>> {
    let Some(d) = ops::dict_of(v) else {
        return Err(vm.type_error(format!(
            "expected dict[str, {}], got {}",
            T::expected(),
            vm.type_name(v)
        )));
    };
    let items = d.borrow().items();
    items
        .iter()
        .map(|(k, x)| Ok((String::from_value(vm, k)?, T::from_value(vm, x)?)))
        .collect()
}

fn new_dict(
    vm: &mut RawVm,
    entries: impl Iterator<Item = (String, PyResult<Value>)>,
) -> PyResult<Value> {
    let d = vm.new_dict();
    for (k, x) in entries {
        ops::dict_set(vm, &d, Value::string(k), x?)?;
    }
    Ok(d)
}

impl<T: FromValue, S: BuildHasher + Default> FromValue for HashMap<String, T, S> {
    fn expected() -> String {
        format!("dict[str, {}]", T::expected())
    }
    fn from_value(vm: &mut RawVm, v: &Value) -> PyResult<Self> {
        Ok(str_entries(vm, v)?.into_iter().collect())
    }
}

impl<T: IntoValue, S> IntoValue for HashMap<String, T, S> {
    fn into_value(self, vm: &mut RawVm) -> PyResult<Value> {
        let mut pairs: Vec<(String, T)> = self.into_iter().collect();
        // Sorted, so scripts see the same order on every run.
        pairs.sort_by(|a, b| a.0.cmp(&b.0));
        let mut entries = Vec::with_capacity(pairs.len());
        for (k, x) in pairs {
            entries.push((k, x.into_value(vm)));
        }
        new_dict(vm, entries.into_iter())
    }
}

impl<T: FromValue> FromValue for BTreeMap<String, T> {
    fn expected() -> String {
        format!("dict[str, {}]", T::expected())
    }
    fn from_value(vm: &mut RawVm, v: &Value) -> PyResult<Self> {
        Ok(str_entries(vm, v)?.into_iter().collect())
    }
}

impl<T: IntoValue> IntoValue for BTreeMap<String, T> {
    fn into_value(self, vm: &mut RawVm) -> PyResult<Value> {
        let mut entries = Vec::with_capacity(self.len());
        for (k, x) in self {
            entries.push((k, x.into_value(vm)));
        }
        new_dict(vm, entries.into_iter())
    }
}

/// Tuples of up to six items, from a tuple or list of that length.
macro_rules! tuple_conversions {
    ($n:literal; $($t:ident $i:tt),+) => {
        impl<$($t: FromValue),+> FromValue for ($($t,)+) {
            fn expected() -> String {
                let names: Vec<String> = vec![$($t::expected()),+];
                format!("tuple[{}]", names.join(", "))
            }
            fn from_value(vm: &mut RawVm, v: &Value) -> PyResult<Self> {
                let items = match v {
                    Value::Tuple(t) if t.len() == $n => t.to_vec(),
                    Value::List(l) if l.borrow().len() == $n => l.borrow().clone(),
                    _ => return Err(mismatch::<Self>(vm, v)),
                };
                Ok(($($t::from_value(vm, &items[$i])?,)+))
            }
        }

        impl<$($t: IntoValue),+> IntoValue for ($($t,)+) {
            fn into_value(self, vm: &mut RawVm) -> PyResult<Value> {
                Ok(Value::tuple(vec![$(self.$i.into_value(vm)?),+]))
            }
        }
    };
}

tuple_conversions!(1; A 0);
tuple_conversions!(2; A 0, B 1);
tuple_conversions!(3; A 0, B 1, C 2);
tuple_conversions!(4; A 0, B 1, C 2, D 3);
tuple_conversions!(5; A 0, B 1, C 2, D 3, E 4);
tuple_conversions!(6; A 0, B 1, C 2, D 3, E 4, F 5);
