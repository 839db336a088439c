//! Modules: a name and a namespace of globals.

use std::cell::RefCell;
use std::rc::Rc;

use crate::value::{AttrMap, PyStr, StrKey, Value};

thread_local! {
    /// Bumped whenever any module namespace gains or loses a name. Code objects cache where each
    /// global lives (an index into the namespace) and trust the cache while the epoch is unchanged.
    static EPOCH: std::cell::Cell<u64> = const { std::cell::Cell::new(1) };
}

/// The current namespace-shape epoch (see `EPOCH`).
#[inline]
pub fn epoch() -> u64 {
    EPOCH.with(|e| e.get())
}

/// Records that some module namespace gained or lost a name.
pub fn bump_epoch() {
    EPOCH.with(|e| e.set(e.get() + 1));
}

pub struct Module {
    pub name: Rc<PyStr>,
    pub dict: RefCell<AttrMap>,
}

impl Module {
    pub fn new(name: &str) -> Module {
        let m = Module {
            name: Rc::new(PyStr::new(name)),
            dict: RefCell::new(AttrMap::default()),
        };
        m.set("__name__", Value::str(name));
        m.set("__doc__", Value::None);
        m
    }
    pub fn get(&self, name: &str) -> Option<Value> {
        self.dict.borrow().get(name).cloned()
    }
    pub fn set(&self, name: &str, value: Value) {
        if self
            .dict
            .borrow_mut()
            .insert(StrKey(Rc::new(PyStr::new(name))), value)
            .is_none()
        {
            bump_epoch();
        }
    }
    /// Binds a global; returns nothing, bumps the epoch when the name is new.
    pub fn store(&self, name: Rc<PyStr>, value: Value) {
        if self.dict.borrow_mut().insert(StrKey(name), value).is_none() {
            bump_epoch();
        }
    }
    /// Unbinds a global; false if it was not bound.
    pub fn remove(&self, name: &str) -> bool {
        let removed = self.dict.borrow_mut().shift_remove(name).is_some();
        if removed {
            bump_epoch();
        }
        removed
    }
}
