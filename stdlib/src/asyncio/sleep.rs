//! `asyncio.sleep(delay, result=None)` as a native coroutine: no script frame, one future and
//! one timer entry per sleep. Behaves as CPython's: `sleep(0)` (or less) gives up exactly one
//! loop turn; otherwise the task waits on a future a timer resolves, and a cancelled sleep
//! cancels its timer.

use std::cell::Cell;
use std::rc::Rc;

use eddy_vm::{Args, PyResult, Value, Vm};

use super::events::{self, Job};
use super::futures;
use super::native_coro::{self, CoroBody, Step};
use super::reactor;
use crate::util;

enum State {
    Start,
    /// `sleep(0)`: yielded once, returns on the next step.
    YieldedOnce,
    /// Waiting on `fut`; `cancelled` is the timer's flag.
    Waiting {
        fut: Value,
        cancelled: Rc<Cell<bool>>,
    },
}

struct Sleep {
    delay: f64,
    result: Value,
    state: State,
}

impl CoroBody for Sleep {
    fn send(&mut self, vm: &mut Vm, sent: Value) -> PyResult<Step> {
        match &self.state {
            State::Start if self.delay <= 0.0 => {
                self.state = State::YieldedOnce;
                Ok(Ok(Value::None))
            }
            State::Start => {
                let core = events::running_or_err(vm)?;
                let fut = futures::new_future();
                let cancelled = Rc::new(Cell::new(false));
                let job = Job::resolve(fut.clone(), self.result.clone(), cancelled.clone());
                core.push_timer(reactor::now() + self.delay, job);
                let step = futures::await_step(vm, &fut, Value::None);
                self.state = State::Waiting { fut, cancelled };
                step
            }
            State::YieldedOnce => Ok(Err(std::mem::take(&mut self.result))),
            State::Waiting { fut, cancelled } => {
                let r = futures::await_step(vm, fut, sent);
                if !matches!(r, Ok(Ok(_))) {
                    cancelled.set(true);
                }
                r
            }
        }
    }

    fn throw(&mut self, _vm: &mut Vm, exc: Value) -> PyResult<Step> {
        if let State::Waiting { cancelled, .. } = &self.state {
            cancelled.set(true);
        }
        Err(exc)
    }

    fn traverse(&self, f: &mut dyn FnMut(&Value)) {
        f(&self.result);
        if let State::Waiting { fut, .. } = &self.state {
            f(fut);
        }
    }
}

/// `asyncio.sleep(delay, result=None)`.
pub fn sleep(vm: &mut Vm, mut a: Args) -> PyResult<Value> {
    let result = util::arg(&mut a, 1, "result").unwrap_or(Value::None);
    let delay = util::arg(&mut a, 0, "delay")
        .ok_or_else(|| vm.type_error("sleep() missing 1 required positional argument: 'delay'"))?;
    util::no_kwargs(vm, "sleep", &a)?;
    if a.pos.len() > 2 {
        return Err(vm.type_error(format!(
            "sleep() takes from 1 to 2 positional arguments but {} were given",
            a.pos.len()
        )));
    }
    let delay = util::to_float(vm, &delay)?;
    Ok(native_coro::new(
        "sleep",
        Sleep {
            delay,
            result,
            state: State::Start,
        },
    ))
}
