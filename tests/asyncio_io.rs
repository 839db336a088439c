//! asyncio behaviour that a script plus expected output cannot check: Ctrl-C during
//! `asyncio.run` (a signal, an exit status and stderr), and the TCP echo example run end to end.

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn eddy() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_eddy"));
    c.env("NO_COLOR", "1");
    c
}

fn write_script(name: &str, text: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("eddy-asyncio-io-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("scratch dir");
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write script");
    path
}

/// True when this process ignores SIGINT (a background job): children inherit that, and
/// Eddy, like CPython, then leaves SIGINT alone, so the Ctrl-C tests cannot run.
fn sigint_ignored() -> bool {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("SigIgn:"))
        .and_then(|m| u64::from_str_radix(m.trim(), 16).ok())
        .is_some_and(|mask| mask & (1 << 1) != 0)
}

/// Runs `script`, sends SIGINT once it printed its first line, returns (status, stdout, stderr).
fn interrupt(script: &Path) -> (Option<i32>, String, String) {
    let mut child = eddy()
        .arg(script)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn eddy");
    let mut out = BufReader::new(child.stdout.take().expect("stdout"));
    let mut first = String::new();
    out.read_line(&mut first).expect("first line");
    let started = Instant::now();
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    let mut rest = String::new();
    out.read_to_string(&mut rest).expect("rest of stdout");
    let mut err = String::new();
    if let Some(mut e) = child.stderr.take() {
        e.read_to_string(&mut err).expect("stderr");
    }
    let status = child.wait().expect("wait");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "the interrupt was not acted on promptly"
    );
    (status.code(), first + &rest, err)
}

#[test]
fn ctrl_c_cancels_the_main_task_and_exits_130() {
    if sigint_ignored() {
        eprintln!("SIGINT is ignored here; skipping");
        return;
    }
    let script = write_script(
        "sigint.eddy",
        "import asyncio\n\
         async def main():\n\
         \x20   try:\n\
         \x20       print('sleeping', flush=True)\n\
         \x20       await asyncio.sleep(30)\n\
         \x20   finally:\n\
         \x20       print('finally ran')\n\
         asyncio.run(main())\n",
    );
    let (status, out, err) = interrupt(&script);
    assert_eq!(status, Some(130), "stderr: {err}");
    assert_eq!(out, "sleeping\nfinally ran\n");
    assert_eq!(
        err.lines().last(),
        Some("KeyboardInterrupt"),
        "stderr: {err}"
    );
}

#[test]
fn ctrl_c_reaches_a_task_waiting_on_io() {
    if sigint_ignored() {
        eprintln!("SIGINT is ignored here; skipping");
        return;
    }
    let script = write_script(
        "sigint_io.eddy",
        "import asyncio\n\
         async def main():\n\
         \x20   server = await asyncio.start_server(lambda r, w: None, '127.0.0.1', 0)\n\
         \x20   try:\n\
         \x20       print('serving', flush=True)\n\
         \x20       await server.serve_forever()\n\
         \x20   except asyncio.CancelledError:\n\
         \x20       print('cancelled')\n\
         \x20       raise\n\
         asyncio.run(main())\n",
    );
    let (status, out, err) = interrupt(&script);
    assert_eq!(status, Some(130), "stderr: {err}");
    assert_eq!(out, "serving\ncancelled\n");
}

#[test]
fn tcp_echo_example_runs() {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/tcp_echo.eddy");
    let out = eddy().arg(example).output().expect("run example");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let expected = "listening: True\n\
                    echo: alice: hello\n\
                    echo: alice: how are you?\n\
                    echo: bob: hi\n\
                    echo: carol: one\n\
                    echo: carol: two\n\
                    echo: carol: three\n\
                    connections served: 3 from ['127.0.0.1']\n\
                    after closing, connecting is refused\n";
    assert_eq!(text, expected);
}
