//! The dispatch loop. `Vm::run` executes the frame on top of the frame stack until the frame that
//! was on top when it started (the entry frame) returns. Script calls push frames and the loop goes
//! on — no Rust recursion — so deep script recursion is bounded by `recursion_limit`, not by the
//! Rust stack. Arms are short; anything longer is a named function in `ops`, `call` or `attr`.

use std::cell::RefCell;
use std::rc::Rc;

use crate::code::{CallKind, Code};
use crate::frame::{Frame, FrameExtra, ReturnMode};
use crate::objects::function::{Args, Function};
use crate::objects::generator::{GenKind, GenState};
use crate::opcode::Instr;
use crate::ops;
use crate::value::{StrKey, Value};
use crate::vm::Vm;
use crate::PyResult;

/// What an out-of-line instruction asks the loop to do next.
enum Flow {
    /// Reload the top frame's state and go on.
    Continue,
    /// The entry frame is done: return this from `execute`.
    Return(Value),
}

/// What a CALL found it could do without recursing.
enum CallPlan {
    /// A frame was pushed; the loop continues in it.
    Pushed,
    /// The call completed natively with this result.
    Done(Value),
}

impl Vm {
    /// Runs until the entry frame (the top frame now) returns; see the module comment.
    pub fn run(&mut self) -> PyResult<Value> {
        let entry = self.frames.len();
        loop {
            match self.execute(entry) {
                Ok(v) => return Ok(v),
                // An exception escaped an instruction: find a handler in this run's frames.
                Err(exc) => self.unwind(exc, entry)?,
            }
        }
    }

    /// Looks for a handler for `exc`, popping frames down to (and including) the entry frame.
    /// Ok: a handler was found and the top frame will resume there. Err: the entry frame is gone.
    pub(crate) fn unwind(&mut self, exc: Value, entry: usize) -> Result<(), Value> {
        let reraising = std::mem::replace(&mut self.reraising, false);
        let mut first = true;
        let mut exc = exc;
        loop {
            let Some(frame) = self.frames.last_mut() else {
                return Err(exc);
            };
            let ip = frame.ip.saturating_sub(1);
            if !(first && reraising) {
                if let Value::Instance(inst) = &exc {
                    if let Some(data) = inst.exception() {
                        data.borrow_mut()
                            .traceback
                            .push(crate::objects::exception::TraceEntry {
                                code: frame.code.clone(),
                                ip,
                            });
                    }
                }
            }
            first = false;
            if let Some(h) = frame.code.handler_for(ip) {
                let depth = frame.base() + frame.code.nlocals() + h.depth as usize;
                frame.ip = h.target as usize;
                self.stack.truncate(depth);
                self.stack.push(exc);
                return Ok(());
            }
            let frame = self.frames.pop().unwrap();
            self.stack.truncate(frame.ret_sp());
            // The kind of generator frame this was: an inline-awaited coroutine has no object yet.
            let kind = match (frame.generator(), frame.mode) {
                (Some(gen), _) => {
                    self.leave_gen_exc(self.frames.len());
                    gen.inner.borrow_mut().state = GenState::Finished;
                    Some(gen.kind())
                }
                (None, ReturnMode::Await(_)) => Some(GenKind::Coroutine),
                (None, _) => None,
            };
            // PEP 479: a StopIteration escaping a generator becomes RuntimeError.
            let what = match kind {
                Some(GenKind::AsyncGenerator) if self.exc_matches(&exc, "StopAsyncIteration") => {
                    Some("async generator raised StopAsyncIteration")
                }
                Some(k) if self.exc_matches(&exc, "StopIteration") => Some(match k {
                    GenKind::Generator => "generator raised StopIteration",
                    GenKind::Coroutine => "coroutine raised StopIteration",
                    GenKind::AsyncGenerator => "async generator raised StopIteration",
                }),
                _ => None,
            };
            if let Some(what) = what {
                let new = self.error("RuntimeError", what);
                ops::set_cause(&new, exc.clone());
                exc = new;
            }
            if self.frames.len() < entry {
                return Err(exc);
            }
        }
    }

