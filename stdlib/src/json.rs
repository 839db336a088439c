//! `json`: `dumps`/`dump` (indent, separators, sort_keys, ensure_ascii, allow_nan, skipkeys,
//! default, cls) and `loads`/`load` (the full JSON grammar plus NaN/Infinity, arbitrary-size ints,
//! the hooks), with CPython's messages, including `JSONDecodeError` positions in characters.

use std::rc::Rc;

use eddy_vm::objects::class::{BuiltinKind, Class};
use eddy_vm::objects::module::Module;
use eddy_vm::value::StrKey;
use eddy_vm::{attr, ops, Args, PyResult, Value, Vm};
use num_bigint::BigInt;

use crate::util::{self, s};

pub fn init(vm: &mut Vm) -> PyResult<Rc<Module>> {
    let m = Rc::new(Module::new("json"));
    let err = decode_error_class(vm);
    m.set("JSONDecodeError", Value::Class(err.clone()));
    util::defs(
        vm,
        &m,
        &[
            ("dumps", dumps),
            ("dump", dump),
            ("loads", loads),
            ("load", load),
        ],
    );
    let encoder = util::plain_class("JSONEncoder", "json.encoder", vm.types.object.clone());
    util::methods(
        vm,
        &encoder,
        &[
            ("__init__", encoder_init),
            ("encode", encoder_encode),
            ("default", encoder_default),
        ],
    );
    m.set("JSONEncoder", Value::Class(encoder));
    let decoder = util::plain_class("JSONDecoder", "json.decoder", vm.types.object.clone());
    util::methods(
        vm,
        &decoder,
        &[("__init__", decoder_init), ("decode", decoder_decode)],
    );
    m.set("JSONDecoder", Value::Class(decoder));
    // `json.decoder.JSONDecodeError` also works.
    let sub = Rc::new(Module::new("json.decoder"));
    sub.set("JSONDecodeError", Value::Class(err));
    m.set("decoder", Value::Module(sub));
    Ok(m)
}

fn decode_error_class(vm: &Vm) -> Rc<Class> {
    util::shared_class(vm, "JSONDecodeError", |vm| {
        let cls = eddy_vm::types::new_class(
            "JSONDecodeError",
            vec![vm.exc_class("ValueError")],
            BuiltinKind::BaseException,
            true,
        );
        cls.set_attr(s("__module__"), Value::str("json.decoder"));
        cls
    })
}

// ---- encoding ----

/// Encoder settings, from `dumps` keywords or a JSONEncoder's attributes.
struct Options {
    indent: Option<String>,
    item_sep: String,
    key_sep: String,
    sort_keys: bool,
    ensure_ascii: bool,
    allow_nan: bool,
    skipkeys: bool,
    default: Value,
}

impl Options {
    fn from_kwargs(vm: &mut Vm, kw: &mut Args) -> PyResult<Options> {
        let indent = match kw.take_kw("indent") {
            None | Some(Value::None) => None,
            Some(Value::Str(st)) => Some(st.s.to_string()),
            Some(v) => Some(" ".repeat(util::to_i64(vm, &v)?.max(0) as usize)),
        };
        let (mut item_sep, mut key_sep) = (
            if indent.is_some() { "," } else { ", " }.to_string(),
            ": ".to_string(),
        );
        if let Some(sep) = kw.take_kw("separators").filter(|v| !v.is_none()) {
            let parts = ops::collect(vm, &sep)?;
            if parts.len() != 2 {
                return Err(vm.value_error(format!(
                    "too many values to unpack (expected 2, got {})",
                    parts.len()
                )));
            }
            item_sep = ops::to_str(vm, &parts[0])?;
            key_sep = ops::to_str(vm, &parts[1])?;
        }
        let mut flag = |vm: &mut Vm, name: &str, dflt: bool| -> PyResult<bool> {
            match kw.take_kw(name) {
                Some(v) => ops::truthy(vm, &v),
                None => Ok(dflt),
            }
        };
        let sort_keys = flag(vm, "sort_keys", false)?;
        let ensure_ascii = flag(vm, "ensure_ascii", true)?;
        let allow_nan = flag(vm, "allow_nan", true)?;
        let skipkeys = flag(vm, "skipkeys", false)?;
        let _ = flag(vm, "check_circular", true)?;
        let default = kw.take_kw("default").unwrap_or(Value::None);
        Ok(Options {
            indent,
            item_sep,
            key_sep,
            sort_keys,
            ensure_ascii,
            allow_nan,
            skipkeys,
            default,
        })
    }
}

