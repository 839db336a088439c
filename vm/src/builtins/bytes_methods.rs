//! Methods of the built-in `bytes` type, with CPython 3.11's results and error messages:
//! decoding, hex, searching, splitting, stripping, padding and the ASCII-only case methods.
//! Argument parsing is in `method_args.rs`.

use std::rc::Rc;

use super::method_args::{adjust_indices, int_arg, method_args, slice_index, Sig};
use super::str_methods::str_of;
use crate::objects::function::Args;
use crate::ops;
use crate::value::Value;
use crate::vm::Vm;
use crate::PyResult;

type Bytes = Rc<Vec<u8>>;

/// The bytes inside a value: bytes, or an instance of a bytes subclass.
pub fn bytes_of(v: &Value) -> Option<Bytes> {
    match v {
        Value::Bytes(b) => Some(b.clone()),
        Value::Instance(_) => match super::payload_value(v) {
            Some(Value::Bytes(b)) => Some(b),
            _ => None,
        },
        _ => None,
    }
}

fn recv(vm: &Vm, a: &Args, name: &str) -> PyResult<Bytes> {
    let Some(v) = a.pos.first() else {
        return Err(vm.type_error(format!("unbound method bytes.{name}() needs an argument")));
    };
    bytes_of(v).ok_or_else(|| {
        vm.type_error(format!(
            "descriptor '{name}' for 'bytes' objects doesn't apply to a '{}' object",
            vm.type_name(v)
        ))
    })
}

/// A bytes-like argument, with the common "a bytes-like object is required" error.
fn need_bytes(vm: &Vm, v: &Option<Value>) -> PyResult<Bytes> {
    let v = v.clone().unwrap_or(Value::None);
    bytes_of(&v).ok_or_else(|| {
        vm.type_error(format!(
            "a bytes-like object is required, not '{}'",
            vm.type_name(&v)
        ))
    })
}

/// The needle of find/count/index: bytes, or an int naming one byte.
fn needle(vm: &mut Vm, v: &Option<Value>) -> PyResult<Vec<u8>> {
    let v = v.clone().unwrap_or(Value::None);
    if let Some(b) = bytes_of(&v) {
        return Ok(b.to_vec());
    }
    match v {
        Value::Int(_) | Value::Bool(_) | Value::BigInt(_) => {
            let n = ops::to_bigint(&v).unwrap_or_default();
            match num_traits::ToPrimitive::to_u8(&n) {
                Some(b) => Ok(vec![b]),
                None => Err(vm.value_error("byte must be in range(0, 256)")),
            }
        }
        _ => Err(vm.type_error(format!(
            "argument should be integer or bytes-like object, not '{}'",
            vm.type_name(&v)
        ))),
    }
}

fn bytes(v: Vec<u8>) -> Value {
    Value::Bytes(Rc::new(v))
}

fn find_sub(h: &[u8], n: &[u8]) -> Option<usize> {
    if n.is_empty() {
        return Some(0);
    }
    h.windows(n.len()).position(|w| w == n)
}

fn rfind_sub(h: &[u8], n: &[u8]) -> Option<usize> {
    if n.is_empty() {
        return Some(h.len());
    }
    h.windows(n.len()).rposition(|w| w == n)
}

/// Non-overlapping occurrences of `n` in `h`, left to right.
fn positions(h: &[u8], n: &[u8]) -> Vec<usize> {
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(p) = find_sub(&h[i..], n) {
        out.push(i + p);
        i += p + n.len().max(1);
        if i > h.len() {
            break;
        }
    }
    out
}

fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
}

type Method = fn(&mut Vm, Args) -> PyResult<Value>;

