//! [`Builder`]: how a host sets up a [`Vm`] — the capabilities scripts get (none by default),
//! the limits they run under, where their output goes, and virtual time.

use std::time::Duration;

use eddy_vm::sandbox::{Capability, Sandbox};
use eddy_vm::vm::OutputSink;

use super::limits::{LimitState, Limits};
use super::output::Captured;
use super::Vm;

/// Where output goes.
enum Output {
    Process,
    Capture,
    Sink(Box<dyn OutputSink>),
}

/// Settings for a new [`Vm`].
///
/// ```
/// use std::time::Duration;
/// let mut vm = eddy::Vm::builder()
///     .allow_read("/tmp")
///     .allow_env("HOME")
///     .fuel(1_000_000)
///     .deadline(Duration::from_secs(5))
///     .capture_output()
///     .build();
/// vm.run("print('hello')").unwrap();
/// assert_eq!(vm.take_stdout(), "hello\n");
/// ```
pub struct Builder {
    sandbox: Option<Sandbox>,
    limits: Limits,
    output: Output,
    virtual_time: bool,
}

impl Default for Builder {
    fn default() -> Self {
        Builder::new()
    }
}

impl Builder {
    /// A sandboxed VM (no capabilities), no limits, output to the process's stdout/stderr.
    pub fn new() -> Builder {
        Builder {
            sandbox: Some(Sandbox::deny_all()),
            limits: Limits::default(),
            output: Output::Process,
            virtual_time: false,
        }
    }

    /// Grants `cap`, for `scope` only (a directory, `host:port`, a program, a variable name)
    /// or, with `None`, everywhere.
    pub fn allow(mut self, cap: Capability, scope: Option<&str>) -> Builder {
        if let Some(s) = &mut self.sandbox {
            s.grant_mut(cap).add(scope);
        }
        self
    }

    /// Grants everything: no sandbox at all (as the `eddy` command runs scripts).
    pub fn allow_all(mut self) -> Builder {
        self.sandbox = None;
        self
    }

    /// Replaces the whole capability set.
    pub fn sandbox(mut self, sandbox: Sandbox) -> Builder {
        self.sandbox = Some(sandbox);
        self
    }

    /// Reading files and directories under `dir`.
    pub fn allow_read(self, dir: &str) -> Builder {
        self.allow(Capability::Read, Some(dir))
    }
    /// Creating, changing and deleting files and directories under `dir`.
    pub fn allow_write(self, dir: &str) -> Builder {
        self.allow(Capability::Write, Some(dir))
    }
    /// Connecting to and listening on `host:port` (`*` for any host or port; no port: any).
    pub fn allow_net(self, pattern: &str) -> Builder {
        self.allow(Capability::Connect, Some(pattern))
            .allow(Capability::Listen, Some(pattern))
    }
    /// Running the program `prog` (a name, or a path).
    pub fn allow_run(self, prog: &str) -> Builder {
        self.allow(Capability::Run, Some(prog))
    }
    /// Reading and setting the environment variable `name` (`PREFIX*` for a prefix).
    pub fn allow_env(self, name: &str) -> Builder {
        self.allow(Capability::Env, Some(name))
    }

    /// Every limit at once.
    pub fn limits(mut self, limits: Limits) -> Builder {
        self.limits = limits;
        self
    }
    /// The instruction budget of each run, in ticks (loop iterations and returns).
    pub fn fuel(mut self, ticks: u64) -> Builder {
        self.limits.fuel = Some(ticks);
        self
    }
    /// Approximately how many bytes a run may allocate (see [`CountingAllocator`](crate::CountingAllocator)).
    pub fn heap_limit(mut self, bytes: usize) -> Builder {
        self.limits.heap = Some(bytes);
        self
    }
    /// The deepest nesting of script calls (`RecursionError` beyond).
    pub fn max_call_depth(mut self, depth: usize) -> Builder {
        self.limits.call_depth = Some(depth);
        self
    }
    /// The most asyncio tasks alive at once (`TooManyTasks` beyond).
    pub fn max_tasks(mut self, n: usize) -> Builder {
        self.limits.tasks = Some(n);
        self
    }
    /// How long each run may take, wall-clock.
    pub fn deadline(mut self, d: Duration) -> Builder {
        self.limits.deadline = Some(d);
        self
    }

    /// Keeps what scripts print, for [`Vm::take_stdout`] and [`Vm::take_stderr`].
    pub fn capture_output(mut self) -> Builder {
        self.output = Output::Capture;
        self
    }
    /// Sends what scripts print to `sink` (see [`WriterSink`](crate::WriterSink) and
    /// [`CallbackSink`](crate::CallbackSink)).
    pub fn output(mut self, sink: impl OutputSink + 'static) -> Builder {
        self.output = Output::Sink(Box::new(sink));
        self
    }

    /// Virtual time, as `eddy --virtual-time` (see [`VmOptions::virtual_time`](crate::VmOptions::virtual_time)).
    pub fn virtual_time(mut self, on: bool) -> Builder {
        self.virtual_time = on;
        self
    }

    /// The VM.
    pub fn build(self) -> Vm {
        eddy_stdlib::clock::set_virtual(self.virtual_time);
        let mut raw = crate::new_vm();
        raw.sandbox = self.sandbox.map(Box::new);
        let captured = match self.output {
            Output::Process => None,
            Output::Capture => {
                let c = Captured::default();
                raw.output = c.sink();
                Some(c)
            }
            Output::Sink(s) => {
                raw.output = s;
                None
            }
        };
        let mut limits = LimitState::new(self.limits);
        limits.install(&mut raw);
        Vm::from_parts(raw, limits, captured)
    }
}
