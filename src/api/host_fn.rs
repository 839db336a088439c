//! Plain Rust functions as script functions. A closure `Fn(A, B, ..) -> R` whose arguments
//! implement [`FromValue`] and whose result implements [`HostResult`] becomes a native function
//! value: each call checks the argument count, converts every argument (a mismatch is a
//! `TypeError` naming the function and the argument) and converts the result back.
//! The closure lives in a small native object passed as the native function's bound data, so a
//! call costs one downcast and one `Rc` clone on top of the conversions.

use std::cell::RefCell;
use std::rc::Rc;

use eddy_vm::objects::class::{BuiltinKind, Class, Instance, NativeState, Payload};
use eddy_vm::objects::function::NativeFunction;
use eddy_vm::value::PyStr;
use eddy_vm::{Args, PyResult, Value};

use super::convert::{FromValue, IntoValue};
use super::host_error::HostError;
use super::RawVm;

/// What a host function may return: any [`IntoValue`], or a `Result` whose error becomes a
/// script exception (see [`HostError`]).
pub trait HostResult {
    /// The script value (or exception) for this result.
    fn into_result(self, vm: &mut RawVm) -> PyResult<Value>;
}

impl<T: IntoValue> HostResult for T {
    fn into_result(self, vm: &mut RawVm) -> PyResult<Value> {
        self.into_value(vm)
    }
}

impl<T: IntoValue, E: Into<HostError>> HostResult for Result<T, E> {
    fn into_result(self, vm: &mut RawVm) -> PyResult<Value> {
        match self {
            Ok(t) => t.into_value(vm),
            Err(e) => Err(e.into().into_exception(vm)),
        }
    }
}

/// A Rust closure callable from scripts; `Marker` is the tuple of its argument types (it only
/// tells the implementations for different arities apart; callers never name it).
pub trait HostFn<Marker>: 'static {
    /// Calls the closure with script arguments (already stripped of the bound data).
    fn call(&self, vm: &mut RawVm, name: &str, args: &[Value]) -> PyResult<Value>;
}

/// Converts argument `i` (0-based) of `name`, wording a mismatch like CPython's
/// `f() argument 1 must be int, not str`.
pub fn arg<T: FromValue>(vm: &mut RawVm, name: &str, i: usize, v: &Value) -> PyResult<T> {
    T::from_value(vm, v).map_err(|e| {
        if vm.exc_matches(&e, "TypeError") {
            vm.type_error(format!(
                "{name}() argument {} must be {}, not {}",
                i + 1,
                T::expected(),
                vm.type_name(v)
            ))
        } else {
            e
        }
    })
}

/// CPython's message for a call with the wrong number of arguments.
pub fn arity_error(vm: &RawVm, name: &str, want: usize, got: usize) -> Value {
    let s = if want == 1 { "" } else { "s" };
    let was = if got == 1 { "was" } else { "were" };
    vm.type_error(format!(
        "{name}() takes {want} positional argument{s} but {got} {was} given"
    ))
}

macro_rules! host_fn_impls {
    ($n:literal; $($a:ident $i:tt),*) => {
        impl<Func, R, $($a),*> HostFn<($($a,)*)> for Func
        where
            Func: Fn($($a),*) -> R + 'static,
            R: HostResult,
            $($a: FromValue,)*
        {
            #[allow(unused_variables)]
            fn call(&self, vm: &mut RawVm, name: &str, args: &[Value]) -> PyResult<Value> {
                if args.len() != $n {
                    return Err(arity_error(vm, name, $n, args.len()));
                }
                let r = (self)($(arg::<$a>(vm, name, $i, &args[$i])?),*);
                r.into_result(vm)
            }
        }
    };
}

host_fn_impls!(0;);
host_fn_impls!(1; A 0);
host_fn_impls!(2; A 0, B 1);
host_fn_impls!(3; A 0, B 1, C 2);
host_fn_impls!(4; A 0, B 1, C 2, D 3);
host_fn_impls!(5; A 0, B 1, C 2, D 3, E 4);
host_fn_impls!(6; A 0, B 1, C 2, D 3, E 4, F 5);
host_fn_impls!(7; A 0, B 1, C 2, D 3, E 4, F 5, G 6);
host_fn_impls!(8; A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7);

/// The type-erased form every host function is kept in: the VM, its name, its arguments.
pub type Erased = Rc<dyn Fn(&mut RawVm, &str, &[Value]) -> PyResult<Value>>;

/// The native state holding a host closure; it keeps no script values the collector must see.
struct HostClosure {
    name: Rc<str>,
    f: Erased,
}

impl NativeState for HostClosure {
    fn traverse(&self, _f: &mut dyn FnMut(&Value)) {}
    fn clear(&mut self, _out: &mut Vec<Value>) {}
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
    fn as_any_mut(&mut self) -> &mut dyn std::any::Any {
        self
    }
}

thread_local! {
    /// The class of the holder objects (never visible to scripts).
    static HOLDER: Rc<Class> = eddy_vm::types::new_class(
        "host_closure", vec![], BuiltinKind::Object, false);
}

/// A script function value that calls `f`.
pub fn native_value(name: &str, f: Erased) -> Value {
    let class = HOLDER.with(|c| c.clone());
    let holder = Instance {
        class,
        dict: Default::default(),
        payload: Payload::Native(RefCell::new(Box::new(HostClosure {
            name: name.into(),
            f,
        }))),
    };
    Value::Native(Rc::new(NativeFunction {
        name: Rc::new(PyStr::new(name)),
        func: call_host,
        data: Value::Instance(Rc::new(holder)),
    }))
}

/// The native entry point of every host function: `args.pos[0]` is the holder. The holder is
/// only borrowed shared, so a host function that calls back into a script calling it again works.
fn call_host(vm: &mut RawVm, args: Args) -> PyResult<Value> {
    let Value::Instance(i) = &args.pos[0] else {
        return Err(vm.type_error("host function called without its closure"));
    };
    let Payload::Native(cell) = &i.payload else {
        return Err(vm.type_error("host function called without its closure"));
    };
    let state = cell
        .try_borrow()
        .map_err(|_| vm.type_error("host function is busy"))?;
    let Some(c) = state.as_any().downcast_ref::<HostClosure>() else {
        return Err(vm.type_error("host function called without its closure"));
    };
    if let Some((k, _)) = args.kw.first() {
        return Err(vm.type_error(format!(
            "{}() got an unexpected keyword argument '{}'",
            c.name, k.s
        )));
    }
    (c.f)(vm, &c.name, &args.pos[1..])
}

/// Erases a typed host function.
pub fn erase<M, F: HostFn<M>>(f: F) -> Erased {
    Rc::new(move |vm: &mut RawVm, name: &str, args: &[Value]| f.call(vm, name, args))
}
