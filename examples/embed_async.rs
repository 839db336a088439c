//! Async host functions: a Rust future (here a timer standing in for a database query) that
//! scripts await like any coroutine, orchestrated with the asyncio they know — gather, a
//! TaskGroup, a timeout. A thousand concurrent queries of 20 ms each take about 20 ms.
//! Run it with `cargo run --release --example embed_async`.

use std::time::{Duration, Instant};

const SCRIPT: &str = r#"
import asyncio

async def main():
    # A thousand lookups at once: the loop never blocks on any of them.
    rows = await asyncio.gather(*(query(f"user:{i}") for i in range(1000)))
    # A slow lookup under a timeout: the Rust future is dropped when it expires.
    try:
        async with asyncio.timeout(0.05):
            await slow_query("report")
    except TimeoutError:
        rows.append("report timed out")
    return rows
"#;

fn main() -> Result<(), eddy::Error> {
    let mut vm = eddy::Vm::new();
    vm.register_async_fn("query", |key: String| async move {
        async_io::Timer::after(Duration::from_millis(20)).await;
        format!("row for {key}")
    });
    vm.register_async_fn("slow_query", |key: String| async move {
        async_io::Timer::after(Duration::from_secs(10)).await;
        format!("row for {key}")
    });
    vm.run(SCRIPT)?;
    let start = Instant::now();
    let rows: Vec<String> = vm.run_async("main()")?;
    println!("{} rows in {:?}", rows.len(), start.elapsed());
    assert_eq!(rows.len(), 1001);
    assert_eq!(rows[999], "row for user:999");
    assert_eq!(rows[1000], "report timed out");
    assert!(start.elapsed() < Duration::from_secs(2));
    Ok(())
}

#[test]
fn example_runs() {
    main().unwrap();
}
