//! Methods of the built-in `str` type, with CPython 3.11's results and error messages.
//! Indices are code points; ASCII strings take byte-indexed fast paths. Character classes and
//! case mappings are in `str_case.rs`; `str.format` and `%` formatting in `format.rs`;
//! argument parsing in `method_args.rs`.

use std::rc::Rc;

use super::method_args::{adjust_indices, int_arg, method_args, slice_index, Sig};
use super::str_case as case;
use crate::objects::function::Args;
use crate::ops;
use crate::value::{PyStr, Value};
use crate::vm::Vm;
use crate::PyResult;

/// The str inside a value: a str, or an instance of a str subclass.
pub fn str_of(v: &Value) -> Option<Rc<PyStr>> {
    match v {
        Value::Str(s) => Some(s.clone()),
        Value::Instance(_) => match super::payload_value(v) {
            Some(Value::Str(s)) => Some(s),
            _ => None,
        },
        _ => None,
    }
}

/// The receiver of a str method, with CPython's errors for unbound calls on other types.
fn recv(vm: &Vm, a: &Args, name: &str) -> PyResult<Rc<PyStr>> {
    let Some(v) = a.pos.first() else {
        return Err(vm.type_error(format!("unbound method str.{name}() needs an argument")));
    };
    str_of(v).ok_or_else(|| {
        vm.type_error(format!(
            "descriptor '{name}' for 'str' objects doesn't apply to a '{}' object",
            vm.type_name(v)
        ))
    })
}

/// Byte offset of code point `n` (n <= number of code points).
fn byte_at(s: &str, n: usize) -> usize {
    if s.is_ascii() {
        return n.min(s.len());
    }
    s.char_indices().nth(n).map(|(i, _)| i).unwrap_or(s.len())
}

fn chars_in(s: &str) -> usize {
    if s.is_ascii() {
        s.len()
    } else {
        s.chars().count()
    }
}

fn need_str(vm: &Vm, v: &Option<Value>, msg: impl FnOnce(&str) -> String) -> PyResult<Rc<PyStr>> {
    let v = v.as_ref().cloned().unwrap_or(Value::None);
    str_of(&v).ok_or_else(|| vm.type_error(msg(&vm.type_name(&v))))
}

fn strs(parts: Vec<&str>) -> Value {
    Value::list(parts.into_iter().map(Value::str).collect())
}

type Method = fn(&mut Vm, Args) -> PyResult<Value>;

