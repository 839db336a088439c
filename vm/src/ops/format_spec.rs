//! `format(value, spec)`: the standard format-spec mini-language
//! (`[[fill]align][sign][z][#][0][width][grouping][.precision][type]`) for str, int, bool and
//! float, byte-identical to CPython 3.11 including its error messages, and `__format__` dispatch
//! for instances. `str()`/`repr()` are in `repr.rs`.

use num_bigint::BigInt;

use super::repr::{bigint_to_string, float_repr, to_str};
use crate::value::Value;
use crate::vm::Vm;
use crate::PyResult;

/// A parsed format spec: `[[fill]align][sign][z][#][0][width][grouping][.precision][type]`,
/// with the `0` flag already resolved into fill and alignment as CPython does.
#[derive(Debug, Clone)]
pub struct FormatSpec {
    pub fill: char,
    /// `<`, `>`, `^` or `=`; the type's default when the spec gives none.
    pub align: char,
    pub sign: Option<char>,
    /// `z`: negative zero (after rounding) prints without its sign.
    pub no_neg_zero: bool,
    pub alternate: bool,
    pub width: usize,
    pub grouping: Option<char>,
    pub precision: Option<usize>,
    pub kind: Option<char>,
}

fn spec_number(chars: &[char], i: &mut usize) -> Result<Option<usize>, String> {
    let start = *i;
    let mut n: usize = 0;
    while let Some(d) = chars
        .get(*i)
        .and_then(|c| crate::builtins::decimal_value(*c))
    {
        n = n
            .checked_mul(10)
            .and_then(|n| n.checked_add(d as usize))
            .filter(|n| *n <= isize::MAX as usize)
            .ok_or("Too many decimal digits in format string")?;
        *i += 1;
    }
    Ok(if *i > start { Some(n) } else { None })
}

/// Parses a standard format spec for a value whose type defaults to `default_kind` and
/// `default_align`; errors are CPython's ValueError messages.
pub fn parse_spec(
    spec: &str,
    default_kind: Option<char>,
    default_align: char,
    type_name: &str,
) -> Result<FormatSpec, String> {
    let chars: Vec<char> = spec.chars().collect();
    let is_align = |c: char| matches!(c, '<' | '>' | '^' | '=');
    let mut f = FormatSpec {
        fill: ' ',
        align: default_align,
        sign: None,
        no_neg_zero: false,
        alternate: false,
        width: 0,
        grouping: None,
        precision: None,
        kind: default_kind,
    };
    let mut i = 0;
    let (mut fill_given, mut align_given) = (false, false);
    if chars.len() >= 2 && is_align(chars[1]) {
        (f.fill, f.align, fill_given, align_given) = (chars[0], chars[1], true, true);
        i = 2;
    } else if !chars.is_empty() && is_align(chars[0]) {
        (f.align, align_given) = (chars[0], true);
        i = 1;
    }
    if let Some(&c @ ('+' | '-' | ' ')) = chars.get(i) {
        f.sign = Some(c);
        i += 1;
    }
    if chars.get(i) == Some(&'z') {
        f.no_neg_zero = true;
        i += 1;
    }
    if chars.get(i) == Some(&'#') {
        f.alternate = true;
        i += 1;
    }
    if !fill_given && chars.get(i) == Some(&'0') {
        f.fill = '0';
        // Only types that align right by default (numbers) pad zeros after the sign.
        if !align_given && default_align == '>' {
            f.align = '=';
        }
        i += 1;
    }
    f.width = spec_number(&chars, &mut i)?.unwrap_or(0);
    if chars.get(i) == Some(&',') {
        f.grouping = Some(',');
        i += 1;
    }
    if chars.get(i) == Some(&'_') {
        if f.grouping.is_some() {
            return Err("Cannot specify both ',' and '_'.".into());
        }
        f.grouping = Some('_');
        i += 1;
    }
    if chars.get(i) == Some(&',') {
        return Err("Cannot specify both ',' and '_'.".into());
    }
    if chars.get(i) == Some(&'.') {
        i += 1;
        f.precision =
            Some(spec_number(&chars, &mut i)?.ok_or("Format specifier missing precision")?);
    }
    if chars.len() - i > 1 {
        return Err(format!(
            "Invalid format specifier '{spec}' for object of type '{type_name}'"
        ));
    }
    if let Some(&c) = chars.get(i) {
        f.kind = Some(c);
    }
    if let Some(g) = f.grouping {
        match f.kind {
            None | Some('d' | 'e' | 'f' | 'g' | 'E' | 'G' | '%' | 'F') => {}
            Some('b' | 'o' | 'x' | 'X') if g == '_' => {}
            Some(k) => return Err(format!("Cannot specify '{g}' with '{}'.", code_text(k))),
        }
    }
    Ok(f)
}

