//! Classes (user-defined and the built-in types) and instances of user-defined classes.
//!
//! Every built-in type (`int`, `list`, `ValueError`, ...) is a `Class` too, so `type(x)`,
//! `isinstance` and subclassing treat them alike. An instance of a class derived from a built-in
//! container or from `BaseException` carries that built-in's data in its `payload`.

use std::cell::{Cell, OnceCell, Ref, RefCell, RefMut};
use std::rc::Rc;

use crate::objects::dict::PyDict;
use crate::objects::exception::ExceptionData;
use crate::value::{AttrMap, PyList, PyStr, PyTuple, StrKey, Value};

/// Which built-in type a class is, or derives its instance layout from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BuiltinKind {
    Object,
    Type,
    NoneType,
    NotImplementedType,
    Ellipsis,
    Bool,
    Int,
    Float,
    Str,
    Bytes,
    List,
    Tuple,
    Dict,
    Set,
    FrozenSet,
    Range,
    Slice,
    Function,
    BuiltinFunction,
    Method,
    Module,
    Generator,
    Coroutine,
    AsyncGenerator,
    Iterator,
    Cell,
    Code,
    Property,
    StaticMethod,
    ClassMethod,
    BaseException,
}

pub struct Class {
    pub name: Rc<PyStr>,
    pub qualname: RefCell<Rc<PyStr>>,
    pub bases: Vec<Rc<Class>>,
    /// Method resolution order, excluding the class itself (an Rc to self would leak).
    pub mro: Vec<Rc<Class>>,
    pub dict: ClassDict,
    /// The built-in layout instances use (Object for plain classes).
    pub kind: BuiltinKind,
    /// True for classes created by a `class` statement (their attributes can be set).
    pub is_user: bool,
    /// Cached facts about dunders, recomputed when a dunder is assigned (the common case is a bit test).
    pub slots: Cell<DunderFlags>,
    /// Recent `lookup_name` answers (see `LookupCache`); allocated on the first lookup.
    pub lookup_cache: RefCell<Option<Box<LookupCache>>>,
    /// For native awaitables (asyncio's Future and Task): the step `await` runs, inherited by
    /// subclasses. Set, the object is its own await iterator.
    pub native_send: Cell<Option<NativeSend>>,
    /// With `native_send`: what throwing an exception into the awaiting frame does (a
    /// cancelled task's CancelledError reaching a native awaitable); None raises it at the
    /// await point. Inherited like `native_send`.
    pub native_throw: Cell<Option<NativeThrow>>,
    /// The classes naming this one as a direct base, in creation order (`__subclasses__`);
    /// weak, as CPython's, so a subclass nothing else holds goes away.
    pub subclasses: RefCell<Vec<std::rc::Weak<Class>>>,
}

thread_local! {
    /// Bumped whenever any class namespace is written. A class's lookup cache is valid only for
    /// the epoch it was filled in, since a write to any class on its MRO can change an answer.
    static CLASS_EPOCH: Cell<u64> = const { Cell::new(1) };
}

fn class_epoch() -> u64 {
    CLASS_EPOCH.with(|e| e.get())
}

fn bump_class_epoch() {
    CLASS_EPOCH.with(|e| e.set(e.get() + 1));
}

/// A class's attribute namespace. Every write goes through `borrow_mut`, which invalidates all
/// lookup caches first, so a cached lookup never answers with a replaced or deleted attribute.
#[derive(Default)]
pub struct ClassDict(RefCell<AttrMap>);

impl ClassDict {
    pub fn borrow(&self) -> Ref<'_, AttrMap> {
        self.0.borrow()
    }
    pub fn borrow_mut(&self) -> RefMut<'_, AttrMap> {
        bump_class_epoch();
        self.0.borrow_mut()
    }
}

/// Number of names a class's lookup cache remembers (direct-mapped by the name's address).
const LOOKUP_CACHE_SLOTS: usize = 16;

