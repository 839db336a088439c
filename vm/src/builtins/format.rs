//! String formatting: printf-style `fmt % args` and the `str.format` / `format_map` field
//! syntax (`{0.attr[key]!r:>{width}}`). The per-value format-spec mini-language itself is
//! `ops::format` (ops/repr.rs).

use std::rc::Rc;

use super::str_methods::str_of;
use crate::ops;
use crate::value::{PyStr, Value};
use crate::vm::Vm;
use crate::PyResult;

/// Where `str.format` finds named fields: the call's keywords, or `format_map`'s mapping.
pub enum Named {
    Kw(Vec<(Rc<PyStr>, Value)>),
    Map(Value),
}

/// Automatic (`{}`) versus manual (`{0}`) field numbering; a string may not mix them.
#[derive(PartialEq)]
enum Numbering {
    Unset,
    Auto,
    Manual,
}

struct Fields<'a> {
    pos: Option<&'a [Value]>,
    named: &'a Named,
    numbering: Numbering,
    next: usize,
}

/// `fmt.format(*pos, **named)` (`pos` is None for `format_map`).
pub fn str_format(
    vm: &mut Vm,
    fmt: &str,
    pos: Option<&[Value]>,
    named: &Named,
) -> PyResult<String> {
    let chars: Vec<char> = fmt.chars().collect();
    let mut fields = Fields {
        pos,
        named,
        numbering: Numbering::Unset,
        next: 0,
    };
    // PEP 3101: a spec may hold fields, but those may not nest further.
    build(vm, &chars, &mut fields, 2)
}

fn build(vm: &mut Vm, s: &[char], fields: &mut Fields, depth: u32) -> PyResult<String> {
    if depth == 0 {
        return Err(vm.value_error("Max string recursion exceeded"));
    }
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        let c = s[i];
        i += 1;
        if c == '}' {
            if s.get(i) != Some(&'}') {
                return Err(vm.value_error("Single '}' encountered in format string"));
            }
            out.push('}');
            i += 1;
            continue;
        }
        if c != '{' {
            out.push(c);
            continue;
        }
        match s.get(i) {
            None => return Err(vm.value_error("Single '{' encountered in format string")),
            Some('{') => {
                out.push('{');
                i += 1;
                continue;
            }
            _ => {}
        }
        let field = parse_field(vm, s, &mut i)?;
        let mut obj = field_object(vm, &s[field.name.0..field.name.1], fields)?;
        if let Some(conv) = field.conversion {
            obj = Value::string(match conv {
                'r' => ops::repr(vm, &obj)?,
                's' => ops::to_str(vm, &obj)?,
                'a' => ops::ascii(&ops::repr(vm, &obj)?),
                c if (c as u32) > 32 && (c as u32) < 127 => {
                    return Err(vm.value_error(format!("Unknown conversion specifier {c}")))
                }
                c => {
                    return Err(
                        vm.value_error(format!("Unknown conversion specifier \\x{:x}", c as u32))
                    )
                }
            });
        }
        let spec_chars = &s[field.spec.0..field.spec.1];
        let spec = if field.nested {
            build(vm, spec_chars, fields, depth - 1)?
        } else {
            spec_chars.iter().collect()
        };
        out.push_str(&ops::format(vm, &obj, &spec)?);
    }
    Ok(out)
}

/// One `{...}` replacement field: char ranges of its name and spec, and its conversion.
struct Field {
    name: (usize, usize),
    conversion: Option<char>,
    spec: (usize, usize),
    nested: bool,
}

/// Parses the field starting just after its `{`, leaving `i` after the closing `}`.
fn parse_field(vm: &Vm, s: &[char], i: &mut usize) -> PyResult<Field> {
    let start = *i;
    let mut end_char = None;
    while *i < s.len() {
        let c = s[*i];
        *i += 1;
        match c {
            '{' => return Err(vm.value_error("unexpected '{' in field name")),
            // An index may hold any of the terminators: `{0[:]}`.
            '[' => {
                while *i < s.len() && s[*i] != ']' {
                    *i += 1;
                }
            }
            '}' | ':' | '!' => {
                end_char = Some(c);
                break;
            }
            _ => {}
        }
    }
    let Some(mut c) = end_char else {
        return Err(vm.value_error("expected '}' before end of string"));
    };
    let mut field = Field {
        name: (start, *i - 1),
        conversion: None,
        spec: (*i, *i),
        nested: false,
    };
    if c == '}' {
        return Ok(field);
    }
    if c == '!' {
        let Some(&conv) = s.get(*i) else {
            return Err(vm.value_error("end of string while looking for conversion specifier"));
        };
        field.conversion = Some(conv);
        *i += 1;
        if let Some(&next) = s.get(*i) {
            *i += 1;
            if next == '}' {
                field.spec = (*i, *i);
                return Ok(field);
            }
            if next != ':' {
                return Err(vm.value_error("expected ':' after conversion specifier"));
            }
            c = next;
        }
    }
    let _ = c;
    let spec_start = *i;
    let mut depth = 1;
    while *i < s.len() {
        let ch = s[*i];
        *i += 1;
        match ch {
            '{' => {
                field.nested = true;
                depth += 1;
            }
            '}' => {
                depth -= 1;
                if depth == 0 {
                    field.spec = (spec_start, *i - 1);
                    return Ok(field);
                }
            }
            _ => {}
        }
    }
    Err(vm.value_error("unmatched '{' in format spec"))
}