/// A presentation type as CPython prints it in errors (non-printable ones as `\x..`).
fn code_text(k: char) -> String {
    if (k as u32) > 32 && (k as u32) < 128 {
        k.to_string()
    } else {
        format!("\\x{:x}", k as u32)
    }
}

/// Inserts `sep` every `every` digits from the right, zero-padding on the left until the
/// result is at least `min_width` long (the `0` flag with grouping: `0,001,234`).
fn group_digits(digits: &str, sep: Option<char>, every: usize, min_width: usize) -> String {
    let Some(sep) = sep else {
        let pad = min_width.saturating_sub(digits.len());
        return format!("{}{digits}", "0".repeat(pad));
    };
    let bytes = digits.as_bytes();
    let mut groups: Vec<String> = Vec::new();
    let mut remaining = bytes.len();
    let mut width = min_width as i64;
    let mut total = 0i64;
    loop {
        let l = every.min(remaining.max(width.max(0) as usize).max(1));
        let take = remaining.min(l);
        let zeros = l - take;
        let mut g = "0".repeat(zeros);
        g.push_str(std::str::from_utf8(&bytes[remaining - take..remaining]).unwrap_or(""));
        total += l as i64 + if groups.is_empty() { 0 } else { 1 };
        groups.push(g);
        remaining -= take;
        width -= l as i64;
        if remaining == 0 && width <= 0 {
            break;
        }
        width -= 1;
    }
    let _ = total;
    groups.reverse();
    groups.join(&sep.to_string())
}

/// Lays out a number: `sign` and `prefix` (like `0x`), integer `digits` (grouped), then `rest`
/// (fraction, exponent, `%`), padded to the spec's width.
fn layout_number(
    f: &FormatSpec,
    sign: &str,
    prefix: &str,
    digits: &str,
    rest: &str,
    every: usize,
) -> String {
    let fixed = sign.len() + prefix.len() + rest.chars().count();
    let min_width = if f.fill == '0' && f.align == '=' {
        f.width.saturating_sub(fixed)
    } else {
        0
    };
    let grouped = if digits.is_empty() {
        String::new()
    } else {
        group_digits(digits, f.grouping, every, min_width)
    };
    let len = fixed + grouped.chars().count();
    let pad = f.width.saturating_sub(len);
    let fills = |n: usize| std::iter::repeat_n(f.fill, n).collect::<String>();
    let (l, mid, r) = match f.align {
        '<' => (0, 0, pad),
        '^' => (pad / 2, 0, pad - pad / 2),
        '=' => (0, pad, 0),
        _ => (pad, 0, 0),
    };
    format!(
        "{}{sign}{prefix}{}{grouped}{rest}{}",
        fills(l),
        fills(mid),
        fills(r)
    )
}

/// Pads text (no sign handling) to the spec's width.
fn pad(f: &FormatSpec, body: &str) -> String {
    let n = body.chars().count();
    let pad = f.width.saturating_sub(n);
    if pad == 0 {
        return body.to_string();
    }
    let fills = |n: usize| std::iter::repeat_n(f.fill, n).collect::<String>();
    match f.align {
        '>' => format!("{}{body}", fills(pad)),
        '^' => format!("{}{body}{}", fills(pad / 2), fills(pad - pad / 2)),
        _ => format!("{body}{}", fills(pad)),
    }
}

