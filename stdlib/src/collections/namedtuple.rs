//! `collections.namedtuple`: builds a tuple subclass at run time. Instances carry a tuple payload
//! (so indexing, unpacking, hashing and comparison are the tuple's); fields are read-only
//! properties; `__new__` binds arguments with CPython's messages.

use std::rc::Rc;

use eddy_vm::objects::class::{BuiltinKind, Class, Instance, Payload};
use eddy_vm::objects::misc::Property;
use eddy_vm::{ops, Args, PyResult, Value, Vm};

use crate::util::{self, s};

const KEYWORDS: &[&str] = &[
    "False", "None", "True", "and", "as", "assert", "async", "await", "break", "class", "continue",
    "def", "del", "elif", "else", "except", "finally", "for", "from", "global", "if", "import",
    "in", "is", "lambda", "nonlocal", "not", "or", "pass", "raise", "return", "try", "while",
    "with", "yield",
];

fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    match chars.next() {
        Some(c) if c == '_' || c.is_alphabetic() => chars.all(|c| c == '_' || c.is_alphanumeric()),
        _ => false,
    }
}

/// `namedtuple(typename, field_names, *, rename=False, defaults=None, module=None)`.
pub fn namedtuple(vm: &mut Vm, mut a: Args) -> PyResult<Value> {
    let rename = match a.take_kw("rename") {
        Some(v) => ops::truthy(vm, &v)?,
        None => false,
    };
    let defaults = a.take_kw("defaults").filter(|d| !d.is_none());
    let module = a.take_kw("module").filter(|d| !d.is_none());
    let typename = util::arg(&mut a, 0, "typename").ok_or_else(|| {
        vm.type_error(
            "namedtuple() missing 2 required positional arguments: 'typename' and 'field_names'",
        )
    })?;
    let fields = util::arg(&mut a, 1, "field_names").ok_or_else(|| {
        vm.type_error("namedtuple() missing 1 required positional argument: 'field_names'")
    })?;
    util::no_kwargs(vm, "namedtuple", &a)?;
    let typename = ops::to_str(vm, &typename)?;
    let mut names: Vec<String> = match &fields {
        Value::Str(st) => {
            st.s.replace(',', " ")
                .split_whitespace()
                .map(String::from)
                .collect()
        }
        v => {
            let mut out = Vec::new();
            for f in ops::collect(vm, v)? {
                out.push(ops::to_str(vm, &f)?);
            }
            out
        }
    };
    if rename {
        let mut seen = std::collections::HashSet::new();
        for (i, n) in names.iter_mut().enumerate() {
            if !is_identifier(n)
                || KEYWORDS.contains(&n.as_str())
                || n.starts_with('_')
                || !seen.insert(n.clone())
            {
                *n = format!("_{i}");
            }
        }
    }
    for n in std::iter::once(&typename).chain(names.iter()) {
        if !is_identifier(n) {
            return Err(vm.value_error(format!(
                "Type names and field names must be valid identifiers: {}",
                ops::str_repr(n)
            )));
        }
        if KEYWORDS.contains(&n.as_str()) {
            return Err(vm.value_error(format!(
                "Type names and field names cannot be a keyword: {}",
                ops::str_repr(n)
            )));
        }
    }
    let mut seen = std::collections::HashSet::new();
    for n in &names {
        if n.starts_with('_') && !rename {
            return Err(vm.value_error(format!(
                "Field names cannot start with an underscore: {}",
                ops::str_repr(n)
            )));
        }
        if !seen.insert(n.clone()) {
            return Err(vm.value_error(format!(
                "Encountered duplicate field name: {}",
                ops::str_repr(n)
            )));
        }
    }
    let defaults = match defaults {
        Some(d) => ops::collect(vm, &d)?,
        None => vec![],
    };
    if defaults.len() > names.len() {
        return Err(vm.type_error("Got more default values than field names"));
    }
    let module = match module {
        Some(m) => ops::to_str(vm, &m)?,
        None => caller_module(vm),
    };
    Ok(Value::Class(build_class(
        vm, &typename, &names, defaults, &module,
    )?))
}

/// The `__name__` of the module whose code is calling (where the class is "defined").
fn caller_module(vm: &Vm) -> String {
    vm.frames
        .last()
        .and_then(|f| f.globals.get("__name__"))
        .and_then(|n| n.as_str().map(String::from))
        .unwrap_or_else(|| "__main__".into())
}

