//! Streams over TCP, on async-net: the native part connects (`_tcp_connect`) and listens
//! (`_tcp_listen`, `_Listener`), handing out `_Transport`s (transport.rs); StreamReader,
//! StreamWriter, StreamReaderProtocol, Server, open_connection and start_server are short Python
//! (`PY`, a port of CPython 3.11's streams.py) over them.

use std::cell::RefCell;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, ToSocketAddrs};
use std::os::fd::AsRawFd;
use std::rc::Rc;

use eddy_vm::objects::class::Class;
use eddy_vm::objects::module::Module;
use eddy_vm::sandbox::Capability;
use eddy_vm::{Args, PyResult, Value, Vm};

use super::futures;
use super::reactor::{self, Completion};
use super::transport::{self, new_transport, os_error, strerror};
use crate::native_state;
use crate::util;

/// `(host, port)` or `(host, port, flowinfo, scope_id)`, as the socket module reports addresses.
pub fn addr_tuple(a: &SocketAddr) -> Value {
    match a {
        SocketAddr::V4(v4) => Value::tuple(vec![
            Value::string(v4.ip().to_string()),
            Value::Int(v4.port() as i64),
        ]),
        SocketAddr::V6(v6) => Value::tuple(vec![
            Value::string(v6.ip().to_string()),
            Value::Int(v6.port() as i64),
            Value::Int(v6.flowinfo() as i64),
            Value::Int(v6.scope_id() as i64),
        ]),
    }
}

fn addr_repr(vm: &mut Vm, a: &SocketAddr) -> String {
    eddy_vm::ops::repr(vm, &addr_tuple(a)).unwrap_or_default()
}

/// The host and port arguments: host None/str, port None/int/str.
fn host_port(vm: &mut Vm, host: &Value, port: &Value) -> PyResult<(Option<String>, u16)> {
    let host = match host {
        Value::None => None,
        Value::Str(s) if s.s.is_empty() => None,
        Value::Str(s) => Some(s.s.to_string()),
        v => {
            return Err(vm.type_error(format!(
                "host must be a str or None, not {}",
                vm.type_name(v)
            )))
        }
    };
    let port = match port {
        Value::None => 0,
        Value::Str(s) => {
            s.s.parse::<u16>()
                .map_err(|_| vm.error("OSError", "Servname not supported for ai_socktype"))?
        }
        v => {
            let n = util::to_i64(vm, v)?;
            u16::try_from(n)
                .map_err(|_| vm.error("OverflowError", "getsockaddrarg: port must be 0-65535."))?
        }
    };
    Ok((host, port))
}

/// Resolves without blocking the loop for literal addresses; names go through the system
/// resolver on the blocking pool.
async fn resolve(host: Option<String>, port: u16, passive: bool) -> io::Result<Vec<SocketAddr>> {
    let Some(host) = host else {
        let ips: Vec<IpAddr> = if passive {
            vec![Ipv4Addr::UNSPECIFIED.into(), Ipv6Addr::UNSPECIFIED.into()]
        } else {
            vec![Ipv6Addr::LOCALHOST.into(), Ipv4Addr::LOCALHOST.into()]
        };
        return Ok(ips
            .into_iter()
            .map(|ip| SocketAddr::new(ip, port))
            .collect());
    };
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Ok(vec![SocketAddr::new(ip, port)]);
    }
    blocking::unblock(move || {
        let mut out: Vec<SocketAddr> = Vec::new();
        for a in (host.as_str(), port).to_socket_addrs()? {
            if !out.contains(&a) {
                out.push(a);
            }
        }
        Ok(out)
    })
    .await
}

fn resolve_error(vm: &mut Vm, e: &io::Error) -> Value {
    if e.raw_os_error().is_some() {
        return os_error(vm, e, None);
    }
    let cls = Value::Class(vm.exc_class("OSError"));
    let args = vec![Value::Int(-2), Value::str("Name or service not known")];
    vm.call(&cls, args).unwrap_or_else(|err| err)
}

