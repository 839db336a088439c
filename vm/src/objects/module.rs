//! Modules: a name and a namespace of globals.

use std::cell::RefCell;
use std::rc::Rc;

use crate::value::{AttrMap, PyStr, StrKey, Value};

pub struct Module {
    pub name: Rc<PyStr>,
    pub dict: RefCell<AttrMap>,
}

impl Module {
    pub fn new(name: &str) -> Module {
        let m = Module { name: Rc::new(PyStr::new(name)), dict: RefCell::new(AttrMap::default()) };
        m.set("__name__", Value::str(name));
        m
    }
    pub fn get(&self, name: &str) -> Option<Value> {
        self.dict.borrow().get(name).cloned()
    }
    pub fn set(&self, name: &str, value: Value) {
        self.dict.borrow_mut().insert(StrKey(Rc::new(PyStr::new(name))), value);
    }
}
