//! One entry of the collector's list: a weak reference to a tracked container, in 8 bytes.
//!
//! The list holds every live container (three per parked asyncio task), so its entry size is
//! a visible part of a program's memory. A `Weak` is one pointer to an 8-aligned object, so
//! its three low bits are free: they hold which kind of object it points to, where an enum of
//! `Weak`s would take 16 bytes.

use std::cell::RefCell;
use std::mem::ManuallyDrop;
use std::rc::{Rc, Weak};

use crate::objects::class::Instance;
use crate::objects::dict::PyDict;
use crate::objects::function::Function;
use crate::objects::generator::Generator;
use crate::value::{PyList, PyTuple, Value};

const TAG_BITS: usize = 0b111;

#[derive(Clone, Copy, PartialEq, Eq)]
#[repr(usize)]
enum Kind {
    List = 0,
    Tuple = 1,
    Dict = 2,
    Instance = 3,
    Function = 4,
    Generator = 5,
    Cell = 6,
}

// The tag lives in the pointer's low bits: every tracked type must be at least 8-aligned.
const _: () = {
    assert!(std::mem::align_of::<PyList>() > TAG_BITS);
    assert!(std::mem::align_of::<PyTuple>() > TAG_BITS);
    assert!(std::mem::align_of::<PyDict>() > TAG_BITS);
    assert!(std::mem::align_of::<Instance>() > TAG_BITS);
    assert!(std::mem::align_of::<Function>() > TAG_BITS);
    assert!(std::mem::align_of::<Generator>() > TAG_BITS);
    assert!(std::mem::align_of::<RefCell<Value>>() > TAG_BITS);
};

/// A weak reference to a list, tuple, dict, instance, function, generator or cell.
pub(super) struct Tracked(usize);

impl Tracked {
    fn new<T>(weak: Weak<T>, kind: Kind) -> Tracked {
        // `into_raw` keeps the weak count; `Drop` gives it back through `from_raw`.
        Tracked(Weak::into_raw(weak) as usize | kind as usize)
    }

    pub(super) fn list(r: &Rc<PyList>) -> Tracked {
        Tracked::new(Rc::downgrade(r), Kind::List)
    }
    pub(super) fn tuple(r: &Rc<PyTuple>) -> Tracked {
        Tracked::new(Rc::downgrade(r), Kind::Tuple)
    }
    pub(super) fn dict(r: &Rc<PyDict>) -> Tracked {
        Tracked::new(Rc::downgrade(r), Kind::Dict)
    }
    pub(super) fn instance(r: &Rc<Instance>) -> Tracked {
        Tracked::new(Rc::downgrade(r), Kind::Instance)
    }
    pub(super) fn function(r: &Rc<Function>) -> Tracked {
        Tracked::new(Rc::downgrade(r), Kind::Function)
    }
    pub(super) fn generator(r: &Rc<Generator>) -> Tracked {
        Tracked::new(Rc::downgrade(r), Kind::Generator)
    }
    pub(super) fn cell(r: &Rc<RefCell<Value>>) -> Tracked {
        Tracked::new(Rc::downgrade(r), Kind::Cell)
    }

    fn kind(&self) -> Kind {
        match self.0 & TAG_BITS {
            0 => Kind::List,
            1 => Kind::Tuple,
            2 => Kind::Dict,
            3 => Kind::Instance,
            4 => Kind::Function,
            5 => Kind::Generator,
            _ => Kind::Cell,
        }
    }

    /// The weak reference, borrowed: dropping the result must not release it.
    ///
    /// # Safety
    /// `T` must be the type this entry was made from (the one its kind names).
    unsafe fn weak<T>(&self) -> ManuallyDrop<Weak<T>> {
        // SAFETY: the untagged bits are the pointer `Weak::into_raw` returned for a `Weak<T>`
        // (the caller matched `T` to the kind), and that weak count is still held by `self`.
        ManuallyDrop::new(unsafe { Weak::from_raw((self.0 & !TAG_BITS) as *const T) })
    }

