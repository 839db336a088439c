//! ProcessPoolExecutor's workers: each is a separate VM on its own OS thread, so CPU-bound jobs
//! run in parallel on every core. A worker starts from a copy of the parent's `__main__` taken
//! at the pool's first submit (what `fork` gives CPython's workers on Linux; the script is not
//! run again), and every job's function, arguments and result are copied as portable values
//! (portable.rs), so nothing a worker changes reaches the parent. Jobs go out on one shared
//! channel; outcomes come back on another and are applied to their Futures on the parent's
//! main thread by a scheduler poller (threading/sched.rs), woken by the scheduler's notifier.

use std::cell::RefCell;
use std::collections::{HashMap, VecDeque};
use std::path::PathBuf;
use std::rc::Rc;
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::{Arc, Mutex};

use eddy_vm::import::SourceCompiler;
use eddy_vm::objects::module::Module;
use eddy_vm::{Args, PyResult, Value, Vm};

use super::portable::{index_code, Copier, Restorer, P};
use crate::native_state;
use crate::threading::sched;
use crate::util;

/// Rust stack of a worker thread (as the main thread's: native re-entry uses it).
const WORKER_STACK: usize = 256 << 20;

/// What a worker needs to become a copy of the parent.
struct Snapshot {
    /// The main script (name, text), recompiled by the worker to re-create its definitions.
    source: Option<(String, String)>,
    globals: Vec<(String, P)>,
    search_path: Vec<PathBuf>,
    argv: Vec<String>,
    compiler: Option<SourceCompiler>,
    virtual_time: bool,
    initializer: Option<(P, Vec<P>)>,
    /// The parent's sandbox: a worker may touch no more than the script that started it.
    sandbox: Option<Box<eddy_vm::sandbox::Sandbox>>,
}

struct Job {
    id: u64,
    work: Work,
}

enum Work {
    Call {
        func: P,
        args: Vec<P>,
        kwargs: Vec<(String, P)>,
    },
    /// Source to run in the worker's `__main__` (`interpreters.Interpreter.exec`).
    Exec(String),
}

/// A job's exception: the exception itself (if it could be copied) and its traceback text.
struct Failure {
    exc: Option<P>,
    summary: String,
    text: String,
}

enum Outcome {
    Done(u64, Result<P, Failure>),
    /// The worker died (a panic) or its initializer failed: the pool is broken.
    Broken(String),
}

/// The `_Pool` object's state.
struct PoolState {
    jobs: Rc<RefCell<Dispatch>>,
    next: u64,
}
native_state!(PoolState, |_s, _f| {}, |c, _out| {
    c.jobs.borrow_mut().close();
});

/// The parent's side of a pool's jobs. As in CPython, a job waits here (its Future pending,
/// so `cancel()` works) until a worker is free; only then is it marked running and sent.
struct Dispatch {
    tx: Option<Sender<Job>>,
    backlog: VecDeque<(u64, Value, Work)>,
    /// Jobs sent to the workers, by id: their Futures.
    running: HashMap<u64, Value>,
    /// How many more jobs may be sent now.
    idle: usize,
    /// `close()` was called: the channel closes once the backlog is sent.
    closing: bool,
}

impl Dispatch {
    fn close(&mut self) {
        self.closing = true;
        if self.backlog.is_empty() {
            self.tx = None;
        }
    }
    fn futures(&self) -> Vec<Value> {
        let queued = self.backlog.iter().map(|(_, f, _)| f.clone());
        self.running.values().cloned().chain(queued).collect()
    }
}

/// Sends queued jobs to free workers, skipping those whose Future was cancelled meanwhile.
fn dispatch(vm: &mut Vm, d: &Rc<RefCell<Dispatch>>) -> PyResult<()> {
    loop {
        let next = {
            let mut d = d.borrow_mut();
            if d.idle == 0 {
                None
            } else {
                d.backlog.pop_front()
            }
        };
        let Some((id, fut, work)) = next else { break };
        let go = vm.call_method(&fut, "set_running_or_notify_cancel", vec![])?;
        if !eddy_vm::ops::truthy(vm, &go)? {
            continue;
        }
        let mut d = d.borrow_mut();
        let Some(tx) = d.tx.clone() else { break };
        d.idle -= 1;
        d.running.insert(id, fut);
        sched::external(1);
        if tx.send(Job { id, work }).is_err() {
            sched::external(-1);
            d.running.remove(&id);
            return Err(vm.error("RuntimeError", "the process pool's workers are gone"));
        }
    }
    let mut d = d.borrow_mut();
    if d.closing && d.backlog.is_empty() {
        d.tx = None;
    }
    Ok(())
}

