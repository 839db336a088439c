//! The data every exception instance carries: its args, chaining links and traceback.

use std::rc::Rc;

use crate::code::Code;
use crate::value::Value;

#[derive(Clone)]
pub struct ExceptionData {
    /// `e.args`, always a tuple.
    pub args: Value,
    /// `raise ... from cause` (None when absent).
    pub cause: Value,
    /// The exception being handled when this one was raised (None when absent).
    pub context: Value,
    pub suppress_context: bool,
    /// Frames the exception passed through, innermost last (as CPython prints them).
    pub traceback: Vec<TraceEntry>,
    /// `add_note` notes (PEP 678).
    pub notes: Vec<String>,
}

impl ExceptionData {
    pub fn new(args: Value) -> ExceptionData {
        ExceptionData {
            args,
            cause: Value::None,
            context: Value::None,
            suppress_context: false,
            traceback: Vec::new(),
            notes: Vec::new(),
        }
    }
}

/// One frame of a traceback: which code, and the instruction that was executing.
#[derive(Clone)]
pub struct TraceEntry {
    pub code: Rc<Code>,
    pub ip: usize,
}