/// A field name's leading integer (`{0}`, `{0[1]}`), if it is all decimal digits.
fn field_integer(vm: &Vm, s: &[char]) -> PyResult<Option<usize>> {
    if s.is_empty() {
        return Ok(None);
    }
    let mut n: usize = 0;
    for c in s {
        let Some(d) = super::str_case::decimal_value(*c) else {
            return Ok(None);
        };
        n = n
            .checked_mul(10)
            .and_then(|n| n.checked_add(d as usize))
            .filter(|n| *n <= isize::MAX as usize)
            .ok_or_else(|| vm.value_error("Too many decimal digits in format string"))?;
    }
    Ok(Some(n))
}

/// Resolves `first.attr[key]...` against the positional and named arguments.
fn field_object(vm: &mut Vm, name: &[char], fields: &mut Fields) -> PyResult<Value> {
    let split = name
        .iter()
        .position(|c| matches!(c, '.' | '['))
        .unwrap_or(name.len());
    let (first, mut rest) = name.split_at(split);
    let index = field_integer(vm, first)?;
    let mut obj = if first.is_empty() || index.is_some() {
        let want = if first.is_empty() {
            Numbering::Auto
        } else {
            Numbering::Manual
        };
        if fields.numbering == Numbering::Unset {
            fields.numbering = if first.is_empty() {
                Numbering::Auto
            } else {
                Numbering::Manual
            };
        }
        if fields.numbering != want {
            return Err(vm.value_error(if first.is_empty() {
                "cannot switch from manual field specification to automatic field numbering"
            } else {
                "cannot switch from automatic field numbering to manual field specification"
            }));
        }
        let idx = match index {
            Some(i) => i,
            None => {
                fields.next += 1;
                fields.next - 1
            }
        };
        let Some(pos) = fields.pos else {
            return Err(vm.value_error("Format string contains positional fields"));
        };
        match pos.get(idx) {
            Some(v) => v.clone(),
            None => {
                return Err(vm.index_error(format!(
                    "Replacement index {idx} out of range for positional args tuple"
                )))
            }
        }
    } else {
        let key: String = first.iter().collect();
        match fields.named {
            Named::Kw(kw) => match kw.iter().find(|(k, _)| *k.s == *key) {
                Some((_, v)) => v.clone(),
                None => return Err(vm.key_error(Value::string(key))),
            },
            Named::Map(m) => {
                let m = m.clone();
                ops::getitem(vm, &m, &Value::string(key))?
            }
        }
    };
    while let Some((&kind, after)) = rest.split_first() {
        let (part, next) = match kind {
            '.' => {
                let end = after
                    .iter()
                    .position(|c| matches!(c, '.' | '['))
                    .unwrap_or(after.len());
                (&after[..end], &after[end..])
            }
            '[' => {
                let Some(end) = after.iter().position(|c| *c == ']') else {
                    return Err(vm.value_error("Missing ']' in format string"));
                };
                (&after[..end], &after[end + 1..])
            }
            _ => {
                return Err(
                    vm.value_error("Only '.' or '[' may follow ']' in format field specifier")
                )
            }
        };
        if part.is_empty() {
            return Err(vm.value_error("Empty attribute in format string"));
        }
        let text: String = part.iter().collect();
        obj = if kind == '.' {
            crate::attr::get_attr(vm, &obj, &text)?
        } else {
            let key = match field_integer(vm, part)? {
                Some(n) => Value::Int(n as i64),
                None => Value::string(text),
            };
            ops::getitem(vm, &obj, &key)?
        };
        rest = next;
    }
    Ok(obj)
}

