//! The compiler: AST → `Code`, in two passes. `symtable` decides where every name lives;
//! `codegen` walks the tree once and emits instructions, the line table and the exception table.

pub mod codegen;
pub mod mangle;
pub mod stackdepth;
pub mod symtable;

pub use codegen::{compile_module, CompileError, Mode};
