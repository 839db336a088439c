//! Serde conversions (the `serde` feature): a host's own structs to and from script values,
//! through `serde_json::Value` as the meeting point (objects become dicts, sequences lists,
//! `None`/unit `None`). [`Serde<T>`] is the wrapper to use in host function signatures.

use eddy_vm::{ops, PyResult, Value};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value as Json;

use super::convert::{FromValue, IntoValue};
use super::RawVm;

/// A value converted through serde: `Serde<MyStruct>` as a host function's argument reads a
/// script dict into `MyStruct`; as its result, hands scripts a dict.
///
/// ```
/// use eddy::Serde;
/// #[derive(serde::Serialize, serde::Deserialize)]
/// struct Point { x: i64, y: i64 }
/// let mut vm = eddy::Vm::new();
/// vm.register_fn("flip", |Serde(p): Serde<Point>| Serde(Point { x: p.y, y: p.x }));
/// assert_eq!(vm.eval::<i64>("flip({'x': 1, 'y': 2})['x']").unwrap(), 2);
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Serde<T>(pub T);

impl<T: DeserializeOwned> FromValue for Serde<T> {
    fn expected() -> String {
        std::any::type_name::<T>()
            .rsplit("::")
            .next()
            .unwrap_or("object")
            .to_string()
    }
    fn from_value(vm: &mut RawVm, v: &Value) -> PyResult<Self> {
        let json = to_json(vm, v, 0)?;
        serde_json::from_value(json)
            .map(Serde)
            .map_err(|e| vm.type_error(format!("cannot convert to {}: {e}", Self::expected())))
    }
}

impl<T: Serialize> IntoValue for Serde<T> {
    fn into_value(self, vm: &mut RawVm) -> PyResult<Value> {
        let json = serde_json::to_value(&self.0).map_err(|e| vm.value_error(e.to_string()))?;
        from_json(vm, json)
    }
}

/// Nesting beyond this is refused rather than overflowing the stack (a list that contains itself).
const MAX_DEPTH: usize = 200;

fn to_json(vm: &mut RawVm, v: &Value, depth: usize) -> PyResult<Json> {
    if depth > MAX_DEPTH {
        return Err(vm.value_error("value nested too deeply to convert"));
    }
    Ok(match v {
        Value::None => Json::Null,
        Value::Bool(b) => Json::Bool(*b),
        Value::Int(i) => Json::from(*i),
        Value::Float(f) => serde_json::Number::from_f64(*f)
            .map(Json::Number)
            .unwrap_or(Json::Null),
        Value::Str(s) => Json::String(s.s.to_string()),
        Value::List(_) | Value::Tuple(_) => {
            let items = ops::collect(vm, v)?;
            Json::Array(
                items
                    .iter()
                    .map(|x| to_json(vm, x, depth + 1))
                    .collect::<PyResult<_>>()?,
            )
        }
        _ => match ops::dict_of(v) {
            Some(d) => {
                let items = d.borrow().items();
                let mut map = serde_json::Map::new();
                for (k, x) in items {
                    let key = match &k {
                        Value::Str(s) => s.s.to_string(),
                        other => ops::to_str(vm, other)?,
                    };
                    map.insert(key, to_json(vm, &x, depth + 1)?);
                }
                Json::Object(map)
            }
            None => {
                return Err(vm.type_error(format!("cannot convert {} for serde", vm.type_name(v))))
            }
        },
    })
}

fn from_json(vm: &mut RawVm, j: Json) -> PyResult<Value> {
    Ok(match j {
        Json::Null => Value::None,
        Json::Bool(b) => Value::Bool(b),
        Json::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => Value::Int(i),
            (None, Some(u)) => Value::from_bigint(num_bigint::BigInt::from(u)),
            _ => Value::Float(n.as_f64().unwrap_or(f64::NAN)),
        },
        Json::String(s) => Value::string(s),
        Json::Array(items) => {
            let vals = items
                .into_iter()
                .map(|x| from_json(vm, x))
                .collect::<PyResult<Vec<_>>>()?;
            Value::list(vals)
        }
        Json::Object(map) => {
            let d = vm.new_dict();
            for (k, x) in map {
                let v = from_json(vm, x)?;
                ops::dict_set(vm, &d, Value::string(k), v)?;
            }
            d
        }
    })
}