fn tcp_transport(stream: async_net::TcpStream) -> Value {
    let mut extra = Vec::new();
    if let Ok(a) = stream.peer_addr() {
        extra.push(("peername".to_string(), addr_tuple(&a)));
    }
    if let Ok(a) = stream.local_addr() {
        extra.push(("sockname".to_string(), addr_tuple(&a)));
    }
    let _ = stream.set_nodelay(true);
    let fd = stream.as_raw_fd();
    let reader: transport::Reader = Box::new(stream.clone());
    let writer: transport::Writer = Box::new(stream);
    new_transport(
        Some(reader),
        Some(writer),
        extra,
        fd,
        "_SelectorSocketTransport",
    )
}

/// The sandbox must grant `host:port` (no host: every interface, `*`, for a listener; the local
/// host for a connection).
fn check_net(vm: &Vm, cap: Capability, host: &Option<String>, port: u16) -> PyResult<()> {
    let default = if cap == Capability::Listen {
        "*"
    } else {
        "localhost"
    };
    let host = host.as_deref().unwrap_or(default);
    let target = if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    };
    vm.check_access(cap, &target)
}

/// `_tcp_connect(host, port)`: a future of a connected `_Transport`.
fn tcp_connect(vm: &mut Vm, a: Args) -> PyResult<Value> {
    util::arity(vm, "_tcp_connect", &a, 2, 2)?;
    let (host, port) = host_port(vm, &a.pos[0], &a.pos[1])?;
    check_net(vm, Capability::Connect, &host, port)?;
    let fut = futures::new_future();
    let target = fut.clone();
    reactor::spawn(async move {
        let addrs = resolve(host, port, false).await;
        let c: Completion = match addrs {
            Err(e) => Box::new(move |vm: &mut Vm| {
                let exc = resolve_error(vm, &e);
                settle(vm, &target, Err(exc))
            }),
            Ok(addrs) => {
                let mut errors = Vec::new();
                let mut conn = None;
                for a in addrs {
                    match async_net::TcpStream::connect(a).await {
                        Ok(s) => {
                            conn = Some(s);
                            break;
                        }
                        Err(e) => errors.push((a, e)),
                    }
                }
                Box::new(move |vm: &mut Vm| match conn {
                    Some(s) => {
                        let t = tcp_transport(s);
                        settle(vm, &target, Ok(t))
                    }
                    None => {
                        let exc = connect_error(vm, &errors);
                        settle(vm, &target, Err(exc))
                    }
                })
            }
        };
        c
    });
    Ok(fut)
}

/// CPython's create_connection error: the one failure, or "Multiple exceptions: ...".
fn connect_error(vm: &mut Vm, errors: &[(SocketAddr, io::Error)]) -> Value {
    let mut excs = Vec::new();
    for (a, e) in errors {
        let msg = format!("Connect call failed {}", addr_repr(vm, a));
        excs.push(os_error(vm, e, Some(msg)));
    }
    let texts: Vec<String> = excs
        .iter()
        .map(|e| eddy_vm::ops::to_str(vm, e).unwrap_or_default())
        .collect();
    match excs.first() {
        None => vm.error("OSError", "getaddrinfo() returned empty list"),
        Some(first) if texts.iter().all(|t| *t == texts[0]) => first.clone(),
        Some(_) => vm.error(
            "OSError",
            format!("Multiple exceptions: {}", texts.join(", ")),
        ),
    }
}

/// Completes an asyncio future unless it was cancelled meanwhile.
pub fn settle(vm: &mut Vm, fut: &Value, r: Result<Value, Value>) -> PyResult<()> {
    if futures::is_done(fut) {
        return Ok(());
    }
    match r {
        Ok(v) => futures::set_result(vm, fut, v),
        Err(e) => futures::set_exception(vm, fut, e),
    }
}