    /// The loop proper. Returns Ok when the entry frame returns; Err when an instruction raised
    /// (the top frame's `ip` is just past the raising instruction).
    fn execute(&mut self, entry: usize) -> PyResult<Value> {
        let mut fi = self.frames.len() - 1;
        // `code` borrows the top frame's code object without holding a reference count of its own
        // (a clone and drop per call and return was measurable). Every assignment below follows
        // the same argument:
        // SAFETY: the pointer comes from the `Rc<Code>` of frame `fi`, the top frame. That frame
        // keeps the code alive for as long as it is on the frame stack, and only this loop removes
        // it (Return and YieldValue pop it and reload before `code` is used again; nested runs
        // started by native code pop only the frames they pushed above it, see `unwind`). Moving
        // the `Frame` when `frames` grows does not move the heap `Code` the pointer targets.
        let mut code: &Code = unsafe { &*Rc::as_ptr(&self.frames[fi].code) };
        // The instruction slice, kept apart from `code` so its pointer and length stay in registers.
        let mut instrs: &[Instr] = &code.instrs;
        let mut ip = self.frames[fi].ip;
        let mut base = self.frames[fi].base();

        macro_rules! reload {
            () => {{
                fi = self.frames.len() - 1;
                // SAFETY: as for the first assignment of `code` above.
                code = unsafe { &*Rc::as_ptr(&self.frames[fi].code) };
                instrs = &code.instrs;
                ip = self.frames[fi].ip;
                base = self.frames[fi].base();
            }};
        }
        macro_rules! save {
            () => {
                self.frames[fi].ip = ip;
            };
        }
        macro_rules! pop {
            () => {
                self.stack.pop().unwrap_or_default()
            };
        }
        macro_rules! top {
            () => {
                self.stack.last().unwrap()
            };
        }
        macro_rules! tri {
            ($e:expr) => {
                match $e {
                    Ok(v) => v,
                    Err(e) => {
                        save!();
                        return Err(e);
                    }
                }
            };
        }
        // One tick of the eval breaker (breaker.rs). `resume` is where the frame goes on if a
        // hook switches frame stacks; an exception from the breaker is raised at the ticking
        // instruction itself (`ip` just past it), where the exception table covers it.
        macro_rules! tick {
            ($resume:expr) => {
                self.breaker.countdown -= 1;
                if self.breaker.countdown == 0 {
                    let raised_at = ip;
                    self.frames[fi].ip = $resume;
                    match self.breaker_fired() {
                        Ok(crate::breaker::Tick::Continue) => {}
                        Ok(crate::breaker::Tick::Reload) => {
                            reload!();
                            continue;
                        }
                        Err(e) => {
                            self.frames[fi].ip = raised_at;
                            return Err(e);
                        }
                    }
                }
            };
        }

        loop {
            let ins = instrs[ip];
            ip += 1;
            match ins {
                Instr::Nop => {}
                Instr::Pop => {
                    if let Some(v) = self.stack.pop() {
                        v.discard();
                    }
                    if crate::objects::generator::has_pending_close() {
                        save!();
                        self.close_dropped_generators();
                    }
                }
                Instr::Copy(n) => {
                    let v = self.stack[self.stack.len() - n as usize].clone();
                    self.stack.push(v);
                }
                Instr::Swap(n) => {
                    let len = self.stack.len();
                    self.stack.swap(len - 1, len - n as usize);
                }
                Instr::LoadConst(k) => self.stack.push(code.consts[k as usize].clone()),
                Instr::LoadFast(slot) => {
                    let v = &self.stack[base + slot as usize];
                    if v.is_null() {
                        save!();
                        return Err(self.unbound_local(code, slot));
                    }
                    let v = v.clone();
                    self.stack.push(v);
                }
                Instr::LoadFastLoadFast(ab) => {
                    let (a, b) = (ab & 0xffff, ab >> 16);
                    // `x op y` of two int locals: computed here, one dispatch instead of two.
                    if let Some(&(Instr::Binary(op) | Instr::InplaceBinary(op))) = instrs.get(ip) {
                        if let (&Value::Int(x), &Value::Int(y)) = (
                            &self.stack[base + a as usize],
                            &self.stack[base + b as usize],
                        ) {
                            if let Some(r) = int_fast_op(op, x, y) {
                                ip += 1;
                                self.stack.push(Value::Int(r));
                                continue;
                            }
                        }
                    }
                    let va = &self.stack[base + a as usize];
                    if va.is_null() {
                        save!();
                        return Err(self.unbound_local(code, a));
                    }
                    let va = va.clone();
                    self.stack.push(va);
                    let vb = &self.stack[base + b as usize];
                    if vb.is_null() {
                        save!();
                        return Err(self.unbound_local(code, b));
                    }
                    let vb = vb.clone();
                    self.stack.push(vb);
                }
                Instr::LoadFastBinaryConst(x) => {
                    // `locals[slot] op consts[k]`: operand is slot | op << 8 | k << 12.
                    let op = (x >> 8) & 15;
                    let k = &code.consts[(x >> 12) as usize];
                    // Results are pushed as a constant variant, so the tag and payload are stored
                    // straight into the slot (a value assembled in a temporary and copied as 16
                    // bytes stalls on store forwarding).
                    match (&self.stack[base + (x & 0xff) as usize], k) {
                        (&Value::Int(a), &Value::Int(b)) => {
                            if let Some(r) = int_fast_op(op, a, b) {
                                self.stack.push(Value::Int(r));
                                continue;
                            }
                        }
                        (&Value::Float(a), &Value::Float(b)) => {
                            if let Some(r) = float_fast_op(op, a, b) {
                                self.stack.push(Value::Float(r));
                                continue;
                            }
                        }
                        _ => {}
                    }
                    let v = &self.stack[base + (x & 0xff) as usize];
                    if v.is_null() {
                        save!();
                        return Err(self.unbound_local(code, x & 0xff));
                    }
                    let a = v.clone();
                    save!();
                    let r = tri!(ops::binary_op(self, &a, k, op as u8));
                    self.stack.push(r);
                }
                Instr::LoadFastCompareConst(x) => {
                    // `locals[slot] cmp consts[k]`: operand is slot | op << 8 | k << 11.
                    let op = (x >> 8) & 7;
                    let k = &code.consts[(x >> 11) as usize];
                    let v = &self.stack[base + (x & 0xff) as usize];
                    if let (Value::Int(a), Value::Int(b)) = (v, k) {
                        let r = compare_by_op(op, *a, *b);
                        match jump_after_compare(instrs, ip, r) {
                            Some(next) => ip = next,
                            None => self.stack.push(Value::Bool(r)),
                        }
                        continue;
                    }
                    if v.is_null() {
                        save!();
                        return Err(self.unbound_local(code, x & 0xff));
                    }
                    let a = v.clone();
                    save!();
                    let r = tri!(ops::compare(self, &a, k, op as u8));
                    self.stack.push(r);
                }
                Instr::StoreFast(slot) => {
                    let v = pop!();
                    let old = std::mem::replace(&mut self.stack[base + slot as usize], v);
                    // A suspended generator dropped here runs its `finally` now (CPython's
                    // refcounting would); only a generator's own drop is seen this early.
                    if matches!(old, Value::Generator(_)) {
                        drop(old);
                        save!();
                        self.close_if_dropped_generators();
                    } else {
                        old.discard();
                    }
                }
                Instr::LoadDeref(i) => {
                    let v = self.frames[fi].cells()[i as usize].borrow().clone();
                    if v.is_null() {
                        save!();
                        return Err(self.unbound_cell(code, i as usize));
                    }
                    self.stack.push(v);
                }
                Instr::StoreDeref(i) => {
                    let v = pop!();
                    *self.frames[fi].cells()[i as usize].borrow_mut() = v;
                }
                Instr::LoadGlobal(k) => {
                    // Fast path: the cached position of this name is valid while no module
                    // namespace has changed shape.
                    let cache = code.global_cache[k as usize].get();
                    if cache.epoch == crate::objects::module::epoch() {
                        let ns = if cache.in_builtins {
                            &self.builtins
                        } else {
                            &self.frames[fi].globals
                        };
                        let dict = ns.dict.borrow();
                        if let Some((_, v)) = dict.get_index(cache.index as usize) {
                            self.stack.push(v.clone());
                            continue;
                        }
                    }
                    let name = &code.names[k as usize];
                    let key = crate::value::StrRef(name);
                    let found = self.frames[fi]
                        .globals
                        .dict
                        .borrow()
                        .get_full(&key)
                        .map(|(i, _, v)| (i, v.clone()));
                    let v = match found {
                        Some((i, v)) => {
                            code.global_cache[k as usize].set(crate::code::GlobalCache {
                                epoch: crate::objects::module::epoch(),
                                index: i as u32,
                                in_builtins: false,
                            });
                            v
                        }
                        None => match self.builtins.dict.borrow().get_full(&key) {
                            Some((i, _, v)) => {
                                code.global_cache[k as usize].set(crate::code::GlobalCache {
                                    epoch: crate::objects::module::epoch(),
                                    index: i as u32,
                                    in_builtins: true,
                                });
                                v.clone()
                            }
                            None => {
                                save!();
                                return Err(self.name_error(name));
                            }
                        },
                    };
                    self.stack.push(v);
                }
                Instr::StoreGlobal(k) => {
                    let mut v = pop!();
                    let cache = code.global_cache[k as usize].get();
                    if cache.epoch == crate::objects::module::epoch() && !cache.in_builtins {
                        let stored = match self.frames[fi]
                            .globals
                            .dict
                            .borrow_mut()
                            .get_index_mut(cache.index as usize)
                        {
                            Some((_, slot)) => Ok(std::mem::replace(slot, v)),
                            None => Err(v),
                        };
                        match stored {
                            Ok(old) => {
                                // A suspended generator dropped here runs its `finally` now.
                                if matches!(old, Value::Generator(_)) {
                                    drop(old);
                                    save!();
                                    self.close_if_dropped_generators();
                                }
                                continue;
                            }
                            Err(back) => v = back,
                        }
                    }
                    let name = code.names[k as usize].clone();
                    self.frames[fi].globals.store(name, v);
                    save!();
                    self.close_if_dropped_generators();
                }
                Instr::LoadAttr(k) => {
                    let obj = pop!();
                    let name = code.names[k as usize].clone();
                    save!();
                    let v = tri!(crate::attr::get_attr(self, &obj, &name.s));
                    self.stack.push(v);
                }
                Instr::StoreAttr(k) => {
                    let obj = pop!();
                    let v = pop!();
                    let name = code.names[k as usize].clone();
                    save!();
                    tri!(crate::attr::set_attr(self, &obj, &name, v));
                }
                Instr::LoadMethod(k) => {
                    let obj = pop!();
                    let name = code.names[k as usize].clone();
                    save!();
                    // Fast path: a plain function on the class, not shadowed by the instance.
                    let cls = self.type_of(&obj);
                    let found = match &obj {
                        Value::Instance(i)
                            if !i.class.slots.get().has_getattribute
                                && !i.dict.borrow().contains_key(&*name.s) =>
                        {
                            cls.lookup_name(&name)
                        }
                        Value::Instance(_) | Value::Class(_) | Value::Module(_) => None,
                        _ => cls.lookup_name(&name),
                    };
                    match found {
                        Some(f @ (Value::Function(_) | Value::Native(_))) => {
                            self.stack.push(f);
                            self.stack.push(obj);
                        }
                        _ => {
                            let v = tri!(crate::attr::get_attr(self, &obj, &name.s));
                            self.stack.push(Value::Null);
                            self.stack.push(v);
                        }
                    }
                }
                Instr::BinarySubscr => {
                    let key = pop!();
                    let obj = pop!();
                    save!();
                    let v = tri!(ops::getitem(self, &obj, &key));
                    self.stack.push(v);
                }
                Instr::StoreSubscr => {
                    let key = pop!();
                    let obj = pop!();
                    let v = pop!();
                    save!();
                    tri!(ops::setitem(self, &obj, key, v));
                }
                Instr::Binary(op) | Instr::InplaceBinary(op) => {
                    // Fast path on the stack in place: both operands are immediates, so they are
                    // forgotten rather than dropped.
                    let len = self.stack.len();
                    match (&self.stack[len - 2], &self.stack[len - 1]) {
                        (&Value::Int(x), &Value::Int(y)) => {
                            if let Some(r) = int_fast_op(op, x, y) {
                                std::mem::forget(self.stack.pop());
                                std::mem::forget(std::mem::replace(
                                    &mut self.stack[len - 2],
                                    Value::Int(r),
                                ));
                                continue;
                            }
                        }
                        (&Value::Float(x), &Value::Float(y)) => {
                            if let Some(r) = float_fast_op(op, x, y) {
                                std::mem::forget(self.stack.pop());
                                std::mem::forget(std::mem::replace(
                                    &mut self.stack[len - 2],
                                    Value::Float(r),
                                ));
                                continue;
                            }
                        }
                        _ => {}
                    }
                    let b = pop!();
                    let a = pop!();
                    save!();
                    let v = if matches!(ins, Instr::Binary(_)) {
                        tri!(ops::binary_op(self, &a, &b, op as u8))
                    } else {
                        tri!(ops::inplace_op(self, &a, &b, op as u8))
                    };
                    self.stack.push(v);
                }
                Instr::Unary(op) => {
                    let a = pop!();
                    save!();
                    let v = tri!(ops::unary_op(self, &a, op as u8));
                    self.stack.push(v);
                }
                Instr::BinaryConst(op_k) => {
                    let op = op_k & 15;
                    let k = &code.consts[(op_k >> 4) as usize];
                    let top = self.stack.last_mut().unwrap();
                    match (&*top, k) {
                        (&Value::Int(x), &Value::Int(y)) => {
                            if let Some(r) = int_fast_op(op, x, y) {
                                std::mem::forget(std::mem::replace(top, Value::Int(r)));
                                continue;
                            }
                        }
                        (&Value::Float(x), &Value::Float(y)) => {
                            if let Some(r) = float_fast_op(op, x, y) {
                                std::mem::forget(std::mem::replace(top, Value::Float(r)));
                                continue;
                            }
                        }
                        _ => {}
                    }
                    let a = pop!();
                    let b = k.clone();
                    save!();
                    let v = tri!(ops::binary_op(self, &a, &b, op as u8));
                    self.stack.push(v);
                }
                Instr::CompareConst(op_k) => {
                    let op = op_k & 7;
                    let k = &code.consts[(op_k >> 3) as usize];
                    let top = self.stack.last_mut().unwrap();
                    if let (Value::Int(x), Value::Int(y)) = (&*top, k) {
                        let r = compare_by_op(op, *x, *y);
                        match jump_after_compare(instrs, ip, r) {
                            Some(next) => {
                                std::mem::forget(self.stack.pop());
                                ip = next;
                            }
                            None => std::mem::forget(std::mem::replace(top, Value::Bool(r))),
                        }
                        continue;
                    }
                    let a = pop!();
                    let b = k.clone();
                    save!();
                    let v = tri!(ops::compare(self, &a, &b, op as u8));
                    self.stack.push(v);
                }
                Instr::Compare(op) => {
                    let len = self.stack.len();
                    let fast = match (&self.stack[len - 2], &self.stack[len - 1]) {
                        (Value::Int(x), Value::Int(y)) => Some(compare_by_op(op, *x, *y)),
                        (Value::Float(x), Value::Float(y)) => Some(compare_by_op(op, *x, *y)),
                        _ => None,
                    };
                    if let Some(r) = fast {
                        // Both operands are immediates: forget them rather than drop them.
                        std::mem::forget(self.stack.pop());
                        match jump_after_compare(instrs, ip, r) {
                            Some(next) => {
                                std::mem::forget(self.stack.pop());
                                ip = next;
                            }
                            None => std::mem::forget(std::mem::replace(
                                &mut self.stack[len - 2],
                                Value::Bool(r),
                            )),
                        }
                        continue;
                    }
                    let b = pop!();
                    let a = pop!();
                    save!();
                    let v = tri!(ops::compare(self, &a, &b, op as u8));
                    self.stack.push(v);
                }
                Instr::IsOp(invert) => {
                    let b = pop!();
                    let a = pop!();
                    self.stack.push(Value::Bool(a.is(&b) != (invert != 0)));
                }
                Instr::ContainsOp(invert) => {
                    let container = pop!();
                    let item = pop!();
                    save!();
                    let r = tri!(ops::contains(self, &container, &item));
                    self.stack.push(Value::Bool(r != (invert != 0)));
                }
                Instr::BuildTuple(n) => {
                    let items = self.stack.split_off(self.stack.len() - n as usize);
                    self.stack.push(Value::tuple(items));
                }
                Instr::BuildList(n) => {
                    let items = self.stack.split_off(self.stack.len() - n as usize);
                    self.stack.push(Value::list(items));
                }
                Instr::ListAppend(n) => {
                    let v = pop!();
                    let len = self.stack.len();
                    if let Value::List(l) = &self.stack[len - n as usize] {
                        l.borrow_mut().push(v);
                    }
                }
                Instr::UnpackSequence(n) => {
                    let seq = pop!();
                    save!();
                    tri!(ops::unpack(self, seq, n as usize, None));
                }
                Instr::Jump(t) => {
                    tick!(t as usize);
                    ip = t as usize;
                }
                Instr::PopJumpIfFalse(t) => {
                    let v = pop!();
                    let b = match v {
                        Value::Bool(b) => b,
                        Value::Int(i) => i != 0,
                        _ => {
                            save!();
                            tri!(ops::truthy(self, &v))
                        }
                    };
                    if !b {
                        ip = t as usize;
                    }
                }
                Instr::PopJumpIfTrue(t) => {
                    let v = pop!();
                    let b = match v {
                        Value::Bool(b) => b,
                        Value::Int(i) => i != 0,
                        _ => {
                            save!();
                            tri!(ops::truthy(self, &v))
                        }
                    };
                    if b {
                        ip = t as usize;
                    }
                }
                Instr::JumpIfFalseOrPop(t) => {
                    save!();
                    let tv = top!().clone();
                    let b = tri!(ops::truthy(self, &tv));
                    if !b {
                        ip = t as usize;
                    } else {
                        self.stack.pop();
                    }
                }
                Instr::JumpIfTrueOrPop(t) => {
                    save!();
                    let tv = top!().clone();
                    let b = tri!(ops::truthy(self, &tv));
                    if b {
                        ip = t as usize;
                    } else {
                        self.stack.pop();
                    }
                }
                Instr::GetIter => {
                    let v = pop!();
                    save!();
                    let it = tri!(ops::get_iter(self, &v));
                    self.stack.push(it);
                }
                Instr::ForIter(t) => {
                    // `for i in range(...)`: step the range in place, no clone of the iterator.
                    let range_step = match self.stack.last() {
                        Some(Value::Iterator(r)) => match &mut *r.borrow_mut() {
                            crate::objects::iter::NativeIter::Range { next, stop, step } => {
                                let more =
                                    (*step > 0 && *next < *stop) || (*step < 0 && *next > *stop);
                                let v = *next;
                                if more {
                                    *next = next.saturating_add(*step);
                                }
                                Some(more.then_some(v))
                            }
                            _ => None,
                        },
                        _ => None,
                    };
                    if let Some(item) = range_step {
                        match item {
                            // The loop variable's StoreFast almost always follows: store it
                            // now, saving a dispatch and a push and pop.
                            Some(v) => match instrs.get(ip) {
                                Some(&Instr::StoreFast(slot)) => {
                                    ip += 1;
                                    std::mem::replace(
                                        &mut self.stack[base + slot as usize],
                                        Value::Int(v),
                                    )
                                    .discard();
                                }
                                _ => self.stack.push(Value::Int(v)),
                            },
                            None => {
                                self.stack.pop();
                                ip = t as usize;
                            }
                        }
                        continue;
                    }
                    let it = top!().clone();
                    if let Value::Generator(g) = &it {
                        if g.kind() == crate::objects::generator::GenKind::Generator {
                            save!();
                            match tri!(self.resume_generator(
                                g,
                                Value::None,
                                ReturnMode::ForIter(t)
                            )) {
                                Some(_) => {
                                    reload!();
                                }
                                None => {
                                    // Already finished.
                                    self.stack.pop();
                                    ip = t as usize;
                                }
                            }
                            continue;
                        }
                    }
                    save!();
                    match tri!(ops::iter_next(self, &it)) {
                        Some(v) => self.stack.push(v),
                        None => {
                            self.stack.pop();
                            ip = t as usize;
                        }
                    }
                }
                Instr::Return | Instr::ReturnFast(_) => {
                    tick!(ip - 1);
                    let result = match ins {
                        Instr::ReturnFast(slot) => {
                            // The frame's locals die with it: take the value instead of cloning.
                            let v = std::mem::take(&mut self.stack[base + slot as usize]);
                            if v.is_null() {
                                save!();
                                return Err(self.unbound_local(code, slot));
                            }
                            v
                        }
                        _ => match self.stack.last() {
                            // Rebuilt from its parts rather than moved as 16 bytes: it was usually
                            // just stored as a tag and a payload (see LoadFastBinaryConst).
                            Some(&Value::Int(i)) => {
                                std::mem::forget(self.stack.pop());
                                Value::Int(i)
                            }
                            _ => pop!(),
                        },
                    };
                    let Some(frame) = self.frames.pop() else {
                        return Ok(result);
                    };
                    // An ordinary call or an inline await (the caller's SEND index) returns here;
                    // the rest in `return_slow`.
                    let awaited = match frame.mode {
                        ReturnMode::Push if frame.extra.is_none() => None,
                        ReturnMode::Await(send_ip) if frame.extra.is_none() => Some(send_ip),
                        _ => match self.return_slow(frame, result, entry) {
                            Ok(Some(v)) => return Ok(v),
                            Ok(None) => {
                                reload!();
                                continue;
                            }
                            Err(e) => return Err(e),
                        },
                    };
                    // Drop the frame's slots and the callee; the result goes where the
                    // caller wants it, below.
                    discard_above(&mut self.stack, frame.ret_sp());
                    // Dropped field by field, as the generic frame destructor is an out-of-line
                    // call. `extra` was checked to be None above, and a frame returning in Push
                    // or Await mode never belongs to a generator object (resuming one sets
                    // Entry, ForIter or Send; adopting an inline await sets Send), so forgetting
                    // them leaks nothing.
                    debug_assert!(frame.generator.is_none());
                    let Frame {
                        code: frame_code,
                        globals,
                        extra,
                        generator,
                        ..
                    } = frame;
                    drop(frame_code);
                    drop(globals);
                    std::mem::forget(extra);
                    std::mem::forget(generator);
                    if self.frames.len() < entry {
                        self.stack.push(result);
                        return Ok(Value::None);
                    }
                    reload!();
                    if let Some(send_ip) = awaited {
                        // An inline await returned: continue past the caller's await loop.
                        if let Instr::Send(exit) = instrs[send_ip as usize] {
                            ip = exit as usize;
                        }
                    }
                    // `x = f(...)` (or `x = await f(...)`): store the result at once.
                    match instrs.get(ip) {
                        Some(&Instr::StoreFast(slot)) => {
                            ip += 1;
                            std::mem::replace(&mut self.stack[base + slot as usize], result)
                                .discard();
                        }
                        _ => self.stack.push(result),
                    }
                    if crate::objects::generator::has_pending_close() {
                        self.close_dropped_generators();
                    }
                }
                Instr::Call(argc) => {
                    // Fast path: a script function taking exactly these positional arguments.
                    // The arguments already sit where the callee's first locals go.
                    let at = self.stack.len() - argc as usize - 1;
                    if let Value::Function(f) = &self.stack[at] {
                        let mode = if f.code.call_kind == CallKind::Simple {
                            Some(ReturnMode::Push)
                        } else {
                            inline_await_mode(f.code.call_kind, instrs, ip)
                        };
                        if let Some(mode) = mode.filter(|_| {
                            f.code.argcount == argc && self.frames.len() < self.recursion_limit
                        }) {
                            let new_code = f.code.clone();
                            let globals = f.globals.clone();
                            let extra = if f.closure.is_empty() {
                                None
                            } else {
                                Some(Box::new(FrameExtra {
                                    cells: f.closure.clone(),
                                    ..Default::default()
                                }))
                            };
                            save!();
                            let nlocals = new_code.nlocals();
                            for _ in argc as usize..nlocals {
                                self.stack.push(Value::Null);
                            }
                            // SAFETY: `new_code` becomes the code of the frame pushed just below,
                            // the new top frame `fi`; see the first assignment of `code`.
                            code = unsafe { &*Rc::as_ptr(&new_code) };
                            instrs = &code.instrs;
                            push_frame_in_place(
                                &mut self.frames,
                                Frame {
                                    code: new_code,
                                    globals,
                                    ip: 0,
                                    base: (at + 1) as u32,
                                    ret_sp: at as u32,
                                    mode,
                                    extra,
                                    generator: None,
                                },
                            );
                            fi = self.frames.len() - 1;
                            ip = 0;
                            base = at + 1;
                            continue;
                        }
                    }
                    save!();
                    let callee_at = self.stack.len() - argc as usize - 1;
                    match tri!(self.call_at(callee_at, argc as usize, Vec::new())) {
                        CallPlan::Pushed => reload!(),
                        CallPlan::Done(v) => self.stack.push(v),
                    }
                }
                Instr::CallMethod(argc) => {
                    save!();
                    let len = self.stack.len();
                    let at = len - argc as usize - 2;
                    if self.stack[at].is_null() {
                        // Not a method: `NULL callable args...`.
                        self.stack.remove(at);
                        match tri!(self.call_at(at, argc as usize, Vec::new())) {
                            CallPlan::Pushed => reload!(),
                            CallPlan::Done(v) => self.stack.push(v),
                        }
                    } else {
                        match tri!(self.call_at(at, argc as usize + 1, Vec::new())) {
                            CallPlan::Pushed => reload!(),
                            CallPlan::Done(v) => self.stack.push(v),
                        }
                    }
                }
                _ => {
                    // Everything else runs out of line, which keeps this loop small enough for
                    // its state (`code`, `ip`, `base`) to stay in registers.
                    save!();
                    match self.exec_cold(ins) {
                        Ok(Flow::Continue) => reload!(),
                        Ok(Flow::Return(v)) => return Ok(v),
                        Err(e) => return Err(e),
                    }
                }
            }
        }
    }

