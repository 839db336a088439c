//! Script functions (code plus defaults and closure cells), native functions, bound methods.

use std::cell::RefCell;
use std::rc::Rc;

use crate::code::Code;
use crate::objects::module::Module;
use crate::value::{AttrMap, PyStr, Value};
use crate::vm::Vm;
use crate::PyResult;

pub struct Function {
    pub code: Rc<Code>,
    pub globals: Rc<Module>,
    /// Defaults of the last positional parameters, in order.
    pub defaults: Vec<Value>,
    /// Defaults of keyword-only parameters, by name.
    pub kwdefaults: Vec<(Rc<PyStr>, Value)>,
    /// Cells for the code's free variables, in `code.freevars` order.
    pub closure: Vec<Rc<RefCell<Value>>>,
    pub name: RefCell<Rc<PyStr>>,
    pub qualname: RefCell<Rc<PyStr>>,
    /// Attributes scripts set on the function (`__wrapped__`, `__doc__`, ...).
    pub dict: RefCell<AttrMap>,
}

/// Arguments as a native function receives them.
#[derive(Default)]
pub struct Args {
    pub pos: Vec<Value>,
    pub kw: Vec<(Rc<PyStr>, Value)>,
}

impl Args {
    pub fn new(pos: Vec<Value>) -> Args {
        Args {
            pos,
            kw: Vec::new(),
        }
    }
    /// Removes and returns the keyword argument `name`, if given.
    pub fn take_kw(&mut self, name: &str) -> Option<Value> {
        let i = self.kw.iter().position(|(k, _)| &*k.s == name)?;
        Some(self.kw.remove(i).1)
    }
    pub fn len(&self) -> usize {
        self.pos.len()
    }
    pub fn is_empty(&self) -> bool {
        self.pos.is_empty()
    }
}

pub type NativeFn = fn(&mut Vm, Args) -> PyResult<Value>;

pub struct NativeFunction {
    pub name: Rc<PyStr>,
    pub func: NativeFn,
    /// State captured by the native function; when not Null it is passed as the first argument.
    pub data: Value,
}

pub struct BoundMethod {
    pub func: Value,
    pub receiver: Value,
}
