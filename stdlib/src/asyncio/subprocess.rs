//! Subprocesses on async-process: `_spawn` starts a child with its pipes as `_Transport`s
//! (transport.rs) and a future of its exit status; `asyncio.subprocess` (Process,
//! create_subprocess_exec/shell, PIPE/STDOUT/DEVNULL) is CPython 3.11's subprocess.py and
//! base_subprocess.py ported as short Python (`PY`) over it, so `wait()` returns once the child
//! exited and its pipes closed, and `communicate()` feeds and drains the pipes concurrently.

use std::fs::File;
use std::io;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::rc::Rc;

use async_process::{Command, Stdio};
use eddy_vm::objects::module::Module;
use eddy_vm::{ops, Args, PyResult, Value, Vm};

use super::futures;
use super::reactor::{self, Completion};
use super::streams::settle;
use super::transport::{self, new_transport, strerror};
use crate::util;

const PIPE: i64 = -1;
const STDOUT: i64 = -2;
const DEVNULL: i64 = -3;

/// What a child's standard stream is connected to.
fn stdio_of(vm: &mut Vm, v: &Value, name: &str) -> PyResult<i64> {
    match v {
        Value::None => Ok(0),
        Value::Int(n) if [PIPE, STDOUT, DEVNULL].contains(n) => Ok(*n),
        Value::Int(n) if *n >= 0 => Ok(*n + 1000),
        v => {
            let r = ops::repr(vm, v)?;
            Err(vm.value_error(format!("{name}: unsupported value {r}")))
        }
    }
}

/// A plain file descriptor the script passed (stdout=1, ...): duplicated for the child.
fn fd_stdio(fd: i64) -> io::Result<Stdio> {
    let raw = fd as i32;
    let borrowed = unsafe { std::os::fd::BorrowedFd::borrow_raw(raw) };
    Ok(Stdio::from(borrowed.try_clone_to_owned()?))
}

fn simple_stdio(kind: i64) -> io::Result<Stdio> {
    Ok(match kind {
        0 => Stdio::inherit(),
        PIPE => Stdio::piped(),
        DEVNULL => Stdio::null(),
        n => fd_stdio(n - 1000)?,
    })
}

fn pipe_reader(fd: OwnedFd) -> io::Result<transport::Reader> {
    Ok(Box::new(async_io::Async::new(File::from(fd))?))
}

/// The transport reading one of the child's output pipes (stdout or stderr).
fn read_pipe<P: futures_lite::AsyncRead + Unpin + AsRawFd + 'static>(pipe: P) -> Value {
    let fd = pipe.as_raw_fd();
    new_transport(
        Some(Box::new(pipe)),
        None,
        vec![],
        fd,
        "_UnixReadPipeTransport",
    )
}