// ---- listening ----

pub struct Listener {
    listener: Option<async_net::TcpListener>,
    addr: Option<SocketAddr>,
    fd: i32,
    accept_id: Option<u64>,
    callback: Value,
}
native_state!(Listener, |s, f| { f(&s.callback) }, |c, out| {
    out.push(std::mem::take(&mut c.callback));
});

thread_local! {
    static LISTENER: RefCell<Option<Rc<Class>>> = const { RefCell::new(None) };
}

fn with_l<R>(vm: &Vm, v: &Value, f: impl FnOnce(&mut Listener) -> R) -> PyResult<R> {
    util::state(vm, v, "_Listener", f)
}

fn bind_one(addr: SocketAddr, backlog: i32) -> io::Result<std::net::TcpListener> {
    use socket2::{Domain, Socket, Type};
    let sock = Socket::new(Domain::for_address(addr), Type::STREAM, None)?;
    sock.set_reuse_address(true)?;
    if addr.is_ipv6() {
        sock.set_only_v6(true)?;
    }
    sock.bind(&addr.into())?;
    sock.listen(backlog)?;
    sock.set_nonblocking(true)?;
    Ok(sock.into())
}

/// `_tcp_listen(host, port, backlog)`: bound, listening sockets (one per address), not yet
/// accepting.
fn tcp_listen(vm: &mut Vm, a: Args) -> PyResult<Value> {
    util::arity(vm, "_tcp_listen", &a, 3, 3)?;
    let (host, port) = host_port(vm, &a.pos[0], &a.pos[1])?;
    check_net(vm, Capability::Listen, &host, port)?;
    let backlog = util::to_i64(vm, &a.pos[2])?.clamp(0, 65535) as i32;
    let addrs = async_io::block_on(resolve(host, port, true)).map_err(|e| resolve_error(vm, &e))?;
    let cls = LISTENER
        .with(|c| c.borrow().clone())
        .ok_or_else(|| vm.error("RuntimeError", "asyncio not initialised"))?;
    let mut out = Vec::new();
    for addr in addrs {
        let std_listener = match bind_one(addr, backlog) {
            Ok(l) => l,
            // A host without IPv6 still serves on IPv4 (CPython skips such families too).
            Err(e) if addr.ip().is_unspecified() && addr.is_ipv6() && !out.is_empty() => {
                let _ = e;
                continue;
            }
            Err(e) => {
                let msg = format!(
                    "error while attempting to bind on address {}: {}",
                    addr_repr(vm, &addr),
                    strerror(&e).to_lowercase()
                );
                return Err(os_error(vm, &e, Some(msg)));
            }
        };
        let bound = std_listener.local_addr().ok();
        let fd = std_listener.as_raw_fd();
        let listener =
            async_net::TcpListener::try_from(std_listener).map_err(|e| os_error(vm, &e, None))?;
        out.push(util::new_native(
            &cls,
            Listener {
                listener: Some(listener),
                addr: bound,
                fd,
                accept_id: None,
                callback: Value::None,
            },
        ));
    }
    Ok(Value::list(out))
}

/// Accepts the next connection; the callback gets its transport, then accepting goes on.
fn start_accepting(vm: &Vm, l: &Value) -> PyResult<()> {
    let listener = with_l(vm, l, |s| {
        if s.accept_id.is_some() {
            return None;
        }
        s.listener.clone()
    })?;
    let Some(listener) = listener else {
        return Ok(());
    };
    let lv = l.clone();
    let id = reactor::spawn(async move {
        let r = listener.accept().await;
        let c: Completion = Box::new(move |vm: &mut Vm| on_accept(vm, lv, r));
        c
    });
    with_l(vm, l, |s| s.accept_id = Some(id))?;
    Ok(())
}

