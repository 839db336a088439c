//! Attribute names the VM looks up often, allocated once.

use std::rc::Rc;

use crate::value::PyStr;

pub struct Names {
    pub init: Rc<PyStr>,
    pub classcell: Rc<PyStr>,
}

impl Names {
    pub fn new() -> Names {
        let n = |s: &str| Rc::new(PyStr::new(s));
        Names {
            init: n("__init__"),
            classcell: n("__classcell__"),
        }
    }
}

impl Default for Names {
    fn default() -> Self {
        Names::new()
    }
}
