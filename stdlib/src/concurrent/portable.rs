//! Portable values: a copy of a script value that owns no `Rc`, so it can cross to another OS
//! thread and be rebuilt in another VM. This is what pickling is to CPython's process pools, with
//! pickle's rules: data is copied (sharing and cycles kept, through a memo); functions and
//! classes travel by reference (`module.qualname`, looked up again on the other side), and what
//! has no portable form — a lock, a generator, a stream — raises pickle's TypeError.
//!
//! A *module snapshot* (what a worker starts from: the parent's `__main__` at the pool's first
//! submit, as `fork` would copy it) also carries definitions: a function or class defined in
//! `__main__` is described by its qualified name and first line, its defaults and attributes,
//! and the worker re-creates it from its own compilation of the same source file. Code objects
//! themselves never cross: recompiling is cheap and keeps `Code` free of thread-safety concerns.

use std::collections::HashMap;
use std::rc::Rc;

use eddy_vm::objects::class::{BuiltinKind, Class, Instance, Payload};
use eddy_vm::objects::function::Function;
use eddy_vm::objects::module::Module;
use eddy_vm::{ops, Code, PyResult, Value, Vm};
use num_bigint::BigInt;

/// Nesting beyond this is refused (as pickle's RecursionError), so copying never overflows.
const MAX_DEPTH: usize = 5000;

pub enum P {
    None,
    Ellipsis,
    Bool(bool),
    Int(i64),
    BigInt(BigInt),
    Float(f64),
    Str(String),
    Bytes(Vec<u8>),
    Tuple(Vec<P>),
    List(u32, Vec<P>),
    Dict(u32, Vec<(P, P)>),
    Set(u32, Vec<P>),
    FrozenSet(Vec<P>),
    Range(i64, i64, i64),
    /// An object copied earlier in the same tree (shared or cyclic).
    Memo(u32),
    /// An object passed by reference: `module`, `qualname`.
    Global(String, String),
    Module(String),
    /// An instance of a script class: its class and attributes.
    Object(u32, Box<P>, Vec<(String, P)>),
    Exception(Box<P>, Vec<P>),
    StaticMethod(Box<P>),
    ClassMethod(Box<P>),
    /// Definitions from `__main__` (snapshots only).
    FuncDef(u32, Box<FuncDef>),
    ClassDef(u32, Box<ClassDef>),
}

pub struct FuncDef {
    qualname: String,
    first_line: u32,
    defaults: Vec<P>,
    kwdefaults: Vec<(String, P)>,
    /// The method uses `super()` (its one free variable is the `__class__` cell).
    class_cell: bool,
}

pub struct ClassDef {
    name: String,
    qualname: String,
    bases: Vec<P>,
    dict: Vec<(String, P)>,
}

/// The reason a value cannot be copied, worded as pickle words it.
fn cannot_pickle(vm: &Vm, v: &Value) -> Value {
    let cls = vm.type_of(v);
    let module = cls
        .lookup("__module__")
        .and_then(|m| match m {
            Value::Str(s) => Some(s.s.to_string()),
            _ => None,
        })
        .unwrap_or_else(|| "builtins".into());
    let name = if module == "builtins" {
        cls.name().to_string()
    } else {
        format!("{module}.{}", cls.name())
    };
    vm.type_error(format!("cannot pickle '{name}' object"))
}

fn addr<T>(rc: &Rc<T>) -> usize {
    Rc::as_ptr(rc) as *const u8 as usize
}

/// Copies values out of a VM.
pub struct Copier<'a> {
    vm: &'a mut Vm,
    memo: HashMap<usize, u32>,
    /// Keeps every memoised object alive, so no address is reused during the copy.
    keep: Vec<Value>,
    /// Module snapshot: definitions from `__main__` are copied, and what cannot be copied is
    /// left out instead of failing.
    snapshot: bool,
    depth: usize,
}