fn on_accept(
    vm: &mut Vm,
    l: Value,
    r: io::Result<(async_net::TcpStream, SocketAddr)>,
) -> PyResult<()> {
    let cb = with_l(vm, &l, |s| {
        s.accept_id = None;
        s.callback.clone()
    })?;
    // Errors such as EMFILE are not fatal to the server: it keeps accepting.
    if let Ok((stream, _)) = r {
        let t = tcp_transport(stream);
        if let Err(e) = vm.call(&cb, vec![t]) {
            if vm.exc_matches(&e, "SystemExit") || vm.exc_matches(&e, "KeyboardInterrupt") {
                return Err(e);
            }
            let text = eddy_vm::traceback::format_exception(vm, &e);
            vm.write_stderr(&format!("Exception in callback\n{text}"));
        }
    }
    start_accepting(vm, &l)
}

fn stop_accepting(vm: &Vm, l: &Value) -> PyResult<()> {
    if let Some(id) = with_l(vm, l, |s| s.accept_id.take())? {
        reactor::cancel(id);
    }
    Ok(())
}

fn listener_class(vm: &Vm) -> Rc<Class> {
    let cls = util::plain_class("_Listener", "asyncio.base_events", vm.types.object.clone());
    util::methods(
        vm,
        &cls,
        &[
            ("getsockname", |vm, a| {
                let addr = with_l(vm, &a.pos[0], |s| s.addr)?;
                addr.map(|a| addr_tuple(&a))
                    .ok_or_else(|| vm.error("OSError", "[Errno 9] Bad file descriptor"))
            }),
            ("fileno", |vm, a| {
                with_l(vm, &a.pos[0], |s| {
                    Value::Int(if s.listener.is_some() {
                        s.fd as i64
                    } else {
                        -1
                    })
                })
            }),
            ("_family", |vm, a| {
                with_l(vm, &a.pos[0], |s| {
                    Value::Int(match s.addr {
                        Some(SocketAddr::V6(_)) => libc::AF_INET6 as i64,
                        _ => libc::AF_INET as i64,
                    })
                })
            }),
            ("_start", |vm, a| {
                let cb = a.pos.get(1).cloned().unwrap_or(Value::None);
                with_l(vm, &a.pos[0], |s| s.callback = cb)?;
                start_accepting(vm, &a.pos[0])?;
                Ok(Value::None)
            }),
            ("_stop", |vm, a| {
                stop_accepting(vm, &a.pos[0])?;
                Ok(Value::None)
            }),
            ("close", |vm, a| {
                stop_accepting(vm, &a.pos[0])?;
                with_l(vm, &a.pos[0], |s| {
                    s.listener = None;
                    s.callback = Value::None;
                })?;
                Ok(Value::None)
            }),
        ],
    );
    cls
}

pub fn install(vm: &mut Vm, m: &Module) {
    let (transport_cls, buffer_cls) = transport::install(vm);
    m.set("_Transport", Value::Class(transport_cls));
    m.set("_Buffer", Value::Class(buffer_cls));
    let listener = listener_class(vm);
    LISTENER.with(|c| *c.borrow_mut() = Some(listener));
    util::defs(
        vm,
        m,
        &[
            ("_tcp_connect", tcp_connect),
            ("_tcp_listen", tcp_listen),
            ("_report", report),
        ],
    );
}

/// `_report(message, exc)`: the loop's default exception handler, on stderr with the traceback.
fn report(vm: &mut Vm, a: Args) -> PyResult<Value> {
    util::arity(vm, "_report", &a, 2, 2)?;
    let msg = eddy_vm::ops::to_str(vm, &a.pos[0])?;
    let text = eddy_vm::traceback::format_exception(vm, &a.pos[1]);
    vm.write_stderr(&format!("{msg}\n{text}"));
    Ok(Value::None)
}

