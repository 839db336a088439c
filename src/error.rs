//! The library's error type: a syntax error with its source span, an uncaught script exception
//! with its traceback (and the chain of exceptions that led to it), or an I/O problem reading the
//! script. It implements `std::error::Error` and `miette::Diagnostic`, so a host can render it with
//! any miette handler; the `eddy` command renders it with `crate::render` instead.
//! This file does not print anything: rendering is `render.rs`'s job.

use std::collections::BTreeMap;
use std::fmt;
use std::rc::Rc;

use eddy_parser::ast::Span;
use eddy_vm::{SourceFile, Value, Vm};

/// One traceback frame of an uncaught exception.
#[derive(Clone, Debug)]
pub struct Frame {
    /// The file name as the script was started with (or `<string>` for `-c`).
    pub file: String,
    /// 1-based line of the instruction that was running.
    pub line: u32,
    /// 1-based column, in characters, of the start of `span`.
    pub column: u32,
    /// The code object's name: `<module>`, a function name, `<lambda>`...
    pub function: String,
    /// The text of `line`, without its newline.
    pub source_line: String,
    /// Byte span of the expression that was running, in the file's text.
    pub span: (usize, usize),
}

/// How an earlier exception in a chain leads to the next one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Link {
    /// `raise X from Y`: Y is the direct cause of X.
    Cause,
    /// X was raised while Y was being handled.
    Context,
}

/// One exception of a chain: its frames (outermost first), its `ExcType: message` line and notes.
#[derive(Clone, Debug)]
pub struct ChainedException {
    pub frames: Vec<Frame>,
    pub last_line: String,
    /// Notes added with `add_note`, printed after `last_line` as CPython does.
    pub notes: Vec<String>,
    /// How this exception leads to the next one in the chain.
    pub link: Link,
}

/// Everything that can go wrong compiling or running a script.
#[derive(Debug)]
pub enum Error {
    /// The source does not parse or compile. `kind` is the Python class CPython would raise
    /// (`SyntaxError`, `IndentationError`, `TabError`), `label` the words under the span (the
    /// parser's label), `help` a hint for a common mistake.
    Syntax {
        kind: &'static str,
        file: String,
        source: String,
        line: u32,
        column: u32,
        message: String,
        span: Span,
        label: String,
        help: Option<String>,
    },
    /// An exception escaped the script. `report` is the plain CPython-style traceback text;
    /// `frames`, `notes` and `chain` are the same information in pieces, for rich rendering;
    /// `sources` holds the text of every file a frame points into, by file name.
    /// `exit_code` is set for `SystemExit`, which is not an error to report but a way out.
    Exception {
        type_name: String,
        message: String,
        last_line: String,
        report: String,
        frames: Vec<Frame>,
        notes: Vec<String>,
        chain: Vec<ChainedException>,
        sources: BTreeMap<String, String>,
        is_group: bool,
        exit_code: Option<i32>,
    },
    /// The script file could not be read (missing, unreadable, not UTF-8).
    Io(String),
}

impl Error {
    /// A parser error, keeping the exception class the parser chose.
    pub fn from_parse_error(file: &Rc<SourceFile>, e: eddy_parser::SyntaxError) -> Error {
        let kind = e.kind();
        let mut err = Error::syntax(file, e.message, e.span, e.label, e.help);
        if let Error::Syntax { kind: k, .. } = &mut err {
            *k = kind;
        }
        err
    }

    /// A `SyntaxError` at `span` of `file`.
    pub fn syntax(
        file: &Rc<SourceFile>,
        message: String,
        span: Span,
        label: String,
        help: Option<String>,
    ) -> Error {
        let (line, column) = file.line_col(span.start);
        Error::Syntax {
            kind: "SyntaxError",
            file: file.name.clone(),
            source: file.text.clone(),
            line,
            column,
            message,
            span,
            label,
            help,
        }
    }

    pub fn from_exception(vm: &mut Vm, exc: Value) -> Error {
        // SystemExit carries an exit status rather than a report.
        if vm.exc_matches(&exc, "SystemExit") {
            return system_exit(vm, &exc);
        }
        let report = eddy_vm::traceback::format_exception(vm, &exc);
        let last_line = eddy_vm::traceback::exception_line(vm, &exc);
        let type_name = vm.type_name(&exc);
        let message = eddy_vm::ops::to_str(vm, &exc).unwrap_or_default();
        let is_group = !eddy_vm::exceptions::group_items(&exc).is_empty();
        let mut sources = BTreeMap::new();
        let frames = frames(&exc, &mut sources);
        let notes = notes_of(&exc);
        let mut chain = Vec::new();
        collect_chain(vm, &exc, &mut chain, &mut sources);
        Error::Exception {
            type_name,
            message,
            last_line,
            report,
            frames,
            notes,
            chain,
            sources,
            is_group,
            exit_code: None,
        }
    }

