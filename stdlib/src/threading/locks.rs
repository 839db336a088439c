//! `_thread.lock` and `_thread.RLock`: the native locks every other `threading` primitive is
//! built from. A contended `acquire` blocks through the scheduler, so the holder (and every
//! other thread) runs until the lock is free.

use std::cell::Cell;
use std::rc::Rc;

use eddy_vm::objects::class::Class;
use eddy_vm::{Args, PyResult, Value, Vm};

use super::sched::{self, Wake};
use crate::native_state;
use crate::util;

pub struct LockState {
    locked: Rc<Cell<bool>>,
}
native_state!(LockState, |_s, _f| {}, |_c, _out| {});

pub struct RLockState {
    /// The owning thread's id (0: free) and how often it acquired.
    owner: Rc<Cell<u64>>,
    count: usize,
}
native_state!(RLockState, |_s, _f| {}, |_c, _out| {});

/// `acquire(blocking=True, timeout=-1)`'s arguments: the deadline to give up at, if any, or
/// None for "do not wait".
fn acquire_args(vm: &mut Vm, a: &mut Args) -> PyResult<Option<Option<f64>>> {
    let blocking = util::arg(a, 1, "blocking");
    let timeout = util::arg(a, 2, "timeout");
    let blocking = match blocking {
        Some(v) => eddy_vm::ops::truthy(vm, &v)?,
        None => true,
    };
    let timeout = match timeout {
        Some(v) => util::to_float(vm, &v)?,
        None => -1.0,
    };
    if !blocking && timeout != -1.0 {
        return Err(vm.value_error("can't specify a timeout for a non-blocking call"));
    }
    if timeout < 0.0 && timeout != -1.0 {
        return Err(vm.value_error("timeout value must be a non-negative number"));
    }
    if !blocking {
        return Ok(None);
    }
    Ok(Some(
        (timeout >= 0.0).then(|| crate::clock::monotonic() + timeout),
    ))
}

/// Waits until `free()` holds and takes the lock with `take`; false at the deadline.
fn wait_for(
    vm: &mut Vm,
    deadline: Option<f64>,
    free: Rc<dyn Fn() -> bool>,
    take: impl Fn(),
) -> bool {
    loop {
        if free() {
            take();
            return true;
        }
        if matches!(deadline, Some(d) if crate::clock::monotonic() >= d) {
            return false;
        }
        let f = free.clone();
        sched::block(vm, Wake::when(deadline, move || f()));
    }
}

fn lock_cell(vm: &Vm, v: &Value) -> PyResult<Rc<Cell<bool>>> {
    util::state(vm, v, "_thread.lock", |l: &mut LockState| l.locked.clone())
}

fn lock_acquire(vm: &mut Vm, mut a: Args) -> PyResult<Value> {
    let cell = lock_cell(vm, &a.pos[0])?;
    let wait = acquire_args(vm, &mut a)?;
    if !cell.get() {
        cell.set(true);
        return Ok(Value::Bool(true));
    }
    let Some(deadline) = wait else {
        return Ok(Value::Bool(false));
    };
    let c = cell.clone();
    let free: Rc<dyn Fn() -> bool> = Rc::new(move || !c.get());
    Ok(Value::Bool(wait_for(vm, deadline, free, || cell.set(true))))
}

fn lock_release(vm: &mut Vm, a: Args) -> PyResult<Value> {
    let cell = lock_cell(vm, &a.pos[0])?;
    if !cell.get() {
        return Err(vm.error("RuntimeError", "release unlocked lock"));
    }
    cell.set(false);
    Ok(Value::None)
}

fn lock_repr(vm: &mut Vm, a: Args) -> PyResult<Value> {
    let cell = lock_cell(vm, &a.pos[0])?;
    let state = if cell.get() { "locked" } else { "unlocked" };
    Ok(Value::string(format!(
        "<{state} _thread.lock object at {:#x}>",
        addr(&a.pos[0])
    )))
}

fn addr(v: &Value) -> usize {
    match v {
        Value::Instance(i) => Rc::as_ptr(i) as *const u8 as usize,
        _ => 0,
    }
}

pub fn lock_class(vm: &Vm) -> Rc<Class> {
    let cls = util::native_class(vm, "lock", "_thread", None, |vm, mut a| {
        let cls = util::new_cls(vm, &mut a)?;
        Ok(util::new_native(
            &cls,
            LockState {
                locked: Rc::new(Cell::new(false)),
            },
        ))
    });
    util::methods(
        vm,
        &cls,
        &[
            ("acquire", lock_acquire),
            ("acquire_lock", lock_acquire),
            ("__enter__", lock_acquire),
            ("release", lock_release),
            ("release_lock", lock_release),
            ("__exit__", lock_release),
            ("locked", |vm, a| {
                Ok(Value::Bool(lock_cell(vm, &a.pos[0])?.get()))
            }),
            ("__repr__", lock_repr),
            ("_at_fork_reinit", |vm, a| {
                lock_cell(vm, &a.pos[0])?.set(false);
                Ok(Value::None)
            }),
        ],
    );
    cls
}