pub fn install(vm: &mut Vm) {
    let cls = vm.types.bytes.clone();
    let methods: &[(&str, Method)] = &[
        ("decode", decode),
        ("hex", hex),
        ("upper", |vm, a| {
            map(vm, a, "upper", |b| b.to_ascii_uppercase())
        }),
        ("lower", |vm, a| {
            map(vm, a, "lower", |b| b.to_ascii_lowercase())
        }),
        ("swapcase", |vm, a| {
            map(vm, a, "swapcase", |b| {
                b.iter()
                    .map(|c| {
                        if c.is_ascii_lowercase() {
                            c.to_ascii_uppercase()
                        } else {
                            c.to_ascii_lowercase()
                        }
                    })
                    .collect()
            })
        }),
        ("capitalize", |vm, a| {
            map(vm, a, "capitalize", |b| {
                b.iter()
                    .enumerate()
                    .map(|(i, c)| {
                        if i == 0 {
                            c.to_ascii_uppercase()
                        } else {
                            c.to_ascii_lowercase()
                        }
                    })
                    .collect()
            })
        }),
        ("title", |vm, a| map(vm, a, "title", title)),
        ("isdigit", |vm, a| {
            pred(vm, a, "isdigit", |b| {
                !b.is_empty() && b.iter().all(u8::is_ascii_digit)
            })
        }),
        ("isalpha", |vm, a| {
            pred(vm, a, "isalpha", |b| {
                !b.is_empty() && b.iter().all(u8::is_ascii_alphabetic)
            })
        }),
        ("isalnum", |vm, a| {
            pred(vm, a, "isalnum", |b| {
                !b.is_empty() && b.iter().all(u8::is_ascii_alphanumeric)
            })
        }),
        ("isspace", |vm, a| {
            pred(vm, a, "isspace", |b| {
                !b.is_empty() && b.iter().all(|c| is_space(*c))
            })
        }),
        ("isascii", |vm, a| pred(vm, a, "isascii", |b| b.is_ascii())),
        ("isupper", |vm, a| {
            pred(vm, a, "isupper", |b| {
                b.iter().any(u8::is_ascii_uppercase) && !b.iter().any(u8::is_ascii_lowercase)
            })
        }),
        ("islower", |vm, a| {
            pred(vm, a, "islower", |b| {
                b.iter().any(u8::is_ascii_lowercase) && !b.iter().any(u8::is_ascii_uppercase)
            })
        }),
        ("istitle", |vm, a| {
            pred(vm, a, "istitle", |b| {
                super::str_case::is_title(&String::from_utf8_lossy(b))
            })
        }),
        ("strip", |vm, a| strip(vm, a, "strip", true, true)),
        ("lstrip", |vm, a| strip(vm, a, "lstrip", true, false)),
        ("rstrip", |vm, a| strip(vm, a, "rstrip", false, true)),
        ("find", |vm, a| find(vm, a, "find", false, false)),
        ("rfind", |vm, a| find(vm, a, "rfind", true, false)),
        ("index", |vm, a| find(vm, a, "index", false, true)),
        ("rindex", |vm, a| find(vm, a, "rindex", true, true)),
        ("count", count),
        ("startswith", |vm, a| starts_ends(vm, a, "startswith", true)),
        ("endswith", |vm, a| starts_ends(vm, a, "endswith", false)),
        ("split", |vm, a| split(vm, a, "split", false)),
        ("rsplit", |vm, a| split(vm, a, "rsplit", true)),
        ("splitlines", splitlines),
        ("join", join),
        ("replace", replace),
        ("partition", |vm, a| partition(vm, a, "partition", false)),
        ("rpartition", |vm, a| partition(vm, a, "rpartition", true)),
        ("center", |vm, a| justify(vm, a, "center")),
        ("ljust", |vm, a| justify(vm, a, "ljust")),
        ("rjust", |vm, a| justify(vm, a, "rjust")),
        ("zfill", zfill),
        ("removeprefix", |vm, a| {
            remove_affix(vm, a, "removeprefix", true)
        }),
        ("removesuffix", |vm, a| {
            remove_affix(vm, a, "removesuffix", false)
        }),
        ("expandtabs", expandtabs),
        ("translate", translate),
        ("__len__", |vm, a| {
            let b = recv(vm, &a, "__len__")?;
            Ok(Value::Int(b.len() as i64))
        }),
        ("__getitem__", |vm, a| {
            let b = recv(vm, &a, "__getitem__")?;
            let args = method_args(vm, "bytes", "__getitem__", a, Sig::One)?;
            ops::getitem(
                vm,
                &Value::Bytes(b),
                args[0].as_ref().unwrap_or(&Value::None),
            )
        }),
        ("__contains__", |vm, a| {
            let b = recv(vm, &a, "__contains__")?;
            let args = method_args(vm, "bytes", "__contains__", a, Sig::One)?;
            let n = needle(vm, &args[0])?;
            Ok(Value::Bool(find_sub(&b, &n).is_some()))
        }),
        ("__iter__", |vm, a| {
            let b = recv(vm, &a, "__iter__")?;
            ops::get_iter(vm, &Value::Bytes(b))
        }),
        ("__hash__", |vm, a| {
            let b = recv(vm, &a, "__hash__")?;
            Ok(Value::Int(ops::hash(vm, &Value::Bytes(b))?))
        }),
        ("__eq__", |vm, a| {
            let b = recv(vm, &a, "__eq__")?;
            let args = method_args(vm, "bytes", "__eq__", a, Sig::One)?;
            Ok(match args[0].as_ref().and_then(bytes_of) {
                Some(o) => Value::Bool(b == o),
                None => Value::NotImplemented,
            })
        }),
    ];
    for (name, f) in methods {
        vm.add_method(&cls, name, *f);
    }
    let fromhex = vm.native("fromhex", fromhex);
    cls.set_attr(vm.intern("fromhex"), Value::ClassMethod(Rc::new(fromhex)));
    let maketrans = vm.native("maketrans", maketrans);
    cls.set_attr(
        vm.intern("maketrans"),
        Value::StaticMethod(Rc::new(maketrans)),
    );
}