pub fn install(vm: &mut Vm) {
    let cls = vm.types.str_.clone();
    let methods: &[(&str, Method)] = &[
        ("upper", |vm, a| {
            simple(vm, a, "upper", |s| s.to_uppercase())
        }),
        ("lower", |vm, a| {
            simple(vm, a, "lower", |s| s.to_lowercase())
        }),
        ("capitalize", |vm, a| {
            simple(vm, a, "capitalize", case::capitalize)
        }),
        ("title", |vm, a| simple(vm, a, "title", case::title)),
        ("swapcase", |vm, a| {
            simple(vm, a, "swapcase", case::swapcase)
        }),
        ("casefold", |vm, a| {
            simple(vm, a, "casefold", case::casefold)
        }),
        ("isdigit", |vm, a| {
            pred(vm, a, "isdigit", |s| {
                !s.is_empty() && s.chars().all(case::is_digit)
            })
        }),
        ("isdecimal", |vm, a| {
            pred(vm, a, "isdecimal", |s| {
                !s.is_empty() && s.chars().all(case::is_decimal)
            })
        }),
        ("isnumeric", |vm, a| {
            pred(vm, a, "isnumeric", |s| {
                !s.is_empty() && s.chars().all(case::is_numeric)
            })
        }),
        ("isalpha", |vm, a| {
            pred(vm, a, "isalpha", |s| {
                !s.is_empty() && s.chars().all(case::is_alpha)
            })
        }),
        ("isalnum", |vm, a| {
            pred(vm, a, "isalnum", |s| {
                !s.is_empty() && s.chars().all(case::is_alnum)
            })
        }),
        ("isspace", |vm, a| {
            pred(vm, a, "isspace", |s| {
                !s.is_empty() && s.chars().all(case::is_space)
            })
        }),
        ("isprintable", |vm, a| {
            pred(vm, a, "isprintable", |s| s.chars().all(case::is_printable))
        }),
        ("isascii", |vm, a| pred(vm, a, "isascii", |s| s.is_ascii())),
        ("isupper", |vm, a| pred(vm, a, "isupper", case::is_upper)),
        ("islower", |vm, a| pred(vm, a, "islower", case::is_lower)),
        ("istitle", |vm, a| pred(vm, a, "istitle", case::is_title)),
        ("isidentifier", |vm, a| {
            pred(vm, a, "isidentifier", case::is_identifier)
        }),
        ("strip", |vm, a| strip(vm, a, "strip", true, true)),
        ("lstrip", |vm, a| strip(vm, a, "lstrip", true, false)),
        ("rstrip", |vm, a| strip(vm, a, "rstrip", false, true)),
        ("center", |vm, a| justify(vm, a, "center")),
        ("ljust", |vm, a| justify(vm, a, "ljust")),
        ("rjust", |vm, a| justify(vm, a, "rjust")),
        ("zfill", zfill),
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
        ("expandtabs", expandtabs),
        ("removeprefix", |vm, a| {
            remove_affix(vm, a, "removeprefix", true)
        }),
        ("removesuffix", |vm, a| {
            remove_affix(vm, a, "removesuffix", false)
        }),
        ("encode", encode),
        ("translate", translate),
        ("format", format),
        ("format_map", format_map),
        ("__len__", |vm, a| {
            let s = recv(vm, &a, "__len__")?;
            method_args(vm, "str", "__len__", a, Sig::NoArgs)?;
            Ok(Value::Int(s.char_len() as i64))
        }),
        ("__contains__", |vm, a| {
            binary(vm, a, "__contains__", |vm, s, x| {
                Ok(Value::Bool(ops::contains(vm, &s, &x)?))
            })
        }),
        ("__getitem__", |vm, a| {
            binary(vm, a, "__getitem__", |vm, s, x| ops::getitem(vm, &s, &x))
        }),
        ("__add__", |vm, a| {
            binary(vm, a, "__add__", |vm, s, x| ops::binary_op(vm, &s, &x, 0))
        }),
        ("__mul__", |vm, a| binary(vm, a, "__mul__", repeat)),
        ("__rmul__", |vm, a| binary(vm, a, "__rmul__", repeat)),
        ("__mod__", |vm, a| {
            binary(vm, a, "__mod__", |vm, s, x| {
                super::percent_format(vm, &s, &x)
            })
        }),
        ("__rmod__", |vm, a| {
            binary(vm, a, "__rmod__", |_vm, _s, _x| Ok(Value::NotImplemented))
        }),
        ("__eq__", |vm, a| compare(vm, a, "__eq__", 0)),
        ("__ne__", |vm, a| compare(vm, a, "__ne__", 1)),
        ("__lt__", |vm, a| compare(vm, a, "__lt__", 2)),
        ("__le__", |vm, a| compare(vm, a, "__le__", 3)),
        ("__gt__", |vm, a| compare(vm, a, "__gt__", 4)),
        ("__ge__", |vm, a| compare(vm, a, "__ge__", 5)),
        ("__hash__", |vm, a| {
            let s = recv(vm, &a, "__hash__")?;
            Ok(Value::Int(ops::hash(vm, &Value::Str(s))?))
        }),
        ("__iter__", |vm, a| {
            let s = recv(vm, &a, "__iter__")?;
            ops::get_iter(vm, &Value::Str(s))
        }),
        ("__str__", |vm, a| Ok(Value::Str(recv(vm, &a, "__str__")?))),
        ("__repr__", |vm, a| {
            Ok(Value::string(ops::str_repr(&recv(vm, &a, "__repr__")?.s)))
        }),
        ("__format__", |vm, a| {
            let s = recv(vm, &a, "__format__")?;
            let this = a.pos[0].clone();
            let args = method_args(vm, "str", "__format__", a, Sig::One)?;
            let spec = need_str(vm, &args[0], |t| {
                format!("__format__() argument must be str, not {t}")
            })?;
            if spec.s.is_empty() {
                // An empty spec means str(self), which a subclass may override.
                return Ok(Value::string(ops::to_str(vm, &this)?));
            }
            Ok(Value::string(ops::format(vm, &Value::Str(s), &spec.s)?))
        }),
    ];
    for (name, f) in methods {
        vm.add_method(&cls, name, *f);
    }
    let new = vm.native("__new__", str_new);
    cls.set_attr(vm.intern("__new__"), Value::StaticMethod(Rc::new(new)));
    let maketrans = vm.native("maketrans", maketrans);
    cls.set_attr(
        vm.intern("maketrans"),
        Value::StaticMethod(Rc::new(maketrans)),
    );
}

fn simple(vm: &mut Vm, a: Args, name: &str, f: fn(&str) -> String) -> PyResult<Value> {
    let s = recv(vm, &a, name)?;
    method_args(vm, "str", name, a, Sig::NoArgs)?;
    Ok(Value::string(f(&s.s)))
}

