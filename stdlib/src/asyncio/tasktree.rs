//! Where the tasks are: each live task with its state and the chain of awaits it is suspended
//! in (`func() at file:line: source` per frame), arranged as a tree (a task sits under the task
//! that awaits it, directly or through `gather`). Two things print it: the deadlock report,
//! when nothing can ever wake the loop again, and `kill -USR1 PID`, which asks a running script
//! for its task tree on stderr without disturbing it.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::io::Read;
use std::os::unix::net::UnixStream;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use async_io::Async;

use eddy_vm::{ops, Value, Vm};

use super::events::LoopCore;
use super::futures;

thread_local! {
    static LIVE_TASKS: Cell<usize> = const { std::cell::Cell::new(0) };
}

/// Held by every Task: counts the Task objects alive on this thread (done or not) for
/// `sys._eddy_stats()`, so tests can check that finished tasks are released.
pub struct LiveTask(());

impl LiveTask {
    pub fn new() -> LiveTask {
        LIVE_TASKS.with(|n| n.set(n.get() + 1));
        LiveTask(())
    }
}

impl Default for LiveTask {
    fn default() -> Self {
        LiveTask::new()
    }
}

impl Drop for LiveTask {
    fn drop(&mut self) {
        LIVE_TASKS.with(|n| n.set(n.get().saturating_sub(1)));
    }
}

/// How many Task objects exist on this thread.
pub fn live_tasks() -> usize {
    LIVE_TASKS.with(|n| n.get())
}

/// One suspended frame of an await chain.
pub struct Frame {
    pub func: String,
    pub file: String,
    /// 0 for a native coroutine (asyncio.sleep, Lock.acquire...), which has no source.
    pub line: u32,
    /// The source line, trimmed (empty when the file's text is unknown).
    pub source: String,
}

impl std::fmt::Display for Frame {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.line == 0 {
            return write!(f, "{}() (built in)", self.func);
        }
        write!(f, "{}() at {}:{}", self.func, self.file, self.line)?;
        if !self.source.is_empty() {
            write!(f, ": {}", self.source)?;
        }
        Ok(())
    }
}

impl Frame {
    /// A native coroutine's frame (asyncio.sleep, Lock.acquire...).
    fn native(name: &str) -> Frame {
        Frame {
            func: name.to_string(),
            file: String::new(),
            line: 0,
            source: String::new(),
        }
    }

    /// Frames of Eddy's own helpers (native ones, or Python in `<asyncio.tasks>`...)
    /// rather than the script's.
    fn is_internal(&self) -> bool {
        self.line == 0 || self.file.starts_with('<')
    }
}

/// Where a suspended coroutine waits: its frame and the frame of each coroutine it awaits in
/// turn (the innermost last).
pub fn await_chain(coro: &Value) -> Vec<Frame> {
    let mut out = Vec::new();
    let mut cur = coro.clone();
    while let Value::Generator(g) = &cur {
        let next = {
            let inner = g.inner.borrow();
            let Some(ip) = inner.suspended_ip() else {
                break;
            };
            let code = &g.code;
            let line = code.line_of(ip.saturating_sub(1));
            out.push(Frame {
                func: g.qualname().s.to_string(),
                file: code.source.name.clone(),
                line,
                source: code.source.line_text(line).trim().to_string(),
            });
            // Suspended in an await loop: the awaited object sits on top of the saved stack.
            match ip.checked_sub(2).and_then(|i| code.instrs.get(i)) {
                Some(eddy_vm::opcode::Instr::Send(_)) => inner.saved.last().cloned(),
                _ => None,
            }
        };
        match next {
            Some(v) => cur = v,
            None => break,
        }
    }
    if let Some(name) = super::native_coro::name_of(&cur) {
        out.push(Frame::native(name));
    }
    out
}

/// What the tree needs to know of one task.
pub struct TaskInfo {
    pub task: Value,
    /// The name's repr, e.g. `'Task-3'`.
    pub name: String,
    /// `running`, `ready to run`, `waiting for ...`, with ` (cancelling)` appended.
    pub state: String,
    pub chain: Vec<Frame>,
    /// Tasks this one waits for (directly, or as the children of a gather).
    awaits: Vec<Value>,
}

/// Every live task of `core` with its state and await chain, in creation order (the REPL's
/// `:tasks` and `:where`).
pub fn task_infos(vm: &mut Vm, core: &LoopCore) -> Vec<TaskInfo> {
    pending_tasks(core)
        .iter()
        .filter_map(|t| info(vm, core, t))
        .collect()
}