fn sign_text(negative: bool, sign: Option<char>) -> &'static str {
    match (negative, sign) {
        (true, _) => "-",
        (false, Some('+')) => "+",
        (false, Some(' ')) => " ",
        _ => "",
    }
}

/// Rust's `{:.*e}` rewritten with Python's exponent (`e+05`).
fn exp_form(f: f64, digits: usize, alternate: bool) -> String {
    let s = format!("{:.*e}", digits, f);
    let Some((m, e)) = s.split_once('e') else {
        return s;
    };
    let e: i32 = e.parse().unwrap_or(0);
    let point = if alternate && !m.contains('.') {
        "."
    } else {
        ""
    };
    format!("{m}{point}e{}{:02}", if e < 0 { '-' } else { '+' }, e.abs())
}

/// Formats a finite or special float in fixed/exponent/general notation with Python's rules
/// (`kind` is one of `f F e E g G %`; `precision` defaults to 6).
pub fn format_float(f: f64, kind: char, precision: Option<usize>, alternate: bool) -> String {
    let upper = kind.is_ascii_uppercase();
    if !f.is_finite() {
        let s = if f.is_nan() {
            "nan"
        } else if f > 0.0 {
            "inf"
        } else {
            "-inf"
        };
        let s = if kind == '%' {
            format!("{s}%")
        } else {
            s.to_string()
        };
        return if upper { s.to_uppercase() } else { s };
    }
    let p = precision.unwrap_or(6);
    let r = match kind {
        'f' | 'F' => {
            let s = format!("{:.*}", p, f);
            if alternate && p == 0 {
                s + "."
            } else {
                s
            }
        }
        'e' | 'E' => exp_form(f, p, alternate),
        '%' => {
            let s = format!("{:.*}", p, f * 100.0);
            format!("{s}{}%", if alternate && p == 0 { "." } else { "" })
        }
        _ => {
            let p = p.max(1);
            let exp: i32 = if f == 0.0 {
                0
            } else {
                let s = format!("{:.*e}", p - 1, f);
                s.split_once('e')
                    .and_then(|(_, e)| e.parse().ok())
                    .unwrap_or(0)
            };
            if exp < -4 || exp >= p as i32 {
                let s = exp_form(f, p - 1, alternate);
                if alternate {
                    s
                } else {
                    let (m, e) = s.split_once('e').unwrap_or((&s, ""));
                    format!("{}e{e}", strip_zeros(m))
                }
            } else {
                let digits = (p as i32 - 1 - exp).max(0) as usize;
                let m = format!("{:.*}", digits, f);
                if !alternate {
                    strip_zeros(&m)
                } else if m.contains('.') {
                    m
                } else {
                    m + "."
                }
            }
        }
    };
    if upper {
        r.to_uppercase()
    } else {
        r
    }
}

/// The float format with a precision but no type: like 'g', except that a fixed-point result
/// keeps a fractional digit (`1.0`), so it switches to exponent form one digit earlier.
fn general_dot0(f: f64, precision: usize, alternate: bool) -> String {
    if !f.is_finite() {
        return format_float(f, 'g', None, false);
    }
    let p = precision.max(1);
    let exp: i32 = if f == 0.0 {
        0
    } else {
        format!("{:.*e}", p - 1, f)
            .split_once('e')
            .and_then(|(_, e)| e.parse().ok())
            .unwrap_or(0)
    };
    if exp < -4 || exp >= p as i32 - 1 {
        let s = exp_form(f, p - 1, alternate);
        if alternate {
            return s;
        }
        let (m, e) = s.split_once('e').unwrap_or((&s, ""));
        return format!("{}e{e}", strip_zeros(m));
    }
    let r = format_float(f, 'g', Some(p), alternate);
    if r.contains('.') {
        r
    } else {
        format!("{r}.0")
    }
}

