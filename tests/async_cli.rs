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

/// The async examples print under virtual time what CPython prints in real time.
#[test]
fn async_examples_print_the_same_under_virtual_time() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    for name in ["downloader", "pipeline", "fanout", "timeouts"] {
        let script = std::fs::read_to_string(root.join(format!("examples/{name}.eddy")))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let expected = std::fs::read_to_string(root.join(format!("tests/examples/{name}.out")))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let r = eddy(&["--virtual-time", "main.py"], &script);
        assert_eq!((r.status, r.stderr.as_str()), (0, ""), "{name}");
        assert_eq!(r.stdout, expected, "{name}");
        assert!(
            r.took < Duration::from_millis(500),
            "{name} took {:?}",
            r.took
        );
    }
}

#[test]
fn help_explains_virtual_time() {
    let r = eddy(&["--help"], "");
    assert!(r.stdout.contains("--virtual-time"), "{}", r.stdout);
    assert!(r.stdout.contains("time.sleep"), "{}", r.stdout);
}

// ---- the deadlock report ----

const EVENT_NOBODY_SETS: &str = r#"
import asyncio

async def wait_for_signal(ev):
    print("waiting")
    await ev.wait()

async def main():
    ev = asyncio.Event()
    await wait_for_signal(ev)

asyncio.run(main())
"#;

#[test]
fn a_task_waiting_on_an_event_nobody_sets_is_a_deadlock() {
    let r = eddy(&["main.py"], EVENT_NOBODY_SETS);
    assert_eq!(r.status, 1, "{}", r.stderr);
    assert!(r.took < Duration::from_secs(1), "took {:?}", r.took);
    assert_eq!(r.stdout, "waiting\n");
    let expected_tree = concat!(
        "deadlock: every task is blocked and nothing can wake them\n",
        "  task 'Task-1' waiting for a Future\n",
        "      main() at main.py:10: await wait_for_signal(ev)\n",
        "      wait_for_signal() at main.py:6: await ev.wait()\n",
    );
    assert!(r.stderr.starts_with(expected_tree), "{}", r.stderr);
    let last = r.stderr.lines().last().unwrap_or_default();
    assert_eq!(
        last,
        "RuntimeError: deadlock: task 'Task-1' waits forever in wait_for_signal() at main.py:6: await ev.wait()"
    );
}

/// A task awaited through gather is shown under its waiter; the TaskGroup's task is not, since
/// the body has not reached the end of the `async with` (where it waits for the group).
const NESTED_DEADLOCK: &str = r#"
import asyncio

async def child(lock):
    async with lock:
        pass

async def main():
    lock = asyncio.Lock()
    await lock.acquire()
    async with asyncio.TaskGroup() as tg:
        tg.create_task(child(lock), name="in-group")
        await asyncio.gather(asyncio.create_task(child(lock), name="gathered"))

asyncio.run(main())
"#;

#[test]
fn the_deadlock_report_nests_tasks_under_their_waiter() {
    let r = eddy(&["main.py"], NESTED_DEADLOCK);
    assert_eq!(r.status, 1, "{}", r.stderr);
    let lines: Vec<&str> = r.stderr.lines().collect();
    let find = |s: &str| {
        lines
            .iter()
            .position(|l| l.starts_with(s))
            .unwrap_or_else(|| panic!("no line {s:?} in\n{}", r.stderr))
    };
    let main = find("  task 'Task-1' waiting for gather() (1 of its awaitables pending)");
    let gathered = find("    task 'gathered' waiting for a Future");
    let group = find("  task 'in-group' waiting for a Future");
    assert!(main < gathered && gathered < group, "{}", r.stderr);
    assert!(lines.contains(&"        child() at main.py:5: async with lock:"));
    assert!(
        r.stderr
            .ends_with("RuntimeError: deadlock: task 'in-group' waits forever in child() at main.py:5: async with lock:\n"),
        "{}",
        r.stderr
    );
}

// ---- SIGUSR1 ----

