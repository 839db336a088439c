//! The `eddy` command line: argument parsing (clap), the ways to run (`FILE`, `-c CODE`,
//! `check FILE`, `dis FILE`, the interactive prompt with no arguments or `-i FILE`) and turning
//! their outcome into stderr text and an exit status.
//! Exit statuses: 0 success, 1 uncaught exception or syntax error, `sys.exit`'s status, 2 for a
//! misused command line or a file that cannot be read.

use std::ffi::OsString;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::error::ErrorKind;
use clap::{CommandFactory, Parser, Subcommand};

/// Exit status for a command line that cannot be obeyed, as clap and CPython use it.
const EXIT_USAGE: u8 = 2;

#[derive(Parser, Debug)]
#[command(
    name = "eddy",
    version,
    about = "Eddy: an async-first scripting language with Python syntax",
    override_usage = "eddy [OPTIONS]\n       eddy [-i] [OPTIONS] FILE [ARGS]...\n       eddy [-i] [OPTIONS] -c CODE [ARGS]...\n       eddy check FILE\n       eddy dis FILE",
    after_help = "With no FILE, eddy opens the interactive prompt (see docs/guide.md), or runs standard input\nwhen it is not a terminal.\n\nSignals: `kill -USR1 PID` prints the running event loop's task tree (each task, its state\nand the awaits it is suspended in) on stderr; the script goes on.",
    args_conflicts_with_subcommands = true,
    disable_help_subcommand = true
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,

    /// Run CODE instead of a file; sys.argv[0] is '-c'
    #[arg(short = 'c', value_name = "CODE")]
    code: Option<String>,

    /// Run FILE (or -c CODE), then open the interactive prompt with its globals (its tasks keep
    /// running)
    #[arg(short = 'i')]
    interactive: bool,

    /// Virtual time: when no task is ready, jump the clock to the next timer instead of sleeping;
    /// a blocking time.sleep() jumps too. The clock stands still while code runs, so sleeps of
    /// hours take no time and the output is the same on every run. loop.time(),
    /// time.monotonic() and time.time() all read this clock
    #[arg(long = "virtual-time")]
    virtual_time: bool,

    /// Run with no access to files, the network, subprocesses or environment variables except
    /// what the --allow-* flags grant (any --allow-* flag implies --sandbox)
    #[arg(long)]
    sandbox: bool,

    /// In the sandbox, allow reading files under DIR (comma-separated list; no value: anywhere)
    #[arg(long = "allow-read", value_name = "DIR", num_args = 0..=1, require_equals = true, default_missing_value = "")]
    allow_read: Vec<String>,

    /// In the sandbox, allow creating, changing and deleting files under DIR (no value: anywhere)
    #[arg(long = "allow-write", value_name = "DIR", num_args = 0..=1, require_equals = true, default_missing_value = "")]
    allow_write: Vec<String>,

    /// In the sandbox, allow connecting to and listening on HOST:PORT (`*` for any host or port;
    /// a bare HOST: any port; no value: anywhere)
    #[arg(long = "allow-net", value_name = "HOST:PORT", num_args = 0..=1, require_equals = true, default_missing_value = "")]
    allow_net: Vec<String>,

    /// In the sandbox, allow running PROG as a subprocess (a name or a path; no value: any)
    #[arg(long = "allow-run", value_name = "PROG", num_args = 0..=1, require_equals = true, default_missing_value = "")]
    allow_run: Vec<String>,

    /// In the sandbox, allow reading and setting the environment variable NAME (`PREFIX*` for
    /// a prefix; no value: all)
    #[arg(long = "allow-env", value_name = "NAME", num_args = 0..=1, require_equals = true, default_missing_value = "")]
    allow_env: Vec<String>,

    /// The script to run (any extension), then the arguments it finds in sys.argv[1:]
    #[arg(
        value_name = "FILE",
        trailing_var_arg = true,
        allow_hyphen_values = true
    )]
    argv: Vec<OsString>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Report every syntax error in FILE without running it, and warn about forgotten awaits
    /// (a call of an `async def` function used as a bare statement); warnings alone exit 0
    Check {
        /// The script to check
        file: PathBuf,
    },
    /// Print FILE's bytecode
    Dis {
        /// The script to disassemble
        file: PathBuf,
    },
}