/// The last answers of `Class::lookup_name`, for method calls (`obj.append(x)`) that look the
/// same name up on the same class over and over, as CPython's type attribute cache does. Each
/// slot keeps its name alive, so a name at the same address is the same name.
#[derive(Default)]
pub struct LookupCache {
    epoch: u64,
    slots: [Option<(Rc<PyStr>, Option<Value>)>; LOOKUP_CACHE_SLOTS],
}

impl LookupCache {
    fn slot_of(name: &Rc<PyStr>) -> usize {
        // Allocations are 16-byte aligned; the bits above that spread names over the slots.
        (Rc::as_ptr(name) as usize >> 4) % LOOKUP_CACHE_SLOTS
    }
    /// The cached answer for `name`, if this cache is current and holds it.
    fn get(&self, name: &Rc<PyStr>, epoch: u64) -> Option<Option<Value>> {
        if self.epoch != epoch {
            return None;
        }
        match &self.slots[Self::slot_of(name)] {
            Some((n, v)) if Rc::ptr_eq(n, name) => Some(v.clone()),
            _ => None,
        }
    }
    fn put(&mut self, name: &Rc<PyStr>, value: Option<Value>, epoch: u64) {
        if self.epoch != epoch {
            // Answers from an older epoch may be stale: drop them all.
            self.slots = Default::default();
            self.epoch = epoch;
        }
        self.slots[Self::slot_of(name)] = Some((name.clone(), value));
    }
}

/// One step of `await obj` for a native awaitable, with no iterator object or StopIteration:
/// Ok(Ok(v)) yields v to the task driving the await; Ok(Err(r)) ends the await with result r.
pub type NativeSend =
    fn(&mut crate::vm::Vm, &Value, Value) -> crate::PyResult<Result<Value, Value>>;

/// `throw(exc)` into a native awaitable: Ok(Ok(v)) yields v, Ok(Err(r)) returns r, Err(e)
/// raises e in the awaiting frame.
pub type NativeThrow =
    fn(&mut crate::vm::Vm, &Value, Value) -> crate::PyResult<Result<Value, Value>>;

/// The class attribute `isinstance` consults when the plain check fails (see `DunderFlags`).
pub const INSTANCECHECK: &str = "__eddy_instancecheck__";

/// The class attribute `isinstance`/`issubclass` consult past the MRO for abc.ABC's classes
/// (their stand-in for `ABCMeta.__subclasscheck__`, see `DunderFlags`).
pub const SUBCLASSCHECK: &str = "__eddy_subclasscheck__";

/// Which dunders the class (or a base) defines in script code.
#[derive(Clone, Copy, Default, Debug)]
pub struct DunderFlags {
    pub has_eq: bool,
    pub has_hash: bool,
    pub has_getattr: bool,
    pub has_setattr: bool,
    pub has_delattr: bool,
    /// A script-defined `__getattribute__` replaces the generic lookup entirely.
    pub has_getattribute: bool,
    /// The class (or a base) has `__eddy_instancecheck__`, the stand-in for a metaclass's
    /// `__instancecheck__` that typing's runtime-checkable protocols use.
    pub has_instancecheck: bool,
    /// The class (or a base) has `__eddy_subclasscheck__` (it derives from `abc.ABC`).
    pub has_subclasscheck: bool,
}