fn pred(vm: &mut Vm, a: Args, name: &str, f: fn(&str) -> bool) -> PyResult<Value> {
    let s = recv(vm, &a, name)?;
    method_args(vm, "str", name, a, Sig::NoArgs)?;
    Ok(Value::Bool(f(&s.s)))
}

/// A dunder taking one operand; the receiver is unwrapped to a plain str first.
fn binary(
    vm: &mut Vm,
    a: Args,
    name: &str,
    f: fn(&mut Vm, Value, Value) -> PyResult<Value>,
) -> PyResult<Value> {
    let s = recv(vm, &a, name)?;
    let args = method_args(vm, "str", name, a, Sig::One)?;
    let x = args.into_iter().next().flatten().unwrap_or(Value::None);
    f(vm, Value::Str(s), x)
}

fn repeat(vm: &mut Vm, s: Value, n: Value) -> PyResult<Value> {
    match n {
        Value::Int(_) | Value::Bool(_) | Value::BigInt(_) => ops::binary_op(vm, &s, &n, 2),
        Value::Instance(_) if vm.type_of(&n).lookup("__index__").is_some() => {
            let n = ops::index_value(vm, &n, "int")?;
            ops::binary_op(vm, &s, &Value::Int(n), 2)
        }
        _ => {
            let n = int_arg(vm, &n)?;
            ops::binary_op(vm, &s, &Value::Int(n), 2)
        }
    }
}

fn compare(vm: &mut Vm, a: Args, name: &str, op: u8) -> PyResult<Value> {
    let s = recv(vm, &a, name)?;
    let args = method_args(vm, "str", name, a, Sig::One)?;
    let Some(other) = args[0].as_ref().and_then(str_of) else {
        return Ok(Value::NotImplemented);
    };
    let ord = s.s.cmp(&other.s);
    Ok(Value::Bool(match op {
        0 => ord.is_eq(),
        1 => ord.is_ne(),
        2 => ord.is_lt(),
        3 => ord.is_le(),
        4 => ord.is_gt(),
        _ => ord.is_ge(),
    }))
}

fn strip(vm: &mut Vm, a: Args, name: &str, left: bool, right: bool) -> PyResult<Value> {
    let s = recv(vm, &a, name)?;
    let args = method_args(vm, "str", name, a, Sig::Clinic(0, 1))?;
    let chars: Option<Vec<char>> = match &args[0] {
        None | Some(Value::None) => None,
        Some(v) => match str_of(v) {
            Some(c) => Some(c.s.chars().collect()),
            None => return Err(vm.type_error(format!("{name} arg must be None or str"))),
        },
    };
    let strip_it = |c: char| match &chars {
        None => case::is_space(c),
        Some(set) => set.contains(&c),
    };
    let mut t: &str = &s.s;
    if left {
        t = t.trim_start_matches(strip_it);
    }
    if right {
        t = t.trim_end_matches(strip_it);
    }
    if t.len() == s.s.len() {
        return Ok(Value::Str(s));
    }
    Ok(Value::str(t))
}

/// The fill character of center/ljust/rjust.
fn fill_char(vm: &Vm, v: &Option<Value>) -> PyResult<char> {
    let Some(v) = v else { return Ok(' ') };
    let Some(f) = str_of(v) else {
        return Err(vm.type_error(format!(
            "The fill character must be a unicode character, not {}",
            vm.type_name(v)
        )));
    };
    let mut it = f.s.chars();
    match (it.next(), it.next()) {
        (Some(c), None) => Ok(c),
        _ => Err(vm.type_error("The fill character must be exactly one character long")),
    }
}

fn justify(vm: &mut Vm, a: Args, name: &str) -> PyResult<Value> {
    let s = recv(vm, &a, name)?;
    let args = method_args(vm, "str", name, a, Sig::Clinic(1, 2))?;
    let width = int_arg(vm, args[0].as_ref().unwrap_or(&Value::None))?;
    let fill = fill_char(vm, &args[1])?;
    let len = s.char_len() as i64;
    if width <= len {
        return Ok(Value::Str(s));
    }
    let marg = (width - len) as usize;
    let left = match name {
        "ljust" => 0,
        "rjust" => marg,
        // CPython's rounding: odd margins put the extra fill on the right only for even widths.
        _ => marg / 2 + (marg & width as usize & 1),
    };
    let mut out = String::with_capacity(s.s.len() + marg);
    out.extend(std::iter::repeat_n(fill, left));
    out.push_str(&s.s);
    out.extend(std::iter::repeat_n(fill, marg - left));
    Ok(Value::string(out))
}