/// `_spawn(argv, stdin, stdout, stderr, cwd, env)`: starts the child, returns
/// `(pid, stdin, stdout, stderr, exit_future)` with a `_Transport` for each PIPE.
fn spawn(vm: &mut Vm, a: Args) -> PyResult<Value> {
    util::arity(vm, "_spawn", &a, 6, 6)?;
    let argv: Vec<String> = ops::collect(vm, &a.pos[0])?
        .iter()
        .map(|v| ops::to_str(vm, v))
        .collect::<PyResult<_>>()?;
    let Some((program, args)) = argv.split_first() else {
        return Err(vm.value_error("empty program"));
    };
    vm.check_access(eddy_vm::sandbox::Capability::Run, program)?;
    let kinds = [
        stdio_of(vm, &a.pos[1], "stdin")?,
        stdio_of(vm, &a.pos[2], "stdout")?,
        stdio_of(vm, &a.pos[3], "stderr")?,
    ];
    let mut cmd = Command::new(program);
    cmd.args(args);
    // A child still running when the loop closes is killed, as CPython's transport does when
    // it is closed or collected.
    cmd.kill_on_drop(true);
    if let Value::Str(dir) = &a.pos[4] {
        cmd.current_dir(&*dir.s);
    }
    if !a.pos[5].is_none() {
        cmd.env_clear();
        for (k, v) in util::dict_items(&a.pos[5]).unwrap_or_default() {
            cmd.env(ops::to_str(vm, &k)?, ops::to_str(vm, &v)?);
        }
    }
    let program = program.clone();
    let io_err = |vm: &mut Vm, e: io::Error| spawn_error(vm, &e, &program);
    // stderr=STDOUT with stdout=PIPE: both go into one pipe of our own.
    let mut merged: Option<OwnedFd> = None;
    cmd.stdin(simple_stdio(kinds[0]).map_err(|e| io_err(vm, e))?);
    if kinds[2] == STDOUT {
        if kinds[1] == PIPE {
            let (r, w) = io::pipe().map_err(|e| io_err(vm, e))?;
            let w2 = w.try_clone().map_err(|e| io_err(vm, e))?;
            cmd.stdout(Stdio::from(OwnedFd::from(w)));
            cmd.stderr(Stdio::from(OwnedFd::from(w2)));
            merged = Some(OwnedFd::from(r));
        } else if kinds[1] == 0 {
            cmd.stdout(Stdio::inherit());
            let out = io::stdout().as_fd().try_clone_to_owned();
            cmd.stderr(Stdio::from(out.map_err(|e| io_err(vm, e))?));
        } else {
            cmd.stdout(simple_stdio(kinds[1]).map_err(|e| io_err(vm, e))?);
            cmd.stderr(simple_stdio(kinds[1]).map_err(|e| io_err(vm, e))?);
        }
    } else {
        cmd.stdout(simple_stdio(kinds[1]).map_err(|e| io_err(vm, e))?);
        cmd.stderr(simple_stdio(kinds[2]).map_err(|e| io_err(vm, e))?);
    }
    let mut child = cmd.spawn().map_err(|e| io_err(vm, e))?;
    // The write ends of our own pipe now live only in the child.
    drop(cmd);
    let pid = child.id() as i64;
    let stdin = child.stdin.take().map(|s| {
        let fd = s.as_raw_fd();
        new_transport(
            None,
            Some(Box::new(s)),
            vec![],
            fd,
            "_UnixWritePipeTransport",
        )
    });
    let stdout = match merged {
        Some(fd) => {
            let raw = fd.as_raw_fd();
            let r = pipe_reader(fd).map_err(|e| io_err(vm, e))?;
            Some(new_transport(
                Some(r),
                None,
                vec![],
                raw,
                "_UnixReadPipeTransport",
            ))
        }
        None => child.stdout.take().map(read_pipe),
    };
    let stderr = child.stderr.take().map(read_pipe);
    let exit = futures::new_future();
    let target = exit.clone();
    reactor::spawn(async move {
        let status = child.status().await;
        let c: Completion = Box::new(move |vm: &mut Vm| {
            let rc = match status {
                Ok(st) => returncode(st),
                Err(_) => 255,
            };
            settle(vm, &target, Ok(Value::Int(rc)))
        });
        c
    });
    let opt = |v: Option<Value>| v.unwrap_or(Value::None);
    Ok(Value::tuple(vec![
        Value::Int(pid),
        opt(stdin),
        opt(stdout),
        opt(stderr),
        exit,
    ]))
}

/// CPython's returncode: the exit code, or minus the signal that killed the child.
fn returncode(st: std::process::ExitStatus) -> i64 {
    use std::os::unix::process::ExitStatusExt;
    match (st.code(), st.signal()) {
        (Some(c), _) => c as i64,
        (None, Some(sig)) => -(sig as i64),
        _ => 255,
    }
}

