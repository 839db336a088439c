//! `string`: the character-class constants, `capwords` and `Template` (Python below, after
//! CPython's, with its placeholder pattern matched by hand since Eddy has no `re`).

use std::rc::Rc;

use eddy_vm::objects::module::Module;
use eddy_vm::{ops, PyResult, Value, Vm};

use crate::util;

pub fn init(vm: &mut Vm) -> PyResult<Rc<Module>> {
    let m = Rc::new(Module::new("string"));
    let lower = "abcdefghijklmnopqrstuvwxyz";
    let upper = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    let digits = "0123456789";
    let punctuation = r##"!"#$%&'()*+,-./:;<=>?@[\]^_`{|}~"##;
    let whitespace = " \t\n\r\x0b\x0c";
    m.set("ascii_lowercase", Value::str(lower));
    m.set("ascii_uppercase", Value::str(upper));
    m.set("ascii_letters", Value::string(format!("{lower}{upper}")));
    m.set("digits", Value::str(digits));
    m.set("hexdigits", Value::str("0123456789abcdefABCDEF"));
    m.set("octdigits", Value::str("01234567"));
    m.set("punctuation", Value::str(punctuation));
    m.set("whitespace", Value::str(whitespace));
    m.set(
        "printable",
        Value::string(format!("{digits}{lower}{upper}{punctuation}{whitespace}")),
    );
    util::def(vm, &m, "capwords", |vm, a| {
        util::arity(vm, "capwords", &a, 1, 2)?;
        let text = util::to_str_arg(vm, &a.pos[0], "capwords() argument 1")?;
        let sep = match a.pos.get(1) {
            None | Some(Value::None) => None,
            Some(v) => Some(ops::to_str(vm, v)?),
        };
        let cap = |w: &str| {
            let mut c = w.chars();
            match c.next() {
                Some(f) => f.to_uppercase().collect::<String>() + &c.as_str().to_lowercase(),
                None => String::new(),
            }
        };
        let out = match &sep {
            None => text
                .s
                .split_whitespace()
                .map(cap)
                .collect::<Vec<_>>()
                .join(" "),
            Some(sep) => text
                .s
                .split(sep.as_str())
                .map(cap)
                .collect::<Vec<_>>()
                .join(sep),
        };
        Ok(Value::string(out))
    });
    eddy_vm::import::run_source_in(vm, &m, "<eddy string>", TEMPLATE)?;
    Ok(m)
}

const TEMPLATE: &str = r##"
_sentinel_dict = {}


def _is_id_start(c):
    return c == "_" or ("a" <= c <= "z") or ("A" <= c <= "Z")


def _is_id_char(c):
    return _is_id_start(c) or ("0" <= c <= "9")


class Template:
    delimiter = "$"
    braceidpattern = None

    def __init__(self, template):
        self.template = template

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)

    # The matches of CPython's pattern, in order: (kind, start, end, name), kind one of
    # "escaped", "named", "braced", "invalid"; start is where the delimiter is.
    def _matches(self):
        t = self.template
        d = self.delimiter
        n = len(d)
        i = 0
        out = []
        while True:
            i = t.find(d, i)
            if i < 0:
                return out
            j = i + n
            if t.startswith(d, j):
                out.append(("escaped", i, j + n, None))
                i = j + n
                continue
            if j < len(t) and _is_id_start(t[j]):
                k = j + 1
                while k < len(t) and _is_id_char(t[k]):
                    k += 1
                out.append(("named", i, k, t[j:k]))
                i = k
                continue
            if j < len(t) and t[j] == "{" and j + 1 < len(t) and _is_id_start(t[j + 1]):
                k = j + 2
                while k < len(t) and _is_id_char(t[k]):
                    k += 1
                if k < len(t) and t[k] == "}":
                    out.append(("braced", i, k + 1, t[j + 1:k]))
                    i = k + 1
                    continue
            out.append(("invalid", i, j, None))
            i = j

    def _invalid(self, i):
        lines = self.template[:i].splitlines(keepends=True)
        if not lines:
            colno = 1
            lineno = 1
        else:
            colno = i - len("".join(lines[:-1]))
            lineno = len(lines)
        raise ValueError("Invalid placeholder in string: line %d, col %d" % (lineno, colno))

    def _render(self, lookup, safe):
        t = self.template
        parts = []
        pos = 0
        for kind, start, end, name in self._matches():
            parts.append(t[pos:start])
            if kind == "escaped":
                parts.append(self.delimiter)
            elif kind == "invalid":
                if not safe:
                    self._invalid(end)
                parts.append(t[start:end])
            else:
                try:
                    parts.append(str(lookup[name]))
                except KeyError:
                    if not safe:
                        raise
                    parts.append(t[start:end])
            pos = end
        parts.append(t[pos:])
        return "".join(parts)

    def _mapping(self, mapping, kws):
        if mapping is _sentinel_dict:
            return kws
        if kws:
            merged = dict(mapping)
            merged.update(kws)
            return merged
        return mapping

    def substitute(self, mapping=_sentinel_dict, /, **kws):
        return self._render(self._mapping(mapping, kws), False)

    def safe_substitute(self, mapping=_sentinel_dict, /, **kws):
        return self._render(self._mapping(mapping, kws), True)

    def is_valid(self):
        return all(kind != "invalid" for kind, _, _, _ in self._matches())

    def get_identifiers(self):
        ids = []
        for kind, start, end, name in self._matches():
            if kind == "invalid":
                raise ValueError("Unrecognized named group in pattern", self.pattern)
            if name is not None and name not in ids:
                ids.append(name)
        return ids


Template.__module__ = "string"
"##;
