//! `types`: SimpleNamespace, the built-in type objects under their `types` names
//! (FunctionType, GeneratorType, ...), and the `coroutine` decorator (returns its argument: Eddy's
//! generator-based coroutines are awaited as they are).

use std::rc::Rc;

use eddy_vm::objects::class::Class;
use eddy_vm::objects::module::Module;
use eddy_vm::value::StrKey;
use eddy_vm::{ops, Args, PyResult, Value, Vm};

use crate::util::{self, s};

pub fn init(vm: &mut Vm) -> PyResult<Rc<Module>> {
    let m = Rc::new(Module::new("types"));
    m.set("SimpleNamespace", Value::Class(namespace_class(vm)));
    let t = &vm.types;
    for (name, c) in [
        ("FunctionType", &t.function),
        ("LambdaType", &t.function),
        ("BuiltinFunctionType", &t.builtin_function),
        ("BuiltinMethodType", &t.builtin_function),
        ("MethodType", &t.method),
        ("ModuleType", &t.module),
        ("GeneratorType", &t.generator),
        ("CoroutineType", &t.coroutine),
        ("AsyncGeneratorType", &t.async_generator),
        ("CodeType", &t.code),
        ("NoneType", &t.none),
        ("EllipsisType", &t.ellipsis),
        ("NotImplementedType", &t.not_implemented),
        ("CellType", &t.cell),
    ] {
        m.set(name, Value::Class(c.clone()));
    }
    util::def(vm, &m, "coroutine", |vm, a| {
        util::arity(vm, "coroutine", &a, 1, 1)?;
        let f = &a.pos[0];
        let callable = matches!(
            f,
            Value::Function(_) | Value::Native(_) | Value::BoundMethod(_) | Value::Class(_)
        ) || vm.type_of(f).lookup("__call__").is_some();
        if !callable {
            return Err(vm.type_error("types.coroutine() expects a callable"));
        }
        // A generator function's generators become awaitable (CPython's CO_ITERABLE_COROUTINE).
        if let Value::Function(func) = f {
            if func.code.flags.generator {
                ops::mark_iterable_coroutine(&func.code);
            }
        }
        Ok(f.clone())
    });
    eddy_vm::import::run_source_in(vm, &m, "<eddy types>", SOURCE)?;
    Ok(m)
}

/// The parts of `types` written in Python: MappingProxyType, a read-only view of a mapping.
const SOURCE: &str = r##"
class MappingProxyType:
    def __init__(self, mapping):
        if not hasattr(mapping, 'keys') or not hasattr(mapping, '__getitem__'):
            raise TypeError(f"mappingproxy() argument must be a mapping, not {type(mapping).__name__}")
        self._mapping = mapping

    def __getitem__(self, key):
        return self._mapping[key]

    def __setitem__(self, key, value):
        raise TypeError("'mappingproxy' object does not support item assignment")

    def __delitem__(self, key):
        raise TypeError("'mappingproxy' object does not support item deletion")

    def __iter__(self):
        return iter(self._mapping)

    def __len__(self):
        return len(self._mapping)

    def __contains__(self, key):
        return key in self._mapping

    def __eq__(self, other):
        if isinstance(other, MappingProxyType):
            other = other._mapping
        return self._mapping == other

    def __repr__(self):
        return f'mappingproxy({self._mapping!r})'

    def __str__(self):
        return str(self._mapping)

    def __or__(self, other):
        if isinstance(other, MappingProxyType):
            other = other._mapping
        return dict(self._mapping) | dict(other)

    def keys(self):
        return self._mapping.keys()

    def values(self):
        return self._mapping.values()

    def items(self):
        return self._mapping.items()

    def get(self, key, default=None):
        return self._mapping.get(key, default)

    def copy(self):
        return self._mapping.copy()


MappingProxyType.__name__ = 'mappingproxy'
MappingProxyType.__qualname__ = 'mappingproxy'
MappingProxyType.__module__ = 'builtins'
"##;

/// The SimpleNamespace class (shared with `sys.implementation`).
pub fn namespace_class(vm: &Vm) -> Rc<Class> {
    util::shared_class(vm, "SimpleNamespace", |vm| {
        let cls = util::plain_class("SimpleNamespace", "types", vm.types.object.clone());
        util::methods(
            vm,
            &cls,
            &[
                ("__init__", namespace_init),
                ("__repr__", namespace_repr),
                ("__eq__", namespace_eq),
            ],
        );
        cls.set_attr(s("__hash__"), Value::None);
        cls
    })
}

/// A SimpleNamespace holding `attrs`.
pub fn new_namespace(vm: &mut Vm, attrs: Vec<(&str, Value)>) -> PyResult<Value> {
    let cls = namespace_class(vm);
    let args = Args {
        pos: vec![],
        kw: attrs.into_iter().map(|(k, v)| (s(k), v)).collect(),
    };
    vm.call_args(&Value::Class(cls), args)
}

fn namespace_init(vm: &mut Vm, a: Args) -> PyResult<Value> {
    let Value::Instance(inst) = &a.pos[0] else {
        return Err(vm.type_error("bad namespace"));
    };
    // CPython 3.11 takes keywords only (a positional mapping arrived in 3.13).
    if a.pos.len() > 1 {
        return Err(vm.type_error("no positional arguments expected"));
    }
    for (k, v) in a.kw {
        inst.dict.borrow_mut().insert(StrKey(k), v);
    }
    Ok(Value::None)
}

fn namespace_repr(vm: &mut Vm, a: Args) -> PyResult<Value> {
    let Value::Instance(inst) = &a.pos[0] else {
        return Err(vm.type_error("bad namespace"));
    };
    let items: Vec<(String, Value)> = inst
        .dict
        .borrow()
        .iter()
        .map(|(k, v)| (k.0.s.to_string(), v.clone()))
        .collect();
    let mut parts = Vec::new();
    for (k, v) in items {
        parts.push(format!("{k}={}", ops::repr(vm, &v)?));
    }
    let name = if inst.class.name() == "SimpleNamespace" {
        "namespace".to_string()
    } else {
        inst.class.name().to_string()
    };
    Ok(Value::string(format!("{name}({})", parts.join(", "))))
}

fn namespace_eq(vm: &mut Vm, a: Args) -> PyResult<Value> {
    let (Value::Instance(x), Value::Instance(y)) = (&a.pos[0], &a.pos[1]) else {
        return Ok(Value::NotImplemented);
    };
    let cls = namespace_class(vm);
    if !x.class.is_subclass(&cls) || !y.class.is_subclass(&cls) {
        return Ok(Value::NotImplemented);
    }
    let dx = eddy_vm::attr::get_attr(vm, &a.pos[0], "__dict__")?;
    let dy = eddy_vm::attr::get_attr(vm, &a.pos[1], "__dict__")?;
    Ok(Value::Bool(ops::eq(vm, &dx, &dy)?))
}
