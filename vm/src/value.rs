//! `Value`, the 16-byte tagged union every script value is, and the small string type it points at.
//!
//! Immediates (None, bools, small ints, floats) live inline, so arithmetic on them never allocates;
//! everything else is a reference-counted pointer to an object in `objects/`. Reference counts free
//! acyclic garbage at once; `gc.rs` finds and clears cycles among the container kinds.

use std::cell::{Cell, RefCell};
use std::fmt;
use std::hash::{Hash, Hasher};
use std::rc::Rc;

use num_bigint::BigInt;

use crate::code::Code;
use crate::objects::class::{Class, Instance};
use crate::objects::dict::PyDict;
use crate::objects::function::{BoundMethod, Function, NativeFunction};
use crate::objects::generator::Generator;
use crate::objects::iter::NativeIter;
use crate::objects::misc::{Property, Range, Slice};
use crate::objects::module::Module;
use crate::objects::set::PySet;

/// A script value. Clone is cheap: a copy for immediates, a reference-count bump otherwise.
#[derive(Default)]
pub enum Value {
    /// Internal marker, never visible to scripts: an unbound local slot, or "no self" in a method call.
    #[default]
    Null,
    None,
    NotImplemented,
    Ellipsis,
    Bool(bool),
    Int(i64),
    /// An int outside i64; always normalised (never holds a value that fits in i64).
    BigInt(Rc<BigInt>),
    Float(f64),
    Str(Rc<PyStr>),
    Bytes(Rc<Vec<u8>>),
    List(Rc<PyList>),
    Tuple(Rc<PyTuple>),
    Dict(Rc<PyDict>),
    Set(Rc<PySet>),
    FrozenSet(Rc<PySet>),
    Range(Rc<Range>),
    Slice(Rc<Slice>),
    Function(Rc<Function>),
    Native(Rc<NativeFunction>),
    BoundMethod(Rc<BoundMethod>),
    Class(Rc<Class>),
    Instance(Rc<Instance>),
    Module(Rc<Module>),
    Generator(Rc<Generator>),
    Iterator(Rc<RefCell<NativeIter>>),
    /// A closure cell (only ever seen by the VM, never by scripts).
    Cell(Rc<RefCell<Value>>),
    Code(Rc<Code>),
    Property(Rc<Property>),
    StaticMethod(Rc<Value>),
    ClassMethod(Rc<Value>),
}

const _: () = assert!(std::mem::size_of::<Value>() == 16);

impl Clone for Value {
    /// Immediates are copied inline; only pointer values take the out-of-line path.
    #[inline(always)]
    fn clone(&self) -> Value {
        if self.is_immediate() {
            // One tag test and a 16-byte copy, instead of a jump table that rebuilds the variant.
            // SAFETY: the immediate variants hold only `Copy` data (bool, i64, f64, or nothing)
            // and have no destructor, so a bitwise duplicate is exactly what `Clone` would build,
            // and the original stays valid.
            return unsafe { std::ptr::read(self) };
        }
        match self {
            Value::Function(f) => Value::Function(f.clone()),
            _ => self.clone_pointer(),
        }
    }
}

thread_local! {
    static EMPTY_TUPLE: Rc<PyTuple> = Rc::new(PyTuple(Vec::new().into_boxed_slice()));
}

impl Value {
    #[inline(never)]
    fn clone_pointer(&self) -> Value {
        match self {
            Value::Null => Value::Null,
            Value::None => Value::None,
            Value::NotImplemented => Value::NotImplemented,
            Value::Ellipsis => Value::Ellipsis,
            Value::Bool(b) => Value::Bool(*b),
            Value::Int(i) => Value::Int(*i),
            Value::Float(f) => Value::Float(*f),
            Value::BigInt(r) => Value::BigInt(r.clone()),
            Value::Str(r) => Value::Str(r.clone()),
            Value::Bytes(r) => Value::Bytes(r.clone()),
            Value::List(r) => Value::List(r.clone()),
            Value::Tuple(r) => Value::Tuple(r.clone()),
            Value::Dict(r) => Value::Dict(r.clone()),
            Value::Set(r) => Value::Set(r.clone()),
            Value::FrozenSet(r) => Value::FrozenSet(r.clone()),
            Value::Range(r) => Value::Range(r.clone()),
            Value::Slice(r) => Value::Slice(r.clone()),
            Value::Function(r) => Value::Function(r.clone()),
            Value::Native(r) => Value::Native(r.clone()),
            Value::BoundMethod(r) => Value::BoundMethod(r.clone()),
            Value::Class(r) => Value::Class(r.clone()),
            Value::Instance(r) => Value::Instance(r.clone()),
            Value::Module(r) => Value::Module(r.clone()),
            Value::Generator(r) => Value::Generator(r.clone()),
            Value::Iterator(r) => Value::Iterator(r.clone()),
            Value::Cell(r) => Value::Cell(r.clone()),
            Value::Code(r) => Value::Code(r.clone()),
            Value::Property(r) => Value::Property(r.clone()),
            Value::StaticMethod(r) => Value::StaticMethod(r.clone()),
            Value::ClassMethod(r) => Value::ClassMethod(r.clone()),
        }
    }

