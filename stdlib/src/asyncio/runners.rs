//! The 3.11 asyncio API that few scripts use, loaded lazily (lazy.rs): `Runner`,
//! `run_coroutine_threadsafe`, `Barrier` and `loop.shutdown_asyncgens()`, as Python after
//! CPython's runners.py, tasks.py and locks.py, over three natives that share `asyncio.run`'s
//! own steps (events.rs), so a Runner's run and close behave as `asyncio.run` does.

use eddy_vm::objects::generator;
use eddy_vm::{Args, PyResult, Value, Vm};

use super::events;

/// After `PY` ran: `shutdown_asyncgens` joins the loop's methods (replacing lazy.rs's stub).
pub fn export(vm: &Vm, m: &eddy_vm::objects::module::Module) {
    if let Some(f) = m.get("_loop_shutdown_asyncgens") {
        super::classes()
            .event_loop
            .set_attr(vm.intern("shutdown_asyncgens"), f);
    }
}

pub fn install(vm: &mut Vm, m: &eddy_vm::objects::module::Module) {
    crate::util::defs(
        vm,
        m,
        &[
            ("_runner_run", runner_run),
            ("_runner_finish", runner_finish),
            ("_take_asyncgens", take_asyncgens),
        ],
    );
}

/// `_runner_run(loop, coro)`: `coro` as the main task of `loop`, run to completion.
fn runner_run(vm: &mut Vm, a: Args) -> PyResult<Value> {
    crate::util::arity(vm, "_runner_run", &a, 2, 2)?;
    let core = events::core_of(vm, &a.pos[0])?;
    if core.closed.get() {
        return Err(vm.error("RuntimeError", "Event loop is closed"));
    }
    events::set_running(Some(core.clone()));
    let r = events::run_main_task(vm, &core, a.pos[1].clone());
    events::set_running(None);
    r
}

/// `_runner_finish(loop)`: what `asyncio.run` does after its main task, then closes `loop`.
fn runner_finish(vm: &mut Vm, a: Args) -> PyResult<Value> {
    crate::util::arity(vm, "_runner_finish", &a, 1, 1)?;
    let core = events::core_of(vm, &a.pos[0])?;
    if core.closed.get() {
        return Ok(Value::None);
    }
    events::set_running(Some(core.clone()));
    let r = events::finish(vm, &core);
    events::dispose(vm, &core);
    r.map(|_| Value::None)
}

/// `_take_asyncgens()`: the async generators `shutdown_asyncgens` must close (those dropped
/// while suspended and those still suspended), each handed over once.
fn take_asyncgens(vm: &mut Vm, a: Args) -> PyResult<Value> {
    crate::util::arity(vm, "_take_asyncgens", &a, 0, 0)?;
    let mut gens = generator::take_dropped_async_gens();
    gens.extend(generator::take_started_async_gens());
    Ok(Value::list(
        gens.into_iter().map(eddy_vm::gc::track_generator).collect(),
    ))
}

pub const PY: &str = r#"
class BrokenBarrierError(RuntimeError):
    pass

BrokenBarrierError.__module__ = "asyncio.exceptions"


class Runner:
    def __init__(self, *, debug=None, loop_factory=None):
        self._state = "created"
        self._debug = debug
        self._loop_factory = loop_factory
        self._loop = None
        self._set_event_loop = False

    def __enter__(self):
        self._lazy_init()
        return self

    def __exit__(self, exc_type, exc_val, exc_tb):
        self.close()

    def close(self):
        if self._state != "initialized":
            return
        loop = self._loop
        try:
            _runner_finish(loop)
        finally:
            if self._set_event_loop:
                set_event_loop(None)
            loop.close()
            self._loop = None
            self._state = "closed"

    def get_loop(self):
        self._lazy_init()
        return self._loop

    def run(self, coro, *, context=None):
        if not iscoroutine(coro):
            raise ValueError("a coroutine was expected, got {!r}".format(coro))
        try:
            get_running_loop()
        except RuntimeError:
            pass
        else:
            raise RuntimeError("Runner.run() cannot be called from a running event loop")
        self._lazy_init()
        return _runner_run(self._loop, coro)

    def _lazy_init(self):
        if self._state == "closed":
            raise RuntimeError("Runner is closed")
        if self._state == "initialized":
            return
        if self._loop_factory is None:
            self._loop = new_event_loop()
            if not self._set_event_loop:
                set_event_loop(self._loop)
                self._set_event_loop = True
        else:
            self._loop = self._loop_factory()
        if self._debug is not None:
            self._loop.set_debug(self._debug)
        self._state = "initialized"


