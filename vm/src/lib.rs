//! The Eddy virtual machine: compiler (AST → bytecode), object model, and the stackless
//! interpreter loop. It knows nothing of the event loop or of terminals; see ARCHITECTURE.md.

pub mod attr;
pub mod breaker;
pub mod builtins;
pub mod call;
pub mod code;
pub mod compile;
pub mod dis;
pub mod exceptions;
pub mod frame;
pub mod gc;
pub mod generators;
pub mod import;
pub mod interp;
pub mod names;
pub mod objects;
pub mod opcode;
pub mod ops;
pub mod sandbox;
pub mod threads;
pub mod traceback;
pub mod types;
pub mod value;
pub mod vm;

pub use code::{Code, SourceFile};
pub use objects::function::Args;
pub use value::Value;
pub use vm::Vm;

/// The result of anything that can raise: the error is the exception instance.
pub type PyResult<T = Value> = Result<T, Value>;