    /// The instructions the hot loop leaves out: runs one with the top frame's `ip` already
    /// saved (just past `ins`), and leaves the new `ip` in the top frame for the loop to reload.
    #[inline(never)]
    fn exec_cold(&mut self, ins: Instr) -> PyResult<Flow> {
        let mut fi = self.frames.len() - 1;
        let mut code = self.frames[fi].code.clone();
        let mut ip = self.frames[fi].ip;
        let base = self.frames[fi].base();

        macro_rules! reload {
            () => {{
                fi = self.frames.len() - 1;
                code = self.frames[fi].code.clone();
                ip = self.frames[fi].ip;
            }};
        }
        macro_rules! save {
            () => {
                self.frames[fi].ip = ip;
            };
        }
        macro_rules! pop {
            () => {
                self.stack.pop().unwrap_or_default()
            };
        }
        macro_rules! top {
            () => {
                self.stack.last().unwrap()
            };
        }
        macro_rules! tri {
            ($e:expr) => {
                match $e {
                    Ok(v) => v,
                    Err(e) => {
                        save!();
                        return Err(e);
                    }
                }
            };
        }

        match ins {
            Instr::DeleteFast(slot) => {
                if self.stack[base + slot as usize].is_null() {
                    save!();
                    let name = code.varnames[slot as usize].s.to_string();
                    return Err(self.error("UnboundLocalError", format!("cannot access local variable '{name}' where it is not associated with a value")));
                }
                let old = std::mem::replace(&mut self.stack[base + slot as usize], Value::Null);
                drop(old);
                save!();
                self.close_if_dropped_generators();
            }
            Instr::DeleteDeref(i) => {
                let old = std::mem::replace(
                    &mut *self.frames[fi].cells()[i as usize].borrow_mut(),
                    Value::Null,
                );
                drop(old);
                save!();
                self.close_if_dropped_generators();
            }
            Instr::LoadClosure(i) => {
                let c = self.frames[fi].cells()[i as usize].clone();
                self.stack.push(Value::Cell(c));
            }
            Instr::DeleteGlobal(k) => {
                let name = &code.names[k as usize];
                if !self.frames[fi].globals.remove(&name.s) {
                    save!();
                    return Err(self.name_error(name));
                }
                save!();
                self.close_if_dropped_generators();
            }
            Instr::LoadName(k) => {
                let name = code.names[k as usize].clone();
                let mut found = None;
                if let Some(ns) = self.frames[fi].namespace() {
                    found = ns.borrow().get(&*name.s).cloned();
                }
                if found.is_none() {
                    found = self.frames[fi].globals.dict.borrow().get(&*name.s).cloned();
                }
                if found.is_none() {
                    found = self.builtins.dict.borrow().get(&*name.s).cloned();
                }
                match found {
                    Some(v) => self.stack.push(v),
                    None => {
                        save!();
                        return Err(self.name_error(&name));
                    }
                }
            }
            Instr::StoreName(k) => {
                let v = pop!();
                let name = code.names[k as usize].clone();
                match self.frames[fi].namespace() {
                    Some(ns) => {
                        ns.borrow_mut().insert(StrKey(name), v);
                    }
                    None => {
                        self.frames[fi].globals.store(name, v);
                    }
                }
                save!();
                self.close_if_dropped_generators();
            }
            Instr::DeleteName(k) => {
                let name = code.names[k as usize].clone();
                let removed = match self.frames[fi].namespace() {
                    Some(ns) => ns.borrow_mut().shift_remove(&*name.s).is_some(),
                    None => self.frames[fi].globals.remove(&name.s),
                };
                if !removed {
                    save!();
                    return Err(self.name_error(&name));
                }
                save!();
                self.close_if_dropped_generators();
            }
            Instr::DeleteAttr(k) => {
                let obj = pop!();
                let name = code.names[k as usize].clone();
                save!();
                tri!(crate::attr::del_attr(self, &obj, &name.s));
                drop(obj);
                self.close_if_dropped_generators();
            }
            Instr::DeleteSubscr => {
                let key = pop!();
                let obj = pop!();
                save!();
                tri!(ops::delitem(self, &obj, &key));
                drop((obj, key));
                self.close_if_dropped_generators();
            }
            Instr::BuildSlice(n) => {
                let step = if n == 3 { pop!() } else { Value::None };
                let stop = pop!();
                let start = pop!();
                self.stack
                    .push(Value::Slice(Rc::new(crate::objects::misc::Slice {
                        start,
                        stop,
                        step,
                    })));
            }
            Instr::BuildSet(n) => {
                let items = self.stack.split_off(self.stack.len() - n as usize);
                save!();
                let s = tri!(ops::new_set(self, items));
                self.stack.push(s);
            }
            Instr::BuildMap(n) => {
                let items = self.stack.split_off(self.stack.len() - 2 * n as usize);
                save!();
                let d = self.new_dict();
                let mut it = items.into_iter();
                while let (Some(k), Some(v)) = (it.next(), it.next()) {
                    tri!(ops::dict_set(self, &d, k, v));
                }
                self.stack.push(d);
            }
            Instr::BuildString(n) => {
                let items = self.stack.split_off(self.stack.len() - n as usize);
                let mut s = String::new();
                for i in &items {
                    if let Value::Str(p) = i {
                        s.push_str(&p.s);
                    }
                }
                self.stack.push(Value::string(s));
            }
            Instr::SetAdd(n) => {
                let v = pop!();
                let s = self.stack[self.stack.len() - n as usize].clone();
                save!();
                tri!(ops::set_add(self, &s, v));
            }
            Instr::MapAdd(n) => {
                let v = pop!();
                let k = pop!();
                let d = self.stack[self.stack.len() - n as usize].clone();
                save!();
                tri!(ops::dict_set(self, &d, k, v));
            }
            Instr::ListExtend(n) => {
                let v = pop!();
                let l = self.stack[self.stack.len() - n as usize].clone();
                save!();
                // `f(*x)` alone: the list is empty and becomes the call's arguments next.
                let sole_call_arg = matches!(code.instrs.get(ip), Some(Instr::ListToTuple))
                    && matches!(
                        code.instrs.get(ip + 1),
                        Some(Instr::CallEx(_) | Instr::BuildMap(0))
                    )
                    && matches!(&l, Value::List(x) if x.borrow().is_empty());
                let func = self
                    .stack
                    .len()
                    .checked_sub(n as usize + 1)
                    .filter(|_| sole_call_arg)
                    .map(|i| self.stack[i].clone());
                let items = match func {
                    Some(func) => tri!(ops::collect_star_call(self, &func, &v)),
                    None => tri!(ops::collect_star(self, &v)),
                };
                if let Value::List(l) = l {
                    let mut l = l.borrow_mut();
                    if l.is_empty() {
                        // The usual `f(*x)` and `[*x]`: adopt the items rather than copy them.
                        *l = items;
                    } else {
                        l.extend(items);
                    }
                }
            }
            Instr::SetUpdate(n) => {
                let v = pop!();
                let s = self.stack[self.stack.len() - n as usize].clone();
                save!();
                if let Some(d) = ops::set_data(&s) {
                    tri!(ops::set_update(self, &d, &v));
                }
            }
            Instr::DictUpdate(n) | Instr::DictMerge(n) => {
                let v = pop!();
                let d = self.stack[self.stack.len() - n as usize].clone();
                save!();
                if let Instr::DictMerge(_) = ins {
                    // Only calls merge: [func, args, kwargs] are on the stack.
                    let func = self.stack[self.stack.len() - n as usize - 2].clone();
                    tri!(ops::call_kwargs_merge(self, &func, &d, &v));
                } else {
                    // `{**x}` takes mappings only (a dict, or anything with keys()), unlike
                    // dict.update, which also takes pairs.
                    if ops::dict_of(&v).is_none()
                        && tri!(crate::attr::try_get_attr(self, &v, "keys")).is_none()
                    {
                        let msg = format!("'{}' object is not a mapping", self.type_name(&v));
                        return Err(self.type_error(msg));
                    }
                    tri!(ops::dict_update_from(self, &d, &v, false));
                }
            }
            Instr::ListToTuple => {
                let l = pop!();
                if let Value::List(l) = l {
                    let items = std::mem::take(&mut *l.borrow_mut());
                    self.stack.push(Value::tuple(items));
                }
            }
            Instr::UnpackEx(counts) => {
                let seq = pop!();
                save!();
                let before = (counts & 0xff) as usize;
                let after = (counts >> 8) as usize;
                tri!(ops::unpack(self, seq, before, Some(after)));
            }
            Instr::FormatValue(flags) => {
                let spec = if flags & 4 != 0 { Some(pop!()) } else { None };
                let v = pop!();
                save!();
                let s = tri!(ops::format_value(self, v, flags & 3, spec));
                self.stack.push(s);
            }
            Instr::ToBool => {
                let v = pop!();
                save!();
                let b = tri!(ops::truthy(self, &v));
                self.stack.push(Value::Bool(b));
            }
            Instr::CallKw(argc) => {
                save!();
                let names = pop!();
                let names: Vec<Value> = match &names {
                    Value::Tuple(t) => t.to_vec(),
                    _ => Vec::new(),
                };
                let nkw = names.len();
                let kwvals = self.stack.split_off(self.stack.len() - nkw);
                let kw = names
                    .into_iter()
                    .zip(kwvals)
                    .filter_map(|(k, v)| match k {
                        Value::Str(s) => Some((s, v)),
                        _ => None,
                    })
                    .collect();
                let npos = argc as usize - nkw;
                let callee_at = self.stack.len() - npos - 1;
                match tri!(self.call_at(callee_at, npos, kw)) {
                    CallPlan::Pushed => reload!(),
                    CallPlan::Done(v) => self.stack.push(v),
                }
            }
            Instr::CallEx(flags) => {
                save!();
                let kwargs = if flags & 1 != 0 { pop!() } else { Value::None };
                let args = pop!();
                let mut kw = Vec::new();
                if let Value::Dict(d) = &kwargs {
                    for (k, v) in d.borrow().items() {
                        match k {
                            Value::Str(s) => kw.push((s, v)),
                            _ => {
                                return Err(self.type_error("keywords must be strings"));
                            }
                        }
                    }
                }
                // The tuple is usually the call's own (built just before): take its items.
                let pos = match args {
                    Value::Tuple(t) => {
                        Rc::try_unwrap(t).map_or_else(|t| t.to_vec(), |t| t.0.into())
                    }
                    _ => Vec::new(),
                };
                if self.is_native_callee(self.stack.len() - 1) {
                    let callee = self.stack.pop().unwrap_or_default();
                    let v = tri!(self.call_native_unpacked(callee, pos, kw));
                    self.stack.push(v);
                } else {
                    let n = pos.len();
                    self.stack.extend(pos);
                    let callee_at = self.stack.len() - n - 1;
                    match tri!(self.call_at(callee_at, n, kw)) {
                        CallPlan::Pushed => reload!(),
                        CallPlan::Done(v) => self.stack.push(v),
                    }
                }
            }
            Instr::MakeFunction(flags) => {
                let code_v = pop!();
                let closure = if flags & 8 != 0 { pop!() } else { Value::None };
                let kwdefaults = if flags & 2 != 0 { pop!() } else { Value::None };
                let defaults = if flags & 1 != 0 { pop!() } else { Value::None };
                let f = self.make_function(&code_v, fi, defaults, kwdefaults, closure);
                self.stack.push(f);
            }
            Instr::BuildClass => {
                let kwargs = pop!();
                let bases = pop!();
                let name = pop!();
                let body = pop!();
                save!();
                let c = tri!(crate::call::build_class(
                    self, &body, &name, &bases, &kwargs
                ));
                self.stack.push(c);
            }
            Instr::Raise(kind) => {
                save!();
                let exc = match kind {
                    0 => {
                        if self.handled.is_none() {
                            return Err(
                                self.error("RuntimeError", "No active exception to reraise")
                            );
                        }
                        self.reraising = true;
                        self.handled.clone()
                    }
                    1 => {
                        let e = pop!();
                        tri!(ops::make_exception(self, e))
                    }
                    _ => {
                        let cause = pop!();
                        let e = pop!();
                        let e = tri!(ops::make_exception(self, e));
                        let cause = tri!(ops::make_cause(self, cause));
                        ops::set_cause(&e, cause);
                        e
                    }
                };
                ops::set_context(&exc, &self.handled);
                return Err(exc);
            }
            Instr::Reraise => {
                let exc = pop!();
                save!();
                self.reraising = true;
                return Err(exc);
            }
            Instr::PushExcInfo => {
                let exc = pop!();
                // A coroutine awaited inline shares its caller's state until it suspends; if
                // it suspends in this handler, the state to give back is `prev` (as for a
                // resumed generator, see `leave_gen_exc`).
                if matches!(self.frames[fi].mode, ReturnMode::Await(_)) {
                    let idx = fi as u32;
                    while self.gen_exc.last().is_some_and(|(i, _)| *i > idx) {
                        self.gen_exc.pop();
                    }
                    if self.gen_exc.last().is_none_or(|(i, _)| *i != idx) {
                        self.gen_exc.push((idx, self.handled.clone()));
                    }
                }
                let prev = std::mem::replace(&mut self.handled, exc.clone());
                self.stack.push(prev);
                self.stack.push(exc);
            }
            Instr::PopExcept => {
                let prev = pop!();
                if matches!(self.frames[fi].mode, ReturnMode::Await(_))
                    && self
                        .gen_exc
                        .last()
                        .is_some_and(|(i, v)| *i == fi as u32 && v.is(&prev))
                {
                    self.gen_exc.pop();
                }
                self.handled = prev;
            }
            Instr::CheckExcMatch => {
                let typ = pop!();
                save!();
                let e = top!().clone();
                let r = tri!(ops::exception_matches(self, &e, &typ));
                self.stack.push(Value::Bool(r));
            }
            Instr::CheckEgMatch => {
                let typ = pop!();
                let rest = pop!();
                save!();
                let (rest, matched) = tri!(crate::exceptions::split_group(self, rest, &typ));
                self.stack.push(rest);
                self.stack.push(matched);
            }
            Instr::PrepReraiseStar => {
                let list = pop!();
                let orig = pop!();
                let r = crate::exceptions::prep_reraise_star(self, &orig, &list);
                self.stack.push(r);
            }
            Instr::BeforeWith => {
                let ctx = pop!();
                save!();
                let enter = tri!(ops::special_method(
                    self,
                    &ctx,
                    "__enter__",
                    "the context manager protocol"
                ));
                let exit = tri!(ops::special_method(
                    self,
                    &ctx,
                    "__exit__",
                    "the context manager protocol"
                ));
                self.stack.push(exit);
                self.stack.push(enter);
            }
            Instr::BeforeAsyncWith => {
                let ctx = pop!();
                save!();
                let enter = tri!(ops::special_method(
                    self,
                    &ctx,
                    "__aenter__",
                    "the asynchronous context manager protocol"
                ));
                let exit = tri!(ops::special_method(
                    self,
                    &ctx,
                    "__aexit__",
                    "the asynchronous context manager protocol"
                ));
                self.stack.push(exit);
                self.stack.push(enter);
            }
            Instr::WithExceptArgs => {
                let exc = top!().clone();
                let t = Value::Class(self.type_of(&exc));
                self.stack.pop();
                self.stack.push(t);
                self.stack.push(exc);
                self.stack.push(Value::None);
            }
            Instr::AsyncGenWrap => {
                let v = pop!();
                let w = crate::builtins::wrap_async_gen_value(self, v);
                self.stack.push(w);
            }
            Instr::LoadAssertionError => {
                self.stack
                    .push(Value::Class(self.exc_class("AssertionError")));
            }
            Instr::YieldValue => {
                let v = pop!();
                let mut frame = self.frames.pop().unwrap();
                frame.ip = ip;
                // The frame's locals and operands move to the generator, into the buffer the
                // last resume emptied (no allocation per yield).
                let gen = match (frame.generator().cloned(), frame.mode) {
                    (Some(gen), _) => {
                        let mut inner = gen.inner.borrow_mut();
                        // Exact growth: a suspended coroutine keeps this buffer for as long as
                        // it waits, and doubling would leave a third of it unused.
                        inner.saved.reserve_exact(self.stack.len() - frame.base());
                        inner.saved.extend(self.stack.drain(frame.base()..));
                        drop(inner);
                        gen
                    }
                    (None, ReturnMode::Await(send_ip)) => {
                        let saved: Vec<Value> = self.stack.drain(frame.base()..).collect();
                        let gen = self.adopt_inline_coroutine(&mut frame, send_ip);
                        gen.inner.borrow_mut().saved = saved;
                        gen
                    }
                    (None, _) => unreachable!("yield outside generator frame"),
                };
                let mode = std::mem::replace(&mut frame.mode, ReturnMode::Push);
                // The suspended frame must not own its generator (a reference cycle); the
                // next resume sets it again.
                frame.generator = None;
                if let Some(own) = self.leave_gen_exc(self.frames.len()) {
                    frame.extra_mut().exc_state = Some(own);
                }
                {
                    let mut inner = gen.inner.borrow_mut();
                    inner.suspend(frame);
                    inner.state = GenState::Suspended;
                }
                match mode {
                    ReturnMode::Entry => {
                        self.gen_returned = false;
                        return Ok(Flow::Return(v));
                    }
                    _ => {
                        self.stack.push(v);
                        reload!();
                    }
                }
            }
            Instr::Send(t) => {
                let sent = pop!();
                let sub = top!().clone();
                save!();
                match &sub {
                    Value::Generator(g) => {
                        let g = g.clone();
                        match tri!(self.resume_generator(&g, sent, ReturnMode::Send(t))) {
                            Some(_) => reload!(),
                            None => {
                                // Finished before: behaves as returning None.
                                self.stack.pop();
                                self.stack.push(Value::None);
                                ip = t as usize;
                            }
                        }
                    }
                    _ => {
                        // A native awaitable steps itself; any other iterator (or awaitable
                        // object) has its methods called.
                        let step = match &sub {
                            Value::Instance(i) => i.class.native_send.get(),
                            _ => None,
                        };
                        let r = match step {
                            Some(step) => step(self, &sub, sent),
                            None => ops::send_to_iterator(self, &sub, sent),
                        };
                        match tri!(r) {
                            Ok(v) => self.stack.push(v),
                            Err(ret) => {
                                self.stack.pop();
                                self.stack.push(ret);
                                ip = t as usize;
                            }
                        }
                    }
                }
            }
            Instr::GetYieldFromIter => {
                let v = pop!();
                save!();
                let it = match v {
                    Value::Generator(_) => v,
                    other => tri!(ops::get_iter(self, &other)),
                };
                self.stack.push(it);
            }
            Instr::GetAwaitable => {
                let v = pop!();
                save!();
                let a = tri!(ops::get_awaitable(self, v));
                self.stack.push(a);
            }
            Instr::GetAiter => {
                let v = pop!();
                save!();
                let m = tri!(ops::special_method(self, &v, "__aiter__", "async for"));
                let it = tri!(self.call(&m, vec![]));
                self.stack.push(it);
            }
            Instr::GetAnext => {
                let it = top!().clone();
                save!();
                let m = tri!(ops::special_method(self, &it, "__anext__", "async for"));
                let aw = tri!(self.call(&m, vec![]));
                self.stack.push(aw);
            }
            Instr::EndAsyncFor => {
                let exc = pop!();
                if self.exc_matches(&exc, "StopAsyncIteration") {
                    self.stack.pop();
                } else {
                    save!();
                    self.reraising = true;
                    return Err(exc);
                }
            }
            Instr::ImportName(k) => {
                let name = code.names[k as usize].clone();
                save!();
                let m = tri!(crate::import::import_module(self, &name.s));
                self.stack.push(m);
            }
            Instr::ImportFrom(k) => {
                let name = code.names[k as usize].clone();
                let m = top!().clone();
                save!();
                let v = tri!(crate::import::import_from(self, &m, &name.s));
                self.stack.push(v);
            }
            Instr::ImportStar => {
                let m = pop!();
                let globals = self.frames[fi].globals.clone();
                tri!(crate::import::import_star(self, &m, &globals));
            }
            Instr::PrintExpr => {
                let v = pop!();
                if !v.is_none() {
                    save!();
                    let r = tri!(ops::repr(self, &v));
                    self.write_stdout(&r);
                    self.write_stdout("\n");
                    self.builtins.set("_", v);
                }
            }
            Instr::GenStopGuard => {}
            _ => {}
        }
        save!();
        let _ = (&code, base);
        Ok(Flow::Continue)
    }