/// CPython's error for a failed exec: `[Errno 2] No such file or directory: 'prog'`.
fn spawn_error(vm: &mut Vm, e: &io::Error, program: &str) -> Value {
    let cls = Value::Class(vm.exc_class("OSError"));
    let args = match e.raw_os_error() {
        Some(n) => vec![
            Value::Int(n as i64),
            Value::string(strerror(e)),
            Value::str(program),
        ],
        None => vec![Value::string(e.to_string())],
    };
    vm.call(&cls, args).unwrap_or_else(|err| err)
}

/// `_kill(pid, sig)`: os.kill, with ProcessLookupError for a process that is gone.
fn kill(vm: &mut Vm, a: Args) -> PyResult<Value> {
    util::arity(vm, "_kill", &a, 2, 2)?;
    let pid = util::to_i64(vm, &a.pos[0])?;
    let sig = util::to_i64(vm, &a.pos[1])?;
    let (Ok(pid), Ok(sig)) = (i32::try_from(pid), i32::try_from(sig)) else {
        return Err(vm.error("OverflowError", "signal number out of range"));
    };
    if unsafe { libc::kill(pid, sig) } != 0 {
        let e = io::Error::last_os_error();
        return Err(transport::os_error(vm, &e, None));
    }
    Ok(Value::None)
}

/// Installs `asyncio.subprocess` and its natives; the Python half runs in the asyncio module.
pub fn install(vm: &mut Vm, m: &Module) -> Rc<Module> {
    util::defs(vm, m, &[("_spawn", spawn), ("_kill", kill)]);
    let sub = Rc::new(Module::new("asyncio.subprocess"));
    sub.set("PIPE", Value::Int(PIPE));
    sub.set("STDOUT", Value::Int(STDOUT));
    sub.set("DEVNULL", Value::Int(DEVNULL));
    m.set("subprocess", Value::Module(sub.clone()));
    sub
}

/// Copies the public names the Python half defined into `asyncio.subprocess`.
pub fn export(m: &Module, sub: &Module) {
    for name in [
        "Process",
        "SubprocessStreamProtocol",
        "create_subprocess_exec",
        "create_subprocess_shell",
    ] {
        if let Some(v) = m.get(name) {
            sub.set(name, v);
        }
    }
}

pub const PY: &str = r#"
class _PipeProto:
    def __init__(self, proc, fd):
        self.proc = proc
        self.fd = fd
        self.pipe = None
        self.disconnected = False

    def connection_made(self, transport):
        self.pipe = transport

    def data_received(self, data):
        self.proc._pipe_data_received(self.fd, data)

    def eof_received(self):
        return False

    def connection_lost(self, exc):
        self.disconnected = True
        self.proc._pipe_connection_lost(self.fd, exc)
        self.proc = None

    def pause_writing(self):
        self.proc._protocol.pause_writing()

    def resume_writing(self):
        self.proc._protocol.resume_writing()