    /// The process exit status this error calls for.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Exception {
                exit_code: Some(c), ..
            } => *c,
            Error::Io(_) => 2,
            _ => 1,
        }
    }

    /// The final line of the report, as CPython prints it: `SyntaxError: ...`, `ExcType: message`.
    pub fn last_line(&self) -> String {
        match self {
            Error::Syntax { kind, message, .. } => format!("{kind}: {message}"),
            Error::Exception { last_line, .. } => last_line.clone(),
            Error::Io(m) => m.clone(),
        }
    }
}

/// `SystemExit(code)`: None means 0, an int is the status, anything else is printed and means 1.
fn system_exit(vm: &mut Vm, exc: &Value) -> Error {
    let code = eddy_vm::attr::get_attr(vm, exc, "code").unwrap_or(Value::None);
    let (exit, text) = match &code {
        Value::None => (0, String::new()),
        Value::Int(i) => (*i as i32, String::new()),
        Value::Bool(b) => (*b as i32, String::new()),
        other => (1, eddy_vm::ops::to_str(vm, other).unwrap_or_default()),
    };
    let report = if text.is_empty() {
        String::new()
    } else {
        format!("{text}\n")
    };
    Error::Exception {
        type_name: "SystemExit".into(),
        message: text.clone(),
        last_line: text,
        report,
        frames: vec![],
        notes: vec![],
        chain: vec![],
        sources: BTreeMap::new(),
        is_group: false,
        exit_code: Some(exit),
    }
}

/// The frames of one exception, outermost first, remembering each file's text in `sources`.
fn frames(exc: &Value, sources: &mut BTreeMap<String, String>) -> Vec<Frame> {
    eddy_vm::traceback::frames_of(exc)
        .into_iter()
        .map(|f| {
            if !sources.contains_key(&f.file) {
                sources.insert(f.file.clone(), f.source.text.clone());
            }
            let column = f.source.line_col(f.span.0).1;
            Frame {
                file: f.file,
                line: f.line,
                column,
                function: f.function,
                source_line: f.source_line,
                span: (f.span.0 as usize, f.span.1 as usize),
            }
        })
        .collect()
}

fn notes_of(exc: &Value) -> Vec<String> {
    match exc {
        Value::Instance(i) => i
            .exception()
            .map(|d| d.borrow().notes.clone())
            .unwrap_or_default(),
        _ => Vec::new(),
    }
}

/// The exceptions that led to `exc` (its cause, or its context unless suppressed), earliest first,
/// as CPython prints them. Chains are bounded as CPython's are not, to survive a cycle.
fn collect_chain(
    vm: &mut Vm,
    exc: &Value,
    chain: &mut Vec<ChainedException>,
    sources: &mut BTreeMap<String, String>,
) {
    const MAX_CHAIN: usize = 50;
    let mut current = exc.clone();
    let mut found = Vec::new();
    while found.len() < MAX_CHAIN {
        let Value::Instance(i) = &current else { break };
        let Some(data) = i.exception() else { break };
        let (cause, context, suppress) = {
            let d = data.borrow();
            (d.cause.clone(), d.context.clone(), d.suppress_context)
        };
        let (next, link) = if !cause.is_none() {
            (cause, Link::Cause)
        } else if !context.is_none() && !suppress {
            (context, Link::Context)
        } else {
            break;
        };
        let frames = frames(&next, sources);
        let last_line = eddy_vm::traceback::exception_line(vm, &next);
        found.push(ChainedException {
            frames,
            last_line,
            notes: notes_of(&next),
            link,
        });
        current = next;
    }
    found.reverse();
    chain.extend(found);
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Syntax {
                kind,
                file,
                line,
                column,
                message,
                ..
            } => write!(f, "{file}:{line}:{column}: {kind}: {message}"),
            Error::Exception { last_line, .. } => write!(f, "{last_line}"),
            Error::Io(m) => write!(f, "{m}"),
        }
    }
}

impl std::error::Error for Error {}

impl miette::Diagnostic for Error {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        match self {
            Error::Syntax { kind, .. } => Some(Box::new(kind)),
            Error::Exception { type_name, .. } => Some(Box::new(type_name)),
            Error::Io(_) => None,
        }
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        match self {
            Error::Syntax { help: Some(h), .. } => Some(Box::new(h)),
            _ => None,
        }
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        match self {
            Error::Syntax { source, .. } => Some(source),
            Error::Exception {
                frames, sources, ..
            } => frames
                .last()
                .and_then(|f| sources.get(&f.file))
                .map(|s| s as &dyn miette::SourceCode),
            Error::Io(_) => None,
        }
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = miette::LabeledSpan> + '_>> {
        match self {
            Error::Syntax { span, label, .. } => {
                let (start, end) = (span.start as usize, span.end as usize);
                Some(Box::new(std::iter::once(
                    miette::LabeledSpan::new_primary_with_span(Some(label.clone()), start..end),
                )))
            }
            Error::Exception { frames, .. } => {
                let f = frames.last()?;
                let label = format!("raised here, in {}", f.function);
                Some(Box::new(std::iter::once(
                    miette::LabeledSpan::new_primary_with_span(Some(label), f.span.0..f.span.1),
                )))
            }
            Error::Io(_) => None,
        }
    }
}
