//! The scheduler of script threads: green threads on the VM's one OS thread, with the
//! observable semantics of CPython's GIL (one thread runs script code at a time; a blocked thread
//! lets the others run; a busy thread is switched out every few milliseconds).
//!
//! Each thread other than the main one is a stackful coroutine (corosensei) with its own Rust
//! stack, plus its own VM frame and value stacks (`eddy_vm::threads::ThreadContext`). The main
//! thread is the scheduler: it runs the others when it blocks (`wait_main`, reached from
//! `block`) and when its time slice runs out while another thread is runnable (`tick`). A
//! thread other than main never switches to a sibling directly: it suspends back to the main
//! thread, which picks the next runnable thread round-robin. Because a thread has its own Rust
//! stack, it can be switched out anywhere — inside a `key=` callback, a `with` statement's
//! `__enter__`, a nested event loop — not only at the dispatch loop's outermost level.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::Rc;
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::time::{Duration, Instant};

use corosensei::stack::DefaultStack;
use corosensei::{Coroutine, CoroutineResult, Yielder};
use eddy_vm::threads::ThreadContext;
use eddy_vm::{Value, Vm};

use crate::clock;

/// CPython's default `sys.getswitchinterval()`: how long a busy thread runs before another
/// runnable thread gets its turn.
pub const SWITCH_INTERVAL: Duration = Duration::from_millis(5);

thread_local! {
    /// The interval in force (`sys.setswitchinterval`).
    static INTERVAL: Cell<Duration> = const { Cell::new(SWITCH_INTERVAL) };
}

/// `sys.getswitchinterval()`.
pub fn switch_interval() -> Duration {
    INTERVAL.with(|i| i.get())
}

/// `sys.setswitchinterval(seconds)`.
pub fn set_switch_interval(d: Duration) {
    INTERVAL.with(|i| i.set(d));
}

/// The longest turn a busy thread gets while the main thread runs an event loop.
const LOOP_TURN: Duration = Duration::from_millis(1);

/// Rust stack of a script thread. Script calls do not use it (the VM is stackless); native code
/// calling back into scripts does. The memory is reserved, and only touched pages are committed.
const THREAD_STACK: usize = 64 << 20;

type Co = Coroutine<*mut Vm, (), (), DefaultStack>;

/// What a blocked thread waits for. It becomes runnable when `ready` says so or `deadline` (a
/// `clock::monotonic()` value) passes; with neither it is runnable at once (a preempted thread).
#[derive(Default)]
pub struct Wake {
    pub deadline: Option<f64>,
    pub ready: Option<Box<dyn Fn() -> bool>>,
}

impl Wake {
    pub fn now() -> Wake {
        Wake::default()
    }
    pub fn at(deadline: f64) -> Wake {
        Wake {
            deadline: Some(deadline),
            ready: None,
        }
    }
    pub fn when(deadline: Option<f64>, ready: impl Fn() -> bool + 'static) -> Wake {
        Wake {
            deadline,
            ready: Some(Box::new(ready)),
        }
    }
    fn is_ready(&self, now: f64) -> bool {
        if matches!(self.deadline, Some(d) if now >= d) {
            return true;
        }
        match &self.ready {
            Some(f) => f(),
            None => self.deadline.is_none(),
        }
    }
}

struct Guest {
    id: u64,
    ctx: ThreadContext,
    co: Co,
    /// The coroutine's yielder, known once it first ran (null before).
    yielder: *const Yielder<*mut Vm, ()>,
    wake: Wake,
}

struct Sched {
    /// Threads other than main, in round-robin order.
    guests: RefCell<VecDeque<Guest>>,
    /// The id of the running thread other than main (0: main runs).
    running: Cell<u64>,
    /// The running thread's yielder, and the wake condition it leaves when it suspends.
    yielder: Cell<*const Yielder<*mut Vm, ()>>,
    wake: RefCell<Option<Wake>>,
    /// When the running thread's time slice ends.
    slice_end: Cell<Option<Instant>>,
    next_id: Cell<u64>,
    /// Set while main is inside the scheduler loop (its ticks must not start another).
    scheduling: Cell<bool>,
    /// Waits on work outside the VM (process-pool jobs): their completions arrive through
    /// `pollers`, and the idle wait is woken by `notify`.
    external: Cell<usize>,
    pollers: RefCell<Vec<Poller>>,
}