impl<'a> Copier<'a> {
    pub fn new(vm: &'a mut Vm, snapshot: bool) -> Copier<'a> {
        Copier {
            vm,
            memo: HashMap::new(),
            keep: Vec::new(),
            snapshot,
            depth: 0,
        }
    }

    /// A memo id for the object at `key`: Err(existing id) if it was copied already.
    fn memo(&mut self, key: usize, v: &Value) -> Result<u32, u32> {
        if let Some(&id) = self.memo.get(&key) {
            return Err(id);
        }
        let id = self.memo.len() as u32;
        self.memo.insert(key, id);
        self.keep.push(v.clone());
        Ok(id)
    }

    pub fn copy(&mut self, v: &Value) -> PyResult<P> {
        if self.depth > MAX_DEPTH {
            return Err(self.vm.error(
                "RecursionError",
                "maximum recursion depth exceeded while pickling an object",
            ));
        }
        self.depth += 1;
        let r = self.copy_inner(v);
        self.depth -= 1;
        r
    }

    fn copy_all(&mut self, items: &[Value]) -> PyResult<Vec<P>> {
        items.iter().map(|v| self.copy(v)).collect()
    }

    fn copy_inner(&mut self, v: &Value) -> PyResult<P> {
        Ok(match v {
            Value::None => P::None,
            Value::Ellipsis => P::Ellipsis,
            Value::Bool(b) => P::Bool(*b),
            Value::Int(i) => P::Int(*i),
            Value::BigInt(b) => P::BigInt((**b).clone()),
            Value::Float(f) => P::Float(*f),
            Value::Str(s) => P::Str(s.s.to_string()),
            Value::Bytes(b) => P::Bytes((**b).clone()),
            Value::Tuple(t) => P::Tuple(self.copy_all(&t[..])?),
            Value::Range(r) => P::Range(r.start, r.stop, r.step),
            Value::List(l) => match self.memo(addr(l), v) {
                Err(id) => P::Memo(id),
                Ok(id) => {
                    let items = l.borrow().clone();
                    P::List(id, self.copy_all(&items)?)
                }
            },
            Value::Dict(_) => {
                let Value::Dict(d) = v else { unreachable!() };
                match self.memo(addr(d), v) {
                    Err(id) => P::Memo(id),
                    Ok(id) => {
                        let items = crate::util::dict_items(v).unwrap_or_default();
                        let mut out = Vec::with_capacity(items.len());
                        for (k, x) in items {
                            out.push((self.copy(&k)?, self.copy(&x)?));
                        }
                        P::Dict(id, out)
                    }
                }
            }
            Value::Set(s) => match self.memo(addr(s), v) {
                Err(id) => P::Memo(id),
                Ok(id) => {
                    let items = ops::collect(self.vm, v)?;
                    P::Set(id, self.copy_all(&items)?)
                }
            },
            Value::FrozenSet(_) => {
                let items = ops::collect(self.vm, v)?;
                P::FrozenSet(self.copy_all(&items)?)
            }
            Value::Module(m) => P::Module(m.name.s.to_string()),
            Value::Function(f) => self.function(v, f)?,
            Value::Class(c) => self.class(v, c)?,
            Value::Native(_) => self.global(v)?,
            Value::StaticMethod(f) => P::StaticMethod(Box::new(self.copy(f)?)),
            Value::ClassMethod(f) => P::ClassMethod(Box::new(self.copy(f)?)),
            Value::Instance(i) => self.instance(v, i)?,
            _ => return Err(cannot_pickle(self.vm, v)),
        })
    }

    fn instance(&mut self, v: &Value, i: &Rc<Instance>) -> PyResult<P> {
        if let Some(data) = i.exception() {
            let args = data.borrow().args.clone();
            let args = match &args {
                Value::Tuple(t) => self.copy_all(&t[..])?,
                _ => Vec::new(),
            };
            let cls = self.copy(&Value::Class(i.class.clone()))?;
            return Ok(P::Exception(Box::new(cls), args));
        }
        if !matches!(i.payload, Payload::None) || !i.class.is_user {
            return Err(cannot_pickle(self.vm, v));
        }
        let id = match self.memo(addr(i), v) {
            Err(id) => return Ok(P::Memo(id)),
            Ok(id) => id,
        };
        let cls = self.copy(&Value::Class(i.class.clone()))?;
        let attrs: Vec<(String, Value)> = i
            .dict
            .borrow()
            .iter()
            .map(|(k, x)| (k.0.s.to_string(), x.clone()))
            .collect();
        let mut out = Vec::with_capacity(attrs.len());
        for (k, x) in attrs {
            out.push((k, self.copy(&x)?));
        }
        Ok(P::Object(id, Box::new(cls), out))
    }

    fn function(&mut self, v: &Value, f: &Rc<Function>) -> PyResult<P> {
        let qualname = f.qualname.borrow().s.to_string();
        let in_main = &*f.globals.name.s == "__main__";
        let class_cell = f.code.freevars.len() == 1 && &*f.code.freevars[0].s == "__class__";
        if self.snapshot
            && in_main
            && !qualname.contains("<locals>")
            && (f.closure.is_empty() || class_cell)
        {
            let id = match self.memo(addr(f), v) {
                Err(id) => return Ok(P::Memo(id)),
                Ok(id) => id,
            };
            let defaults = self.copy_all(&f.defaults)?;
            let mut kwdefaults = Vec::new();
            for (k, x) in &f.kwdefaults {
                kwdefaults.push((k.s.to_string(), self.copy(x)?));
            }
            return Ok(P::FuncDef(
                id,
                Box::new(FuncDef {
                    qualname,
                    first_line: f.code.first_line,
                    defaults,
                    kwdefaults,
                    class_cell,
                }),
            ));
        }
        if qualname.contains("<locals>") {
            return Err(self
                .vm
                .attribute_error(format!("Can't pickle local object '{qualname}'")));
        }
        self.by_reference(v, f.globals.name.s.to_string(), qualname)
    }

    fn class(&mut self, v: &Value, c: &Rc<Class>) -> PyResult<P> {
        let module = match c.lookup("__module__") {
            Some(Value::Str(s)) => s.s.to_string(),
            _ => "builtins".into(),
        };
        let qualname = c.qualname.borrow().s.to_string();
        if !c.is_user || module == "builtins" {
            return Ok(P::Global("builtins".into(), c.name().to_string()));
        }
        if self.snapshot && module == "__main__" && !qualname.contains("<locals>") {
            let id = match self.memo(addr(c), v) {
                Err(id) => return Ok(P::Memo(id)),
                Ok(id) => id,
            };
            let bases: Vec<Value> = c.bases.iter().map(|b| Value::Class(b.clone())).collect();
            let bases = self.copy_all(&bases)?;
            let entries: Vec<(String, Value)> = c
                .dict
                .borrow()
                .iter()
                .map(|(k, x)| (k.0.s.to_string(), x.clone()))
                .collect();
            let mut dict = Vec::new();
            for (k, x) in entries {
                // Lenient, as a snapshot is: an attribute that cannot be copied is left out.
                if let Ok(p) = self.copy(&x) {
                    dict.push((k, p));
                }
            }
            return Ok(P::ClassDef(
                id,
                Box::new(ClassDef {
                    name: c.name().to_string(),
                    qualname,
                    bases,
                    dict,
                }),
            ));
        }
        if qualname.contains("<locals>") {
            return Err(self
                .vm
                .attribute_error(format!("Can't pickle local object '{qualname}'")));
        }
        self.by_reference(v, module, qualname)
    }

    /// `module.qualname`, checked to name `v` itself (pickle's `save_global`).
    fn by_reference(&mut self, v: &Value, module: String, qualname: String) -> PyResult<P> {
        let found = self.vm.modules.get(&module).cloned().and_then(|m| {
            let mut cur = m;
            for part in qualname.split('.') {
                cur = eddy_vm::attr::try_get_attr(self.vm, &cur, part).ok()??;
            }
            Some(cur)
        });
        match found {
            Some(x) if same(&x, v) => Ok(P::Global(module, qualname)),
            _ => {
                let r = ops::repr(self.vm, v)?;
                Err(pickling_error(
                    self.vm,
                    format!("Can't pickle {r}: attribute lookup {qualname} on {module} failed"),
                ))
            }
        }
    }

    /// A native function or other object that only travels by reference: the module attribute
    /// that holds it (builtins first).
    fn global(&mut self, v: &Value) -> PyResult<P> {
        let mut names: Vec<String> = self.vm.modules.keys().cloned().collect();
        names.sort_by_key(|n| (n != "builtins", n.clone()));
        for name in names {
            if name == "__main__" && !self.snapshot {
                continue;
            }
            let Some(Value::Module(m)) = self.vm.modules.get(&name).cloned() else {
                continue;
            };
            let hit = m
                .dict
                .borrow()
                .iter()
                .find(|(_, x)| same(x, v))
                .map(|(k, _)| k.0.s.to_string());
            if let Some(attr) = hit {
                return Ok(P::Global(name, attr));
            }
        }
        Err(cannot_pickle(self.vm, v))
    }
}

fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Function(x), Value::Function(y)) => Rc::ptr_eq(x, y),
        (Value::Native(x), Value::Native(y)) => Rc::ptr_eq(x, y),
        (Value::Class(x), Value::Class(y)) => Rc::ptr_eq(x, y),
        (Value::Instance(x), Value::Instance(y)) => Rc::ptr_eq(x, y),
        _ => false,
    }
}