class _SubprocessTransport:
    def __init__(self, protocol, spawned):
        pid, stdin, stdout, stderr, exit_fut = spawned
        self._protocol = protocol
        self._pid = pid
        self._returncode = None
        self._exit_waiters = []
        self._finished = False
        self._closed = False
        self._pipes = {}
        for fd, t in ((0, stdin), (1, stdout), (2, stderr)):
            if t is not None:
                proto = _PipeProto(self, fd)
                t._set_protocol(proto)
                proto.connection_made(t)
                self._pipes[fd] = proto
        protocol.connection_made(self)
        for fd in (1, 2):
            if fd in self._pipes:
                self._pipes[fd].pipe.resume_reading()
        exit_fut.add_done_callback(lambda f: self._process_exited(f.result()))

    def __repr__(self):
        info = [self.__class__.__name__]
        if self._closed:
            info.append('closed')
        info.append(f'pid={self._pid}')
        if self._returncode is not None:
            info.append(f'returncode={self._returncode}')
        else:
            info.append('running')
        return '<{}>'.format(' '.join(info))

    def get_pid(self):
        return self._pid

    def get_returncode(self):
        return self._returncode

    def get_pipe_transport(self, fd):
        if fd in self._pipes:
            return self._pipes[fd].pipe
        return None

    def is_closing(self):
        return self._closed

    def close(self):
        if self._closed:
            return
        self._closed = True
        for proto in self._pipes.values():
            if proto.pipe is not None:
                proto.pipe.close()
        if self._returncode is None:
            try:
                _kill(self._pid, 9)
            except ProcessLookupError:
                pass

    def _check_proc(self):
        if self._closed and self._returncode is not None:
            raise ProcessLookupError()

    def send_signal(self, signal):
        self._check_proc()
        if self._returncode is not None:
            raise ProcessLookupError()
        _kill(self._pid, signal)

    def terminate(self):
        self.send_signal(15)

    def kill(self):
        self.send_signal(9)

    def _pipe_connection_lost(self, fd, exc):
        get_running_loop().call_soon(self._protocol.pipe_connection_lost, fd, exc)
        self._try_finish()

    def _pipe_data_received(self, fd, data):
        get_running_loop().call_soon(self._protocol.pipe_data_received, fd, data)

    def _process_exited(self, returncode):
        self._returncode = returncode
        get_running_loop().call_soon(self._protocol.process_exited)
        # The child's end of its stdin is closed now: so is ours (CPython sees the pipe hang up).
        stdin = self._pipes.get(0)
        if stdin is not None and not stdin.disconnected and stdin.pipe is not None:
            stdin.pipe.close()
        self._try_finish()

    async def _wait(self):
        if self._returncode is not None:
            return self._returncode
        waiter = get_running_loop().create_future()
        self._exit_waiters.append(waiter)
        return await waiter

    def _try_finish(self):
        if self._finished or self._returncode is None:
            return
        if all(p is not None and p.disconnected for p in self._pipes.values()):
            self._finished = True
            get_running_loop().call_soon(self._call_connection_lost, None)

    def _call_connection_lost(self, exc):
        try:
            self._protocol.connection_lost(exc)
        finally:
            for waiter in self._exit_waiters:
                if not waiter.cancelled():
                    waiter.set_result(self._returncode)
            self._exit_waiters = None


class SubprocessStreamProtocol(FlowControlMixin):
    __module__ = 'asyncio.subprocess'

    def __init__(self, limit, loop):
        super().__init__(loop=loop)
        self._limit = limit
        self.stdin = self.stdout = self.stderr = None
        self._transport = None
        self._process_exited = False
        self._pipe_fds = []
        self._stdin_closed = get_running_loop().create_future()

    def __repr__(self):
        info = [self.__class__.__name__]
        if self.stdin is not None:
            info.append(f'stdin={self.stdin!r}')
        if self.stdout is not None:
            info.append(f'stdout={self.stdout!r}')
        if self.stderr is not None:
            info.append(f'stderr={self.stderr!r}')
        return '<{}>'.format(' '.join(info))

    def connection_made(self, transport):
        self._transport = transport
        stdout_transport = transport.get_pipe_transport(1)
        if stdout_transport is not None:
            self.stdout = StreamReader(limit=self._limit, loop=self._loop)
            self.stdout.set_transport(stdout_transport)
            self._pipe_fds.append(1)
        stderr_transport = transport.get_pipe_transport(2)
        if stderr_transport is not None:
            self.stderr = StreamReader(limit=self._limit, loop=self._loop)
            self.stderr.set_transport(stderr_transport)
            self._pipe_fds.append(2)
        stdin_transport = transport.get_pipe_transport(0)
        if stdin_transport is not None:
            self.stdin = StreamWriter(stdin_transport, protocol=self, reader=None,
                                      loop=self._loop)

    def pipe_data_received(self, fd, data):
        if fd == 1:
            reader = self.stdout
        elif fd == 2:
            reader = self.stderr
        else:
            reader = None
        if reader is not None:
            reader.feed_data(data)

    def pipe_connection_lost(self, fd, exc):
        if fd == 0:
            pipe = self.stdin
            if pipe is not None:
                pipe.close()
            self.connection_lost(exc)
            if exc is None:
                self._stdin_closed.set_result(None)
            else:
                self._stdin_closed.set_exception(exc)
                self._stdin_closed.exception()
            return
        if fd == 1:
            reader = self.stdout
        elif fd == 2:
            reader = self.stderr
        else:
            reader = None
        if reader is not None:
            if exc is None:
                reader.feed_eof()
            else:
                reader.set_exception(exc)
        if fd in self._pipe_fds:
            self._pipe_fds.remove(fd)
        self._maybe_close_transport()

    def process_exited(self):
        self._process_exited = True
        self._maybe_close_transport()

    def _maybe_close_transport(self):
        if len(self._pipe_fds) == 0 and self._process_exited:
            self._transport.close()
            self._transport = None

    def _get_close_waiter(self, stream):
        if stream is self.stdin:
            return self._stdin_closed


