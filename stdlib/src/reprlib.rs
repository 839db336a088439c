//! `reprlib.repr`: CPython's size-limited repr (`reprlib.aRepr` with its default limits), used
//! by scripts directly and by asyncio for `result=...` in future and task reprs.

use std::rc::Rc;

use eddy_vm::objects::module::Module;
use eddy_vm::{ops, Args, PyResult, Value, Vm};

use crate::util;

const MAX_LEVEL: usize = 6;
const MAX_LIST: usize = 6;
const MAX_DICT: usize = 4;
const MAX_STRING: usize = 30;
const MAX_LONG: usize = 40;
const MAX_OTHER: usize = 30;

pub fn init(vm: &mut Vm) -> PyResult<Rc<Module>> {
    let m = Rc::new(Module::new("reprlib"));
    util::def(vm, &m, "repr", |vm, a: Args| {
        util::arity(vm, "repr", &a, 1, 1)?;
        short_repr(vm, &a.pos[0]).map(Value::string)
    });
    Ok(m)
}

/// `reprlib.repr(v)`.
pub fn short_repr(vm: &mut Vm, v: &Value) -> PyResult<String> {
    repr1(vm, v, MAX_LEVEL)
}

/// Keeps the head and tail of `s` around "..." so that it is `max` characters long.
fn cut(s: String, max: usize) -> String {
    let chars: Vec<char> = s.chars().collect();
    if chars.len() <= max {
        return s;
    }
    let i = (max - 3) / 2;
    let j = max - 3 - i;
    let head: String = chars[..i].iter().collect();
    let tail: String = chars[chars.len() - j..].iter().collect();
    format!("{head}...{tail}")
}

/// `Repr.repr1`: dispatch on the exact built-in type; anything else (subclasses too) is
/// `repr_instance`, cut to `maxother`.
fn repr1(vm: &mut Vm, v: &Value, level: usize) -> PyResult<String> {
    match v {
        Value::Str(s) => {
            let head: String = s.s.chars().take(MAX_STRING).collect();
            Ok(cut(ops::str_repr(&head), MAX_STRING))
        }
        Value::Int(_) | Value::BigInt(_) => Ok(cut(ops::repr(vm, v)?, MAX_LONG)),
        Value::List(l) => {
            let items = l.borrow().clone();
            iterable(vm, &items, level, "[", "]", false)
        }
        Value::Tuple(t) => {
            let items = t.to_vec();
            iterable(vm, &items, level, "(", ")", true)
        }
        Value::Set(_) | Value::FrozenSet(_) => {
            let items = ops::collect(vm, v)?;
            let items = possibly_sorted(vm, items);
            let frozen = matches!(v, Value::FrozenSet(_));
            match (items.is_empty(), frozen) {
                (true, false) => Ok("set()".into()),
                (true, true) => Ok("frozenset()".into()),
                (false, false) => iterable(vm, &items, level, "{", "}", false),
                (false, true) => iterable(vm, &items, level, "frozenset({", "})", false),
            }
        }
        Value::Dict(d) => {
            let items = d.borrow().items();
            dict(vm, items, level)
        }
        _ => Ok(cut(ops::repr(vm, v)?, MAX_OTHER)),
    }
}

fn iterable(
    vm: &mut Vm,
    items: &[Value],
    level: usize,
    left: &str,
    right: &str,
    tuple: bool,
) -> PyResult<String> {
    if level == 0 && !items.is_empty() {
        return Ok(format!("{left}...{right}"));
    }
    let mut pieces = Vec::new();
    for item in items.iter().take(MAX_LIST) {
        pieces.push(repr1(vm, item, level - 1)?);
    }
    if items.len() > MAX_LIST {
        pieces.push("...".into());
    }
    let trail = if tuple && items.len() == 1 { "," } else { "" };
    Ok(format!("{left}{}{trail}{right}", pieces.join(", ")))
}

fn dict(vm: &mut Vm, items: Vec<(Value, Value)>, level: usize) -> PyResult<String> {
    if items.is_empty() {
        return Ok("{}".into());
    }
    if level == 0 {
        return Ok("{...}".into());
    }
    let n = items.len();
    let keys = possibly_sorted(vm, items.iter().map(|(k, _)| k.clone()).collect());
    let mut pieces = Vec::new();
    for key in keys.iter().take(MAX_DICT) {
        let value = items
            .iter()
            .find(|(k, _)| k.is(key))
            .map(|(_, v)| v.clone())
            .unwrap_or(Value::None);
        let k = repr1(vm, key, level - 1)?;
        let v = repr1(vm, &value, level - 1)?;
        pieces.push(format!("{k}: {v}"));
    }
    if n > MAX_DICT {
        pieces.push("...".into());
    }
    Ok(format!("{{{}}}", pieces.join(", ")))
}

/// Sorted when the items can be ordered, else in their own order (`_possibly_sorted`).
fn possibly_sorted(vm: &mut Vm, mut items: Vec<Value>) -> Vec<Value> {
    let original = items.clone();
    let mut failed = false;
    items.sort_by(|a, b| {
        if failed {
            return std::cmp::Ordering::Equal;
        }
        match ops::less_than(vm, a, b) {
            Ok(true) => std::cmp::Ordering::Less,
            Ok(false) => match ops::less_than(vm, b, a) {
                Ok(true) => std::cmp::Ordering::Greater,
                Ok(false) => std::cmp::Ordering::Equal,
                Err(_) => {
                    failed = true;
                    std::cmp::Ordering::Equal
                }
            },
            Err(_) => {
                failed = true;
                std::cmp::Ordering::Equal
            }
        }
    });
    if failed {
        original
    } else {
        items
    }
}