impl Class {
    /// Looks `name` up on the class and its MRO, as `type.__getattribute__` does for class attributes.
    pub fn lookup(&self, name: &str) -> Option<Value> {
        // Hash once, probe every dict along the MRO with the same key.
        let key = crate::value::HashedStr::new(name);
        if let Some(v) = self.dict.borrow().get(&key) {
            return Some(v.clone());
        }
        for base in &self.mro {
            if let Some(v) = base.dict.borrow().get(&key) {
                return Some(v.clone());
            }
        }
        None
    }
    /// `lookup` for a name whose hash is already cached (attribute names from code objects),
    /// answered from the class's lookup cache when it can be.
    pub fn lookup_name(&self, name: &Rc<PyStr>) -> Option<Value> {
        let epoch = class_epoch();
        let Ok(mut cache) = self.lookup_cache.try_borrow_mut() else {
            return self.lookup_uncached(name);
        };
        if let Some(found) = cache.as_ref().and_then(|c| c.get(name, epoch)) {
            return found;
        }
        self.lookup_and_cache(name, cache.get_or_insert_with(Default::default), epoch)
    }
    /// The cache-miss half of `lookup_name`, kept out of line so the hit path stays small.
    #[cold]
    #[inline(never)]
    fn lookup_and_cache(
        &self,
        name: &Rc<PyStr>,
        cache: &mut LookupCache,
        epoch: u64,
    ) -> Option<Value> {
        let found = self.lookup_uncached(name);
        cache.put(name, found.clone(), epoch);
        found
    }
    fn lookup_uncached(&self, name: &PyStr) -> Option<Value> {
        let key = crate::value::StrRef(name);
        if let Some(v) = self.dict.borrow().get(&key) {
            return Some(v.clone());
        }
        for base in &self.mro {
            if let Some(v) = base.dict.borrow().get(&key) {
                return Some(v.clone());
            }
        }
        None
    }
    /// Like `lookup`, but ignores what `object` itself defines (its default dunders), so callers
    /// can tell "the class customises this" from "inherited the default".
    pub fn lookup_custom(&self, name: &str) -> Option<Value> {
        if self.bases.is_empty() {
            return None;
        }
        if let Some(v) = self.dict.borrow().get(name) {
            return Some(v.clone());
        }
        for base in &self.mro {
            if base.bases.is_empty() {
                continue;
            }
            if let Some(v) = base.dict.borrow().get(name) {
                return Some(v.clone());
            }
        }
        None
    }
    /// True when `self` is `other` or derives from it.
    pub fn is_subclass(self: &Rc<Class>, other: &Rc<Class>) -> bool {
        Rc::ptr_eq(self, other) || self.mro.iter().any(|c| Rc::ptr_eq(c, other))
    }
    pub fn set_attr(&self, name: Rc<PyStr>, value: Value) {
        self.dict.borrow_mut().insert(StrKey(name), value);
        self.refresh_flags();
    }
    pub fn refresh_flags(&self) {
        let user_defined = |n: &str| {
            let mut found = self
                .dict
                .borrow()
                .get(n)
                .map(|v| matches!(v, Value::Function(_)));
            if found.is_none() {
                for b in &self.mro {
                    if let Some(v) = b.dict.borrow().get(n) {
                        found = Some(matches!(v, Value::Function(_)));
                        break;
                    }
                }
            }
            found.unwrap_or(false)
        };
        // A native __eq__ defined by a Rust class (not object's default) also needs calling.
        let custom_eq = user_defined("__eq__")
            || (self.is_user && matches!(self.lookup_custom("__eq__"), Some(Value::Native(_))));
        self.slots.set(DunderFlags {
            has_eq: custom_eq,
            has_hash: user_defined("__hash__"),
            has_getattr: user_defined("__getattr__"),
            has_setattr: user_defined("__setattr__"),
            has_delattr: user_defined("__delattr__"),
            has_getattribute: user_defined("__getattribute__"),
            has_instancecheck: self.is_user && self.lookup(INSTANCECHECK).is_some(),
            has_subclasscheck: self.is_user && self.lookup(SUBCLASSCHECK).is_some(),
        });
    }
    pub fn name(&self) -> &str {
        &self.name.s
    }
}

/// Built-in data an instance of a subclass of a built-in type carries.
pub enum Payload {
    None,
    Dict(Rc<PyDict>),
    List(Rc<PyList>),
    Tuple(Rc<PyTuple>),
    /// Boxed: exceptions are rare next to plain instances, which should not pay for their size.
    Exception(Box<RefCell<ExceptionData>>),
    /// Any other value an extension type keeps (a deque's buffer, a wrapped int or str).
    Value(RefCell<Value>),
    /// Rust state of a class defined outside the VM (a deque's ring buffer, an itertools iterator).
    Native(RefCell<Box<dyn NativeState>>),
}