pub fn install(vm: &Vm, m: &Module) {
    let cls = util::plain_class(
        "_Pool",
        "concurrent.futures.process",
        vm.types.object.clone(),
    );
    util::methods(
        vm,
        &cls,
        &[
            ("submit", pool_submit),
            ("exec", pool_exec),
            ("close", |vm, a| {
                util::state(vm, &a.pos[0], "_Pool", |p: &mut PoolState| {
                    p.jobs.borrow_mut().close()
                })?;
                Ok(Value::None)
            }),
            ("pending", |vm, a| {
                let d = util::state(vm, &a.pos[0], "_Pool", |p: &mut PoolState| p.jobs.clone())?;
                let futs = d.borrow().futures();
                Ok(Value::list(futs))
            }),
        ],
    );
    m.set("_PoolType", Value::Class(cls));
    util::def(vm, m, "_pool_start", pool_start);
}

/// `_pool_start(max_workers, initializer, initargs, deliver)`: snapshots `__main__` and starts
/// the workers.
fn pool_start(vm: &mut Vm, a: Args) -> PyResult<Value> {
    util::arity(vm, "_pool_start", &a, 4, 4)?;
    let workers = util::to_i64(vm, &a.pos[0])?.max(1) as usize;
    let initializer = if a.pos[1].is_none() {
        None
    } else {
        let mut c = Copier::new(vm, false);
        let f = c.copy(&a.pos[1])?;
        let args = eddy_vm::ops::collect(vm, &a.pos[2])?;
        let mut c = Copier::new(vm, false);
        let args = args
            .iter()
            .map(|x| c.copy(x))
            .collect::<PyResult<Vec<P>>>()?;
        Some((f, args))
    };
    let deliver = a.pos[3].clone();
    let snap = Arc::new(snapshot(vm, initializer));
    let (job_tx, job_rx) = channel::<Job>();
    let job_rx = Arc::new(Mutex::new(job_rx));
    let (out_tx, out_rx) = channel::<Outcome>();
    for i in 0..workers {
        let (snap, rx, tx) = (snap.clone(), job_rx.clone(), out_tx.clone());
        std::thread::Builder::new()
            .name(format!("eddy-pool-{i}"))
            .stack_size(WORKER_STACK)
            .spawn(move || worker(snap, rx, tx))
            .map_err(|e| vm.error("RuntimeError", format!("can't start worker: {e}")))?;
    }
    let jobs = Rc::new(RefCell::new(Dispatch {
        tx: Some(job_tx),
        backlog: VecDeque::new(),
        running: HashMap::new(),
        // CPython's EXTRA_QUEUED_CALLS: one job beyond the workers is already marked running.
        idle: workers + 1,
        closing: false,
    }));
    let d = jobs.clone();
    sched::add_poller(Rc::new(move |vm: &mut Vm| poll(vm, &out_rx, &d, &deliver)));
    let cls = match vm.modules.get("concurrent.futures") {
        Some(Value::Module(m)) => m.get("_PoolType"),
        _ => None,
    };
    let Some(Value::Class(cls)) = cls else {
        return Err(vm.error("RuntimeError", "concurrent.futures is not initialised"));
    };
    Ok(util::new_native(&cls, PoolState { jobs, next: 0 }))
}

/// The parent's `__main__`, as a worker should start from it.
fn snapshot(vm: &mut Vm, initializer: Option<(P, Vec<P>)>) -> Snapshot {
    let main = match vm.modules.get("__main__") {
        Some(Value::Module(m)) => Some(m.clone()),
        _ => None,
    };
    let mut source = None;
    let mut globals = Vec::new();
    if let Some(main) = main {
        let entries: Vec<(String, Value)> = main
            .dict
            .borrow()
            .iter()
            .map(|(k, v)| (k.0.s.to_string(), v.clone()))
            .collect();
        source = main_source(vm, &entries);
        let mut c = Copier::new(vm, true);
        for (k, v) in entries {
            // As a snapshot: what cannot be copied (a lock, a pool, an open file) is left out.
            if let Ok(p) = c.copy(&v) {
                globals.push((k, p));
            }
        }
    }
    Snapshot {
        source,
        globals,
        search_path: vm.search_path.clone(),
        argv: vm.argv.clone(),
        compiler: eddy_vm::import::source_compiler(),
        virtual_time: crate::clock::is_virtual(),
        initializer,
        sandbox: vm.sandbox.clone(),
    }
}

