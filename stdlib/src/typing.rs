//! `typing`: the names scripts import for annotations. They are placeholders: subscriptable
//! (`List[int]`, `Dict[str, Any]`), printable like CPython's (`typing.List[int]`), usable as
//! bases (`Generic[T]`, `Protocol`: the class statement skips them) and callable where CPython's
//! are (`cast`, `TypeVar`, `NewType`, decorators). No type checking happens at run time.

use std::rc::Rc;

use eddy_vm::objects::class::Class;
use eddy_vm::objects::module::Module;
use eddy_vm::{ops, Args, PyResult, Value, Vm};

use crate::native_state;
use crate::util::{self, s};

mod classes;

/// A typing placeholder: its display name (`List`, `Dict[str, int]`, `~T`).
struct Alias {
    name: String,
    /// The built-in class it stands for, when it has one (`List` is `list`), for calls.
    origin: Value,
    /// What it was subscripted with (`Optional[int]`: int and NoneType), for `get_args` and
    /// a union's instance checks.
    args: Vec<Value>,
}

native_state!(
    Alias,
    |st, f| {
        f(&st.origin);
        st.args.iter().for_each(&mut *f);
    },
    |st, out| {
        out.push(std::mem::replace(&mut st.origin, Value::None));
        out.append(&mut st.args);
    }
);

const FORMS: &[&str] = &[
    "Any",
    "Union",
    "Optional",
    "Callable",
    "Tuple",
    "Type",
    "Iterable",
    "Iterator",
    "Generator",
    "Sequence",
    "MutableSequence",
    "Mapping",
    "MutableMapping",
    "Awaitable",
    "Coroutine",
    "AsyncIterator",
    "AsyncIterable",
    "AsyncGenerator",
    "Literal",
    "Final",
    "ClassVar",
    "Annotated",
    "Self",
    "NoReturn",
    "Never",
    "TypeAlias",
    "Concatenate",
    "Hashable",
    "Sized",
    "Collection",
    "Container",
    "Reversible",
    "AbstractSet",
    "MutableSet",
    "SupportsInt",
    "SupportsFloat",
    "SupportsAbs",
    "SupportsIndex",
    "SupportsRound",
    "SupportsBytes",
    "SupportsComplex",
    "IO",
    "TextIO",
    "BinaryIO",
    "Pattern",
    "Match",
    "AnyStr",
    "ContextManager",
    "AsyncContextManager",
    "KeysView",
    "ValuesView",
    "ItemsView",
    "MappingView",
    "ByteString",
    "Required",
    "NotRequired",
    "Unpack",
    "TypeGuard",
    "LiteralString",
    "ChainMap",
];

pub fn init(vm: &mut Vm) -> PyResult<Rc<Module>> {
    let m = Rc::new(Module::new("typing"));
    let cls = alias_class(vm);
    for name in FORMS {
        m.set(
            name,
            util::new_native(
                &cls,
                Alias {
                    name: format!("typing.{name}"),
                    origin: Value::None,
                    args: Vec::new(),
                },
            ),
        );
    }
    let t = &vm.types;
    let origins = [
        ("List", &t.list),
        ("Dict", &t.dict),
        ("Set", &t.set),
        ("FrozenSet", &t.frozenset),
    ];
    for (name, origin) in origins {
        m.set(
            name,
            util::new_native(
                &cls,
                Alias {
                    name: format!("typing.{name}"),
                    origin: Value::Class(origin.clone()),
                    args: Vec::new(),
                },
            ),
        );
    }
    m.set("Text", Value::Class(vm.types.str_.clone()));
    let collections = eddy_vm::import::import_module(vm, "collections")?;
    for (name, target) in [
        ("Deque", "deque"),
        ("DefaultDict", "defaultdict"),
        ("Counter", "Counter"),
        ("OrderedDict", "OrderedDict"),
    ] {
        let origin = eddy_vm::attr::get_attr(vm, &collections, target)?;
        m.set(
            name,
            util::new_native(
                &cls,
                Alias {
                    name: format!("typing.{name}"),
                    origin,
                    args: Vec::new(),
                },
            ),
        );
    }
    m.set("TYPE_CHECKING", Value::Bool(false));
    util::defs(
        vm,
        &m,
        &[
            ("cast", |vm, a| {
                util::arity(vm, "cast", &a, 2, 2)?;
                Ok(a.pos[1].clone())
            }),
            ("TypeVar", type_var),
            ("ParamSpec", type_var),
            ("TypeVarTuple", type_var),
            ("NewType", new_type),
            ("overload", identity),
            ("final", identity),
            ("no_type_check", identity),
            ("dataclass_transform", |vm, _a| {
                Ok(vm.native("decorator", identity))
            }),
            ("get_type_hints", |vm, _a| Ok(vm.new_dict())),
            ("get_origin", |vm, a| {
                util::arity(vm, "get_origin", &a, 1, 1)?;
                Ok(
                    util::with_state(&a.pos[0], |al: &mut Alias| al.origin.clone())
                        .unwrap_or(Value::None),
                )
            }),
            ("get_args", |vm, a| {
                util::arity(vm, "get_args", &a, 1, 1)?;
                let args = util::with_state(&a.pos[0], |al: &mut Alias| al.args.clone());
                Ok(Value::tuple(args.unwrap_or_default()))
            }),
            ("assert_never", |vm, a| {
                let r = a
                    .pos
                    .first()
                    .map(|v| ops::repr(vm, v))
                    .transpose()?
                    .unwrap_or_default();
                Err(vm.error(
                    "AssertionError",
                    format!("Expected code to be unreachable, but got: {r}"),
                ))
            }),
            ("reveal_type", |_vm, a| {
                Ok(a.pos.first().cloned().unwrap_or(Value::None))
            }),
        ],
    );
    classes::install(vm, &m)?;
    Ok(m)
}