/// `_pickle.PicklingError(msg)`.
fn pickling_error(vm: &Vm, msg: String) -> Value {
    let cls = eddy_vm::types::new_class(
        "PicklingError",
        vec![vm.exc_class("Exception")],
        BuiltinKind::BaseException,
        true,
    );
    cls.set_attr(vm.intern("__module__"), Value::str("_pickle"));
    vm.new_exception(&cls, vec![Value::string(msg)])
}

/// Code objects of a recompiled script, by (qualname, first line).
pub type CodeIndex = HashMap<(String, u32), Rc<Code>>;

/// Rebuilds values in a VM.
pub struct Restorer<'a> {
    vm: &'a mut Vm,
    memo: HashMap<u32, Value>,
    /// For snapshots: the worker's `__main__` and its recompiled code, by (qualname, line).
    main: Option<(Rc<Module>, &'a CodeIndex)>,
}

impl<'a> Restorer<'a> {
    pub fn new(vm: &'a mut Vm) -> Restorer<'a> {
        Restorer {
            vm,
            memo: HashMap::new(),
            main: None,
        }
    }

    pub fn for_snapshot(vm: &'a mut Vm, main: Rc<Module>, codes: &'a CodeIndex) -> Restorer<'a> {
        Restorer {
            vm,
            memo: HashMap::new(),
            main: Some((main, codes)),
        }
    }

