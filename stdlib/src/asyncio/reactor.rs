//! The reactor: how the loop waits when nothing is ready, on smol's async-io. Script-awaitable
//! Rust futures (a socket read, a child's exit, a blocking-pool job) are registered here as
//! "pending native futures"; each is polled with a `Waker` that records its id on a thread-safe
//! woken list and notifies the loop. The loop polls the woken ones between rounds (one atomic
//! load when nothing was woken) and, when it has nothing ready, blocks in `async_io::block_on`
//! until a waker fires or the next timer is due (which also drives async-io's reactor).
//! A finished native future yields a `Completion`, run on the loop thread to resolve an asyncio
//! Future or feed a protocol, so tasks wake through the normal done-callback path.
//! The loop's clock is `crate::clock`: in virtual mode a timer deadline is never slept for.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};
use std::time::{Duration, Instant};

use eddy_vm::{PyResult, Vm};
use event_listener::Event;

use crate::clock;

/// What a finished native future hands back: run on the loop thread, with the VM.
pub type Completion = Box<dyn FnOnce(&mut Vm) -> PyResult<()>>;

type NativeFuture = Pin<Box<dyn Future<Output = Completion>>>;

/// The part other threads touch: the woken ids and the loop's wake-up notifier.
struct Shared {
    woken: Mutex<Vec<u64>>,
    any: AtomicBool,
    event: Event,
}

impl Shared {
    fn wake_id(&self, id: u64) {
        if let Ok(mut w) = self.woken.lock() {
            w.push(id);
        }
        self.any.store(true, Ordering::Release);
        self.event.notify(usize::MAX);
    }
}

struct IdWaker {
    id: u64,
    shared: Arc<Shared>,
}

impl Wake for IdWaker {
    fn wake(self: Arc<Self>) {
        self.shared.wake_id(self.id);
    }
    fn wake_by_ref(self: &Arc<Self>) {
        self.shared.wake_id(self.id);
    }
}

struct Entry {
    fut: NativeFuture,
    waker: Waker,
    /// Counts toward "the loop is not idle" (the Ctrl-C watcher does not).
    counts: bool,
}

struct Reactor {
    pending: RefCell<HashMap<u64, Entry>>,
    next_id: Cell<u64>,
    counted: Cell<usize>,
    shared: Arc<Shared>,
}

thread_local! {
    static REACTOR: Reactor = Reactor {
        pending: RefCell::new(HashMap::new()),
        next_id: Cell::new(0),
        counted: Cell::new(0),
        shared: Arc::new(Shared {
            woken: Mutex::new(Vec::new()),
            any: AtomicBool::new(false),
            event: Event::new(),
        }),
    };
}

/// Monotonic seconds, as `loop.time()` reports them.
pub fn now() -> f64 {
    clock::monotonic()
}

/// Registers a native future; it is first polled when the loop next looks at the reactor.
/// Returns an id for `cancel`.
pub fn spawn(fut: impl Future<Output = Completion> + 'static) -> u64 {
    register(Box::pin(fut), true)
}

/// Like `spawn`, but the future does not keep the loop from being idle (a watcher that may
/// never fire, such as the Ctrl-C listener, must not hide a deadlock).
pub fn spawn_daemon(fut: impl Future<Output = Completion> + 'static) -> u64 {
    register(Box::pin(fut), false)
}

fn register(fut: NativeFuture, counts: bool) -> u64 {
    REACTOR.with(|r| {
        let id = r.next_id.get() + 1;
        r.next_id.set(id);
        let waker = Waker::from(Arc::new(IdWaker {
            id,
            shared: r.shared.clone(),
        }));
        r.pending
            .borrow_mut()
            .insert(id, Entry { fut, waker, counts });
        if counts {
            r.counted.set(r.counted.get() + 1);
        }
        r.shared.wake_id(id);
        id
    })
}

/// Drops a pending native future (its I/O is abandoned); a no-op once it has completed.
pub fn cancel(id: u64) {
    let removed = REACTOR.with(|r| {
        let e = r.pending.borrow_mut().remove(&id);
        if matches!(&e, Some(e) if e.counts) {
            r.counted.set(r.counted.get() - 1);
        }
        e
    });
    // Dropped outside the borrow: a future's drop may release script objects.
    drop(removed);
}

/// Drops every pending native future (the loop is closing).
pub fn clear() {
    let all = REACTOR.with(|r| {
        r.counted.set(0);
        std::mem::take(&mut *r.pending.borrow_mut())
    });
    drop(all);
}

/// True while a native future that can wake the loop is pending (I/O, a child, a job).
pub fn has_pending() -> bool {
    REACTOR.with(|r| r.counted.get() > 0)
}

/// True if a waker fired since the last poll: the loop's cheap per-round check.
pub fn any_woken() -> bool {
    REACTOR.with(|r| r.shared.any.load(Ordering::Acquire))
}