struct Encoder<'a> {
    opts: &'a Options,
    out: String,
    /// Containers being encoded, to detect cycles.
    stack: Vec<usize>,
}

fn dumps(vm: &mut Vm, mut a: Args) -> PyResult<Value> {
    if a.pos.len() != 1 {
        return Err(vm.type_error(format!(
            "dumps() takes 1 positional argument but {} were given",
            a.pos.len()
        )));
    }
    let obj = a.pos[0].clone();
    if let Some(cls) = a.take_kw("cls").filter(|c| !c.is_none()) {
        let enc = vm.call_args(
            &cls,
            Args {
                pos: vec![],
                kw: std::mem::take(&mut a.kw),
            },
        )?;
        return vm.call_method(&enc, "encode", vec![obj]);
    }
    let opts = Options::from_kwargs(vm, &mut a)?;
    util::no_kwargs(vm, "dumps", &a)?;
    encode_with(vm, &opts, &obj)
}

fn encode_with(vm: &mut Vm, opts: &Options, obj: &Value) -> PyResult<Value> {
    let mut enc = Encoder {
        opts,
        out: String::new(),
        stack: Vec::new(),
    };
    enc.value(vm, obj, 0)?;
    Ok(Value::string(enc.out))
}

fn dump(vm: &mut Vm, mut a: Args) -> PyResult<Value> {
    if a.pos.len() != 2 {
        return Err(vm.type_error(format!(
            "dump() missing {} required positional argument{}",
            2usize.saturating_sub(a.pos.len()),
            if a.pos.len() == 1 { "" } else { "s" }
        )));
    }
    let fp = a.pos.pop().unwrap_or(Value::None);
    let text = dumps(vm, a)?;
    vm.call_method(&fp, "write", vec![text])?;
    Ok(Value::None)
}

