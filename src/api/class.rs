//! Host types as script classes. A Rust value of type `T` lives inside a script object (its
//! native payload); the class gets methods (`Fn(&mut T, A, ..) -> R`), read-only or writable
//! attributes (getters and setters) and optionally a constructor. [`Obj`] turns a `T` into such
//! an object (a host function returning `Obj(t)` hands scripts a new one), and a method's
//! receiver is checked to hold a `T`.

use std::any::TypeId;
use std::cell::RefCell;
use std::collections::HashMap;
use std::marker::PhantomData;
use std::rc::Rc;

use eddy_vm::objects::class::{BuiltinKind, Class, Instance, NativeState, Payload};
use eddy_vm::objects::misc::Property;
use eddy_vm::{PyResult, Value};

use super::convert::{FromValue, IntoValue};
use super::host_fn::{arg, arity_error, erase, native_value, HostFn, HostResult};
use super::{RawVm, Vm};

thread_local! {
    /// The class registered for each host type on this thread.
    static CLASSES: RefCell<HashMap<TypeId, Rc<Class>>> = RefCell::new(HashMap::new());
}

/// The payload of a host object.
struct HostObject<T>(T);

impl<T: 'static> NativeState for HostObject<T> {
    fn traverse(&self, _f: &mut dyn FnMut(&Value)) {}
    fn clear(&mut self, _out: &mut Vec<Value>) {}
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
    fn as_any_mut(&mut self) -> &mut dyn std::any::Any {
        self
    }
}

/// A host value handed to scripts as an object of its registered class.
///
/// ```
/// use eddy::Obj;
/// struct Counter { n: i64 }
/// let mut vm = eddy::Vm::new();
/// vm.module("host").class::<Counter>("Counter", |c| {
///     c.constructor(|start: i64| Obj(Counter { n: start }))
///         .method("add", |c: &mut Counter, k: i64| { c.n += k; c.n })
///         .getter("value", |c: &Counter| c.n)
/// });
/// vm.run("from host import Counter\nc = Counter(10)\nc.add(5)\nv = c.value").unwrap();
/// assert_eq!(vm.get_global::<i64>("v").unwrap(), 15);
/// ```
pub struct Obj<T>(pub T);

impl<T: 'static> IntoValue for Obj<T> {
    fn into_value(self, vm: &mut RawVm) -> PyResult<Value> {
        let Some(class) = CLASSES.with(|c| c.borrow().get(&TypeId::of::<T>()).cloned()) else {
            return Err(vm.type_error(format!(
                "host type {} has no registered class",
                std::any::type_name::<T>()
            )));
        };
        let inst = Instance {
            class,
            dict: Default::default(),
            payload: Payload::Native(RefCell::new(Box::new(HostObject(self.0)))),
        };
        Ok(eddy_vm::gc::track_instance(Rc::new(inst)))
    }
}

/// Runs `f` on the `T` inside a script object, or raises `TypeError`.
pub fn with_host<T: 'static, R>(vm: &RawVm, v: &Value, f: impl FnOnce(&mut T) -> R) -> PyResult<R> {
    let wrong = || {
        vm.type_error(format!(
            "expected a {} object, got {}",
            short_name::<T>(),
            vm.type_name(v)
        ))
    };
    let Value::Instance(i) = v else {
        return Err(wrong());
    };
    let Payload::Native(cell) = &i.payload else {
        return Err(wrong());
    };
    let mut state = cell
        .try_borrow_mut()
        .map_err(|_| vm.error("RuntimeError", "host object is already in use"))?;
    match state.as_any_mut().downcast_mut::<HostObject<T>>() {
        Some(h) => Ok(f(&mut h.0)),
        None => Err(wrong()),
    }
}

fn short_name<T>() -> &'static str {
    let full = std::any::type_name::<T>();
    full.rsplit("::").next().unwrap_or(full)
}

/// A method of a host type: `Fn(&mut T, A, ..) -> R`.
pub trait HostMethod<T, Marker>: 'static {
    /// Calls the method; `args[0]` is the receiver.
    fn call(&self, vm: &mut RawVm, name: &str, args: &[Value]) -> PyResult<Value>;
}

macro_rules! method_impls {
    ($n:literal; $($a:ident $i:tt),*) => {
        impl<T: 'static, Func, R, $($a),*> HostMethod<T, ($($a,)*)> for Func
        where
            Func: Fn(&mut T, $($a),*) -> R + 'static,
            R: HostResult,
            $($a: FromValue,)*
        {
            #[allow(non_snake_case)]
            fn call(&self, vm: &mut RawVm, name: &str, args: &[Value]) -> PyResult<Value> {
                if args.len() != $n + 1 {
                    return Err(arity_error(vm, name, $n, args.len().saturating_sub(1)));
                }
                $(let $a = arg::<$a>(vm, name, $i, &args[$i + 1])?;)*
                let r = with_host(vm, &args[0], |this: &mut T| (self)(this, $($a),*))?;
                r.into_result(vm)
            }
        }
    };
}

