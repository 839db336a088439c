//! Limits of the embedding API (issue 6): each limit, exceeded once, stops the script with its
//! own error, and the same VM then runs another script correctly; the interrupt handle stops a
//! loop that never awaits within 10 ms; per-task limits stop one task while its sibling finishes.

use std::time::{Duration, Instant};

use eddy::{Limit, TaskLimits, Vm};

/// Runs `bad` (which must trip `limit`), then a good script on the same VM.
fn trips_then_recovers(vm: &mut Vm, bad: &str, limit: Limit) {
    let err = vm.run(bad).unwrap_err();
    assert_eq!(err.limit(), Some(limit), "{}", err.last_line());
    assert_eq!(
        err.exception_type(),
        Some(limit.exception_name()),
        "{}",
        err.last_line()
    );
    vm.run("def fib(n):\n    return n if n < 2 else fib(n - 1) + fib(n - 2)\nresult = fib(15)\n")
        .unwrap();
    assert_eq!(vm.get_global::<i64>("result").unwrap(), 610);
}

#[test]
fn fuel() {
    let mut vm = Vm::builder().fuel(200_000).build();
    trips_then_recovers(&mut vm, "while True:\n    pass\n", Limit::Fuel);
    // Scripts cannot swallow it: the next check raises again.
    let err = vm
        .run("n = 0\nwhile True:\n    try:\n        while True:\n            n += 1\n    except BaseException:\n        pass\n")
        .unwrap_err();
    assert_eq!(err.limit(), Some(Limit::Fuel));
}

#[test]
fn fuel_in_the_event_loop() {
    let mut vm = Vm::builder().fuel(100_000).build();
    trips_then_recovers(
        &mut vm,
        "import asyncio\nasync def spin():\n    while True:\n        await asyncio.sleep(0)\nasync def main():\n    async with asyncio.TaskGroup() as tg:\n        tg.create_task(spin())\n        tg.create_task(spin())\nasyncio.run(main())\n",
        Limit::Fuel,
    );
}

#[test]
fn heap() {
    let mut vm = Vm::builder().heap_limit(8 << 20).build();
    trips_then_recovers(
        &mut vm,
        "xs = []\nwhile True:\n    xs.append([len(xs)])\n",
        Limit::Heap,
    );
}

#[test]
fn call_depth() {
    let mut vm = Vm::builder().max_call_depth(50).build();
    trips_then_recovers(
        &mut vm,
        "def down(n):\n    return down(n + 1)\ndown(0)\n",
        Limit::CallDepth,
    );
}

#[test]
fn live_tasks() {
    let mut vm = Vm::builder().max_tasks(100).build();
    trips_then_recovers(
        &mut vm,
        "import asyncio\nasync def main():\n    ts = [asyncio.create_task(asyncio.sleep(1)) for _ in range(1000)]\nasyncio.run(main())\n",
        Limit::Tasks,
    );
    // Within the limit, tasks work.
    vm.run("import asyncio\nasync def main():\n    return sum(await asyncio.gather(*(asyncio.sleep(0, i) for i in range(50))))\nr = asyncio.run(main())\n")
        .unwrap();
    assert_eq!(vm.get_global::<i64>("r").unwrap(), 1225);
}

#[test]
fn deadline_while_computing_and_while_sleeping() {
    let mut vm = Vm::builder().deadline(Duration::from_millis(50)).build();
    let start = Instant::now();
    trips_then_recovers(&mut vm, "while True:\n    pass\n", Limit::Deadline);
    trips_then_recovers(
        &mut vm,
        "import asyncio\nasync def main():\n    await asyncio.sleep(30)\nasyncio.run(main())\n",
        Limit::Deadline,
    );
    assert!(start.elapsed() < Duration::from_secs(2));
}

