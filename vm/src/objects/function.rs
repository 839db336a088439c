//! Script functions (code plus defaults and closure cells), native functions, bound methods,
//! and the interpreter's direct path for calling a native function.

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

impl Vm {
    /// Calls the native function or built-in type at `stack[at]` with the positional arguments
    /// above it and keywords `kw`, leaving the stack truncated to `at`. Equivalent to
    /// `call_args` on the callee, without its generic dispatch: callee and arguments are moved
    /// off the stack instead of cloned first. Loops call small natives (`list.append`,
    /// `dict.get`, `str(n)`) constantly, so this path is worth keeping short.
    pub fn call_native_on_stack(
        &mut self,
        at: usize,
        kw: Vec<(Rc<PyStr>, Value)>,
    ) -> PyResult<Value> {
        // `split_off` moves the arguments with one memcpy. A native with bound data gets it as
        // its first argument: it takes the callee's slot, so no second move is needed.
        let data = match &self.stack[at] {
            Value::Native(n) if !n.data.is_null() => Some(n.data.clone()),
            _ => None,
        };
        let (pos, callee) = match data {
            Some(d) => {
                let callee = std::mem::replace(&mut self.stack[at], d);
                (self.stack.split_off(at), callee)
            }
            None => {
                let pos = self.stack.split_off(at + 1);
                (pos, self.stack.pop().unwrap_or_default())
            }
        };
        self.call_native_args(callee, Args { pos, kw })
    }

    /// Calls a native function or built-in type with arguments already gathered in a vector
    /// (`f(*args)`: a big unpacked tuple goes to the callee without a trip through the stack).
    /// Bound data, if any, must already be the first argument.
    #[inline]
    pub fn call_native_args(&mut self, callee: Value, args: Args) -> PyResult<Value> {
        // The same re-entry accounting as `call_args`, so recursion limits stay where they were.
        if self.native_depth >= crate::vm::MAX_NATIVE_REENTRY.min(self.recursion_limit) {
            return Err(self.error("RecursionError", "maximum recursion depth exceeded"));
        }
        self.native_depth += 1;
        let r = match callee {
            Value::Native(n) => (n.func)(self, args),
            Value::Class(c) => crate::call::instantiate(self, &c, args),
            other => self.call_args(&other, args),
        };
        self.native_depth -= 1;
        r
    }
}