/// After `PY` ran: the loop methods it defines, and the `asyncio.streams` module.
pub fn export(vm: &Vm, m: &Module) {
    let loop_cls = super::classes().event_loop.clone();
    for (method, name) in [
        ("create_connection", "_loop_create_connection"),
        ("create_server", "_loop_create_server"),
    ] {
        if let Some(f) = m.get(name) {
            loop_cls.set_attr(vm.intern(method), f);
        }
    }
    // The submodule lazy.rs made (and pointed here), or a new one.
    let sub = match m.get("streams") {
        Some(Value::Module(sub)) => sub,
        _ => {
            let sub = Rc::new(Module::new("asyncio.streams"));
            m.set("streams", Value::Module(sub.clone()));
            sub
        }
    };
    for name in [
        "StreamReader",
        "StreamWriter",
        "StreamReaderProtocol",
        "open_connection",
        "start_server",
    ] {
        if let Some(v) = m.get(name) {
            sub.set(name, v);
        }
    }
}

pub const PY: &str = r#"
import collections as _collections

class IncompleteReadError(EOFError):
    __module__ = 'asyncio.exceptions'
    def __init__(self, partial, expected):
        r_expected = 'undefined' if expected is None else repr(expected)
        super().__init__(f'{len(partial)} bytes read on a total of {r_expected} expected bytes')
        self.partial = partial
        self.expected = expected

class LimitOverrunError(Exception):
    __module__ = 'asyncio.exceptions'
    def __init__(self, message, consumed):
        super().__init__(message)
        self.consumed = consumed

_DEFAULT_LIMIT = 2 ** 16

class TransportSocket:
    __module__ = 'asyncio.trsock'
    def __init__(self, sock, peer=None):
        self._sock = sock
        self._peer = peer
    @property
    def family(self):
        return self._sock._family()
    @property
    def type(self):
        return 1
    @property
    def proto(self):
        return 6
    def fileno(self):
        return self._sock.fileno()
    def getsockname(self):
        return self._sock.getsockname()
    def __repr__(self):
        s = (f"<asyncio.TransportSocket fd={self.fileno()}, family={self.family}, "
             f"type={self.type}, proto={self.proto}")
        if self.fileno() != -1:
            s += f", laddr={self.getsockname()}"
        return s + ">"

class BaseProtocol:
    __module__ = 'asyncio.protocols'
    def connection_made(self, transport):
        pass
    def connection_lost(self, exc):
        pass
    def pause_writing(self):
        pass
    def resume_writing(self):
        pass


class Protocol(BaseProtocol):
    __module__ = 'asyncio.protocols'
    def data_received(self, data):
        pass
    def eof_received(self):
        pass