fn zfill(vm: &mut Vm, a: Args) -> PyResult<Value> {
    let s = recv(vm, &a, "zfill")?;
    let args = method_args(vm, "str", "zfill", a, Sig::One)?;
    let width = int_arg(vm, args[0].as_ref().unwrap_or(&Value::None))?;
    let len = s.char_len() as i64;
    if width <= len {
        return Ok(Value::Str(s));
    }
    let zeros = "0".repeat((width - len) as usize);
    let t: &str = &s.s;
    Ok(Value::string(match t.strip_prefix(['+', '-']) {
        Some(rest) => format!("{}{zeros}{rest}", &t[..1]),
        None => format!("{zeros}{t}"),
    }))
}

/// The receiver's text between adjusted start/end code points, as a byte range, or None when
/// the window is shorter than `need` code points.
fn window(
    vm: &mut Vm,
    s: &PyStr,
    start: &Option<Value>,
    end: &Option<Value>,
    need: usize,
) -> PyResult<Option<(usize, usize, i64)>> {
    let st = slice_index(vm, start, 0)?;
    let en = slice_index(vm, end, i64::MAX)?;
    let (st, en) = adjust_indices(st, en, s.char_len());
    if en - st < need as i64 {
        return Ok(None);
    }
    let (bs, be) = if s.is_ascii() {
        (st as usize, en as usize)
    } else {
        let bs = byte_at(&s.s, st as usize);
        (bs, bs + byte_at(&s.s[bs..], (en - st) as usize))
    };
    Ok(Some((bs, be, st)))
}

fn find(vm: &mut Vm, a: Args, name: &str, rev: bool, raise: bool) -> PyResult<Value> {
    let s = recv(vm, &a, name)?;
    let args = method_args(vm, "str", name, a, Sig::Old(1, 3))?;
    let sub = need_str(vm, &args[0], |t| format!("must be str, not {t}"))?;
    let found = match window(vm, &s, &args[1], &args[2], sub.char_len())? {
        None => None,
        Some((bs, be, st)) => {
            let hay = &s.s[bs..be];
            let hit = if rev {
                hay.rfind(&*sub.s)
            } else {
                hay.find(&*sub.s)
            };
            hit.map(|b| st + chars_in(&hay[..b]) as i64)
        }
    };
    match found {
        Some(i) => Ok(Value::Int(i)),
        None if raise => Err(vm.value_error("substring not found")),
        None => Ok(Value::Int(-1)),
    }
}

fn count(vm: &mut Vm, a: Args) -> PyResult<Value> {
    let s = recv(vm, &a, "count")?;
    let args = method_args(vm, "str", "count", a, Sig::Old(1, 3))?;
    let sub = need_str(vm, &args[0], |t| format!("must be str, not {t}"))?;
    let n = match window(vm, &s, &args[1], &args[2], sub.char_len())? {
        None => 0,
        Some((bs, be, _)) if sub.s.is_empty() => chars_in(&s.s[bs..be]) + 1,
        Some((bs, be, _)) => s.s[bs..be].matches(&*sub.s).count(),
    };
    Ok(Value::Int(n as i64))
}

fn starts_ends(vm: &mut Vm, a: Args, name: &str, start: bool) -> PyResult<Value> {
    let s = recv(vm, &a, name)?;
    let args = method_args(vm, "str", name, a, Sig::Old(1, 3))?;
    let arg = args[0].clone().unwrap_or(Value::None);
    let subs: Vec<Rc<PyStr>> = match &arg {
        Value::Tuple(t) => {
            let mut v = Vec::new();
            for x in t.iter() {
                let Some(x) = str_of(x) else {
                    return Err(vm.type_error(format!(
                        "tuple for {name} must only contain str, not {}",
                        vm.type_name(x)
                    )));
                };
                v.push(x);
            }
            v
        }
        _ => match str_of(&arg) {
            Some(x) => vec![x],
            None => {
                return Err(vm.type_error(format!(
                    "{name} first arg must be str or a tuple of str, not {}",
                    vm.type_name(&arg)
                )))
            }
        },
    };
    for sub in subs {
        if let Some((bs, be, _)) = window(vm, &s, &args[1], &args[2], sub.char_len())? {
            let hay = &s.s[bs..be];
            if (start && hay.starts_with(&*sub.s)) || (!start && hay.ends_with(&*sub.s)) {
                return Ok(Value::Bool(true));
            }
        }
    }
    Ok(Value::Bool(false))
}

