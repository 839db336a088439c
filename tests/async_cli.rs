//! The async runtime's behaviour beyond stdout, seen from outside the binary: virtual time
//! (`--virtual-time`), the deadlock report, the never-awaited-coroutine warning and the SIGUSR1
//! task tree. These need timings, stderr or signals, so they cannot be script tests.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// What one run of `eddy` did, and how long it took.
struct Run {
    status: i32,
    stdout: String,
    stderr: String,
    took: Duration,
}

/// Writes `script` as `main.py` in a fresh folder and returns the folder.
fn scratch(script: &str) -> PathBuf {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("eddy-async-test-{}-{n}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("creating {}: {e}", dir.display()));
    std::fs::write(dir.join("main.py"), script).unwrap_or_else(|e| panic!("writing: {e}"));
    dir
}

fn command(dir: &PathBuf, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_eddy"));
    cmd.args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null());
    cmd
}

/// Runs `eddy ARGS` where `main.py` holds `script`.
fn eddy(args: &[&str], script: &str) -> Run {
    let dir = scratch(script);
    let start = Instant::now();
    let out = command(&dir, args)
        .output()
        .unwrap_or_else(|e| panic!("could not run eddy: {e}"));
    let took = start.elapsed();
    let _ = std::fs::remove_dir_all(&dir);
    Run {
        status: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        took,
    }
}

// ---- virtual time ----

/// Three tasks sleeping 3600 s of loop time in all (the last wakes at 3600 s); deadlines are
/// distinct so the order is fixed. The expected output is CPython's (checked with the sleeps
/// scaled down: CPython at full scale would take an hour).
const HOUR_OF_SLEEPS: &str = r#"
import asyncio, time

async def worker(name, naps):
    for n in naps:
        await asyncio.sleep(n)
        print(name, "woke after", n)
    return name

async def main():
    loop = asyncio.get_running_loop()
    t0, m0, w0 = loop.time(), time.monotonic(), time.time()
    r = await asyncio.gather(worker("a", [500, 700, 600]), worker("b", [900, 800]),
                             worker("c", [1100, 1200, 1300]))
    print(r)
    print(round(loop.time() - t0), round(time.monotonic() - m0), round(time.time() - w0))
    time.sleep(400)
    print(round(loop.time() - t0))

asyncio.run(main())
"#;

const HOUR_OUTPUT: &str = "a woke after 500\nb woke after 900\nc woke after 1100\n\
a woke after 700\nb woke after 800\na woke after 600\nc woke after 1200\nc woke after 1300\n\
['a', 'b', 'c']\n3600 3600 3600\n4000\n";

#[test]
fn virtual_time_runs_an_hour_of_sleeps_at_once() {
    let r = eddy(&["--virtual-time", "main.py"], HOUR_OF_SLEEPS);
    assert_eq!((r.status, r.stderr.as_str()), (0, ""));
    assert_eq!(r.stdout, HOUR_OUTPUT);
    assert!(r.took < Duration::from_secs(1), "took {:?}", r.took);
}

/// Many tasks in a TaskGroup sleeping staggered times (2.7 s of real time in all, so that the
/// check holds on a busy machine too).
const STAGGERED: &str = r#"
import asyncio

async def sleeper(i, done):
    await asyncio.sleep((i % 10) * 0.3)
    done.append(i % 10)

async def main():
    done = []
    async with asyncio.TaskGroup() as tg:
        for i in range(1000):
            tg.create_task(sleeper(i, done))
    print(len(done), done[:12], done[-3:])

asyncio.run(main())
"#;

#[test]
fn virtual_time_matches_real_time_in_a_tenth_of_it() {
    let real = eddy(&["main.py"], STAGGERED);
    let virt = eddy(&["--virtual-time", "main.py"], STAGGERED);
    assert_eq!((real.status, virt.status), (0, 0), "{}", virt.stderr);
    assert_eq!(virt.stdout, real.stdout);
    assert!(real.stdout.starts_with("1000 [0, 0, 0"), "{}", real.stdout);
    assert!(
        virt.took * 10 < real.took,
        "virtual {:?}, real {:?}",
        virt.took,
        real.took
    );
}

#[test]
fn help_explains_virtual_time() {
    let r = eddy(&["--help"], "");
    assert!(r.stdout.contains("--virtual-time"), "{}", r.stdout);
    assert!(r.stdout.contains("time.sleep"), "{}", r.stdout);
}