fn map(vm: &mut Vm, a: Args, name: &str, f: fn(&[u8]) -> Vec<u8>) -> PyResult<Value> {
    let b = recv(vm, &a, name)?;
    method_args(vm, "bytes", name, a, Sig::NoArgs)?;
    Ok(bytes(f(&b)))
}

fn pred(vm: &mut Vm, a: Args, name: &str, f: fn(&[u8]) -> bool) -> PyResult<Value> {
    let b = recv(vm, &a, name)?;
    method_args(vm, "bytes", name, a, Sig::NoArgs)?;
    Ok(Value::Bool(f(&b)))
}

fn title(b: &[u8]) -> Vec<u8> {
    let mut prev = false;
    b.iter()
        .map(|&c| {
            let r = if prev {
                c.to_ascii_lowercase()
            } else {
                c.to_ascii_uppercase()
            };
            prev = c.is_ascii_alphabetic();
            r
        })
        .collect()
}

/// Python's error text for undecodable input: which bytes, where, and why.
fn decode_error(
    vm: &Vm,
    codec: &str,
    data: &[u8],
    start: usize,
    end: usize,
    reason: &str,
) -> Value {
    let what = if end - start == 1 {
        format!("byte 0x{:02x} in position {start}", data[start])
    } else {
        format!("bytes in position {start}-{}", end - 1)
    };
    vm.error(
        "UnicodeDecodeError",
        format!("'{codec}' codec can't decode {what}: {reason}"),
    )
}

fn decode_utf8(vm: &Vm, data: &[u8], errors: &str) -> PyResult<String> {
    let mut out = String::with_capacity(data.len());
    let mut rest = data;
    let mut offset = 0;
    loop {
        match std::str::from_utf8(rest) {
            Ok(s) => {
                out.push_str(s);
                return Ok(out);
            }
            Err(e) => {
                let good = e.valid_up_to();
                out.push_str(std::str::from_utf8(&rest[..good]).unwrap_or(""));
                let bad = e.error_len().unwrap_or(rest.len() - good);
                let start = offset + good;
                match errors {
                    "ignore" => {}
                    "replace" => out.push('\u{fffd}'),
                    "backslashreplace" => rest[good..good + bad]
                        .iter()
                        .for_each(|b| out.push_str(&format!("\\x{b:02x}"))),
                    _ => {
                        let first = rest[good];
                        let reason = if e.error_len().is_none() {
                            "unexpected end of data"
                        } else if (0x80..0xc2).contains(&first) || first > 0xf4 {
                            "invalid start byte"
                        } else {
                            "invalid continuation byte"
                        };
                        return Err(decode_error(vm, "utf-8", data, start, start + bad, reason));
                    }
                }
                rest = &rest[good + bad..];
                offset = start + bad;
            }
        }
    }
}

