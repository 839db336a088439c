//! The `eddy` command: run a script, `-c CODE`, `check`, `dis`.

use std::path::PathBuf;
use std::process::ExitCode;

fn usage() -> ExitCode {
    eprintln!("usage: eddy [-c CODE | FILE | check FILE | dis FILE] [ARGS...]");
    ExitCode::from(2)
}

fn report(err: &eddy::Error) {
    match err {
        eddy::Error::Syntax { file, line, column, message, source, label, help, .. } => {
            let text = source.lines().nth(*line as usize - 1).unwrap_or("");
            eprintln!("  File \"{file}\", line {line}");
            eprintln!("    {}", text.trim_end());
            eprintln!("    {}^ {label}", " ".repeat((*column as usize).saturating_sub(1)));
            if let Some(h) = help {
                eprintln!("help: {h}");
            }
            eprintln!("SyntaxError: {message}");
            let _ = file;
        }
        eddy::Error::Exception { report, .. } => eprint!("{report}"),
        eddy::Error::Io(m) => eprintln!("eddy: {m}"),
    }
}

fn run(args: Vec<String>) -> ExitCode {
    if args.is_empty() {
        return usage();
    }
    match args[0].as_str() {
        "--version" | "-V" => {
            println!("eddy {}", env!("CARGO_PKG_VERSION"));
            ExitCode::SUCCESS
        }
        "--help" | "-h" => {
            println!("eddy {}: an async-first scripting language with Python syntax\n\nusage:\n  eddy FILE [ARGS...]   run a script\n  eddy -c CODE          run CODE\n  eddy check FILE       report syntax errors, run nothing\n  eddy dis FILE         print the bytecode", env!("CARGO_PKG_VERSION"));
            ExitCode::SUCCESS
        }
        "check" | "dis" => {
            let Some(path) = args.get(1) else { return usage() };
            let text = match std::fs::read_to_string(path) {
                Ok(t) => t,
                Err(e) => {
                    eprintln!("eddy: can't open file '{path}': {e}");
                    return ExitCode::from(2);
                }
            };
            match eddy::compile(path, &text) {
                Ok(code) => {
                    if args[0] == "dis" {
                        print!("{}", eddy_vm::dis::disassemble(&code));
                    }
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    report(&e);
                    ExitCode::from(1)
                }
            }
        }
        "-c" => {
            let Some(code) = args.get(1) else { return usage() };
            let mut vm = eddy::new_vm();
            vm.argv = std::iter::once("-c".to_string()).chain(args[2..].iter().cloned()).collect();
            let r = eddy::run_source(&mut vm, "<string>", code);
            finish(&mut vm, r)
        }
        _ => {
            let path = PathBuf::from(&args[0]);
            if !path.exists() {
                eprintln!("eddy: can't open file '{}': [Errno 2] No such file or directory", path.display());
                return ExitCode::from(2);
            }
            let mut vm = eddy::new_vm();
            vm.argv = args.clone();
            let r = eddy::run_file(&mut vm, &path);
            finish(&mut vm, r)
        }
    }
}

fn finish(vm: &mut eddy::Vm, r: Result<(), eddy::Error>) -> ExitCode {
    vm.flush();
    match r {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            report(&e);
            ExitCode::from(e.exit_code() as u8)
        }
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    // Script recursion never uses the Rust stack, but native code calling back into scripts and the
    // compiler's walk over deeply nested source do, so run on a thread with a generous stack.
    let child = std::thread::Builder::new().stack_size(512 << 20).spawn(move || run(args));
    match child {
        Ok(h) => h.join().unwrap_or(ExitCode::from(70)),
        Err(_) => ExitCode::from(70),
    }
}
