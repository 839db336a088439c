//! The ten-line embedding example: a Rust function scripts call, a script, a result back.
//! Run it with `cargo run --release --example embed_basic`.

fn main() -> Result<(), eddy::Error> {
    let mut vm = eddy::Vm::new();
    vm.register_fn("greet", |name: String| format!("Hello, {name}!"));
    vm.set_global("names", vec!["Ada", "Grace"])?;
    vm.run("messages = [greet(n) for n in names]\nprint(*messages, sep='\\n')")?;
    let messages: Vec<String> = vm.get_global("messages")?;
    assert_eq!(messages, ["Hello, Ada!", "Hello, Grace!"]);
    Ok(())
}

#[test]
fn example_runs() {
    main().unwrap();
}
