//! Resuming generators and coroutines: pushing a suspended frame back onto the frame stack (for
//! SEND, FOR_ITER and an event loop's task step), `send`/`throw` from native code with CPython's
//! delegation to the sub-iterator a `yield from`/`await` is suspended in, and giving a coroutine
//! run inline by `await f(...)` (`ReturnMode::Await`) its object when it first suspends.

use std::rc::Rc;

use crate::frame::{Frame, ReturnMode};
use crate::objects::generator::{GenState, Generator};
use crate::opcode::Instr;
use crate::value::Value;
use crate::vm::Vm;
use crate::PyResult;

impl Vm {
    /// The caller's SEND index when the call just made is awaited at once (`await f(...)`: the
    /// next instructions are GET_AWAITABLE, LOAD_CONST None, SEND).
    pub(crate) fn awaited_call_site(&self) -> Option<u32> {
        let caller = self.frames.last()?;
        let instrs = &caller.code.instrs;
        match (instrs.get(caller.ip)?, instrs.get(caller.ip + 2)?) {
            (Instr::GetAwaitable, Instr::Send(_)) => Some(caller.ip as u32 + 2),
            _ => None,
        }
    }

    /// An inline-awaited coroutine frame (`ReturnMode::Await`) is suspending: give it the
    /// coroutine object it never had, put that object where the caller's await loop keeps its
    /// sub-iterator (replacing the callee slot), and point the caller at the loop's YIELD_VALUE,
    /// so from here on it is exactly a coroutine resumed by SEND. Its locals are already saved.
    pub(crate) fn adopt_inline_coroutine(
        &mut self,
        frame: &mut Frame,
        send_ip: u32,
    ) -> Rc<Generator> {
        let gen = Rc::new(Generator::new(
            frame.code.clone(),
            crate::objects::generator::GenInner::running(true),
        ));
        self.stack.truncate(frame.ret_sp());
        self.stack.push(crate::gc::track_generator(gen.clone()));
        let caller = self
            .frames
            .last_mut()
            .expect("an awaited call has a caller");
        let exit = match caller.code.instrs[send_ip as usize] {
            Instr::Send(exit) => exit,
            _ => unreachable!("awaited_call_site checked the SEND"),
        };
        caller.ip = send_ip as usize + 1;
        frame.mode = ReturnMode::Send(exit);
        frame.generator = Some(gen.clone());
        gen
    }

    /// Pushes a generator's frame to resume it with `sent`. Returns None if it had finished.
    pub(crate) fn resume_generator(
        &mut self,
        gen: &Rc<Generator>,
        sent: Value,
        mode: ReturnMode,
    ) -> PyResult<Option<()>> {
        let mut inner = gen.inner.borrow_mut();
        match inner.state {
            GenState::Running => {
                let what = if gen.kind() == crate::objects::generator::GenKind::Generator {
                    "generator"
                } else {
                    "coroutine"
                };
                return Err(self.value_error(format!("{what} already executing")));
            }
            GenState::Finished => {
                if gen.kind() == crate::objects::generator::GenKind::Coroutine {
                    return Err(
                        self.error("RuntimeError", "cannot reuse already awaited coroutine")
                    );
                }
                return Ok(None);
            }
            GenState::Created => {
                if !sent.is_none() {
                    return Err(
                        self.type_error("can't send non-None value to a just-started generator")
                    );
                }
            }
            GenState::Suspended => {}
        }
        if self.frames.len() >= self.recursion_limit {
            return Err(self.error("RecursionError", "maximum recursion depth exceeded"));
        }
        let was_suspended = inner.state == GenState::Suspended;
        let base = self.stack.len();
        let mut frame = inner
            .take_frame(&gen.code, base, mode)
            .expect("suspended generator has a frame");
        frame.generator = Some(gen.clone());
        self.stack.append(&mut inner.saved);
        if was_suspended {
            self.stack.push(sent);
        }
        inner.state = GenState::Running;
        inner.awaited = true;
        drop(inner);
        let own = frame.extra.as_mut().and_then(|e| e.exc_state.take());
        self.enter_gen_exc(own);
        self.frames.push(frame);
        Ok(Some(()))
    }

    /// A generator frame is about to be pushed at index `frames.len()`: remember the caller's
    /// handled exception, and hand the generator its own if it was suspended in an `except`.
    fn enter_gen_exc(&mut self, own: Option<Value>) {
        let idx = self.frames.len() as u32;
        // Entries at or above this index belong to frames gone without yielding or returning
        // normally (a host's error cut them off).
        while self.gen_exc.last().is_some_and(|(i, _)| *i >= idx) {
            self.gen_exc.pop();
        }
        self.gen_exc.push((idx, self.handled.clone()));
        if let Some(own) = own {
            self.handled = own;
        }
    }