    /// Returning from a frame that is not a plain call: a generator, an `__init__`, or the entry
    /// frame. Some(v): `execute` returns v. None: the loop goes on in the (new) top frame.
    #[inline(never)]
    fn return_slow(
        &mut self,
        frame: Frame,
        result: Value,
        entry: usize,
    ) -> PyResult<Option<Value>> {
        while self.stack.len() > frame.ret_sp() {
            if let Some(v) = self.stack.pop() {
                v.discard();
            }
        }
        if let Some(gen) = frame.generator() {
            self.leave_gen_exc(self.frames.len());
            gen.inner.borrow_mut().state = GenState::Finished;
            match frame.mode {
                ReturnMode::ForIter(t) => {
                    self.stack.pop();
                    if let Some(f) = self.frames.last_mut() {
                        f.ip = t as usize;
                    }
                }
                ReturnMode::Send(t) => {
                    self.stack.pop();
                    self.stack.push(result);
                    if let Some(f) = self.frames.last_mut() {
                        f.ip = t as usize;
                    }
                }
                ReturnMode::Entry => {
                    self.gen_returned = true;
                    return Ok(Some(result));
                }
                _ => {
                    self.stack.push(result);
                }
            }
            return Ok(None);
        }
        match frame.mode {
            ReturnMode::Push => self.stack.push(result),
            ReturnMode::Init => {
                // The instance is already on the stack, just below `ret_sp`.
                if !result.is_none() {
                    return Err(self.type_error(format!(
                        "__init__() should return None, not '{}'",
                        self.type_name(&result)
                    )));
                }
            }
            ReturnMode::Entry => return Ok(Some(result)),
            ReturnMode::ForIter(_) | ReturnMode::Send(_) => self.stack.push(result),
            ReturnMode::Await(send_ip) => {
                // The await is over: its result replaces the callee slot, past the await loop.
                self.stack.push(result);
                if let Some(caller) = self.frames.last_mut() {
                    if let Instr::Send(exit) = caller.code.instrs[send_ip as usize] {
                        caller.ip = exit as usize;
                    }
                }
            }
        }
        drop(frame);
        if self.frames.len() < entry {
            return Ok(Some(Value::None));
        }
        if crate::objects::generator::has_pending_close() {
            self.close_dropped_generators();
        }
        Ok(None)
    }