fn decode(vm: &mut Vm, a: Args) -> PyResult<Value> {
    let b = recv(vm, &a, "decode")?;
    let args = method_args(vm, "bytes", "decode", a, Sig::Kw(&["encoding", "errors"]))?;
    let text_arg = |vm: &Vm, v: &Option<Value>, what: &str, default: &str| -> PyResult<String> {
        match v {
            None => Ok(default.to_string()),
            Some(v) => str_of(v).map(|s| s.s.to_string()).ok_or_else(|| {
                vm.type_error(format!(
                    "decode() argument '{what}' must be str, not {}",
                    vm.type_name(v)
                ))
            }),
        }
    };
    let enc = text_arg(vm, &args[0], "encoding", "utf-8")?;
    let errors = text_arg(vm, &args[1], "errors", "strict")?;
    let Some(codec) = super::str_methods::normalize_encoding(&enc) else {
        return Err(vm.error("LookupError", format!("unknown encoding: {enc}")));
    };
    let s = match codec {
        "utf-8" => decode_utf8(vm, &b, &errors)?,
        "latin-1" => b.iter().map(|&c| c as char).collect(),
        _ => {
            let mut out = String::with_capacity(b.len());
            for (i, &c) in b.iter().enumerate() {
                if c < 0x80 {
                    out.push(c as char);
                    continue;
                }
                match &*errors {
                    "ignore" => {}
                    "replace" => out.push('\u{fffd}'),
                    "backslashreplace" => out.push_str(&format!("\\x{c:02x}")),
                    _ => {
                        return Err(decode_error(
                            vm,
                            "ascii",
                            &b,
                            i,
                            i + 1,
                            "ordinal not in range(128)",
                        ))
                    }
                }
            }
            out
        }
    };
    Ok(Value::string(s))
}

fn hex(vm: &mut Vm, a: Args) -> PyResult<Value> {
    let b = recv(vm, &a, "hex")?;
    let args = method_args(vm, "bytes", "hex", a, Sig::Kw(&["sep", "bytes_per_sep"]))?;
    let digits: Vec<String> = b.iter().map(|c| format!("{c:02x}")).collect();
    let sep = match &args[0] {
        None => return Ok(Value::string(digits.concat())),
        Some(v) => match (str_of(v), bytes_of(v)) {
            (Some(s), _) => s.s.to_string(),
            (_, Some(bs)) => String::from_utf8_lossy(&bs).into_owned(),
            _ => {
                return Err(
                    vm.type_error(format!("object of type '{}' has no len()", vm.type_name(v)))
                )
            }
        },
    };
    if sep.chars().count() != 1 {
        return Err(vm.value_error("sep must be length 1."));
    }
    let per = match &args[1] {
        None => 1,
        Some(v) => int_arg(vm, v)?,
    };
    if per == 0 || digits.is_empty() {
        return Ok(Value::string(digits.concat()));
    }
    let n = per.unsigned_abs() as usize;
    // Positive counts group from the right, negative from the left.
    let first = if per > 0 {
        digits.len() % n
    } else {
        n.min(digits.len())
    };
    let mut out = String::new();
    let mut i = 0;
    let mut chunk = if first == 0 { n } else { first };
    while i < digits.len() {
        if i > 0 {
            out.push_str(&sep);
        }
        let end = (i + chunk).min(digits.len());
        out.push_str(&digits[i..end].concat());
        i = end;
        chunk = n;
    }
    Ok(Value::string(out))
}