    /// The object as a value, if it is still alive.
    pub(super) fn upgrade(&self) -> Option<Value> {
        // SAFETY (each arm): the type parameter is the one the kind was made with.
        unsafe {
            Some(match self.kind() {
                Kind::List => Value::List(self.weak::<PyList>().upgrade()?),
                Kind::Tuple => Value::Tuple(self.weak::<PyTuple>().upgrade()?),
                Kind::Dict => Value::Dict(self.weak::<PyDict>().upgrade()?),
                Kind::Instance => Value::Instance(self.weak::<Instance>().upgrade()?),
                Kind::Function => Value::Function(self.weak::<Function>().upgrade()?),
                Kind::Generator => Value::Generator(self.weak::<Generator>().upgrade()?),
                Kind::Cell => Value::Cell(self.weak::<RefCell<Value>>().upgrade()?),
            })
        }
    }

    pub(super) fn alive(&self) -> bool {
        // SAFETY (each arm): the type parameter is the one the kind was made with.
        unsafe {
            match self.kind() {
                Kind::List => self.weak::<PyList>().strong_count() > 0,
                Kind::Tuple => self.weak::<PyTuple>().strong_count() > 0,
                Kind::Dict => self.weak::<PyDict>().strong_count() > 0,
                Kind::Instance => self.weak::<Instance>().strong_count() > 0,
                Kind::Function => self.weak::<Function>().strong_count() > 0,
                Kind::Generator => self.weak::<Generator>().strong_count() > 0,
                Kind::Cell => self.weak::<RefCell<Value>>().strong_count() > 0,
            }
        }
    }
}

impl Drop for Tracked {
    fn drop(&mut self) {
        // SAFETY (each arm): the type parameter is the one the kind was made with, and this
        // is the last use of the entry, so its weak count is given back exactly once.
        unsafe {
            match self.kind() {
                Kind::List => ManuallyDrop::drop(&mut self.weak::<PyList>()),
                Kind::Tuple => ManuallyDrop::drop(&mut self.weak::<PyTuple>()),
                Kind::Dict => ManuallyDrop::drop(&mut self.weak::<PyDict>()),
                Kind::Instance => ManuallyDrop::drop(&mut self.weak::<Instance>()),
                Kind::Function => ManuallyDrop::drop(&mut self.weak::<Function>()),
                Kind::Generator => ManuallyDrop::drop(&mut self.weak::<Generator>()),
                Kind::Cell => ManuallyDrop::drop(&mut self.weak::<RefCell<Value>>()),
            }
        }
    }
}

const _: () = assert!(std::mem::size_of::<Tracked>() == 8);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upgrades_while_alive_and_releases_its_weak_count() {
        let l: Rc<PyList> = Rc::new(RefCell::new(vec![Value::Int(1)]));
        let t = Tracked::list(&l);
        assert_eq!(Rc::weak_count(&l), 1);
        assert!(t.alive());
        assert!(matches!(t.upgrade(), Some(Value::List(ref x)) if Rc::ptr_eq(x, &l)));
        drop(t);
        assert_eq!(Rc::weak_count(&l), 0);
    }

    #[test]
    fn sees_death_and_keeps_each_kind_apart() {
        let cell = Rc::new(RefCell::new(Value::None));
        let tuple = Rc::new(PyTuple(vec![Value::Int(2)].into_boxed_slice()));
        let (tc, tt) = (Tracked::cell(&cell), Tracked::tuple(&tuple));
        assert!(matches!(tc.upgrade(), Some(Value::Cell(_))));
        assert!(matches!(tt.upgrade(), Some(Value::Tuple(_))));
        drop(cell);
        assert!(!tc.alive());
        assert!(tc.upgrade().is_none());
        assert!(tt.alive());
    }
}
