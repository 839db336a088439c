//! Helpers the module files share: defining module functions, converting arguments with CPython's
//! error wording, and classes implemented in Rust (their instances keep Rust state in
//! `Payload::Native`). Not a module scripts can import.

use std::cell::RefCell;
use std::rc::Rc;

use eddy_vm::attr;
use eddy_vm::objects::class::{BuiltinKind, Class, Instance, NativeState, Payload};
use eddy_vm::objects::function::NativeFn;
use eddy_vm::objects::module::Module;
use eddy_vm::ops;
use eddy_vm::value::{AttrMap, PyStr};
use eddy_vm::{Args, PyResult, Value, Vm};
use num_bigint::BigInt;
use num_traits::ToPrimitive;

/// Adds native function `name` to module `m`.
pub fn def(vm: &Vm, m: &Module, name: &str, f: NativeFn) {
    m.set(name, vm.native(name, f));
}

/// Adds several functions to a module.
pub fn defs(vm: &Vm, m: &Module, fns: &[(&str, NativeFn)]) {
    for (name, f) in fns {
        def(vm, m, name, *f);
    }
}

/// Checks the positional argument count with CPython's wording for functions of fixed arity.
pub fn arity(vm: &Vm, name: &str, a: &Args, min: usize, max: usize) -> PyResult<()> {
    let n = a.pos.len();
    if n >= min && n <= max {
        return Ok(());
    }
    // CPython names one-argument functions in full ("math.sqrt() takes exactly one argument")
    // but others by their bare name ("pow expected 2 arguments").
    let short = name.rsplit('.').next().unwrap_or(name);
    let msg = if min == max {
        match min {
            0 => format!("{name}() takes no arguments ({n} given)"),
            1 => format!("{name}() takes exactly one argument ({n} given)"),
            _ => format!("{short} expected {min} arguments, got {n}"),
        }
    } else if n < min {
        format!(
            "{short} expected at least {min} argument{}, got {n}",
            if min == 1 { "" } else { "s" }
        )
    } else {
        format!(
            "{short} expected at most {max} argument{}, got {n}",
            if max == 1 { "" } else { "s" }
        )
    };
    Err(vm.type_error(msg))
}

/// Rejects keyword arguments a function does not take.
pub fn no_kwargs(vm: &Vm, name: &str, a: &Args) -> PyResult<()> {
    match a.kw.first() {
        None => Ok(()),
        Some((k, _)) => Err(vm.type_error(format!(
            "{name}() got an unexpected keyword argument '{}'",
            k.s
        ))),
    }
}

/// A float argument: ints, bools, floats, or objects with `__float__`/`__index__`.
pub fn to_float(vm: &mut Vm, v: &Value) -> PyResult<f64> {
    match v {
        Value::Float(f) => Ok(*f),
        Value::Int(i) => Ok(*i as f64),
        Value::Bool(b) => Ok(*b as i64 as f64),
        Value::BigInt(b) => bigint_to_f64(vm, b),
        Value::Instance(_) => {
            for name in ["__float__", "__index__"] {
                if let Some(f) = vm.type_of(v).lookup(name) {
                    let r = vm.call(&f, vec![v.clone()])?;
                    return to_float(vm, &r);
                }
            }
            if let Some(p) = eddy_vm::builtins::payload_value(v) {
                if matches!(p, Value::Float(_) | Value::Int(_) | Value::BigInt(_)) {
                    return to_float(vm, &p);
                }
            }
            Err(vm.type_error(format!("must be real number, not {}", vm.type_name(v))))
        }
        _ => Err(vm.type_error(format!("must be real number, not {}", vm.type_name(v)))),
    }
}

pub fn bigint_to_f64(vm: &Vm, b: &BigInt) -> PyResult<f64> {
    match b.to_f64() {
        Some(f) if f.is_finite() => Ok(f),
        _ => Err(vm.error("OverflowError", "int too large to convert to float")),
    }
}