/// The arguments of `fmt % args`: a tuple's items, or one value; mappings serve `%(key)s`.
struct PercentArgs {
    items: Vec<Value>,
    next: usize,
    mapping: Option<Value>,
    /// Formatting bytes (`b'%s' % x`): the text holds one char per byte (latin-1), `%s`/`%b`
    /// take bytes-like arguments and `%r`/`%a` give `ascii()`.
    bytes_mode: bool,
}

impl PercentArgs {
    fn next(&mut self, vm: &Vm) -> PyResult<Value> {
        let v = self
            .items
            .get(self.next)
            .cloned()
            .ok_or_else(|| vm.type_error("not enough arguments for format string"))?;
        self.next += 1;
        Ok(v)
    }
}

/// A parsed `%[(key)][flags][width][.precision]type` directive.
#[derive(Default)]
struct Directive {
    left: bool,
    sign: Option<char>,
    alternate: bool,
    zero: bool,
    width: usize,
    precision: Option<usize>,
}

/// `fmt % args`.
pub fn percent_format(vm: &mut Vm, fmt: &Value, args: &Value) -> PyResult<Value> {
    let Some(f) = str_of(fmt) else {
        return Err(vm.type_error("format requires a string"));
    };
    percent_core(vm, &f.s, args, false).map(Value::string)
}

/// `bytes % args` (PEP 461): the str machinery over the bytes read as latin-1, so every
/// directive sees one char per byte, and the result mapped back to bytes.
pub fn percent_format_bytes(vm: &mut Vm, fmt: &[u8], args: &Value) -> PyResult<Value> {
    let text: String = fmt.iter().map(|&b| b as char).collect();
    let out = percent_core(vm, &text, args, true)?;
    Ok(Value::Bytes(Rc::new(
        out.chars().map(|c| c as u32 as u8).collect(),
    )))
}

/// The bytes of a `%s`/`%b` argument, as latin-1 text.
fn bytes_arg(vm: &mut Vm, arg: &Value) -> PyResult<String> {
    let bytes: Vec<u8> = match arg {
        Value::Bytes(b) => b.to_vec(),
        _ if vm.type_of(arg).lookup("__bytes__").is_some() => {
            match vm.call_method(arg, "__bytes__", vec![])? {
                Value::Bytes(b) => b.to_vec(),
                _ => return Err(vm.type_error("__bytes__ returned non-bytes")),
            }
        }
        _ => {
            return Err(vm.type_error(format!(
                "%b requires a bytes-like object, or an object that implements __bytes__, not '{}'",
                vm.type_name(arg)
            )))
        }
    };
    Ok(bytes.iter().map(|&b| b as char).collect())
}

fn percent_core(vm: &mut Vm, text: &str, args: &Value, bytes_mode: bool) -> PyResult<String> {
    let is_tuple = matches!(args, Value::Tuple(_));
    let items: Vec<Value> = match args {
        Value::Tuple(t) => t.to_vec(),
        _ => vec![args.clone()],
    };
    // Any non-tuple, non-str object with __getitem__ may serve %(key)s, and then unused
    // arguments are not an error.
    let is_mapping = !is_tuple
        && str_of(args).is_none()
        && (matches!(args, Value::Dict(_) | Value::List(_))
            || vm.type_of(args).lookup("__getitem__").is_some());
    let mut pa = PercentArgs {
        items,
        next: 0,
        mapping: if is_mapping { Some(args.clone()) } else { None },
        bytes_mode,
    };
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(chars.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        i += 1;
        if c != '%' {
            out.push(c);
            continue;
        }
        if chars.get(i) == Some(&'%') {
            out.push('%');
            i += 1;
            continue;
        }
        directive(vm, &chars, &mut i, &mut pa, &mut out)?;
    }
    if pa.mapping.is_none() && pa.next < pa.items.len() {
        let what = if bytes_mode { "bytes" } else { "string" };
        return Err(vm.type_error(format!(
            "not all arguments converted during {what} formatting"
        )));
    }
    Ok(out)
}

/// A `*` width or precision: the next argument, which must be an int.
fn star_arg(vm: &mut Vm, pa: &mut PercentArgs) -> PyResult<i64> {
    let v = pa.next(vm)?;
    match v {
        Value::Int(n) => Ok(n),
        Value::Bool(b) => Ok(b as i64),
        _ => Err(vm.type_error("* wants int")),
    }
}

fn digits(chars: &[char], i: &mut usize) -> usize {
    let mut n: usize = 0;
    while let Some(d) = chars.get(*i).and_then(|c| c.to_digit(10)) {
        n = n.saturating_mul(10).saturating_add(d as usize);
        *i += 1;
    }
    n
}