impl Encoder<'_> {
    fn newline(&mut self, depth: usize) {
        if let Some(ind) = &self.opts.indent {
            self.out.push('\n');
            for _ in 0..depth {
                self.out.push_str(ind);
            }
        }
    }

    fn enter(&mut self, vm: &Vm, v: &Value) -> PyResult<()> {
        let id = v.ptr_id().unwrap_or(0);
        if self.stack.contains(&id) {
            return Err(vm.value_error("Circular reference detected"));
        }
        if self.stack.len() > 5000 {
            return Err(vm.error(
                "RecursionError",
                "maximum recursion depth exceeded while encoding a JSON object",
            ));
        }
        self.stack.push(id);
        Ok(())
    }

    fn value(&mut self, vm: &mut Vm, v: &Value, depth: usize) -> PyResult<()> {
        match v {
            Value::Str(st) => {
                encode_str(&mut self.out, &st.s, self.opts.ensure_ascii);
                Ok(())
            }
            Value::None => {
                self.out.push_str("null");
                Ok(())
            }
            Value::Bool(b) => {
                self.out.push_str(if *b { "true" } else { "false" });
                Ok(())
            }
            Value::Int(i) => {
                self.out.push_str(&i.to_string());
                Ok(())
            }
            Value::BigInt(b) => {
                let text = ops::bigint_to_string(vm, b)?;
                self.out.push_str(&text);
                Ok(())
            }
            Value::Float(f) => {
                let text = self.float(vm, *f)?;
                self.out.push_str(&text);
                Ok(())
            }
            Value::List(l) => {
                let items = l.borrow().clone();
                self.array(vm, v, &items, depth)
            }
            Value::Tuple(t) => {
                let items = t.to_vec();
                self.array(vm, v, &items, depth)
            }
            Value::Dict(d) => {
                let items = d.borrow().items();
                self.object(vm, v, items, depth)
            }
            Value::Instance(_) => match eddy_vm::builtins::payload_value(v) {
                Some(Value::List(l)) => {
                    let items = l.borrow().clone();
                    self.array(vm, v, &items, depth)
                }
                Some(Value::Tuple(t)) => {
                    let items = t.to_vec();
                    self.array(vm, v, &items, depth)
                }
                Some(Value::Dict(d)) => {
                    let items = d.borrow().items();
                    self.object(vm, v, items, depth)
                }
                Some(p @ (Value::Str(_) | Value::Int(_) | Value::BigInt(_) | Value::Float(_))) => {
                    self.value(vm, &p, depth)
                }
                _ => self.default(vm, v, depth),
            },
            _ => self.default(vm, v, depth),
        }
    }

    fn float(&self, vm: &Vm, f: f64) -> PyResult<String> {
        if f.is_finite() {
            return Ok(ops::float_repr(f));
        }
        if !self.opts.allow_nan {
            return Err(vm.value_error("Out of range float values are not JSON compliant"));
        }
        Ok(if f.is_nan() {
            "NaN"
        } else if f > 0.0 {
            "Infinity"
        } else {
            "-Infinity"
        }
        .into())
    }

    fn default(&mut self, vm: &mut Vm, v: &Value, depth: usize) -> PyResult<()> {
        if self.opts.default.is_none() {
            return Err(not_serializable(vm, v));
        }
        self.enter(vm, v)?;
        let f = self.opts.default.clone();
        let replacement = vm.call(&f, vec![v.clone()])?;
        self.value(vm, &replacement, depth)?;
        self.stack.pop();
        Ok(())
    }

    fn array(&mut self, vm: &mut Vm, v: &Value, items: &[Value], depth: usize) -> PyResult<()> {
        if items.is_empty() {
            self.out.push_str("[]");
            return Ok(());
        }
        self.enter(vm, v)?;
        self.out.push('[');
        for (i, item) in items.iter().enumerate() {
            if i > 0 {
                self.out.push_str(&self.opts.item_sep);
            }
            self.newline(depth + 1);
            self.value(vm, item, depth + 1)?;
        }
        self.newline(depth);
        self.out.push(']');
        self.stack.pop();
        Ok(())
    }

    fn object(
        &mut self,
        vm: &mut Vm,
        v: &Value,
        mut items: Vec<(Value, Value)>,
        depth: usize,
    ) -> PyResult<()> {
        if items.is_empty() {
            self.out.push_str("{}");
            return Ok(());
        }
        self.enter(vm, v)?;
        if self.opts.sort_keys {
            sort_items(vm, &mut items)?;
        }
        self.out.push('{');
        let mut first = true;
        for (k, val) in items {
            let key = match &k {
                Value::Str(st) => st.s.to_string(),
                Value::Float(f) => self.float(vm, *f)?,
                Value::Bool(b) => (if *b { "true" } else { "false" }).to_string(),
                Value::None => "null".to_string(),
                Value::Int(i) => i.to_string(),
                Value::BigInt(b) => ops::bigint_to_string(vm, b)?,
                _ => {
                    if self.opts.skipkeys {
                        continue;
                    }
                    return Err(vm.type_error(format!(
                        "keys must be str, int, float, bool or None, not {}",
                        vm.type_name(&k)
                    )));
                }
            };
            if !first {
                self.out.push_str(&self.opts.item_sep);
            }
            first = false;
            self.newline(depth + 1);
            encode_str(&mut self.out, &key, self.opts.ensure_ascii);
            self.out.push_str(&self.opts.key_sep);
            self.value(vm, &val, depth + 1)?;
        }
        self.newline(depth);
        self.out.push('}');
        self.stack.pop();
        Ok(())
    }
}