thread_local! {
    static SCHED: Sched = Sched {
        guests: RefCell::new(VecDeque::new()),
        running: Cell::new(0),
        yielder: Cell::new(std::ptr::null()),
        wake: RefCell::new(None),
        slice_end: Cell::new(None),
        next_id: Cell::new(1),
        scheduling: Cell::new(false),
        external: Cell::new(0),
        pollers: RefCell::new(Vec::new()),
    };
}

/// The main thread's id (`threading.main_thread().ident`).
pub const MAIN_ID: u64 = 1;

/// The id of the running script thread.
pub fn current() -> u64 {
    SCHED.with(|s| match s.running.get() {
        0 => MAIN_ID,
        id => id,
    })
}

/// True if a thread other than main exists (so blocking calls must let it run).
pub fn has_threads() -> bool {
    SCHED.with(|s| !s.guests.borrow().is_empty() || s.running.get() != 0)
}

/// Starts a thread that calls `func()`; it first runs when the main thread next schedules.
/// Returns its id. An exception escaping `func` is printed (the `threading` bootstrap catches
/// everything but SystemExit, which ends the thread quietly, as in CPython).
pub fn spawn(vm: &mut Vm, func: Value) -> Result<u64, String> {
    let stack =
        DefaultStack::new(THREAD_STACK).map_err(|e| format!("can't start new thread: {e}"))?;
    let co: Co = Coroutine::with_stack(stack, move |y: &Yielder<*mut Vm, ()>, vmp: *mut Vm| {
        SCHED.with(|s| s.yielder.set(y as *const _));
        // SAFETY: the main thread resumes this coroutine with a pointer to its `Vm` and does not
        // touch the VM until the coroutine suspends or returns; see ARCHITECTURE.md (Threads).
        let vm = unsafe { &mut *vmp };
        if let Err(e) = vm.call(&func, vec![]) {
            if !vm.exc_matches(&e, "SystemExit") {
                let text = eddy_vm::traceback::format_exception(vm, &e);
                vm.write_stderr(&text);
            }
        }
    });
    let id = SCHED.with(|s| {
        let id = s.next_id.get() + 1;
        s.next_id.set(id);
        s.guests.borrow_mut().push_back(Guest {
            id,
            ctx: ThreadContext::new(),
            co,
            yielder: std::ptr::null(),
            wake: Wake::now(),
        });
        id
    });
    crate::threading::preempt::enable(vm);
    Ok(id)
}

/// Blocks the running thread until `wake` says it may go on, letting the other threads run.
pub fn block(vm: &mut Vm, wake: Wake) {
    let guest = SCHED.with(|s| s.running.get() != 0);
    if guest {
        suspend(wake);
    } else {
        wait_main(vm, wake, &mut idle_wait);
    }
}

/// Suspends the running thread (not main) back to the scheduler.
fn suspend(wake: Wake) {
    let y = SCHED.with(|s| {
        *s.wake.borrow_mut() = Some(wake);
        s.yielder.get()
    });
    // SAFETY: `y` is the running coroutine's yielder, set when it started; the coroutine (and
    // so its yielder) lives until it returns.
    let _ = unsafe { (*y).suspend(()) };
}

