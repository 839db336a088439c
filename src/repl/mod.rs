//! The interactive prompt (`eddy` with no arguments, `eddy -i FILE`): the VM side of the REPL.
//! The terminal side (line editor, completeness, colouring) is the `eddy-repl` crate; this
//! module owns the session: the `__main__` module the inputs share, the event loop that keeps
//! running between prompts (`inbox.rs`), where output goes (`output.rs`), Ctrl-C while an
//! input runs (`sigint.rs`), the `:` commands (`commands.rs`) and Tab's names (`names.rs`).
//! An input whose top level awaits runs as a task of the session's loop until it is done; any
//! other input runs directly, with the loop "running" so `asyncio.create_task` works.

mod commands;
mod inbox;
mod names;
mod output;
mod sigint;

use std::cell::Cell;
use std::path::Path;
use std::rc::Rc;
use std::time::Instant;

use eddy_repl::reader::{self, Event, Reader};
use eddy_repl::Verdict;
use eddy_stdlib::asyncio::events::{self, LoopCore};
use eddy_stdlib::asyncio::{classes, tasks};
use eddy_vm::compile::Mode;
use eddy_vm::objects::module::Module;
use eddy_vm::{PyResult, Value, Vm};

use crate::Error;

/// What the REPL needs from the command line.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Colour for the input line and for error reports.
    pub color: bool,
    /// Print the banner (not after `-i FILE`, as `python -i FILE` prints none).
    pub banner: bool,
}

/// What runs in the session before the first prompt.
#[derive(Debug, Clone, Copy)]
pub enum Startup<'a> {
    Nothing,
    /// `eddy -i FILE`.
    File(&'a Path),
    /// `eddy -i -c CODE`.
    Code(&'a str),
}

/// How an input ended.
enum Outcome {
    Done,
    /// `exit()`, `sys.exit()` or SystemExit: leave the REPL with this status.
    Exit(i32),
}

/// One interactive session.
pub struct Session<'v> {
    vm: &'v mut Vm,
    core: Rc<LoopCore>,
    module: Rc<Module>,
    reader: Reader,
    inbox: inbox::Inbox,
    at_prompt: Rc<Cell<bool>>,
    interrupts: Option<sigint::Interrupts>,
    color: bool,
    /// Inputs run so far, for their file names (`<input-3>`).
    inputs: usize,
    /// True while the editor is reading a line (one request at a time).
    reading: bool,
    /// The terminal's settings at the start, restored when the session ends (leaving from
    /// a background task's `sys.exit()` while the editor has the terminal in raw mode).
    terminal: Option<libc::termios>,
}

impl Drop for Session<'_> {
    fn drop(&mut self) {
        self.vm.flush();
        if self.reading {
            // Leaving while a prompt is shown: end its line.
            println!();
        }
        if let Some(t) = &self.terminal {
            unsafe {
                libc::tcsetattr(libc::STDIN_FILENO, libc::TCSADRAIN, t);
            }
        }
    }
}

/// The terminal settings of standard input, if it is a terminal.
fn terminal_settings() -> Option<libc::termios> {
    let mut t: libc::termios = unsafe { std::mem::zeroed() };
    (unsafe { libc::tcgetattr(libc::STDIN_FILENO, &mut t) } == 0).then_some(t)
}

/// Runs the REPL on `vm` until Ctrl-D or `exit()`; `startup` is run first in the session's
/// `__main__` (`eddy -i FILE`, `eddy -i -c CODE`). Returns the exit status.
pub fn run(vm: &mut Vm, startup: Startup<'_>, options: &Options) -> i32 {
    if let Startup::File(path) = startup {
        // As `python -i`: a FILE that cannot be read is a usage error, not a session.
        if let Err(e) = crate::read_source(path) {
            eprint!("{}", crate::render::render(&e, options.color));
            return e.exit_code();
        }
    }
    let mut session = match Session::new(vm, options) {
        Ok(s) => s,
        Err(message) => {
            eprintln!("eddy: cannot start the interactive prompt: {message}");
            return 1;
        }
    };
    if options.banner {
        println!(
            "Eddy {} (a Python 3.11 subset with a native asyncio). Top-level await works.\nType :help for the REPL's commands, Ctrl-D to leave.",
            env!("CARGO_PKG_VERSION")
        );
    }
    let outcome = match startup {
        Startup::Nothing => Outcome::Done,
        Startup::File(path) => session.run_file(path),
        Startup::Code(code) => session.run_source("<string>", code, Mode::Module),
    };
    if let Outcome::Exit(code) = outcome {
        return code;
    }
    session.interact()
}

