//! The `builtins` module and the methods of the built-in types. `install` fills the builtins
//! namespace and each type's method table; one file per type or family.

use std::cell::RefCell;
use std::rc::Rc;

use crate::objects::class::{BuiltinKind, Class, Payload};
use crate::objects::dict::PyDict;
use crate::objects::function::Args;
use crate::objects::iter::NativeIter;
use crate::value::Value;
use crate::vm::Vm;
use crate::PyResult;

mod async_iter;
mod bytes_methods;
mod constructors;
mod dict_methods;
mod exception_methods;
mod format;
mod functions;
mod generator_methods;
pub mod generic_alias;
mod iterators;
mod list_methods;
mod method_args;
mod methods;
mod number_methods;
mod set_methods;
mod str_case;
mod str_methods;
mod unicode_data;

pub use format::{percent_format, percent_format_bytes};
pub use generator_methods::close as close_generator;
pub use generator_methods::wrap_async_gen_value;
pub use iterators::native_iter_next;
pub use methods::{make_union, union_args};
pub use str_case::{decimal_value, is_printable};

pub type Constructor = fn(&mut Vm, &Rc<Class>, Args) -> PyResult<Value>;

pub fn install(vm: &mut Vm) {
    functions::install(vm);
    async_iter::install(vm);
    constructors::install(vm);
    exception_methods::install(vm);
    methods::install(vm);
    generator_methods::install(vm);
    str_methods::install(vm);
    bytes_methods::install(vm);
    list_methods::install(vm);
    dict_methods::install(vm);
    set_methods::install(vm);
    number_methods::install(vm);
    let b = vm.builtins.clone();
    let t = &vm.types;
    for (name, c) in [
        ("object", &t.object),
        ("type", &t.type_),
        ("int", &t.int),
        ("bool", &t.bool_),
        ("float", &t.float),
        ("str", &t.str_),
        ("bytes", &t.bytes),
        ("list", &t.list),
        ("tuple", &t.tuple),
        ("dict", &t.dict),
        ("set", &t.set),
        ("frozenset", &t.frozenset),
        ("range", &t.range),
        ("slice", &t.slice),
        ("property", &t.property),
        ("staticmethod", &t.staticmethod),
        ("classmethod", &t.classmethod),
        ("enumerate", &t.iters.enumerate),
        ("zip", &t.iters.zip),
        ("map", &t.iters.map),
        ("filter", &t.iters.filter),
        ("reversed", &t.iters.reversed),
    ] {
        b.set(name, Value::Class(c.clone()));
    }
    // Every built-in iterator answers the iterator protocol by name too (`it.__next__()`).
    let mut iter_classes = vec![vm.types.iterator.clone()];
    iter_classes.extend(vm.types.iters.all().into_iter().cloned());
    for c in &iter_classes {
        vm.add_method(c, "__iter__", |vm, a| {
            check_args(vm, "__iter__", &a, 1, 1)?;
            Ok(a.pos[0].clone())
        });
        vm.add_method(c, "__next__", |vm, a| {
            check_args(vm, "__next__", &a, 1, 1)?;
            // An instance of a subclass (`class E(enumerate)`) advances the iterator it wraps.
            let it = match &a.pos[0] {
                v @ Value::Instance(_) => payload_value(v).unwrap_or(Value::None),
                v => v.clone(),
            };
            if !matches!(it, Value::Iterator(_)) {
                let got = vm.type_name(&a.pos[0]);
                return Err(vm.type_error(format!(
                    "descriptor '__next__' requires an iterator object but received '{got}'"
                )));
            }
            match crate::ops::iter_next(vm, &it)? {
                Some(v) => Ok(v),
                None => Err(vm.stop_iteration(Value::None)),
            }
        });
    }
    for (name, c) in vm.types.exceptions.clone() {
        b.set(name, Value::Class(c));
    }
    b.set("EnvironmentError", Value::Class(vm.exc_class("OSError")));
    b.set("IOError", Value::Class(vm.exc_class("OSError")));
    b.set("None", Value::None);
    b.set("True", Value::Bool(true));
    b.set("False", Value::Bool(false));
    b.set("Ellipsis", Value::Ellipsis);
    b.set("NotImplemented", Value::NotImplemented);
    b.set("__name__", Value::str("builtins"));
    b.set("__debug__", Value::Bool(true));
}

/// The constructor of a built-in class (`int(...)`, `list(...)`, an exception class...).
pub fn constructor_for(vm: &Vm, cls: &Rc<Class>) -> Option<Constructor> {
    let _ = vm;
    constructors::for_kind(cls.kind)
}