    #[cold]
    fn unbound_local(&self, code: &Code, slot: u32) -> Value {
        let name = code
            .varnames
            .get(slot as usize)
            .map(|n| n.s.to_string())
            .unwrap_or_default();
        self.error(
            "UnboundLocalError",
            format!(
                "cannot access local variable '{name}' where it is not associated with a value"
            ),
        )
    }

    /// After a `del`: a suspended generator it dropped runs its `finally` now, as under
    /// CPython's reference counting, not at the next statement's end.
    #[inline]
    fn close_if_dropped_generators(&mut self) {
        if crate::objects::generator::has_pending_close() {
            self.close_dropped_generators();
        }
    }

    /// Runs the `finally` blocks of generators that were dropped while suspended in a `try`.
    pub fn close_dropped_generators(&mut self) {
        crate::objects::generator::warn_unawaited(self);
        for p in crate::objects::generator::take_pending_close() {
            let gen = p.revive();
            if let Err(e) = crate::builtins::close_generator(self, &gen) {
                let what = format!(
                    "Exception ignored in: <generator object {} at 0x{:x}>\n",
                    gen.qualname().s,
                    Rc::as_ptr(&gen) as usize
                );
                let report = crate::traceback::format_exception(self, &e);
                self.write_stderr(&what);
                self.write_stderr(&report);
            }
        }
    }

