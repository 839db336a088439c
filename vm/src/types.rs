//! The built-in classes: `object`, `type`, `int`, `str`, ..., and the exception hierarchy.
//! Methods are added to their dicts by the files in `builtins/`.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;

use crate::objects::class::{BuiltinKind, Class};
use crate::value::PyStr;

pub struct Types {
    pub object: Rc<Class>,
    pub type_: Rc<Class>,
    pub none: Rc<Class>,
    pub not_implemented: Rc<Class>,
    pub ellipsis: Rc<Class>,
    pub bool_: Rc<Class>,
    pub int: Rc<Class>,
    pub float: Rc<Class>,
    pub str_: Rc<Class>,
    pub bytes: Rc<Class>,
    pub list: Rc<Class>,
    pub tuple: Rc<Class>,
    pub dict: Rc<Class>,
    pub set: Rc<Class>,
    pub frozenset: Rc<Class>,
    pub range: Rc<Class>,
    pub slice: Rc<Class>,
    pub function: Rc<Class>,
    pub builtin_function: Rc<Class>,
    pub method: Rc<Class>,
    pub module: Rc<Class>,
    pub generator: Rc<Class>,
    pub coroutine: Rc<Class>,
    pub async_generator: Rc<Class>,
    pub iterator: Rc<Class>,
    /// The classes of the built-in iterators (`list_iterator`, `zip`, ...), see `IterTypes`.
    pub iters: IterTypes,
    pub cell: Rc<Class>,
    pub code: Rc<Class>,
    pub property: Rc<Class>,
    pub staticmethod: Rc<Class>,
    pub classmethod: Rc<Class>,
    /// Exception classes by name (BaseException, ValueError, ...).
    pub exceptions: HashMap<&'static str, Rc<Class>>,
}

/// What `type()` says of a built-in iterator, by what it iterates (CPython's names). `zip`,
/// `map`, `filter`, `enumerate` and `reversed` are the builtins themselves, as in CPython.
/// Iterators over snapshots and exhausted ones stay the generic `iterator`.
pub struct IterTypes {
    pub list: Rc<Class>,
    pub tuple: Rc<Class>,
    pub range: Rc<Class>,
    pub str_ascii: Rc<Class>,
    pub str_: Rc<Class>,
    pub bytes: Rc<Class>,
    pub dict_keys: Rc<Class>,
    pub dict_values: Rc<Class>,
    pub dict_items: Rc<Class>,
    pub set: Rc<Class>,
    pub list_reverse: Rc<Class>,
    pub callable: Rc<Class>,
    pub count: Rc<Class>,
    pub enumerate: Rc<Class>,
    pub zip: Rc<Class>,
    pub map: Rc<Class>,
    pub filter: Rc<Class>,
    pub reversed: Rc<Class>,
}

impl IterTypes {
    fn new(object: &Rc<Class>) -> IterTypes {
        let t = |name: &str| new_class(name, vec![object.clone()], BuiltinKind::Iterator, false);
        IterTypes {
            list: t("list_iterator"),
            tuple: t("tuple_iterator"),
            range: t("range_iterator"),
            str_ascii: t("str_ascii_iterator"),
            str_: t("str_iterator"),
            bytes: t("bytes_iterator"),
            dict_keys: t("dict_keyiterator"),
            dict_values: t("dict_valueiterator"),
            dict_items: t("dict_itemiterator"),
            set: t("set_iterator"),
            list_reverse: t("list_reverseiterator"),
            callable: t("callable_iterator"),
            count: t("count"),
            enumerate: t("enumerate"),
            zip: t("zip"),
            map: t("map"),
            filter: t("filter"),
            reversed: t("reversed"),
        }
    }

    /// Every class (for installing `__next__`/`__iter__`).
    pub fn all(&self) -> [&Rc<Class>; 18] {
        [
            &self.list,
            &self.tuple,
            &self.range,
            &self.str_ascii,
            &self.str_,
            &self.bytes,
            &self.dict_keys,
            &self.dict_values,
            &self.dict_items,
            &self.set,
            &self.list_reverse,
            &self.callable,
            &self.count,
            &self.enumerate,
            &self.zip,
            &self.map,
            &self.filter,
            &self.reversed,
        ]
    }
}