/// The built-in value inside an instance of a subclass of a built-in type.
pub fn payload_value(v: &Value) -> Option<Value> {
    let Value::Instance(i) = v else { return None };
    match &i.payload {
        Payload::Dict(d) => Some(Value::Dict(d.clone())),
        Payload::List(l) => Some(Value::List(l.clone())),
        Payload::Tuple(t) => Some(Value::Tuple(t.clone())),
        Payload::Value(v) => {
            let v = v.borrow().clone();
            if v.is_none() {
                None
            } else {
                Some(v)
            }
        }
        _ => None,
    }
}

pub fn payload_dict(v: &Value) -> Option<Rc<PyDict>> {
    match v {
        Value::Instance(i) => match &i.payload {
            Payload::Dict(d) => Some(d.clone()),
            _ => None,
        },
        _ => None,
    }
}

/// Attributes that are not in any dict: `__class__`, `__name__`, exception fields, and so on.
pub fn special_attr(vm: &mut Vm, obj: &Value, name: &str) -> PyResult<Option<Value>> {
    if name == "__class__" {
        return Ok(Some(Value::Class(vm.type_of(obj))));
    }
    Ok(match obj {
        Value::Instance(i) => {
            if let Some(data) = i.exception() {
                let d = data.borrow();
                match name {
                    "args" => return Ok(Some(d.args.clone())),
                    "__cause__" => return Ok(Some(d.cause.clone())),
                    "__context__" => return Ok(Some(d.context.clone())),
                    "__suppress_context__" => return Ok(Some(Value::Bool(d.suppress_context))),
                    "__traceback__" => {
                        return Ok(Some(if d.traceback.is_empty() {
                            Value::None
                        } else {
                            Value::Bool(true)
                        }))
                    }
                    "__notes__" if !d.notes.is_empty() => {
                        return Ok(Some(Value::list(
                            d.notes.iter().map(|n| Value::str(n)).collect(),
                        )))
                    }
                    _ => {}
                }
                drop(d);
                if vm.isinstance(obj, &vm.exc_class("BaseExceptionGroup")) {
                    match name {
                        "exceptions" => {
                            return Ok(Some(Value::tuple(crate::exceptions::group_items(obj))))
                        }
                        "message" => return Ok(Some(crate::exceptions::group_message(obj))),
                        _ => {}
                    }
                }
                if vm.isinstance(obj, &vm.exc_class("StopIteration")) && name == "value" {
                    let args = data.borrow().args.clone();
                    return Ok(Some(match &args {
                        Value::Tuple(t) if !t.is_empty() => t[0].clone(),
                        _ => Value::None,
                    }));
                }
                if vm.isinstance(obj, &vm.exc_class("SystemExit")) && name == "code" {
                    let args = data.borrow().args.clone();
                    return Ok(Some(match &args {
                        Value::Tuple(t) if t.len() == 1 => t[0].clone(),
                        Value::Tuple(t) if t.is_empty() => Value::None,
                        other => other.clone(),
                    }));
                }
                if vm.isinstance(obj, &vm.exc_class("OSError")) {
                    let args = data.borrow().args.clone();
                    if let Value::Tuple(t) = &args {
                        match name {
                            "errno" => {
                                return Ok(Some(if t.len() >= 2 {
                                    t[0].clone()
                                } else {
                                    Value::None
                                }))
                            }
                            "strerror" => {
                                return Ok(Some(if t.len() >= 2 {
                                    t[1].clone()
                                } else {
                                    Value::None
                                }))
                            }
                            "filename" => {
                                return Ok(Some(t.get(2).cloned().unwrap_or(Value::None)))
                            }
                            _ => {}
                        }
                    }
                }
                if matches!(name, "name" | "obj")
                    && vm.isinstance(obj, &vm.exc_class("AttributeError"))
                {
                    return Ok(Some(Value::None));
                }
            }
            match name {
                "__dict__" => {
                    let d = crate::ops::dict_from_attrs(vm, &i.dict.borrow())?;
                    // Writes through the dict (`obj.__dict__[k] = v`, `.update(...)`) reach `obj`.
                    if let Value::Dict(dd) = &d {
                        dd.borrow_mut().set_owner(Rc::downgrade(i));
                    }
                    Some(d)
                }
                "__module__" => i.class.lookup("__module__"),
                "__doc__" => Some(i.class.lookup("__doc__").unwrap_or(Value::None)),
                _ => None,
            }
        }
        Value::Class(c) => match name {
            "__name__" => Some(Value::Str(c.name.clone())),
            "__qualname__" => Some(Value::Str(c.qualname.borrow().clone())),
            "__module__" => Some(Value::str("builtins")),
            "__mro__" => {
                let mut v = vec![obj.clone()];
                v.extend(c.mro.iter().map(|m| Value::Class(m.clone())));
                Some(Value::tuple(v))
            }
            "__bases__" => Some(Value::tuple(
                c.bases.iter().map(|b| Value::Class(b.clone())).collect(),
            )),
            "__base__" => Some(
                c.bases
                    .first()
                    .map(|b| Value::Class(b.clone()))
                    .unwrap_or(Value::None),
            ),
            "__doc__" => Some(Value::None),
            "__dict__" => {
                let items = crate::ops::attr_items(&c.dict.borrow());
                let d = crate::ops::dict_from_attr_items(vm, items)?;
                Some(d)
            }
            "__annotations__" => Some(vm.new_dict()),
            _ => None,
        },
        Value::Function(f) => match name {
            "__name__" => Some(Value::Str(f.name.borrow().clone())),
            "__qualname__" => Some(Value::Str(f.qualname.borrow().clone())),
            "__module__" => Some(f.globals.get("__name__").unwrap_or(Value::None)),
            "__doc__" => Some(
                f.dict
                    .borrow()
                    .get("__doc__")
                    .cloned()
                    .unwrap_or_else(|| docstring(&f.code)),
            ),
            "__defaults__" => Some(if f.defaults.is_empty() {
                Value::None
            } else {
                Value::tuple(f.defaults.clone())
            }),
            "__kwdefaults__" => Some(if f.kwdefaults.is_empty() {
                Value::None
            } else {
                let d = vm.new_dict();
                for (k, v) in &f.kwdefaults {
                    crate::ops::dict_set(vm, &d, Value::Str(k.clone()), v.clone())?;
                }
                d
            }),
            "__closure__" => Some(if f.closure.is_empty() {
                Value::None
            } else {
                Value::tuple(f.closure.iter().map(|c| Value::Cell(c.clone())).collect())
            }),
            "__code__" => Some(Value::Code(f.code.clone())),
            "__globals__" => Some(Value::Module(f.globals.clone())),
            "__annotations__" => {
                let existing = f.dict.borrow().get("__annotations__").cloned();
                match existing {
                    Some(d) => Some(d),
                    None => {
                        // Created on first access and kept, as CPython does.
                        let d = vm.new_dict();
                        f.dict.borrow_mut().insert(
                            crate::value::StrKey(vm.intern("__annotations__")),
                            d.clone(),
                        );
                        Some(d)
                    }
                }
            }
            "__dict__" => {
                let d = crate::ops::dict_from_attrs(vm, &f.dict.borrow())?;
                Some(d)
            }
            _ => f.dict.borrow().get(name).cloned(),
        },
        Value::Native(n) => match name {
            "__name__" | "__qualname__" => Some(Value::Str(n.name.clone())),
            "__doc__" => Some(Value::None),
            "__module__" => Some(Value::str("builtins")),
            _ => None,
        },
        Value::BoundMethod(m) => match name {
            "__self__" => Some(m.receiver.clone()),
            "__func__" => Some(m.func.clone()),
            _ => return crate::attr::try_get_attr(vm, &m.func.clone(), name),
        },
        Value::Module(m) => match name {
            "__name__" => Some(Value::Str(m.name.clone())),
            _ => None,
        },
        Value::Code(c) => match name {
            "co_name" => Some(Value::Str(c.name.clone())),
            "co_filename" => Some(Value::str(&c.source.name)),
            "co_firstlineno" => Some(Value::Int(c.first_line as i64)),
            "co_argcount" => Some(Value::Int(c.argcount as i64)),
            "co_varnames" => Some(Value::tuple(
                c.varnames.iter().map(|n| Value::Str(n.clone())).collect(),
            )),
            _ => None,
        },
        Value::Int(_) | Value::BigInt(_) | Value::Bool(_) => match name {
            "real" | "numerator" => Some(match obj {
                Value::Bool(b) => Value::Int(*b as i64),
                o => o.clone(),
            }),
            "imag" => Some(Value::Int(0)),
            "denominator" => Some(Value::Int(1)),
            _ => None,
        },
        Value::Float(f) => match name {
            "real" => Some(Value::Float(*f)),
            "imag" => Some(Value::Float(0.0)),
            _ => None,
        },
        Value::Slice(s) => match name {
            "start" => Some(s.start.clone()),
            "stop" => Some(s.stop.clone()),
            "step" => Some(s.step.clone()),
            _ => None,
        },
        Value::Range(r) => match name {
            "start" => Some(Value::Int(r.start)),
            "stop" => Some(Value::Int(r.stop)),
            "step" => Some(Value::Int(r.step)),
            _ => None,
        },
        Value::Property(p) => match name {
            "fget" => Some(p.fget.clone()),
            "fset" => Some(p.fset.clone()),
            "fdel" => Some(p.fdel.clone()),
            "__doc__" => Some(p.doc.clone()),
            _ => None,
        },
        Value::StaticMethod(f) | Value::ClassMethod(f) => match name {
            "__func__" => Some((**f).clone()),
            _ => None,
        },
        Value::Generator(g) => match name {
            "__name__" => Some(Value::Str(g.name())),
            "__qualname__" => Some(Value::Str(g.qualname())),
            "gi_running" | "cr_running" => Some(Value::Bool(
                g.state() == crate::objects::generator::GenState::Running,
            )),
            "gi_frame" | "cr_frame" => Some(
                if g.state() == crate::objects::generator::GenState::Finished {
                    Value::None
                } else {
                    Value::Bool(true)
                },
            ),
            _ => None,
        },
        _ => None,
    })
}

