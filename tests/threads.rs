//! Script threads against the clock: a thread in a pure-computation loop must not stop an
//! asyncio ticker on the main thread from ticking on time. Timing-based, so it is kept short
//! and tolerant of a loaded machine: each attempt is a fraction of a second, and a few
//! attempts are allowed before it fails.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A thread spins (never blocking, never sleeping) while the main thread's event loop ticks
/// every 10 ms; prints the median and worst lateness of the ticks in ms, and whether the
/// spinner ran meanwhile.
const TICKER: &str = r#"
import asyncio, threading
stop = False
spins = 0
def spin():
    global spins
    while not stop:
        spins += 1
t = threading.Thread(target=spin)
t.start()
async def ticker():
    loop = asyncio.get_running_loop()
    start = loop.time()
    late = []
    for i in range(1, 31):
        await asyncio.sleep(start + i * 0.01 - loop.time())
        late.append(loop.time() - (start + i * 0.01))
    return sorted(late)
late = asyncio.run(ticker())
stop = True
t.join()
print(f"{late[len(late) // 2] * 1000:.3f} {late[-1] * 1000:.3f} {spins > 1000}")
"#;

/// Runs `eddy -c code`, killing it if it takes longer than `limit` (a starved ticker would
/// never finish).
fn run_with_limit(code: &str, limit: Duration) -> Option<String> {
    let mut child = Command::new(env!("CARGO_BIN_EXE_eddy"))
        .args(["-c", code])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("could not run eddy");
    let start = Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) if start.elapsed() > limit => {
                let _ = child.kill();
                let _ = child.wait();
                return None;
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(10)),
            Err(e) => panic!("waiting for eddy: {e}"),
        }
    }
    let out = child.wait_with_output().expect("eddy's output");
    Some(String::from_utf8_lossy(&out.stdout).into_owned())
}

#[test]
fn a_busy_thread_does_not_delay_an_asyncio_ticker() {
    let mut seen = Vec::new();
    for _ in 0..4 {
        let Some(out) = run_with_limit(TICKER, Duration::from_secs(20)) else {
            panic!("the ticker never finished: the spinning thread starved the event loop");
        };
        let fields: Vec<&str> = out.split_whitespace().collect();
        assert_eq!(fields.len(), 3, "unexpected output: {out:?}");
        let median: f64 = fields[0].parse().expect("median");
        let worst: f64 = fields[1].parse().expect("worst");
        assert_eq!(fields[2], "True", "the spinning thread never ran");
        // Within a few milliseconds: CPython's own switch interval is 5 ms.
        if median < 3.0 && worst < 25.0 {
            return;
        }
        seen.push((median, worst));
    }
    panic!("ticks were late (median ms, worst ms per attempt): {seen:?}");
}