fn not_serializable(vm: &Vm, v: &Value) -> Value {
    vm.type_error(format!(
        "Object of type {} is not JSON serializable",
        vm.type_name(v)
    ))
}

/// Sorts dict items by key with Python's `<` (a stable merge sort, errors propagate).
fn sort_items(vm: &mut Vm, items: &mut Vec<(Value, Value)>) -> PyResult<()> {
    let mut err = None;
    // Insertion into a sorted run keeps comparisons fallible without unsafe tricks.
    let mut sorted: Vec<(Value, Value)> = Vec::with_capacity(items.len());
    for item in items.drain(..) {
        let mut lo = 0;
        let mut hi = sorted.len();
        while lo < hi {
            let mid = (lo + hi) / 2;
            match ops::less_than(vm, &item.0, &sorted[mid].0) {
                Ok(true) => hi = mid,
                Ok(false) => lo = mid + 1,
                Err(e) => {
                    err = Some(e);
                    break;
                }
            }
        }
        if let Some(e) = err {
            return Err(e);
        }
        sorted.insert(lo, item);
    }
    *items = sorted;
    Ok(())
}

fn encode_str(out: &mut String, text: &str, ensure_ascii: bool) {
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c if ensure_ascii && (c as u32) > 0x7e => {
                let mut buf = [0u16; 2];
                for unit in c.encode_utf16(&mut buf) {
                    out.push_str(&format!("\\u{:04x}", unit));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

fn encoder_init(vm: &mut Vm, mut a: Args) -> PyResult<Value> {
    let Value::Instance(inst) = a.pos[0].clone() else {
        return Err(vm.type_error("JSONEncoder.__init__ needs an instance"));
    };
    let names = [
        "skipkeys",
        "ensure_ascii",
        "check_circular",
        "allow_nan",
        "sort_keys",
        "indent",
        "separators",
        "default",
    ];
    let defaults = [
        Value::Bool(false),
        Value::Bool(true),
        Value::Bool(true),
        Value::Bool(true),
        Value::Bool(false),
        Value::None,
        Value::None,
        Value::None,
    ];
    for (name, dflt) in names.iter().zip(defaults) {
        let v = a.take_kw(name).unwrap_or(dflt);
        if *name == "default" && v.is_none() {
            continue;
        }
        inst.dict.borrow_mut().insert(StrKey(s(name)), v);
    }
    util::no_kwargs(vm, "JSONEncoder", &a)?;
    Ok(Value::None)
}

fn encoder_options(vm: &mut Vm, enc: &Value) -> PyResult<Options> {
    let mut kw = Args::default();
    for name in [
        "skipkeys",
        "ensure_ascii",
        "allow_nan",
        "sort_keys",
        "indent",
        "separators",
    ] {
        if let Some(v) = attr::try_get_attr(vm, enc, name)? {
            kw.kw.push((s(name), v));
        }
    }
    let mut opts = Options::from_kwargs(vm, &mut kw)?;
    opts.default = attr::get_attr(vm, enc, "default")?;
    Ok(opts)
}

fn encoder_encode(vm: &mut Vm, a: Args) -> PyResult<Value> {
    util::arity(vm, "encode", &a, 2, 2)?;
    let opts = encoder_options(vm, &a.pos[0])?;
    encode_with(vm, &opts, &a.pos[1])
}

fn encoder_default(vm: &mut Vm, a: Args) -> PyResult<Value> {
    util::arity(vm, "default", &a, 2, 2)?;
    Err(not_serializable(vm, &a.pos[1]))
}

// ---- decoding ----

/// Decoding hooks (`object_hook=` and friends); None when not given.
#[derive(Default)]
struct Hooks {
    object_hook: Option<Value>,
    pairs_hook: Option<Value>,
    parse_float: Option<Value>,
    parse_int: Option<Value>,
    parse_constant: Option<Value>,
    strict: bool,
}

impl Hooks {
    fn from_kwargs(vm: &mut Vm, a: &mut Args) -> PyResult<Hooks> {
        let mut take = |n: &str| a.take_kw(n).filter(|v| !v.is_none());
        let mut h = Hooks {
            object_hook: take("object_hook"),
            pairs_hook: take("object_pairs_hook"),
            parse_float: take("parse_float"),
            parse_int: take("parse_int"),
            parse_constant: take("parse_constant"),
            strict: true,
        };
        if let Some(st) = take("strict") {
            h.strict = ops::truthy(vm, &st)?;
        }
        Ok(h)
    }
}

struct Parser<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
    hooks: &'a Hooks,
    depth: usize,
}

fn loads(vm: &mut Vm, mut a: Args) -> PyResult<Value> {
    if a.pos.len() != 1 {
        return Err(vm.type_error(format!(
            "loads() takes 1 positional argument but {} were given",
            a.pos.len()
        )));
    }
    let doc = a.pos[0].clone();
    if let Some(cls) = a.take_kw("cls").filter(|c| !c.is_none()) {
        let dec = vm.call_args(
            &cls,
            Args {
                pos: vec![],
                kw: std::mem::take(&mut a.kw),
            },
        )?;
        return vm.call_method(&dec, "decode", vec![doc]);
    }
    let hooks = Hooks::from_kwargs(vm, &mut a)?;
    util::no_kwargs(vm, "loads", &a)?;
    decode_value(vm, &doc, &hooks)
}

fn decode_value(vm: &mut Vm, doc: &Value, hooks: &Hooks) -> PyResult<Value> {
    let text: Rc<eddy_vm::value::PyStr> = match doc {
        Value::Str(st) => st.clone(),
        Value::Bytes(b) => {
            let b = b.strip_prefix(b"\xef\xbb\xbf").unwrap_or(b);
            match std::str::from_utf8(b) {
                Ok(t) => s(t),
                Err(_) => {
                    return Err(vm.error("UnicodeDecodeError", "'utf-8' codec can't decode bytes"))
                }
            }
        }
        _ => {
            return Err(vm.type_error(format!(
                "the JSON object must be str, bytes or bytearray, not {}",
                vm.type_name(doc)
            )))
        }
    };
    if text.s.starts_with('\u{feff}') {
        return Err(decode_error(
            vm,
            "Unexpected UTF-8 BOM (decode using utf-8-sig)",
            &text.s,
            0,
        ));
    }
    decode_str(vm, &text.s, hooks)
}

fn decode_str(vm: &mut Vm, text: &str, hooks: &Hooks) -> PyResult<Value> {
    let mut p = Parser {
        text,
        bytes: text.as_bytes(),
        pos: 0,
        hooks,
        depth: 0,
    };
    p.skip_ws();
    let v = p.value(vm)?;
    p.skip_ws();
    if p.pos != p.bytes.len() {
        return Err(p.error(vm, "Extra data", p.pos));
    }
    Ok(v)
}

fn load(vm: &mut Vm, mut a: Args) -> PyResult<Value> {
    if a.pos.len() != 1 {
        return Err(vm.type_error(format!(
            "load() takes 1 positional argument but {} were given",
            a.pos.len()
        )));
    }
    let fp = a.pos.remove(0);
    let text = vm.call_method(&fp, "read", vec![])?;
    a.pos.push(text);
    loads(vm, a)
}

/// A JSONDecodeError for byte offset `at` of `doc` (reported in characters, as CPython).
fn decode_error(vm: &Vm, msg: &str, doc: &str, at: usize) -> Value {
    let before = &doc[..at.min(doc.len())];
    let pos = before.chars().count();
    let lineno = before.matches('\n').count() + 1;
    let colno = match before.rfind('\n') {
        Some(nl) => before[nl + 1..].chars().count() + 1,
        None => pos + 1,
    };
    let full = format!("{msg}: line {lineno} column {colno} (char {pos})");
    let exc = vm.new_exception(&decode_error_class(vm), vec![Value::string(full)]);
    if let Value::Instance(i) = &exc {
        let mut d = i.dict.borrow_mut();
        d.insert(StrKey(s("msg")), Value::str(msg));
        d.insert(StrKey(s("doc")), Value::str(doc));
        d.insert(StrKey(s("pos")), Value::Int(pos as i64));
        d.insert(StrKey(s("lineno")), Value::Int(lineno as i64));
        d.insert(StrKey(s("colno")), Value::Int(colno as i64));
    }
    exc
}

impl Parser<'_> {
    fn error(&self, vm: &Vm, msg: &str, at: usize) -> Value {
        decode_error(vm, msg, self.text, at)
    }

    fn skip_ws(&mut self) {
        while self.pos < self.bytes.len()
            && matches!(self.bytes[self.pos], b' ' | b'\t' | b'\n' | b'\r')
        {
            self.pos += 1;
        }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn starts(&self, word: &str) -> bool {
        self.bytes[self.pos..].starts_with(word.as_bytes())
    }

    fn value(&mut self, vm: &mut Vm) -> PyResult<Value> {
        let start = self.pos;
        match self.peek() {
            Some(b'"') => self.string(vm),
            Some(b'{') => self.nested(vm, true),
            Some(b'[') => self.nested(vm, false),
            Some(b'n') if self.starts("null") => {
                self.pos += 4;
                Ok(Value::None)
            }
            Some(b't') if self.starts("true") => {
                self.pos += 4;
                Ok(Value::Bool(true))
            }
            Some(b'f') if self.starts("false") => {
                self.pos += 5;
                Ok(Value::Bool(false))
            }
            Some(b'N') if self.starts("NaN") => {
                self.pos += 3;
                self.constant(vm, "NaN", f64::NAN)
            }
            Some(b'I') if self.starts("Infinity") => {
                self.pos += 8;
                self.constant(vm, "Infinity", f64::INFINITY)
            }
            Some(b'-') if self.starts("-Infinity") => {
                self.pos += 9;
                self.constant(vm, "-Infinity", f64::NEG_INFINITY)
            }
            Some(b'-' | b'0'..=b'9') => self.number(vm),
            _ => Err(self.error(vm, "Expecting value", start)),
        }
    }

    fn constant(&mut self, vm: &mut Vm, name: &str, f: f64) -> PyResult<Value> {
        match &self.hooks.parse_constant {
            Some(h) => {
                let h = h.clone();
                vm.call(&h, vec![Value::str(name)])
            }
            None => Ok(Value::Float(f)),
        }
    }

    fn number(&mut self, vm: &mut Vm) -> PyResult<Value> {
        let start = self.pos;
        let b = self.bytes;
        let mut i = self.pos;
        if b[i] == b'-' {
            i += 1;
        }
        match b.get(i) {
            Some(b'0') => i += 1,
            Some(b'1'..=b'9') => {
                while i < b.len() && b[i].is_ascii_digit() {
                    i += 1;
                }
            }
            _ => return Err(self.error(vm, "Expecting value", start)),
        }
        let mut is_float = false;
        if i + 1 < b.len() && b[i] == b'.' && b[i + 1].is_ascii_digit() {
            is_float = true;
            i += 1;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
        }
        if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
            let mut j = i + 1;
            if j < b.len() && (b[j] == b'+' || b[j] == b'-') {
                j += 1;
            }
            if j < b.len() && b[j].is_ascii_digit() {
                while j < b.len() && b[j].is_ascii_digit() {
                    j += 1;
                }
                is_float = true;
                i = j;
            }
        }
        self.pos = i;
        let text = &self.text[start..i];
        if is_float {
            if let Some(h) = &self.hooks.parse_float {
                let h = h.clone();
                return vm.call(&h, vec![Value::str(text)]);
            }
            return Ok(Value::Float(text.parse::<f64>().unwrap_or(f64::NAN)));
        }
        if let Some(h) = &self.hooks.parse_int {
            let h = h.clone();
            return vm.call(&h, vec![Value::str(text)]);
        }
        if let Ok(n) = text.parse::<i64>() {
            return Ok(Value::Int(n));
        }
        if text.len() > 4300 {
            return Err(vm.value_error(format!("Exceeds the limit (4300 digits) for integer string conversion: value has {} digits; use sys.set_int_max_str_digits() to increase the limit", text.trim_start_matches('-').len())));
        }
        Ok(Value::from_bigint(
            text.parse::<BigInt>().unwrap_or_default(),
        ))
    }

    /// Parses a string starting at its opening quote.
    fn string(&mut self, vm: &mut Vm) -> PyResult<Value> {
        let text = self.string_text(vm)?;
        Ok(Value::string(text))
    }

    fn string_text(&mut self, vm: &mut Vm) -> PyResult<String> {
        let begin = self.pos;
        self.pos += 1;
        let mut out = String::new();
        loop {
            // Copy the run of ordinary characters at once.
            let run_start = self.pos;
            while self.pos < self.bytes.len() {
                let c = self.bytes[self.pos];
                if c == b'"' || c == b'\\' || (c < 0x20 && self.hooks.strict) {
                    break;
                }
                self.pos += 1;
            }
            out.push_str(&self.text[run_start..self.pos]);
            match self.peek() {
                None => return Err(self.error(vm, "Unterminated string starting at", begin)),
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    let esc_at = self.pos + 1;
                    let Some(e) = self.bytes.get(esc_at).copied() else {
                        return Err(self.error(vm, "Unterminated string starting at", begin));
                    };
                    self.pos += 2;
                    match e {
                        b'"' => out.push('"'),
                        b'\\' => out.push('\\'),
                        b'/' => out.push('/'),
                        b'b' => out.push('\u{8}'),
                        b'f' => out.push('\u{c}'),
                        b'n' => out.push('\n'),
                        b'r' => out.push('\r'),
                        b't' => out.push('\t'),
                        b'u' => {
                            let hi = self.hex4(vm, esc_at - 1)?;
                            let c = if (0xd800..0xdc00).contains(&hi) && self.starts("\\u") {
                                let save = self.pos;
                                self.pos += 2;
                                let lo = self.hex4(vm, save)?;
                                if (0xdc00..0xe000).contains(&lo) {
                                    char::from_u32(0x10000 + ((hi - 0xd800) << 10) + (lo - 0xdc00))
                                } else {
                                    self.pos = save;
                                    None
                                }
                            } else {
                                char::from_u32(hi)
                            };
                            // A lone surrogate cannot live in a Rust string; it becomes U+FFFD.
                            out.push(c.unwrap_or('\u{fffd}'));
                        }
                        _ => return Err(self.error(vm, "Invalid \\escape", esc_at - 1)),
                    }
                }
                Some(_) => return Err(self.error(vm, "Invalid control character at", self.pos)),
            }
        }
    }

    /// Four hex digits after `\u`; `esc` is the offset of the backslash, for the error.
    fn hex4(&mut self, vm: &Vm, esc: usize) -> PyResult<u32> {
        let digits = self.bytes.get(self.pos..self.pos + 4);
        let parsed = digits
            .and_then(|d| {
                if d.iter().all(|c| c.is_ascii_hexdigit()) {
                    std::str::from_utf8(d).ok()
                } else {
                    None
                }
            })
            .and_then(|t| u32::from_str_radix(t, 16).ok());
        match parsed {
            Some(n) => {
                self.pos += 4;
                Ok(n)
            }
            None => Err(self.error(vm, "Invalid \\uXXXX escape", esc + 1)),
        }
    }

    fn nested(&mut self, vm: &mut Vm, object: bool) -> PyResult<Value> {
        self.depth += 1;
        if self.depth > 5000 {
            let what = if object { "object" } else { "array" };
            return Err(vm.error("RecursionError", format!("maximum recursion depth exceeded while decoding a JSON {what} from a unicode string")));
        }
        let r = if object {
            self.object(vm)
        } else {
            self.array(vm)
        };
        self.depth -= 1;
        r
    }

    fn array(&mut self, vm: &mut Vm) -> PyResult<Value> {
        self.pos += 1;
        let mut items = Vec::new();
        self.skip_ws();
        if self.peek() == Some(b']') {
            self.pos += 1;
            return Ok(Value::list(items));
        }
        loop {
            self.skip_ws();
            items.push(self.value(vm)?);
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    return Ok(Value::list(items));
                }
                _ => return Err(self.error(vm, "Expecting ',' delimiter", self.pos)),
            }
        }
    }

    fn object(&mut self, vm: &mut Vm) -> PyResult<Value> {
        self.pos += 1;
        let mut pairs: Vec<(Value, Value)> = Vec::new();
        self.skip_ws();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return self.finish_object(vm, pairs);
        }
        loop {
            self.skip_ws();
            if self.peek() != Some(b'"') {
                return Err(self.error(
                    vm,
                    "Expecting property name enclosed in double quotes",
                    self.pos,
                ));
            }
            let key = self.string(vm)?;
            self.skip_ws();
            if self.peek() != Some(b':') {
                return Err(self.error(vm, "Expecting ':' delimiter", self.pos));
            }
            self.pos += 1;
            self.skip_ws();
            let value = self.value(vm)?;
            pairs.push((key, value));
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    return self.finish_object(vm, pairs);
                }
                _ => return Err(self.error(vm, "Expecting ',' delimiter", self.pos)),
            }
        }
    }

    fn finish_object(&mut self, vm: &mut Vm, pairs: Vec<(Value, Value)>) -> PyResult<Value> {
        if let Some(h) = &self.hooks.pairs_hook {
            let h = h.clone();
            let list = Value::list(
                pairs
                    .into_iter()
                    .map(|(k, v)| Value::tuple(vec![k, v]))
                    .collect(),
            );
            return vm.call(&h, vec![list]);
        }
        let d = vm.new_dict();
        for (k, v) in pairs {
            ops::dict_set(vm, &d, k, v)?;
        }
        if let Some(h) = &self.hooks.object_hook {
            let h = h.clone();
            return vm.call(&h, vec![d]);
        }
        Ok(d)
    }
}

