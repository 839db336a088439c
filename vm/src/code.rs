//! `Code`: what the compiler hands the VM for one function, class body or module.

use std::rc::Rc;

use eddy_parser::ast::Span;

use crate::opcode::Instr;
use crate::value::{PyStr, Value};

/// A source file, shared by every code object compiled from it (tracebacks quote it).
pub struct SourceFile {
    pub name: String,
    pub text: String,
    line_starts: Vec<u32>,
}

impl SourceFile {
    pub fn new(name: impl Into<String>, text: impl Into<String>) -> SourceFile {
        let text = text.into();
        let mut line_starts = vec![0];
        for (i, b) in text.bytes().enumerate() {
            if b == b'\n' {
                line_starts.push(i as u32 + 1);
            }
        }
        SourceFile {
            name: name.into(),
            text,
            line_starts,
        }
    }
    /// 1-based line and 1-based column (in characters) of a byte offset.
    pub fn line_col(&self, offset: u32) -> (u32, u32) {
        let line = match self.line_starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i - 1,
        };
        let start = self.line_starts[line] as usize;
        let end = (offset as usize).min(self.text.len());
        let col = self
            .text
            .get(start..end)
            .map(|s| s.chars().count())
            .unwrap_or(0);
        (line as u32 + 1, col as u32 + 1)
    }
    /// The text of a 1-based line, without its newline.
    pub fn line_text(&self, line: u32) -> &str {
        let i = (line as usize).saturating_sub(1);
        let Some(&start) = self.line_starts.get(i) else {
            return "";
        };
        let end = self
            .line_starts
            .get(i + 1)
            .map(|&e| e as usize)
            .unwrap_or(self.text.len());
        self.text
            .get(start as usize..end)
            .unwrap_or("")
            .trim_end_matches(['\n', '\r'])
    }
}

/// Flags describing how a code object is called.
#[derive(Clone, Copy, Default, Debug)]
pub struct CodeFlags {
    pub varargs: bool,
    pub varkw: bool,
    pub generator: bool,
    pub coroutine: bool,
    pub async_generator: bool,
    /// A class body: names resolve through the class namespace.
    pub class_body: bool,
    /// Module top level (names are globals).
    pub module: bool,
}

/// One `try` region: an exception raised at an instruction in `start..end` jumps to `target` with
/// the value stack cut back to `depth` entries above the locals, then the exception pushed.
#[derive(Clone, Copy, Debug)]
pub struct ExceptionEntry {
    pub start: u32,
    pub end: u32,
    pub target: u32,
    pub depth: u32,
}

/// Where a global name was last found: valid while the module epoch is unchanged.
#[derive(Clone, Copy, Default, Debug)]
pub struct GlobalCache {
    pub epoch: u64,
    pub index: u32,
    pub in_builtins: bool,
}

pub struct Code {
    pub name: Rc<PyStr>,
    pub qualname: Rc<PyStr>,
    pub source: Rc<SourceFile>,
    pub instrs: Vec<Instr>,
    /// Source span of each instruction (same length as `instrs`): the line table.
    pub spans: Vec<Span>,
    pub consts: Vec<Value>,
    pub names: Vec<Rc<PyStr>>,
    /// Names of the local slots; parameters first.
    pub varnames: Vec<Rc<PyStr>>,
    /// Cells this code creates (locals captured by inner functions).
    pub cellvars: Vec<Rc<PyStr>>,
    /// Cells this code receives from its function's closure.
    pub freevars: Vec<Rc<PyStr>>,
    /// (cell index, local slot) for parameters that are also cells: copied in at entry.
    pub cell_params: Vec<(u32, u32)>,
    pub argcount: u32,
    pub posonlyargcount: u32,
    pub kwonlyargcount: u32,
    pub flags: CodeFlags,
    /// Innermost region first, so the first match is the handler.
    pub exception_table: Vec<ExceptionEntry>,
    /// For generator code: the slots (locals, then operands) its deepest suspension saves, so a
    /// new generator's buffer is made that big and its first suspension does not grow it (a
    /// suspension that saves more grows it exactly). Computed by `compile::stackdepth`.
    pub suspend_slots: u32,
    pub first_line: u32,
    /// Whether calls with exactly `argcount` positional arguments can bind them in place.
    pub call_kind: CallKind,
    /// One cache slot per entry of `names`, for LoadGlobal/StoreGlobal.
    pub global_cache: Box<[std::cell::Cell<GlobalCache>]>,
}

/// How the interpreter's call fast path may treat a code object.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CallKind {
    /// No `*args`, `**kwargs`, keyword-only parameters or cells, and not a generator: exact
    /// positional arguments become the locals in place.
    Simple,
    /// As Simple, but a coroutine: only when the call is awaited at once (`await f(...)`), which
    /// runs it inline (`ReturnMode::Await`).
    SimpleCoroutine,
    /// Everything else takes the general path (argument binding, generator objects).
    General,
}

impl Code {
    pub fn nlocals(&self) -> usize {
        self.varnames.len()
    }
    pub fn ncells(&self) -> usize {
        self.cellvars.len() + self.freevars.len()
    }
    /// The 1-based source line of instruction `ip`.
    pub fn line_of(&self, ip: usize) -> u32 {
        let span = self.spans.get(ip).copied().unwrap_or_default();
        self.source.line_col(span.start).0
    }
    pub fn span_of(&self, ip: usize) -> Span {
        self.spans.get(ip).copied().unwrap_or_default()
    }
    /// The handler for an exception at `ip`, if any.
    pub fn handler_for(&self, ip: usize) -> Option<ExceptionEntry> {
        let ip = ip as u32;
        self.exception_table
            .iter()
            .find(|e| e.start <= ip && ip < e.end)
            .copied()
    }
}
