//! Preemption: while threads other than main exist, the scheduler's `tick` runs as a hook of
//! the VM's eval breaker (vm/src/breaker.rs), so a thread in a pure-computation loop is switched
//! out every few milliseconds (`sched::SWITCH_INTERVAL`). The switch happens inside the hook:
//! the thread's coroutine suspends there and, when resumed, returns `Tick::Continue` to its own
//! dispatch loop, so the breaker never sees the frame stack change. The hook is installed only
//! while there are threads, so single-threaded scripts pay nothing.

use std::cell::Cell;
use std::rc::Rc;

use eddy_vm::breaker::{HookId, Tick};
use eddy_vm::Vm;

use super::sched;

thread_local! {
    static HOOK: Cell<Option<HookId>> = const { Cell::new(None) };
}

/// Threads exist: start ticking (idempotent).
pub fn enable(vm: &mut Vm) {
    if HOOK.with(|h| h.get()).is_some() {
        return;
    }
    let id = vm.add_tick_hook(Rc::new(|vm: &mut Vm| {
        sched::tick(vm);
        Ok(Tick::Continue)
    }));
    HOOK.with(|h| h.set(Some(id)));
}

/// No thread is left but main: stop ticking.
pub fn disable(vm: &mut Vm) {
    if let Some(id) = HOOK.with(|h| h.take()) {
        vm.remove_tick_hook(id);
    }
}