fn docstring(code: &crate::code::Code) -> Value {
    let _ = code;
    Value::None
}

/// A fresh native iterator value.
pub fn new_iter(it: NativeIter) -> Value {
    Value::Iterator(Rc::new(RefCell::new(it)))
}

/// Checks a native function got between `min` and `max` positional arguments.
/// Builtins whose argument count CPython checks with `_PyArg_CheckPositional`, which words
/// the error "isinstance expected 2 arguments, got 1" rather than "len() takes exactly one
/// argument (2 given)".
const EXPECTED_STYLE: &[&str] = &[
    "isinstance",
    "issubclass",
    "getattr",
    "setattr",
    "hasattr",
    "delattr",
    "divmod",
    "sorted",
    "reversed",
    "iter",
    "next",
    "anext",
    "min",
    "max",
    "filter",
    "range",
    "slice",
    "vars",
    "dir",
    "format",
    "float",
    "bool",
    "list",
    "tuple",
    "dict",
    "set",
    "frozenset",
    "input",
];

/// Fails on the first keyword argument a native function did not take out of `args`.
pub fn reject_kw(vm: &Vm, fname: &str, args: &Args) -> PyResult<()> {
    match args.kw.first() {
        Some((k, _)) => Err(vm.type_error(format!(
            "'{}' is an invalid keyword argument for {fname}()",
            k.s
        ))),
        None => Ok(()),
    }
}

