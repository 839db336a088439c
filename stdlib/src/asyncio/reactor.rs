//! The reactor: the loop's clock and how it waits when nothing is ready. Kept to this one small
//! file so it can be swapped for smol's reactor (async-io) without touching the loop logic.

use std::time::{Duration, Instant};

thread_local! {
    static EPOCH: Instant = Instant::now();
}

/// Monotonic seconds, as `loop.time()` reports them.
pub fn now() -> f64 {
    EPOCH.with(|e| e.elapsed().as_secs_f64())
}

/// Blocks the thread until `deadline` (a `now()` value); returns at once if it has passed.
pub fn wait_until(deadline: f64) {
    let delta = deadline - now();
    if delta > 0.0 && delta.is_finite() {
        std::thread::sleep(Duration::from_secs_f64(delta));
    }
}
