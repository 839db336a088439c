//! A future's done callbacks. Nearly every future gets exactly one (the task awaiting it, or
//! gather's), so one is kept inline and only a second one allocates a vector: with 200k
//! parked tasks that is two fewer allocations per task.
//! When the future finishes, its callbacks stay where they are, marked due, and the ready queue
//! gets one small job naming the future (events.rs `Job::Callbacks`) instead of one job per
//! callback holding both the callback and the future.

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
    /// The future finished and a `Job::Callbacks` for it is queued: these run then. Scripts no
    /// longer see them (CPython empties `_callbacks` when it schedules them).
    DueOne(Callback),
    DueMany(Vec<Callback>),
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
            // Not reached (only pending futures get callbacks); they would run with the rest.
            Callbacks::DueOne(first) => Callbacks::DueMany(vec![first, cb]),
            Callbacks::DueMany(mut v) => {
                v.push(cb);
                Callbacks::DueMany(v)
            }
        };
    }

    /// True when no callback waits for the future to finish.
    pub fn is_empty(&self) -> bool {
        self.as_slice().is_empty()
    }

    /// The callbacks waiting for the future to finish (not the due ones).
    pub fn as_slice(&self) -> &[Callback] {
        match self {
            Callbacks::One(cb) => std::slice::from_ref(cb),
            Callbacks::Many(v) => v,
            Callbacks::None | Callbacks::DueOne(_) | Callbacks::DueMany(_) => &[],
        }
    }

    /// Takes out the callbacks waiting for the future to finish; due ones stay.
    pub fn take(&mut self) -> Vec<Callback> {
        match std::mem::take(self) {
            Callbacks::None => Vec::new(),
            Callbacks::One(cb) => vec![cb],
            Callbacks::Many(v) => v,
            due => {
                *self = due;
                Vec::new()
            }
        }
    }

    /// Puts back the callbacks `take` took (those remove_done_callback kept). Due callbacks
    /// stay due: a finished future has none waiting, so `kept` is empty then.
    pub fn restore(&mut self, kept: Vec<Callback>) {
        match self {
            Callbacks::DueOne(_) | Callbacks::DueMany(_) => {
                kept.into_iter().for_each(|cb| self.push(cb))
            }
            _ => *self = kept.into(),
        }
    }

    /// The future finished: marks its callbacks due. False when there are none to run.
    pub fn schedule(&mut self) -> bool {
        *self = match std::mem::take(self) {
            Callbacks::One(cb) => Callbacks::DueOne(cb),
            Callbacks::Many(v) if !v.is_empty() => Callbacks::DueMany(v),
            Callbacks::Many(_) | Callbacks::None => return false,
            due => due,
        };
        true
    }

    /// Takes out the due callbacks, to run them in order.
    pub fn take_due(&mut self) -> CallbackIter {
        match std::mem::take(self) {
            Callbacks::DueOne(cb) => CallbackIter::One(Some(cb)),
            Callbacks::DueMany(v) => CallbackIter::Many(v.into_iter()),
            pending => {
                *self = pending;
                CallbackIter::One(None)
            }
        }
    }

    /// Drops every callback, due or not (the cycle collector's clear).
    pub fn clear(&mut self) {
        *self = Callbacks::None;
    }

    /// Every script value the callbacks hold, due ones too, for the cycle collector.
    pub fn traverse(&self, f: &mut dyn FnMut(&Value)) {
        let all: &[Callback] = match self {
            Callbacks::None => &[],
            Callbacks::One(cb) | Callbacks::DueOne(cb) => std::slice::from_ref(cb),
            Callbacks::Many(v) | Callbacks::DueMany(v) => v,
        };
        for cb in all {
            match cb {
                Callback::Py(v) | Callback::Wakeup(v) => f(v),
                Callback::Native(_) => {}
            }
        }
    }
}

/// The due callbacks of a future, in order (no allocation for the usual single one).
pub enum CallbackIter {
    One(Option<Callback>),
    Many(std::vec::IntoIter<Callback>),
}

impl Iterator for CallbackIter {
    type Item = Callback;
    fn next(&mut self) -> Option<Callback> {
        match self {
            CallbackIter::One(cb) => cb.take(),
            CallbackIter::Many(it) => it.next(),
        }
    }
}

impl DoubleEndedIterator for CallbackIter {
    fn next_back(&mut self) -> Option<Callback> {
        match self {
            CallbackIter::One(cb) => cb.take(),
            CallbackIter::Many(it) => it.next_back(),
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