    /// The generator frame at index `idx` stops running (it yields, returns or raises): the
    /// caller's handled exception comes back. Returns what the generator was handling, if
    /// anything (to keep while it is suspended). A frame with no entry (a coroutine awaited
    /// inline, suspending for the first time) leaves `handled` as it is.
    pub(crate) fn leave_gen_exc(&mut self, idx: usize) -> Option<Value> {
        let idx = idx as u32;
        while self.gen_exc.last().is_some_and(|(i, _)| *i > idx) {
            self.gen_exc.pop();
        }
        match self.gen_exc.last() {
            Some((i, _)) if *i == idx => {}
            _ => return None,
        }
        let (_, caller) = self.gen_exc.pop()?;
        if self.handled.is(&caller) {
            return None;
        }
        let own = std::mem::replace(&mut self.handled, caller);
        (!own.is_none()).then_some(own)
    }

    /// Resumes a generator from native code. Ok(Ok(v)): it yielded v; Ok(Err(v)): it returned v.
    pub fn gen_send(&mut self, gen: &Rc<Generator>, sent: Value) -> PyResult<Result<Value, Value>> {
        match self.resume_generator(gen, sent, ReturnMode::Entry)? {
            None => Ok(Err(Value::None)),
            Some(()) => {
                self.native_depth += 1;
                let r = self.run();
                self.native_depth -= 1;
                let v = r?;
                if std::mem::replace(&mut self.gen_returned, false) {
                    Ok(Err(v))
                } else {
                    Ok(Ok(v))
                }
            }
        }
    }

    /// Throws `exc` into a suspended generator at its yield point (`gen.throw`).
    pub fn gen_throw(&mut self, gen: &Rc<Generator>, exc: Value) -> PyResult<Result<Value, Value>> {
        let state = gen.state();
        if state == GenState::Finished || state == GenState::Created {
            gen.inner.borrow_mut().state = GenState::Finished;
            return Err(exc);
        }
        // Suspended inside `yield from`/`await`: the exception goes to the innermost awaitable
        // first (so a cancelled task runs the `finally` blocks of the coroutine it awaits).
        let exc = match self.throw_into_delegate(gen, exc)? {
            Ok(done) => return Ok(done),
            Err(exc) => exc,
        };
        self.resume_generator(gen, Value::None, ReturnMode::Entry)?;
        // Drop the sent value and raise at the resume point.
        self.stack.pop();
        // Suspended in an `except` block, the generator's own exception becomes the thrown
        // one's context (CPython's `_PyErr_ChainStackItem`); the caller's never does.
        if let Some((_, caller)) = self.gen_exc.last() {
            if !self.handled.is(caller) {
                crate::ops::set_context(&exc, &self.handled);
            }
        }
        self.native_depth += 1;
        let entry = self.frames.len();
        let r = match self.unwind(exc, entry) {
            Ok(()) => self.run(),
            Err(e) => Err(e),
        };
        self.native_depth -= 1;
        let v = r?;
        if std::mem::replace(&mut self.gen_returned, false) {
            Ok(Err(v))
        } else {
            Ok(Ok(v))
        }
    }
}

impl Vm {
    /// The sub-iterator and loop exit of a generator suspended in a `yield from`/`await` loop
    /// (its last instruction run was the loop's YieldValue, right after the Send).
    fn delegate_of(gen: &Rc<Generator>) -> Option<(Value, usize)> {
        let inner = gen.inner.borrow();
        let send_at = inner.suspended_ip()?.checked_sub(2)?;
        match gen.code.instrs.get(send_at)? {
            Instr::Send(exit) => Some((inner.saved.last()?.clone(), *exit as usize)),
            _ => None,
        }
    }

    /// CPython's `_gen_throw` delegation. Ok(Ok(r)): the delegate handled `exc` (yielded or the
    /// generator then finished, `r` as in `gen_send`); Ok(Err(exc)): raise `exc` in `gen` itself.
    fn throw_into_delegate(
        &mut self,
        gen: &Rc<Generator>,
        exc: Value,
    ) -> PyResult<Result<Result<Value, Value>, Value>> {
        let Some((sub, exit)) = Self::delegate_of(gen) else {
            return Ok(Err(exc));
        };
        let native_throw = match &sub {
            Value::Instance(i) => i.class.native_throw.get(),
            _ => None,
        };
        let r = match (&sub, native_throw) {
            (Value::Generator(g), _) => self.gen_throw(g, exc),
            (_, Some(throw)) => throw(self, &sub, exc),
            _ => match crate::attr::try_get_attr(self, &sub, "throw")? {
                Some(m) => match self.call(&m, vec![exc]) {
                    Ok(v) => Ok(Ok(v)),
                    Err(e) if self.exc_matches(&e, "StopIteration") => {
                        Ok(Err(crate::ops::stop_iteration_value(&e)))
                    }
                    Err(e) => Err(e),
                },
                None => return Ok(Err(exc)),
            },
        };
        match r {
            Ok(Ok(v)) => Ok(Ok(Ok(v))),
            Ok(Err(ret)) => {
                // The delegate returned: leave the loop with its value, as if Send had finished.
                {
                    let mut inner = gen.inner.borrow_mut();
                    inner.saved.pop();
                    inner.ip = exit as u32;
                }
                self.gen_send(gen, ret).map(Ok)
            }
            Err(e) => Ok(Err(e)),
        }
    }
}
