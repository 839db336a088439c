//! The script suite: every `tests/scripts/**/NAME.eddy` is run by the real `eddy` binary and
//! checked against the files beside it (see tests/README.md):
//! - `NAME.out`: the exact expected stdout (missing means empty);
//! - `NAME.exit`, when present: line 1 the expected exit status, line 2 the expected last non-empty
//!   line of stderr (CPython's `ExcType: message`); when absent the script must exit 0.
//!
//! Cases run in parallel, each in its own folder with stdin closed and colour off. Every failure is
//! collected and printed with a diff before the test fails, so one run shows all of them.
//! `EDDY_SCRIPTS=substring` runs only the cases whose path contains the substring.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// A script that runs longer than this is killed and counted as failed.
const TIMEOUT: Duration = Duration::from_secs(60);

#[test]
fn scripts() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/scripts");
    let filter = std::env::var("EDDY_SCRIPTS").unwrap_or_default();
    let mut cases = Vec::new();
    collect(&root, &mut cases);
    cases.retain(|p| p.to_string_lossy().contains(&filter));
    cases.sort();
    assert!(
        !cases.is_empty(),
        "no scripts found under {}",
        root.display()
    );

    let failures = run_all(&cases);
    for failure in &failures {
        eprintln!("{failure}");
    }
    let passed = cases.len() - failures.len();
    eprintln!("scripts: {passed} passed, {} failed", failures.len());
    if !failures.is_empty() {
        let names: Vec<String> = failures
            .iter()
            .map(|f| f.lines().next().unwrap_or("").to_string())
            .collect();
        panic!(
            "{} of {} scripts failed:\n{}",
            failures.len(),
            cases.len(),
            names.join("\n")
        );
    }
}

/// Every `.eddy` file under `dir`, recursively.
fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(&path, out);
        } else if path.extension().is_some_and(|e| e == "eddy") {
            out.push(path);
        }
    }
}

/// Runs the cases on a few worker threads; returns one report per failed case.
fn run_all(cases: &[PathBuf]) -> Vec<String> {
    let workers = std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .clamp(1, 4);
    let next = AtomicUsize::new(0);
    let failures = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(case) = cases.get(i) else { break };
                if let Err(report) = check(case) {
                    failures
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .push((i, report));
                }
            });
        }
    });
    let mut failures = failures.into_inner().unwrap_or_else(|e| e.into_inner());
    failures.sort();
    failures.into_iter().map(|(_, report)| report).collect()
}

/// What a script did.
struct Outcome {
    status: Option<i32>,
    stdout: String,
    stderr: String,
    timed_out: bool,
}

/// Checks one case; the error is a report naming the case, what differed and how.
fn check(script: &Path) -> Result<(), String> {
    let name = script
        .strip_prefix(env!("CARGO_MANIFEST_DIR"))
        .unwrap_or(script)
        .display()
        .to_string();
    let expected_out = std::fs::read_to_string(script.with_extension("out")).unwrap_or_default();
    let (expected_status, expected_last) =
        match std::fs::read_to_string(script.with_extension("exit")) {
            Ok(text) => {
                let mut lines = text.lines();
                let status = lines.next().and_then(|l| l.trim().parse::<i32>().ok());
                let Some(status) = status else {
                    return Err(format!("FAIL {name}\n  .exit line 1 is not a number"));
                };
                (status, lines.next().map(|l| l.trim_end().to_string()))
            }
            Err(_) => (0, None),
        };
    let got = run(script).map_err(|e| format!("FAIL {name}\n  could not run eddy: {e}"))?;

    let mut problems = Vec::new();
    if got.timed_out {
        problems.push(format!("  timed out after {}s", TIMEOUT.as_secs()));
    }
    if got.status != Some(expected_status) {
        problems.push(format!(
            "  exit status: expected {expected_status}, got {:?}",
            got.status
        ));
    }
    if let Some(expected_last) = &expected_last {
        let last = got
            .stderr
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("");
        if last.trim_end() != expected_last {
            problems.push(format!(
                "  last stderr line:\n    expected: {expected_last}\n    got:      {last}"
            ));
        }
    }
    if got.stdout != expected_out {
        problems.push(format!(
            "  stdout differs (- expected, + got):\n{}",
            diff(&expected_out, &got.stdout)
        ));
    }
    if problems.is_empty() {
        return Ok(());
    }
    if expected_last.is_none() && !got.stderr.is_empty() {
        problems.push(format!("  stderr (last lines):\n{}", tail(&got.stderr, 12)));
    }
    Err(format!("FAIL {name}\n{}\n", problems.join("\n")))
}

/// Runs `eddy NAME.eddy` in the script's folder, killing it after [`TIMEOUT`].
fn run(script: &Path) -> std::io::Result<Outcome> {
    let dir = script.parent().unwrap_or(Path::new("."));
    let file = script.file_name().unwrap_or_default();
    let mut child = Command::new(env!("CARGO_BIN_EXE_eddy"))
        .arg(file)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    // Read both pipes on their own threads so a chatty script cannot fill one and block.
    let stdout = child.stdout.take().map(reader);
    let stderr = child.stderr.take().map(reader);
    let start = Instant::now();
    let mut timed_out = false;
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if start.elapsed() > TIMEOUT {
            timed_out = true;
            let _ = child.kill();
            break child.wait()?;
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let join = |h: Option<std::thread::JoinHandle<Vec<u8>>>| {
        h.and_then(|h| h.join().ok())
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default()
    };
    Ok(Outcome {
        status: status.code(),
        stdout: join(stdout),
        stderr: join(stderr),
        timed_out,
    })
}

fn reader(mut pipe: impl Read + Send + 'static) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = pipe.read_to_end(&mut buf);
        buf
    })
}

/// A line diff, with some context, indented under the case's report.
fn diff(expected: &str, got: &str) -> String {
    let diff = similar::TextDiff::from_lines(expected, got);
    let text = diff.unified_diff().context_radius(3).to_string();
    let mut out = String::new();
    for line in text.lines().take(80) {
        out.push_str("    ");
        out.push_str(line);
        out.push('\n');
    }
    if text.lines().count() > 80 {
        out.push_str("    ...\n");
    }
    if expected.trim_end() == got.trim_end() {
        out.push_str("    (only trailing newlines differ)\n");
    }
    out
}

fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let start = lines.len().saturating_sub(n);
    lines[start..]
        .iter()
        .map(|l| format!("    {l}\n"))
        .collect()
}