fn same(a: &Value, b: &Value) -> bool {
    matches!((a, b), (Value::Instance(x), Value::Instance(y)) if Rc::ptr_eq(x, y))
}

fn info(vm: &mut Vm, core: &LoopCore, task: &Value) -> Option<TaskInfo> {
    let (name, coro, waiter, cancelling) = futures::with_task(task, |s, d| {
        (
            d.name(),
            d.coro.clone(),
            d.fut_waiter.clone(),
            s.must_cancel || d.num_cancels > 0,
        )
    })?;
    let running = matches!(&*core.current_task.borrow(), Some(t) if same(t, task));
    let (mut awaits, waiting_for) = match &waiter {
        Some(w) => describe_waiter(vm, w),
        None => (Vec::new(), String::new()),
    };
    let mut chain = await_chain(&coro);
    // A task parked on a primitive awaits a shared token: the wait is named by the task.
    if let Some(name) = super::parking::wait_name(task) {
        chain.push(Frame::native(name));
    }
    awaits.extend(super::taskgroups::waiting_children(task));
    let mut state = match (running, &waiter) {
        (true, _) => "running".to_string(),
        (false, Some(_)) => format!("waiting for {waiting_for}"),
        (false, None) => "ready to run".to_string(),
    };
    if cancelling {
        state.push_str(" (cancelling)");
    }
    Some(TaskInfo {
        task: task.clone(),
        name: ops::repr(vm, &name).unwrap_or_default(),
        state,
        chain,
        awaits,
    })
}

/// The tasks behind the future a task waits on, and a few words saying what it is.
fn describe_waiter(vm: &mut Vm, w: &Value) -> (Vec<Value>, String) {
    let name = futures::with_task(w, |_, d| d.name());
    let is_task = name.is_some();
    let children = futures::with(w, |s| s.children()).unwrap_or_default();
    if is_task {
        let name = name.map(|n| ops::repr(vm, &n).unwrap_or_default());
        return (
            vec![w.clone()],
            format!("task {}", name.unwrap_or_default()),
        );
    }
    if !children.is_empty() {
        let pending = children.iter().filter(|c| !futures::is_done(c)).count();
        return (
            children,
            format!("gather() ({pending} of its awaitables pending)"),
        );
    }
    (Vec::new(), "a Future".into())
}

/// Every task not yet done, in creation order.
fn pending_tasks(core: &LoopCore) -> Vec<Value> {
    core.tasks.borrow().pending()
}

/// The task tree: one entry per live task, under the task awaiting it.
fn render(vm: &mut Vm, core: &LoopCore) -> (String, Vec<TaskInfo>) {
    let infos = task_infos(vm, core);
    let index_of = |v: &Value| infos.iter().position(|i| same(&i.task, v));
    // A task's parent is the first task awaiting it; the rest are roots.
    let mut parent: HashMap<usize, usize> = HashMap::new();
    for (p, i) in infos.iter().enumerate() {
        for child in i.awaits.iter().filter_map(index_of) {
            if child != p {
                parent.entry(child).or_insert(p);
            }
        }
    }
    let mut text = String::new();
    let mut shown = vec![false; infos.len()];
    for root in (0..infos.len()).filter(|i| !parent.contains_key(i)) {
        write_task(&infos, &parent, root, 1, &mut shown, &mut text);
    }
    // A cycle of tasks awaiting each other has no root: show its members flat.
    for i in 0..infos.len() {
        write_task(&infos, &parent, i, 1, &mut shown, &mut text);
    }
    (text, infos)
}

fn write_task(
    infos: &[TaskInfo],
    parent: &HashMap<usize, usize>,
    i: usize,
    depth: usize,
    shown: &mut [bool],
    out: &mut String,
) {
    if shown[i] {
        return;
    }
    shown[i] = true;
    let t = &infos[i];
    let pad = "  ".repeat(depth);
    out.push_str(&format!("{pad}task {} {}\n", t.name, t.state));
    for frame in &t.chain {
        out.push_str(&format!("{pad}    {frame}\n"));
    }
    let children: Vec<usize> = (0..infos.len())
        .filter(|c| parent.get(c) == Some(&i))
        .collect();
    for c in children {
        write_task(infos, parent, c, depth + 1, shown, out);
    }
}

