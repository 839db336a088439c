//! The interactive prompt end to end: the real `eddy` binary driven through a pseudo-terminal
//! (expectrl), as a person at a terminal would use it. Each test waits for the prompt before
//! typing, as a person does: keys sent in one burst while the editor reads are not all kept.
//! Output is compared with ANSI escapes and carriage returns removed.

use std::io::Read;
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use expectrl::process::unix::WaitStatus;
use expectrl::Session;

/// How long any one expected text may take to appear.
const TIMEOUT: Duration = Duration::from_secs(10);

/// A running `eddy` on a pseudo-terminal and everything it printed so far.
struct Repl {
    session: expectrl::session::OsSession,
    raw: Vec<u8>,
    /// How much of the cleaned output earlier expectations consumed.
    pos: usize,
    dir: PathBuf,
}

/// A fresh folder per call (history file, scripts), so parallel tests share nothing.
fn scratch_dir() -> PathBuf {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("eddy-repl-test-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

/// Starts `eddy ARGS` in `dir` with its history file there.
fn start_in(dir: PathBuf, args: &[&str]) -> Repl {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_eddy"));
    cmd.args(args)
        .current_dir(&dir)
        .env("EDDY_HISTORY", dir.join("history"))
        .env("NO_COLOR", "1")
        .env("TERM", "xterm");
    let mut session = Session::spawn(cmd).expect("spawn eddy on a pty");
    session.set_expect_timeout(Some(TIMEOUT));
    Repl {
        session,
        raw: Vec::new(),
        pos: 0,
        dir,
    }
}

fn start(args: &[&str]) -> Repl {
    start_in(scratch_dir(), args)
}

/// `text` without ANSI escape sequences and carriage returns.
fn clean(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            '\x1b' => {
                // CSI sequences run to a final byte in '@'..='~'; others are two characters.
                if chars.next() == Some('[') {
                    for d in chars.by_ref() {
                        if ('@'..='~').contains(&d) {
                            break;
                        }
                    }
                }
            }
            '\r' => {}
            c => out.push(c),
        }
    }
    out
}

impl Repl {
    /// Reads whatever the terminal has for us now.
    fn pump(&mut self) {
        let mut buf = [0u8; 4096];
        loop {
            match self.session.try_read(&mut buf) {
                Ok(0) => return,
                Ok(n) => self.raw.extend_from_slice(&buf[..n]),
                Err(_) => return,
            }
        }
    }

