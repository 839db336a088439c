//! The reactor: how the loop waits when nothing is ready. Kept to this one small file so it can
//! be swapped for smol's reactor (async-io) without touching the loop logic. The loop's clock is
//! `crate::clock`, shared with the `time` module.

use crate::clock;

/// Monotonic seconds, as `loop.time()` reports them.
pub fn now() -> f64 {
    clock::monotonic()
}

/// Blocks the thread until `deadline` (a `now()` value); returns at once if it has passed.
pub fn wait_until(deadline: f64) {
    clock::wait_until(deadline);
}