class StreamReader:
    __module__ = 'asyncio.streams'

    def __init__(self, limit=_DEFAULT_LIMIT, loop=None):
        if limit <= 0:
            raise ValueError('Limit cannot be <= 0')
        self._limit = limit
        self._loop = loop
        self._buffer = _Buffer()
        self._eof = False
        self._waiter = None
        self._exception = None
        self._transport = None
        self._paused = False

    def __repr__(self):
        info = ['StreamReader']
        if self._buffer:
            info.append(f'{len(self._buffer)} bytes')
        if self._eof:
            info.append('eof')
        if self._limit != _DEFAULT_LIMIT:
            info.append(f'limit={self._limit}')
        if self._waiter:
            info.append(f'waiter={self._waiter!r}')
        if self._exception:
            info.append(f'exception={self._exception!r}')
        if self._transport:
            info.append(f'transport={self._transport!r}')
        if self._paused:
            info.append('paused')
        return '<{}>'.format(' '.join(info))

    def exception(self):
        return self._exception

    def set_exception(self, exc):
        self._exception = exc
        waiter = self._waiter
        if waiter is not None:
            self._waiter = None
            if not waiter.cancelled():
                waiter.set_exception(exc)

    def _wakeup_waiter(self):
        waiter = self._waiter
        if waiter is not None:
            self._waiter = None
            if not waiter.cancelled():
                waiter.set_result(None)

    def set_transport(self, transport):
        assert self._transport is None, 'Transport already set'
        self._transport = transport

    def _maybe_resume_transport(self):
        if self._paused and len(self._buffer) <= self._limit:
            self._paused = False
            self._transport.resume_reading()

    def feed_eof(self):
        self._eof = True
        self._wakeup_waiter()

    def at_eof(self):
        return self._eof and not self._buffer

    def feed_data(self, data):
        assert not self._eof, 'feed_data after feed_eof'
        if not data:
            return
        self._buffer.extend(data)
        self._wakeup_waiter()
        if (self._transport is not None and not self._paused and
                len(self._buffer) > 2 * self._limit):
            self._transport.pause_reading()
            self._paused = True

    async def _wait_for_data(self, func_name):
        if self._waiter is not None:
            raise RuntimeError(
                f'{func_name}() called while another coroutine is '
                f'already waiting for incoming data')
        assert not self._eof, '_wait_for_data after EOF'
        if self._paused:
            self._paused = False
            self._transport.resume_reading()
        self._waiter = get_running_loop().create_future()
        try:
            await self._waiter
        finally:
            self._waiter = None

    async def readline(self):
        sep = b'\n'
        seplen = len(sep)
        try:
            line = await self.readuntil(sep)
        except IncompleteReadError as e:
            return e.partial
        except LimitOverrunError as e:
            if self._buffer.startswith(sep, e.consumed):
                self._buffer.take(e.consumed + seplen)
            else:
                self._buffer.clear()
            self._maybe_resume_transport()
            raise ValueError(e.args[0])
        return line

    async def readuntil(self, separator=b'\n'):
        seplen = len(separator)
        if seplen == 0:
            raise ValueError('Separator should be at least one-byte string')
        if self._exception is not None:
            raise self._exception
        offset = 0
        while True:
            buflen = len(self._buffer)
            if buflen - offset >= seplen:
                isep = self._buffer.find(separator, offset)
                if isep != -1:
                    break
                offset = buflen + 1 - seplen
                if offset > self._limit:
                    raise LimitOverrunError(
                        'Separator is not found, and chunk exceed the limit', offset)
            if self._eof:
                chunk = self._buffer.take_all()
                raise IncompleteReadError(chunk, None)
            await self._wait_for_data('readuntil')
        if isep > self._limit:
            raise LimitOverrunError(
                'Separator is found, but chunk is longer than limit', isep)
        chunk = self._buffer.take(isep + seplen)
        self._maybe_resume_transport()
        return chunk

    async def read(self, n=-1):
        if self._exception is not None:
            raise self._exception
        if n == 0:
            return b''
        if n < 0:
            blocks = []
            while True:
                block = await self.read(self._limit)
                if not block:
                    break
                blocks.append(block)
            return b''.join(blocks)
        if not self._buffer and not self._eof:
            await self._wait_for_data('read')
        data = self._buffer.take(n)
        self._maybe_resume_transport()
        return data

    async def readexactly(self, n):
        if n < 0:
            raise ValueError('readexactly size can not be less than zero')
        if self._exception is not None:
            raise self._exception
        if n == 0:
            return b''
        while len(self._buffer) < n:
            if self._eof:
                incomplete = self._buffer.take_all()
                raise IncompleteReadError(incomplete, n)
            await self._wait_for_data('readexactly')
        data = self._buffer.take(n)
        self._maybe_resume_transport()
        return data

    def __aiter__(self):
        return self

    async def __anext__(self):
        val = await self.readline()
        if val == b'':
            raise StopAsyncIteration
        return val