/// Runs the command line `args` (program name first) and returns the exit status.
pub fn main(args: Vec<OsString>) -> ExitCode {
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            // Help and version go to stdout with status 0; usage errors to stderr with 2.
            let _ = e.print();
            return ExitCode::from(e.exit_code().clamp(0, 255) as u8);
        }
    };
    if let Some(first) = cli
        .argv
        .first()
        .filter(|_| cli.code.is_none() && cli.command.is_none())
    {
        // FILE's arguments may start with '-', but an option before FILE is one eddy does not know.
        if first.to_string_lossy().starts_with('-') {
            let message = format!("unexpected argument '{}' found", first.to_string_lossy());
            let err = Cli::command().error(ErrorKind::UnknownArgument, message);
            let _ = err.print();
            return ExitCode::from(EXIT_USAGE);
        }
    }
    let color = use_color();
    let options = eddy::VmOptions::new()
        .virtual_time(cli.virtual_time)
        .sandbox(sandbox_of(&cli));
    // `kill -USR1 PID` prints the task tree of a running script (see asyncio/tasktree.rs).
    eddy_stdlib::asyncio::tasktree::watch_sigusr1();
    match (cli.command, cli.code) {
        (Some(Command::Check { file }), _) => check(&file, color),
        (Some(Command::Dis { file }), _) => dis(&file, color),
        (None, Some(code)) if cli.interactive => {
            let mut vm = options.build();
            vm.argv = std::iter::once("-c".to_string())
                .chain(lossy(&cli.argv))
                .collect();
            prompt(vm, eddy::repl::Startup::Code(&code), color)
        }
        (None, Some(code)) => run_code(&options, &code, cli.argv, color),
        (None, None) => match cli.argv.split_first() {
            Some((file, rest)) if cli.interactive => {
                interactive(&options, Some((Path::new(file), rest)), color)
            }
            Some((file, rest)) => run_file(&options, Path::new(file), rest, color),
            None if cli.interactive || std::io::stdin().is_terminal() => {
                interactive(&options, None, color)
            }
            // `echo 'print(1)' | eddy` runs standard input as a script, as CPython does.
            None => run_stdin(&options, color),
        },
    }
}

/// The interactive prompt, after running FILE (with its arguments) if given.
fn interactive(
    options: &eddy::VmOptions,
    file: Option<(&Path, &[OsString])>,
    color: bool,
) -> ExitCode {
    let mut vm = options.build();
    vm.argv = match file {
        Some((file, rest)) => std::iter::once(file.display().to_string())
            .chain(lossy(rest))
            .collect(),
        None => vec![String::new()],
    };
    let startup = match file {
        Some((file, _)) => eddy::repl::Startup::File(file),
        None => eddy::repl::Startup::Nothing,
    };
    prompt(vm, startup, color)
}

/// Runs the REPL on `vm` and exits with its status.
fn prompt(mut vm: eddy::RawVm, startup: eddy::repl::Startup<'_>, color: bool) -> ExitCode {
    let repl_options = eddy::repl::Options {
        color: color && std::io::stdout().is_terminal(),
        banner: matches!(startup, eddy::repl::Startup::Nothing),
    };
    let code = eddy::repl::run(&mut vm, startup, &repl_options);
    // See run_file: no point freeing the heap just before exit.
    std::mem::forget(vm);
    ExitCode::from(code.clamp(0, 255) as u8)
}

fn run_stdin(options: &eddy::VmOptions, color: bool) -> ExitCode {
    let mut text = String::new();
    if let Err(e) = std::io::Read::read_to_string(&mut std::io::stdin(), &mut text) {
        eprintln!("eddy: can't read standard input: {e}");
        return ExitCode::from(EXIT_USAGE);
    }
    let mut vm = options.build();
    vm.argv = vec![String::new()];
    let result = eddy::run_source(&mut vm, "<stdin>", &text);
    let code = finish(&mut vm, result, color);
    std::mem::forget(vm);
    code
}