fn build_class(
    vm: &mut Vm,
    typename: &str,
    names: &[String],
    defaults: Vec<Value>,
    module: &str,
) -> PyResult<Rc<Class>> {
    let cls = eddy_vm::types::new_class(
        typename,
        vec![vm.types.tuple.clone()],
        BuiltinKind::Tuple,
        true,
    );
    let fields = Value::tuple(names.iter().map(|n| Value::str(n)).collect());
    let field_defaults = vm.new_dict();
    let first_default = names.len() - defaults.len();
    for (n, d) in names[first_default..].iter().zip(&defaults) {
        ops::dict_set(vm, &field_defaults, Value::str(n), d.clone())?;
    }
    // __new__ gets (fields, defaults) as its data; a native __new__ with data is a constructor.
    let data = Value::tuple(vec![fields.clone(), Value::tuple(defaults)]);
    let new = vm.native_with("__new__", nt_new, data);
    cls.set_attr(s("__new__"), Value::StaticMethod(Rc::new(new)));
    cls.set_attr(
        s("__init__"),
        vm.native("__init__", |_vm, _a| Ok(Value::None)),
    );
    cls.set_attr(s("_fields"), fields.clone());
    cls.set_attr(s("__match_args__"), fields);
    cls.set_attr(s("_field_defaults"), field_defaults);
    cls.set_attr(s("__module__"), Value::str(module));
    cls.set_attr(
        s("_make"),
        Value::ClassMethod(Rc::new(vm.native("_make", nt_make))),
    );
    util::methods(
        vm,
        &cls,
        &[
            ("__repr__", nt_repr),
            ("_asdict", nt_asdict),
            ("_replace", nt_replace),
            ("__getnewargs__", |vm, a| {
                Ok(Value::tuple(items(vm, &a.pos[0])?))
            }),
        ],
    );
    let read_only = vm.native("__set__", |vm, _a| {
        Err(vm.attribute_error("can't set attribute"))
    });
    for (i, n) in names.iter().enumerate() {
        let getter = vm.native_with(n, field_get, Value::Int(i as i64));
        cls.set_attr(
            s(n),
            Value::Property(Rc::new(Property {
                fget: getter,
                fset: read_only.clone(),
                fdel: read_only.clone(),
                doc: Value::string(format!("Alias for field number {i}")),
            })),
        );
    }
    Ok(cls)
}

fn items(vm: &Vm, v: &Value) -> PyResult<Vec<Value>> {
    match v {
        Value::Instance(i) => match &i.payload {
            Payload::Tuple(t) => Ok(t.to_vec()),
            _ => Err(vm.type_error("expected a named tuple")),
        },
        Value::Tuple(t) => Ok(t.to_vec()),
        _ => Err(vm.type_error("expected a named tuple")),
    }
}

/// An instance of `cls` holding `values`.
fn make_instance(cls: &Rc<Class>, values: Vec<Value>) -> Value {
    let t = match Value::tuple(values) {
        Value::Tuple(t) => t,
        _ => unreachable!("Value::tuple makes a tuple"),
    };
    let inst = Instance {
        class: cls.clone(),
        dict: eddy_vm::objects::class::InstDict::default(),
        payload: Payload::Tuple(t),
    };
    eddy_vm::gc::track_instance(Rc::new(inst))
}

