//! Sandbox and limits: an embedded VM touches nothing outside itself until the host grants it
//! (here: reading one directory), and runs under limits that stop runaway scripts with their
//! own errors while leaving the VM usable.
//! Run it with `cargo run --release --example embed_sandbox`.

use std::time::Duration;

use eddy::{Limit, Vm};

fn main() -> Result<(), eddy::Error> {
    let dir = std::env::temp_dir().join("eddy-embed-sandbox-example");
    std::fs::create_dir_all(&dir).map_err(|e| eddy::Error::Host(e.to_string()))?;
    let dir = dir.display().to_string();

    let mut vm = Vm::builder()
        .allow_read(&dir)
        .fuel(5_000_000)
        .max_call_depth(200)
        .deadline(Duration::from_secs(2))
        .capture_output()
        .build();

    // Granted: reading under `dir`. Not granted: anything else.
    vm.run(&format!("import os\nprint(os.path.isdir({dir:?}))"))?;
    let err = vm.run("import os\nos.listdir('/etc')").unwrap_err();
    println!("{}", err.last_line());
    assert!(err
        .last_line()
        .starts_with("PermissionError: read access to '/etc'"));

    // A runaway loop runs out of fuel; deep recursion hits the call-depth limit.
    let err = vm.run("while True:\n    pass").unwrap_err();
    assert_eq!(err.limit(), Some(Limit::Fuel));
    let err = vm.run("def f(n):\n    return f(n + 1)\nf(0)").unwrap_err();
    assert_eq!(err.limit(), Some(Limit::CallDepth));

    // Another thread can stop a script that never yields, within microseconds.
    let mut unlimited = Vm::new();
    let stop = unlimited.interrupt_handle();
    std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(20));
        stop.interrupt();
    });
    let err = unlimited.run("while True:\n    pass").unwrap_err();
    assert_eq!(err.limit(), Some(Limit::Interrupted));
    // Every VM stays usable after a limit stopped it.
    assert_eq!(vm.eval::<i64>("6 * 7")?, 42);
    Ok(())
}

#[test]
fn example_runs() {
    main().unwrap();
}
