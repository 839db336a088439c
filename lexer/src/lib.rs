//! Eddy's tokenizer: raw tokens (logos), layout (NEWLINE/INDENT/DEDENT), and decoding helpers for
//! numeric, string and f-string literals. Tokens carry only a kind and a byte span.

pub mod error;
pub mod fstring;
pub mod layout;
pub mod lexer;
pub mod numbers;
pub mod strings;
pub mod token;

pub use error::LexError;
pub use layout::{tokenize, tokenize_expr, Layout};
pub use lexer::RawLexer;
pub use token::{Tok, Token};