/// Splits on runs of whitespace, at most `max` times (from the right when `rev`).
fn split_whitespace(s: &str, max: usize, rev: bool) -> Vec<&str> {
    let mut out = Vec::new();
    if !rev {
        let mut rest = s.trim_start_matches(case::is_space);
        while !rest.is_empty() {
            if out.len() == max {
                out.push(rest);
                break;
            }
            let end = rest.find(case::is_space).unwrap_or(rest.len());
            out.push(&rest[..end]);
            rest = rest[end..].trim_start_matches(case::is_space);
        }
    } else {
        let mut rest = s.trim_end_matches(case::is_space);
        while !rest.is_empty() {
            if out.len() == max {
                out.push(rest);
                break;
            }
            let start = rest
                .rfind(case::is_space)
                .map(|i| i + rest[i..].chars().next().map_or(1, char::len_utf8))
                .unwrap_or(0);
            out.push(&rest[start..]);
            rest = rest[..start].trim_end_matches(case::is_space);
        }
        out.reverse();
    }
    out
}

fn split(vm: &mut Vm, a: Args, name: &str, rev: bool) -> PyResult<Value> {
    let s = recv(vm, &a, name)?;
    let args = method_args(vm, "str", name, a, Sig::Kw(&["sep", "maxsplit"]))?;
    let max = match &args[1] {
        None => -1,
        Some(v) => int_arg(vm, v)?,
    };
    let max = if max < 0 { usize::MAX } else { max as usize };
    let sep = match &args[0] {
        None | Some(Value::None) => return Ok(strs(split_whitespace(&s.s, max, rev))),
        Some(v) => str_of(v).ok_or_else(|| {
            vm.type_error(format!("must be str or None, not {}", vm.type_name(v)))
        })?,
    };
    if sep.s.is_empty() {
        return Err(vm.value_error("empty separator"));
    }
    let n = max.saturating_add(1);
    Ok(strs(split_on(&s.s, &sep.s, n, rev)))
}

/// The pieces of `s` between occurrences of `sep` (at most `n` pieces), in order; `rev` splits
/// from the right. A one-character separator (the usual case: `" "`, `","`, `"\n"`) takes a
/// byte scan or the char searcher; a longer one needs the general substring searcher.
fn split_on<'a>(s: &'a str, sep: &str, n: usize, rev: bool) -> Vec<&'a str> {
    let mut chars = sep.chars();
    let single = match (chars.next(), chars.next()) {
        (Some(c), None) => Some(c),
        _ => None,
    };
    let mut parts: Vec<&str> = match (single, rev) {
        (Some(c), false) if c.is_ascii() => split_ascii(s, c as u8, n),
        (Some(c), false) => s.splitn(n, c).collect(),
        (Some(c), true) => s.rsplitn(n, c).collect(),
        (None, false) => s.splitn(n, sep).collect(),
        (None, true) => s.rsplitn(n, sep).collect(),
    };
    if rev {
        parts.reverse();
    }
    parts
}

/// `s.splitn(n, sep)` for an ASCII separator, by a plain byte scan: the pieces are usually short
/// words, where `str::splitn`'s memchr-based searcher spends more setting up each search than a
/// loop spends finding the byte. An ASCII byte never occurs inside a multi-byte character, so
/// every cut is on a character boundary.
fn split_ascii(s: &str, sep: u8, n: usize) -> Vec<&str> {
    let mut parts = Vec::new();
    if n == 0 {
        return parts;
    }
    let mut start = 0;
    for (i, &b) in s.as_bytes().iter().enumerate() {
        if b == sep && parts.len() + 1 < n {
            parts.push(&s[start..i]);
            start = i + 1;
        }
    }
    parts.push(&s[start..]);
    parts
}

/// The lines of `s`, each with its line break when `keep`.
pub fn split_lines(s: &str, keep: bool) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut it = s.char_indices().peekable();
    while let Some((i, c)) = it.next() {
        if !case::is_linebreak(c) {
            continue;
        }
        let mut end = i + c.len_utf8();
        if c == '\r' && matches!(it.peek(), Some((_, '\n'))) {
            it.next();
            end += 1;
        }
        out.push(&s[start..if keep { end } else { i }]);
        start = end;
    }
    if start < s.len() {
        out.push(&s[start..]);
    }
    out
}

fn splitlines(vm: &mut Vm, a: Args) -> PyResult<Value> {
    let s = recv(vm, &a, "splitlines")?;
    let args = method_args(vm, "str", "splitlines", a, Sig::Kw(&["keepends"]))?;
    let keep = match &args[0] {
        None => false,
        Some(v) => int_arg(vm, v)? != 0,
    };
    Ok(strs(split_lines(&s.s, keep)))
}

