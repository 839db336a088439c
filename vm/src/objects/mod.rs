//! Object kinds behind `Value`'s pointer variants, one file per kind.

pub mod class;
pub mod dict;
pub mod exception;
pub mod function;
pub mod generator;
pub mod iter;
pub mod misc;
pub mod module;
pub mod set;