impl<'v> Session<'v> {
    fn new(vm: &'v mut Vm, options: &Options) -> Result<Session<'v>, String> {
        let asyncio = eddy_vm::import::import_module(vm, "asyncio")
            .map_err(|_| "the asyncio module failed to load".to_string())?;
        let core = events::start_host_loop();
        let module = match vm.modules.get("__main__") {
            Some(Value::Module(m)) => m.clone(),
            _ => {
                let m = Rc::new(Module::new("__main__"));
                vm.modules
                    .insert("__main__".into(), Value::Module(m.clone()));
                m
            }
        };
        module.set("asyncio", asyncio);
        install_exit(vm);
        let terminal = terminal_settings();
        let (sink, inbox) = inbox::channel();
        let reader_options = reader::Options {
            color: options.color,
            history: eddy_repl::history::path(),
        };
        let (reader, printer) = reader::spawn(reader_options, sink).map_err(|e| e.to_string())?;
        let at_prompt = Rc::new(Cell::new(false));
        vm.output = Box::new(output::ReplOutput::new(at_prompt.clone(), printer));
        let interrupts = sigint::install(vm);
        Ok(Session {
            vm,
            core,
            module,
            reader,
            inbox,
            at_prompt,
            interrupts,
            color: options.color,
            inputs: 0,
            reading: false,
            terminal,
        })
    }

    /// The read-run loop.
    fn interact(&mut self) -> i32 {
        let mut buffer = String::new();
        loop {
            let prompt = if buffer.is_empty() { ">>> " } else { "... " };
            let event = match self.next_event(prompt) {
                Ok(e) => e,
                Err(exc) => match self.report_exception(exc, false) {
                    Outcome::Exit(code) => return code,
                    Outcome::Done => continue,
                },
            };
            let line = match event {
                Event::Line(line) => line,
                Event::Interrupted => {
                    buffer.clear();
                    continue;
                }
                Event::Eof | Event::Complete { .. } => {
                    println!();
                    return 0;
                }
            };
            if buffer.is_empty() && line.trim_start().starts_with(':') {
                self.reader.add_history(line.trim());
                if let Outcome::Exit(code) = commands::run(self, line.trim()) {
                    return code;
                }
                continue;
            }
            if !buffer.is_empty() {
                buffer.push('\n');
            }
            buffer.push_str(&line);
            // A paste (or a block recalled from history) arrives whole: its end ends the block.
            let judged = if line.contains('\n') {
                format!("{buffer}\n")
            } else {
                buffer.clone()
            };
            match eddy_repl::verdict(&judged) {
                Verdict::Incomplete => continue,
                Verdict::Empty => {}
                Verdict::Complete | Verdict::Invalid(_) => {
                    self.reader.add_history(buffer.trim_end());
                    if let Outcome::Exit(code) = self.run_input(&buffer) {
                        return code;
                    }
                }
            }
            buffer.clear();
        }
    }

    /// Shows `prompt` (unless the editor is still reading) and runs the loop until the editor
    /// answers, listing names for Tab along the way.
    fn next_event(&mut self, prompt: &str) -> PyResult<Event> {
        self.vm.flush();
        if !self.reading {
            self.reader.read(prompt);
            self.reading = true;
        }
        self.at_prompt.set(true);
        loop {
            let event = self.inbox.next(self.vm, &self.core);
            match event {
                Ok(Event::Complete { target, reply }) => {
                    let found = names::names(self.vm, &self.module, &target.object);
                    let _ = reply.send(found);
                }
                Ok(event) => {
                    self.reading = false;
                    self.at_prompt.set(false);
                    return Ok(event);
                }
                // The editor is still reading: the report goes above its prompt.
                Err(e) => return Err(e),
            }
        }
    }

    /// Compiles and runs one input typed at the prompt.
    fn run_input(&mut self, source: &str) -> Outcome {
        self.inputs += 1;
        let name = format!("<input-{}>", self.inputs);
        self.run_source(&name, source, Mode::Interactive)
    }

    /// Runs a file in the session's `__main__` (`eddy -i FILE`, `:load FILE`).
    fn run_file(&mut self, path: &Path) -> Outcome {
        let text = match crate::read_source(path) {
            Ok(t) => t,
            Err(e) => {
                self.report(&e);
                return Outcome::Done;
            }
        };
        if let Some(dir) = path.parent() {
            let dir = if dir.as_os_str().is_empty() {
                Path::new(".")
            } else {
                dir
            };
            if !self.vm.search_path.iter().any(|p| p == dir) {
                self.vm.search_path.insert(0, dir.to_path_buf());
            }
        }
        self.module
            .set("__file__", Value::string(path.display().to_string()));
        self.run_source(&path.display().to_string(), &text, Mode::Module)
    }

    /// Compiles `source` and runs it: as a task of the loop when its top level awaits.
    fn run_source(&mut self, name: &str, source: &str, mode: Mode) -> Outcome {
        let code = match compile(name, source, mode) {
            Ok(c) => c,
            Err(e) => {
                self.report(&e);
                return Outcome::Done;
            }
        };
        let result = if code.flags.coroutine {
            let coro = self.vm.module_coroutine(code, self.module.clone());
            self.begin(None);
            match tasks::new_task(self.vm, &self.core, coro, Value::None) {
                Ok(task) => {
                    if let Some(i) = &self.interrupts {
                        i.set_task(task.clone());
                    }
                    events::run_until_complete(self.vm, &self.core, &task)
                }
                Err(e) => Err(e),
            }
        } else {
            self.begin(None);
            self.vm.run_module_code(code, self.module.clone())
        };
        let interrupted = self.interrupts.as_ref().is_some_and(|i| i.end());
        self.vm.flush();
        match result {
            Ok(_) => Outcome::Done,
            Err(exc) => self.report_exception(exc, interrupted),
        }
    }

    fn begin(&self, task: Option<Value>) {
        if let Some(i) = &self.interrupts {
            i.begin(task);
        }
    }

    /// Reports an exception that ended an input (or escaped the loop between inputs).
    /// A Ctrl-C that cancelled an awaiting input shows as KeyboardInterrupt, as in CPython.
    fn report_exception(&mut self, exc: Value, interrupted: bool) -> Outcome {
        self.vm.flush();
        if interrupted && self.vm.isinstance(&exc, &classes().cancelled_error) {
            self.vm.write_stderr("KeyboardInterrupt\n");
            return Outcome::Done;
        }
        let exiting = self.vm.exc_matches(&exc, "SystemExit");
        let err = Error::from_exception(self.vm, exc);
        self.report(&err);
        if exiting {
            return Outcome::Exit(err.exit_code());
        }
        Outcome::Done
    }

    /// Prints an error report: above the prompt if one is shown (an error escaping a
    /// background callback), else straight to stderr.
    fn report(&mut self, err: &Error) {
        let text = crate::render::render(err, self.color);
        self.vm.write_stderr(&text);
        self.vm.flush();
    }

    /// Runs `source` (one statement) and prints how long it took (`:time`).
    fn time_input(&mut self, source: &str) -> Outcome {
        let start = Instant::now();
        let outcome = self.run_input(source);
        let took = start.elapsed();
        self.vm.write_stdout(&format!(
            "wall time: {}\n",
            commands::duration(took.as_secs_f64())
        ));
        self.vm.flush();
        outcome
    }
}

/// Parses and compiles `source` (`Mode::Interactive` echoes a final expression's value).
fn compile(name: &str, source: &str, mode: Mode) -> Result<Rc<eddy_vm::Code>, Error> {
    let mut text = source.to_string();
    if !text.ends_with('\n') {
        text.push('\n');
    }
    let file = Rc::new(eddy_vm::SourceFile::new(name, &text));
    let module = eddy_parser::parse_module(&text).map_err(|e| Error::from_parse_error(&file, e))?;
    eddy_vm::compile::compile_module(&module, file.clone(), mode)
        .map_err(|e| Error::syntax(&file, e.message, e.span, "here".into(), None))
}

/// `exit`, `quit` and `help`, which CPython's `site` adds for interactive use: `exit` alone
/// says how to leave, `exit()` raises SystemExit.
const SITE: &str = r#"
class Quitter:
    def __init__(self, name):
        self.name = name
    def __repr__(self):
        return f"Use {self.name}() or Ctrl-D (i.e. EOF) to exit"
    def __call__(self, code=None):
        raise SystemExit(code)

class Helper:
    def __repr__(self):
        return "Type :help for the REPL's commands; docs/guide.md describes Eddy."
    def __call__(self, *args):
        if not args:
            print(repr(self))
            return
        doc = getattr(args[0], "__doc__", None)
        print(doc if doc else f"No documentation for {args[0]!r}.")
"#;

fn install_exit(vm: &mut Vm) {
    let Ok(code) = compile("<site>", SITE, Mode::Module) else {
        return;
    };
    let site = Rc::new(Module::new("site"));
    if vm.run_module_code(code, site.clone()).is_err() {
        return;
    }
    let make = |vm: &mut Vm, class: &str, args: Vec<Value>| -> Option<Value> {
        let cls = site.get(class)?;
        vm.call(&cls, args).ok()
    };
    for name in ["exit", "quit"] {
        if let Some(q) = make(vm, "Quitter", vec![Value::str(name)]) {
            vm.builtins.set(name, q);
        }
    }
    if let Some(h) = make(vm, "Helper", vec![]) {
        vm.builtins.set("help", h);
    }
}