/// The source file `__main__`'s definitions were compiled from.
fn main_source(vm: &Vm, entries: &[(String, Value)]) -> Option<(String, String)> {
    let from_code = |c: &Rc<eddy_vm::Code>| Some((c.source.name.clone(), c.source.text.clone()));
    for (_, v) in entries {
        match v {
            Value::Function(f) if &*f.globals.name.s == "__main__" => return from_code(&f.code),
            Value::Class(c) => {
                for x in c.dict.borrow().values() {
                    if let Value::Function(f) = x {
                        if &*f.globals.name.s == "__main__" {
                            return from_code(&f.code);
                        }
                    }
                }
            }
            _ => {}
        }
    }
    vm.frames
        .first()
        .filter(|f| &*f.globals.name.s == "__main__")
        .and_then(|f| from_code(&f.code))
}

/// `pool.submit(future, fn, args, kwargs)`: copies the call now (a copy error goes to the
/// future, as CPython's pickling error does) and queues it.
fn pool_submit(vm: &mut Vm, a: Args) -> PyResult<Value> {
    util::arity(vm, "submit", &a, 5, 5)?;
    let fut = a.pos[1].clone();
    let copied = (|| {
        let mut c = Copier::new(vm, false);
        let func = c.copy(&a.pos[2])?;
        let args = match &a.pos[3] {
            Value::Tuple(t) => t.iter().map(|x| c.copy(x)).collect::<PyResult<Vec<P>>>()?,
            _ => Vec::new(),
        };
        let mut kwargs = Vec::new();
        for (k, v) in util::dict_items(&a.pos[4]).unwrap_or_default() {
            let Value::Str(k) = k else { continue };
            kwargs.push((k.s.to_string(), c.copy(&v)?));
        }
        Ok((func, args, kwargs))
    })();
    let (func, args, kwargs) = match copied {
        Ok(x) => x,
        Err(e) => {
            vm.call_method(&fut, "set_exception", vec![e])?;
            return Ok(Value::None);
        }
    };
    queue_job(vm, &a.pos[0], fut, Work::Call { func, args, kwargs })
}

/// `pool.exec(future, source)`: runs `source` in the worker's `__main__` (one worker pools
/// are `interpreters.Interpreter`s).
fn pool_exec(vm: &mut Vm, a: Args) -> PyResult<Value> {
    util::arity(vm, "exec", &a, 3, 3)?;
    let src = util::to_str_arg(vm, &a.pos[2], "exec")?;
    queue_job(
        vm,
        &a.pos[0],
        a.pos[1].clone(),
        Work::Exec(src.s.to_string()),
    )
}

/// Queues `work` for the pool's workers; its outcome will go to `fut`.
fn queue_job(vm: &mut Vm, pool: &Value, fut: Value, work: Work) -> PyResult<Value> {
    let (d, id) = util::state(vm, pool, "_Pool", |p: &mut PoolState| {
        p.next += 1;
        (p.jobs.clone(), p.next)
    })?;
    {
        let mut jobs = d.borrow_mut();
        if jobs.tx.is_none() || jobs.closing {
            return Err(vm.error("RuntimeError", "cannot schedule new futures after shutdown"));
        }
        jobs.backlog.push_back((id, fut, work));
    }
    // What this VM printed so far comes before anything the job prints.
    vm.flush();
    dispatch(vm, &d)?;
    Ok(Value::None)
}

/// Applies the outcomes that arrived and hands freed workers the next jobs; false once the
/// pool is done with (no job running and the workers gone).
fn poll(vm: &mut Vm, rx: &Receiver<Outcome>, d: &Rc<RefCell<Dispatch>>, deliver: &Value) -> bool {
    loop {
        match rx.try_recv() {
            Ok(Outcome::Done(id, r)) => {
                sched::external(-1);
                let fut = {
                    let mut d = d.borrow_mut();
                    d.idle += 1;
                    d.running.remove(&id)
                };
                let Some(fut) = fut else { continue };
                let r = match r {
                    Ok(p) => Restorer::new(vm)
                        .restore(&p)
                        .map(|v| (true, v, Value::None)),
                    Err(f) => Ok((false, failure_exception(vm, &f), Value::string(f.text))),
                };
                let (ok, v, tb) = r.unwrap_or_else(|e| (false, e, Value::None));
                let r = vm.call(deliver, vec![fut, Value::Bool(ok), v, tb]);
                report(vm, r);
            }
            Ok(Outcome::Broken(msg)) => {
                let (running, queued) = {
                    let mut d = d.borrow_mut();
                    let running: Vec<Value> = d.running.drain().map(|(_, f)| f).collect();
                    let queued: Vec<Value> = d.backlog.drain(..).map(|(_, f, _)| f).collect();
                    (running, queued)
                };
                for _ in &running {
                    sched::external(-1);
                }
                for fut in running.into_iter().chain(queued) {
                    let args = vec![fut, Value::None, Value::string(msg.clone()), Value::None];
                    let r = vm.call(deliver, args);
                    report(vm, r);
                }
            }
            Err(std::sync::mpsc::TryRecvError::Empty) => {
                let r = dispatch(vm, d).map(|_| Value::None);
                report(vm, r);
                return true;
            }
            Err(std::sync::mpsc::TryRecvError::Disconnected) => {
                return !d.borrow().running.is_empty()
            }
        }
    }
}