/// Polls the futures whose wakers fired and runs the completions of those that finished.
/// Returns how many completed.
pub fn poll_woken(vm: &mut Vm) -> PyResult<usize> {
    let ids = REACTOR.with(|r| {
        r.shared.any.store(false, Ordering::Release);
        r.shared
            .woken
            .lock()
            .map(|mut w| std::mem::take(&mut *w))
            .unwrap_or_default()
    });
    let mut done = 0;
    for (i, &id) in ids.iter().enumerate() {
        let Some(completion) = poll_one(id) else {
            continue;
        };
        done += 1;
        if let Err(e) = completion(vm) {
            if vm.exc_matches(&e, "SystemExit") || vm.exc_matches(&e, "KeyboardInterrupt") {
                // Whatever else was woken is polled when the loop next looks.
                REACTOR.with(|r| {
                    for &rest in &ids[i + 1..] {
                        r.shared.wake_id(rest);
                    }
                });
                return Err(e);
            }
            let text = eddy_vm::traceback::format_exception(vm, &e);
            vm.write_stderr(&format!("Exception in callback\n{text}"));
        }
    }
    Ok(done)
}

/// Polls one pending future; on completion removes it and returns its completion.
fn poll_one(id: u64) -> Option<Completion> {
    // Taken out of the map while polled, so a poll that registers another future is fine.
    let mut entry = REACTOR.with(|r| r.pending.borrow_mut().remove(&id))?;
    let waker = entry.waker.clone();
    let mut cx = Context::from_waker(&waker);
    match entry.fut.as_mut().poll(&mut cx) {
        Poll::Ready(c) => {
            if entry.counts {
                REACTOR.with(|r| r.counted.set(r.counted.get() - 1));
            }
            Some(c)
        }
        Poll::Pending => {
            REACTOR.with(|r| r.pending.borrow_mut().insert(id, entry));
            None
        }
    }
}

/// The loop has nothing ready: wait until a native future is woken or `deadline` (a `now()`
/// value) passes, then poll what was woken. With no deadline, waits for a waker only.
/// In virtual mode a deadline is reached by moving the clock, never by sleeping.
pub fn wait(vm: &mut Vm, deadline: Option<f64>) -> PyResult<()> {
    if !any_woken() {
        let has_native = REACTOR.with(|r| !r.pending.borrow().is_empty());
        match deadline {
            Some(d) if clock::is_virtual() => {
                if has_native {
                    block(Some(Duration::ZERO));
                }
                if !any_woken() {
                    clock::advance_to(d);
                }
            }
            Some(d) => {
                let delta = d - clock::monotonic();
                if delta > 0.0 && delta.is_finite() {
                    if has_native {
                        block(Some(Duration::from_secs_f64(delta)));
                    } else {
                        clock::wait_until(d);
                    }
                }
            }
            None if has_native => block(None),
            None => {}
        }
    }
    poll_woken(vm)?;
    Ok(())
}

/// Blocks in async-io (driving its reactor) until a waker fires or `timeout` passes.
fn block(timeout: Option<Duration>) {
    let shared = REACTOR.with(|r| r.shared.clone());
    let woken = async {
        loop {
            if shared.any.load(Ordering::Acquire) {
                return;
            }
            let listener = shared.event.listen();
            if shared.any.load(Ordering::Acquire) {
                return;
            }
            listener.await;
        }
    };
    match timeout {
        None => async_io::block_on(woken),
        Some(t) => {
            let at = Instant::now() + t;
            async_io::block_on(futures_lite::future::or(woken, async {
                async_io::Timer::at(at).await;
            }))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::rc::Rc;

    #[test]
    fn a_waker_from_another_thread_ends_the_wait() {
        let mut vm = Vm::new();
        let done = Rc::new(Cell::new(false));
        let flag = done.clone();
        spawn(async move {
            blocking::unblock(|| std::thread::sleep(Duration::from_millis(20))).await;
            let c: Completion = Box::new(move |_vm: &mut Vm| {
                flag.set(true);
                Ok(())
            });
            c
        });
        assert!(has_pending());
        let start = Instant::now();
        while !done.get() {
            assert!(wait(&mut vm, None).is_ok());
            assert!(start.elapsed() < Duration::from_secs(5));
        }
        assert!(!has_pending());
    }

    #[test]
    fn virtual_time_jumps_to_the_deadline_despite_pending_io() {
        let mut vm = Vm::new();
        clock::set_virtual(true);
        let id = spawn(async {
            futures_lite::future::pending::<()>().await;
            let c: Completion = Box::new(|_vm: &mut Vm| Ok(()));
            c
        });
        assert!(poll_woken(&mut vm).is_ok());
        let start = Instant::now();
        let before = now();
        assert!(wait(&mut vm, Some(before + 3600.0)).is_ok());
        assert!(now() - before >= 3600.0);
        assert!(start.elapsed() < Duration::from_secs(1));
        cancel(id);
        assert!(!has_pending());
        clock::set_virtual(false);
    }
}
