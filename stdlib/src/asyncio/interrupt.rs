//! Ctrl-C while `asyncio.run` runs, as CPython 3.11's `asyncio.Runner`: the first SIGINT cancels
//! the main task (its `finally` blocks run) and `run` then raises KeyboardInterrupt; a second
//! SIGINT raises KeyboardInterrupt at once. The handler is installed only while the loop runs
//! and only if SIGINT had its default action (a background job ignoring SIGINT keeps ignoring
//! it), and the previous action is restored afterwards.
//!
//! The signal handler only counts and writes a byte to a socket pair; a daemon native future
//! on the reactor reads it and does the cancelling on the loop thread.

use std::io::Read;
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicI32, AtomicUsize, Ordering};

use async_io::Async;
use eddy_vm::{PyResult, Value, Vm};

use super::{classes, futures, reactor, tasks};

static WRITE_FD: AtomicI32 = AtomicI32::new(-1);
static COUNT: AtomicUsize = AtomicUsize::new(0);

extern "C" fn on_sigint(_sig: libc::c_int) {
    COUNT.fetch_add(1, Ordering::SeqCst);
    let fd = WRITE_FD.load(Ordering::SeqCst);
    if fd >= 0 {
        let byte = 1u8;
        // write(2) is async-signal-safe; a full pipe just drops the byte (the count is kept).
        unsafe {
            libc::write(fd, (&byte as *const u8).cast(), 1);
        }
    }
}

/// The installed handler; dropping it restores the previous SIGINT action.
pub struct Guard {
    old: libc::sigaction,
    _writer: UnixStream,
    watcher: u64,
}

impl Drop for Guard {
    fn drop(&mut self) {
        unsafe {
            libc::sigaction(libc::SIGINT, &self.old, std::ptr::null_mut());
        }
        WRITE_FD.store(-1, Ordering::SeqCst);
        reactor::cancel(self.watcher);
    }
}

/// How many SIGINTs arrived while the handler was installed.
pub fn count() -> usize {
    COUNT.load(Ordering::SeqCst)
}

/// Makes `handler` SIGINT's action (restarting interrupted system calls); returns the action it
/// replaces, to restore later, or None if it could not be set. The REPL's handler uses it too.
pub fn set_sigint_handler(handler: extern "C" fn(libc::c_int)) -> Option<libc::sigaction> {
    // SAFETY: a zeroed sigaction is a valid "no flags, empty mask" value that is then filled in;
    // the handler only does async-signal-safe work (see `on_sigint` and the REPL's).
    unsafe {
        let mut act: libc::sigaction = std::mem::zeroed();
        act.sa_sigaction = handler as usize;
        act.sa_flags = libc::SA_RESTART;
        libc::sigemptyset(&mut act.sa_mask);
        let mut old: libc::sigaction = std::mem::zeroed();
        (libc::sigaction(libc::SIGINT, &act, &mut old) == 0).then_some(old)
    }
}

/// Installs the handler for a run whose main task is `main`; None if SIGINT is not at its
/// default action or the handler cannot be set up.
pub fn install(main: &Value) -> Option<Guard> {
    let mut old: libc::sigaction = unsafe { std::mem::zeroed() };
    unsafe {
        if libc::sigaction(libc::SIGINT, std::ptr::null(), &mut old) != 0
            || old.sa_sigaction != libc::SIG_DFL
        {
            return None;
        }
    }
    let (reader, writer) = UnixStream::pair().ok()?;
    writer.set_nonblocking(true).ok()?;
    let reader = Async::new(reader).ok()?;
    COUNT.store(0, Ordering::SeqCst);
    WRITE_FD.store(writer.as_raw_fd(), Ordering::SeqCst);
    if set_sigint_handler(on_sigint).is_none() {
        WRITE_FD.store(-1, Ordering::SeqCst);
        return None;
    }
    let watcher = watch(reader, main.clone(), 0);
    Some(Guard {
        old,
        _writer: writer,
        watcher,
    })
}

/// Waits for the next byte from the handler, then acts on the interrupts seen so far.
fn watch(reader: Async<UnixStream>, main: Value, seen: usize) -> u64 {
    reactor::spawn_daemon(async move {
        let _ = reader.readable().await;
        let mut buf = [0u8; 64];
        let _ = reader.get_ref().read(&mut buf);
        let c: reactor::Completion =
            Box::new(move |vm: &mut Vm| on_interrupt(vm, reader, main, seen));
        c
    })
}

fn on_interrupt(vm: &mut Vm, reader: Async<UnixStream>, main: Value, seen: usize) -> PyResult<()> {
    let now = count();
    if now <= seen {
        watch(reader, main, seen);
        return Ok(());
    }
    if seen == 0 && !futures::is_done(&main) {
        tasks::cancel(vm, &main, Value::None)?;
        watch(reader, main, now);
        return Ok(());
    }
    Err(keyboard_interrupt(vm))
}

fn keyboard_interrupt(vm: &Vm) -> Value {
    vm.new_exception(&vm.exc_class("KeyboardInterrupt"), vec![])
}

/// After the run: a main task cancelled by Ctrl-C (and not uncancelled by the script) turns
/// its CancelledError into KeyboardInterrupt, as `Runner.run` does.
pub fn translate(vm: &mut Vm, main: &Value, r: PyResult<Value>) -> PyResult<Value> {
    if r.is_err() && futures::state_of(main) == futures::FutSt::Finished {
        // The main task raised SystemExit or KeyboardInterrupt, which escaped the loop and
        // is raised from `run`: as CPython's run_until_complete, consume it so it is not
        // also reported as "Task exception was never retrieved".
        futures::with(main, |s| s.log_tb = false);
    }
    match r {
        Err(e) if count() > 0 && vm.isinstance(&e, &classes().cancelled_error) => {
            let left = vm.call_method(main, "uncancel", vec![])?;
            if matches!(left, Value::Int(0)) {
                return Err(keyboard_interrupt(vm));
            }
            Err(e)
        }
        r => r,
    }
}
