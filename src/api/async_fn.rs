//! Async Rust functions as awaitable script functions. Calling one converts the arguments,
//! builds the Rust future, and returns an `asyncio.Future`; the future is handed to the loop's
//! reactor (`asyncio/reactor.rs`), which polls it with a `Waker` when it is woken and never
//! blocks the loop on it. When it finishes, its output is converted on the loop thread and
//! resolves the asyncio Future, waking the awaiting task through the usual done callbacks.
//! Cancelling the asyncio Future (a timeout, a TaskGroup failing) drops the Rust future.
//!
//! The futures need not be `Send`: they are polled on the VM's thread. A future that needs a
//! particular runtime (tokio's timers or sockets) should run there and be awaited through its
//! join handle, as `examples/embed_tokio.rs` shows.

use std::future::Future;
use std::rc::Rc;

use eddy_stdlib::asyncio::futures::{self, Callback};
use eddy_stdlib::asyncio::reactor::{self, Completion};
use eddy_stdlib::asyncio::{events, streams};
use eddy_vm::{PyResult, Value};

use super::convert::FromValue;
use super::host_fn::{arg, arity_error, HostResult};
use super::RawVm;

/// An async Rust closure callable from scripts: `Fn(A, B, ..) -> impl Future<Output = R>`.
/// `Marker` is the tuple of argument types (it only tells arities apart).
pub trait AsyncHostFn<Marker>: 'static {
    /// Converts the arguments and starts the future; the result resolves an asyncio Future.
    fn start(&self, vm: &mut RawVm, name: &str, args: &[Value]) -> PyResult<Value>;
}

macro_rules! async_fn_impls {
    ($n:literal; $($a:ident $i:tt),*) => {
        impl<Func, Fut, $($a),*> AsyncHostFn<($($a,)*)> for Func
        where
            Func: Fn($($a),*) -> Fut + 'static,
            Fut: Future + 'static,
            Fut::Output: HostResult + 'static,
            $($a: FromValue,)*
        {
            #[allow(unused_variables)]
            fn start(&self, vm: &mut RawVm, name: &str, args: &[Value]) -> PyResult<Value> {
                if args.len() != $n {
                    return Err(arity_error(vm, name, $n, args.len()));
                }
                let fut = (self)($(arg::<$a>(vm, name, $i, &args[$i])?),*);
                spawn_awaitable(vm, fut)
            }
        }
    };
}

async_fn_impls!(0;);
async_fn_impls!(1; A 0);
async_fn_impls!(2; A 0, B 1);
async_fn_impls!(3; A 0, B 1, C 2);
async_fn_impls!(4; A 0, B 1, C 2, D 3);
async_fn_impls!(5; A 0, B 1, C 2, D 3, E 4);
async_fn_impls!(6; A 0, B 1, C 2, D 3, E 4, F 5);

/// Runs `fut` on the running loop's reactor and returns the asyncio Future of its result.
/// Outside a running loop (a plain call from synchronous code) this is CPython's RuntimeError.
pub fn spawn_awaitable<F>(vm: &mut RawVm, fut: F) -> PyResult<Value>
where
    F: Future + 'static,
    F::Output: HostResult + 'static,
{
    if events::running().is_none() {
        return Err(vm.error(
            "RuntimeError",
            "no running event loop: await async host functions inside a coroutine",
        ));
    }
    let target = futures::new_future();
    let settle_into = target.clone();
    let id = reactor::spawn(async move {
        let out = fut.await;
        let c: Completion = Box::new(move |vm: &mut RawVm| {
            let r = out.into_result(vm);
            streams::settle(vm, &settle_into, r)
        });
        c
    });
    // A cancelled Future no longer wants the result: drop the Rust future with it.
    futures::add_callback(
        vm,
        &target,
        Callback::Native(Rc::new(move |_vm, f| {
            if futures::is_cancelled(f) {
                reactor::cancel(id);
            }
            Ok(())
        })),
    )?;
    Ok(target)
}