fn join(vm: &mut Vm, a: Args) -> PyResult<Value> {
    let s = recv(vm, &a, "join")?;
    let args = method_args(vm, "str", "join", a, Sig::One)?;
    let it = args[0].clone().unwrap_or(Value::None);
    // A list or tuple is joined where it is, without copying it first. Joining reads no script
    // code, so the list cannot change underneath.
    match &it {
        Value::List(l) => return join_strs(vm, &s.s, &l.borrow()),
        Value::Tuple(t) => return join_strs(vm, &s.s, t),
        _ => {}
    }
    let items = match ops::get_iter(vm, &it) {
        Ok(iter) => {
            let mut v = Vec::new();
            while let Some(x) = ops::iter_next(vm, &iter)? {
                v.push(x);
            }
            v
        }
        Err(e)
            if vm.exc_matches(&e, "TypeError") && vm.type_of(&it).lookup("__iter__").is_none() =>
        {
            return Err(vm.type_error("can only join an iterable"));
        }
        Err(e) => return Err(e),
    };
    join_strs(vm, &s.s, &items)
}

/// `sep.join(items)`: checks every item is a str, then copies them into one string allocated
/// at its final size.
fn join_strs(vm: &Vm, sep: &str, items: &[Value]) -> PyResult<Value> {
    let mut len = sep.len() * items.len().saturating_sub(1);
    for (i, x) in items.iter().enumerate() {
        match x {
            Value::Str(p) => len += p.s.len(),
            _ => match str_of(x) {
                Some(p) => len += p.s.len(),
                None => {
                    return Err(vm.type_error(format!(
                        "sequence item {i}: expected str instance, {} found",
                        vm.type_name(x)
                    )))
                }
            },
        }
    }
    let mut out = String::with_capacity(len);
    for (i, x) in items.iter().enumerate() {
        if i > 0 {
            out.push_str(sep);
        }
        match x {
            Value::Str(p) => out.push_str(&p.s),
            _ => out.extend(str_of(x).iter().map(|p| &*p.s)),
        }
    }
    Ok(Value::string(out))
}

fn replace(vm: &mut Vm, a: Args) -> PyResult<Value> {
    let s = recv(vm, &a, "replace")?;
    let args = method_args(vm, "str", "replace", a, Sig::Clinic(2, 3))?;
    let old = need_str(vm, &args[0], |t| {
        format!("replace() argument 1 must be str, not {t}")
    })?;
    let new = need_str(vm, &args[1], |t| {
        format!("replace() argument 2 must be str, not {t}")
    })?;
    let n = match &args[2] {
        None => -1,
        Some(v) => int_arg(vm, v)?,
    };
    Ok(Value::string(if n < 0 {
        s.s.replace(&*old.s, &new.s)
    } else {
        s.s.replacen(&*old.s, &new.s, n as usize)
    }))
}

fn partition(vm: &mut Vm, a: Args, name: &str, rev: bool) -> PyResult<Value> {
    let s = recv(vm, &a, name)?;
    let args = method_args(vm, "str", name, a, Sig::One)?;
    let sep = need_str(vm, &args[0], |t| format!("must be str, not {t}"))?;
    if sep.s.is_empty() {
        return Err(vm.value_error("empty separator"));
    }
    let hit = if rev {
        s.s.rfind(&*sep.s)
    } else {
        s.s.find(&*sep.s)
    };
    let parts = match hit {
        Some(i) => [
            Value::str(&s.s[..i]),
            Value::Str(sep.clone()),
            Value::str(&s.s[i + sep.s.len()..]),
        ],
        None if rev => [Value::str(""), Value::str(""), Value::Str(s.clone())],
        None => [Value::Str(s.clone()), Value::str(""), Value::str("")],
    };
    Ok(Value::tuple(parts.to_vec()))
}

fn expandtabs(vm: &mut Vm, a: Args) -> PyResult<Value> {
    let s = recv(vm, &a, "expandtabs")?;
    let args = method_args(vm, "str", "expandtabs", a, Sig::Kw(&["tabsize"]))?;
    let size = match &args[0] {
        None => 8,
        Some(v) => int_arg(vm, v)?,
    };
    let mut out = String::with_capacity(s.s.len());
    let mut col: i64 = 0;
    for c in s.s.chars() {
        match c {
            '\t' => {
                if size > 0 {
                    let n = size - col % size;
                    out.extend(std::iter::repeat_n(' ', n as usize));
                    col += n;
                }
            }
            '\n' | '\r' => {
                out.push(c);
                col = 0;
            }
            _ => {
                out.push(c);
                col += 1;
            }
        }
    }
    Ok(Value::string(out))
}

