//! The terminal side of Eddy's REPL, which needs only the lexer and parser: deciding when an
//! input is complete (`validate`), colouring it (`highlight`), what Tab completes (`complete`),
//! where history lives (`history`), lines typed ahead while an input ran (`typeahead`) and the
//! rustyline editor on its own thread (`reader`).
//! Running inputs, the event loop between prompts and the `:` commands are the `eddy` crate's
//! `repl` module, which depends on this crate (never the other way round).

pub mod complete;
pub mod highlight;
pub mod history;
pub mod reader;
pub mod typeahead;
pub mod validate;

pub use validate::{verdict, Verdict};