    /// True for values with no heap part (dropping them is a no-op).
    #[inline(always)]
    pub fn is_immediate(&self) -> bool {
        matches!(
            self,
            Value::Int(_) | Value::Float(_) | Value::Bool(_) | Value::None | Value::Null
        )
    }

    /// Drops a value, skipping the destructor call for immediates (the hot loop's common case).
    #[inline(always)]
    pub fn discard(self) {
        match self {
            Value::Int(_) | Value::Float(_) | Value::Bool(_) | Value::None | Value::Null => {
                std::mem::forget(self)
            }
            // Calls leave the function in the callee slot; dropping it inline saves a call.
            Value::Function(f) => drop(f),
            other => drop(other),
        }
    }
}

pub type PyList = RefCell<Vec<Value>>;

/// A tuple: an immutable sequence. Boxed slice so it is one allocation inside the Rc.
pub struct PyTuple(pub Box<[Value]>);

impl std::ops::Deref for PyTuple {
    type Target = [Value];
    fn deref(&self) -> &[Value] {
        &self.0
    }
}

/// An immutable string with its hash cached (attribute names and dict keys hash once).
pub struct PyStr {
    pub s: Box<str>,
    hash: Cell<u64>,
    /// Number of code points, or usize::MAX if not yet counted.
    chars: Cell<usize>,
}

impl PyStr {
    pub fn new(s: impl Into<Box<str>>) -> PyStr {
        PyStr {
            s: s.into(),
            hash: Cell::new(0),
            chars: Cell::new(usize::MAX),
        }
    }
    pub fn as_str(&self) -> &str {
        &self.s
    }
    pub fn is_ascii(&self) -> bool {
        self.char_len() == self.s.len()
    }
    /// Length in code points, as Python's `len()` counts.
    pub fn char_len(&self) -> usize {
        let n = self.chars.get();
        if n != usize::MAX {
            return n;
        }
        let n = if self.s.is_ascii() {
            self.s.len()
        } else {
            self.s.chars().count()
        };
        self.chars.set(n);
        n
    }
    /// The string's hash (FNV-1a, never 0 or -1 so it can be cached and used as a Python hash).
    pub fn hash_u64(&self) -> u64 {
        let h = self.hash.get();
        if h != 0 {
            return h;
        }
        let mut h: u64 = 0xcbf29ce484222325;
        for b in self.s.bytes() {
            h ^= b as u64;
            h = h.wrapping_mul(0x100000001b3);
        }
        h >>= 2; // keep it positive as an i64 and away from -1
        if h == 0 {
            h = 1;
        }
        self.hash.set(h);
        h
    }
}

impl fmt::Debug for PyStr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", &*self.s)
    }
}

/// A string key for attribute maps: hashes by the cached string hash, compares by content.
#[derive(Clone)]
pub struct StrKey(pub Rc<PyStr>);

impl PartialEq for StrKey {
    fn eq(&self, other: &StrKey) -> bool {
        Rc::ptr_eq(&self.0, &other.0) || self.0.s == other.0.s
    }
}
impl Eq for StrKey {}
impl Hash for StrKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u64(self.0.hash_u64())
    }
}
impl std::borrow::Borrow<str> for StrKey {
    fn borrow(&self) -> &str {
        &self.0.s
    }
}

/// A borrowed string key that hashes with the string's cached hash (no rehashing on lookup).
pub struct StrRef<'a>(pub &'a PyStr);

impl Hash for StrRef<'_> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u64(self.0.hash_u64())
    }
}

impl indexmap::Equivalent<StrKey> for StrRef<'_> {
    fn equivalent(&self, key: &StrKey) -> bool {
        std::ptr::eq(self.0, &*key.0) || self.0.s == key.0.s
    }
}

/// A string key with its hash computed once, for probing several maps (a class's MRO).
pub struct HashedStr<'a> {
    pub s: &'a str,
    pub hash: u64,
}

impl<'a> HashedStr<'a> {
    pub fn new(s: &'a str) -> HashedStr<'a> {
        HashedStr {
            s,
            hash: str_hash(s),
        }
    }
}

impl Hash for HashedStr<'_> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u64(self.hash)
    }
}

impl indexmap::Equivalent<StrKey> for HashedStr<'_> {
    fn equivalent(&self, key: &StrKey) -> bool {
        self.s == &*key.0.s
    }
}

/// The string hash `PyStr::hash_u64` caches (FNV-1a, shifted to stay a positive i64, never 0).
pub fn str_hash(s: &str) -> u64 {
    let mut h: u64 = 0xcbf29ce484222325;
    for b in s.bytes() {
        h ^= b as u64;
        h = h.wrapping_mul(0x100000001b3);
    }
    h >>= 2;
    if h == 0 {
        1
    } else {
        h
    }
}