fn identity(vm: &mut Vm, a: Args) -> PyResult<Value> {
    util::arity(vm, "decorator", &a, 1, 1)?;
    Ok(a.pos[0].clone())
}

fn alias_class(vm: &Vm) -> Rc<Class> {
    util::shared_class(vm, "_TypingAlias", |vm| {
        let cls = util::plain_class("_SpecialForm", "typing", vm.types.object.clone());
        util::methods(
            vm,
            &cls,
            &[
                ("__getitem__", alias_getitem),
                ("__repr__", |vm, a| {
                    Ok(Value::string(util::state(
                        vm,
                        &a.pos[0],
                        "typing alias",
                        |al: &mut Alias| al.name.clone(),
                    )?))
                }),
                ("__call__", alias_call),
                // Two aliases are equal when they spell the same type (`Optional[int]` twice).
                ("__eq__", |vm, a| {
                    if vm.type_of(&a.pos[0]).name() != vm.type_of(&a.pos[1]).name() {
                        return Ok(Value::NotImplemented);
                    }
                    let (x, y) = (ops::repr(vm, &a.pos[0])?, ops::repr(vm, &a.pos[1])?);
                    Ok(Value::Bool(x == y))
                }),
                ("__hash__", |vm, a| {
                    let r = ops::repr(vm, &a.pos[0])?;
                    Ok(Value::Int(ops::hash(vm, &Value::string(r))?))
                }),
                ("__or__", |vm, a| union_of(vm, &a)),
                ("__ror__", |vm, a| union_of(vm, &a)),
                ("__mro_entries__", |_vm, _a| Ok(Value::tuple(vec![]))),
                ("__instancecheck__", |vm, a| {
                    let cls = runtime_class(vm, &a.pos[0], "isinstance")?;
                    let t = vm.type_of(&a.pos[1]);
                    builtin_check(vm, Value::Class(t), cls)
                }),
                ("__subclasscheck__", |vm, a| {
                    let cls = runtime_class(vm, &a.pos[0], "issubclass")?;
                    builtin_check(vm, a.pos[1].clone(), cls)
                }),
            ],
        );
        cls
    })
}

/// The class an unsubscripted alias checks against (`typing.List` is `list`, `typing.Iterable`
/// is `collections.abc.Iterable`, imported then), or CPython's TypeError for the rest.
fn runtime_class(vm: &mut Vm, alias: &Value, fname: &str) -> PyResult<Value> {
    let (name, origin, args) = util::state(vm, alias, "typing alias", |al: &mut Alias| {
        (al.name.clone(), al.origin.clone(), al.args.clone())
    })?;
    // A union checks against its members (`isinstance(x, Optional[int])`, Python 3.10+).
    if name.starts_with("typing.Union[") || name.starts_with("typing.Optional[") {
        return Ok(Value::tuple(args));
    }
    if name.contains('[') {
        return Err(
            vm.type_error("Subscripted generics cannot be used with class and instance checks")
        );
    }
    if matches!(origin, Value::Class(_)) {
        return Ok(origin);
    }
    let short = name.strip_prefix("typing.").unwrap_or(&name);
    let builtin = match short {
        "Tuple" => Some(vm.types.tuple.clone()),
        "Type" => Some(vm.types.type_.clone()),
        _ => None,
    };
    if let Some(c) = builtin {
        return Ok(Value::Class(c));
    }
    // The rest that have a runtime class are collections.abc's, under the same name but one.
    let abc_name = if short == "AbstractSet" { "Set" } else { short };
    let abc = eddy_vm::import::import_module(vm, "collections.abc")?;
    if let Value::Module(m) = &abc {
        if let Some(c @ Value::Class(_)) = m.get(abc_name) {
            return Ok(c);
        }
    }
    Err(vm.type_error(format!("{name} cannot be used with {fname}()")))
}