/// Formats one directive starting after its `%`, appending to `out`.
fn directive(
    vm: &mut Vm,
    chars: &[char],
    i: &mut usize,
    pa: &mut PercentArgs,
    out: &mut String,
) -> PyResult<()> {
    let mut keyed = None;
    if chars.get(*i) == Some(&'(') {
        let Some(m) = pa.mapping.clone() else {
            return Err(vm.type_error("format requires a mapping"));
        };
        let start = *i + 1;
        let mut depth = 1;
        *i += 1;
        while *i < chars.len() && depth > 0 {
            match chars[*i] {
                '(' => depth += 1,
                ')' => depth -= 1,
                _ => {}
            }
            *i += 1;
        }
        if depth > 0 {
            return Err(vm.value_error("incomplete format key"));
        }
        let key: String = chars[start..*i - 1].iter().collect();
        let key = if pa.bytes_mode {
            Value::Bytes(Rc::new(key.chars().map(|c| c as u32 as u8).collect()))
        } else {
            Value::string(key)
        };
        keyed = Some(ops::getitem(vm, &m, &key)?);
    }
    let mut d = Directive::default();
    while let Some(&c) = chars.get(*i) {
        match c {
            '-' => d.left = true,
            '+' => d.sign = Some('+'),
            ' ' if d.sign.is_none() => d.sign = Some(' '),
            ' ' => {}
            '#' => d.alternate = true,
            '0' => d.zero = true,
            _ => break,
        }
        *i += 1;
    }
    if chars.get(*i) == Some(&'*') {
        *i += 1;
        let w = star_arg(vm, pa)?;
        if w < 0 {
            d.left = true;
        }
        d.width = w.unsigned_abs() as usize;
    } else {
        d.width = digits(chars, i);
    }
    if chars.get(*i) == Some(&'.') {
        *i += 1;
        d.precision = Some(if chars.get(*i) == Some(&'*') {
            *i += 1;
            star_arg(vm, pa)?.max(0) as usize
        } else {
            digits(chars, i)
        });
    }
    while matches!(chars.get(*i), Some('l' | 'h' | 'L')) {
        *i += 1;
    }
    let Some(&conv) = chars.get(*i) else {
        return Err(vm.value_error("incomplete format"));
    };
    *i += 1;
    let arg = match keyed {
        Some(v) => v,
        None => pa.next(vm)?,
    };
    let (sign, body) = match conv {
        's' | 'b' | 'r' | 'a' if pa.bytes_mode => {
            let body = match conv {
                's' | 'b' => bytes_arg(vm, &arg)?,
                _ => ops::ascii(&ops::repr(vm, &arg)?),
            };
            let body = match d.precision {
                Some(p) => body.chars().take(p).collect(),
                None => body,
            };
            (String::new(), body)
        }
        'c' if pa.bytes_mode => (String::new(), byte_char(vm, &arg)?),
        _ => convert(vm, conv, &arg, &d, *i - 1)?,
    };
    let len = sign.chars().count() + body.chars().count();
    let pad = d.width.saturating_sub(len);
    let numeric = !matches!(conv, 's' | 'r' | 'a' | 'c');
    if d.left {
        out.push_str(&sign);
        out.push_str(&body);
        out.extend(std::iter::repeat_n(' ', pad));
    } else if d.zero && numeric {
        out.push_str(&sign);
        out.extend(std::iter::repeat_n('0', pad));
        out.push_str(&body);
    } else {
        out.extend(std::iter::repeat_n(' ', pad));
        out.push_str(&sign);
        out.push_str(&body);
    }
    Ok(())
}

/// `%c` in bytes: an int in range(256) or a bytes of length 1.
fn byte_char(vm: &mut Vm, arg: &Value) -> PyResult<String> {
    match arg {
        Value::Int(n) if (0..256).contains(n) => Ok((*n as u8 as char).to_string()),
        Value::Int(_) => Err(vm.error("OverflowError", "%c arg not in range(256)")),
        Value::Bytes(b) if b.len() == 1 => Ok((b[0] as char).to_string()),
        _ => Err(vm.type_error("%c requires an integer in range(256) or a single byte")),
    }
}