    /// Waits until `needle` appears after what earlier expectations consumed; returns the
    /// output before it.
    fn expect(&mut self, needle: &str) -> String {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            self.pump();
            let text = clean(&self.raw);
            if let Some(i) = text[self.pos..].find(needle) {
                let before = text[self.pos..self.pos + i].to_string();
                self.pos += i + needle.len();
                return before;
            }
            if Instant::now() > deadline {
                panic!(
                    "timed out waiting for {needle:?}; the terminal showed after the last match:\n{}\n---- all of it:\n{text}",
                    &text[self.pos..]
                );
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    fn send(&mut self, bytes: &str) {
        use std::io::Write;
        self.session
            .write_all(bytes.as_bytes())
            .expect("write to pty");
        self.session.flush().expect("flush pty");
    }

    /// Types `line` and Enter.
    fn line(&mut self, line: &str) {
        self.send(&format!("{line}\r"));
    }

    /// Types `line` at the next prompt (`>>> ` or `... `) and Enter.
    fn at_prompt(&mut self, prompt: &str, line: &str) {
        self.expect(prompt);
        self.line(line);
    }

    /// Types `line` at `>>> ` and returns what it printed up to the next prompt.
    fn run(&mut self, line: &str) -> String {
        self.at_prompt(">>> ", line);
        // The echo of the typed line comes first.
        self.expect("\n");
        self.until_prompt()
    }

    /// The output up to the next `>>> `, which is left for the next command to find.
    fn until_prompt(&mut self) -> String {
        let out = self.expect(">>> ");
        self.pos -= ">>> ".len();
        out
    }

    /// Waits for the process to exit and returns its status.
    fn exit_status(&mut self) -> i32 {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            self.pump();
            match self.session.get_process().status() {
                Ok(WaitStatus::Exited(_, code)) => return code,
                Ok(WaitStatus::Signaled(_, sig, _)) => panic!("eddy died of {sig:?}"),
                _ if Instant::now() > deadline => panic!("eddy did not exit"),
                _ => std::thread::sleep(Duration::from_millis(10)),
            }
        }
    }
}

impl Drop for Repl {
    fn drop(&mut self) {
        let _ = self.session.get_process_mut().exit(true);
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[test]
fn expression_values_echo_with_repr_and_none_is_silent() {
    let mut r = start(&[]);
    assert_eq!(r.run("1 + 2"), "3\n");
    assert_eq!(r.run("'a' * 2"), "'aa'\n");
    assert_eq!(r.run("None"), "");
    assert_eq!(r.run("x = 10"), "");
    assert_eq!(r.run("x"), "10\n");
    assert_eq!(r.run("_ * 2"), "20\n");
    assert_eq!(r.run("print('hi')"), "hi\n");
}

#[test]
fn a_multi_line_def() {
    let mut r = start(&[]);
    r.at_prompt(">>> ", "def double(x):");
    r.at_prompt("... ", "    y = x * 2");
    r.at_prompt("... ", "    return y");
    r.at_prompt("... ", "");
    assert_eq!(r.run("double(21)"), "42\n");
}

#[test]
fn a_multi_line_for() {
    let mut r = start(&[]);
    r.at_prompt(">>> ", "for i in range(3):");
    r.at_prompt("... ", "    print('item', i)");
    r.at_prompt("... ", "");
    r.expect("\n");
    assert_eq!(r.expect(">>> "), "item 0\nitem 1\nitem 2\n");
}

#[test]
fn a_syntax_error_is_reported_and_does_not_trap_the_prompt() {
    let mut r = start(&[]);
    let out = r.run("x = = 1");
    assert!(out.contains("SyntaxError"), "{out}");
    r.at_prompt(">>> ", "if True:");
    r.at_prompt("... ", "");
    let out = r.until_prompt();
    assert!(out.contains("IndentationError"), "{out}");
    assert_eq!(r.run("1"), "1\n");
}

#[test]
fn top_level_await() {
    let mut r = start(&[]);
    assert_eq!(r.run("await asyncio.sleep(0.01, 'slept')"), "'slept'\n");
    r.at_prompt(">>> ", "async def twice(x):");
    r.at_prompt("... ", "    await asyncio.sleep(0)");
    r.at_prompt("... ", "    return x * 2");
    r.at_prompt("... ", "");
    assert_eq!(r.run("v = await twice(4)"), "");
    assert_eq!(r.run("v"), "8\n");
    assert_eq!(r.run("asyncio.run(twice(5))"), "10\n");
}

#[test]
fn a_background_task_prints_while_the_prompt_is_idle() {
    let mut r = start(&[]);
    r.at_prompt(">>> ", "async def later():");
    r.at_prompt("... ", "    await asyncio.sleep(0.2)");
    r.at_prompt("... ", "    print('background done')");
    r.at_prompt("... ", "");
    assert_eq!(r.run("t = asyncio.create_task(later())"), "");
    // Start typing, then wait: the task's line appears and the typed text is redrawn.
    r.expect(">>> ");
    r.send("t.done(");
    r.expect("background done\n");
    r.expect(">>> t.done(");
    r.send(")\r");
    r.expect("True\n");
}

#[test]
fn an_error_keeps_the_session_state() {
    let mut r = start(&[]);
    assert_eq!(r.run("x = 5"), "");
    let out = r.run("1 / 0");
    assert!(out.contains("ZeroDivisionError: division by zero"), "{out}");
    let out = r.run("undefined_name");
    assert!(
        out.contains("NameError: name 'undefined_name' is not defined"),
        "{out}"
    );
    assert_eq!(r.run("x + 1"), "6\n");
}

#[test]
fn ctrl_c_cancels_an_awaiting_statement() {
    let mut r = start(&[]);
    assert_eq!(r.run("x = 'kept'"), "");
    let start = Instant::now();
    r.at_prompt(">>> ", "await asyncio.sleep(100)");
    r.expect("\n");
    std::thread::sleep(Duration::from_millis(200));
    r.send("\x03");
    let out = r.until_prompt();
    assert!(out.contains("KeyboardInterrupt"), "{out}");
    assert!(start.elapsed() < Duration::from_secs(10));
    assert_eq!(r.run("x"), "'kept'\n");
}

#[test]
fn ctrl_c_stops_a_busy_loop() {
    let mut r = start(&[]);
    assert_eq!(r.run("n = 0"), "");
    r.at_prompt(">>> ", "while True: n += 1");
    r.at_prompt("... ", "");
    std::thread::sleep(Duration::from_millis(200));
    r.send("\x03");
    let out = r.until_prompt();
    assert!(out.contains("KeyboardInterrupt"), "{out}");
    assert_eq!(r.run("n > 0"), "True\n");
}

#[test]
fn ctrl_c_at_the_prompt_clears_the_line() {
    let mut r = start(&[]);
    r.expect(">>> ");
    r.send("this is not run");
    std::thread::sleep(Duration::from_millis(50));
    r.send("\x03");
    r.at_prompt(">>> ", "1 + 1");
    let out = r.expect("2\n");
    assert!(
        !out.contains("NameError") && !out.contains("SyntaxError"),
        "{out}"
    );
}

#[test]
fn ctrl_d_exits_with_status_0() {
    let mut r = start(&[]);
    r.expect(">>> ");
    r.send("\x04");
    assert_eq!(r.exit_status(), 0);
}

#[test]
fn exit_leaves_with_its_status() {
    let mut r = start(&[]);
    assert_eq!(r.run("exit"), "Use exit() or Ctrl-D (i.e. EOF) to exit\n");
    r.at_prompt(">>> ", "exit(3)");
    assert_eq!(r.exit_status(), 3);
}

#[test]
fn tasks_where_and_cancel() {
    let mut r = start(&[]);
    r.at_prompt(">>> ", "async def worker():");
    r.at_prompt("... ", "    await asyncio.sleep(100)");
    r.at_prompt("... ", "");
    assert_eq!(r.run("t = asyncio.create_task(worker(), name='w1')"), "");
    let out = r.run(":tasks");
    assert!(out.contains("NAME"), "{out}");
    assert!(out.contains("w1"), "{out}");
    assert!(out.contains("await asyncio.sleep(100)"), "{out}");
    let out = r.run(":where w1");
    assert!(out.contains("line 2, in worker"), "{out}");
    assert!(out.contains("await asyncio.sleep(100)"), "{out}");
    let out = r.run(":cancel w1");
    assert!(out.contains("cancelled task 'w1'"), "{out}");
    assert_eq!(r.run("await asyncio.sleep(0)"), "");
    assert_eq!(r.run("t.cancelled()"), "True\n");
    assert_eq!(r.run(":tasks"), "no tasks\n");
    let out = r.run(":where nobody");
    assert!(out.contains("no live task named"), "{out}");
}

#[test]
fn time_load_reset_and_help() {
    let mut r = start(&[]);
    std::fs::write(r.dir.join("lib.eddy"), "loaded = 41 + 1\n").expect("write");
    let out = r.run(":time await asyncio.sleep(0.05)");
    assert!(out.contains("wall time: 0.0"), "{out}");
    assert_eq!(r.run(":load lib.eddy"), "");
    assert_eq!(r.run("loaded"), "42\n");
    let out = r.run(":reset");
    assert!(out.contains("session reset"), "{out}");
    let out = r.run("loaded");
    assert!(out.contains("NameError"), "{out}");
    let out = r.run(":help");
    assert!(out.contains(":where NAME"), "{out}");
    let out = r.run(":nonsense");
    assert!(out.contains("unknown command"), "{out}");
}

#[test]
fn dash_i_runs_a_file_then_keeps_its_globals_and_tasks() {
    let dir = scratch_dir();
    let script = "import asyncio\nvalue = 7\nasync def beat():\n    await asyncio.sleep(0.1)\n    print('beat from the file')\nbg = asyncio.create_task(beat())\nprint('file ran')\n";
    std::fs::write(dir.join("app.eddy"), script).expect("write");
    let mut r = start_in(dir, &["-i", "app.eddy"]);
    r.expect("file ran\n");
    r.expect("beat from the file\n");
    assert_eq!(r.run("value * 6"), "42\n");
    assert_eq!(r.run("__name__"), "'__main__'\n");
}

#[test]
fn a_pasted_block_runs_as_one_input() {
    let mut r = start(&[]);
    r.expect(">>> ");
    r.send("\x1b[200~def g():\r    return 7\r\rprint(g() * 6)\x1b[201~\r");
    r.expect("42\n");
}

#[test]
fn tab_completes_names_and_attributes() {
    let mut r = start(&[]);
    assert_eq!(r.run("my_long_variable = 5"), "");
    r.expect(">>> ");
    r.send("my_lo\t");
    r.expect("my_long_variable");
    r.send(" + 1\r");
    r.expect("6\n");
    r.expect(">>> ");
    r.send("asyncio.gath\t");
    r.expect("asyncio.gather");
    r.send("\x03");
}

#[test]
fn history_is_kept_across_sessions() {
    let dir = scratch_dir();
    {
        let mut r = start_in(dir.clone(), &[]);
        assert_eq!(r.run("remembered = 'yes'"), "");
        r.expect(">>> ");
        r.send("\x04");
        assert_eq!(r.exit_status(), 0);
        // Keep the folder (and its history) for the second session.
        r.dir = scratch_dir();
    }
    let mut r = start_in(dir, &[]);
    r.expect(">>> ");
    // Up recalls the last session's line; run it, then use its result.
    r.send("\x1b[A");
    r.expect("remembered = 'yes'");
    r.send("\r");
    assert_eq!(r.run("remembered"), "'yes'\n");
}

#[test]
fn piped_stdin_runs_as_a_script() {
    use std::io::Write;
    use std::process::Stdio;
    let mut child = Command::new(env!("CARGO_BIN_EXE_eddy"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn eddy");
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(b"x = 2\nprint(x * 21)\n")
            .expect("write stdin");
    }
    let mut out = String::new();
    if let Some(mut stdout) = child.stdout.take() {
        stdout.read_to_string(&mut out).expect("read stdout");
    }
    assert!(child.wait().expect("wait").success());
    assert_eq!(out, "42\n");
}

#[test]
fn lines_typed_while_a_statement_runs_are_kept() {
    let mut r = start(&[]);
    r.at_prompt(">>> ", "await asyncio.sleep(0.3)");
    r.expect("\n");
    std::thread::sleep(Duration::from_millis(50));
    r.line("first = 1");
    r.line("second = first + 1");
    r.expect(">>> second = first + 1\n");
    assert_eq!(r.run("first, second"), "(1, 2)\n");
}

#[test]
fn dash_i_dash_c_runs_code_then_the_prompt() {
    let mut r = start(&["-i", "-c", "z = 6\nprint('code ran')"]);
    r.expect("code ran\n");
    assert_eq!(r.run("z * 7"), "42\n");
}
