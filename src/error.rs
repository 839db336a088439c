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

/// Everything that can go wrong compiling or running a script. The details are boxed so a
/// `Result<_, Error>` stays small on the happy path.
#[derive(Debug)]
pub enum Error {
    /// The source does not parse or compile.
    Syntax(Box<SyntaxError>),
    /// An exception escaped the script (or `SystemExit` asked to leave).
    Exception(Box<Uncaught>),
    /// The script file could not be read (missing, unreadable, not UTF-8).
    Io(String),
    /// The embedding API could not do what the host asked (a VM thread that stopped).
    Host(String),
}

/// A syntax or compile error with where it is and what to do about it.
#[derive(Debug)]
pub struct SyntaxError {
    /// The Python class CPython would raise: `SyntaxError`, `IndentationError`, `TabError`.
    pub kind: &'static str,
    pub file: String,
    /// The whole text of `file`, so a report can show the line.
    pub source: String,
    /// 1-based line and column (in characters) of the start of `span`.
    pub line: u32,
    pub column: u32,
    /// CPython's message, e.g. `expected ':'`.
    pub message: String,
    /// Byte span of the offending text.
    pub span: Span,
    /// The words under the span (the parser's label).
    pub label: String,
    /// A hint for a common mistake.
    pub help: Option<String>,
}

/// An exception that escaped the script.
#[derive(Debug)]
pub struct Uncaught {
    /// The exception's class name, e.g. `KeyError`.
    pub type_name: String,
    /// `str(exception)`.
    pub message: String,
    /// CPython's last line for it: `ExcType: message` (or just `ExcType`).
    pub last_line: String,
    /// The plain CPython-style traceback text, chain included.
    pub report: String,
    /// Frames of the final exception, outermost first.
    pub frames: Vec<Frame>,
    /// Notes added with `add_note`, printed after `last_line`.
    pub notes: Vec<String>,
    /// The exceptions that led to this one, earliest first.
    pub chain: Vec<ChainedException>,
    /// The text of every file a frame points into, by file name.
    pub sources: BTreeMap<String, String>,
    /// True for an exception group, whose members only `report` shows.
    pub is_group: bool,
    /// Set for `SystemExit`, which is not an error to report but a way out with this status.
    pub exit_code: Option<i32>,
    /// The host-set limit that stopped the script, if one did.
    pub limit: Option<crate::api::Limit>,
}

impl Error {
    /// A parser error, keeping the exception class the parser chose.
    pub fn from_parse_error(file: &Rc<SourceFile>, e: eddy_parser::SyntaxError) -> Error {
        let kind = e.kind();
        let mut err = Error::syntax(file, e.message, e.span, e.label, e.help);
        if let Error::Syntax(s) = &mut err {
            s.kind = kind;
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
        Error::Syntax(Box::new(SyntaxError {
            kind: "SyntaxError",
            file: file.name.clone(),
            source: file.text.clone(),
            line,
            column,
            message,
            span,
            label,
            help,
        }))
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
        Error::Exception(Box::new(Uncaught {
            type_name,
            message,
            last_line,
            report,
            frames,
            notes,
            chain,
            sources,
            is_group,
            // CPython dies of the SIGINT it was interrupted by: the shell sees status 130.
            exit_code: vm.exc_matches(&exc, "KeyboardInterrupt").then_some(130),
            limit: None,
        }))
    }

    /// The process exit status this error calls for.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Exception(u) => u.exit_code.unwrap_or(1),
            Error::Io(_) => 2,
            Error::Syntax(_) | Error::Host(_) => 1,
        }
    }

    /// The final line of the report, as CPython prints it: `SyntaxError: ...`, `ExcType: message`.
    pub fn last_line(&self) -> String {
        match self {
            Error::Syntax(s) => format!("{}: {}", s.kind, s.message),
            Error::Exception(u) => u.last_line.clone(),
            Error::Io(m) | Error::Host(m) => m.clone(),
        }
    }

    /// The host-set limit that stopped the script: the one the VM saw trip during the run, else
    /// the one the final exception's class stands for (`FuelExhausted`, `RecursionError`...).
    ///
    /// ```
    /// let mut vm = eddy::Vm::builder().fuel(10_000).build();
    /// let err = vm.run("while True:\n    pass\n").unwrap_err();
    /// assert_eq!(err.limit(), Some(eddy::Limit::Fuel));
    /// vm.run("x = 1").unwrap(); // the VM is still usable
    /// ```
    pub fn limit(&self) -> Option<crate::api::Limit> {
        match self {
            Error::Exception(u) => u
                .limit
                .or_else(|| crate::api::Limit::from_exception_name(&u.type_name)),
            _ => None,
        }
    }

    /// The class name of the script exception (`KeyError`), or None for other errors.
    pub fn exception_type(&self) -> Option<&str> {
        match self {
            Error::Exception(u) => Some(&u.type_name),
            Error::Syntax(s) => Some(s.kind),
            _ => None,
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
    Error::Exception(Box::new(Uncaught {
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
        limit: None,
    }))
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
            Error::Syntax(s) => {
                write!(
                    f,
                    "{}:{}:{}: {}: {}",
                    s.file, s.line, s.column, s.kind, s.message
                )
            }
            Error::Exception(u) => write!(f, "{}", u.last_line),
            Error::Io(m) | Error::Host(m) => write!(f, "{m}"),
        }
    }
}

