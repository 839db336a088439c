//! The line editor on its own thread. rustyline blocks while the user types, but the event
//! loop must keep running between prompts (background tasks make progress and print), so the
//! editor lives on a thread of its own: the session asks it for a line with [`Reader::read`]
//! and receives the answer, like every other event, through the sink it supplied (from the
//! loop's point of view a line is just another thing to wait for). The editor's helper does
//! colouring and completion; completion asks the session for names through the same sink,
//! because only the VM thread may touch script objects.
//! [`Printer`] is rustyline's external printer: text written through it while a prompt is on
//! screen appears above the prompt, and the line being edited is redrawn below it.

use std::borrow::Cow;
use std::io::Write;
use std::path::PathBuf;
use std::sync::mpsc;
use std::sync::Arc;
use std::time::Duration;

use rustyline::completion::Completer;
use rustyline::config::{BellStyle, ColorMode, CompletionType, Config};
use rustyline::error::ReadlineError;
use rustyline::highlight::{CmdKind, Highlighter};
use rustyline::hint::Hinter;
use rustyline::history::FileHistory;
use rustyline::validate::Validator;
use rustyline::{Editor, ExternalPrinter, Helper};

use crate::complete::{self, Target};
use crate::typeahead::{Ahead, TypeAhead};
use crate::{highlight, history};

/// What the editor thread tells the session.
pub enum Event {
    /// A line (several lines when pasted or recalled from history), without its final newline.
    Line(String),
    /// Ctrl-C at the prompt: the line was dropped.
    Interrupted,
    /// Ctrl-D on an empty line, or the terminal went away.
    Eof,
    /// Tab: the names `target` may complete to; answer on `reply`.
    Complete {
        target: Target,
        reply: mpsc::Sender<Vec<String>>,
    },
}

/// How the session receives events: called on the editor thread.
pub type Sink = Arc<dyn Fn(Event) + Send + Sync>;

/// Settings of the editor.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Colour the input (the terminal supports it and NO_COLOR is unset).
    pub color: bool,
    /// Where history is loaded from and saved to; None keeps it in memory only.
    pub history: Option<PathBuf>,
}

enum Request {
    Read(String),
    AddHistory(String),
}

/// The session's handle on the editor thread; dropping it ends the thread (history is saved
/// as entries are added).
pub struct Reader {
    requests: mpsc::Sender<Request>,
}

impl Reader {
    /// Shows `prompt` and reads a line; the answer arrives through the sink.
    pub fn read(&self, prompt: &str) {
        let _ = self.requests.send(Request::Read(prompt.to_string()));
    }

    /// Adds one complete input (possibly several lines) to the history and saves it.
    pub fn add_history(&self, entry: &str) {
        let _ = self.requests.send(Request::AddHistory(entry.to_string()));
    }
}

/// Writes above the prompt while the user edits (see the module comment).
pub struct Printer(Box<dyn ExternalPrinter + Send>);

impl Printer {
    pub fn print(&mut self, text: String) {
        let _ = self.0.print(text);
    }
}

/// Starts the editor thread. Returns the handle and the external printer (None when the
/// terminal cannot have one).
pub fn spawn(options: Options, sink: Sink) -> std::io::Result<(Reader, Option<Printer>)> {
    let (requests, inbox) = mpsc::channel::<Request>();
    let (ready_tx, ready_rx) = mpsc::channel();
    std::thread::Builder::new()
        .name("eddy-readline".into())
        .spawn(move || {
            let mut editor = match new_editor(&options, sink.clone()) {
                Ok(e) => e,
                Err(e) => {
                    let _ = ready_tx.send(Err(e));
                    return;
                }
            };
            let printer = editor
                .create_external_printer()
                .ok()
                .map(|p| Printer(Box::new(p)));
            let _ = ready_tx.send(Ok(printer));
            serve(&mut editor, &options, &inbox, &sink);
        })?;
    let printer = ready_rx
        .recv()
        .map_err(|_| std::io::Error::other("the line editor did not start"))?
        .map_err(|e| std::io::Error::other(e.to_string()))?;
    Ok((Reader { requests }, printer))
}