fn strip_zeros(s: &str) -> String {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s.to_string()
    }
}

fn unknown_code(vm: &Vm, kind: char, v: &Value) -> Value {
    vm.value_error(format!(
        "Unknown format code '{}' for object of type '{}'",
        code_text(kind),
        vm.type_name(v)
    ))
}

/// `format(v, spec)`: `__format__` of instances, the standard mini-language for str, int,
/// bool and float, and `object.__format__` (empty spec only) for everything else.
pub fn format(vm: &mut Vm, v: &Value, spec: &str) -> PyResult<String> {
    if let Value::Instance(_) = v {
        if let Some(f) = vm.type_of(v).lookup_custom("__format__") {
            let r = vm.call(&f, vec![v.clone(), Value::str(spec)])?;
            return match r {
                Value::Str(s) => Ok(s.s.to_string()),
                _ => Err(vm.type_error(format!(
                    "__format__ must return a str, not {}",
                    vm.type_name(&r)
                ))),
            };
        }
        if let Some(p) = crate::builtins::payload_value(v) {
            return format(vm, &p, spec);
        }
    }
    if spec.is_empty() {
        return to_str(vm, v);
    }
    match v {
        Value::Str(s) => format_str(vm, v, &s.s, spec),
        Value::Int(_) | Value::BigInt(_) | Value::Bool(_) => format_int(vm, v, spec),
        Value::Float(f) => format_float_spec(vm, v, *f, spec),
        _ => Err(vm.type_error(format!(
            "unsupported format string passed to {}.__format__",
            vm.type_name(v)
        ))),
    }
}

fn format_str(vm: &mut Vm, v: &Value, s: &str, spec: &str) -> PyResult<String> {
    let f = parse_spec(spec, Some('s'), '<', "str").map_err(|m| vm.value_error(m))?;
    if f.kind != Some('s') {
        return Err(unknown_code(vm, f.kind.unwrap_or('s'), v));
    }
    if let Some(sign) = f.sign {
        return Err(vm.value_error(if sign == ' ' {
            "Space not allowed in string format specifier"
        } else {
            "Sign not allowed in string format specifier"
        }));
    }
    if f.no_neg_zero {
        return Err(
            vm.value_error("Negative zero coercion (z) not allowed in string format specifier")
        );
    }
    if f.alternate {
        return Err(vm.value_error("Alternate form (#) not allowed in string format specifier"));
    }
    if f.align == '=' {
        return Err(vm.value_error("'=' alignment not allowed in string format specifier"));
    }
    let body: String = match f.precision {
        Some(p) => s.chars().take(p).collect(),
        None => s.to_string(),
    };
    Ok(pad(&f, &body))
}