impl std::error::Error for Error {}

impl miette::Diagnostic for Error {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        match self {
            Error::Syntax(s) => Some(Box::new(s.kind)),
            Error::Exception(u) => Some(Box::new(&u.type_name)),
            Error::Io(_) | Error::Host(_) => None,
        }
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        match self {
            Error::Syntax(s) => s
                .help
                .as_ref()
                .map(|h| Box::new(h) as Box<dyn fmt::Display>),
            _ => None,
        }
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        match self {
            Error::Syntax(s) => Some(&s.source),
            Error::Exception(u) => {
                let text = u.frames.last().and_then(|f| u.sources.get(&f.file))?;
                Some(text as &dyn miette::SourceCode)
            }
            Error::Io(_) | Error::Host(_) => None,
        }
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = miette::LabeledSpan> + '_>> {
        let (label, span) = match self {
            Error::Syntax(s) => (s.label.clone(), s.span.start as usize..s.span.end as usize),
            Error::Exception(u) => {
                let f = u.frames.last()?;
                (
                    format!("{} raised here, in {}", u.type_name, f.function),
                    f.span.0..f.span.1,
                )
            }
            Error::Io(_) | Error::Host(_) => return None,
        };
        let label = miette::LabeledSpan::new_primary_with_span(Some(label), span);
        Some(Box::new(std::iter::once(label)))
    }
}

#[cfg(test)]
mod tests {
    use miette::Diagnostic;

    #[test]
    fn syntax_error_is_a_labelled_diagnostic() {
        let Err(err) = crate::compile("t.py", "if x = 1:\n    pass\n") else {
            panic!("expected a syntax error");
        };
        assert_eq!(
            err.code().map(|c| c.to_string()).as_deref(),
            Some("SyntaxError")
        );
        assert!(err.help().is_some());
        assert!(err.source_code().is_some());
        let labels: Vec<_> = err.labels().into_iter().flatten().collect();
        assert_eq!(labels.len(), 1);
        assert_eq!(labels[0].offset(), 5);
        assert_eq!(
            err.last_line(),
            "SyntaxError: invalid syntax. Maybe you meant '==' or ':=' instead of '='?"
        );
    }

    #[test]
    fn indentation_errors_keep_their_class() {
        let Err(err) = crate::compile("t.py", "x = 1\n    y = 2\n") else {
            panic!("expected an indentation error");
        };
        assert_eq!(err.last_line(), "IndentationError: unexpected indent");
        assert_eq!(err.exit_code(), 1);
    }
}
