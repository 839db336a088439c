//! The lexer's error type: a CPython-worded message plus the byte range it points at.
//!
//! The parser crate turns these into its public `SyntaxError` unchanged.

use std::fmt;

/// A tokenizer error (bad character, unterminated string, bad indentation, ...).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LexError {
    /// CPython-style message, e.g. `unterminated string literal (detected at line 3)`.
    pub message: String,
    pub start: usize,
    pub end: usize,
    /// Words for the label under the span.
    pub label: String,
    pub help: Option<String>,
}

impl LexError {
    pub fn new(
        message: impl Into<String>,
        start: usize,
        end: usize,
        label: impl Into<String>,
    ) -> LexError {
        LexError {
            message: message.into(),
            start,
            end,
            label: label.into(),
            help: None,
        }
    }

    pub fn with_help(mut self, help: impl Into<String>) -> LexError {
        self.help = Some(help.into());
        self
    }
}

impl fmt::Display for LexError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for LexError {}

/// 1-based line number of byte offset `pos` in `src` (counting `\n`, `\r\n` and lone `\r`).
pub fn line_of(src: &str, pos: usize) -> usize {
    let pos = pos.min(src.len());
    let bytes = &src.as_bytes()[..pos];
    let mut line = 1;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\n' => line += 1,
            b'\r' if bytes.get(i + 1) != Some(&b'\n') => line += 1,
            _ => {}
        }
        i += 1;
    }
    line
}
