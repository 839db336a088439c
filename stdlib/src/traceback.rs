//! `traceback`: printing and formatting exceptions the way an uncaught one is reported
//! (`print_exc`, `format_exc`, `print_exception`, `format_exception`,
//! `format_exception_only`). The text comes from the VM's traceback renderer; the argument
//! handling (CPython's old `(etype, value, tb)` form and the new `(exc)` form) is Python below.
//! Not here: stack extraction (`extract_tb`, `print_stack`, `StackSummary`).

use std::rc::Rc;

use eddy_vm::objects::module::Module;
use eddy_vm::{Args, PyResult, Value, Vm};

use crate::util::{arity, defs};

pub fn init(vm: &mut Vm) -> PyResult<Rc<Module>> {
    let m = Rc::new(Module::new("traceback"));
    defs(
        vm,
        &m,
        &[("_format", format), ("_format_only", format_only)],
    );
    eddy_vm::import::run_source_in(vm, &m, "<eddy traceback>", SOURCE)?;
    Ok(m)
}

/// `_format(exc)`: the whole report for `exc`, chained exceptions first.
fn format(vm: &mut Vm, a: Args) -> PyResult<Value> {
    arity(vm, "_format", &a, 1, 1)?;
    Ok(Value::string(eddy_vm::traceback::format_exception(
        vm, &a.pos[0],
    )))
}

/// `_format_only(exc)`: the last line, `ExcType: message`.
fn format_only(vm: &mut Vm, a: Args) -> PyResult<Value> {
    arity(vm, "_format_only", &a, 1, 1)?;
    Ok(Value::string(eddy_vm::traceback::exception_line(
        vm, &a.pos[0],
    )))
}

const SOURCE: &str = r##"import sys as _sys

_sentinel = object()


def _pick(exc, value):
    # The old form passes (etype, value, tb); the new one the exception alone.
    if value is not _sentinel:
        return value
    return exc


def _lines(text):
    return text.splitlines(True)


def format_exception_only(exc, /, value=_sentinel):
    exc = _pick(exc, value)
    if exc is None:
        return ["NoneType: None\n"]
    return [_format_only(exc) + "\n"]


def format_exception(exc, /, value=_sentinel, tb=_sentinel, limit=None, chain=True):
    exc = _pick(exc, value)
    if exc is None:
        return ["NoneType: None\n"]
    return _lines(_format(exc))


def print_exception(exc, /, value=_sentinel, tb=_sentinel, limit=None, file=None, chain=True):
    if file is None:
        file = _sys.stderr
    for line in format_exception(exc, value, tb, limit=limit, chain=chain):
        file.write(line)


def format_exc(limit=None, chain=True):
    return "".join(format_exception(_sys.exception(), limit=limit, chain=chain))


def print_exc(limit=None, file=None, chain=True):
    print_exception(_sys.exception(), limit=limit, file=file, chain=chain)
"##;