fn decoder_init(vm: &mut Vm, mut a: Args) -> PyResult<Value> {
    let Value::Instance(inst) = a.pos[0].clone() else {
        return Err(vm.type_error("JSONDecoder.__init__ needs an instance"));
    };
    for name in [
        "object_hook",
        "parse_float",
        "parse_int",
        "parse_constant",
        "strict",
        "object_pairs_hook",
    ] {
        let v = a.take_kw(name).unwrap_or(if name == "strict" {
            Value::Bool(true)
        } else {
            Value::None
        });
        inst.dict.borrow_mut().insert(StrKey(s(name)), v);
    }
    util::no_kwargs(vm, "JSONDecoder", &a)?;
    Ok(Value::None)
}

fn decoder_decode(vm: &mut Vm, a: Args) -> PyResult<Value> {
    util::arity(vm, "decode", &a, 2, 2)?;
    let mut kw = Args::default();
    for name in [
        "object_hook",
        "parse_float",
        "parse_int",
        "parse_constant",
        "strict",
        "object_pairs_hook",
    ] {
        if let Some(v) = attr::try_get_attr(vm, &a.pos[0], name)? {
            kw.kw.push((s(name), v));
        }
    }
    let hooks = Hooks::from_kwargs(vm, &mut kw)?;
    decode_value(vm, &a.pos[1], &hooks)
}