fn fromhex(vm: &mut Vm, a: Args) -> PyResult<Value> {
    let args = method_args(vm, "bytes", "fromhex", a, Sig::One)?;
    let v = args[0].clone().unwrap_or(Value::None);
    let Some(s) = str_of(&v) else {
        return Err(vm.type_error(format!(
            "fromhex() argument must be str, not {}",
            vm.type_name(&v)
        )));
    };
    let chars: Vec<char> = s.s.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    let bad = |vm: &Vm, i: usize| {
        vm.value_error(format!(
            "non-hexadecimal number found in fromhex() arg at position {i}"
        ))
    };
    while i < chars.len() {
        if chars[i].is_ascii_whitespace() {
            i += 1;
            continue;
        }
        let hi = chars[i].to_digit(16).ok_or_else(|| bad(vm, i))?;
        let lo = chars
            .get(i + 1)
            .and_then(|c| c.to_digit(16))
            .ok_or_else(|| bad(vm, i + 1))?;
        out.push((hi * 16 + lo) as u8);
        i += 2;
    }
    Ok(bytes(out))
}

fn strip(vm: &mut Vm, a: Args, name: &str, left: bool, right: bool) -> PyResult<Value> {
    let b = recv(vm, &a, name)?;
    let args = method_args(vm, "bytes", name, a, Sig::Clinic(0, 1))?;
    let set: Option<Bytes> = match &args[0] {
        None | Some(Value::None) => None,
        v => Some(need_bytes(vm, v)?),
    };
    let strip_it = |c: u8| match &set {
        None => is_space(c),
        Some(s) => s.contains(&c),
    };
    let mut lo = 0;
    let mut hi = b.len();
    if left {
        while lo < hi && strip_it(b[lo]) {
            lo += 1;
        }
    }
    if right {
        while hi > lo && strip_it(b[hi - 1]) {
            hi -= 1;
        }
    }
    Ok(bytes(b[lo..hi].to_vec()))
}

/// The window `b[start:end]` (CPython's adjusted indices), or None if shorter than `need`.
fn window(
    vm: &mut Vm,
    len: usize,
    start: &Option<Value>,
    end: &Option<Value>,
    need: usize,
) -> PyResult<Option<(usize, usize)>> {
    let st = slice_index(vm, start, 0)?;
    let en = slice_index(vm, end, i64::MAX)?;
    let (st, en) = adjust_indices(st, en, len);
    if en - st < need as i64 {
        return Ok(None);
    }
    Ok(Some((st as usize, en as usize)))
}

fn find(vm: &mut Vm, a: Args, name: &str, rev: bool, raise: bool) -> PyResult<Value> {
    let b = recv(vm, &a, name)?;
    let args = method_args(vm, "bytes", name, a, Sig::Old(1, 3))?;
    let n = needle(vm, &args[0])?;
    let hit = match window(vm, b.len(), &args[1], &args[2], n.len())? {
        None => None,
        Some((st, en)) => {
            let h = &b[st..en];
            if rev {
                rfind_sub(h, &n)
            } else {
                find_sub(h, &n)
            }
            .map(|i| i + st)
        }
    };
    match hit {
        Some(i) => Ok(Value::Int(i as i64)),
        None if raise => Err(vm.value_error("subsection not found")),
        None => Ok(Value::Int(-1)),
    }
}

fn count(vm: &mut Vm, a: Args) -> PyResult<Value> {
    let b = recv(vm, &a, "count")?;
    let args = method_args(vm, "bytes", "count", a, Sig::Old(1, 3))?;
    let n = needle(vm, &args[0])?;
    let c = match window(vm, b.len(), &args[1], &args[2], n.len())? {
        None => 0,
        Some((st, en)) if n.is_empty() => en - st + 1,
        Some((st, en)) => positions(&b[st..en], &n).len(),
    };
    Ok(Value::Int(c as i64))
}

fn starts_ends(vm: &mut Vm, a: Args, name: &str, start: bool) -> PyResult<Value> {
    let b = recv(vm, &a, name)?;
    let args = method_args(vm, "bytes", name, a, Sig::Old(1, 3))?;
    let arg = args[0].clone().unwrap_or(Value::None);
    let subs: Vec<Bytes> = match &arg {
        Value::Tuple(t) => {
            let mut v = Vec::new();
            for x in t.iter() {
                match bytes_of(x) {
                    Some(x) => v.push(x),
                    None => {
                        return Err(vm.type_error(format!(
                            "a bytes-like object is required, not '{}'",
                            vm.type_name(x)
                        )))
                    }
                }
            }
            v
        }
        _ => match bytes_of(&arg) {
            Some(x) => vec![x],
            None => {
                return Err(vm.type_error(format!(
                    "{name} first arg must be bytes or a tuple of bytes, not {}",
                    vm.type_name(&arg)
                )))
            }
        },
    };
    for sub in subs {
        if let Some((st, en)) = window(vm, b.len(), &args[1], &args[2], sub.len())? {
            let h = &b[st..en];
            if (start && h.starts_with(&sub)) || (!start && h.ends_with(&sub)) {
                return Ok(Value::Bool(true));
            }
        }
    }
    Ok(Value::Bool(false))
}

