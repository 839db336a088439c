//! Every example in `examples/` runs and prints what CPython prints. For each
//! `examples/NAME.eddy` (present and future: a new example needs no code here) the expected
//! stdout is `tests/examples/NAME.out`, and for an example meant to fail, `tests/examples/NAME.exit`
//! holds the exit status on line 1 and CPython's last stderr line on line 2, as for script tests.
//! An example without a `.out` file fails the test. Generate the files from CPython, from the
//! repository root:
//!
//!     n=NAME; (cd examples && python3 $n.eddy > ../tests/examples/$n.out)
//!
//! (and write `$n.exit` by hand for an example that exits with an error). Examples run from
//! their folder with stdin closed, so they may use loopback networking and files beside them.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// What an example is expected to do.
struct Expected {
    stdout: String,
    status: i32,
    last_stderr: Option<String>,
}

fn expected(name: &str) -> Result<Expected, String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/examples");
    let out = dir.join(format!("{name}.out"));
    let stdout = std::fs::read_to_string(&out).map_err(|e| {
        format!(
            "{name}: no expected output {} ({e}); generate it with python3 (see tests/examples.rs)",
            out.display()
        )
    })?;
    let (status, last_stderr) = match std::fs::read_to_string(dir.join(format!("{name}.exit"))) {
        Ok(text) => {
            let mut lines = text.lines();
            let status = lines
                .next()
                .and_then(|l| l.trim().parse().ok())
                .ok_or_else(|| format!("{name}.exit: line 1 must be the exit status"))?;
            (status, lines.next().map(str::to_string))
        }
        Err(_) => (0, None),
    };
    Ok(Expected {
        stdout,
        status,
        last_stderr,
    })
}

/// Runs one example; returns a description of what went wrong, if anything.
fn check(example: &Path) -> Result<(), String> {
    let name = example
        .file_stem()
        .unwrap_or_default()
        .to_string_lossy()
        .into_owned();
    let want = expected(&name)?;
    let out = Command::new(env!("CARGO_BIN_EXE_eddy"))
        .arg(example.file_name().unwrap_or_default())
        .current_dir(example.parent().unwrap_or(Path::new(".")))
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("{name}: could not run eddy: {e}"))?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let status = out.status.code().unwrap_or(-1);
    if stdout != want.stdout {
        let diff = similar::TextDiff::from_lines(want.stdout.as_str(), &stdout)
            .unified_diff()
            .header("expected", "eddy")
            .to_string();
        return Err(format!("{name}: stdout differs\n{diff}stderr:\n{stderr}"));
    }
    if status != want.status {
        return Err(format!(
            "{name}: exit status {status}, expected {}\nstderr:\n{stderr}",
            want.status
        ));
    }
    let last = stderr.lines().rev().find(|l| !l.trim().is_empty());
    match (&want.last_stderr, last) {
        (Some(w), l) if l != Some(w.as_str()) => Err(format!(
            "{name}: last stderr line {l:?}, expected {w:?}\nstderr:\n{stderr}"
        )),
        (None, Some(_)) if status == 0 => Err(format!("{name}: unexpected stderr:\n{stderr}")),
        _ => Ok(()),
    }
}

#[test]
fn every_example_prints_what_cpython_prints() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut examples: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|entries| entries.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    examples.retain(|p| p.extension().is_some_and(|e| e == "eddy"));
    examples.sort();
    assert!(examples.len() >= 5, "examples missing in {}", dir.display());
    // Examples sleep more than they compute: running them side by side keeps the test short.
    let failures: Vec<String> = std::thread::scope(|s| {
        let handles: Vec<_> = examples.iter().map(|e| s.spawn(move || check(e))).collect();
        handles
            .into_iter()
            .filter_map(|h| h.join().unwrap_or_else(|_| Err("panicked".into())).err())
            .collect()
    });
    assert!(
        failures.is_empty(),
        "{} of {} examples failed:\n\n{}",
        failures.len(),
        examples.len(),
        failures.join("\n\n")
    );
}