class FlowControlMixin(Protocol):
    __module__ = 'asyncio.streams'

    def __init__(self, loop=None):
        self._loop = loop
        self._paused = False
        self._drain_waiters = _collections.deque()
        self._connection_lost = False

    def pause_writing(self):
        self._paused = True

    def resume_writing(self):
        self._paused = False
        for waiter in self._drain_waiters:
            if not waiter.done():
                waiter.set_result(None)

    def connection_lost(self, exc):
        self._connection_lost = True
        if not self._paused:
            return
        for waiter in self._drain_waiters:
            if not waiter.done():
                if exc is None:
                    waiter.set_result(None)
                else:
                    waiter.set_exception(exc)

    async def _drain_helper(self):
        if self._connection_lost:
            raise ConnectionResetError('Connection lost')
        if not self._paused:
            return
        waiter = get_running_loop().create_future()
        self._drain_waiters.append(waiter)
        try:
            await waiter
        finally:
            self._drain_waiters.remove(waiter)


class StreamReaderProtocol(FlowControlMixin):
    __module__ = 'asyncio.streams'

    def __init__(self, stream_reader, client_connected_cb=None, loop=None):
        super().__init__(loop=loop)
        self._stream_reader = stream_reader
        self._stream_writer = None
        self._task = None
        self._transport = None
        self._client_connected_cb = client_connected_cb
        self._closed = get_running_loop().create_future()

    def connection_made(self, transport):
        reader = self._stream_reader
        if reader is not None:
            reader.set_transport(transport)
        self._transport = transport
        if self._client_connected_cb is not None:
            self._stream_writer = StreamWriter(transport, self, reader, self._loop)
            res = self._client_connected_cb(reader, self._stream_writer)
            if iscoroutine(res):
                def callback(task):
                    if task.cancelled():
                        return
                    exc = task.exception()
                    if exc is not None:
                        _report('Unhandled exception in client_connected_cb\n'
                                f'transport: {transport!r}', exc)
                        transport.close()
                self._task = get_running_loop().create_task(res)
                self._task.add_done_callback(callback)

    def connection_lost(self, exc):
        reader = self._stream_reader
        if reader is not None:
            if exc is None:
                reader.feed_eof()
            else:
                reader.set_exception(exc)
        if not self._closed.done():
            if exc is None:
                self._closed.set_result(None)
            else:
                self._closed.set_exception(exc)
                self._closed.exception()
        super().connection_lost(exc)
        self._stream_writer = None
        self._task = None
        self._transport = None

    def data_received(self, data):
        reader = self._stream_reader
        if reader is not None:
            reader.feed_data(data)

    def eof_received(self):
        reader = self._stream_reader
        if reader is not None:
            reader.feed_eof()
        return True

    def _get_close_waiter(self, stream):
        return self._closed


class StreamWriter:
    __module__ = 'asyncio.streams'

    def __init__(self, transport, protocol, reader, loop):
        self._transport = transport
        self._protocol = protocol
        self._reader = reader
        self._loop = loop

    def __repr__(self):
        info = [self.__class__.__name__, f'transport={self._transport!r}']
        if self._reader is not None:
            info.append(f'reader={self._reader!r}')
        return '<{}>'.format(' '.join(info))

    @property
    def transport(self):
        return self._transport

    def write(self, data):
        self._transport.write(data)

    def writelines(self, data):
        self._transport.writelines(data)

    def write_eof(self):
        return self._transport.write_eof()

    def can_write_eof(self):
        return self._transport.can_write_eof()

    def close(self):
        return self._transport.close()

    def is_closing(self):
        return self._transport.is_closing()

    async def wait_closed(self):
        await self._protocol._get_close_waiter(self)

    def get_extra_info(self, name, default=None):
        return self._transport.get_extra_info(name, default)

    async def drain(self):
        if self._reader is not None:
            exc = self._reader.exception()
            if exc is not None:
                raise exc
        if self._transport.is_closing():
            await sleep(0)
        await self._protocol._drain_helper()


def _attach(transport, protocol):
    transport._set_protocol(protocol)
    protocol.connection_made(transport)
    transport.resume_reading()


