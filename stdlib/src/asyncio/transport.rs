//! `_Transport`: a byte stream (a TCP connection or a child's pipe) driven by the reactor, with
//! the callback contract of CPython's selector transports. It reads eagerly into its protocol
//! (`data_received`, `eof_received`, `connection_lost`), pausing when the protocol asks; writes
//! are buffered and flushed by a native future, with `pause_writing`/`resume_writing` around the
//! high-water mark so `StreamWriter.drain` applies backpressure. Also `_Buffer`, the byte buffer
//! StreamReader keeps (Eddy has no bytearray).

use std::cell::Cell;
use std::io;
use std::rc::Rc;

use eddy_vm::objects::class::Class;
use eddy_vm::{ops, Args, PyResult, Value, Vm};
use futures_lite::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use super::events::{self, Job};
use super::reactor::{self, Completion};
use crate::native_state;
use crate::util;

pub type Reader = Box<dyn AsyncRead + Unpin>;
pub type Writer = Box<dyn AsyncWrite + Unpin>;

/// Bytes read at most per read; the buffer is allocated once per transport and reused.
const READ_SIZE: usize = 64 * 1024;
/// CPython's default write-buffer limits (FlowControlMixin).
const HIGH_WATER: usize = 64 * 1024;
const LOW_WATER: usize = HIGH_WATER / 4;

pub struct Transport {
    /// The read half; None while a read is in flight, or once reading is over.
    reader: Option<Reader>,
    /// The read buffer, lent to the read future while one is in flight.
    rbuf: Vec<u8>,
    writer: Option<Writer>,
    protocol: Value,
    read_id: Option<u64>,
    paused: bool,
    /// Unsent bytes, and whether a write future is flushing.
    out: Vec<u8>,
    writing: bool,
    write_paused: bool,
    closing: bool,
    eof_written: bool,
    lost: bool,
    /// `get_extra_info` entries.
    extra: Vec<(String, Value)>,
    pub fd: i32,
    kind: &'static str,
}

native_state!(
    Transport,
    |s, f| {
        f(&s.protocol);
        s.extra.iter().for_each(|(_, v)| f(v));
    },
    |c, out| {
        out.push(std::mem::take(&mut c.protocol));
        out.extend(c.extra.drain(..).map(|(_, v)| v));
    }
);

/// Makes a transport; it reads nothing until `resume_reading` (after its protocol is set).
pub fn new_transport(
    reader: Option<Reader>,
    writer: Option<Writer>,
    extra: Vec<(String, Value)>,
    fd: i32,
    kind: &'static str,
) -> Value {
    let t = Transport {
        reader,
        rbuf: Vec::new(),
        writer,
        protocol: Value::None,
        read_id: None,
        paused: true,
        out: Vec::new(),
        writing: false,
        write_paused: false,
        closing: false,
        eof_written: false,
        lost: false,
        extra,
        fd,
        kind,
    };
    util::new_native(&class(), t)
}

thread_local! {
    static CLASS: std::cell::RefCell<Option<Rc<Class>>> = const { std::cell::RefCell::new(None) };
    static BUFFER_CLASS: std::cell::RefCell<Option<Rc<Class>>> = const { std::cell::RefCell::new(None) };
}

fn class() -> Rc<Class> {
    CLASS
        .with(|c| c.borrow().clone())
        .expect("asyncio initialised")
}

fn with_t<R>(vm: &Vm, v: &Value, f: impl FnOnce(&mut Transport) -> R) -> PyResult<R> {
    util::state(vm, v, "_Transport", f)
}

/// An `OSError` (subclass chosen by errno, as CPython does) for an I/O error.
pub fn os_error(vm: &mut Vm, e: &io::Error, msg: Option<String>) -> Value {
    let errno = e.raw_os_error();
    let text = msg.unwrap_or_else(|| strerror(e));
    let args = match errno {
        Some(n) => vec![Value::Int(n as i64), Value::string(text)],
        None => vec![Value::string(text)],
    };
    let cls = Value::Class(vm.exc_class("OSError"));
    vm.call(&cls, args).unwrap_or_else(|err| err)
}

