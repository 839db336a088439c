//! `import`: native modules (registered by the stdlib crate) and sibling script files, each run
//! once and cached in `Vm::modules`.

use std::rc::Rc;

use crate::objects::module::Module;
use crate::value::Value;
use crate::vm::Vm;
use crate::PyResult;

/// Compiles and runs source text as a module. Supplied by the embedding crate (it owns the parser
/// error rendering); the VM only needs a way to turn a file into code.
pub type SourceCompiler = fn(&str, &str) -> Result<Rc<crate::code::Code>, String>;

thread_local! {
    static COMPILER: std::cell::Cell<Option<SourceCompiler>> = const { std::cell::Cell::new(None) };
}

pub fn set_source_compiler(c: SourceCompiler) {
    COMPILER.with(|x| x.set(Some(c)));
}

/// The compiler this thread's VMs use, so a VM built on another OS thread (a process-pool
/// worker) can be given the same one.
pub fn source_compiler() -> Option<SourceCompiler> {
    COMPILER.with(|c| c.get())
}

/// Compiles source text with the embedding's compiler (native modules with parts written in
/// Python use this, e.g. asyncio).
pub fn compile_source(vm: &Vm, filename: &str, text: &str) -> PyResult<Rc<crate::code::Code>> {
    let Some(compiler) = COMPILER.with(|c| c.get()) else {
        return Err(vm.error("ImportError", "no compiler available"));
    };
    compiler(filename, text).map_err(|msg| vm.error("SyntaxError", msg))
}

pub fn import_module(vm: &mut Vm, name: &str) -> PyResult<Value> {
    if let Some(m) = vm.modules.get(name) {
        return Ok(m.clone());
    }
    if let Some(init) = vm.native_modules.get(name).copied() {
        let m = init(vm)?;
        let v = Value::Module(m);
        vm.modules.insert(name.to_string(), v.clone());
        return Ok(v);
    }
    // A dotted name whose parent is a native module (e.g. `os.path`, `concurrent.futures`).
    if let Some((parent, child)) = name.rsplit_once('.') {
        let p = import_module(vm, parent)?;
        if let Some(v) = crate::attr::try_get_attr(vm, &p, child)? {
            vm.modules.insert(name.to_string(), v.clone());
            return Ok(v);
        }
    }
    let rel = name.replace('.', "/");
    for dir in vm.search_path.clone() {
        for ext in ["eddy", "py"] {
            let path = dir.join(format!("{rel}.{ext}"));
            if path.is_file() {
                return load_file(vm, name, &path);
            }
        }
    }
    let e = vm.error("ModuleNotFoundError", format!("No module named '{name}'"));
    if let Value::Instance(i) = &e {
        i.dict
            .borrow_mut()
            .insert(crate::value::StrKey(vm.intern("name")), Value::str(name));
    }
    Err(e)
}

fn load_file(vm: &mut Vm, name: &str, path: &std::path::Path) -> PyResult<Value> {
    let text = match std::fs::read(path) {
        Ok(b) => match String::from_utf8(b) {
            Ok(s) => s,
            Err(_) => {
                return Err(vm.error(
                    "SyntaxError",
                    format!("{}: file is not valid UTF-8", path.display()),
                ))
            }
        },
        Err(e) => {
            return Err(vm.error(
                "ImportError",
                format!("cannot read {}: {e}", path.display()),
            ))
        }
    };
    let Some(compiler) = COMPILER.with(|c| c.get()) else {
        return Err(vm.error(
            "ImportError",
            "no compiler available to import script modules",
        ));
    };
    let code =
        compiler(&path.display().to_string(), &text).map_err(|msg| vm.error("SyntaxError", msg))?;
    let module = Rc::new(Module::new(name));
    let full = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    module.set("__file__", Value::string(full.display().to_string()));
    let v = Value::Module(module.clone());
    // Cached before running, so circular imports see the partly initialised module, as in CPython.
    vm.modules.insert(name.to_string(), v.clone());
    if let Err(e) = vm.run_module_code(code, module) {
        vm.modules.remove(name);
        return Err(e);
    }
    Ok(v)
}

/// Compiles `source` and runs it in `module`: standard-library modules written partly in Python
/// (dataclasses, enum) use this. `filename` is what tracebacks show.
pub fn run_source_in(
    vm: &mut Vm,
    module: &Rc<Module>,
    filename: &str,
    source: &str,
) -> PyResult<()> {
    let Some(compiler) = COMPILER.with(|c| c.get()) else {
        return Err(vm.error(
            "ImportError",
            "no compiler available to build script modules",
        ));
    };
    let code = compiler(filename, source).map_err(|msg| vm.error("SyntaxError", msg))?;
    vm.run_module_code(code, module.clone())?;
    Ok(())
}

/// `from module import name`.
/// `from module import *`: the names in the module's `__all__` (fetched as attributes, so a
/// module `__getattr__` can supply them), else every name not starting with an underscore.
pub fn import_star(vm: &mut Vm, module: &Value, globals: &Module) -> PyResult<()> {
    let Value::Module(m) = module else {
        return Ok(());
    };
    if let Some(all) = m.get("__all__") {
        for name in crate::ops::collect(vm, &all)? {
            let Value::Str(name) = name else {
                let what = vm.type_name(&name);
                return Err(vm.type_error(format!(
                    "Item in {}.__all__ must be str, not {what}",
                    m.name.s
                )));
            };
            let v = crate::attr::get_attr(vm, module, &name.s)?;
            globals.store(name, v);
        }
        return Ok(());
    }
    let items: Vec<_> = m
        .dict
        .borrow()
        .iter()
        .filter(|(k, _)| !k.0.s.starts_with('_'))
        .map(|(k, v)| (k.0.clone(), v.clone()))
        .collect();
    for (k, v) in items {
        globals.store(k, v);
    }
    Ok(())
}

pub fn import_from(vm: &mut Vm, module: &Value, name: &str) -> PyResult<Value> {
    if let Some(v) = crate::attr::try_get_attr(vm, module, name)? {
        return Ok(v);
    }
    let mname = match module {
        Value::Module(m) => m.name.s.to_string(),
        _ => "?".into(),
    };
    // A submodule not yet imported.
    if let Ok(v) = import_module(vm, &format!("{mname}.{name}")) {
        return Ok(v);
    }
    // CPython names the file a script module came from.
    let file = match module {
        Value::Module(m) => m
            .get("__file__")
            .and_then(|f| f.as_str().map(|s| format!(" ({s})"))),
        _ => None,
    };
    let file = file.unwrap_or_else(|| " (unknown location)".to_string());
    let file = if vm.native_modules.contains_key(&mname) {
        String::new()
    } else {
        file
    };
    Err(vm.error(
        "ImportError",
        format!("cannot import name '{name}' from '{mname}'{file}"),
    ))
}
