//! The embedding API (issue 6): conversions, host functions (plain and async), host modules
//! and types, calling scripts from Rust, globals, output capture, errors, the Send handle.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use eddy::{HostError, Obj, Vm};

fn vm() -> Vm {
    Vm::builder().capture_output().build()
}

#[test]
fn values_convert_both_ways() {
    let mut vm = vm();
    let mut m = HashMap::new();
    m.insert("a".to_string(), vec![1i64, 2]);
    vm.set_global("m", m).unwrap();
    vm.set_global("t", (1i64, "x", 2.5f64, true, None::<i64>))
        .unwrap();
    vm.run("r = (m['a'][1], t[1], t[2], t[3], t[4])").unwrap();
    let r: (i64, String, f64, bool, Option<i64>) = vm.get_global("r").unwrap();
    assert_eq!(r, (2, "x".into(), 2.5, true, None));
    let back: HashMap<String, Vec<i64>> = vm.get_global("m").unwrap();
    assert_eq!(back["a"], vec![1, 2]);
    let err = vm.eval::<i64>("2**64").unwrap_err();
    assert_eq!(err.exception_type(), Some("OverflowError"));
    assert_eq!(vm.eval::<u8>("255").unwrap(), 255);
    let err = vm.eval::<i64>("'no'").unwrap_err();
    assert_eq!(err.last_line(), "TypeError: expected int, got str");
}

#[test]
fn host_functions_check_and_convert_arguments() {
    let mut vm = vm();
    vm.register_fn("add", |a: i64, b: i64| a + b);
    vm.register_fn("join", |xs: Vec<String>, sep: String| xs.join(&sep));
    vm.register_fn("fail", |msg: String| -> Result<(), HostError> {
        Err(HostError::value_error(msg))
    });
    vm.register_fn("io", || -> Result<String, HostError> {
        Ok(std::fs::read_to_string("/definitely/not/here")?)
    });
    assert_eq!(vm.eval::<i64>("add(2, 40)").unwrap(), 42);
    assert_eq!(vm.eval::<String>("join(['a', 'b'], '+')").unwrap(), "a+b");
    let e = vm.run("add(1)").unwrap_err();
    assert_eq!(
        e.last_line(),
        "TypeError: add() takes 2 positional arguments but 1 was given"
    );
    let e = vm.run("add(1, 'x')").unwrap_err();
    assert_eq!(
        e.last_line(),
        "TypeError: add() argument 2 must be int, not str"
    );
    vm.run("try:\n    fail('bad')\nexcept ValueError as e:\n    caught = str(e)\n")
        .unwrap();
    assert_eq!(vm.get_global::<String>("caught").unwrap(), "bad");
    let e = vm.run("io()").unwrap_err();
    assert!(
        e.last_line().starts_with("FileNotFoundError: "),
        "{}",
        e.last_line()
    );
}

#[test]
fn scripts_call_back_into_rust_and_rust_into_scripts() {
    let mut vm = vm();
    vm.run("def apply(f, x):\n    return f(x) + 1\n").unwrap();
    vm.register_fn("triple", |x: i64| x * 3);
    let f = vm.global_value("apply").unwrap();
    let triple = vm.eval_value("triple").unwrap();
    let r: i64 = vm.call_value(&f, (triple, 4i64)).unwrap();
    assert_eq!(r, 13);
    vm.run(
        "async def slow(x):\n    import asyncio\n    await asyncio.sleep(0.01)\n    return x * 2\n",
    )
    .unwrap();
    assert_eq!(vm.call::<i64>("slow", (21i64,)).unwrap(), 42);
    assert_eq!(vm.call::<i64>("len", ("abc",)).unwrap(), 3);
}

#[test]
fn host_modules_and_types() {
    struct Account {
        balance: i64,
    }
    let mut vm = vm();
    vm.module("bank")
        .constant("CURRENCY", "EUR")
        .function("open", |n: i64| Obj(Account { balance: n }))
        .class::<Account>("Account", |c| {
            c.constructor(|n: i64| Obj(Account { balance: n }))
                .method("deposit", |a: &mut Account, n: i64| {
                    a.balance += n;
                    a.balance
                })
                .property(
                    "balance",
                    |a: &Account| a.balance,
                    Some(|a: &mut Account, v: i64| a.balance = v),
                )
        });
    vm.run(
        "import bank\na = bank.Account(5)\na.deposit(10)\nb = bank.open(1)\nb.balance = 7\nout = (a.balance, b.balance, bank.CURRENCY, type(a).__name__)\n",
    )
    .unwrap();
    let out: (i64, i64, String, String) = vm.get_global("out").unwrap();
    assert_eq!(out, (15, 7, "EUR".into(), "Account".into()));
}