fn nt_new(vm: &mut Vm, mut a: Args) -> PyResult<Value> {
    let data = a.pos.remove(0);
    let cls = match a.pos.first() {
        Some(Value::Class(c)) => c.clone(),
        _ => return Err(vm.type_error("__new__(X): X is not a type object")),
    };
    a.pos.remove(0);
    let (fields, defaults) = match &data {
        Value::Tuple(t) if t.len() == 2 => (items(vm, &t[0])?, items(vm, &t[1])?),
        _ => return Err(vm.type_error("bad namedtuple class")),
    };
    let name = cls.name().to_string();
    let n = fields.len();
    if a.pos.len() > n {
        return Err(vm.type_error(format!(
            "{name}.__new__() takes {} positional argument{} but {} were given",
            n + 1,
            if n == 0 { "" } else { "s" },
            a.pos.len() + 1
        )));
    }
    let mut values: Vec<Option<Value>> = a.pos.into_iter().map(Some).collect();
    values.resize(n, None);
    for (k, v) in a.kw {
        let Some(i) = fields.iter().position(|f| f.as_str() == Some(&*k.s)) else {
            return Err(vm.type_error(format!(
                "{name}.__new__() got an unexpected keyword argument '{}'",
                k.s
            )));
        };
        if values[i].is_some() {
            return Err(vm.type_error(format!(
                "{name}.__new__() got multiple values for argument '{}'",
                k.s
            )));
        }
        values[i] = Some(v);
    }
    let first_default = n - defaults.len();
    let mut missing = Vec::new();
    for i in 0..n {
        if values[i].is_none() {
            if i >= first_default {
                values[i] = Some(defaults[i - first_default].clone());
            } else {
                missing.push(format!("'{}'", fields[i].as_str().unwrap_or("?")));
            }
        }
    }
    if !missing.is_empty() {
        let list = match missing.len() {
            1 => missing[0].clone(),
            2 => format!("{} and {}", missing[0], missing[1]),
            k => format!("{}, and {}", missing[..k - 1].join(", "), missing[k - 1]),
        };
        return Err(vm.type_error(format!(
            "{name}.__new__() missing {} required positional argument{}: {list}",
            missing.len(),
            if missing.len() == 1 { "" } else { "s" }
        )));
    }
    Ok(make_instance(&cls, values.into_iter().flatten().collect()))
}

fn field_get(vm: &mut Vm, a: Args) -> PyResult<Value> {
    let Value::Int(i) = a.pos[0] else {
        return Err(vm.type_error("bad field"));
    };
    let values = items(vm, &a.pos[1])?;
    values
        .get(i as usize)
        .cloned()
        .ok_or_else(|| vm.index_error("tuple index out of range"))
}

fn field_names(vm: &mut Vm, v: &Value) -> PyResult<Vec<String>> {
    let f = eddy_vm::attr::get_attr(vm, v, "_fields")?;
    let mut out = Vec::new();
    for x in ops::collect(vm, &f)? {
        out.push(ops::to_str(vm, &x)?);
    }
    Ok(out)
}

fn nt_repr(vm: &mut Vm, a: Args) -> PyResult<Value> {
    let this = &a.pos[0];
    let names = field_names(vm, this)?;
    let values = items(vm, this)?;
    let Some(_guard) = util::ReprGuard::enter(this) else {
        return Ok(Value::str("..."));
    };
    let mut parts = Vec::new();
    for (n, v) in names.iter().zip(&values) {
        parts.push(format!("{n}={}", ops::repr(vm, v)?));
    }
    Ok(Value::string(format!(
        "{}({})",
        vm.type_name(this),
        parts.join(", ")
    )))
}

fn nt_asdict(vm: &mut Vm, a: Args) -> PyResult<Value> {
    let names = field_names(vm, &a.pos[0])?;
    let values = items(vm, &a.pos[0])?;
    let d = vm.new_dict();
    for (n, v) in names.iter().zip(values) {
        ops::dict_set(vm, &d, Value::str(n), v)?;
    }
    Ok(d)
}

fn nt_replace(vm: &mut Vm, a: Args) -> PyResult<Value> {
    if a.pos.len() != 1 {
        return Err(vm.type_error(format!(
            "_replace() takes 1 positional argument but {} were given",
            a.pos.len()
        )));
    }
    let names = field_names(vm, &a.pos[0])?;
    let mut values = items(vm, &a.pos[0])?;
    let mut unexpected = Vec::new();
    for (k, v) in a.kw {
        match names.iter().position(|n| *n == *k.s) {
            Some(i) => values[i] = v,
            None => unexpected.push(format!("'{}'", k.s)),
        }
    }
    if !unexpected.is_empty() {
        return Err(vm.value_error(format!(
            "Got unexpected field names: [{}]",
            unexpected.join(", ")
        )));
    }
    let cls = vm.type_of(&a.pos[0]);
    vm.call(&Value::Class(cls), values)
}

fn nt_make(vm: &mut Vm, a: Args) -> PyResult<Value> {
    let Some(Value::Class(cls)) = a.pos.first() else {
        return Err(vm.type_error("_make() needs a class"));
    };
    let Some(iterable) = a.pos.get(1) else {
        return Err(vm.type_error("_make() missing 1 required positional argument: 'iterable'"));
    };
    let values = ops::collect(vm, iterable)?;
    let n = field_names(vm, &a.pos[0])?.len();
    if values.len() != n {
        return Err(vm.type_error(format!("Expected {n} arguments, got {}", values.len())));
    }
    Ok(make_instance(cls, values))
}
