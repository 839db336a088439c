//! `string`: the character-class constants and `capwords`.

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
    Ok(m)
}