const TICKERS: &str = r#"
import asyncio

async def ticker(name, n):
    for i in range(n):
        await asyncio.sleep(0.02)
    return name

async def main():
    print("started", flush=True)
    async with asyncio.TaskGroup() as tg:
        a = tg.create_task(ticker("a", 40), name="ticker-a")
        b = tg.create_task(ticker("b", 50), name="ticker-b")
    print("done", a.result(), b.result())

asyncio.run(main())
"#;

/// Starts `eddy main.py` with stdout and stderr piped.
fn spawn(script: &str) -> (Child, PathBuf) {
    let dir = scratch(script);
    let child = command(&dir, &["main.py"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("could not run eddy: {e}"));
    (child, dir)
}

#[test]
fn sigusr1_prints_the_task_tree_and_the_script_goes_on() {
    use std::io::{BufRead, BufReader, Read};
    let (mut child, dir) = spawn(TICKERS);
    let mut stdout = BufReader::new(child.stdout.take().expect("piped stdout"));
    let mut first = String::new();
    let _ = stdout.read_line(&mut first);
    assert_eq!(first, "started\n");
    std::thread::sleep(Duration::from_millis(200));
    let killed = Command::new("kill")
        .args(["-USR1", &child.id().to_string()])
        .status()
        .map(|s| s.success());
    assert_eq!(killed.ok(), Some(true));
    let mut rest = String::new();
    let _ = stdout.read_to_string(&mut rest);
    let mut stderr = String::new();
    if let Some(mut e) = child.stderr.take() {
        let _ = e.read_to_string(&mut stderr);
    }
    let status = child.wait().map(|s| s.code());
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(rest, "done a b\n");
    assert_eq!(status.ok().flatten(), Some(0), "{stderr}");
    assert!(
        stderr.starts_with("eddy: task tree at loop time "),
        "{stderr}"
    );
    let expected = concat!(
        "  task 'Task-1' waiting for a Future\n",
        "      main() at main.py:11: async with asyncio.TaskGroup() as tg:\n",
    );
    assert!(stderr.contains(expected), "{stderr}");
    for name in ["ticker-a", "ticker-b"] {
        assert!(
            stderr.contains(&format!("    task '{name}' waiting for a Future\n        ticker() at main.py:6: await asyncio.sleep(0.02)\n")),
            "{stderr}"
        );
    }
}

// ---- never-awaited coroutines ----

/// CPython 3.11 prints the same (with the script's absolute path), each warning followed by a
/// line suggesting tracemalloc.
const FORGOTTEN_AWAITS: &str = r#"import asyncio, warnings

async def fetch(n):
    return n

class Client:
    async def close(self):
        print("closed")

    async def run(self):
        self.close()
        await self.close()

async def main():
    fetch(1)
    await Client().run()
    for i in range(3):
        fetch(i)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fetch(5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fetch(6)
    print("end")

asyncio.run(main())
"#;

#[test]
fn a_coroutine_never_awaited_is_a_runtime_warning() {
    let r = eddy(&["main.py"], FORGOTTEN_AWAITS);
    assert_eq!((r.status, r.stdout.as_str()), (0, "closed\nend\n"));
    let expected = concat!(
        "main.py:15: RuntimeWarning: coroutine 'fetch' was never awaited\n",
        "  fetch(1)\n",
        "RuntimeWarning: Enable tracemalloc to get the object allocation traceback\n",
        "main.py:11: RuntimeWarning: coroutine 'Client.close' was never awaited\n",
        "  self.close()\n",
        "RuntimeWarning: Enable tracemalloc to get the object allocation traceback\n",
        "main.py:18: RuntimeWarning: coroutine 'fetch' was never awaited\n",
        "  fetch(i)\n",
        "RuntimeWarning: Enable tracemalloc to get the object allocation traceback\n",
        "Exception ignored in: <coroutine object fetch>\n",
    );
    assert!(r.stderr.starts_with(expected), "{}", r.stderr);
    assert!(
        r.stderr
            .ends_with("\nRuntimeWarning: coroutine 'fetch' was never awaited\n"),
        "{}",
        r.stderr
    );
}

#[test]
fn awaited_started_or_closed_coroutines_do_not_warn() {
    let script = r#"
import asyncio

async def f():
    return 1

async def main():
    await f()
    t = asyncio.create_task(f())
    await t
    c = f()
    c.close()
    c = f()
    try:
        c.send(None)
    except StopIteration as e:
        print("sent", e.value)
    print(await asyncio.gather(f(), f()))

asyncio.run(main())
"#;
    let r = eddy(&["main.py"], script);
    assert_eq!(
        (r.status, r.stdout.as_str(), r.stderr.as_str()),
        (0, "sent 1\n[1, 1]\n", "")
    );
}

// ---- releasing finished tasks ----

/// `tests/async/million_tasks.eddy` runs a million short tasks in batches and checks, through
/// `sys._eddy_stats()`, that every task and coroutine was released.
#[test]
fn a_million_short_tasks_are_all_released() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let script = std::fs::read_to_string(root.join("tests/async/million_tasks.eddy"))
        .unwrap_or_else(|e| panic!("{e}"));
    let r = eddy(&["main.py"], &script);
    assert_eq!((r.status, r.stderr.as_str()), (0, ""), "{}", r.stdout);
    assert_eq!(
        r.stdout,
        concat!(
            "1000000 tasks run, sum 499999500000\n",
            "live during a batch: at most 10001 tasks\n",
            "released: True {'tasks': 1, 'generators': 1, 'frames': 2}\n",
            "after asyncio.run: {'tasks': 0, 'generators': 0, 'frames': 1}\n",
        )
    );
}

#[test]
fn eddy_stats_counts_live_tasks_and_coroutines() {
    let script = r#"
import asyncio, sys

async def child():
    await asyncio.sleep(0)

async def main():
    base = sys._eddy_stats()
    kept = [asyncio.create_task(child()) for _ in range(5)]
    print(sys._eddy_stats()["tasks"] - base["tasks"], sys._eddy_stats()["generators"] - base["generators"])
    await asyncio.gather(*kept)
    del kept
    await asyncio.sleep(0)
    print(sys._eddy_stats() == base)
    gens = [child() for _ in range(3)]
    print(sys._eddy_stats()["generators"] - base["generators"])
    for g in gens:
        g.close()

asyncio.run(main())
"#;
    let r = eddy(&["main.py"], script);
    assert_eq!(
        (r.status, r.stdout.as_str(), r.stderr.as_str()),
        (0, "5 5\nTrue\n3\n", "")
    );
}

/// A loop blocked in a long wait prints the tree at once, not when the wait ends.
#[test]
fn sigusr1_wakes_a_waiting_loop() {
    use std::io::{BufRead, BufReader, Read};
    let script = r#"
import asyncio

async def main():
    print("started", flush=True)
    await asyncio.sleep(3)
    print("done")

asyncio.run(main())
"#;
    let (mut child, dir) = spawn(script);
    let mut stdout = BufReader::new(child.stdout.take().expect("piped stdout"));
    let mut first = String::new();
    let _ = stdout.read_line(&mut first);
    assert_eq!(first, "started\n");
    let stderr = child.stderr.take().expect("piped stderr");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    std::thread::sleep(Duration::from_millis(100));
    let sent = Instant::now();
    let killed = Command::new("kill")
        .args(["-USR1", &child.id().to_string()])
        .status()
        .map(|s| s.success());
    assert_eq!(killed.ok(), Some(true));
    let header = rx.recv_timeout(Duration::from_secs(2));
    let took = sent.elapsed();
    let mut rest = String::new();
    let _ = stdout.read_to_string(&mut rest);
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(&dir);
    let header = header.unwrap_or_default();
    assert!(header.starts_with("eddy: task tree"), "{header:?}");
    assert!(took < Duration::from_secs(2), "took {took:?}");
    assert_eq!(rest, "done\n");
}
