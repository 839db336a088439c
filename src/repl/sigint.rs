//! Ctrl-C while an input runs. At the prompt the line editor has the terminal in raw mode, so
//! Ctrl-C is a key (it clears the line); while an input runs the terminal is in cooked mode and
//! Ctrl-C is SIGINT, which must stop that input and nothing else. For the whole session a
//! handler counts SIGINTs and writes a byte to a socket pair; a daemon future on the reactor
//! reads it, so a loop blocked waiting (`await asyncio.sleep(100)`) wakes at once, and on the
//! loop thread the first interrupt cancels the input's task (as `asyncio.Runner` cancels its
//! main task; the session reports KeyboardInterrupt) and a second raises KeyboardInterrupt.
//! Script code busy in a loop is stopped by the VM's eval breaker, which the handler trips.
//! A SIGINT between inputs is ignored.

use std::cell::{Cell, RefCell};
use std::io::Read;
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::rc::Rc;
use std::sync::atomic::{AtomicI32, AtomicUsize, Ordering};
use std::sync::OnceLock;

use async_io::Async;
use eddy_stdlib::asyncio::{futures, reactor, tasks};
use eddy_vm::breaker::InterruptHandle;
use eddy_vm::{PyResult, Value, Vm};

static WRITE_FD: AtomicI32 = AtomicI32::new(-1);
static COUNT: AtomicUsize = AtomicUsize::new(0);
/// The session VM's eval breaker (an atomic flag, so tripping it is async-signal-safe).
static BREAKER: OnceLock<InterruptHandle> = OnceLock::new();

extern "C" fn on_sigint(_sig: libc::c_int) {
    COUNT.fetch_add(1, Ordering::SeqCst);
    if let Some(b) = BREAKER.get() {
        b.interrupt();
    }
    let fd = WRITE_FD.load(Ordering::SeqCst);
    if fd >= 0 {
        let byte = 1u8;
        // write(2) is async-signal-safe; a full socket drops the byte (the count is kept).
        unsafe {
            libc::write(fd, (&byte as *const u8).cast(), 1);
        }
    }
}

/// What the watcher acts on: shared between the session and the watcher's completions.
struct State {
    /// True while an input runs.
    running: Cell<bool>,
    /// The task running the input (an input with top-level await), if any.
    task: RefCell<Option<Value>>,
    /// Interrupts already acted on during this input.
    seen: Cell<usize>,
    /// True while a watcher future is registered.
    watching: Cell<bool>,
}

/// The session's SIGINT handling; dropping it restores the previous action.
pub struct Interrupts {
    old: libc::sigaction,
    reader: UnixStream,
    _writer: UnixStream,
    state: Rc<State>,
}

impl Drop for Interrupts {
    fn drop(&mut self) {
        unsafe {
            libc::sigaction(libc::SIGINT, &self.old, std::ptr::null_mut());
        }
        WRITE_FD.store(-1, Ordering::SeqCst);
    }
}

/// Installs the handler for `vm`'s session; None if it cannot be (Ctrl-C then ends the
/// process, as it would anyway).
pub fn install(vm: &Vm) -> Option<Interrupts> {
    let _ = BREAKER.set(vm.interrupt_handle());
    let (reader, writer) = UnixStream::pair().ok()?;
    writer.set_nonblocking(true).ok()?;
    reader.set_nonblocking(true).ok()?;
    WRITE_FD.store(writer.as_raw_fd(), Ordering::SeqCst);
    let Some(old) = eddy_stdlib::asyncio::interrupt::set_sigint_handler(on_sigint) else {
        WRITE_FD.store(-1, Ordering::SeqCst);
        return None;
    };
    Some(Interrupts {
        old,
        reader,
        _writer: writer,
        state: Rc::new(State {
            running: Cell::new(false),
            task: RefCell::new(None),
            seen: Cell::new(0),
            watching: Cell::new(false),
        }),
    })
}

impl Interrupts {
    /// An input starts running (as `task` when it awaits at top level).
    pub fn begin(&self, task: Option<Value>) {
        COUNT.store(0, Ordering::SeqCst);
        self.state.seen.set(0);
        self.state.running.set(true);
        *self.state.task.borrow_mut() = task;
        self.watch();
    }

    /// The input's task, once it is known.
    pub fn set_task(&self, task: Value) {
        *self.state.task.borrow_mut() = Some(task);
    }

    /// The input finished; true if Ctrl-C was pressed while it ran.
    pub fn end(&self) -> bool {
        // An interrupt that came too late to be delivered must not hit the next input.
        if let Some(b) = BREAKER.get() {
            b.clear();
        }
        self.state.running.set(false);
        self.state.task.borrow_mut().take();
        COUNT.load(Ordering::SeqCst) > 0
    }

    fn watch(&self) {
        watch(&self.reader, self.state.clone());
    }
}

/// Registers the daemon future that waits for the handler's byte, unless one is waiting; once
/// it fires and has acted, it registers the next one.
fn watch(stream: &UnixStream, state: Rc<State>) {
    if state.watching.get() {
        return;
    }
    let (Ok(reader), Ok(again)) = (stream.try_clone(), stream.try_clone()) else {
        return;
    };
    let Ok(reader) = Async::new(reader) else {
        return;
    };
    state.watching.set(true);
    reactor::spawn_daemon(async move {
        let _ = reader.readable().await;
        let mut buf = [0u8; 64];
        let _ = reader.get_ref().read(&mut buf);
        let c: reactor::Completion = Box::new(move |vm: &mut Vm| {
            state.watching.set(false);
            let r = on_interrupt(vm, &state);
            watch(&again, state);
            r
        });
        c
    });
}

/// On the loop thread, after Ctrl-C: cancel the input's task the first time, raise
/// KeyboardInterrupt after that (or when the input is not a task); nothing between inputs.
fn on_interrupt(vm: &mut Vm, state: &State) -> PyResult<()> {
    let count = COUNT.load(Ordering::SeqCst);
    if !state.running.get() || count <= state.seen.get() {
        return Ok(());
    }
    let first = state.seen.get() == 0;
    state.seen.set(count);
    let task = state.task.borrow().clone();
    match task {
        Some(t) if first && !futures::is_done(&t) => {
            // The loop was waiting (no script code saw the breaker): cancel instead, so the
            // task unwinds through its `finally` blocks with CancelledError.
            if let Some(b) = BREAKER.get() {
                b.clear();
            }
            tasks::cancel(vm, &t, Value::None)?;
            Ok(())
        }
        _ => Err(vm.new_exception(&vm.exc_class("KeyboardInterrupt"), vec![])),
    }
}