/// The C library's message for an error (what CPython's `strerror` attribute holds).
pub fn strerror(e: &io::Error) -> String {
    match e.raw_os_error() {
        Some(n) => unsafe {
            let p = libc::strerror(n);
            if p.is_null() {
                e.to_string()
            } else {
                std::ffi::CStr::from_ptr(p).to_string_lossy().into_owned()
            }
        },
        None => e.to_string(),
    }
}

/// Calls `protocol.name(*args)` soon, as a loop callback (CPython's `loop.call_soon`).
fn call_soon(vm: &mut Vm, t: &Value, name: &str, args: Vec<Value>) -> PyResult<()> {
    let proto = with_t(vm, t, |s| s.protocol.clone())?;
    let f = eddy_vm::attr::get_attr(vm, &proto, name)?;
    events::running_or_err(vm)?.push(Job::call(f, args, Rc::new(Cell::new(false))));
    Ok(())
}

fn call_protocol(vm: &mut Vm, t: &Value, name: &str, args: Vec<Value>) -> PyResult<Value> {
    let proto = with_t(vm, t, |s| s.protocol.clone())?;
    vm.call_method(&proto, name, args)
}

// ---- reading ----

fn start_reading(vm: &Vm, t: &Value) -> PyResult<()> {
    let reader = with_t(vm, t, |s| {
        if s.paused || s.closing || s.read_id.is_some() {
            return None;
        }
        let r = s.reader.take()?;
        Some((r, std::mem::take(&mut s.rbuf)))
    })?;
    let Some((mut reader, mut buf)) = reader else {
        return Ok(());
    };
    if buf.len() < READ_SIZE {
        buf = vec![0u8; READ_SIZE];
    }
    let tv = t.clone();
    let id = reactor::spawn(async move {
        let r = reader.read(&mut buf).await;
        let c: Completion = Box::new(move |vm: &mut Vm| on_read(vm, tv, reader, buf, r));
        c
    });
    with_t(vm, t, |s| s.read_id = Some(id))?;
    Ok(())
}

fn on_read(
    vm: &mut Vm,
    t: Value,
    reader: Reader,
    buf: Vec<u8>,
    r: io::Result<usize>,
) -> PyResult<()> {
    with_t(vm, &t, |s| s.read_id = None)?;
    match r {
        Ok(0) => {
            // The read half is done; the write half stays usable (a half-close).
            let keep_open = call_protocol(vm, &t, "eof_received", vec![])?;
            if !ops::truthy(vm, &keep_open)? {
                close(vm, &t)?;
            }
        }
        Ok(n) => {
            let data = buf[..n.min(buf.len())].to_vec();
            with_t(vm, &t, |s| {
                s.reader = Some(reader);
                s.rbuf = buf;
            })?;
            call_protocol(vm, &t, "data_received", vec![Value::Bytes(Rc::new(data))])?;
            start_reading(vm, &t)?;
        }
        Err(e) => {
            let exc = os_error(vm, &e, None);
            fatal(vm, &t, exc)?;
        }
    }
    Ok(())
}

// ---- writing ----

fn write(vm: &mut Vm, t: &Value, data: &[u8]) -> PyResult<()> {
    let (closing, eof) = with_t(vm, t, |s| (s.closing || s.lost, s.eof_written))?;
    if eof {
        return Err(vm.error("RuntimeError", "Cannot call write() after write_eof()"));
    }
    if closing || data.is_empty() {
        return Ok(());
    }
    with_t(vm, t, |s| s.out.extend_from_slice(data))?;
    start_writing(vm, t)?;
    let pause = with_t(vm, t, |s| {
        let over = s.out.len() > HIGH_WATER && !s.write_paused;
        if over {
            s.write_paused = true;
        }
        over
    })?;
    if pause {
        call_protocol(vm, t, "pause_writing", vec![])?;
    }
    Ok(())
}