fn report(vm: &mut Vm, r: PyResult<Value>) {
    if let Err(e) = r {
        let text = eddy_vm::traceback::format_exception(vm, &e);
        vm.write_stderr(&text);
    }
}

/// The parent's copy of a job's exception (a RuntimeError with its text if it did not copy).
fn failure_exception(vm: &mut Vm, f: &Failure) -> Value {
    if let Some(p) = &f.exc {
        if let Ok(e) = Restorer::new(vm).restore(p) {
            return e;
        }
    }
    vm.error("RuntimeError", f.summary.clone())
}

// ---- the worker side (another OS thread, its own VM) ----

fn worker(snap: Arc<Snapshot>, jobs: Arc<Mutex<Receiver<Job>>>, out: Sender<Outcome>) {
    let notifier = sched::notifier();
    let started = std::panic::catch_unwind(|| new_worker_vm(&snap));
    let Ok(Ok(mut vm)) = started else {
        let _ = out.send(Outcome::Broken(
            "A child process terminated abruptly, the process pool is not usable anymore".into(),
        ));
        notifier.notify();
        return;
    };
    loop {
        let job = match jobs.lock() {
            Ok(rx) => rx.recv(),
            Err(_) => break,
        };
        let Ok(job) = job else { break };
        let id = job.id;
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run_job(&mut vm, job)));
        vm.flush();
        let outcome = match r {
            Ok(r) => Outcome::Done(id, r),
            Err(_) => Outcome::Broken(
                "A process in the process pool was terminated abruptly while the future was running or pending."
                    .into(),
            ),
        };
        let broken = matches!(outcome, Outcome::Broken(_));
        let _ = out.send(outcome);
        notifier.notify();
        if broken {
            return;
        }
    }
    vm.flush();
}

/// A VM holding a copy of the parent's `__main__`.
fn new_worker_vm(snap: &Snapshot) -> Result<Vm, String> {
    crate::clock::set_virtual(snap.virtual_time);
    if let Some(c) = snap.compiler {
        eddy_vm::import::set_source_compiler(c);
    }
    let mut vm = Vm::new();
    crate::install(&mut vm);
    vm.sandbox = snap.sandbox.clone();
    vm.search_path = snap.search_path.clone();
    vm.argv = snap.argv.clone();
    let main = Rc::new(Module::new("__main__"));
    vm.modules
        .insert("__main__".into(), Value::Module(main.clone()));
    let mut codes = HashMap::new();
    if let Some((name, text)) = &snap.source {
        let code = eddy_vm::import::compile_source(&vm, name, text).map_err(|_| "compile")?;
        index_code(&code, &mut codes);
    }
    {
        let mut r = Restorer::for_snapshot(&mut vm, main.clone(), &codes);
        for (k, p) in &snap.globals {
            if let Ok(v) = r.restore(p) {
                main.set(k, v);
            }
        }
    }
    if let Some((f, args)) = &snap.initializer {
        let mut r = Restorer::new(&mut vm);
        let f = r.restore(f).map_err(|_| "initializer")?;
        let args = args
            .iter()
            .map(|a| r.restore(a))
            .collect::<PyResult<Vec<Value>>>()
            .map_err(|_| "initializer")?;
        if let Err(e) = vm.call(&f, args) {
            let text = eddy_vm::traceback::format_exception(&mut vm, &e);
            vm.write_stderr(&format!("Exception in initializer:\n{text}"));
            vm.flush();
            return Err("initializer failed".into());
        }
    }
    Ok(vm)
}