/// An integer argument (ints, bools, `__index__`), as a BigInt.
pub fn to_bigint(vm: &mut Vm, v: &Value) -> PyResult<BigInt> {
    if let Some(b) = ops::to_bigint(v) {
        return Ok(b);
    }
    if let Value::Instance(_) = v {
        if let Some(f) = vm.type_of(v).lookup("__index__") {
            let r = vm.call(&f, vec![v.clone()])?;
            return to_bigint(vm, &r);
        }
    }
    Err(vm.type_error(format!(
        "'{}' object cannot be interpreted as an integer",
        vm.type_name(v)
    )))
}

/// An integer argument that must fit in an i64.
pub fn to_i64(vm: &mut Vm, v: &Value) -> PyResult<i64> {
    match v {
        Value::Int(i) => Ok(*i),
        Value::Bool(b) => Ok(*b as i64),
        _ => {
            let b = to_bigint(vm, v)?;
            b.to_i64().ok_or_else(|| {
                vm.error(
                    "OverflowError",
                    "Python int too large to convert to C ssize_t",
                )
            })
        }
    }
}

/// A str argument, with `what` naming the function for the error.
pub fn to_str_arg(vm: &Vm, v: &Value, what: &str) -> PyResult<Rc<PyStr>> {
    match v {
        Value::Str(s) => Ok(s.clone()),
        _ => Err(vm.type_error(format!("{what} must be str, not {}", vm.type_name(v)))),
    }
}

/// An int from a float, as `int(f)` makes it (exact, arbitrarily large).
pub fn float_to_int(vm: &Vm, f: f64) -> PyResult<Value> {
    if f.is_nan() {
        return Err(vm.value_error("cannot convert float NaN to integer"));
    }
    if f.is_infinite() {
        return Err(vm.error("OverflowError", "cannot convert float infinity to integer"));
    }
    if f.abs() < 9.0e18 {
        return Ok(Value::Int(f as i64));
    }
    use num_traits::FromPrimitive;
    Ok(Value::from_bigint(BigInt::from_f64(f).unwrap_or_default()))
}

/// Gets keyword argument `name` or the positional argument at `index`.
pub fn arg(a: &mut Args, index: usize, name: &str) -> Option<Value> {
    a.take_kw(name).or_else(|| a.pos.get(index).cloned())
}

/// A str value for a name.
pub fn s(name: &str) -> Rc<PyStr> {
    Rc::new(PyStr::new(name))
}

/// Reads an attribute, or None.
pub fn getattr_opt(vm: &mut Vm, obj: &Value, name: &str) -> PyResult<Option<Value>> {
    attr::try_get_attr(vm, obj, name)
}

// ---- classes implemented in Rust ----

/// A class whose instances are made by native `__new__` (so `cls(...)` works and scripts may
/// subclass it). `module` becomes its `__module__`, for reprs like `<class 'collections.deque'>`.
pub fn native_class(
    vm: &Vm,
    name: &str,
    module: &str,
    base: Option<Rc<Class>>,
    new: NativeFn,
) -> Rc<Class> {
    let base = base.unwrap_or_else(|| vm.types.object.clone());
    let kind = if base.kind == BuiltinKind::Object {
        BuiltinKind::Object
    } else {
        base.kind
    };
    let cls = eddy_vm::types::new_class(name, vec![base], kind, true);
    // A native __new__ carrying data counts as a custom constructor (see `call::is_script_new`).
    let new = vm.native_with("__new__", new, Value::None);
    cls.set_attr(s("__new__"), Value::StaticMethod(Rc::new(new)));
    cls.set_attr(
        s("__init__"),
        vm.native("__init__", |_vm, _a| Ok(Value::None)),
    );
    cls.set_attr(s("__module__"), Value::str(module));
    cls
}

/// A class with no constructor of its own (instances are made by Rust code).
pub fn plain_class(name: &str, module: &str, base: Rc<Class>) -> Rc<Class> {
    let cls = eddy_vm::types::new_class(name, vec![base], BuiltinKind::Object, true);
    cls.set_attr(s("__module__"), Value::str(module));
    cls
}

pub fn method(vm: &Vm, cls: &Rc<Class>, name: &str, f: NativeFn) {
    cls.set_attr(s(name), vm.native(name, f));
}