fn split(vm: &mut Vm, a: Args, name: &str, rev: bool) -> PyResult<Value> {
    let b = recv(vm, &a, name)?;
    let args = method_args(vm, "bytes", name, a, Sig::Kw(&["sep", "maxsplit"]))?;
    let max = match &args[1] {
        None => -1,
        Some(v) => int_arg(vm, v)?,
    };
    let max = if max < 0 { usize::MAX } else { max as usize };
    let parts: Vec<&[u8]> = match &args[0] {
        None | Some(Value::None) => {
            // Runs of ASCII whitespace; the unsplit remainder keeps its trailing whitespace.
            let mut out = Vec::new();
            let (mut lo, mut hi) = (0, b.len());
            if !rev {
                while lo < hi {
                    while lo < hi && is_space(b[lo]) {
                        lo += 1;
                    }
                    if lo == hi {
                        break;
                    }
                    if out.len() == max {
                        out.push(&b[lo..hi]);
                        break;
                    }
                    let s = lo;
                    while lo < hi && !is_space(b[lo]) {
                        lo += 1;
                    }
                    out.push(&b[s..lo]);
                }
            } else {
                while lo < hi {
                    while hi > lo && is_space(b[hi - 1]) {
                        hi -= 1;
                    }
                    if lo == hi {
                        break;
                    }
                    if out.len() == max {
                        out.push(&b[lo..hi]);
                        break;
                    }
                    let e = hi;
                    while hi > lo && !is_space(b[hi - 1]) {
                        hi -= 1;
                    }
                    out.push(&b[hi..e]);
                }
                out.reverse();
            }
            out
        }
        sep => {
            let sep = need_bytes(vm, sep)?;
            if sep.is_empty() {
                return Err(vm.value_error("empty separator"));
            }
            let mut pos = positions(&b, &sep);
            let mut out = Vec::new();
            if rev {
                if pos.len() > max {
                    // rsplit takes the rightmost matches, recomputed right to left.
                    pos = rpositions(&b, &sep, max);
                }
            } else {
                pos.truncate(max);
            }
            let mut last = 0;
            for p in pos {
                out.push(&b[last..p]);
                last = p + sep.len();
            }
            out.push(&b[last..]);
            out
        }
    };
    Ok(Value::list(
        parts.into_iter().map(|p| bytes(p.to_vec())).collect(),
    ))
}

/// The `max` rightmost non-overlapping matches, scanning from the right, in ascending order.
fn rpositions(h: &[u8], n: &[u8], max: usize) -> Vec<usize> {
    let mut out = Vec::new();
    let mut end = h.len();
    while out.len() < max {
        match rfind_sub(&h[..end], n) {
            Some(p) => {
                out.push(p);
                end = p;
            }
            None => break,
        }
    }
    out.reverse();
    out
}

fn splitlines(vm: &mut Vm, a: Args) -> PyResult<Value> {
    let b = recv(vm, &a, "splitlines")?;
    let args = method_args(vm, "bytes", "splitlines", a, Sig::Kw(&["keepends"]))?;
    let keep = match &args[0] {
        None => false,
        Some(v) => int_arg(vm, v)? != 0,
    };
    let mut out = Vec::new();
    let (mut start, mut i) = (0, 0);
    while i < b.len() {
        if b[i] == b'\n' || b[i] == b'\r' {
            let mut end = i + 1;
            if b[i] == b'\r' && b.get(i + 1) == Some(&b'\n') {
                end += 1;
            }
            out.push(bytes(b[start..if keep { end } else { i }].to_vec()));
            start = end;
            i = end;
        } else {
            i += 1;
        }
    }
    if start < b.len() {
        out.push(bytes(b[start..].to_vec()));
    }
    Ok(Value::list(out))
}