/// A hasher that passes a precomputed u64 through (keys hash themselves once, in `StrKey`).
#[derive(Default, Clone, Copy)]
pub struct PassThroughHasher(u64);
impl Hasher for PassThroughHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        // Only reached through `Borrow<str>` lookups; hash the same way PyStr does.
        let mut h: u64 = 0xcbf29ce484222325;
        for b in bytes {
            h ^= *b as u64;
            h = h.wrapping_mul(0x100000001b3);
        }
        // str's Hash impl appends a 0xff terminator byte; PyStr's hash does not include it.
        if bytes == [0xff] {
            return;
        }
        h >>= 2;
        if h == 0 {
            h = 1;
        }
        self.0 = h;
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

pub type BuildPassThrough = std::hash::BuildHasherDefault<PassThroughHasher>;

/// Attribute storage for instances, classes and modules: insertion-ordered, string-keyed.
pub type AttrMap = indexmap::IndexMap<StrKey, Value, BuildPassThrough>;

impl Value {
    pub fn str(s: &str) -> Value {
        Value::Str(Rc::new(PyStr::new(s)))
    }
    pub fn string(s: String) -> Value {
        Value::Str(Rc::new(PyStr::new(s)))
    }
    pub fn list(items: Vec<Value>) -> Value {
        crate::gc::track_list(Rc::new(RefCell::new(items)))
    }
    pub fn tuple(items: Vec<Value>) -> Value {
        // `()` is a singleton, as in CPython (`() is ()`).
        if items.is_empty() {
            return EMPTY_TUPLE.with(|t| Value::Tuple(t.clone()));
        }
        crate::gc::track_tuple(Rc::new(PyTuple(items.into_boxed_slice())))
    }
    pub fn from_bigint(b: BigInt) -> Value {
        use num_traits::ToPrimitive;
        match b.to_i64() {
            Some(i) => Value::Int(i),
            None => Value::BigInt(Rc::new(b)),
        }
    }
    pub fn is_none(&self) -> bool {
        matches!(self, Value::None)
    }
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }
    /// Identity, as Python's `is` sees it.
    pub fn is(&self, other: &Value) -> bool {
        use Value::*;
        match (self, other) {
            (Null, Null)
            | (None, None)
            | (NotImplemented, NotImplemented)
            | (Ellipsis, Ellipsis) => true,
            (Bool(a), Bool(b)) => a == b,
            // Small ints and floats are values here; CPython caches small ints, and scripts that
            // compare ints with `is` expect equal small ints to be identical.
            (Int(a), Int(b)) => a == b,
            (Float(a), Float(b)) => a.to_bits() == b.to_bits(),
            (BigInt(a), BigInt(b)) => Rc::ptr_eq(a, b),
            (Str(a), Str(b)) => Rc::ptr_eq(a, b) || (a.s.len() <= 1 && a.s == b.s),
            _ => match (self.ptr_id(), other.ptr_id()) {
                (Some(a), Some(b)) => a == b,
                _ => false,
            },
        }
    }
    /// The address of the object behind a pointer value (its `id()`).
    pub fn ptr_id(&self) -> Option<usize> {
        use Value::*;
        Some(match self {
            BigInt(r) => Rc::as_ptr(r) as *const u8 as usize,
            Str(r) => Rc::as_ptr(r) as *const u8 as usize,
            Bytes(r) => Rc::as_ptr(r) as *const u8 as usize,
            List(r) => Rc::as_ptr(r) as *const u8 as usize,
            Tuple(r) => Rc::as_ptr(r) as *const u8 as usize,
            Dict(r) => Rc::as_ptr(r) as *const u8 as usize,
            Set(r) | FrozenSet(r) => Rc::as_ptr(r) as *const u8 as usize,
            Range(r) => Rc::as_ptr(r) as *const u8 as usize,
            Slice(r) => Rc::as_ptr(r) as *const u8 as usize,
            Function(r) => Rc::as_ptr(r) as *const u8 as usize,
            Native(r) => Rc::as_ptr(r) as *const u8 as usize,
            BoundMethod(r) => Rc::as_ptr(r) as *const u8 as usize,
            Class(r) => Rc::as_ptr(r) as *const u8 as usize,
            Instance(r) => Rc::as_ptr(r) as *const u8 as usize,
            Module(r) => Rc::as_ptr(r) as *const u8 as usize,
            Generator(r) => Rc::as_ptr(r) as *const u8 as usize,
            Iterator(r) => Rc::as_ptr(r) as *const u8 as usize,
            Cell(r) => Rc::as_ptr(r) as *const u8 as usize,
            Code(r) => Rc::as_ptr(r) as *const u8 as usize,
            Property(r) => Rc::as_ptr(r) as *const u8 as usize,
            StaticMethod(r) | ClassMethod(r) => Rc::as_ptr(r) as *const u8 as usize,
            _ => return Option::None,
        })
    }
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(&s.s),
            _ => None,
        }
    }
}

impl From<i64> for Value {
    fn from(i: i64) -> Value {
        Value::Int(i)
    }
}
impl From<bool> for Value {
    fn from(b: bool) -> Value {
        Value::Bool(b)
    }
}
impl From<f64> for Value {
    fn from(f: f64) -> Value {
        Value::Float(f)
    }
}
impl From<&str> for Value {
    fn from(s: &str) -> Value {
        Value::str(s)
    }
}
impl From<String> for Value {
    fn from(s: String) -> Value {
        Value::string(s)
    }
}
