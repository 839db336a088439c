//! printf-style `%` formatting of strings.

use crate::ops;
use crate::value::Value;
use crate::vm::Vm;
use crate::PyResult;

/// `fmt % args`.
pub fn percent_format(vm: &mut Vm, fmt: &Value, args: &Value) -> PyResult<Value> {
    let Value::Str(f) = fmt else { return Err(vm.type_error("format requires a string")) };
    let items: Vec<Value> = match args {
        Value::Tuple(t) => t.to_vec(),
        _ => vec![args.clone()],
    };
    let mapping = if ops::dict_of(args).is_some() { Some(args.clone()) } else { None };
    let chars: Vec<char> = f.s.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    let mut next = 0;
    while i < chars.len() {
        let c = chars[i];
        if c != '%' {
            out.push(c);
            i += 1;
            continue;
        }
        i += 1;
        if i >= chars.len() {
            return Err(vm.value_error("incomplete format"));
        }
        // %(name)
        let mut keyed = None;
        if chars[i] == '(' {
            let start = i + 1;
            let mut depth = 1;
            i += 1;
            while i < chars.len() && depth > 0 {
                if chars[i] == '(' {
                    depth += 1;
                } else if chars[i] == ')' {
                    depth -= 1;
                }
                i += 1;
            }
            keyed = Some(chars[start..i - 1].iter().collect::<String>());
        }
        let mut flags = String::new();
        while i < chars.len() && matches!(chars[i], '-' | '+' | ' ' | '#' | '0') {
            flags.push(chars[i]);
            i += 1;
        }
        let mut width = String::new();
        if i < chars.len() && chars[i] == '*' {
            let w = items.get(next).cloned().unwrap_or(Value::Int(0));
            next += 1;
            width = ops::to_str(vm, &w)?;
            i += 1;
        }
        while i < chars.len() && chars[i].is_ascii_digit() {
            width.push(chars[i]);
            i += 1;
        }
        let mut precision = None;
        if i < chars.len() && chars[i] == '.' {
            i += 1;
            let mut p = String::new();
            if i < chars.len() && chars[i] == '*' {
                let w = items.get(next).cloned().unwrap_or(Value::Int(0));
                next += 1;
                p = ops::to_str(vm, &w)?;
                i += 1;
            }
            while i < chars.len() && chars[i].is_ascii_digit() {
                p.push(chars[i]);
                i += 1;
            }
            precision = Some(p.parse::<usize>().unwrap_or(0));
        }
        if i >= chars.len() {
            return Err(vm.value_error("incomplete format"));
        }
        let conv = chars[i];
        i += 1;
        if conv == '%' {
            out.push('%');
            continue;
        }
        let arg = match &keyed {
            Some(k) => {
                let m = mapping.clone().ok_or_else(|| vm.type_error("format requires a mapping"))?;
                ops::getitem(vm, &m, &Value::str(k))?
            }
            None => {
                let a = items.get(next).cloned().ok_or_else(|| vm.type_error("not enough arguments for format string"))?;
                next += 1;
                a
            }
        };
        let mut spec = String::new();
        if flags.contains('-') {
            spec.push('<');
        } else if matches!(conv, 's' | 'r' | 'a') {
            spec.push('>');
        }
        if flags.contains('+') {
            spec.push('+');
        } else if flags.contains(' ') {
            spec.push(' ');
        }
        if flags.contains('#') {
            spec.push('#');
        }
        if flags.contains('0') && !flags.contains('-') {
            spec.push('0');
        }
        spec.push_str(&width);
        let body = match conv {
            's' => {
                let s = ops::to_str(vm, &arg)?;
                let s = match precision {
                    Some(p) => s.chars().take(p).collect(),
                    None => s,
                };
                ops::format(vm, &Value::string(s), &spec)?
            }
            'r' | 'a' => {
                let s = ops::repr(vm, &arg)?;
                ops::format(vm, &Value::string(s), &spec)?
            }
            'd' | 'i' | 'u' => {
                let n = match &arg {
                    Value::Float(f) => Value::from_bigint(num_bigint::BigInt::from(f.trunc() as i128)),
                    Value::Int(_) | Value::BigInt(_) | Value::Bool(_) => arg.clone(),
                    _ => return Err(vm.type_error(format!("%{} format: a real number is required, not {}", conv, vm.type_name(&arg)))),
                };
                ops::format(vm, &n, &format!("{spec}d"))?
            }
            'x' | 'X' | 'o' => {
                if !matches!(arg, Value::Int(_) | Value::BigInt(_) | Value::Bool(_)) {
                    return Err(vm.type_error(format!("%{} format: an integer is required, not {}", conv, vm.type_name(&arg))));
                }
                ops::format(vm, &arg, &format!("{spec}{conv}"))?
            }
            'f' | 'F' | 'e' | 'E' | 'g' | 'G' => {
                let f = ops::to_f64(&arg).ok_or_else(|| vm.type_error(format!("must be real number, not {}", vm.type_name(&arg))))?;
                let p = precision.unwrap_or(6);
                ops::format(vm, &Value::Float(f), &format!("{spec}.{p}{conv}"))?
            }
            'c' => match &arg {
                Value::Int(n) => char::from_u32(*n as u32).map(|c| c.to_string()).unwrap_or_default(),
                Value::Str(s) => s.s.to_string(),
                _ => return Err(vm.type_error("%c requires int or char")),
            },
            other => return Err(vm.value_error(format!("unsupported format character '{}' (0x{:x}) at index {}", other, other as u32, i - 1))),
        };
        out.push_str(&body);
    }
    if mapping.is_none() && next < items.len() {
        return Err(vm.type_error("not all arguments converted during string formatting"));
    }
    Ok(Value::string(out))
}