fn remove_affix(vm: &mut Vm, a: Args, name: &str, prefix: bool) -> PyResult<Value> {
    let s = recv(vm, &a, name)?;
    let args = method_args(vm, "str", name, a, Sig::One)?;
    let x = need_str(vm, &args[0], |t| {
        format!("{name}() argument must be str, not {t}")
    })?;
    let r = if prefix {
        s.s.strip_prefix(&*x.s)
    } else {
        s.s.strip_suffix(&*x.s)
    };
    Ok(match r {
        Some(r) if !x.s.is_empty() => Value::str(r),
        _ => Value::Str(s),
    })
}

/// Python's canonical name for an encoding we support, or None.
pub fn normalize_encoding(name: &str) -> Option<&'static str> {
    let n = name.trim().to_ascii_lowercase().replace(['_', ' '], "-");
    Some(match n.as_str() {
        "utf-8" | "utf8" | "u8" | "utf" | "cp65001" => "utf-8",
        "ascii" | "us-ascii" | "646" => "ascii",
        "latin-1" | "latin1" | "iso-8859-1" | "iso8859-1" | "8859" | "cp819" | "l1" | "latin" => {
            "latin-1"
        }
        _ => return None,
    })
}

/// `\xNN`-style text of a code point, as in UnicodeEncodeError messages and backslashreplace.
fn escape_char(c: char) -> String {
    let n = c as u32;
    if n <= 0xff {
        format!("\\x{n:02x}")
    } else if n <= 0xffff {
        format!("\\u{n:04x}")
    } else {
        format!("\\U{n:08x}")
    }
}

fn encode(vm: &mut Vm, a: Args) -> PyResult<Value> {
    let s = recv(vm, &a, "encode")?;
    let args = method_args(vm, "str", "encode", a, Sig::Kw(&["encoding", "errors"]))?;
    let enc = match &args[0] {
        None => Rc::new(PyStr::new("utf-8")),
        v => need_str(vm, v, |t| {
            format!("encode() argument 'encoding' must be str, not {t}")
        })?,
    };
    let errors = match &args[1] {
        None => Rc::new(PyStr::new("strict")),
        v => need_str(vm, v, |t| {
            format!("encode() argument 'errors' must be str, not {t}")
        })?,
    };
    let Some(codec) = normalize_encoding(&enc.s) else {
        return Err(vm.error("LookupError", format!("unknown encoding: {}", enc.s)));
    };
    if codec == "utf-8" {
        return Ok(Value::Bytes(Rc::new(s.s.as_bytes().to_vec())));
    }
    let limit: u32 = if codec == "ascii" { 0x80 } else { 0x100 };
    let chars: Vec<char> = s.s.chars().collect();
    let mut out = Vec::with_capacity(chars.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if (c as u32) < limit {
            out.push(c as u32 as u8);
            i += 1;
            continue;
        }
        match &*errors.s {
            "ignore" => {}
            "replace" => out.push(b'?'),
            "xmlcharrefreplace" => out.extend(format!("&#{};", c as u32).bytes()),
            "backslashreplace" => out.extend(escape_char(c).bytes()),
            _ => {
                let end = (i..chars.len())
                    .find(|&j| (chars[j] as u32) < limit)
                    .unwrap_or(chars.len());
                let what = if end - i == 1 {
                    format!("character '{}' in position {i}", escape_char(c))
                } else {
                    format!("characters in position {i}-{}", end - 1)
                };
                let range = if codec == "ascii" { "128" } else { "256" };
                return Err(vm.error(
                    "UnicodeEncodeError",
                    format!("'{codec}' codec can't encode {what}: ordinal not in range({range})"),
                ));
            }
        }
        i += 1;
    }
    Ok(Value::Bytes(Rc::new(out)))
}

fn translate(vm: &mut Vm, a: Args) -> PyResult<Value> {
    let s = recv(vm, &a, "translate")?;
    let args = method_args(vm, "str", "translate", a, Sig::One)?;
    let table = args[0].clone().unwrap_or(Value::None);
    let mut out = String::with_capacity(s.s.len());
    for c in s.s.chars() {
        let mapped = match ops::getitem(vm, &table, &Value::Int(c as i64)) {
            Ok(v) => v,
            Err(e) if vm.exc_matches(&e, "LookupError") => {
                out.push(c);
                continue;
            }
            Err(e) => return Err(e),
        };
        match &mapped {
            Value::None => {}
            Value::Int(n) => match u32::try_from(*n).ok().and_then(char::from_u32) {
                Some(m) => out.push(m),
                None => return Err(vm.value_error("character mapping must be in range(0x110000)")),
            },
            _ => match str_of(&mapped) {
                Some(t) => out.push_str(&t.s),
                None => {
                    return Err(vm.type_error("character mapping must return integer, None or str"))
                }
            },
        }
    }
    Ok(Value::string(out))
}

