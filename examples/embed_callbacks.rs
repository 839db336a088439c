//! Calling scripts from Rust: a script registers callbacks with the host (`on(event, fn)`),
//! the host later fires events and collects what the callbacks return; async callbacks are run
//! to completion on an event loop. Script functions are also called by name.
//! Run it with `cargo run --release --example embed_callbacks`.

use std::cell::RefCell;
use std::rc::Rc;

use eddy::{Value, Vm};

const SCRIPT: &str = r#"
import asyncio

def on_order(order):
    return f"order {order['id']}: {order['qty']} x {order['item']}"

async def on_refund(amount):
    await asyncio.sleep(0.01)
    return -amount

on("order", on_order)
on("refund", on_refund)

def total(xs):
    return sum(xs)
"#;

fn main() -> Result<(), eddy::Error> {
    let mut vm = Vm::new();
    // The host keeps the script's callbacks: plain `Rc` state, since the VM is single-threaded.
    let handlers: Rc<RefCell<Vec<(String, Value)>>> = Rc::default();
    let keep = handlers.clone();
    vm.register_fn("on", move |event: String, f: Value| {
        keep.borrow_mut().push((event, f));
    });
    vm.run(SCRIPT)?;

    let order = vm.eval_value("{'id': 7, 'qty': 2, 'item': 'tea'}")?;
    let callbacks = handlers.borrow().clone();
    for (event, f) in &callbacks {
        let reply: String = match event.as_str() {
            "order" => vm.call_value(f, (order.clone(),))?,
            _ => vm.call_value::<i64>(f, (30,))?.to_string(),
        };
        println!("{event}: {reply}");
    }
    assert_eq!(vm.call::<i64>("total", (vec![1, 2, 3],))?, 6);
    Ok(())
}

#[test]
fn example_runs() {
    main().unwrap();
}
