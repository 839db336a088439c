//! Memory behaviour seen from outside: a script that creates and drops millions of reference
//! cycles must run in bounded memory, which only works if the cycle collector frees them.
//! Peak memory is the child's `VmHWM` (high-water resident set) from `/proc/PID/status`, polled
//! while it runs, so the test needs Linux's /proc and is compiled only there.

#![cfg(target_os = "linux")]

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The most resident memory the cycles script may use.
const PEAK_LIMIT_KIB: u64 = 100 * 1024;

/// The longest the cycles script may take, even on a loaded machine.
const TIMEOUT: Duration = Duration::from_secs(120);

#[test]
fn dropped_cycles_are_collected() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/memory");
    let mut child = Command::new(env!("CARGO_BIN_EXE_eddy"))
        .arg("cycles.eddy")
        .current_dir(&dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("could not run eddy: {e}"));
    let status_file = format!("/proc/{}/status", child.id());
    let start = Instant::now();
    let mut peak_kib = 0;
    let status = loop {
        // Read before try_wait: once reaped, the process's /proc entry is gone.
        if let Some(kib) = std::fs::read_to_string(&status_file)
            .ok()
            .and_then(|s| vm_hwm_kib(&s))
        {
            peak_kib = peak_kib.max(kib);
        }
        if let Ok(Some(status)) = child.try_wait() {
            break status;
        }
        if start.elapsed() > TIMEOUT {
            let _ = child.kill();
            panic!("cycles.eddy did not finish in {}s", TIMEOUT.as_secs());
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let mut stdout = String::new();
    if let Some(mut out) = child.stdout.take() {
        let _ = std::io::Read::read_to_string(&mut out, &mut stdout);
    }
    assert!(status.success(), "cycles.eddy failed: {status}");
    assert_eq!(stdout, "done\n");
    assert!(peak_kib > 0, "never saw VmHWM in {status_file}");
    assert!(
        peak_kib < PEAK_LIMIT_KIB,
        "peak resident memory {} MiB, limit {} MiB",
        peak_kib / 1024,
        PEAK_LIMIT_KIB / 1024
    );
}

/// The `VmHWM:   12345 kB` line of a /proc status file, in KiB.
fn vm_hwm_kib(status: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}