/// The sandbox the flags ask for: None (everything granted) unless --sandbox or an --allow-*
/// flag was given. Each flag may repeat and take a comma-separated list; an empty value grants
/// the capability everywhere.
fn sandbox_of(cli: &Cli) -> Option<eddy::Sandbox> {
    use eddy::Capability as C;
    let grants: [(&[String], &[C]); 5] = [
        (&cli.allow_read, &[C::Read]),
        (&cli.allow_write, &[C::Write]),
        (&cli.allow_net, &[C::Connect, C::Listen]),
        (&cli.allow_run, &[C::Run]),
        (&cli.allow_env, &[C::Env]),
    ];
    if !cli.sandbox && grants.iter().all(|(values, _)| values.is_empty()) {
        return None;
    }
    let mut sandbox = eddy::Sandbox::deny_all();
    for (values, caps) in grants {
        for value in values {
            for &cap in caps {
                if value.is_empty() {
                    sandbox.grant_mut(cap).add(None);
                }
                for scope in value.split(',').filter(|s| !s.is_empty()) {
                    sandbox.grant_mut(cap).add(Some(scope));
                }
            }
        }
    }
    Some(sandbox)
}

/// Colour only when a person is likely to see it: stderr is a terminal and NO_COLOR is unset.
fn use_color() -> bool {
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let dumb = std::env::var_os("TERM").is_some_and(|t| t == "dumb");
    !no_color && !dumb && std::io::stderr().is_terminal()
}

fn lossy(args: &[OsString]) -> impl Iterator<Item = String> + '_ {
    args.iter().map(|a| a.to_string_lossy().into_owned())
}

fn run_file(options: &eddy::VmOptions, path: &Path, args: &[OsString], color: bool) -> ExitCode {
    let mut vm = options.build();
    vm.argv = std::iter::once(path.display().to_string())
        .chain(lossy(args))
        .collect();
    let result = eddy::run_file(&mut vm, path);
    let code = finish(&mut vm, result, color);
    // The process is about to exit: tearing the heap down object by object would only cost time
    // (output is already flushed), so the VM is leaked to the OS, as CPython skips most finalisation.
    std::mem::forget(vm);
    code
}

fn run_code(options: &eddy::VmOptions, code: &str, args: Vec<OsString>, color: bool) -> ExitCode {
    let mut vm = options.build();
    vm.argv = std::iter::once("-c".to_string())
        .chain(lossy(&args))
        .collect();
    let result = eddy::run_source(&mut vm, "<string>", code);
    let code = finish(&mut vm, result, color);
    // See run_file: no point freeing the heap just before exit.
    std::mem::forget(vm);
    code
}

/// Flushes the script's output, then reports an error, so stdout and stderr appear in order.
fn finish(vm: &mut eddy::RawVm, result: Result<(), eddy::Error>, color: bool) -> ExitCode {
    vm.flush();
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            report(&e, color);
            // As CPython's finalization: the traceback first, then non-daemon threads are
            // joined, so what they still print is not lost (a clean run joined them already).
            if matches!(e, eddy::Error::Exception(_)) {
                let _ = eddy_stdlib::threading::shutdown(vm);
                vm.flush();
            }
            ExitCode::from(e.exit_code() as u8)
        }
    }
}

fn report(err: &eddy::Error, color: bool) {
    let text = eddy::render::render(err, color);
    let mut stderr = std::io::stderr().lock();
    let _ = stderr.write_all(text.as_bytes());
    let _ = stderr.flush();
}

fn check(path: &Path, color: bool) -> ExitCode {
    let source = match eddy::read_source(path) {
        Ok(s) => s,
        Err(e) => return failed(&e, color),
    };
    let found = eddy::check::check_file(&path.display().to_string(), &source);
    let mut stderr = std::io::stderr().lock();
    let reports = found
        .warnings
        .iter()
        .map(|w| eddy::render::warning(w, &source, color))
        .chain(found.errors.iter().map(|e| eddy::render::render(e, color)));
    for (i, text) in reports.enumerate() {
        let sep = if i > 0 { "\n" } else { "" };
        let _ = write!(stderr, "{sep}{text}");
    }
    let _ = stderr.flush();
    // Warnings alone do not fail the check.
    if found.errors.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

fn dis(path: &Path, color: bool) -> ExitCode {
    let source = match eddy::read_source(path) {
        Ok(s) => s,
        Err(e) => return failed(&e, color),
    };
    match eddy::compile(&path.display().to_string(), &source) {
        Ok(code) => {
            // A closed pipe (`eddy dis x | head`) is not an error worth a panic.
            let _ = std::io::stdout()
                .lock()
                .write_all(eddy_vm::dis::disassemble(&code).as_bytes());
            ExitCode::SUCCESS
        }
        Err(e) => failed(&e, color),
    }
}

fn failed(err: &eddy::Error, color: bool) -> ExitCode {
    report(err, color);
    ExitCode::from(err.exit_code() as u8)
}