/// How long `vm.run` of a busy loop takes to stop after another thread interrupts it.
fn interrupt_latency(vm: &mut Vm) -> Duration {
    let handle = vm.interrupt_handle();
    let (tx, rx) = std::sync::mpsc::channel();
    let stopper = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(50));
        let at = Instant::now();
        handle.interrupt();
        tx.send(at).unwrap();
    });
    let err = vm.run("while True:\n    pass\n").unwrap_err();
    let stopped = Instant::now();
    let asked = rx.recv().unwrap();
    stopper.join().unwrap();
    assert_eq!(err.limit(), Some(Limit::Interrupted));
    stopped.duration_since(asked)
}

#[test]
fn interrupt_stops_a_loop_that_never_awaits_within_10ms() {
    let mut vm = Vm::new();
    // The check itself comes within microseconds; on a loaded machine the OS may not run the
    // VM's thread at once, so the best of three attempts is what is held to 10 ms.
    let best = (0..3).map(|_| interrupt_latency(&mut vm)).min().unwrap();
    assert!(best < Duration::from_millis(10), "took {best:?}");
    vm.run("x = 1 + 1").unwrap();
    assert_eq!(vm.get_global::<i64>("x").unwrap(), 2);
}

#[test]
fn interrupt_wakes_a_sleeping_loop() {
    let mut vm = Vm::new();
    let handle = vm.interrupt_handle();
    let stopper = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(50));
        handle.interrupt();
    });
    let start = Instant::now();
    let err = vm
        .run(
            "import asyncio\nasync def main():\n    await asyncio.sleep(30)\nasyncio.run(main())\n",
        )
        .unwrap_err();
    stopper.join().unwrap();
    assert_eq!(err.limit(), Some(Limit::Interrupted));
    assert!(start.elapsed() < Duration::from_secs(2));
}

#[test]
fn per_task_fuel_stops_one_task_and_its_sibling_completes() {
    let mut vm = Vm::new();
    vm.run(
        "import asyncio\nasync def spin():\n    n = 0\n    while True:\n        n += 1\n        if n % 100 == 0:\n            await asyncio.sleep(0)\nasync def work():\n    total = 0\n    for i in range(2000):\n        total += i\n        if i % 100 == 0:\n            await asyncio.sleep(0)\n    return total\n",
    )
    .unwrap();
    let results = vm
        .run_tasks::<i64>(&[
            ("spin()", TaskLimits::new().fuel(20_000)),
            ("work()", TaskLimits::new().fuel(1_000_000)),
        ])
        .unwrap();
    let err = results[0].as_ref().unwrap_err();
    assert_eq!(err.limit(), Some(Limit::TaskFuel));
    assert_eq!(err.exception_type(), Some("TaskFuelExhausted"));
    assert_eq!(*results[1].as_ref().unwrap(), 1999000);
}

#[test]
fn per_task_deadline_stops_one_task_and_its_sibling_completes() {
    let mut vm = Vm::new();
    vm.run(
        "import asyncio\nasync def busy():\n    while True:\n        pass\nasync def sleepy():\n    await asyncio.sleep(30)\nasync def ok():\n    await asyncio.sleep(0.05)\n    return 5\n",
    )
    .unwrap();
    let limit = TaskLimits::new().deadline(Duration::from_millis(20));
    let start = Instant::now();
    let results = vm
        .run_tasks::<i64>(&[("sleepy()", limit), ("ok()", TaskLimits::new())])
        .unwrap();
    assert_eq!(
        results[0].as_ref().unwrap_err().limit(),
        Some(Limit::TaskDeadline)
    );
    assert_eq!(*results[1].as_ref().unwrap(), 5);
    // A task that never awaits is stopped by the tick hook instead.
    let results = vm
        .run_tasks::<i64>(&[("busy()", limit), ("ok()", TaskLimits::new())])
        .unwrap();
    assert_eq!(
        results[0].as_ref().unwrap_err().limit(),
        Some(Limit::TaskDeadline)
    );
    assert_eq!(*results[1].as_ref().unwrap(), 5);
    assert!(start.elapsed() < Duration::from_secs(2));
}