method_impls!(0;);
method_impls!(1; A 0);
method_impls!(2; A 0, B 1);
method_impls!(3; A 0, B 1, C 2);
method_impls!(4; A 0, B 1, C 2, D 3);
method_impls!(5; A 0, B 1, C 2, D 3, E 4);

/// Builds the script class of a host type `T`.
pub struct ClassBuilder<T> {
    cls: Rc<Class>,
    _t: PhantomData<T>,
    entries: Vec<(String, Value)>,
}

impl<T: 'static> ClassBuilder<T> {
    pub(crate) fn new(vm: &RawVm, name: &str, module: &str) -> ClassBuilder<T> {
        let cls = eddy_vm::types::new_class(
            name,
            vec![vm.types.object.clone()],
            BuiltinKind::Object,
            true,
        );
        cls.set_attr(vm.intern("__module__"), Value::str(module));
        ClassBuilder {
            cls,
            _t: PhantomData,
            entries: Vec::new(),
        }
    }

    /// How scripts make one: `Class(args)` calls `f`, which returns `Obj(t)`.
    pub fn constructor<M, F: HostFn<M>>(mut self, f: F) -> Self {
        let f = erase(f);
        let name = self.cls.name.s.to_string();
        let new = Rc::new(move |vm: &mut RawVm, _n: &str, args: &[Value]| {
            // `__new__(cls, *args)`: the class is the first argument.
            f(vm, &name, args.get(1..).unwrap_or(&[]))
        });
        let v = native_value("__new__", new);
        self.entries
            .push(("__new__".into(), Value::StaticMethod(Rc::new(v))));
        // `__new__` did all the work; object.__init__ would refuse the arguments.
        let init = Rc::new(|_vm: &mut RawVm, _n: &str, _a: &[Value]| Ok(Value::None));
        self.entries
            .push(("__init__".into(), native_value("__init__", init)));
        self
    }

    /// A method: `obj.name(args)` calls `f(&mut t, args)`.
    pub fn method<M, F: HostMethod<T, M>>(mut self, name: &str, f: F) -> Self {
        let erased = Rc::new(move |vm: &mut RawVm, n: &str, args: &[Value]| f.call(vm, n, args));
        self.entries.push((name.into(), native_value(name, erased)));
        self
    }

    /// A read-only attribute: `obj.name` is `f(&t)`.
    pub fn getter<R: HostResult + 'static>(
        self,
        name: &str,
        f: impl Fn(&T) -> R + 'static,
    ) -> Self {
        self.property(name, f, None::<fn(&mut T, Value)>)
    }

    /// A writable attribute: reading calls `get`, `obj.name = v` calls `set(&mut t, v)`.
    pub fn property<R: HostResult + 'static, A: FromValue + 'static>(
        mut self,
        name: &str,
        get: impl Fn(&T) -> R + 'static,
        set: Option<impl Fn(&mut T, A) + 'static>,
    ) -> Self {
        let getter = Rc::new(move |vm: &mut RawVm, _n: &str, args: &[Value]| {
            let Some(this) = args.first() else {
                return Err(arity_error(vm, "getter", 1, 0));
            };
            let r = with_host(vm, this, |t: &mut T| get(t))?;
            r.into_result(vm)
        });
        let fset = match set {
            None => Value::None,
            Some(set) => {
                let setter = Rc::new(move |vm: &mut RawVm, n: &str, args: &[Value]| {
                    let [this, v] = args else {
                        return Err(arity_error(vm, n, 2, args.len()));
                    };
                    let a = arg::<A>(vm, n, 0, v)?;
                    with_host(vm, this, |t: &mut T| set(t, a))?;
                    Ok(Value::None)
                });
                native_value(name, setter)
            }
        };
        let prop = Property {
            fget: native_value(name, getter),
            fset,
            fdel: Value::None,
            doc: Value::None,
        };
        self.entries
            .push((name.into(), Value::Property(Rc::new(prop))));
        self
    }

    /// Installs the class for `T` (on this thread) and returns it.
    pub(crate) fn finish(self, vm: &mut Vm) -> Rc<Class> {
        for (name, v) in self.entries {
            self.cls.set_attr(vm.raw.intern(&name), v);
        }
        self.cls.refresh_flags();
        CLASSES.with(|c| c.borrow_mut().insert(TypeId::of::<T>(), self.cls.clone()));
        self.cls
    }
}