/// The main thread waits for `wake`, running the other threads meanwhile; when none can run it
/// waits with `idle` (a real sleep, or the event loop's wait for I/O) until the earliest
/// deadline of any thread.
pub fn wait_main(vm: &mut Vm, wake: Wake, idle: &mut dyn FnMut(&mut Vm, Option<f64>)) {
    let was = SCHED.with(|s| s.scheduling.replace(true));
    loop {
        run_pollers(vm);
        let now = clock::monotonic();
        if wake.is_ready(now) {
            break;
        }
        if run_next(vm, now, wake.deadline) {
            continue;
        }
        let deadline = earliest(wake.deadline);
        idle(vm, deadline);
    }
    SCHED.with(|s| {
        s.scheduling.set(was);
        s.slice_end.set(Some(Instant::now() + switch_interval()));
    });
}

/// The earliest deadline among `own` and every waiting thread's.
fn earliest(own: Option<f64>) -> Option<f64> {
    SCHED.with(|s| {
        s.guests
            .borrow()
            .iter()
            .filter_map(|g| g.wake.deadline)
            .chain(own)
            .reduce(f64::min)
    })
}

/// Waits for `deadline` (or a notification from outside the VM) when no thread can run.
pub fn idle_wait(_vm: &mut Vm, deadline: Option<f64>) {
    let external = SCHED.with(|s| s.external.get()) > 0;
    if clock::is_virtual() && !external {
        if let Some(d) = deadline {
            clock::advance_to(d);
            return;
        }
    }
    let timeout = deadline.map(|d| Duration::from_secs_f64((d - clock::monotonic()).max(0.0)));
    notifier().wait(timeout);
}

/// Runs the first runnable thread for one time slice (ending no later than `limit`, the
/// waiting main thread's deadline). False if no thread could run.
fn run_next(vm: &mut Vm, now: f64, limit: Option<f64>) -> bool {
    let guest = SCHED.with(|s| {
        let mut q = s.guests.borrow_mut();
        let i = q.iter().position(|g| g.wake.is_ready(now))?;
        q.remove(i)
    });
    let Some(g) = guest else {
        return false;
    };
    let mut slice = switch_interval();
    if let Some(l) = limit {
        if !clock::is_virtual() {
            slice = slice.min(Duration::from_secs_f64((l - now).max(0.0)));
        }
    }
    resume(vm, g, slice);
    true
}

/// Switches to thread `g` until it suspends or ends.
fn resume(vm: &mut Vm, mut g: Guest, slice: Duration) {
    vm.swap_thread_context(&mut g.ctx);
    SCHED.with(|s| {
        s.running.set(g.id);
        s.yielder.set(g.yielder);
        s.slice_end.set(Some(Instant::now() + slice));
    });
    let r = g.co.resume(vm as *mut Vm);
    vm.swap_thread_context(&mut g.ctx);
    let wake = SCHED.with(|s| {
        s.running.set(0);
        g.yielder = s.yielder.replace(std::ptr::null());
        s.wake.borrow_mut().take()
    });
    match r {
        CoroutineResult::Yield(()) => {
            g.wake = wake.unwrap_or_default();
            SCHED.with(|s| s.guests.borrow_mut().push_back(g));
        }
        CoroutineResult::Return(()) => {
            drop(g);
            if !has_threads() {
                crate::threading::preempt::disable(vm);
            }
        }
    }
}

/// The preemption check, called every few thousand instructions while threads exist: a thread
/// whose slice is over gives way; the main thread gives every runnable thread a turn.
pub fn tick(vm: &mut Vm) {
    let (running, over, scheduling) = SCHED.with(|s| {
        let over = matches!(s.slice_end.get(), Some(e) if Instant::now() >= e);
        (s.running.get(), over, s.scheduling.get())
    });
    if !over {
        return;
    }
    if running != 0 {
        suspend(Wake::now());
        return;
    }
    if scheduling {
        return;
    }
    run_round(vm);
}

/// The main thread lets every runnable thread take a turn now, as a CPython thread does when
/// it releases the GIL for a moment (the event loop's `select(0)` between two rounds).
pub fn yield_now(vm: &mut Vm) {
    let runnable = SCHED.with(|s| {
        if s.running.get() != 0 || s.scheduling.get() {
            return false;
        }
        // Without threads (the common case) this is all a loop round pays: no clock read.
        let guests = s.guests.borrow();
        if guests.is_empty() {
            return false;
        }
        let now = clock::monotonic();
        guests.iter().any(|g| g.wake.is_ready(now))
    });
    if runnable {
        run_round(vm);
    }
}