fn format_int(vm: &mut Vm, v: &Value, spec: &str) -> PyResult<String> {
    let f = parse_spec(spec, Some('d'), '>', &vm.type_name(v)).map_err(|m| vm.value_error(m))?;
    let kind = f.kind.unwrap_or('d');
    if matches!(kind, 'e' | 'E' | 'f' | 'F' | 'g' | 'G' | '%') {
        let x = super::to_f64(v)
            .ok_or_else(|| vm.error("OverflowError", "int too large to convert to float"))?;
        return format_float_spec(vm, &Value::Float(x), x, spec);
    }
    if !matches!(kind, 'd' | 'n' | 'x' | 'X' | 'o' | 'b' | 'c') {
        return Err(unknown_code(vm, kind, v));
    }
    if f.precision.is_some() {
        return Err(vm.value_error("Precision not allowed in integer format specifier"));
    }
    if f.no_neg_zero {
        return Err(
            vm.value_error("Negative zero coercion (z) not allowed in integer format specifier")
        );
    }
    let n = super::to_bigint(v).unwrap_or_default();
    if kind == 'c' {
        if f.sign.is_some() {
            return Err(vm.value_error("Sign not allowed with integer format specifier 'c'"));
        }
        if f.alternate {
            return Err(
                vm.value_error("Alternate form (#) not allowed with integer format specifier 'c'")
            );
        }
        let c = num_traits::ToPrimitive::to_u32(&n).and_then(char::from_u32);
        let Some(c) = c else {
            return Err(vm.error("OverflowError", "%c arg not in range(0x110000)"));
        };
        return Ok(layout_number(&f, "", "", "", &c.to_string(), 3));
    }
    if kind == 'n' && f.grouping.is_some() {
        return Err(vm.value_error(format!(
            "Cannot specify '{}' with 'n'.",
            f.grouping.unwrap_or(',')
        )));
    }
    let neg = n < BigInt::from(0);
    let mag = if neg { -n } else { n };
    let (digits, prefix) = match kind {
        'x' => (mag.to_str_radix(16), "0x"),
        'X' => (mag.to_str_radix(16).to_uppercase(), "0X"),
        'o' => (mag.to_str_radix(8), "0o"),
        'b' => (mag.to_str_radix(2), "0b"),
        _ => (bigint_to_string(vm, &mag)?, ""),
    };
    let prefix = if f.alternate { prefix } else { "" };
    let every = if matches!(kind, 'd' | 'n') { 3 } else { 4 };
    Ok(layout_number(
        &f,
        sign_text(neg, f.sign),
        prefix,
        &digits,
        "",
        every,
    ))
}

fn format_float_spec(vm: &mut Vm, v: &Value, x: f64, spec: &str) -> PyResult<String> {
    let f = parse_spec(spec, None, '>', "float").map_err(|m| vm.value_error(m))?;
    if let Some(k) = f.kind {
        if !matches!(k, 'e' | 'E' | 'f' | 'F' | 'g' | 'G' | '%' | 'n') {
            return Err(unknown_code(vm, k, v));
        }
    }
    if f.kind == Some('n') && f.grouping.is_some() {
        return Err(vm.value_error(format!(
            "Cannot specify '{}' with 'n'.",
            f.grouping.unwrap_or(',')
        )));
    }
    let mut neg = x.is_sign_negative() && !x.is_nan();
    let mag = x.abs();
    let body = match (f.kind, f.precision) {
        (None, None) => {
            let r = float_repr(mag);
            match r.split_once('e') {
                // `#` keeps the point even in exponent form: `1.e+16`.
                Some((m, e)) if f.alternate && !m.contains('.') => format!("{m}.e{e}"),
                _ => r,
            }
        }
        (None, Some(p)) => general_dot0(mag, p, f.alternate),
        (Some('n'), p) => format_float(mag, 'g', p, f.alternate),
        (Some(k), p) => format_float(mag, k, p, f.alternate),
    };
    if neg
        && f.no_neg_zero
        && body.chars().all(|c| !c.is_ascii_digit() || c == '0')
        && mag.is_finite()
    {
        neg = false;
    }
    let split = body
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(body.len());
    let (digits, rest) = body.split_at(split);
    Ok(layout_number(
        &f,
        sign_text(neg, f.sign),
        "",
        digits,
        rest,
        3,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_float_general() {
        assert_eq!(format_float(1234.5678, 'f', Some(2), false), "1234.57");
        assert_eq!(format_float(0.000012345, 'g', Some(3), false), "1.23e-05");
        assert_eq!(format_float(12345.0, 'e', Some(2), false), "1.23e+04");
        assert_eq!(format_float(2.0, 'g', Some(1), true), "2.");
    }

    #[test]
    fn zero_padding_is_grouped() {
        assert_eq!(group_digits("1234", Some(','), 3, 8), "0,001,234");
        assert_eq!(group_digits("1234567", Some('_'), 3, 0), "1_234_567");
        assert_eq!(group_digits("ff", None, 4, 4), "00ff");
    }
}
