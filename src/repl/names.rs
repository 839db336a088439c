//! The names Tab offers, looked up on the VM thread: globals and builtins for a bare name;
//! for `a.b.c`, the chain is followed with attribute lookups (no calls, no item access) and
//! `dir()` of the object it leads to. A lookup that raises offers nothing.

use std::rc::Rc;

use eddy_vm::objects::module::Module;
use eddy_vm::{attr, ops, Value, Vm};

/// The names `object` (dotted names, empty for a bare name) can complete to.
pub fn names(vm: &mut Vm, module: &Rc<Module>, object: &[String]) -> Vec<String> {
    let Some((first, rest)) = object.split_first() else {
        let mut out = keys(module);
        out.extend(keys(&vm.builtins.clone()));
        return out;
    };
    let Some(mut value) = module.get(first).or_else(|| vm.builtins.get(first)) else {
        return Vec::new();
    };
    for part in rest {
        match attr::try_get_attr(vm, &value, part) {
            Ok(Some(v)) => value = v,
            _ => return Vec::new(),
        }
    }
    dir(vm, &value).unwrap_or_default()
}

fn keys(module: &Module) -> Vec<String> {
    module
        .dict
        .borrow()
        .keys()
        .map(|k| k.0.s.to_string())
        .collect()
}

/// `dir(value)` as strings.
fn dir(vm: &mut Vm, value: &Value) -> Option<Vec<String>> {
    let dir = vm.builtins.get("dir")?;
    let listed = vm.call(&dir, vec![value.clone()]).ok()?;
    let items = ops::collect(vm, &listed).ok()?;
    Some(
        items
            .iter()
            .filter_map(|v| match v {
                Value::Str(s) => Some(s.s.to_string()),
                _ => None,
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bare_names_are_globals_and_builtins() {
        let mut vm = crate::new_vm();
        let module = Rc::new(Module::new("__main__"));
        module.set("answer", Value::Int(42));
        let found = names(&mut vm, &module, &[]);
        assert!(found.iter().any(|n| n == "answer"));
        assert!(found.iter().any(|n| n == "print"));
    }

    #[test]
    fn dotted_names_list_attributes() {
        let mut vm = crate::new_vm();
        let module = Rc::new(Module::new("__main__"));
        let Ok(asyncio) = eddy_vm::import::import_module(&mut vm, "asyncio") else {
            panic!("asyncio imports");
        };
        module.set("asyncio", asyncio);
        let found = names(&mut vm, &module, &["asyncio".to_string()]);
        assert!(found.iter().any(|n| n == "gather"), "{found:?}");
        assert!(names(&mut vm, &module, &["nothing".to_string()]).is_empty());
        assert!(names(&mut vm, &module, &["asyncio".into(), "nope".into()]).is_empty());
    }
}