type Ed = Editor<EddyHelper, FileHistory>;

fn new_editor(options: &Options, sink: Sink) -> rustyline::Result<Ed> {
    let config = Config::builder()
        .auto_add_history(false)
        .max_history_size(history::MAX_ENTRIES)?
        .history_ignore_dups(true)?
        .completion_type(CompletionType::List)
        .bell_style(BellStyle::None)
        .color_mode(if options.color {
            ColorMode::Enabled
        } else {
            ColorMode::Disabled
        })
        .bracketed_paste(true)
        .tab_stop(4)
        .indent_size(4)
        .build();
    let mut editor = Ed::with_config(config)?;
    editor.set_helper(Some(EddyHelper {
        color: options.color,
        sink,
    }));
    if let Some(path) = &options.history {
        // A first run has no file yet; any other problem only costs the old history.
        let _ = editor.load_history(path);
    }
    Ok(editor)
}

/// The editor thread's loop: one request at a time until the session drops its handle.
fn serve(editor: &mut Ed, options: &Options, inbox: &mpsc::Receiver<Request>, sink: &Sink) {
    let mut ahead = TypeAhead::default();
    while let Ok(req) = inbox.recv() {
        match req {
            Request::Read(prompt) => {
                let event = match ahead.next(libc::STDIN_FILENO) {
                    Ahead::Line(line) => {
                        // Shown as if typed at this prompt (the terminal echoed it earlier,
                        // amid the output).
                        let mut out = std::io::stdout().lock();
                        let _ = writeln!(out, "{prompt}{line}");
                        let _ = out.flush();
                        Event::Line(line)
                    }
                    Ahead::Eof => Event::Eof,
                    Ahead::Nothing => match editor.readline(&prompt) {
                        Ok(line) => Event::Line(line),
                        Err(ReadlineError::Interrupted) => Event::Interrupted,
                        Err(_) => Event::Eof,
                    },
                };
                sink(event);
            }
            Request::AddHistory(entry) => {
                if editor.add_history_entry(entry).unwrap_or(false) {
                    save(editor, options);
                }
            }
        }
    }
}

fn save(editor: &mut Ed, options: &Options) {
    let Some(path) = &options.history else {
        return;
    };
    if let Some(dir) = path.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    // Appending (rather than rewriting) keeps what another session added meanwhile.
    let _ = editor.append_history(path);
}

/// Colouring and completion for the editor.
struct EddyHelper {
    color: bool,
    sink: Sink,
}

/// How long Tab waits for the session to list names (it may be busy running a task).
const COMPLETION_WAIT: Duration = Duration::from_millis(500);

impl Completer for EddyHelper {
    type Candidate = String;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        _ctx: &rustyline::Context<'_>,
    ) -> rustyline::Result<(usize, Vec<String>)> {
        if let Some(found) = complete::commands(line, pos) {
            return Ok(found);
        }
        if line[..pos].trim().is_empty() {
            // Tab at the start of a line indents, as in CPython's REPL.
            return Ok((pos, vec!["    ".to_string()]));
        }
        let Some(target) = complete::target(line, pos) else {
            return Ok((pos, Vec::new()));
        };
        let (reply, answer) = mpsc::channel();
        (self.sink)(Event::Complete {
            target: target.clone(),
            reply,
        });
        let names = answer.recv_timeout(COMPLETION_WAIT).unwrap_or_default();
        Ok((target.start, complete::candidates(&target, names)))
    }
}

impl Hinter for EddyHelper {
    type Hint = String;
}

impl Validator for EddyHelper {}

impl Highlighter for EddyHelper {
    fn highlight<'l>(&self, line: &'l str, _pos: usize) -> Cow<'l, str> {
        if self.color {
            Cow::Owned(highlight::highlight(line))
        } else {
            Cow::Borrowed(line)
        }
    }

    fn highlight_char(&self, _line: &str, _pos: usize, _kind: CmdKind) -> bool {
        self.color
    }
}

impl Helper for EddyHelper {}
