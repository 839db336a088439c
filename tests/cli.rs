//! The `eddy` command line from outside: argument handling, exit statuses and the one-line
//! messages for files that cannot be run. Script behaviour is tested by `scripts.rs`; rendering
//! of errors by `diagnostics.rs`.

use std::path::PathBuf;
use std::process::{Command, Stdio};

/// What one run of `eddy` did.
struct Run {
    status: i32,
    stdout: String,
    stderr: String,
}

/// Runs `eddy ARGS` in a scratch folder holding `files` (name, bytes).
fn eddy(args: &[&str], files: &[(&str, &[u8])]) -> Run {
    let dir = scratch_dir();
    for (name, bytes) in files {
        std::fs::write(dir.join(name), bytes).unwrap_or_else(|e| panic!("writing {name}: {e}"));
    }
    let out = Command::new(env!("CARGO_BIN_EXE_eddy"))
        .args(args)
        .current_dir(&dir)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("could not run eddy: {e}"));
    let _ = std::fs::remove_dir_all(&dir);
    Run {
        status: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// A fresh folder per call, so tests running in parallel do not share files.
fn scratch_dir() -> PathBuf {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("eddy-cli-test-{}-{n}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("creating {}: {e}", dir.display()));
    dir
}

fn last_line(text: &str) -> &str {
    text.lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
}

#[test]
fn runs_a_file_with_any_extension_and_passes_argv() {
    let r = eddy(
        &["prog.txt", "a", "-v", "--help"],
        &[("prog.txt", b"import sys\nprint(sys.argv)\n")],
    );
    assert_eq!(
        (r.status, r.stdout.as_str()),
        (0, "['prog.txt', 'a', '-v', '--help']\n"),
        "{}",
        r.stderr
    );
}

#[test]
fn dash_c_runs_code_with_argv() {
    let r = eddy(&["-c", "import sys; print(sys.argv)", "x", "-y"], &[]);
    assert_eq!(
        (r.status, r.stdout.as_str()),
        (0, "['-c', 'x', '-y']\n"),
        "{}",
        r.stderr
    );
}

#[test]
fn missing_file_is_status_2_with_cpython_message() {
    let r = eddy(&["nope.py"], &[]);
    assert_eq!(r.status, 2);
    assert_eq!(
        r.stderr,
        "eddy: can't open file 'nope.py': [Errno 2] No such file or directory\n"
    );
}

#[test]
fn invalid_utf8_names_the_file() {
    let r = eddy(&["bad.py"], &[("bad.py", b"x = 1\n\xff\n")]);
    assert_eq!(r.status, 2);
    assert!(
        r.stderr.contains("bad.py") && r.stderr.contains("UTF-8"),
        "{}",
        r.stderr
    );
}

#[test]
fn usage_errors_are_status_2() {
    assert_eq!(eddy(&["--bogus"], &[]).status, 2);
    assert_eq!(eddy(&["-c"], &[]).status, 2);
    assert_eq!(eddy(&["check"], &[]).status, 2);
}

/// With no arguments and standard input not a terminal, eddy runs standard input as a script
/// (here empty); the interactive prompt is tested through a pty in `repl.rs`.
#[test]
fn no_arguments_runs_standard_input() {
    let r = eddy(&[], &[]);
    assert_eq!(
        (r.status, r.stdout.as_str(), r.stderr.as_str()),
        (0, "", "")
    );
}

#[test]
fn version_and_help_succeed() {
    let r = eddy(&["--version"], &[]);
    assert_eq!(
        (r.status, r.stdout.trim()),
        (0, concat!("eddy ", env!("CARGO_PKG_VERSION")))
    );
    let r = eddy(&["--help"], &[]);
    assert_eq!(r.status, 0);
    assert!(r.stdout.contains("eddy check FILE"), "{}", r.stdout);
}

#[test]
fn uncaught_exception_is_status_1_with_cpython_last_line() {
    let r = eddy(&["-c", "print('out')\n{}['k']"], &[]);
    assert_eq!(
        (r.status, r.stdout.as_str(), last_line(&r.stderr)),
        (1, "out\n", "KeyError: 'k'")
    );
}

#[test]
fn sys_exit_sets_the_status() {
    assert_eq!(eddy(&["-c", "import sys; sys.exit(7)"], &[]).status, 7);
    let r = eddy(&["-c", "import sys; sys.exit('bye')"], &[]);
    assert_eq!((r.status, r.stderr.as_str()), (1, "bye\n"));
}

#[test]
fn check_reports_every_error_and_runs_nothing() {
    let src = b"print('ran')\ndef f(x)\n    return x\n\ny = [1, 2\n";
    let r = eddy(&["check", "two.py"], &[("two.py", src)]);
    assert_eq!((r.status, r.stdout.as_str()), (1, ""));
    assert_eq!(r.stderr.matches("SyntaxError: ").count(), 2, "{}", r.stderr);
    assert_eq!(last_line(&r.stderr), "SyntaxError: '[' was never closed");
    let r = eddy(&["check", "ok.py"], &[("ok.py", b"print('ran')\n")]);
    assert_eq!(
        (r.status, r.stdout.as_str(), r.stderr.as_str()),
        (0, "", "")
    );
}

#[test]
fn dis_prints_bytecode() {
    let r = eddy(&["dis", "one.py"], &[("one.py", b"x = 1\n")]);
    assert_eq!(r.status, 0, "{}", r.stderr);
    assert!(
        r.stdout.contains("LoadConst") && r.stdout.contains("StoreGlobal"),
        "{}",
        r.stdout
    );
}

#[test]
fn syntax_error_last_line_is_cpythons() {
    let r = eddy(&["-c", "if x = 1:\n    pass"], &[]);
    assert_eq!(r.status, 1);
    let expected = "SyntaxError: invalid syntax. Maybe you meant '==' or ':=' instead of '='?";
    assert_eq!(last_line(&r.stderr), expected);
    assert!(r.stderr.contains("<string>:1:6"), "{}", r.stderr);
}