/// One turn for every runnable thread, then main goes on with a fresh slice.
fn run_round(vm: &mut Vm) {
    SCHED.with(|s| s.scheduling.set(true));
    run_pollers(vm);
    // An event loop on the main thread has timers to keep: hand out shorter turns, so a
    // callback is never more than about a millisecond late because of a busy thread.
    let turn =
        crate::asyncio::events::running().map(|_| clock::monotonic() + LOOP_TURN.as_secs_f64());
    let n = SCHED.with(|s| s.guests.borrow().len());
    for _ in 0..n {
        if !run_next(vm, clock::monotonic(), turn) {
            break;
        }
    }
    SCHED.with(|s| {
        s.scheduling.set(false);
        s.slice_end.set(Some(Instant::now() + switch_interval()));
    });
}

// ---- work outside the VM ----

/// A function the scheduler calls (on the main thread) whenever it looks for work: it applies
/// completions that arrived from other OS threads, and returns false once it is not needed.
pub type Poller = Rc<dyn Fn(&mut Vm) -> bool>;

pub fn add_poller(f: Poller) {
    SCHED.with(|s| s.pollers.borrow_mut().push(f));
}

fn run_pollers(vm: &mut Vm) {
    let fs: Vec<Poller> = SCHED.with(|s| s.pollers.borrow().clone());
    if fs.is_empty() {
        return;
    }
    let mut done = Vec::new();
    for f in fs {
        if !f(vm) {
            done.push(f);
        }
    }
    if !done.is_empty() {
        SCHED.with(|s| {
            s.pollers
                .borrow_mut()
                .retain(|p| !done.iter().any(|d| Rc::ptr_eq(p, d)))
        });
    }
}

/// Counts a job running outside the VM (it will `notify` when done); `-1` when it completed.
pub fn external(delta: isize) {
    SCHED.with(|s| {
        s.external
            .set(s.external.get().saturating_add_signed(delta))
    });
}

pub fn has_external() -> bool {
    SCHED.with(|s| s.external.get() > 0)
}

/// Wakes the scheduler's idle wait from any OS thread. Several VMs (the main one, pool workers,
/// interpreters) may wait on it at once, so a notification is a generation number that every
/// waiter sees, not a flag the first waiter to wake would take from the others.
pub struct Notifier {
    generation: Mutex<u64>,
    cv: Condvar,
}

thread_local! {
    /// The last generation this OS thread's idle wait saw.
    static SEEN: Cell<u64> = const { Cell::new(0) };
}

impl Notifier {
    pub fn notify(&self) {
        if let Ok(mut g) = self.generation.lock() {
            *g += 1;
        }
        self.cv.notify_all();
    }
    fn wait(&self, timeout: Option<Duration>) {
        let Ok(mut f) = self.generation.lock() else {
            return;
        };
        let seen = SEEN.with(|s| s.get());
        let end = timeout.map(|t| Instant::now() + t);
        while *f == seen {
            match end {
                None => match self.cv.wait(f) {
                    Ok(g) => f = g,
                    Err(_) => return,
                },
                Some(end) => {
                    let left = end.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        break;
                    }
                    match self.cv.wait_timeout(f, left) {
                        Ok((g, _)) => f = g,
                        Err(_) => return,
                    }
                }
            }
        }
        SEEN.with(|s| s.set(*f));
    }
}

/// The process-wide notifier (worker threads of any VM may hold it).
pub fn notifier() -> Arc<Notifier> {
    static N: OnceLock<Arc<Notifier>> = OnceLock::new();
    N.get_or_init(|| {
        Arc::new(Notifier {
            generation: Mutex::new(0),
            cv: Condvar::new(),
        })
    })
    .clone()
}