fn start_writing(vm: &Vm, t: &Value) -> PyResult<()> {
    let job = with_t(vm, t, |s| {
        if s.writing || s.out.is_empty() {
            return None;
        }
        let w = s.writer.take()?;
        s.writing = true;
        Some((w, std::mem::take(&mut s.out)))
    })?;
    let Some((mut w, chunk)) = job else {
        return Ok(());
    };
    let tv = t.clone();
    reactor::spawn(async move {
        let mut r = w.write_all(&chunk).await;
        if r.is_ok() {
            r = w.flush().await;
        }
        let c: Completion = Box::new(move |vm: &mut Vm| on_written(vm, tv, w, r));
        c
    });
    Ok(())
}

fn on_written(vm: &mut Vm, t: Value, w: Writer, r: io::Result<()>) -> PyResult<()> {
    with_t(vm, &t, |s| {
        s.writing = false;
        s.writer = Some(w);
    })?;
    if let Err(e) = r {
        let exc = os_error(vm, &e, None);
        return fatal(vm, &t, exc);
    }
    let (more, resume) = with_t(vm, &t, |s| {
        let resume = s.write_paused && s.out.len() <= LOW_WATER;
        if resume {
            s.write_paused = false;
        }
        (!s.out.is_empty(), resume)
    })?;
    if resume {
        call_protocol(vm, &t, "resume_writing", vec![])?;
    }
    if more {
        return start_writing(vm, &t);
    }
    finish_writes(vm, &t)
}

/// The buffer is empty: carry out a pending write_eof or close.
fn finish_writes(vm: &mut Vm, t: &Value) -> PyResult<()> {
    let (closing, eof) = with_t(vm, t, |s| (s.closing, s.eof_written))?;
    if closing {
        shutdown_writer(vm, t, true)
    } else if eof {
        shutdown_writer(vm, t, false)
    } else {
        Ok(())
    }
}

/// Closes the write half (a FIN, or the pipe's end); with `lost`, then reports the connection
/// lost once that is done.
fn shutdown_writer(vm: &mut Vm, t: &Value, lost: bool) -> PyResult<()> {
    let w = with_t(vm, t, |s| s.writer.take())?;
    match w {
        Some(mut w) => {
            let tv = t.clone();
            reactor::spawn(async move {
                let _ = w.close().await;
                drop(w);
                let c: Completion = Box::new(move |vm: &mut Vm| {
                    if lost {
                        connection_lost(vm, &tv, Value::None)?;
                    }
                    Ok(())
                });
                c
            });
            Ok(())
        }
        None if lost => connection_lost(vm, t, Value::None),
        None => Ok(()),
    }
}

// ---- closing ----

fn stop_reading(vm: &Vm, t: &Value) -> PyResult<()> {
    if let Some(id) = with_t(vm, t, |s| s.read_id.take())? {
        reactor::cancel(id);
    }
    Ok(())
}

fn close(vm: &mut Vm, t: &Value) -> PyResult<()> {
    let already = with_t(vm, t, |s| std::mem::replace(&mut s.closing, true))?;
    if already {
        return Ok(());
    }
    stop_reading(vm, t)?;
    with_t(vm, t, |s| s.reader = None)?;
    let idle = with_t(vm, t, |s| !s.writing && s.out.is_empty())?;
    if idle {
        shutdown_writer(vm, t, true)?;
    }
    Ok(())
}

/// An I/O error: drop everything and tell the protocol (CPython's `_fatal_error`).
fn fatal(vm: &mut Vm, t: &Value, exc: Value) -> PyResult<()> {
    stop_reading(vm, t)?;
    with_t(vm, t, |s| {
        s.closing = true;
        s.reader = None;
        s.writer = None;
        s.out.clear();
    })?;
    connection_lost(vm, t, exc)
}

fn connection_lost(vm: &mut Vm, t: &Value, exc: Value) -> PyResult<()> {
    let first = with_t(vm, t, |s| !std::mem::replace(&mut s.lost, true))?;
    if first {
        call_soon(vm, t, "connection_lost", vec![exc])?;
    }
    Ok(())
}

/// `abort()`: `fatal` with no exception to report.
fn abort(vm: &mut Vm, t: &Value) -> PyResult<()> {
    fatal(vm, t, Value::None)
}

fn bytes_arg(vm: &Vm, v: &Value) -> PyResult<Rc<Vec<u8>>> {
    match v {
        Value::Bytes(b) => Ok(b.clone()),
        _ => Err(vm.type_error(format!(
            "data argument must be a bytes-like object, not '{}'",
            vm.type_name(v)
        ))),
    }
}

