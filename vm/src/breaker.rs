//! The eval breaker: how anything outside the dispatch loop gets a word in while script code
//! runs — Ctrl-C or a host interrupting a `while True: pass`, fuel and deadline limits, and
//! switching between script threads.
//!
//! The loop pays one decrement-and-branch per *tick*: a `Jump` (every loop iteration ends with
//! one) and a `Return` (so recursion without loops is counted too). When the countdown reaches
//! zero the loop calls [`Vm::breaker_fired`] out of line, which checks the interrupt flag set by
//! [`InterruptHandle`]s and runs the tick hooks in the order they were added. A hook may raise
//! (the exception appears at the ticking instruction, where `try` can catch it) or replace the
//! frame stack (a thread switch), and may ask for the next check sooner
//! ([`Vm::request_tick_within`]), which is how an exact fuel budget is kept.

use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use crate::vm::Vm;
use crate::PyResult;

/// Ticks between two checks when no hook asks for less: about 5-20 µs of a tight loop, well
/// under any interrupt latency a person or a host notices, and rare enough to cost nothing.
pub const TICK_INTERVAL: u32 = 1024;

/// What a tick hook did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tick {
    /// Nothing that concerns the loop: it carries on with the same frame.
    Continue,
    /// The hook replaced the running frame stack (a thread switch): the loop reloads the top
    /// frame. The interrupted frame was saved so that resuming it repeats nothing.
    Reload,
}

/// A function run at every check, on the VM's thread.
pub type TickHook = Rc<dyn Fn(&mut Vm) -> PyResult<Tick>>;

/// Identifies an added hook, to remove it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HookId(u64);

/// A `Send + Sync` handle that stops the script running on a VM from any thread: at its next
/// check the running code raises `KeyboardInterrupt`.
#[derive(Debug, Clone)]
pub struct InterruptHandle(Arc<AtomicBool>);

impl InterruptHandle {
    /// Requests the interrupt; it is delivered once, at the next check.
    pub fn interrupt(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    /// Withdraws a request that was not delivered yet (say, when the statement it was meant
    /// for finished first).
    pub fn clear(&self) {
        self.0.store(false, Ordering::SeqCst);
    }
}

/// The breaker's state, kept in the `Vm`.
pub struct Breaker {
    /// Ticks left before the next check; the only field the loop touches.
    pub(crate) countdown: u32,
    /// The countdown's value when it was last set, to count ticks.
    period: u32,
    /// Ticks in all periods that ended.
    ticks_before: u64,
    interrupt: Arc<AtomicBool>,
    hooks: Vec<(HookId, TickHook)>,
    next_id: u64,
}

impl Default for Breaker {
    fn default() -> Breaker {
        Breaker {
            countdown: TICK_INTERVAL,
            period: TICK_INTERVAL,
            ticks_before: 0,
            interrupt: Arc::new(AtomicBool::new(false)),
            hooks: Vec::new(),
            next_id: 0,
        }
    }
}

impl Breaker {
    fn restart(&mut self, period: u32) {
        self.ticks_before += u64::from(self.period - self.countdown);
        self.period = period.max(1);
        self.countdown = self.period;
    }
}

impl Vm {
    /// A handle that interrupts this VM's running script from any thread.
    pub fn interrupt_handle(&self) -> InterruptHandle {
        InterruptHandle(self.breaker.interrupt.clone())
    }

    /// Adds a hook run at every check (about every [`TICK_INTERVAL`] ticks), after the ones
    /// already added.
    pub fn add_tick_hook(&mut self, hook: TickHook) -> HookId {
        let id = HookId(self.breaker.next_id);
        self.breaker.next_id += 1;
        self.breaker.hooks.push((id, hook));
        id
    }

    /// Removes a hook; removing one that is gone already does nothing.
    pub fn remove_tick_hook(&mut self, id: HookId) {
        self.breaker.hooks.retain(|(h, _)| *h != id);
    }

    /// Ticks (jumps and returns) executed so far: a cheap measure of work done, for fuel.
    pub fn ticks(&self) -> u64 {
        let b = &self.breaker;
        b.ticks_before + u64::from(b.period - b.countdown)
    }

    /// Makes the next check happen within `n` ticks (never later than it would anyway).
    pub fn request_tick_within(&mut self, n: u32) {
        if n.max(1) < self.breaker.countdown {
            self.breaker.restart(n);
        }
    }

    /// Called by the loop when the countdown runs out, with the top frame's `ip` saved. Raises
    /// a pending interrupt, then runs the hooks; `Tick::Reload` if one replaced the frames.
    #[inline(never)]
    #[cold]
    pub(crate) fn breaker_fired(&mut self) -> PyResult<Tick> {
        self.breaker.restart(TICK_INTERVAL);
        if self.breaker.interrupt.swap(false, Ordering::SeqCst) {
            return Err(self.error("KeyboardInterrupt", ""));
        }
        let mut outcome = Tick::Continue;
        // Indexing (not iterating) because a hook may add or remove hooks.
        let mut i = 0;
        while let Some((_, hook)) = self.breaker.hooks.get(i) {
            let hook = hook.clone();
            if hook(self)? == Tick::Reload {
                outcome = Tick::Reload;
            }
            i += 1;
        }
        Ok(outcome)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    #[test]
    fn ticks_count_across_shortened_periods() {
        let mut vm = Vm::new();
        assert_eq!(vm.ticks(), 0);
        vm.breaker.countdown -= 10;
        assert_eq!(vm.ticks(), 10);
        vm.request_tick_within(5);
        assert_eq!(vm.breaker.countdown, 5);
        vm.breaker.countdown -= 5;
        assert_eq!(vm.ticks(), 15);
        // A request for later than the current countdown changes nothing.
        vm.request_tick_within(100);
        assert_eq!(vm.breaker.countdown, 0);
    }

    #[test]
    fn interrupt_is_delivered_once() {
        let mut vm = Vm::new();
        vm.interrupt_handle().interrupt();
        let Err(err) = vm.breaker_fired() else {
            panic!("the interrupt was not raised")
        };
        assert!(vm.exc_matches(&err, "KeyboardInterrupt"));
        assert!(matches!(vm.breaker_fired(), Ok(Tick::Continue)));
    }

    #[test]
    fn hooks_run_in_order_and_can_be_removed() {
        let mut vm = Vm::new();
        let seen = Rc::new(Cell::new(0u32));
        let s = seen.clone();
        let first = vm.add_tick_hook(Rc::new(move |_| {
            s.set(s.get() * 10 + 1);
            Ok(Tick::Continue)
        }));
        let s = seen.clone();
        vm.add_tick_hook(Rc::new(move |_| {
            s.set(s.get() * 10 + 2);
            Ok(Tick::Reload)
        }));
        assert!(matches!(vm.breaker_fired(), Ok(Tick::Reload)));
        assert_eq!(seen.get(), 12);
        vm.remove_tick_hook(first);
        assert!(matches!(vm.breaker_fired(), Ok(Tick::Reload)));
        assert_eq!(seen.get(), 122);
    }
}
