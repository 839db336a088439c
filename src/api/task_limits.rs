//! Limits on one task the host spawns: its own fuel and deadline. Exceeding them ends that task
//! alone with `TaskFuelExhausted` or `TaskDeadlineExceeded`; its siblings go on.
//!
//! Fuel is charged by the tick hook to the task running at each check (checks come at least
//! every `CHARGE_INTERVAL` ticks while budgeted tasks exist, so a task switch misattributes at
//! most that many ticks). A deadline is kept two ways: the task runs under `asyncio.timeout`,
//! which cancels it while it awaits, and the hook raises in it while it computes.

use std::rc::Rc;
use std::time::{Duration, Instant};

use eddy_stdlib::asyncio::{events, futures};
use eddy_vm::objects::module::Module;
use eddy_vm::{PyResult, Value};

use super::convert::FromValue;
use super::limits::{limit_error, Limit, Shared};
use super::{RawVm, Vm};
use crate::Error;

/// Ticks between checks while a budgeted task exists.
const CHARGE_INTERVAL: u32 = 256;

/// The limits of one host-spawned task.
///
/// ```
/// use eddy::TaskLimits;
/// let mut vm = eddy::Vm::new();
/// vm.run("async def spin():\n    while True:\n        pass\nasync def quick():\n    return 7\n").unwrap();
/// let results = vm
///     .run_tasks::<i64>(&[("spin()", TaskLimits::new().fuel(10_000)), ("quick()", TaskLimits::new())])
///     .unwrap();
/// assert_eq!(results[0].as_ref().unwrap_err().limit(), Some(eddy::Limit::TaskFuel));
/// assert_eq!(*results[1].as_ref().unwrap(), 7);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct TaskLimits {
    /// Ticks the task may execute.
    pub fuel: Option<u64>,
    /// Wall-clock time the task may take.
    pub deadline: Option<Duration>,
}

impl TaskLimits {
    /// No limits.
    pub fn new() -> TaskLimits {
        TaskLimits::default()
    }
    /// Limits the task's instruction budget.
    pub fn fuel(mut self, ticks: u64) -> TaskLimits {
        self.fuel = Some(ticks);
        self
    }
    /// Limits the task's wall-clock time.
    pub fn deadline(mut self, d: Duration) -> TaskLimits {
        self.deadline = Some(d);
        self
    }
}

struct Budget {
    task: Value,
    fuel_left: Option<u64>,
    deadline: Option<Instant>,
}

/// The budgeted tasks of the current run.
#[derive(Default)]
pub(crate) struct TaskBudgets {
    entries: Vec<Budget>,
    /// `vm.ticks()` at the last charge.
    mark: u64,
}

impl TaskBudgets {
    pub(crate) fn clear(&mut self) {
        self.entries.clear();
    }
}

/// The hook's per-task part: charge the ticks since the last check to the running task and
/// raise in it if it is over budget.
pub(crate) fn check_current(vm: &mut RawVm, s: &Shared) -> PyResult<()> {
    let mut budgets = s.tasks.borrow_mut();
    if budgets.entries.is_empty() {
        return Ok(());
    }
    let now = vm.ticks();
    let used = now.saturating_sub(budgets.mark);
    budgets.mark = now;
    budgets.entries.retain(|b| !futures::is_done(&b.task));
    let current = events::running().and_then(|core| core.current_task.borrow().clone());
    let mut hit = None;
    let mut next = CHARGE_INTERVAL;
    if let Some(cur) = current {
        if let Some(b) = budgets.entries.iter_mut().find(|b| same(&b.task, &cur)) {
            if let Some(left) = &mut b.fuel_left {
                *left = left.saturating_sub(used);
                if *left == 0 {
                    hit = Some(Limit::TaskFuel);
                } else {
                    next = next.min((*left).min(u32::MAX as u64) as u32);
                }
            }
            if matches!(b.deadline, Some(d) if Instant::now() >= d) {
                hit = Some(Limit::TaskDeadline);
            }
        }
    }
    let any = !budgets.entries.is_empty();
    drop(budgets);
    if any {
        vm.request_tick_within(next);
    }
    match hit {
        Some(limit) => Err(limit_error(vm, limit)),
        None => Ok(()),
    }
}

