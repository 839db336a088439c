//! [`HostError`]: how a host function fails. It names the Python exception class scripts see
//! (`ValueError`, `OSError`...) and its message; any `std::error::Error` converts into one, so
//! host functions can use `?` on their own errors.

use std::fmt;

use eddy_vm::Value;

use super::RawVm;

/// An error a host function returns; scripts see it as an exception of class `kind`.
///
/// ```
/// use eddy::HostError;
/// let mut vm = eddy::Vm::new();
/// vm.register_fn("half", |n: i64| {
///     if n % 2 != 0 {
///         return Err(HostError::value_error(format!("{n} is odd")));
///     }
///     Ok(n / 2)
/// });
/// let err = vm.run("half(3)").unwrap_err();
/// assert_eq!(err.last_line(), "ValueError: 3 is odd");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostError {
    /// The built-in exception class to raise, e.g. `ValueError`.
    pub kind: String,
    /// The exception's message.
    pub message: String,
}

impl HostError {
    /// An exception of the built-in class `kind` (unknown names raise `Exception`).
    pub fn new(kind: impl Into<String>, message: impl Into<String>) -> HostError {
        HostError {
            kind: kind.into(),
            message: message.into(),
        }
    }
    /// A `ValueError`.
    pub fn value_error(message: impl Into<String>) -> HostError {
        HostError::new("ValueError", message)
    }
    /// A `TypeError`.
    pub fn type_error(message: impl Into<String>) -> HostError {
        HostError::new("TypeError", message)
    }
    /// A `RuntimeError`.
    pub fn runtime_error(message: impl Into<String>) -> HostError {
        HostError::new("RuntimeError", message)
    }
    /// The exception instance scripts see.
    pub fn into_exception(self, vm: &RawVm) -> Value {
        vm.error(&self.kind, self.message)
    }
}

impl fmt::Display for HostError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind, self.message)
    }
}

/// Any error type: an I/O error becomes the `OSError` subclass CPython would raise for it,
/// anything else a `RuntimeError` with the error's text.
impl<E: std::error::Error + 'static> From<E> for HostError {
    fn from(e: E) -> HostError {
        let any: &dyn std::any::Any = &e;
        let kind = match any.downcast_ref::<std::io::Error>() {
            Some(io) => io_kind(io),
            None => "RuntimeError",
        };
        HostError::new(kind, e.to_string())
    }
}

/// The Python class for an I/O error, as CPython maps errno values.
fn io_kind(e: &std::io::Error) -> &'static str {
    use std::io::ErrorKind as K;
    match e.kind() {
        K::NotFound => "FileNotFoundError",
        K::PermissionDenied => "PermissionError",
        K::AlreadyExists => "FileExistsError",
        K::ConnectionRefused => "ConnectionRefusedError",
        K::ConnectionReset => "ConnectionResetError",
        K::ConnectionAborted => "ConnectionAbortedError",
        K::BrokenPipe => "BrokenPipeError",
        K::TimedOut => "TimeoutError",
        K::Interrupted => "InterruptedError",
        _ => "OSError",
    }
}