/// The deadlock report: prints the task tree on stderr and returns the RuntimeError message,
/// which names the first task and the script line it waits at.
pub fn deadlock_report(vm: &mut Vm, core: &LoopCore) -> String {
    let (tree, infos) = render(vm, core);
    vm.write_stderr(&format!(
        "deadlock: every task is blocked and nothing can wake them\n{tree}"
    ));
    // Name the first task that waits on something other than a task: the root of the problem.
    let stuck = infos
        .iter()
        .find(|i| i.awaits.is_empty())
        .or_else(|| infos.first());
    let Some(t) = stuck else {
        return "deadlock: the event loop has nothing to run".into();
    };
    let frame = t
        .chain
        .iter()
        .rev()
        .find(|f| !f.is_internal())
        .or(t.chain.last());
    match frame {
        Some(f) => format!("deadlock: task {} waits forever in {f}", t.name),
        None => format!("deadlock: task {} waits forever", t.name),
    }
}

// ---- SIGUSR1 ----

thread_local! {
    /// Set by the SIGUSR1 handler; the loop checks it between rounds.
    static REQUESTED: RefCell<Option<Arc<AtomicBool>>> = const { RefCell::new(None) };
    /// The read end of the socket the handler also writes a byte to, so that a loop blocked
    /// in the reactor (waiting for I/O or a timer) wakes up to print at once.
    static READER: RefCell<Option<UnixStream>> = const { RefCell::new(None) };
    /// True while a watcher future for READER is registered with the reactor (the reactor drops
    /// its futures when a loop closes; the guard inside the future then clears this).
    static WATCHING: Rc<Cell<bool>> = Rc::new(Cell::new(false));
}

/// Makes `kill -USR1 PID` print the task tree of the running loop on this thread (the `eddy`
/// command does this; a host embedding Eddy may, or may keep SIGUSR1 for itself). The handler
/// only sets a flag and writes a byte that wakes the loop, which prints the tree between two
/// rounds: at once when it waits, after the current callback when a task is running. False if
/// the handler could not be installed.
pub fn watch_sigusr1() -> bool {
    let flag = Arc::new(AtomicBool::new(false));
    if signal_hook::flag::register(signal_hook::consts::SIGUSR1, flag.clone()).is_err() {
        return false;
    }
    REQUESTED.with(|r| *r.borrow_mut() = Some(flag));
    if let Ok((reader, writer)) = UnixStream::pair() {
        if reader.set_nonblocking(true).is_ok()
            && signal_hook::low_level::pipe::register(signal_hook::consts::SIGUSR1, writer).is_ok()
        {
            READER.with(|r| *r.borrow_mut() = Some(reader));
        }
    }
    true
}

/// Called by the loop each round: prints the task tree if SIGUSR1 arrived since the last call,
/// and makes sure the reactor watches for the next one.
pub fn poll_sigusr1(vm: &mut Vm, core: &LoopCore) {
    let asked = REQUESTED.with(|r| {
        r.borrow()
            .as_ref()
            .is_some_and(|f| f.swap(false, Ordering::Relaxed))
    });
    if asked {
        print_tree(vm, core);
    }
    if !WATCHING.with(|w| w.get()) {
        spawn_watcher();
    }
}

/// Clears the WATCHING flag when the watcher future is dropped (done or discarded).
struct Watching(Rc<Cell<bool>>);

impl Drop for Watching {
    fn drop(&mut self) {
        self.0.set(false);
    }
}

/// Registers a daemon future (it never hides a deadlock) that completes when the handler's
/// byte arrives; the loop then polls it, and the next round prints the tree.
fn spawn_watcher() {
    let Some(reader) = READER.with(|r| r.borrow().as_ref().and_then(|s| s.try_clone().ok())) else {
        return;
    };
    let Ok(reader) = Async::new(reader) else {
        return;
    };
    let guard = Watching(WATCHING.with(|w| w.clone()));
    guard.0.set(true);
    super::reactor::spawn_daemon(async move {
        let _ = reader.readable().await;
        let mut buf = [0u8; 64];
        let _ = reader.get_ref().read(&mut buf);
        drop(guard);
        let done: super::reactor::Completion = Box::new(|_vm: &mut Vm| Ok(()));
        done
    });
}

/// The SIGUSR1 report: a header with the loop time, then the tree.
fn print_tree(vm: &mut Vm, core: &LoopCore) {
    let (tree, infos) = render(vm, core);
    let text = format!(
        "eddy: task tree at loop time {:.3} ({} live task{})\n{tree}",
        super::reactor::now(),
        infos.len(),
        if infos.len() == 1 { "" } else { "s" }
    );
    vm.write_stderr(&text);
}