class Process:
    __module__ = 'asyncio.subprocess'

    def __init__(self, transport, protocol, loop):
        self._transport = transport
        self._protocol = protocol
        self._loop = loop
        self.stdin = protocol.stdin
        self.stdout = protocol.stdout
        self.stderr = protocol.stderr
        self.pid = transport.get_pid()

    def __repr__(self):
        return f'<{self.__class__.__name__} {self.pid}>'

    @property
    def returncode(self):
        return self._transport.get_returncode()

    async def wait(self):
        return await self._transport._wait()

    def send_signal(self, signal):
        self._transport.send_signal(signal)

    def terminate(self):
        self._transport.terminate()

    def kill(self):
        self._transport.kill()

    async def _feed_stdin(self, input):
        try:
            self.stdin.write(input)
            await self.stdin.drain()
        except (BrokenPipeError, ConnectionResetError):
            pass
        self.stdin.close()

    async def _noop(self):
        return None

    async def _read_stream(self, fd):
        transport = self._transport.get_pipe_transport(fd)
        if fd == 2:
            stream = self.stderr
        else:
            stream = self.stdout
        output = await stream.read()
        transport.close()
        return output

    async def communicate(self, input=None):
        if input is not None:
            stdin = self._feed_stdin(input)
        else:
            stdin = self._noop()
        if self.stdout is not None:
            stdout = self._read_stream(1)
        else:
            stdout = self._noop()
        if self.stderr is not None:
            stderr = self._read_stream(2)
        else:
            stderr = self._noop()
        stdin, stdout, stderr = await gather(stdin, stdout, stderr)
        await self.wait()
        return (stdout, stderr)


def _subprocess(argv, stdin, stdout, stderr, limit, kwds):
    loop = get_running_loop()
    cwd = kwds.pop('cwd', None)
    env = kwds.pop('env', None)
    if cwd is not None:
        cwd = str(cwd)
    protocol = SubprocessStreamProtocol(limit=limit, loop=loop)
    transport = _SubprocessTransport(protocol, _spawn(argv, stdin, stdout, stderr, cwd, env))
    return Process(transport, protocol, loop)


async def create_subprocess_exec(program, *args, stdin=None, stdout=None, stderr=None,
                                 limit=_DEFAULT_LIMIT, **kwds):
    argv = [program, *args]
    for a in argv:
        if not isinstance(a, (str, bytes)):
            raise TypeError(
                f"program arguments must be a bytes or text string, not {type(a).__name__}")
    return _subprocess([a.decode() if isinstance(a, bytes) else a for a in argv],
                       stdin, stdout, stderr, limit, kwds)


async def create_subprocess_shell(cmd, stdin=None, stdout=None, stderr=None,
                                  limit=_DEFAULT_LIMIT, **kwds):
    if not isinstance(cmd, (bytes, str)):
        raise ValueError("cmd must be a string")
    if isinstance(cmd, bytes):
        cmd = cmd.decode()
    return _subprocess(['/bin/sh', '-c', cmd], stdin, stdout, stderr, limit, kwds)
"#;
