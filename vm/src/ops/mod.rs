//! Operations on values that opcodes and built-ins share: truth, arithmetic, comparison, hashing,
//! repr/str, containers and iteration, and the exception helpers. Each file holds one family.

mod arith;
mod compare;
mod container;
mod format_spec;
mod misc;
mod repr;
mod sets;

pub use arith::*;
pub use compare::*;
pub use container::*;
pub use format_spec::*;
pub use misc::*;
pub use repr::*;
pub use sets::*;