fn repr(vm: &mut Vm, t: &Value) -> PyResult<Value> {
    let (kind, fd, closing, paused, writing, n) = with_t(vm, t, |s| {
        (s.kind, s.fd, s.closing, s.paused, s.writing, s.out.len())
    })?;
    let mut info = format!("<{kind}");
    if closing {
        info.push_str(" closing");
    }
    info.push_str(&format!(" fd={fd}"));
    if !closing {
        let read = if paused { "idle" } else { "polling" };
        let state = if writing || n > 0 { "polling" } else { "idle" };
        info.push_str(&format!(" read={read} write=<{state}, bufsize={n}>"));
    }
    info.push('>');
    Ok(Value::string(info))
}

pub fn install(vm: &Vm) -> (Rc<Class>, Rc<Class>) {
    let cls = util::plain_class("_Transport", "asyncio.transports", vm.types.object.clone());
    util::methods(
        vm,
        &cls,
        &[
            ("_set_protocol", |vm, a| {
                let p = a.pos.get(1).cloned().unwrap_or(Value::None);
                with_t(vm, &a.pos[0], |s| s.protocol = p)?;
                Ok(Value::None)
            }),
            ("get_protocol", |vm, a| {
                with_t(vm, &a.pos[0], |s| s.protocol.clone())
            }),
            ("write", |vm, a| {
                util::arity(vm, "write", &a, 2, 2)?;
                let data = bytes_arg(vm, &a.pos[1])?;
                write(vm, &a.pos[0], &data)?;
                Ok(Value::None)
            }),
            ("writelines", |vm, a| {
                util::arity(vm, "writelines", &a, 2, 2)?;
                let mut all = Vec::new();
                for item in ops::collect(vm, &a.pos[1])? {
                    all.extend_from_slice(&bytes_arg(vm, &item)?);
                }
                write(vm, &a.pos[0], &all)?;
                Ok(Value::None)
            }),
            ("write_eof", |vm, a| {
                let t = &a.pos[0];
                let skip = with_t(vm, t, |s| {
                    s.closing || std::mem::replace(&mut s.eof_written, true)
                })?;
                if !skip && with_t(vm, t, |s| !s.writing && s.out.is_empty())? {
                    shutdown_writer(vm, t, false)?;
                }
                Ok(Value::None)
            }),
            ("can_write_eof", |_vm, _a| Ok(Value::Bool(true))),
            ("get_write_buffer_size", |vm, a| {
                with_t(vm, &a.pos[0], |s| Value::Int(s.out.len() as i64))
            }),
            ("is_closing", |vm, a| {
                with_t(vm, &a.pos[0], |s| Value::Bool(s.closing || s.lost))
            }),
            ("close", |vm, a| {
                close(vm, &a.pos[0])?;
                Ok(Value::None)
            }),
            ("abort", |vm, a| {
                abort(vm, &a.pos[0])?;
                Ok(Value::None)
            }),
            ("pause_reading", |vm, a| {
                with_t(vm, &a.pos[0], |s| s.paused = true)?;
                // A read already in flight delivers its data; no new one starts.
                Ok(Value::None)
            }),
            ("resume_reading", |vm, a| {
                with_t(vm, &a.pos[0], |s| s.paused = false)?;
                start_reading(vm, &a.pos[0])?;
                Ok(Value::None)
            }),
            ("is_reading", |vm, a| {
                with_t(vm, &a.pos[0], |s| Value::Bool(!s.paused && !s.closing))
            }),
            ("get_extra_info", |vm, mut a| {
                let default = util::arg(&mut a, 2, "default").unwrap_or(Value::None);
                let name = a.pos.get(1).cloned().unwrap_or(Value::None);
                let Value::Str(name) = name else {
                    return Ok(default);
                };
                let found = with_t(vm, &a.pos[0], |s| {
                    s.extra
                        .iter()
                        .find(|(k, _)| **k == *name.s)
                        .map(|(_, v)| v.clone())
                })?;
                Ok(found.unwrap_or(default))
            }),
            ("__repr__", |vm, a| repr(vm, &a.pos[0])),
        ],
    );
    CLASS.with(|c| *c.borrow_mut() = Some(cls.clone()));
    let buf = buffer_class(vm);
    BUFFER_CLASS.with(|c| *c.borrow_mut() = Some(buf.clone()));
    (cls, buf)
}