// ---- RLock ----

fn rlock_parts(vm: &Vm, v: &Value) -> PyResult<(Rc<Cell<u64>>, usize)> {
    util::state(vm, v, "_thread.RLock", |l: &mut RLockState| {
        (l.owner.clone(), l.count)
    })
}

fn set_count(vm: &Vm, v: &Value, n: usize) -> PyResult<()> {
    util::state(vm, v, "_thread.RLock", |l: &mut RLockState| l.count = n)
}

fn rlock_acquire(vm: &mut Vm, mut a: Args) -> PyResult<Value> {
    let (owner, count) = rlock_parts(vm, &a.pos[0])?;
    let me = sched::current();
    if owner.get() == me {
        set_count(vm, &a.pos[0], count + 1)?;
        return Ok(Value::Bool(true));
    }
    let wait = acquire_args(vm, &mut a)?;
    let got = if owner.get() == 0 {
        owner.set(me);
        true
    } else if let Some(deadline) = wait {
        let o = owner.clone();
        let free: Rc<dyn Fn() -> bool> = Rc::new(move || o.get() == 0);
        wait_for(vm, deadline, free, || owner.set(me))
    } else {
        false
    };
    if got {
        set_count(vm, &a.pos[0], 1)?;
    }
    Ok(Value::Bool(got))
}

fn rlock_release(vm: &mut Vm, a: Args) -> PyResult<Value> {
    let (owner, count) = rlock_parts(vm, &a.pos[0])?;
    if owner.get() != sched::current() || count == 0 {
        return Err(vm.error("RuntimeError", "cannot release un-acquired lock"));
    }
    set_count(vm, &a.pos[0], count - 1)?;
    if count == 1 {
        owner.set(0);
    }
    Ok(Value::None)
}

/// `_release_save()`: releases completely (for Condition.wait); returns the state to restore.
fn rlock_release_save(vm: &mut Vm, a: Args) -> PyResult<Value> {
    let (owner, count) = rlock_parts(vm, &a.pos[0])?;
    if count == 0 {
        return Err(vm.error("RuntimeError", "cannot release un-acquired lock"));
    }
    let me = owner.replace(0);
    set_count(vm, &a.pos[0], 0)?;
    Ok(Value::tuple(vec![
        Value::Int(count as i64),
        Value::Int(me as i64),
    ]))
}

/// `_acquire_restore((count, owner))`.
fn rlock_acquire_restore(vm: &mut Vm, a: Args) -> PyResult<Value> {
    util::arity(vm, "_acquire_restore", &a, 2, 2)?;
    let (owner, _) = rlock_parts(vm, &a.pos[0])?;
    let count = match &a.pos[1] {
        Value::Tuple(t) if t.len() == 2 => util::to_i64(vm, &t[0])?.max(0) as usize,
        _ => return Err(vm.type_error("_acquire_restore() argument must be a tuple")),
    };
    let me = sched::current();
    let o = owner.clone();
    let free: Rc<dyn Fn() -> bool> = Rc::new(move || o.get() == 0);
    wait_for(vm, None, free, || owner.set(me));
    set_count(vm, &a.pos[0], count)?;
    Ok(Value::None)
}

fn rlock_repr(vm: &mut Vm, a: Args) -> PyResult<Value> {
    let (owner, count) = rlock_parts(vm, &a.pos[0])?;
    let state = if owner.get() != 0 {
        "locked"
    } else {
        "unlocked"
    };
    Ok(Value::string(format!(
        "<{state} _thread.RLock object owner={} count={count} at {:#x}>",
        owner.get(),
        addr(&a.pos[0])
    )))
}

pub fn rlock_class(vm: &Vm) -> Rc<Class> {
    let cls = util::native_class(vm, "RLock", "_thread", None, |vm, mut a| {
        let cls = util::new_cls(vm, &mut a)?;
        Ok(util::new_native(
            &cls,
            RLockState {
                owner: Rc::new(Cell::new(0)),
                count: 0,
            },
        ))
    });
    util::methods(
        vm,
        &cls,
        &[
            ("acquire", rlock_acquire),
            ("__enter__", rlock_acquire),
            ("release", rlock_release),
            ("__exit__", rlock_release),
            ("_release_save", rlock_release_save),
            ("_acquire_restore", rlock_acquire_restore),
            ("_is_owned", |vm, a| {
                let (owner, _) = rlock_parts(vm, &a.pos[0])?;
                Ok(Value::Bool(owner.get() == sched::current()))
            }),
            ("__repr__", rlock_repr),
        ],
    );
    cls
}
