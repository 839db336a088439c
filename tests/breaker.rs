//! The eval breaker seen through the embedding API: another thread interrupts a script stuck in
//! a loop with no await (or in recursion with no loop), the script can catch the resulting
//! KeyboardInterrupt, and the VM runs the next script normally.

use std::rc::Rc;
use std::time::{Duration, Instant};

use eddy_vm::breaker::Tick;

/// Runs `source` on `vm` while another thread interrupts it after `after`; returns the result
/// and how long the run took.
fn run_interrupted(
    vm: &mut eddy::RawVm,
    source: &str,
    after: Duration,
) -> (Result<(), eddy::Error>, Duration) {
    let handle = vm.interrupt_handle();
    let interrupter = std::thread::spawn(move || {
        std::thread::sleep(after);
        handle.interrupt();
    });
    let start = Instant::now();
    let result = eddy::run_source(vm, "<test>", source);
    let took = start.elapsed();
    interrupter
        .join()
        .expect("the interrupting thread panicked");
    (result, took)
}

#[test]
fn an_endless_loop_stops_soon_after_the_interrupt_and_can_catch_it() {
    let mut vm = eddy::new_vm();
    let script =
        "try:\n    while True:\n        pass\nexcept KeyboardInterrupt:\n    caught = True\n";
    let (result, took) = run_interrupted(&mut vm, script, Duration::from_millis(50));
    assert!(
        result.is_ok(),
        "the script should have caught the interrupt"
    );
    assert!(took < Duration::from_secs(2), "took {took:?}");
    let caught = vm
        .modules
        .get("__main__")
        .and_then(|m| match m {
            eddy::Value::Module(m) => m.get("caught"),
            _ => None,
        })
        .expect("`caught` was not set");
    assert!(matches!(caught, eddy::Value::Bool(true)));
    // The VM is still usable.
    assert!(eddy::run_source(&mut vm, "<next>", "x = sum(range(10))\n").is_ok());
}

#[test]
fn recursion_without_loops_is_interrupted_too() {
    let mut vm = eddy::new_vm();
    let script = "def fib(n):\n    return n if n < 2 else fib(n - 1) + fib(n - 2)\nfib(60)\n";
    let (result, took) = run_interrupted(&mut vm, script, Duration::from_millis(50));
    let err = result.expect_err("fib(60) cannot finish");
    assert!(
        err.to_string().contains("KeyboardInterrupt"),
        "unexpected error: {err}"
    );
    assert!(took < Duration::from_secs(2), "took {took:?}");
}

#[test]
fn a_tick_hook_sees_work_and_can_raise() {
    let mut vm = eddy::new_vm();
    let id = vm.add_tick_hook(Rc::new(|vm: &mut eddy::RawVm| {
        if vm.ticks() > 100_000 {
            Err(vm.error("RuntimeError", "out of fuel"))
        } else {
            Ok(Tick::Continue)
        }
    }));
    let err = eddy::run_source(&mut vm, "<fuel>", "for i in range(10**9):\n    pass\n")
        .expect_err("the hook should have stopped the loop");
    assert!(err.to_string().contains("out of fuel"), "{err}");
    vm.remove_tick_hook(id);
    assert!(eddy::run_source(&mut vm, "<after>", "for i in range(1000):\n    pass\n").is_ok());
}

/// A script that exercises every construct whose bytecode has jumps or returns inside handler
/// regions: try/except/else/finally, with, loops with break/continue, generators, comprehensions
/// and coroutines. Every tick (Jump or Return) is a point where the breaker may raise, and where
/// the exception table must therefore be right.
const HANDLER_HEAVY: &str = r#"
import asyncio

class CM:
    def __enter__(self):
        return self
    def __exit__(self, *exc):
        return False

def gen(n):
    try:
        for i in range(n):
            try:
                yield i
            except ValueError:
                continue
            finally:
                pass
    finally:
        pass

def work(n):
    total = 0
    for i in range(n):
        try:
            if i % 3 == 0:
                raise ValueError(i)
            total += i
        except ValueError as e:
            total -= 1
            if i % 7 == 0:
                continue
            if i % 11 == 0:
                return total
        except (TypeError, KeyError):
            pass
        else:
            total += 2
        finally:
            total += 1
        try:
            pass
        except* ValueError:
            pass
        with CM():
            while total % 5:
                total += 1
                if total % 13 == 0:
                    break
        total += sum(x for x in gen(3))
        total += len([y for y in range(i % 4)])
    return total

async def child(i):
    try:
        await asyncio.sleep(0)
        return work(i)
    except ValueError:
        return -1
    finally:
        pass

async def main():
    return sum(await asyncio.gather(*[child(i) for i in range(3)]))

work(12)
asyncio.run(main())
"#;

/// Runs HANDLER_HEAVY on a fresh VM with a hook that raises KeyboardInterrupt exactly at tick
/// `at` (never, for None); returns the ticks the run took.
fn run_raising_at(at: Option<u64>) -> (u64, bool) {
    let mut vm = eddy::new_vm();
    let start = vm.ticks();
    let raised = Rc::new(std::cell::Cell::new(false));
    let flag = raised.clone();
    if let Some(at) = at {
        let target = start + at;
        vm.request_tick_within(at as u32);
        vm.add_tick_hook(Rc::new(move |vm: &mut eddy::RawVm| {
            let now = vm.ticks();
            if now == target {
                flag.set(true);
                return Err(vm.error("KeyboardInterrupt", ""));
            }
            if now < target {
                vm.request_tick_within((target - now) as u32);
            }
            Ok(Tick::Continue)
        }));
    }
    // The outcome does not matter (the interrupt may escape); not panicking does.
    let _ = eddy::run_source(&mut vm, "<handlers>", HANDLER_HEAVY);
    (vm.ticks() - start, raised.get())
}

#[test]
fn raising_at_every_tick_never_panics() {
    let (total, _) = run_raising_at(None);
    assert!(total > 100, "the script took only {total} ticks");
    for at in 1..=total {
        let (_, raised) = run_raising_at(Some(at));
        assert!(raised, "no tick {at} of {total}");
    }
}
