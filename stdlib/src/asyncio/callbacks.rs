//! A future's done callbacks. Nearly every future gets exactly one (the task awaiting it, or
//! gather's), so one is kept inline and only a second one allocates a vector: with 200k
//! parked tasks that is two fewer allocations per task.

use std::rc::Rc;

use eddy_vm::{PyResult, Value, Vm};

/// A done callback written in Rust.
pub type NativeCallback = Rc<dyn Fn(&mut Vm, &Value) -> PyResult<()>>;

/// What runs when a future completes.
#[derive(Clone)]
pub enum Callback {
    /// A script callable, called with the future.
    Py(Value),
    /// A task waiting on the future (`Task.__wakeup`).
    Wakeup(Value),
    /// Rust code (gather, run_until_complete).
    Native(NativeCallback),
}

/// The callbacks of one future, in registration order.
#[derive(Default)]
pub enum Callbacks {
    #[default]
    None,
    One(Callback),
    Many(Vec<Callback>),
}

impl Callbacks {
    pub fn push(&mut self, cb: Callback) {
        *self = match std::mem::take(self) {
            Callbacks::None => Callbacks::One(cb),
            Callbacks::One(first) => Callbacks::Many(vec![first, cb]),
            Callbacks::Many(mut v) => {
                v.push(cb);
                Callbacks::Many(v)
            }
        };
    }

    pub fn is_empty(&self) -> bool {
        match self {
            Callbacks::None => true,
            Callbacks::One(_) => false,
            Callbacks::Many(v) => v.is_empty(),
        }
    }

    pub fn as_slice(&self) -> &[Callback] {
        match self {
            Callbacks::None => &[],
            Callbacks::One(cb) => std::slice::from_ref(cb),
            Callbacks::Many(v) => v,
        }
    }

    /// Takes them all out, leaving none.
    pub fn take(&mut self) -> Vec<Callback> {
        match std::mem::take(self) {
            Callbacks::None => Vec::new(),
            Callbacks::One(cb) => vec![cb],
            Callbacks::Many(v) => v,
        }
    }

    /// Every script value the callbacks hold, for the cycle collector.
    pub fn traverse(&self, f: &mut dyn FnMut(&Value)) {
        for cb in self.as_slice() {
            match cb {
                Callback::Py(v) | Callback::Wakeup(v) => f(v),
                Callback::Native(_) => {}
            }
        }
    }
}

impl From<Vec<Callback>> for Callbacks {
    fn from(mut v: Vec<Callback>) -> Callbacks {
        match v.len() {
            0 => Callbacks::None,
            1 => v.pop().map_or(Callbacks::None, Callbacks::One),
            _ => Callbacks::Many(v),
        }
    }
}