    fn unbound_cell(&self, code: &crate::code::Code, i: usize) -> Value {
        let ncell = code.cellvars.len();
        if i < ncell {
            let name = &code.cellvars[i].s;
            self.error(
                "UnboundLocalError",
                format!(
                    "cannot access local variable '{name}' where it is not associated with a value"
                ),
            )
        } else {
            let name = &code.freevars[i - ncell].s;
            self.error("NameError", format!("cannot access free variable '{name}' where it is not associated with a value in enclosing scope"))
        }
    }

    fn make_function(
        &mut self,
        code_v: &Value,
        fi: usize,
        defaults: Value,
        kwdefaults: Value,
        closure: Value,
    ) -> Value {
        let Value::Code(code) = code_v else {
            return Value::None;
        };
        let defaults = match defaults {
            Value::Tuple(t) => t.to_vec(),
            _ => Vec::new(),
        };
        let kwdefaults = match kwdefaults {
            Value::Dict(d) => d
                .borrow()
                .items()
                .into_iter()
                .filter_map(|(k, v)| match k {
                    Value::Str(s) => Some((s, v)),
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        };
        let closure = match closure {
            Value::Tuple(t) => t
                .iter()
                .filter_map(|c| match c {
                    Value::Cell(c) => Some(c.clone()),
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        };
        let f = Function {
            code: code.clone(),
            globals: self.frames[fi].globals.clone(),
            defaults,
            kwdefaults,
            closure,
            name: RefCell::new(code.name.clone()),
            qualname: RefCell::new(code.qualname.clone()),
            dict: RefCell::new(Default::default()),
        };
        crate::gc::track_function(Rc::new(f))
    }

    /// Whether the callee at `stack[at]` runs as Rust code (a native, a built-in type, or a
    /// method bound to a native), which takes its arguments as a vector rather than a frame.
    fn is_native_callee(&self, at: usize) -> bool {
        match &self.stack[at] {
            Value::Native(_) => true,
            Value::Class(c) => !c.is_user,
            Value::BoundMethod(m) => matches!(m.func, Value::Native(_)),
            _ => false,
        }
    }

    /// Whether the instruction after the current call awaits its result.
    fn next_is_await(&self) -> bool {
        self.frames
            .last()
            .is_some_and(|f| matches!(f.code.instrs.get(f.ip), Some(Instr::GetAwaitable)))
    }

    /// `f(*args)` on a native callee (see `is_native_callee`): the unpacked arguments go to it
    /// as they are, with no copy onto the value stack and back (`gather(*tasks)` with 200k
    /// tasks would otherwise hold three copies of the list at once).
    fn call_native_unpacked(
        &mut self,
        callee: Value,
        mut pos: Vec<Value>,
        kw: Vec<(Rc<crate::value::PyStr>, Value)>,
    ) -> PyResult<Value> {
        let callee = match callee {
            Value::BoundMethod(m) => {
                pos.insert(0, m.receiver.clone());
                m.func.clone()
            }
            other => other,
        };
        if let Value::Native(n) = &callee {
            if !n.data.is_null() {
                pos.insert(0, n.data.clone());
            }
        }
        self.awaited_call = self.next_is_await();
        let r = self.call_native_args(callee, Args { pos, kw });
        self.awaited_call = false;
        r
    }

    /// Calls the value at `stack[at]` with the `npos` values above it plus `kw`.
    /// Script functions get a frame (Pushed); everything else runs now (Done).
    fn call_at(
        &mut self,
        at: usize,
        npos: usize,
        kw: Vec<(Rc<crate::value::PyStr>, Value)>,
    ) -> PyResult<CallPlan> {
        // Natives and built-in types take a shorter path (see `call_native_on_stack`).
        let native = self.is_native_callee(at);
        if native {
            if let Value::BoundMethod(m) = &self.stack[at] {
                // `obj.__aenter__` from `async with`: unbind it onto the stack.
                let (func, receiver) = (m.func.clone(), m.receiver.clone());
                self.stack[at] = func;
                self.stack.insert(at + 1, receiver);
            }
            // `await native(...)`: the native may hand back a lighter awaitable.
            self.awaited_call = self.next_is_await();
            let r = self.call_native_on_stack(at, kw);
            self.awaited_call = false;
            return r.map(CallPlan::Done);
        }
        let callee = self.stack[at].clone();
        match &callee {
            Value::Function(f) => {
                let f = f.clone();
                self.call_function_at(&f, at, at + 1, npos, kw, ReturnMode::Push)
            }
            Value::BoundMethod(m) if matches!(m.func, Value::Function(_)) => {
                let Value::Function(f) = &m.func else {
                    unreachable!()
                };
                let f = f.clone();
                // Put the receiver in the callee slot: it becomes the first argument.
                self.stack[at] = m.receiver.clone();
                self.call_function_at(&f, at, at, npos + 1, kw, ReturnMode::Push)
            }
            Value::Class(c)
                if c.is_user
                    && !matches!(c.kind, crate::objects::class::BuiltinKind::BaseException)
                    && !c
                        .lookup("__new__")
                        .map(|n| crate::call::is_script_new(&n))
                        .unwrap_or(false) =>
            {
                let c = c.clone();
                match c.lookup("__init__") {
                    Some(Value::Function(init))
                        if !(init.code.flags.generator
                            || init.code.flags.coroutine
                            || init.code.flags.async_generator) =>
                    {
                        // Subclasses of immutable built-ins (str, int...) get their value from the call's arguments.
                        let new_args = if c.kind == crate::objects::class::BuiltinKind::Object {
                            Args::default()
                        } else {
                            Args::new(self.stack[at + 1..at + 1 + npos].to_vec())
                        };
                        let inst = crate::call::new_instance(self, &c, &new_args)?;
                        // `inst inst args...`: the lower copy is the call's result, the upper one
                        // is `self` (the frame returns to just above the lower one).
                        self.stack[at] = inst.clone();
                        self.stack.insert(at + 1, inst);
                        return self.call_function_at(
                            &init,
                            at + 1,
                            at + 1,
                            npos + 1,
                            kw,
                            ReturnMode::Init,
                        );
                    }
                    _ => {}
                }
                let args = self.stack.split_off(at + 1);
                self.stack.pop();
                let v = crate::call::instantiate(self, &c, Args { pos: args, kw })?;
                Ok(CallPlan::Done(v))
            }
            _ => {
                let args = self.stack.split_off(at + 1);
                self.stack.pop();
                let v = self.call_args(&callee, Args { pos: args, kw })?;
                Ok(CallPlan::Done(v))
            }
        }
    }

    /// Pushes a frame for `f` whose arguments are `stack[args_at .. args_at + n]`.
    fn call_function_at(
        &mut self,
        f: &Rc<Function>,
        ret_sp: usize,
        args_at: usize,
        n: usize,
        kw: Vec<(Rc<crate::value::PyStr>, Value)>,
        mode: ReturnMode,
    ) -> PyResult<CallPlan> {
        let code = &f.code;
        let mut is_gen = code.flags.generator || code.flags.coroutine || code.flags.async_generator;
        let mut mode = mode;
        if code.flags.coroutine && mode == ReturnMode::Push {
            if let Some(send_ip) = self.awaited_call_site() {
                mode = ReturnMode::Await(send_ip);
                is_gen = false;
            }
        }
        // Fast path: exact positional arguments, no cells: the arguments become the locals in place.
        if kw.is_empty()
            && !is_gen
            && n == code.argcount as usize
            && !code.flags.varargs
            && !code.flags.varkw
            && code.kwonlyargcount == 0
            && code.cellvars.is_empty()
        {
            if self.frames.len() >= self.recursion_limit {
                self.stack.truncate(ret_sp);
                return Err(self.error("RecursionError", "maximum recursion depth exceeded"));
            }
            if args_at != ret_sp + 1 && args_at == ret_sp {
                // Receiver already in the callee slot: the arguments start at the slot itself.
            }
            let base = args_at;
            for _ in n..code.nlocals() {
                self.stack.push(Value::Null);
            }
            let mut frame = Frame::new(code.clone(), f.globals.clone(), base, ret_sp, mode);
            if !f.closure.is_empty() {
                frame.set_cells(f.closure.clone());
            }
            self.frames.push(frame);
            return Ok(CallPlan::Pushed);
        }
        if is_gen
            && kw.is_empty()
            && n == code.argcount as usize
            && !code.flags.varargs
            && !code.flags.varkw
            && code.kwonlyargcount == 0
        {
            // `gen(a, b)` with exactly its positional parameters: the arguments move into the
            // generator's locals as they are, with no binding pass.
            // Room for the operands too: a suspension saves them into this buffer.
            let mut locals = Vec::with_capacity(crate::call::generator_slots(code));
            locals.extend(self.stack.drain(args_at..));
            locals.resize(code.nlocals(), Value::Null);
            self.stack.truncate(ret_sp);
            return Ok(CallPlan::Done(self.generator_with_locals(f, locals)));
        }
        let pos = self.stack.split_off(args_at);
        self.stack.truncate(ret_sp);
        let args = Args { pos, kw };
        if is_gen {
            let g = self.make_generator(f, args)?;
            return Ok(CallPlan::Done(g));
        }
        self.push_function_frame(f, args, ret_sp, mode)?;
        Ok(CallPlan::Pushed)
    }
}

/// For the call fast path: `await f(...)` of a simple coroutine runs it inline (see
/// `ReturnMode::Await`). Out of line so that plain calls keep the loop's code tight.
#[inline(never)]
fn inline_await_mode(kind: CallKind, instrs: &[Instr], ip: usize) -> Option<ReturnMode> {
    match (kind, instrs.get(ip), instrs.get(ip + 2)) {
        (CallKind::SimpleCoroutine, Some(Instr::GetAwaitable), Some(Instr::Send(_))) => {
            Some(ReturnMode::Await(ip as u32 + 2))
        }
        _ => None,
    }
}

/// Int op Int without leaving the loop; None when the result needs the general path
/// (overflow to a big int, division by zero, float results, negative shifts).
#[inline(always)]
fn int_fast_op(op: u32, x: i64, y: i64) -> Option<i64> {
    match op {
        0 => x.checked_add(y),
        1 => x.checked_sub(y),
        2 => x.checked_mul(y),
        5 if y > 0 => Some(x.div_euclid(y)),
        6 if y > 0 => Some(x.rem_euclid(y)),
        10 => Some(x | y),
        11 => Some(x ^ y),
        12 => Some(x & y),
        _ => None,
    }
}

/// Float op Float for the operations that cannot raise.
#[inline(always)]
fn float_fast_op(op: u32, x: f64, y: f64) -> Option<f64> {
    match op {
        0 => Some(x + y),
        1 => Some(x - y),
        2 => Some(x * y),
        4 if y != 0.0 => Some(x / y),
        _ => None,
    }
}

/// Where execution goes after a comparison whose result is `r`, when a conditional jump follows
/// it (the common `if a < b:` shape): the jump is taken without storing the bool. None when the
/// next instruction is not a `PopJumpIf*`.
#[inline(always)]
fn jump_after_compare(instrs: &[Instr], ip: usize, r: bool) -> Option<usize> {
    match instrs.get(ip) {
        Some(&Instr::PopJumpIfFalse(t)) => Some(if r { ip + 1 } else { t as usize }),
        Some(&Instr::PopJumpIfTrue(t)) => Some(if r { t as usize } else { ip + 1 }),
        _ => None,
    }
}

/// Comparison of two ints or two floats by `CmpOp` index (Eq..GtE).
#[inline(always)]
fn compare_by_op<T: PartialOrd>(op: u32, x: T, y: T) -> bool {
    match op {
        0 => x == y,
        1 => x != y,
        2 => x < y,
        3 => x <= y,
        4 => x > y,
        _ => x >= y,
    }
}

/// Drops `stack[sp..]` (a returning frame's slots and callee), skipping the destructor call
/// for immediates; cheaper than popping them one by one.
#[inline(always)]
fn discard_above(stack: &mut Vec<Value>, sp: usize) {
    let len = stack.len();
    if sp >= len {
        return;
    }
    // SAFETY: the length is cut to `sp` first, so each value past it is read (moved out)
    // exactly once and is no longer reachable through the vector. Destructors run after the
    // cut and cannot reach the stack.
    unsafe {
        stack.set_len(sp);
        let p = stack.as_mut_ptr();
        for i in sp..len {
            std::ptr::read(p.add(i)).discard();
        }
    }
}

/// Pushes `frame` onto `frames`, writing its fields straight into the vector's buffer. A plain
/// `push` assembles the frame in a temporary with 8-byte stores and copies it with 16-byte loads,
/// which stall on store forwarding; this is on every script call.
#[inline(always)]
fn push_frame_in_place(frames: &mut Vec<Frame>, frame: Frame) {
    frames.reserve(1);
    let len = frames.len();
    let Frame {
        code,
        globals,
        ip,
        base,
        ret_sp,
        mode,
        extra,
        generator,
    } = frame;
    // SAFETY: `reserve(1)` leaves room for one more element, so `p` is in bounds of the
    // allocation, aligned for `Frame` and not part of the initialised prefix. Every field is
    // written (nothing in between can panic) before `set_len` makes the element visible, so no
    // partly initialised frame is ever read or dropped.
    unsafe {
        let p = frames.as_mut_ptr().add(len);
        std::ptr::addr_of_mut!((*p).code).write(code);
        std::ptr::addr_of_mut!((*p).globals).write(globals);
        std::ptr::addr_of_mut!((*p).ip).write(ip);
        std::ptr::addr_of_mut!((*p).base).write(base);
        std::ptr::addr_of_mut!((*p).ret_sp).write(ret_sp);
        std::ptr::addr_of_mut!((*p).mode).write(mode);
        std::ptr::addr_of_mut!((*p).extra).write(extra);
        std::ptr::addr_of_mut!((*p).generator).write(generator);
        frames.set_len(len + 1);
    }
}