fn join(vm: &mut Vm, a: Args) -> PyResult<Value> {
    let b = recv(vm, &a, "join")?;
    let args = method_args(vm, "bytes", "join", a, Sig::One)?;
    let it = args[0].clone().unwrap_or(Value::None);
    let items = match ops::get_iter(vm, &it) {
        Ok(_) => ops::collect(vm, &it)?,
        Err(e) if vm.exc_matches(&e, "TypeError") => {
            return Err(vm.type_error("can only join an iterable"))
        }
        Err(e) => return Err(e),
    };
    let mut out = Vec::new();
    for (i, x) in items.iter().enumerate() {
        let Some(p) = bytes_of(x) else {
            return Err(vm.type_error(format!(
                "sequence item {i}: expected a bytes-like object, {} found",
                vm.type_name(x)
            )));
        };
        if i > 0 {
            out.extend_from_slice(&b);
        }
        out.extend_from_slice(&p);
    }
    Ok(bytes(out))
}

fn replace(vm: &mut Vm, a: Args) -> PyResult<Value> {
    let b = recv(vm, &a, "replace")?;
    let args = method_args(vm, "bytes", "replace", a, Sig::Clinic(2, 3))?;
    let old = need_bytes(vm, &args[0])?;
    let new = need_bytes(vm, &args[1])?;
    let max = match &args[2] {
        None => -1,
        Some(v) => int_arg(vm, v)?,
    };
    let max = if max < 0 { usize::MAX } else { max as usize };
    let mut out = Vec::with_capacity(b.len());
    if old.is_empty() {
        // An empty pattern matches before every byte and at the end.
        let mut n = 0;
        for &c in b.iter() {
            if n < max {
                out.extend_from_slice(&new);
                n += 1;
            }
            out.push(c);
        }
        if n < max {
            out.extend_from_slice(&new);
        }
        return Ok(bytes(out));
    }
    let mut last = 0;
    for p in positions(&b, &old).into_iter().take(max) {
        out.extend_from_slice(&b[last..p]);
        out.extend_from_slice(&new);
        last = p + old.len();
    }
    out.extend_from_slice(&b[last..]);
    Ok(bytes(out))
}

fn partition(vm: &mut Vm, a: Args, name: &str, rev: bool) -> PyResult<Value> {
    let b = recv(vm, &a, name)?;
    let args = method_args(vm, "bytes", name, a, Sig::One)?;
    let sep = need_bytes(vm, &args[0])?;
    if sep.is_empty() {
        return Err(vm.value_error("empty separator"));
    }
    let hit = if rev {
        rfind_sub(&b, &sep)
    } else {
        find_sub(&b, &sep)
    };
    let empty = || bytes(Vec::new());
    let parts = match hit {
        Some(i) => vec![
            bytes(b[..i].to_vec()),
            Value::Bytes(sep.clone()),
            bytes(b[i + sep.len()..].to_vec()),
        ],
        None if rev => vec![empty(), empty(), Value::Bytes(b.clone())],
        None => vec![Value::Bytes(b.clone()), empty(), empty()],
    };
    Ok(Value::tuple(parts))
}

fn justify(vm: &mut Vm, a: Args, name: &str) -> PyResult<Value> {
    let b = recv(vm, &a, name)?;
    let args = method_args(vm, "bytes", name, a, Sig::Clinic(1, 2))?;
    let width = int_arg(vm, args[0].as_ref().unwrap_or(&Value::None))?;
    let fill = match &args[1] {
        None => b' ',
        Some(v) => match bytes_of(v) {
            Some(f) if f.len() == 1 => f[0],
            _ => {
                return Err(vm.type_error(format!(
                    "{name}() argument 2 must be a byte string of length 1, not {}",
                    vm.type_name(v)
                )))
            }
        },
    };
    let len = b.len() as i64;
    if width <= len {
        return Ok(Value::Bytes(b));
    }
    let marg = (width - len) as usize;
    let left = match name {
        "ljust" => 0,
        "rjust" => marg,
        _ => marg / 2 + (marg & width as usize & 1),
    };
    let mut out = vec![fill; left];
    out.extend_from_slice(&b);
    out.extend(std::iter::repeat_n(fill, marg - left));
    Ok(bytes(out))
}