/// The integer value for `%d`-style conversions (floats truncate; `__int__`/`__index__` work).
fn int_for(vm: &mut Vm, conv: char, arg: &Value) -> PyResult<Value> {
    let needs_index = matches!(conv, 'x' | 'X' | 'o');
    match arg {
        Value::Int(_) | Value::BigInt(_) => return Ok(arg.clone()),
        Value::Bool(b) => return Ok(Value::Int(*b as i64)),
        Value::Float(f) if !needs_index => {
            if f.is_nan() {
                return Err(vm.value_error("cannot convert float NaN to integer"));
            }
            if f.is_infinite() {
                return Err(vm.error("OverflowError", "cannot convert float infinity to integer"));
            }
            return Ok(Value::from_bigint(
                num_traits::FromPrimitive::from_f64(f.trunc()).unwrap_or_default(),
            ));
        }
        _ => {}
    }
    let cls = vm.type_of(arg);
    let method = if cls.lookup("__index__").is_some() {
        Some("__index__")
    } else if !needs_index && cls.lookup("__int__").is_some() {
        Some("__int__")
    } else {
        None
    };
    match method {
        Some(m) => vm.call_method(arg, m, vec![]),
        None if needs_index => Err(vm.type_error(format!(
            "%{conv} format: an integer is required, not {}",
            vm.type_name(arg)
        ))),
        None => Err(vm.type_error(format!(
            "%{conv} format: a real number is required, not {}",
            vm.type_name(arg)
        ))),
    }
}

/// The sign and the body of one converted value (padding is the caller's).
fn convert(
    vm: &mut Vm,
    conv: char,
    arg: &Value,
    d: &Directive,
    at: usize,
) -> PyResult<(String, String)> {
    let sign_of = |neg: bool| match (neg, d.sign) {
        (true, _) => "-",
        (false, Some('+')) => "+",
        (false, Some(_)) => " ",
        _ => "",
    };
    Ok(match conv {
        's' | 'r' | 'a' => {
            let s = match conv {
                's' => ops::to_str(vm, arg)?,
                'r' => ops::repr(vm, arg)?,
                _ => ops::ascii(&ops::repr(vm, arg)?),
            };
            let s = match d.precision {
                Some(p) => s.chars().take(p).collect(),
                None => s,
            };
            (String::new(), s)
        }
        'd' | 'i' | 'u' | 'x' | 'X' | 'o' => {
            let n = int_for(vm, conv, arg)?;
            let n = ops::to_bigint(&n).unwrap_or_default();
            let neg = n.sign() == num_bigint::Sign::Minus;
            let mag = if neg { -n } else { n };
            let mut digits = match conv {
                'x' => mag.to_str_radix(16),
                'X' => mag.to_str_radix(16).to_uppercase(),
                'o' => mag.to_str_radix(8),
                _ => ops::bigint_to_string(vm, &mag)?,
            };
            if let Some(p) = d.precision {
                if digits.len() < p {
                    digits = "0".repeat(p - digits.len()) + &digits;
                }
            }
            let prefix = match conv {
                'x' if d.alternate => "0x",
                'X' if d.alternate => "0X",
                'o' if d.alternate => "0o",
                _ => "",
            };
            (format!("{}{prefix}", sign_of(neg)), digits)
        }
        'f' | 'F' | 'e' | 'E' | 'g' | 'G' => {
            let x =
                match arg {
                    Value::Float(x) => *x,
                    Value::Int(_) | Value::BigInt(_) | Value::Bool(_) => ops::to_f64(arg)
                        .ok_or_else(|| {
                            vm.error("OverflowError", "int too large to convert to float")
                        })?,
                    _ if vm.type_of(arg).lookup("__float__").is_some() => {
                        let r = vm.call_method(arg, "__float__", vec![])?;
                        ops::to_f64(&r).unwrap_or(0.0)
                    }
                    _ => {
                        return Err(vm
                            .type_error(format!("must be real number, not {}", vm.type_name(arg))))
                    }
                };
            let neg = x.is_sign_negative() && !x.is_nan();
            let body =
                ops::format_float(x.abs(), conv, Some(d.precision.unwrap_or(6)), d.alternate);
            (sign_of(neg).to_string(), body)
        }
        'c' => {
            let c = match arg {
                Value::Int(_) | Value::BigInt(_) | Value::Bool(_) => {
                    let n = ops::to_bigint(arg).unwrap_or_default();
                    match num_traits::ToPrimitive::to_u32(&n).and_then(char::from_u32) {
                        Some(c) => c,
                        None => {
                            return Err(vm.error("OverflowError", "%c arg not in range(0x110000)"))
                        }
                    }
                }
                _ => match str_of(arg) {
                    Some(s) if s.char_len() == 1 => s.s.chars().next().unwrap_or(' '),
                    _ => return Err(vm.type_error("%c requires int or char")),
                },
            };
            (String::new(), c.to_string())
        }
        other => {
            return Err(vm.value_error(format!(
                "unsupported format character '{}' (0x{:x}) at index {at}",
                other, other as u32
            )));
        }
    })
}
