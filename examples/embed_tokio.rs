//! Eddy inside a tokio application. The VM is `!Send`, so a `VmHandle` runs it on a thread of its
//! own; tokio tasks submit work and await results without blocking the runtime. The script's
//! async host function runs its Rust work on the tokio runtime (`Handle::spawn`) and awaits the
//! join handle, so tokio timers and sockets work inside it.
//! Run it with `cargo run --release --example embed_tokio`.

use std::time::Duration;

use eddy::{HostError, Vm, VmHandle};

const SCRIPT: &str = r#"
import asyncio

async def enrich(user_id):
    name, score = await asyncio.gather(lookup_name(user_id), lookup_score(user_id))
    return f"{name} scored {score}"
"#;

async fn serve() -> Result<(), eddy::Error> {
    let rt = tokio::runtime::Handle::current();
    let vm = VmHandle::spawn(move || {
        let mut vm = Vm::new();
        let names = rt.clone();
        vm.register_async_fn("lookup_name", move |id: i64| {
            let job = names.spawn(async move {
                tokio::time::sleep(Duration::from_millis(10)).await;
                format!("user{id}")
            });
            async move {
                job.await
                    .map_err(|e| HostError::runtime_error(e.to_string()))
            }
        });
        let scores = rt.clone();
        vm.register_async_fn("lookup_score", move |id: i64| {
            let job = scores.spawn(async move {
                tokio::time::sleep(Duration::from_millis(10)).await;
                id * 10
            });
            async move {
                job.await
                    .map_err(|e| HostError::runtime_error(e.to_string()))
            }
        });
        if let Err(e) = vm.run(SCRIPT) {
            eprintln!("{e}");
        }
        vm
    });

    // Many tokio tasks share the one VM; each awaits its own result.
    let vm = std::sync::Arc::new(vm);
    let mut requests = Vec::new();
    for id in 1..=5 {
        let vm = vm.clone();
        requests.push(tokio::spawn(async move {
            vm.call(move |vm| vm.run_async::<String>(&format!("enrich({id})")))
                .await?
        }));
    }
    for r in requests {
        let line = r.await.map_err(|e| eddy::Error::Host(e.to_string()))??;
        println!("{line}");
    }
    assert_eq!(vm.eval::<i64>("6 * 7").await?, 42);
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), eddy::Error> {
    serve().await
}

#[test]
fn example_runs() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(serve()).unwrap();
}