pub fn new_class(name: &str, bases: Vec<Rc<Class>>, kind: BuiltinKind, is_user: bool) -> Rc<Class> {
    let mro = compute_mro(&bases);
    let native_send = mro.iter().find_map(|b| b.native_send.get());
    let native_throw = mro.iter().find_map(|b| b.native_throw.get());
    let c = Rc::new(Class {
        name: Rc::new(PyStr::new(name)),
        qualname: RefCell::new(Rc::new(PyStr::new(name))),
        bases,
        mro,
        dict: Default::default(),
        kind,
        is_user,
        slots: Cell::new(Default::default()),
        lookup_cache: Default::default(),
        native_send: Cell::new(native_send),
        native_throw: Cell::new(native_throw),
        subclasses: Default::default(),
    });
    for b in &c.bases {
        let mut subs = b.subclasses.borrow_mut();
        subs.retain(|w| w.strong_count() > 0);
        subs.push(Rc::downgrade(&c));
    }
    c.refresh_flags();
    c
}

/// C3 linearisation of the bases' MROs (excluding the new class itself). Inconsistent
/// hierarchies (which `mro_error` rejects for script classes) fall back to depth-first order.
pub fn compute_mro(bases: &[Rc<Class>]) -> Vec<Rc<Class>> {
    c3_merge(bases, true).unwrap_or_default()
}

/// CPython's TypeError message when `bases` admit no C3 linearisation, or list a class twice.
pub fn mro_error(bases: &[Rc<Class>]) -> Option<String> {
    for (i, b) in bases.iter().enumerate() {
        if bases[..i].iter().any(|o| Rc::ptr_eq(o, b)) {
            return Some(format!("duplicate base class {}", b.name()));
        }
    }
    match c3_merge(bases, false) {
        Ok(_) => None,
        Err(heads) => {
            let names: Vec<&str> = heads.iter().map(|c| c.name()).collect();
            Some(format!(
                "Cannot create a consistent method resolution\norder (MRO) for bases {}",
                names.join(", ")
            ))
        }
    }
}

/// The C3 merge; on a conflict either takes the first head anyway (`lenient`) or returns the
/// distinct heads of the sequences left to merge.
fn c3_merge(bases: &[Rc<Class>], lenient: bool) -> Result<Vec<Rc<Class>>, Vec<Rc<Class>>> {
    let mut seqs: Vec<Vec<Rc<Class>>> = bases
        .iter()
        .map(|b| {
            let mut v = vec![b.clone()];
            v.extend(b.mro.iter().cloned());
            v
        })
        .collect();
    seqs.push(bases.to_vec());
    let mut out: Vec<Rc<Class>> = Vec::new();
    loop {
        seqs.retain(|s| !s.is_empty());
        if seqs.is_empty() {
            return Ok(out);
        }
        let mut chosen = None;
        for s in &seqs {
            let cand = &s[0];
            let in_tail = seqs
                .iter()
                .any(|t| t[1..].iter().any(|c| Rc::ptr_eq(c, cand)));
            if !in_tail {
                chosen = Some(cand.clone());
                break;
            }
        }
        let c = match chosen {
            Some(c) => c,
            None if lenient => seqs[0][0].clone(),
            None => {
                let mut heads: Vec<Rc<Class>> = Vec::new();
                for s in &seqs {
                    if !heads.iter().any(|h| Rc::ptr_eq(h, &s[0])) {
                        heads.push(s[0].clone());
                    }
                }
                return Err(heads);
            }
        };
        for s in seqs.iter_mut() {
            if Rc::ptr_eq(&s[0], &c) {
                s.remove(0);
            }
        }
        if !out.iter().any(|o| Rc::ptr_eq(o, &c)) {
            out.push(c);
        }
    }
}