// ---- _Buffer ----

/// Bytes not yet consumed: `data[head..]` (consumed bytes are dropped in batches).
#[derive(Default)]
pub struct Buffer {
    data: Vec<u8>,
    head: usize,
}
native_state!(Buffer, |_s, _f| {}, |_c, _out| {});

impl Buffer {
    fn live(&self) -> &[u8] {
        &self.data[self.head..]
    }
    fn take(&mut self, n: usize) -> Vec<u8> {
        let n = n.min(self.data.len() - self.head);
        let out = self.data[self.head..self.head + n].to_vec();
        self.head += n;
        if self.head == self.data.len() {
            self.data.clear();
            self.head = 0;
        } else if self.head > 64 * 1024 && self.head * 2 > self.data.len() {
            self.data.drain(..self.head);
            self.head = 0;
        }
        out
    }
}

fn with_b<R>(vm: &Vm, v: &Value, f: impl FnOnce(&mut Buffer) -> R) -> PyResult<R> {
    util::state(vm, v, "_Buffer", f)
}

fn index_arg(vm: &mut Vm, a: &Args, i: usize) -> PyResult<i64> {
    match a.pos.get(i) {
        Some(v) => util::to_i64(vm, v),
        None => Ok(0),
    }
}

fn buffer_class(vm: &Vm) -> Rc<Class> {
    let cls = util::native_class(vm, "_Buffer", "asyncio.streams", None, |vm, mut a| {
        let cls = util::new_cls(vm, &mut a)?;
        Ok(util::new_native(&cls, Buffer::default()))
    });
    util::methods(
        vm,
        &cls,
        &[
            ("extend", |vm, a| {
                let data = bytes_arg(vm, a.pos.get(1).unwrap_or(&Value::None))?;
                with_b(vm, &a.pos[0], |b| b.data.extend_from_slice(&data))?;
                Ok(Value::None)
            }),
            ("__len__", |vm, a| {
                with_b(vm, &a.pos[0], |b| Value::Int(b.live().len() as i64))
            }),
            ("__bool__", |vm, a| {
                with_b(vm, &a.pos[0], |b| Value::Bool(!b.live().is_empty()))
            }),
            ("find", |vm, a| {
                let sep = bytes_arg(vm, a.pos.get(1).unwrap_or(&Value::None))?;
                let start = index_arg(vm, &a, 2)?.max(0) as usize;
                with_b(vm, &a.pos[0], |b| {
                    let live = b.live();
                    let hit = (start <= live.len())
                        .then(|| {
                            live[start..]
                                .windows(sep.len().max(1))
                                .position(|w| w == &sep[..])
                        })
                        .flatten();
                    Value::Int(hit.map(|p| (p + start) as i64).unwrap_or(-1))
                })
            }),
            ("startswith", |vm, a| {
                let sep = bytes_arg(vm, a.pos.get(1).unwrap_or(&Value::None))?;
                let start = index_arg(vm, &a, 2)?.max(0) as usize;
                with_b(vm, &a.pos[0], |b| {
                    let live = b.live();
                    Value::Bool(start <= live.len() && live[start..].starts_with(&sep))
                })
            }),
            ("take", |vm, a| {
                let n = index_arg(vm, &a, 1)?.max(0) as usize;
                let out = with_b(vm, &a.pos[0], |b| b.take(n))?;
                Ok(Value::Bytes(Rc::new(out)))
            }),
            ("take_all", |vm, a| {
                let out = with_b(vm, &a.pos[0], |b| b.take(usize::MAX))?;
                Ok(Value::Bytes(Rc::new(out)))
            }),
            ("clear", |vm, a| {
                with_b(vm, &a.pos[0], |b| *b = Buffer::default())?;
                Ok(Value::None)
            }),
        ],
    );
    cls
}