    fn all(&mut self, items: &[P]) -> PyResult<Vec<Value>> {
        items.iter().map(|p| self.restore(p)).collect()
    }

    pub fn restore(&mut self, p: &P) -> PyResult<Value> {
        self.restore_in(p, None)
    }

    fn restore_in(&mut self, p: &P, class: Option<&Rc<Class>>) -> PyResult<Value> {
        Ok(match p {
            P::None => Value::None,
            P::Ellipsis => Value::Ellipsis,
            P::Bool(b) => Value::Bool(*b),
            P::Int(i) => Value::Int(*i),
            P::BigInt(b) => Value::from_bigint(b.clone()),
            P::Float(f) => Value::Float(*f),
            P::Str(s) => Value::str(s),
            P::Bytes(b) => Value::Bytes(Rc::new(b.clone())),
            P::Tuple(items) => Value::tuple(self.all(items)?),
            P::Range(a, b, c) => {
                let range = Value::Class(self.vm.types.range.clone());
                self.vm
                    .call(&range, vec![Value::Int(*a), Value::Int(*b), Value::Int(*c)])?
            }
            P::List(id, items) => {
                let l = Value::list(Vec::new());
                self.memo.insert(*id, l.clone());
                let items = self.all(items)?;
                if let Value::List(inner) = &l {
                    *inner.borrow_mut() = items;
                }
                l
            }
            P::Dict(id, items) => {
                let d = self.vm.new_dict();
                self.memo.insert(*id, d.clone());
                for (k, v) in items {
                    let k = self.restore(k)?;
                    let v = self.restore(v)?;
                    ops::dict_set(self.vm, &d, k, v)?;
                }
                d
            }
            P::Set(id, items) => {
                let items = self.all(items)?;
                let s = ops::new_set(self.vm, items)?;
                self.memo.insert(*id, s.clone());
                s
            }
            P::FrozenSet(items) => {
                let items = Value::list(self.all(items)?);
                let fs = Value::Class(self.vm.types.frozenset.clone());
                self.vm.call(&fs, vec![items])?
            }
            P::Memo(id) => self
                .memo
                .get(id)
                .cloned()
                .ok_or_else(|| self.vm.value_error("portable value: dangling reference"))?,
            P::Global(module, qualname) => {
                let mut cur = eddy_vm::import::import_module(self.vm, module)?;
                for part in qualname.split('.') {
                    cur = eddy_vm::attr::get_attr(self.vm, &cur, part)?;
                }
                cur
            }
            P::Module(name) => eddy_vm::import::import_module(self.vm, name)?,
            P::Object(id, cls, attrs) => {
                let Value::Class(cls) = self.restore(cls)? else {
                    return Err(self.vm.type_error("portable value: not a class"));
                };
                let inst = eddy_vm::gc::track_instance(Rc::new(Instance {
                    class: cls,
                    dict: Default::default(),
                    payload: Payload::None,
                }));
                self.memo.insert(*id, inst.clone());
                for (k, v) in attrs {
                    let v = self.restore(v)?;
                    eddy_vm::attr::set_attr(self.vm, &inst, &self.vm.intern(k), v)?;
                }
                inst
            }
            P::Exception(cls, args) => {
                let Value::Class(cls) = self.restore(cls)? else {
                    return Err(self.vm.type_error("portable value: not a class"));
                };
                let args = self.all(args)?;
                self.vm.new_exception(&cls, args)
            }
            P::StaticMethod(f) => Value::StaticMethod(Rc::new(self.restore_in(f, class)?)),
            P::ClassMethod(f) => Value::ClassMethod(Rc::new(self.restore_in(f, class)?)),
            P::FuncDef(id, def) => {
                let f = self.function(def, class)?;
                self.memo.insert(*id, f.clone());
                f
            }
            P::ClassDef(id, def) => self.class(*id, def)?,
        })
    }