fn maketrans(vm: &mut Vm, a: Args) -> PyResult<Value> {
    let mut full = Args {
        pos: vec![Value::None],
        kw: a.kw,
    };
    full.pos.extend(a.pos);
    let args = method_args(vm, "str", "maketrans", full, Sig::Clinic(1, 3))?;
    let d = vm.new_dict();
    match (&args[0], &args[1]) {
        (Some(x), None) => {
            let Some(src) = ops::dict_of(x) else {
                return Err(
                    vm.type_error("if you give only one argument to maketrans it must be a dict")
                );
            };
            let items = src.borrow().items();
            for (k, v) in items {
                let key = match &k {
                    Value::Int(_) | Value::Bool(_) => k.clone(),
                    _ => match str_of(&k) {
                        Some(ks) if ks.char_len() == 1 => {
                            Value::Int(ks.s.chars().next().map_or(0, |c| c as i64))
                        }
                        Some(_) => {
                            return Err(vm
                                .value_error("string keys in translate table must be of length 1"))
                        }
                        None => {
                            return Err(vm
                                .type_error("keys in translate table must be strings or integers"))
                        }
                    },
                };
                ops::dict_set(vm, &d, key, v)?;
            }
        }
        (x, y) => {
            let x = need_str(vm, x, |t| {
                format!("maketrans() argument 1 must be str, not {t}")
            })?;
            let y = need_str(vm, y, |t| {
                format!("maketrans() argument 2 must be str, not {t}")
            })?;
            if x.char_len() != y.char_len() {
                return Err(
                    vm.value_error("the first two maketrans arguments must have equal length")
                );
            }
            for (cx, cy) in x.s.chars().zip(y.s.chars()) {
                ops::dict_set(vm, &d, Value::Int(cx as i64), Value::Int(cy as i64))?;
            }
            if args[2].is_some() {
                let z = need_str(vm, &args[2], |t| {
                    format!("maketrans() argument 3 must be str, not {t}")
                })?;
                for c in z.s.chars() {
                    ops::dict_set(vm, &d, Value::Int(c as i64), Value::None)?;
                }
            }
        }
    }
    Ok(d)
}

fn format(vm: &mut Vm, mut a: Args) -> PyResult<Value> {
    let s = recv(vm, &a, "format")?;
    let kw = std::mem::take(&mut a.kw);
    let out =
        super::format::str_format(vm, &s.s, Some(&a.pos[1..]), &super::format::Named::Kw(kw))?;
    Ok(Value::string(out))
}

fn format_map(vm: &mut Vm, a: Args) -> PyResult<Value> {
    let s = recv(vm, &a, "format_map")?;
    let args = method_args(vm, "str", "format_map", a, Sig::One)?;
    let m = args[0].clone().unwrap_or(Value::None);
    let out = super::format::str_format(vm, &s.s, None, &super::format::Named::Map(m))?;
    Ok(Value::string(out))
}

/// `str.__new__(cls, *args)`: `str(*args)`, wrapped in an instance when `cls` is a subclass
/// (what `super().__new__(cls, value)` in a subclass's `__new__` reaches).
fn str_new(vm: &mut Vm, mut a: Args) -> PyResult<Value> {
    let Some(Value::Class(cls)) = a.pos.first().cloned() else {
        return Err(vm.type_error("str.__new__(X): X is not a type object"));
    };
    if !cls.is_subclass(&vm.types.str_) {
        return Err(vm.type_error(format!(
            "str.__new__({}): {} is not a subtype of str",
            cls.name(),
            cls.name()
        )));
    }
    a.pos.remove(0);
    let str_cls = vm.types.str_.clone();
    let value = match super::constructor_for(vm, &str_cls) {
        Some(ctor) => ctor(vm, &str_cls, a)?,
        None => Value::string(match a.pos.first() {
            Some(v) => ops::to_str(vm, v)?,
            None => String::new(),
        }),
    };
    if Rc::ptr_eq(&cls, &str_cls) {
        return Ok(value);
    }
    crate::call::new_instance(vm, &cls, &Args::new(vec![value]))
}