/// `issubclass(subject, cls)`, the builtin (isinstance passes the object's type).
fn builtin_check(vm: &mut Vm, subject: Value, cls: Value) -> PyResult<Value> {
    let f = vm.builtins.get("issubclass").unwrap_or(Value::None);
    vm.call(&f, vec![subject, cls])
}

/// How an annotation argument prints inside `typing.X[...]`: classes by name, None as None.
fn arg_text(vm: &mut Vm, v: &Value) -> PyResult<String> {
    Ok(match v {
        Value::Class(c) => ops::class_display_name(c),
        Value::None => "None".into(),
        Value::Ellipsis => "...".into(),
        Value::List(l) => {
            let items = l.borrow().clone();
            let mut parts = Vec::new();
            for i in &items {
                parts.push(arg_text(vm, i)?);
            }
            format!("[{}]", parts.join(", "))
        }
        other => ops::repr(vm, other)?,
    })
}

fn alias_getitem(vm: &mut Vm, a: Args) -> PyResult<Value> {
    util::arity(vm, "__getitem__", &a, 2, 2)?;
    let (name, origin) = util::state(vm, &a.pos[0], "typing alias", |al: &mut Alias| {
        (al.name.clone(), al.origin.clone())
    })?;
    let items = match &a.pos[1] {
        Value::Tuple(t) => t.to_vec(),
        v => vec![v.clone()],
    };
    let mut parts = Vec::new();
    for i in &items {
        parts.push(arg_text(vm, i)?);
    }
    let text = match name.as_str() {
        "typing.Optional" => format!("typing.Optional[{}]", parts.join(", ")),
        // CPython prints a union of one type and None as Optional (so the two compare equal).
        "typing.Union" if parts.len() == 2 && parts.iter().any(|p| p == "None") => {
            let other = parts.iter().find(|p| *p != "None").cloned();
            format!(
                "typing.Optional[{}]",
                other.unwrap_or_else(|| "None".into())
            )
        }
        _ => format!("{name}[{}]", parts.join(", ")),
    };
    let mut args = items;
    if name == "typing.Optional" {
        args.push(Value::None);
    }
    for a in args.iter_mut() {
        // As typing stores them: None is NoneType.
        if a.is_none() {
            *a = Value::Class(vm.types.none.clone());
        }
    }
    let cls = alias_class(vm);
    Ok(util::new_native(
        &cls,
        Alias {
            name: text,
            origin,
            args,
        },
    ))
}

fn union_of(vm: &mut Vm, a: &Args) -> PyResult<Value> {
    let mut parts = Vec::new();
    for v in &a.pos {
        parts.push(arg_text(vm, v)?);
    }
    let cls = alias_class(vm);
    Ok(util::new_native(
        &cls,
        Alias {
            name: parts.join(" | "),
            origin: Value::None,
            args: Vec::new(),
        },
    ))
}

fn alias_call(vm: &mut Vm, mut a: Args) -> PyResult<Value> {
    let this = a.pos.remove(0);
    let (name, origin) = util::state(vm, &this, "typing alias", |al: &mut Alias| {
        (al.name.clone(), al.origin.clone())
    })?;
    let short = name.trim_start_matches("typing.").to_string();
    if origin.is_none() {
        return Err(vm.type_error(format!("Cannot instantiate typing.{short}")));
    }
    if let Value::Class(c) = &origin {
        if !c.is_user {
            return Err(vm.type_error(format!(
                "Type {short} cannot be instantiated; use {}() instead",
                c.name()
            )));
        }
    }
    vm.call_args(&origin, a)
}

fn type_var(vm: &mut Vm, mut a: Args) -> PyResult<Value> {
    let name = util::arg(&mut a, 0, "name")
        .ok_or_else(|| vm.type_error("TypeVar() missing required argument 'name'"))?;
    let name = ops::to_str(vm, &name)?;
    let cls = alias_class(vm);
    let tv = util::new_native(
        &cls,
        Alias {
            name: format!("~{name}"),
            origin: Value::None,
            args: Vec::new(),
        },
    );
    if let Value::Instance(i) = &tv {
        i.dict
            .borrow_mut()
            .insert(eddy_vm::value::StrKey(s("__name__")), Value::string(name));
    }
    Ok(tv)
}

fn new_type(vm: &mut Vm, a: Args) -> PyResult<Value> {
    util::arity(vm, "NewType", &a, 2, 2)?;
    let name = ops::to_str(vm, &a.pos[0])?;
    let f = vm.native_with(
        &name,
        |_vm, a| Ok(a.pos.get(1).cloned().unwrap_or(Value::None)),
        a.pos[1].clone(),
    );
    Ok(f)
}