/// State a Rust-defined class keeps in its instances. The collector sees the values it holds
/// through `traverse` and breaks cycles through `clear`.
pub trait NativeState: std::any::Any {
    /// Calls `f` on every value the state holds.
    fn traverse(&self, f: &mut dyn FnMut(&Value));
    /// Moves every held value into `out` (the collector breaking a cycle).
    fn clear(&mut self, out: &mut Vec<Value>);
    fn as_any(&self) -> &dyn std::any::Any;
    fn as_any_mut(&mut self) -> &mut dyn std::any::Any;
}

pub struct Instance {
    pub class: Rc<Class>,
    pub dict: InstDict,
    pub payload: Payload,
}

/// An instance's attribute dict, allocated on the first write: futures, tasks, native coroutines
/// and other Rust-backed instances never get one. It is one pointer (a `OnceCell` of a box, 8
/// bytes) rather than a `RefCell<Option<Box<..>>>` (16): the difference takes a parked task's
/// `Instance` allocation from mimalloc's 80-byte class to the 64-byte one. Reads of a dict never
/// written see a shared empty map. The API is `RefCell`'s, so call sites read as before.
#[derive(Default)]
pub struct InstDict(OnceCell<Box<RefCell<AttrMap>>>);

thread_local! {
    /// The map every unwritten dict reads as (leaked once per thread: `AttrMap` holds `Rc`s, so
    /// it cannot be a `static`; it is only ever borrowed shared, never written).
    static EMPTY_ATTRS: &'static RefCell<AttrMap> = Box::leak(Box::default());
}

fn empty_attrs() -> &'static RefCell<AttrMap> {
    EMPTY_ATTRS.with(|m| *m)
}

impl InstDict {
    pub fn new(map: AttrMap) -> InstDict {
        let d = InstDict::default();
        if !map.is_empty() {
            let _ = d.0.set(Box::new(RefCell::new(map)));
        }
        d
    }

    /// The map to read: the instance's own, or the shared empty one.
    fn cell(&self) -> &RefCell<AttrMap> {
        match self.0.get() {
            Some(map) => map,
            None => empty_attrs(),
        }
    }

    /// The instance's own map, allocated if it had none: only for a write.
    fn own_cell(&self) -> &RefCell<AttrMap> {
        self.0.get_or_init(Box::default)
    }

    pub fn borrow(&self) -> Ref<'_, AttrMap> {
        self.cell().borrow()
    }

    pub fn borrow_mut(&self) -> RefMut<'_, AttrMap> {
        self.own_cell().borrow_mut()
    }

    pub fn try_borrow(&self) -> Result<Ref<'_, AttrMap>, std::cell::BorrowError> {
        self.cell().try_borrow()
    }

    pub fn try_borrow_mut(&self) -> Result<RefMut<'_, AttrMap>, std::cell::BorrowMutError> {
        self.own_cell().try_borrow_mut()
    }

    /// Takes the whole map out (the collector clearing a cycle); the emptied map's allocation
    /// stays until the instance goes. A map borrowed elsewhere at that moment is left alone.
    pub fn take(&self) -> AttrMap {
        match self.0.get().map(|m| m.try_borrow_mut()) {
            Some(Ok(mut m)) => std::mem::take(&mut *m),
            _ => AttrMap::default(),
        }
    }

    /// True when nothing was ever stored.
    pub fn is_unallocated(&self) -> bool {
        self.0.get().is_none()
    }
}

impl Instance {
    pub fn get_own(&self, name: &str) -> Option<Value> {
        self.dict.borrow().get(name).cloned()
    }
    pub fn exception(&self) -> Option<&RefCell<ExceptionData>> {
        match &self.payload {
            Payload::Exception(e) => Some(e),
            _ => None,
        }
    }
}

// Every asyncio Future and Task is an Instance: keep it small (a big Payload variant is boxed).
// 48 bytes plus Rc's two counts is 64, mimalloc's 64-byte class (56 would round up to 80).
const _: () = assert!(std::mem::size_of::<Instance>() <= 48);
const _: () = assert!(std::mem::size_of::<InstDict>() <= 8);