def run_coroutine_threadsafe(coro, loop):
    import concurrent.futures
    if not iscoroutine(coro):
        raise TypeError('A coroutine object is required')
    future = concurrent.futures.Future()

    # futures._chain_future(task, future) for a concurrent destination.
    def set_state(task):
        if task.cancelled():
            future.cancel()
        if not future.set_running_or_notify_cancel():
            return
        exc = task.exception()
        if exc is not None:
            future.set_exception(exc)
        else:
            future.set_result(task.result())

    def callback():
        try:
            task = ensure_future(coro)
        except (SystemExit, KeyboardInterrupt):
            raise
        except BaseException as exc:
            if future.set_running_or_notify_cancel():
                future.set_exception(exc)
            raise

        def check_cancel(f):
            if f.cancelled():
                loop.call_soon_threadsafe(task.cancel)

        future.add_done_callback(check_cancel)
        task.add_done_callback(set_state)

    loop.call_soon_threadsafe(callback)
    return future


async def _loop_shutdown_asyncgens(self):
    gens = _take_asyncgens()
    if not gens:
        return
    await gather(*[ag.aclose() for ag in gens], return_exceptions=True)


class Barrier:
    def __init__(self, parties):
        if parties < 1:
            raise ValueError('parties must be > 0')
        self._cond = Condition()
        self._parties = parties
        self._state = "filling"
        self._count = 0

    def __repr__(self):
        extra = self._state
        if not self.broken:
            extra += f', waiters:{self.n_waiting}/{self.parties}'
        return f'<asyncio.locks.Barrier object at {id(self):#x} [{extra}]>'

    async def __aenter__(self):
        return await self.wait()

    async def __aexit__(self, *args):
        pass

    async def wait(self):
        async with self._cond:
            await self._block()
            try:
                index = self._count
                self._count += 1
                if index + 1 == self._parties:
                    await self._release()
                else:
                    await self._wait()
                return index
            finally:
                self._count -= 1
                self._exit()

    async def _block(self):
        await self._cond.wait_for(lambda: self._state not in ("draining", "resetting"))
        if self._state == "broken":
            raise BrokenBarrierError("Barrier aborted")

    async def _release(self):
        self._state = "draining"
        self._cond.notify_all()

    async def _wait(self):
        await self._cond.wait_for(lambda: self._state != "filling")
        if self._state in ("broken", "resetting"):
            raise BrokenBarrierError("Abort or reset of barrier")

    def _exit(self):
        if self._count == 0:
            if self._state in ("resetting", "draining"):
                self._state = "filling"
            self._cond.notify_all()

    async def reset(self):
        async with self._cond:
            if self._count > 0:
                if self._state != "resetting":
                    self._state = "resetting"
            else:
                self._state = "filling"
            self._cond.notify_all()

    async def abort(self):
        async with self._cond:
            self._state = "broken"
            self._cond.notify_all()

    @property
    def parties(self):
        return self._parties

    @property
    def n_waiting(self):
        if self._state == "filling":
            return self._count
        return 0

    @property
    def broken(self):
        return self._state == "broken"


Runner.__module__ = "asyncio.runners"
Barrier.__module__ = "asyncio.locks"
"#;
