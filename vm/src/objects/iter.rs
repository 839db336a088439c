//! Built-in iterators (over lists, ranges, dicts, ...) and the lazy builtins (map, zip, ...).
//! Advancing them is `crate::ops::iter_next`, since some must call back into scripts.

use std::rc::Rc;

use crate::value::{PyStr, PyTuple, Value};

pub enum NativeIter {
    /// Over a list by index (sees appends made during iteration, as CPython does).
    List {
        list: Value,
        index: usize,
    },
    Tuple {
        tuple: Rc<PyTuple>,
        index: usize,
    },
    Range {
        next: i64,
        stop: i64,
        step: i64,
    },
    /// Over a str by byte offset.
    Str {
        s: Rc<PyStr>,
        pos: usize,
    },
    Bytes {
        b: Rc<Vec<u8>>,
        index: usize,
    },
    /// Over a dict's (or set's) entry slots; `kind` 0 keys, 1 values, 2 items.
    Dict {
        dict: Value,
        pos: usize,
        kind: u8,
        len_at_start: usize,
    },
    /// Over a snapshot of values.
    Values {
        items: Vec<Value>,
        index: usize,
    },
    Reversed {
        seq: Value,
        index: i64,
    },
    Enumerate {
        inner: Value,
        count: Value,
    },
    Zip {
        iters: Vec<Value>,
        strict: bool,
    },
    Map {
        func: Value,
        iters: Vec<Value>,
    },
    Filter {
        func: Value,
        inner: Value,
    },
    /// `iter(callable, sentinel)`.
    Callable {
        func: Value,
        sentinel: Value,
    },
    /// An object with `__getitem__` but no `__iter__`.
    SeqIndex {
        obj: Value,
        index: i64,
    },
    Count {
        next: Value,
        step: Value,
    },
    Exhausted,
}