pub fn methods(vm: &Vm, cls: &Rc<Class>, fns: &[(&str, NativeFn)]) {
    for (name, f) in fns {
        method(vm, cls, name, *f);
    }
}

/// The class from a native `__new__`'s arguments: `(data, cls, *args)`; removes both.
pub fn new_cls(vm: &Vm, a: &mut Args) -> PyResult<Rc<Class>> {
    if a.pos.len() < 2 {
        return Err(vm.type_error("__new__(): not enough arguments"));
    }
    a.pos.remove(0);
    match a.pos.remove(0) {
        Value::Class(c) => Ok(c),
        other => Err(vm.type_error(format!(
            "__new__(X): X is not a type object ({})",
            vm.type_name(&other)
        ))),
    }
}

/// A new instance of `cls` keeping `state`.
pub fn new_native<T: NativeState>(cls: &Rc<Class>, state: T) -> Value {
    let inst = Instance {
        class: cls.clone(),
        dict: eddy_vm::objects::class::InstDict::default(),
        payload: Payload::Native(RefCell::new(Box::new(state))),
    };
    eddy_vm::gc::track_instance(Rc::new(inst))
}

/// Runs `f` on the Rust state of `v` if it is an instance keeping a `T`.
pub fn with_state<T: 'static, R>(v: &Value, f: impl FnOnce(&mut T) -> R) -> Option<R> {
    let Value::Instance(i) = v else { return None };
    let Payload::Native(cell) = &i.payload else {
        return None;
    };
    let mut b = cell.try_borrow_mut().ok()?;
    let t = b.as_any_mut().downcast_mut::<T>()?;
    Some(f(t))
}

/// Like `with_state`, with a TypeError naming `what` when `v` is not the expected kind.
pub fn state<T: 'static, R>(
    vm: &Vm,
    v: &Value,
    what: &str,
    f: impl FnOnce(&mut T) -> R,
) -> PyResult<R> {
    match with_state(v, f) {
        Some(r) => Ok(r),
        None => Err(vm.type_error(format!(
            "descriptor requires a '{what}' object but received a '{}'",
            vm.type_name(v)
        ))),
    }
}

/// Implements `NativeState` for a struct whose values are listed by a closure-like body.
#[macro_export]
macro_rules! native_state {
    ($t:ty, |$s:ident, $f:ident| $traverse:block, |$c:ident, $out:ident| $clear:block) => {
        impl eddy_vm::objects::class::NativeState for $t {
            fn traverse(&self, $f: &mut dyn FnMut(&eddy_vm::Value)) {
                let $s = self;
                $traverse
            }
            fn clear(&mut self, $out: &mut Vec<eddy_vm::Value>) {
                let $c = self;
                $clear
            }
            fn as_any(&self) -> &dyn std::any::Any {
                self
            }
            fn as_any_mut(&mut self) -> &mut dyn std::any::Any {
                self
            }
        }
    };
}

/// `StopIteration` with no value, for native `__next__` methods at their end.
pub fn stop(vm: &Vm) -> Value {
    vm.stop_iteration(Value::None)
}

/// An iterator's `__iter__`: returns itself.
pub fn iter_self(_vm: &mut Vm, a: Args) -> PyResult<Value> {
    Ok(a.pos[0].clone())
}

/// The repr of a value, as a String.
pub fn repr(vm: &mut Vm, v: &Value) -> PyResult<String> {
    ops::repr(vm, v)
}

/// Keys and values of a dict or dict-subclass instance, in order.
pub fn dict_items(v: &Value) -> Option<Vec<(Value, Value)>> {
    ops::dict_of(v).map(|d| d.borrow().items())
}

thread_local! {
    static SHARED: RefCell<std::collections::HashMap<&'static str, Rc<Class>>> = RefCell::new(std::collections::HashMap::new());
}

/// A Rust-defined class made once per thread and shared by the modules that need it (so
/// `type(sys.implementation) is types.SimpleNamespace` holds).
pub fn shared_class(vm: &Vm, key: &'static str, build: fn(&Vm) -> Rc<Class>) -> Rc<Class> {
    if let Some(c) = SHARED.with(|s| s.borrow().get(key).cloned()) {
        return c;
    }
    let c = build(vm);
    SHARED.with(|s| s.borrow_mut().insert(key, c.clone()));
    c
}

