//! [`VmHandle`]: a `Send + Sync` handle to a [`Vm`] running on a thread of its own, for
//! multi-threaded hosts (a tokio server, a thread pool). The `Vm` itself stays `!Send` — it is
//! built on `Rc` for speed — so work goes to its thread as closures, one at a time, and each
//! result comes back through a channel that any async runtime (or a blocking caller) can await.

use std::sync::mpsc;
use std::thread::JoinHandle;

use super::convert::FromValue;
use super::limits::InterruptHandle;
use super::Vm;
use crate::Error;

/// Stack of the VM thread: scripts never recurse on it, but native code calling back into
/// scripts does (as the `eddy` command's thread).
const STACK_SIZE: usize = 256 << 20;

type Job = Box<dyn FnOnce(&mut Vm) + Send>;

/// A VM on its own thread.
///
/// ```
/// let handle = eddy::VmHandle::spawn(|| {
///     let mut vm = eddy::Vm::new();
///     vm.register_fn("square", |x: i64| x * x);
///     vm
/// });
/// let n: i64 = handle.call_blocking(|vm| vm.eval("square(12)")).unwrap().unwrap();
/// assert_eq!(n, 144);
/// // From async code: `handle.eval::<i64>("square(12)").await`.
/// let n = futures_lite::future::block_on(handle.eval::<i64>("square(3)")).unwrap();
/// assert_eq!(n, 9);
/// ```
pub struct VmHandle {
    jobs: Option<mpsc::Sender<Job>>,
    thread: Option<JoinHandle<()>>,
    interrupt: Option<InterruptHandle>,
}

impl VmHandle {
    /// Starts a thread, builds the VM there with `init` (register host functions in it), and
    /// returns the handle.
    pub fn spawn(init: impl FnOnce() -> Vm + Send + 'static) -> VmHandle {
        let (jobs, rx) = mpsc::channel::<Job>();
        let (ready_tx, ready_rx) = mpsc::sync_channel(1);
        let thread = std::thread::Builder::new()
            .name("eddy-vm".into())
            .stack_size(STACK_SIZE)
            .spawn(move || {
                let mut vm = init();
                let _ = ready_tx.send(vm.interrupt_handle());
                for job in rx {
                    job(&mut vm);
                }
            })
            .ok();
        let interrupt = thread.as_ref().and_then(|_| ready_rx.recv().ok());
        VmHandle {
            jobs: Some(jobs),
            thread,
            interrupt,
        }
    }

    /// Runs `f` with the VM on its thread and returns its result (awaitable from any runtime).
    /// Jobs run one after another in the order they were submitted.
    pub async fn call<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Vm) -> R + Send + 'static,
    ) -> Result<R, Error> {
        let (tx, rx) = async_channel::bounded(1);
        self.submit(Box::new(move |vm| {
            let _ = tx.try_send(f(vm));
        }))?;
        rx.recv().await.map_err(|_| stopped())
    }

    /// Like [`call`](Self::call), blocking the calling thread until the result is there.
    pub fn call_blocking<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Vm) -> R + Send + 'static,
    ) -> Result<R, Error> {
        let (tx, rx) = mpsc::sync_channel(1);
        self.submit(Box::new(move |vm| {
            let _ = tx.send(f(vm));
        }))?;
        rx.recv().map_err(|_| stopped())
    }

    /// Runs source text on the VM (see [`Vm::run`]).
    pub async fn run(&self, source: impl Into<String>) -> Result<(), Error> {
        let source = source.into();
        self.call(move |vm| vm.run(&source)).await?
    }

    /// Evaluates an expression on the VM (see [`Vm::eval`]).
    pub async fn eval<T: FromValue + Send + 'static>(
        &self,
        expr: impl Into<String>,
    ) -> Result<T, Error> {
        let expr = expr.into();
        self.call(move |vm| vm.eval::<T>(&expr)).await?
    }

    /// Stops whatever script the VM is running (it raises `Interrupted`).
    pub fn interrupt(&self) {
        if let Some(h) = &self.interrupt {
            h.interrupt();
        }
    }

    /// A handle that interrupts the VM from anywhere.
    pub fn interrupt_handle(&self) -> Option<InterruptHandle> {
        self.interrupt.clone()
    }

    fn submit(&self, job: Job) -> Result<(), Error> {
        match &self.jobs {
            Some(tx) => tx.send(job).map_err(|_| stopped()),
            None => Err(stopped()),
        }
    }
}

impl Drop for VmHandle {
    /// Lets queued jobs finish, then stops the thread.
    fn drop(&mut self) {
        self.jobs.take();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn stopped() -> Error {
    Error::Host("the VM thread has stopped (a job panicked, or it could not start)".into())
}