class Server:
    __module__ = 'asyncio.base_events'

    def __init__(self, listeners, protocol_factory, backlog):
        self._listeners = listeners
        self._sockets = tuple(TransportSocket(l) for l in listeners)
        self._protocol_factory = protocol_factory
        self._backlog = backlog
        self._active_count = 0
        self._waiters = []
        self._serving = False
        self._serving_forever_fut = None

    def __repr__(self):
        return f'<{self.__class__.__name__} sockets={self.sockets!r}>'

    def _attach(self):
        self._active_count += 1

    def _detach(self):
        self._active_count -= 1
        if self._active_count == 0 and self._sockets is None:
            self._wakeup()

    def _wakeup(self):
        waiters = self._waiters
        self._waiters = None
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    def _accepted(self, transport):
        get_running_loop().call_soon(self._connect, transport)

    def _connect(self, transport):
        protocol = self._protocol_factory()
        server = self
        server._attach()
        lost = protocol.connection_lost
        def connection_lost(exc):
            try:
                lost(exc)
            finally:
                server._detach()
        protocol.connection_lost = connection_lost
        _attach(transport, protocol)

    def _start_serving(self):
        if self._serving:
            return
        self._serving = True
        for l in self._listeners:
            l._start(self._accepted)

    def get_loop(self):
        return get_running_loop()

    def is_serving(self):
        return self._serving

    @property
    def sockets(self):
        if self._sockets is None:
            return ()
        return self._sockets

    def close(self):
        sockets = self._sockets
        if sockets is None:
            return
        self._sockets = None
        for l in self._listeners:
            l.close()
        self._serving = False
        if (self._serving_forever_fut is not None and
                not self._serving_forever_fut.done()):
            self._serving_forever_fut.cancel()
            self._serving_forever_fut = None
        if self._active_count == 0:
            self._wakeup()

    async def start_serving(self):
        self._start_serving()
        await sleep(0)

    async def serve_forever(self):
        if self._serving_forever_fut is not None:
            raise RuntimeError(
                f'server {self!r} is already being awaited on serve_forever()')
        if self._sockets is None:
            raise RuntimeError(f'server {self!r} is closed')
        self._start_serving()
        self._serving_forever_fut = get_running_loop().create_future()
        try:
            await self._serving_forever_fut
        except CancelledError:
            try:
                self.close()
                await self.wait_closed()
            finally:
                raise
        finally:
            self._serving_forever_fut = None

    async def wait_closed(self):
        if self._sockets is None or self._waiters is None:
            return
        waiter = get_running_loop().create_future()
        self._waiters.append(waiter)
        await waiter

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc):
        self.close()
        await self.wait_closed()


async def _loop_create_connection(self, protocol_factory, host=None, port=None, **kwds):
    transport = await _tcp_connect(host, port)
    protocol = protocol_factory()
    _attach(transport, protocol)
    return transport, protocol


async def _loop_create_server(self, protocol_factory, host=None, port=None, *,
                              backlog=100, start_serving=True, **kwds):
    server = Server(_tcp_listen(host, port, backlog), protocol_factory, backlog)
    if start_serving:
        server._start_serving()
        await sleep(0)
    return server


async def open_connection(host=None, port=None, *, limit=_DEFAULT_LIMIT, **kwds):
    loop = get_running_loop()
    reader = StreamReader(limit=limit, loop=loop)
    protocol = StreamReaderProtocol(reader, loop=loop)
    transport = await _tcp_connect(host, port)
    _attach(transport, protocol)
    writer = StreamWriter(transport, protocol, reader, loop)
    return reader, writer


async def start_server(client_connected_cb, host=None, port=None, *,
                       limit=_DEFAULT_LIMIT, backlog=100, start_serving=True, **kwds):
    loop = get_running_loop()

    def factory():
        reader = StreamReader(limit=limit, loop=loop)
        return StreamReaderProtocol(reader, client_connected_cb, loop=loop)

    return await _loop_create_server(loop, factory, host, port, backlog=backlog,
                                     start_serving=start_serving)
"#;