#[test]
fn output_is_captured_and_errors_are_diagnostics() {
    let mut vm = vm();
    vm.run("import sys\nprint('out')\nprint('err', file=sys.stderr)")
        .unwrap();
    assert_eq!(vm.take_stdout(), "out\n");
    assert_eq!(vm.take_stderr(), "err\n");
    let err = vm.run("def f():\n    return 1 / 0\nf()\n").unwrap_err();
    let diag: &dyn miette::Diagnostic = &err;
    assert!(diag.labels().is_some());
    let std_err: &dyn std::error::Error = &err;
    assert_eq!(std_err.to_string(), "ZeroDivisionError: division by zero");
    let eddy::Error::Exception(u) = &err else {
        panic!("not an exception")
    };
    assert_eq!(u.frames.len(), 2);
    assert_eq!(u.frames[1].function, "f");
}

#[test]
fn ten_thousand_tasks_await_an_async_host_function() {
    let mut vm = vm();
    vm.register_async_fn("host_sleep", |ms: u64, x: i64| async move {
        async_io::Timer::after(Duration::from_millis(ms)).await;
        x
    });
    vm.run(
        "import asyncio\nasync def one(i):\n    return await host_sleep(50, i)\nasync def main(n):\n    rs = await asyncio.gather(*(asyncio.create_task(one(i)) for i in range(n)))\n    return sum(rs)\n",
    )
    .unwrap();
    let start = Instant::now();
    let total: i64 = vm.call("main", (10_000i64,)).unwrap();
    let took = start.elapsed();
    assert_eq!(total, (0..10_000).sum::<i64>());
    assert!(took < Duration::from_millis(900), "took {took:?}");
}

#[test]
fn cancelling_an_async_host_call_drops_its_future() {
    let mut vm = vm();
    vm.register_async_fn("forever", || async {
        futures_lite::future::pending::<()>().await;
    });
    vm.run(
        "import asyncio\nasync def main():\n    try:\n        async with asyncio.timeout(0.02):\n            await forever()\n    except TimeoutError:\n        return 'timed out'\n",
    )
    .unwrap();
    assert_eq!(vm.run_async::<String>("main()").unwrap(), "timed out");
}

#[test]
fn a_handle_runs_the_vm_on_its_own_thread() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<eddy::VmHandle>();
    let handle = eddy::VmHandle::spawn(|| {
        let mut vm = Vm::new();
        vm.register_fn("inc", |x: i64| x + 1);
        vm
    });
    let r = futures_lite::future::block_on(handle.eval::<i64>("inc(41)")).unwrap();
    assert_eq!(r, 42);
    let threads: Vec<_> = (0..4)
        .map(|i| {
            let h = &handle;
            std::thread::scope(|_| h.call_blocking(move |vm| vm.eval::<i64>(&format!("inc({i})"))))
        })
        .collect();
    assert_eq!(threads.len(), 4);
}

#[cfg(feature = "serde")]
#[test]
fn host_structs_convert_through_serde() {
    use eddy::Serde;
    #[derive(serde::Serialize, serde::Deserialize, Debug, PartialEq)]
    struct Order {
        id: u32,
        items: Vec<String>,
        note: Option<String>,
    }
    let mut vm = vm();
    vm.register_fn("total_items", |Serde(o): Serde<Order>| o.items.len());
    vm.register_fn("make", || {
        Serde(Order {
            id: 9,
            items: vec!["a".into()],
            note: None,
        })
    });
    assert_eq!(
        vm.eval::<i64>("total_items({'id': 1, 'items': ['x', 'y'], 'note': None})")
            .unwrap(),
        2
    );
    let back: Serde<Order> = vm.eval("make()").unwrap();
    assert_eq!(back.0.id, 9);
    assert_eq!(
        vm.eval::<String>("repr(make())").unwrap(),
        "{'id': 9, 'items': ['a'], 'note': None}"
    );
    let e = vm.run("total_items({'id': 'x'})").unwrap_err();
    assert_eq!(e.exception_type(), Some("TypeError"));
}
