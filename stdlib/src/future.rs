//! `__future__`: the feature names a script may import. Only `annotations` changes anything
//! (the compiler then keeps annotations as strings, PEP 563); the others are mandatory in 3.x.

use std::rc::Rc;

use eddy_vm::objects::module::Module;
use eddy_vm::{PyResult, Value, Vm};

/// A release as `(major, minor, micro)`.
type Release = [i64; 3];

/// (name, optional release, mandatory release or None, compiler flag), as CPython 3.11 lists them.
const FEATURES: [(&str, Release, Option<Release>, i64); 10] = [
    ("nested_scopes", [2, 1, 0], Some([2, 2, 0]), 0x10),
    ("generators", [2, 2, 0], Some([2, 3, 0]), 0),
    ("division", [2, 2, 0], Some([3, 0, 0]), 0x20000),
    ("absolute_import", [2, 5, 0], Some([3, 0, 0]), 0x40000),
    ("with_statement", [2, 5, 0], Some([2, 6, 0]), 0x80000),
    ("print_function", [2, 6, 0], Some([3, 0, 0]), 0x100000),
    ("unicode_literals", [2, 6, 0], Some([3, 0, 0]), 0x200000),
    ("barry_as_FLUFL", [3, 1, 0], Some([4, 0, 0]), 0x400000),
    ("generator_stop", [3, 5, 0], Some([3, 7, 0]), 0x800000),
    ("annotations", [3, 7, 0], None, 0x1000000),
];

pub fn init(_vm: &mut Vm) -> PyResult<Rc<Module>> {
    let m = Rc::new(Module::new("__future__"));
    let release = |v: Release| Value::tuple(v.iter().map(|x| Value::Int(*x)).collect());
    let mut names = Vec::new();
    for (name, optional, mandatory, flag) in FEATURES {
        // CPython's _Feature objects; a tuple of their three fields is enough to inspect.
        let feature = Value::tuple(vec![
            release(optional),
            mandatory.map(release).unwrap_or(Value::None),
            Value::Int(flag),
        ]);
        m.set(name, feature);
        names.push(Value::str(name));
    }
    m.set("all_feature_names", Value::list(names));
    m.set("CO_FUTURE_ANNOTATIONS", Value::Int(0x1000000));
    Ok(m)
}