fn run_job(vm: &mut Vm, job: Job) -> Result<P, Failure> {
    let call = match job.work {
        Work::Call { func, args, kwargs } => (|| {
            let mut r = Restorer::new(vm);
            let f = r.restore(&func)?;
            let pos = args
                .iter()
                .map(|a| r.restore(a))
                .collect::<PyResult<Vec<Value>>>()?;
            let mut kw = Vec::new();
            for (k, v) in &kwargs {
                kw.push((vm_intern(k), r.restore(v)?));
            }
            vm.call_args(&f, Args { pos, kw })
        })(),
        Work::Exec(src) => exec_main(vm, &src),
    };
    let r = call.and_then(|v| Copier::new(vm, false).copy(&v));
    r.map_err(|e| {
        let text = eddy_vm::traceback::format_exception(vm, &e);
        let summary = text.lines().last().unwrap_or("").to_string();
        let exc = Copier::new(vm, false).copy(&e).ok();
        Failure { exc, summary, text }
    })
}

/// Runs `src` as module code in the worker's `__main__`.
fn exec_main(vm: &mut Vm, src: &str) -> PyResult<Value> {
    let Some(Value::Module(main)) = vm.modules.get("__main__").cloned() else {
        return Err(vm.error("RuntimeError", "the interpreter has no __main__"));
    };
    let code = eddy_vm::import::compile_source(vm, "<string>", src)?;
    vm.run_module_code(code, main)?;
    Ok(Value::None)
}

fn vm_intern(s: &str) -> Rc<eddy_vm::value::PyStr> {
    Rc::new(eddy_vm::value::PyStr::new(s))
}

pub const PY: &str = r#"
_wait = wait


class _RemoteTraceback(Exception):
    def __init__(self, tb):
        self.tb = tb

    def __str__(self):
        return self.tb


_RemoteTraceback.__module__ = "concurrent.futures.process"


def _process_deliver(fut, ok, value, tb):
    if ok is None:
        fut.set_exception(BrokenProcessPool(value))
    elif ok:
        fut.set_result(value)
    else:
        if tb is not None:
            value.__cause__ = _RemoteTraceback('\n"""\n' + tb + '"""')
        fut.set_exception(value)


def _process_chunk(fn, chunk):
    return [fn(*args) for args in chunk]


def _get_chunks(*iterables, chunksize):
    it = zip(*iterables)
    while True:
        chunk = []
        for x in it:
            chunk.append(x)
            if len(chunk) == chunksize:
                break
        if not chunk:
            return
        yield chunk


class ProcessPoolExecutor(Executor):
    def __init__(self, max_workers=None, mp_context=None, initializer=None, initargs=(),
                 *, max_tasks_per_child=None):
        if max_workers is None:
            max_workers = _cpu_count() or 1
        elif max_workers <= 0:
            raise ValueError("max_workers must be greater than 0")
        if initializer is not None and not callable(initializer):
            raise TypeError("initializer must be a callable")
        if max_tasks_per_child is not None:
            if type(max_tasks_per_child) is not int:
                raise TypeError("max_tasks_per_child must be an integer")
            elif max_tasks_per_child <= 0:
                raise ValueError("max_tasks_per_child must be >= 1")
        self._max_workers = max_workers
        self._initializer = initializer
        self._initargs = initargs
        self._pool = None
        self._broken = False
        self._shutdown_thread = False
        self._shutdown_lock = threading.Lock()

    def submit(self, fn, /, *args, **kwargs):
        with self._shutdown_lock:
            if self._broken:
                raise BrokenProcessPool(self._broken)
            if self._shutdown_thread:
                raise RuntimeError('cannot schedule new futures after shutdown')
            if _shutdown:
                raise RuntimeError('cannot schedule new futures after interpreter shutdown')
            if self._pool is None:
                self._pool = _pool_start(self._max_workers, self._initializer, self._initargs,
                                         self._deliver)
            f = Future()
            self._pool.submit(f, fn, args, kwargs)
            return f

    def _deliver(self, fut, ok, value, tb):
        if ok is None:
            self._broken = value
        _process_deliver(fut, ok, value, tb)

    def map(self, fn, *iterables, timeout=None, chunksize=1):
        if chunksize < 1:
            raise ValueError("chunksize must be >= 1.")
        if chunksize == 1:
            return super().map(fn, *iterables, timeout=timeout)
        results = super().map(_process_chunk, _repeat(fn),
                              _get_chunks(*iterables, chunksize=chunksize), timeout=timeout)
        return _chain_from_iterable_of_lists(results)

    def shutdown(self, wait=True, *, cancel_futures=False):
        with self._shutdown_lock:
            self._shutdown_thread = True
        pool = self._pool
        if pool is None:
            return
        if cancel_futures:
            for f in pool.pending():
                f.cancel()
        if wait:
            pending = pool.pending()
            if pending:
                _wait(pending)
        pool.close()
        self._pool = None


def _repeat(x):
    while True:
        yield x


def _chain_from_iterable_of_lists(iterable):
    for element in iterable:
        element.reverse()
        while element:
            yield element.pop()
"#;
