//! Waiting for the line editor without stopping the event loop. The editor thread sends its
//! events over a channel; the session waits for the next one as an asyncio future resolved by
//! a native future on the reactor (`asyncio/reactor.rs`), so while the user types, the loop
//! runs timers, tasks and I/O exactly as it does inside `asyncio.run`.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;

use eddy_repl::reader::{Event, Sink};
use eddy_stdlib::asyncio::events::{self, LoopCore};
use eddy_stdlib::asyncio::{futures, reactor};
use eddy_vm::{PyResult, Value, Vm};

/// The receiving end of the editor's events.
pub struct Inbox {
    rx: async_channel::Receiver<Event>,
    /// The event the last receive delivered, until the session takes it.
    slot: Rc<RefCell<Option<Event>>>,
    /// The asyncio future of the receive in progress: at most one at a time, so no event is
    /// taken by a receive the session has stopped waiting for.
    waiting: Option<Value>,
}

/// A channel for the editor's events: the sink (for the editor thread) and the inbox.
pub fn channel() -> (Sink, Inbox) {
    let (tx, rx) = async_channel::unbounded();
    let sink: Sink = Arc::new(move |event| {
        let _ = tx.send_blocking(event);
    });
    let inbox = Inbox {
        rx,
        slot: Rc::new(RefCell::new(None)),
        waiting: None,
    };
    (sink, inbox)
}

impl Inbox {
    /// Runs the loop until the editor sends an event and returns it. An error is one a task or
    /// callback let escape the loop (SystemExit, KeyboardInterrupt); the receive stays pending
    /// for the next call.
    pub fn next(&mut self, vm: &mut Vm, core: &Rc<LoopCore>) -> PyResult<Event> {
        loop {
            if let Some(event) = self.slot.borrow_mut().take() {
                self.waiting = None;
                return Ok(event);
            }
            let fut = match &self.waiting {
                Some(f) => f.clone(),
                None => self.receive(),
            };
            events::run_until_complete(vm, core, &fut)?;
        }
    }

    /// Registers one receive with the reactor; its completion stores the event and resolves
    /// the returned future.
    fn receive(&mut self) -> Value {
        let fut = futures::new_future();
        let rx = self.rx.clone();
        let slot = self.slot.clone();
        let done = fut.clone();
        reactor::spawn(async move {
            // A closed channel means the editor thread is gone: as good as Ctrl-D.
            let event = rx.recv().await.unwrap_or(Event::Eof);
            let c: reactor::Completion = Box::new(move |vm: &mut Vm| {
                *slot.borrow_mut() = Some(event);
                futures::set_result(vm, &done, Value::None)
            });
            c
        });
        self.waiting = Some(fut.clone());
        fut
    }
}