    fn function(&mut self, def: &FuncDef, class: Option<&Rc<Class>>) -> PyResult<Value> {
        let Some((main, codes)) = &self.main else {
            return Err(self
                .vm
                .type_error("portable value: a definition outside a snapshot"));
        };
        let key = (def.qualname.clone(), def.first_line);
        let Some(code) = codes.get(&key).cloned() else {
            return Err(self.vm.error(
                "AttributeError",
                format!(
                    "Can't get attribute '{}' on <module '__main__'>",
                    def.qualname
                ),
            ));
        };
        let globals = main.clone();
        let defaults = self.all(&def.defaults)?;
        let mut kwdefaults = Vec::new();
        for (k, v) in &def.kwdefaults {
            kwdefaults.push((self.vm.intern(k), self.restore(v)?));
        }
        let closure = match (def.class_cell, class) {
            (true, Some(c)) => vec![Rc::new(std::cell::RefCell::new(Value::Class(c.clone())))],
            _ => Vec::new(),
        };
        let name = code.name.clone();
        let qualname = code.qualname.clone();
        Ok(eddy_vm::gc::track_function(Rc::new(Function {
            code,
            globals,
            defaults,
            kwdefaults,
            closure,
            name: std::cell::RefCell::new(name),
            qualname: std::cell::RefCell::new(qualname),
            dict: Default::default(),
        })))
    }

    fn class(&mut self, id: u32, def: &ClassDef) -> PyResult<Value> {
        let mut bases = Vec::new();
        for b in &def.bases {
            match self.restore(b)? {
                Value::Class(c) => bases.push(c),
                _ => return Err(self.vm.type_error("portable value: a base is not a class")),
            }
        }
        if bases.is_empty() {
            bases.push(self.vm.types.object.clone());
        }
        let kind = bases
            .iter()
            .map(|b| b.kind)
            .find(|k| *k != BuiltinKind::Object)
            .unwrap_or(BuiltinKind::Object);
        let cls = eddy_vm::types::new_class(&def.name, bases, kind, true);
        *cls.qualname.borrow_mut() = self.vm.intern(&def.qualname);
        let v = Value::Class(cls.clone());
        self.memo.insert(id, v.clone());
        for (k, p) in &def.dict {
            let x = self.restore_in(p, Some(&cls))?;
            cls.set_attr(self.vm.intern(k), x);
        }
        Ok(v)
    }
}

/// Every code object in `code` (nested through constants), by (qualname, first line).
pub fn index_code(code: &Rc<Code>, out: &mut CodeIndex) {
    out.insert((code.qualname.s.to_string(), code.first_line), code.clone());
    for c in &code.consts {
        if let Value::Code(inner) = c {
            index_code(inner, out);
        }
    }
}
