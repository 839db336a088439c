//! Where an embedded VM's `print` goes: the process's stdout and stderr (the default), a
//! buffer the host reads with [`Vm::take_stdout`](crate::Vm::take_stdout), or any pair of
//! writers / callbacks the host supplies.

use std::cell::RefCell;
use std::io::Write;
use std::rc::Rc;

use eddy_vm::vm::OutputSink;

/// The two buffers of captured output, shared between the sink and the `Vm`.
#[derive(Clone, Default)]
pub(crate) struct Captured {
    out: Rc<RefCell<String>>,
    err: Rc<RefCell<String>>,
}

impl Captured {
    pub fn take_stdout(&self) -> String {
        std::mem::take(&mut *self.out.borrow_mut())
    }
    pub fn take_stderr(&self) -> String {
        std::mem::take(&mut *self.err.borrow_mut())
    }
    pub fn sink(&self) -> Box<dyn OutputSink> {
        Box::new(self.clone())
    }
}

impl OutputSink for Captured {
    fn write_stdout(&mut self, s: &str) {
        self.out.borrow_mut().push_str(s);
    }
    fn write_stderr(&mut self, s: &str) {
        self.err.borrow_mut().push_str(s);
    }
}

/// Output sent to two writers (a file, a socket, `Vec<u8>`...).
pub struct WriterSink<O: Write, E: Write> {
    /// Where `print` goes.
    pub out: O,
    /// Where `print(..., file=sys.stderr)` and tracebacks go.
    pub err: E,
}

impl<O: Write, E: Write> OutputSink for WriterSink<O, E> {
    fn write_stdout(&mut self, s: &str) {
        let _ = self.out.write_all(s.as_bytes());
    }
    fn write_stderr(&mut self, s: &str) {
        let _ = self.out.flush();
        let _ = self.err.write_all(s.as_bytes());
    }
    fn flush(&mut self) {
        let _ = self.out.flush();
        let _ = self.err.flush();
    }
}

/// Output handed to a callback: `(is_stderr, text)`.
pub struct CallbackSink<F: FnMut(bool, &str)>(pub F);

impl<F: FnMut(bool, &str)> OutputSink for CallbackSink<F> {
    fn write_stdout(&mut self, s: &str) {
        (self.0)(false, s)
    }
    fn write_stderr(&mut self, s: &str) {
        (self.0)(true, s)
    }
}
