//! How many operands a generator frame holds when it suspends: a walk over the final
//! instructions with their stack effects, taking the deepest `YieldValue`.
//!
//! The answer sizes the buffer a new generator keeps its locals in (`Code::suspend_slots`), which
//! a suspension fills with the frame's operands too. A coroutine is usually made long before it
//! first suspends (`[work(i) for i in ...]`, then gathered), so the size cannot be learned from
//! earlier suspensions alone. It is a hint only: a wrong answer costs a reallocation or a few
//! spare bytes, never correctness.

use crate::code::ExceptionEntry;
use crate::opcode::Instr;

/// The most operands (beyond the locals) on the stack at any `YieldValue` of `instrs`, the
/// yielded value excluded. Each instruction is visited once, at the first depth found for it
/// (the compiler keeps depths consistent where paths join).
pub fn suspend_operands(instrs: &[Instr], handlers: &[ExceptionEntry]) -> u32 {
    let mut depth_at: Vec<Option<i32>> = vec![None; instrs.len()];
    let mut work: Vec<(usize, i32)> = vec![(0, 0)];
    // An exception handler starts with its region's depth and the exception pushed.
    work.extend(
        handlers
            .iter()
            .map(|h| (h.target as usize, h.depth as i32 + 1)),
    );
    let mut deepest = 0;
    while let Some((at, depth)) = work.pop() {
        let Some(ins) = instrs.get(at) else {
            continue;
        };
        if depth_at[at].is_some() {
            continue;
        }
        depth_at[at] = Some(depth);
        if matches!(ins, Instr::YieldValue) {
            deepest = deepest.max(depth - 1);
        }
        let next = at + 1;
        match *ins {
            Instr::Return | Instr::ReturnFast(_) | Instr::Raise(_) | Instr::Reraise => {}
            Instr::Jump(t) => work.push((t as usize, depth)),
            Instr::PopJumpIfFalse(t) | Instr::PopJumpIfTrue(t) => {
                work.push((t as usize, depth - 1));
                work.push((next, depth - 1));
            }
            // The jump keeps the tested value; falling through pops it.
            Instr::JumpIfFalseOrPop(t) | Instr::JumpIfTrueOrPop(t) => {
                work.push((t as usize, depth));
                work.push((next, depth - 1));
            }
            // Exhausted: the iterator is popped.
            Instr::ForIter(t) => {
                work.push((t as usize, depth - 1));
                work.push((next, depth + 1));
            }
            // The sub-iterator returned: `sub v -> result`.
            Instr::Send(t) => {
                work.push((t as usize, depth - 1));
                work.push((next, depth));
            }
            _ => work.push((next, depth + ins.stack_effect())),
        }
    }
    deepest.max(0) as u32
}

#[cfg(test)]
mod tests {
    use super::*;
    use Instr::*;

    /// `async def f(ev, i): await ev.wait(); return i`, as compiled.
    const AWAIT_STATEMENT: &[Instr] = &[
        LoadFast(0),
        LoadMethod(0),
        CallMethod(0),
        GetAwaitable,
        LoadConst(0),
        Send(8),
        YieldValue,
        Jump(5),
        Pop,
        ReturnFast(1),
        LoadConst(0),
        Return,
    ];

    #[test]
    fn an_await_keeps_the_awaitable() {
        assert_eq!(suspend_operands(AWAIT_STATEMENT, &[]), 1);
    }

    #[test]
    fn an_await_in_a_for_loop_keeps_the_iterator_too() {
        // for x in xs: await x
        let instrs = [
            LoadFast(0),
            GetIter,
            ForIter(12),
            StoreFast(1),
            LoadFast(1),
            GetAwaitable,
            LoadConst(0),
            Send(10),
            YieldValue,
            Jump(7),
            Pop,
            Jump(2),
            LoadConst(0),
            Return,
        ];
        assert_eq!(suspend_operands(&instrs, &[]), 2);
    }

    #[test]
    fn a_handler_starts_at_its_depth_plus_the_exception() {
        // A yield reachable only from a handler whose region keeps one value.
        let instrs = [LoadConst(0), Return, LoadConst(0), YieldValue, Return];
        let handler = ExceptionEntry {
            start: 0,
            end: 1,
            target: 2,
            depth: 1,
        };
        assert_eq!(suspend_operands(&instrs, &[handler]), 2);
    }

    #[test]
    fn a_plain_function_has_nothing_to_save() {
        assert_eq!(suspend_operands(&[LoadConst(0), Return], &[]), 0);
    }
}
