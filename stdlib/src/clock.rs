//! The one clock behind `time.time/monotonic/perf_counter` and `loop.time()`, so that virtual
//! time (`eddy --virtual-time`) moves them all together.
//!
//! A clock reading is the real reading plus a skipped offset. In virtual mode, waiting for a
//! deadline adds the wait to the offset instead of sleeping: scripts see the time they would have
//! seen, at once. Outside virtual mode the offset stays zero.

use std::cell::Cell;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

thread_local! {
    static EPOCH: Instant = Instant::now();
    static VIRTUAL: Cell<bool> = const { Cell::new(false) };
    /// Seconds skipped by virtual waits.
    static SKIPPED: Cell<f64> = const { Cell::new(0.0) };
}

/// Turns virtual time on or off for this thread's VM (`eddy --virtual-time`; hosts use
/// `eddy::VmOptions::virtual_time`). Turning it off keeps the time already skipped, so clock
/// readings never go backwards.
pub fn set_virtual(on: bool) {
    VIRTUAL.with(|v| v.set(on));
}

pub fn is_virtual() -> bool {
    VIRTUAL.with(|v| v.get())
}

fn skipped() -> f64 {
    SKIPPED.with(|s| s.get())
}

/// Monotonic seconds since the VM started (what `loop.time()` and `time.monotonic()` report).
pub fn monotonic() -> f64 {
    EPOCH.with(|e| e.elapsed().as_secs_f64()) + skipped()
}

/// Seconds since the Unix epoch (`time.time()`).
pub fn wall() -> f64 {
    let real = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs_f64();
    real + skipped()
}

/// Moves a virtual clock forward to `deadline` (a `monotonic()` value); never backwards.
pub fn advance_to(deadline: f64) {
    let delta = deadline - monotonic();
    if delta > 0.0 && delta.is_finite() {
        SKIPPED.with(|s| s.set(s.get() + delta));
    }
}

/// Blocks the thread until `deadline` (a `monotonic()` value), or jumps there in virtual mode.
pub fn wait_until(deadline: f64) {
    if is_virtual() {
        advance_to(deadline);
        return;
    }
    let delta = deadline - monotonic();
    if delta > 0.0 && delta.is_finite() {
        std::thread::sleep(Duration::from_secs_f64(delta));
    }
}

/// A blocking sleep of `secs` seconds (`time.sleep`): a jump in virtual mode, like a timer wait.
pub fn sleep(secs: f64) {
    wait_until(monotonic() + secs);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn virtual_wait_jumps_without_sleeping() {
        set_virtual(true);
        let start = Instant::now();
        let before = monotonic();
        wait_until(before + 3600.0);
        assert!(monotonic() - before >= 3600.0);
        assert!(start.elapsed() < Duration::from_secs(1));
        set_virtual(false);
    }

    #[test]
    fn advance_never_goes_backwards() {
        let t = monotonic();
        advance_to(t - 10.0);
        assert!(monotonic() >= t);
    }
}