fn zfill(vm: &mut Vm, a: Args) -> PyResult<Value> {
    let b = recv(vm, &a, "zfill")?;
    let args = method_args(vm, "bytes", "zfill", a, Sig::One)?;
    let width = int_arg(vm, args[0].as_ref().unwrap_or(&Value::None))?;
    if width <= b.len() as i64 {
        return Ok(Value::Bytes(b));
    }
    let zeros = vec![b'0'; width as usize - b.len()];
    let mut out = Vec::with_capacity(width as usize);
    let signed = matches!(b.first(), Some(b'+' | b'-'));
    if signed {
        out.push(b[0]);
    }
    out.extend_from_slice(&zeros);
    out.extend_from_slice(&b[signed as usize..]);
    Ok(bytes(out))
}

fn remove_affix(vm: &mut Vm, a: Args, name: &str, prefix: bool) -> PyResult<Value> {
    let b = recv(vm, &a, name)?;
    let args = method_args(vm, "bytes", name, a, Sig::One)?;
    let x = need_bytes(vm, &args[0])?;
    let r = if prefix {
        b.strip_prefix(&x[..])
    } else {
        b.strip_suffix(&x[..])
    };
    Ok(match r {
        Some(r) if !x.is_empty() => bytes(r.to_vec()),
        _ => Value::Bytes(b),
    })
}

fn expandtabs(vm: &mut Vm, a: Args) -> PyResult<Value> {
    let b = recv(vm, &a, "expandtabs")?;
    let args = method_args(vm, "bytes", "expandtabs", a, Sig::Kw(&["tabsize"]))?;
    let size = match &args[0] {
        None => 8,
        Some(v) => int_arg(vm, v)?,
    };
    let mut out = Vec::with_capacity(b.len());
    let mut col: i64 = 0;
    for &c in b.iter() {
        match c {
            b'\t' if size > 0 => {
                let n = size - col % size;
                out.extend(std::iter::repeat_n(b' ', n as usize));
                col += n;
            }
            b'\t' => {}
            b'\n' | b'\r' => {
                out.push(c);
                col = 0;
            }
            _ => {
                out.push(c);
                col += 1;
            }
        }
    }
    Ok(bytes(out))
}

fn translate(vm: &mut Vm, mut a: Args) -> PyResult<Value> {
    let b = recv(vm, &a, "translate")?;
    let delete_kw = a.take_kw("delete");
    let args = method_args(vm, "bytes", "translate", a, Sig::Old(1, 2))?;
    let table = match &args[0] {
        None | Some(Value::None) => None,
        t => {
            let t = need_bytes(vm, t)?;
            if t.len() != 256 {
                return Err(vm.value_error("translation table must be 256 characters long"));
            }
            Some(t)
        }
    };
    let delete = match delete_kw.or_else(|| args[1].clone()) {
        None => Rc::new(Vec::new()),
        d => need_bytes(vm, &d)?,
    };
    let out: Vec<u8> = b
        .iter()
        .filter(|c| !delete.contains(c))
        .map(|&c| table.as_ref().map_or(c, |t| t[c as usize]))
        .collect();
    Ok(bytes(out))
}

fn maketrans(vm: &mut Vm, a: Args) -> PyResult<Value> {
    let n = a.pos.len();
    if n != 2 {
        return Err(vm.type_error(format!("maketrans expected 2 arguments, got {n}")));
    }
    let from = need_bytes(vm, &Some(a.pos[0].clone()))?;
    let to = need_bytes(vm, &Some(a.pos[1].clone()))?;
    if from.len() != to.len() {
        return Err(vm.value_error("maketrans arguments must have same length"));
    }
    let mut table: Vec<u8> = (0..=255).collect();
    for (f, t) in from.iter().zip(to.iter()) {
        table[*f as usize] = *t;
    }
    Ok(bytes(table))
}
