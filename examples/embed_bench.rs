//! The embedding benchmark of BENCHMARKS.md: a million calls of a registered Rust function from
//! a script loop against a million calls of an empty script function (and the bare loop, to
//! subtract). Run it with `cargo run --release --example embed_bench`; with a loop body as
//! argument (`embed_bench 'native_noop()'`) it runs only that loop once, for `perf stat`.

use std::time::{Duration, Instant};

const N: i64 = 1_000_000;

/// Best of five runs of `body` inside a `for` loop of N iterations.
fn time_loop(vm: &mut eddy::Vm, body: &str) -> Duration {
    let src = format!("def bench():\n    for i in range({N}):\n        {body}\n");
    vm.run(&src).unwrap();
    (0..5)
        .map(|_| {
            let start = Instant::now();
            vm.call::<()>("bench", ()).unwrap();
            start.elapsed()
        })
        .min()
        .unwrap_or_default()
}

fn main() {
    let mut vm = eddy::Vm::new();
    vm.register_fn("native_add", |a: i64, b: i64| a + b);
    vm.register_fn("native_noop", || ());
    vm.run("def script_noop():\n    pass\ndef script_add(a, b):\n    return a + b\n")
        .unwrap();
    if let Some(body) = std::env::args().nth(1) {
        vm.run(&format!("for i in range({N}):\n    {body}\n"))
            .unwrap();
        return;
    }
    let empty = time_loop(&mut vm, "pass");
    let rows = [
        ("native_noop()", "registered Rust fn, no arguments"),
        ("script_noop()", "empty script function"),
        ("native_add(i, 1)", "registered Rust fn (i64, i64) -> i64"),
        ("script_add(i, 1)", "script function a + b"),
    ];
    println!("| loop body (x{N}) | total | per call (loop subtracted) |");
    println!("| --- | ---: | ---: |");
    println!("| `pass` | {:.1} ms | |", empty.as_secs_f64() * 1e3);
    for (body, what) in rows {
        let t = time_loop(&mut vm, body);
        let per = (t.saturating_sub(empty)).as_secs_f64() * 1e9 / N as f64;
        println!(
            "| `{body}` ({what}) | {:.1} ms | {per:.1} ns |",
            t.as_secs_f64() * 1e3
        );
    }
}