fn same(a: &Value, b: &Value) -> bool {
    matches!((a, b), (Value::Instance(x), Value::Instance(y)) if Rc::ptr_eq(x, y))
}

/// The script half: each coroutine runs as a task under its deadline, registered with its fuel.
const RUNNER: &str = r#"
import asyncio

async def _limited(coro, secs):
    if secs is None:
        return await coro
    cm = asyncio.timeout(secs)
    try:
        async with cm:
            return await coro
    except TimeoutError:
        if cm.expired():
            raise TaskDeadlineExceeded("the task ran past its deadline") from None
        raise

async def _run(coros, limits):
    tasks = []
    for coro, (fuel, secs) in zip(coros, limits):
        task = asyncio.create_task(_limited(coro, secs))
        _register(task, fuel, secs)
        tasks.append(task)
    return await asyncio.gather(*tasks, return_exceptions=True)
"#;

impl Vm {
    /// Runs several coroutines (each an expression such as `"worker(1)"`) as tasks of one event
    /// loop, each under its own [`TaskLimits`], and returns each task's result. A task over its
    /// limits fails alone (`TaskFuelExhausted`, `TaskDeadlineExceeded`); the others go on.
    pub fn run_tasks<T: FromValue>(
        &mut self,
        tasks: &[(&str, TaskLimits)],
    ) -> Result<Vec<Result<T, Error>>, Error> {
        let mut coros = Vec::new();
        let mut limits = Vec::new();
        for (expr, l) in tasks {
            coros.push(self.eval_value(expr)?);
            let fuel = l.fuel.map_or(Value::None, |f| Value::Int(f as i64));
            let secs = l
                .deadline
                .map_or(Value::None, |d| Value::Float(d.as_secs_f64()));
            limits.push(Value::tuple(vec![fuel, secs]));
        }
        let module = Rc::new(Module::new("_eddy_tasks"));
        let shared = self.limits.shared.clone();
        let register = super::host_fn::native_value(
            "_register",
            Rc::new(move |vm: &mut RawVm, _name: &str, args: &[Value]| {
                add_budget(&shared, vm.ticks(), args);
                vm.request_tick_within(CHARGE_INTERVAL);
                Ok(Value::None)
            }),
        );
        module.set("_register", register);
        let results = self.guarded(move |raw| {
            eddy_vm::import::run_source_in(raw, &module, "<eddy.run_tasks>", RUNNER)?;
            let run = module.get("_run").unwrap_or(Value::None);
            let main = raw.call(&run, vec![Value::list(coros), Value::list(limits)])?;
            let asyncio = eddy_vm::import::import_module(raw, "asyncio")?;
            let asyncio_run = eddy_vm::attr::get_attr(raw, &asyncio, "run")?;
            raw.call(&asyncio_run, vec![main])
        })?;
        let items: Vec<Value> = self.convert(&results)?;
        Ok(items.iter().map(|v| self.task_result(v)).collect())
    }

    fn task_result<T: FromValue>(&mut self, v: &Value) -> Result<T, Error> {
        let base = self.raw.exc_class("BaseException");
        if self.raw.isinstance(v, &base) {
            return Err(Error::from_exception(&mut self.raw, v.clone()));
        }
        self.convert(v)
    }
}

fn add_budget(s: &Shared, ticks: u64, args: &[Value]) {
    let [task, fuel, secs] = args else { return };
    let fuel_left = match fuel {
        Value::Int(n) => Some((*n).max(0) as u64),
        _ => None,
    };
    let deadline = match secs {
        Value::Float(f) if f.is_finite() && *f >= 0.0 => {
            Some(Instant::now() + Duration::from_secs_f64(*f))
        }
        _ => None,
    };
    let mut budgets = s.tasks.borrow_mut();
    if budgets.entries.is_empty() {
        budgets.mark = ticks;
    }
    budgets.entries.push(Budget {
        task: task.clone(),
        fuel_left,
        deadline,
    });
}
