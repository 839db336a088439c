//! The one clock behind `time.time/monotonic/perf_counter` and `loop.time()`, so that virtual
//! time (`eddy --virtual-time`) moves them all together.
//!
//! In real mode a reading is the real clock's. In virtual mode the clock stands still while code
//! runs and moves only when something waits: waiting for a deadline (a timer of the event loop,
//! a blocking `time.sleep`) sets the clock to the deadline at once instead of sleeping. So a
//! script sees the times it would see if its code took no time at all, and its output does not
//! depend on how fast the machine is: the same on every run, as Trio's MockClock with autojump.
//! (Code that spins until the clock passes a point without ever waiting would spin forever.)

use std::cell::Cell;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

thread_local! {
    static EPOCH: Instant = Instant::now();
    /// The virtual clock's reading, in virtual mode.
    static VIRTUAL: Cell<Option<f64>> = const { Cell::new(None) };
    /// `wall() - monotonic()` when virtual mode began, so the wall clock follows the virtual one.
    static WALL_OFFSET: Cell<f64> = const { Cell::new(0.0) };
    /// Seconds the real-mode clock is ahead of the real clock (time spent virtual, skipped).
    static SKIPPED: Cell<f64> = const { Cell::new(0.0) };
}

/// Turns virtual time on or off for this thread's VM (`eddy --virtual-time`; hosts use
/// `eddy::VmOptions::virtual_time`). The clock never goes backwards across a switch.
pub fn set_virtual(on: bool) {
    match (on, VIRTUAL.with(|v| v.get())) {
        (true, None) => {
            let now = monotonic();
            WALL_OFFSET.with(|w| w.set(wall() - now));
            VIRTUAL.with(|v| v.set(Some(now)));
        }
        (false, Some(virt)) => {
            VIRTUAL.with(|v| v.set(None));
            let behind = virt - monotonic();
            if behind > 0.0 {
                SKIPPED.with(|s| s.set(s.get() + behind));
            }
        }
        _ => {}
    }
}

pub fn is_virtual() -> bool {
    VIRTUAL.with(|v| v.get()).is_some()
}

fn real_monotonic() -> f64 {
    EPOCH.with(|e| e.elapsed().as_secs_f64()) + SKIPPED.with(|s| s.get())
}

/// Monotonic seconds since the VM started (what `loop.time()` and `time.monotonic()` report).
pub fn monotonic() -> f64 {
    VIRTUAL.with(|v| v.get()).unwrap_or_else(real_monotonic)
}

/// Seconds since the Unix epoch (`time.time()`).
pub fn wall() -> f64 {
    if let Some(virt) = VIRTUAL.with(|v| v.get()) {
        return virt + WALL_OFFSET.with(|w| w.get());
    }
    let real = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs_f64();
    real + SKIPPED.with(|s| s.get())
}

/// Moves the clock forward to `deadline` (a `monotonic()` value) without waiting; never
/// backwards. (In real mode the skipped time is added to every later reading.)
pub fn advance_to(deadline: f64) {
    let delta = deadline - monotonic();
    if !(delta > 0.0 && delta.is_finite()) {
        return;
    }
    match VIRTUAL.with(|v| v.get()) {
        Some(_) => VIRTUAL.with(|v| v.set(Some(deadline))),
        None => SKIPPED.with(|s| s.set(s.get() + delta)),
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
    fn virtual_clock_stands_still_while_code_runs() {
        set_virtual(true);
        let (m, w) = (monotonic(), wall());
        std::thread::sleep(Duration::from_millis(20));
        assert_eq!((monotonic(), wall()), (m, w));
        sleep(1.5);
        assert_eq!(monotonic(), m + 1.5);
        assert!((wall() - w - 1.5).abs() < 1e-6);
        set_virtual(false);
        assert!(monotonic() >= m + 1.5);
    }

    #[test]
    fn advance_never_goes_backwards() {
        let t = monotonic();
        advance_to(t - 10.0);
        assert!(monotonic() >= t);
    }
}