pub fn check_args(vm: &Vm, name: &str, args: &Args, min: usize, max: usize) -> PyResult<()> {
    let n = args.pos.len();
    if (n < min || n > max) && EXPECTED_STYLE.contains(&name) {
        let (bound, count) = if n < min {
            (if min == max { "" } else { "at least " }, min)
        } else {
            (if min == max { "" } else { "at most " }, max)
        };
        return Err(vm.type_error(format!(
            "{name} expected {bound}{count} argument{}, got {n}",
            if count == 1 { "" } else { "s" }
        )));
    }
    if n < min || n > max {
        let msg = if min == max {
            match min {
                0 => format!("{name}() takes no arguments ({n} given)"),
                1 => format!("{name}() takes exactly one argument ({n} given)"),
                _ => format!("{name}() takes exactly {min} arguments ({n} given)"),
            }
        } else if n < min {
            format!(
                "{name}() takes at least {min} argument{} ({n} given)",
                if min == 1 { "" } else { "s" }
            )
        } else {
            format!(
                "{name}() takes at most {max} argument{} ({n} given)",
                if max == 1 { "" } else { "s" }
            )
        };
        return Err(vm.type_error(msg));
    }
    Ok(())
}

/// Checks a binary dunder (`x.__or__(y)`) got its receiver and exactly one operand.
pub fn check_one_operand(vm: &Vm, args: &Args) -> PyResult<()> {
    if args.pos.len() != 2 {
        return Err(vm.type_error(format!(
            "expected 1 argument, got {}",
            args.pos.len().saturating_sub(1)
        )));
    }
    Ok(())
}

/// True if the class is the built-in of this kind or derives from it.
pub fn is_kind(cls: &Rc<Class>, kind: BuiltinKind) -> bool {
    cls.kind == kind
}