/// A tuple subclass whose items are also named attributes, like CPython's struct sequences
/// (`sys.version_info`, `time.struct_time`): repr `name(field=value, ...)`.
pub fn struct_seq_class(vm: &Vm, name: &str, module: &str) -> Rc<Class> {
    let cls =
        eddy_vm::types::new_class(name, vec![vm.types.tuple.clone()], BuiltinKind::Tuple, true);
    cls.set_attr(s("__module__"), Value::str(module));
    method(vm, &cls, "__repr__", struct_seq_repr);
    cls
}

/// An instance of a struct-sequence class holding `fields` (shown in the repr) and `extra`
/// attributes that are not tuple items.
pub fn struct_seq(cls: &Rc<Class>, fields: &[(&str, Value)], extra: &[(&str, Value)]) -> Value {
    let mut dict = AttrMap::default();
    for (k, v) in fields.iter().chain(extra) {
        dict.insert(eddy_vm::value::StrKey(s(k)), v.clone());
    }
    let names: Vec<Value> = fields.iter().map(|(k, _)| Value::str(k)).collect();
    dict.insert(
        eddy_vm::value::StrKey(s("_eddy_fields")),
        Value::tuple(names),
    );
    let items = match Value::tuple(fields.iter().map(|(_, v)| v.clone()).collect()) {
        Value::Tuple(t) => t,
        _ => unreachable!("Value::tuple makes a tuple"),
    };
    let inst = Instance {
        class: cls.clone(),
        dict: eddy_vm::objects::class::InstDict::new(dict),
        payload: Payload::Tuple(items),
    };
    eddy_vm::gc::track_instance(Rc::new(inst))
}

fn struct_seq_repr(vm: &mut Vm, a: Args) -> PyResult<Value> {
    let v = &a.pos[0];
    let Value::Instance(i) = v else {
        return Err(vm.type_error("bad struct sequence"));
    };
    let names = i.get_own("_eddy_fields").unwrap_or(Value::None);
    let Value::Tuple(names) = names else {
        return Err(vm.type_error("bad struct sequence"));
    };
    let Payload::Tuple(items) = &i.payload else {
        return Err(vm.type_error("bad struct sequence"));
    };
    let mut parts = Vec::new();
    for (n, item) in names.iter().zip(items.iter()) {
        parts.push(format!(
            "{}={}",
            n.as_str().unwrap_or("?"),
            ops::repr(vm, item)?
        ));
    }
    let module = i
        .class
        .lookup("__module__")
        .and_then(|m| m.as_str().map(String::from))
        .unwrap_or_default();
    let prefix = if module.is_empty() {
        String::new()
    } else {
        format!("{module}.")
    };
    Ok(Value::string(format!(
        "{prefix}{}({})",
        i.class.name(),
        parts.join(", ")
    )))
}

thread_local! {
    static REPR_STACK: RefCell<Vec<usize>> = const { RefCell::new(Vec::new()) };
}

/// Marks an object as being repr'd, so a container that contains itself prints `[...]`.
pub struct ReprGuard(usize);

impl ReprGuard {
    /// None when `v` is already being repr'd further up.
    pub fn enter(v: &Value) -> Option<ReprGuard> {
        let id = v.ptr_id()?;
        REPR_STACK.with(|s| {
            let mut s = s.borrow_mut();
            if s.contains(&id) {
                None
            } else {
                s.push(id);
                Some(ReprGuard(id))
            }
        })
    }
}

impl Drop for ReprGuard {
    fn drop(&mut self) {
        REPR_STACK.with(|s| s.borrow_mut().retain(|x| *x != self.0));
    }
}

/// The dict storage of a dict or dict-subclass instance, with a TypeError otherwise.
pub fn dict_data(vm: &Vm, v: &Value) -> PyResult<Rc<eddy_vm::objects::dict::PyDict>> {
    ops::dict_of(v).ok_or_else(|| {
        vm.type_error(format!(
            "descriptor requires a 'dict' object but received a '{}'",
            vm.type_name(v)
        ))
    })
}