/// The exception hierarchy of SCOPE.md, parent before child.
const EXCEPTIONS: &[(&str, &str)] = &[
    ("BaseException", ""),
    ("SystemExit", "BaseException"),
    ("KeyboardInterrupt", "BaseException"),
    ("GeneratorExit", "BaseException"),
    ("Exception", "BaseException"),
    ("BaseExceptionGroup", "BaseException"),
    ("ExceptionGroup", "Exception"),
    ("StopIteration", "Exception"),
    ("StopAsyncIteration", "Exception"),
    ("ArithmeticError", "Exception"),
    ("FloatingPointError", "ArithmeticError"),
    ("OverflowError", "ArithmeticError"),
    ("ZeroDivisionError", "ArithmeticError"),
    ("AssertionError", "Exception"),
    ("AttributeError", "Exception"),
    ("BufferError", "Exception"),
    ("EOFError", "Exception"),
    ("ImportError", "Exception"),
    ("ModuleNotFoundError", "ImportError"),
    ("LookupError", "Exception"),
    ("IndexError", "LookupError"),
    ("KeyError", "LookupError"),
    ("MemoryError", "Exception"),
    ("NameError", "Exception"),
    ("UnboundLocalError", "NameError"),
    ("OSError", "Exception"),
    ("BlockingIOError", "OSError"),
    ("ChildProcessError", "OSError"),
    ("ConnectionError", "OSError"),
    ("BrokenPipeError", "ConnectionError"),
    ("ConnectionAbortedError", "ConnectionError"),
    ("ConnectionRefusedError", "ConnectionError"),
    ("ConnectionResetError", "ConnectionError"),
    ("FileExistsError", "OSError"),
    ("FileNotFoundError", "OSError"),
    ("InterruptedError", "OSError"),
    ("IsADirectoryError", "OSError"),
    ("NotADirectoryError", "OSError"),
    ("PermissionError", "OSError"),
    ("ProcessLookupError", "OSError"),
    ("TimeoutError", "OSError"),
    ("ReferenceError", "Exception"),
    ("RuntimeError", "Exception"),
    ("NotImplementedError", "RuntimeError"),
    ("RecursionError", "RuntimeError"),
    ("SyntaxError", "Exception"),
    ("IndentationError", "SyntaxError"),
    ("SystemError", "Exception"),
    ("TypeError", "Exception"),
    ("ValueError", "Exception"),
    ("UnicodeError", "ValueError"),
    ("UnicodeDecodeError", "UnicodeError"),
    ("UnicodeEncodeError", "UnicodeError"),
    ("Warning", "Exception"),
    ("UserWarning", "Warning"),
    ("DeprecationWarning", "Warning"),
    ("RuntimeWarning", "Warning"),
    ("FutureWarning", "Warning"),
];

impl Types {
    pub fn new() -> Types {
        use BuiltinKind as K;
        let object = new_class("object", vec![], K::Object, false);
        let t = |name: &str, kind: BuiltinKind| new_class(name, vec![object.clone()], kind, false);
        let int = t("int", K::Int);
        let bool_ = new_class("bool", vec![int.clone()], K::Bool, false);
        let mut exceptions: HashMap<&'static str, Rc<Class>> = HashMap::new();
        for (name, parent) in EXCEPTIONS {
            let base = if parent.is_empty() {
                object.clone()
            } else {
                exceptions[parent].clone()
            };
            let mut bases = vec![base];
            if *name == "ExceptionGroup" {
                bases.push(exceptions["BaseExceptionGroup"].clone());
            }
            exceptions.insert(name, new_class(name, bases, K::BaseException, false));
        }
        Types {
            type_: t("type", K::Type),
            none: t("NoneType", K::NoneType),
            not_implemented: t("NotImplementedType", K::NotImplementedType),
            ellipsis: t("ellipsis", K::Ellipsis),
            bool_,
            int,
            float: t("float", K::Float),
            str_: t("str", K::Str),
            bytes: t("bytes", K::Bytes),
            list: t("list", K::List),
            tuple: t("tuple", K::Tuple),
            dict: t("dict", K::Dict),
            set: t("set", K::Set),
            frozenset: t("frozenset", K::FrozenSet),
            range: t("range", K::Range),
            slice: t("slice", K::Slice),
            function: t("function", K::Function),
            builtin_function: t("builtin_function_or_method", K::BuiltinFunction),
            method: t("method", K::Method),
            module: t("module", K::Module),
            generator: t("generator", K::Generator),
            coroutine: t("coroutine", K::Coroutine),
            async_generator: t("async_generator", K::AsyncGenerator),
            iterator: t("iterator", K::Iterator),
            iters: IterTypes::new(&object),
            cell: t("cell", K::Cell),
            code: t("code", K::Code),
            property: t("property", K::Property),
            staticmethod: t("staticmethod", K::StaticMethod),
            classmethod: t("classmethod", K::ClassMethod),
            exceptions,
            object,
        }
    }
}

impl Default for Types {
    fn default() -> Self {
        Types::new()
    }
}
