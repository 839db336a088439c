//! The library's error type: a syntax error with its source span, an uncaught script exception
//! with its traceback, or an I/O problem reading the script.

use std::fmt;
use std::rc::Rc;

use eddy_parser::ast::Span;
use eddy_vm::{SourceFile, Value, Vm};

/// One traceback frame of an uncaught exception.
#[derive(Clone, Debug)]
pub struct Frame {
    pub file: String,
    pub line: u32,
    pub function: String,
    pub source_line: String,
    pub span: (usize, usize),
}

#[derive(Debug)]
pub enum Error {
    /// The source does not parse or compile.
    Syntax { file: String, source: String, line: u32, column: u32, message: String, span: Span, label: String, help: Option<String> },
    /// An exception escaped the script. `report` is the CPython-style traceback text.
    Exception { type_name: String, message: String, last_line: String, report: String, frames: Vec<Frame>, exit_code: Option<i32> },
    /// The script file could not be read.
    Io(String),
}

impl Error {
    pub fn syntax(file: &Rc<SourceFile>, message: String, span: Span, label: String, help: Option<String>) -> Error {
        let (line, column) = file.line_col(span.start);
        Error::Syntax { file: file.name.clone(), source: file.text.clone(), line, column, message, span, label, help }
    }

    pub fn from_exception(vm: &mut Vm, exc: Value) -> Error {
        // SystemExit carries an exit status rather than a report.
        if vm.exc_matches(&exc, "SystemExit") {
            let code = eddy_vm::attr::get_attr(vm, &exc, "code").unwrap_or(Value::None);
            let (exit, text) = match &code {
                Value::None => (0, String::new()),
                Value::Int(i) => (*i as i32, String::new()),
                Value::Bool(b) => (*b as i32, String::new()),
                other => (1, eddy_vm::ops::to_str(vm, other).unwrap_or_default()),
            };
            return Error::Exception { type_name: "SystemExit".into(), message: text.clone(), last_line: text.clone(), report: if text.is_empty() { String::new() } else { format!("{text}\n") }, frames: vec![], exit_code: Some(exit) };
        }
        let report = eddy_vm::traceback::format_exception(vm, &exc);
        let last_line = eddy_vm::traceback::exception_line(vm, &exc);
        let type_name = vm.type_name(&exc);
        let message = eddy_vm::ops::to_str(vm, &exc).unwrap_or_default();
        let frames = eddy_vm::traceback::frames_of(&exc)
            .into_iter()
            .map(|f| Frame { file: f.file, line: f.line, function: f.function, source_line: f.source_line, span: (f.span.0 as usize, f.span.1 as usize) })
            .collect();
        Error::Exception { type_name, message, last_line, report, frames, exit_code: None }
    }

    /// The process exit status this error calls for.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Exception { exit_code: Some(c), .. } => *c,
            Error::Io(_) => 2,
            _ => 1,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Syntax { file, line, column, message, .. } => write!(f, "{file}:{line}:{column}: SyntaxError: {message}"),
            Error::Exception { last_line, .. } => write!(f, "{last_line}"),
            Error::Io(m) => write!(f, "{m}"),
        }
    }
}

impl std::error::Error for Error {}
