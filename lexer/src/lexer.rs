//! Raw tokenization with logos: names, keywords, numbers, strings, operators and physical
//! newlines. Comments, spaces and backslash continuations are skipped here; indentation and
//! logical lines are the job of [`crate::layout`].

use logos::Logos;

use crate::error::{line_of, LexError};
use crate::numbers::scan_number;
use crate::strings::{scan_string, ScanError};
use crate::token::{Tok, Token};

/// Extra lexer errors raised from callbacks.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum RawError {
    /// No rule matched (a stray character).
    #[default]
    Unknown,
    /// A bad numeric literal: message and the length of text it covers.
    Number(String, usize),
    /// An unterminated string literal.
    String(ScanError),
    /// A backslash not followed by a newline.
    Continuation,
}

fn number(lex: &mut logos::Lexer<'_, RawTok>) -> Result<Tok, RawError> {
    let start_len = lex.slice().len();
    let rest = &lex.source()[lex.span().start..];
    match scan_number(rest) {
        Ok((len, kind)) => {
            lex.bump(len - start_len);
            Ok(kind)
        }
        Err((msg, len)) => Err(RawError::Number(msg, len)),
    }
}

fn continuation(_: &mut logos::Lexer<'_, RawTok>) -> Result<(), RawError> {
    Err(RawError::Continuation)
}

fn string(lex: &mut logos::Lexer<'_, RawTok>) -> Result<(), RawError> {
    let start_len = lex.slice().len();
    let rest = &lex.source()[lex.span().start..];
    match scan_string(rest) {
        Ok(len) => {
            lex.bump(len - start_len);
            Ok(())
        }
        Err(e) => Err(RawError::String(e)),
    }
}

/// The raw token set recognised by logos.
#[derive(Logos, Clone, Copy, Debug, PartialEq)]
#[logos(error = RawError)]
#[logos(skip r"[ \t\x0C]+")]
#[logos(skip r"#[^\r\n]*")]
#[logos(skip r"\\(\r\n|\r|\n)")]
pub enum RawTok {
    #[regex(r"\r\n|\r|\n")]
    Newline,
    #[regex(r"\\", continuation)]
    Backslash,
    #[regex(r"[a-zA-Z_\u{80}-\u{10FFFF}][a-zA-Z0-9_\u{80}-\u{10FFFF}]*")]
    Name,
    #[regex(r"[0-9]", number)]
    #[regex(r"\.[0-9]", number)]
    Number(Tok),
    #[regex(r#"([rRuUfFbB]|[rR][bBfF]|[bBfF][rR])?['"]"#, string)]
    Str,

    #[token("False", |_| Tok::False)]
    #[token("None", |_| Tok::None)]
    #[token("True", |_| Tok::True)]
    #[token("and", |_| Tok::And)]
    #[token("as", |_| Tok::As)]
    #[token("assert", |_| Tok::Assert)]
    #[token("async", |_| Tok::Async)]
    #[token("await", |_| Tok::Await)]
    #[token("break", |_| Tok::Break)]
    #[token("class", |_| Tok::Class)]
    #[token("continue", |_| Tok::Continue)]
    #[token("def", |_| Tok::Def)]
    #[token("del", |_| Tok::Del)]
    #[token("elif", |_| Tok::Elif)]
    #[token("else", |_| Tok::Else)]
    #[token("except", |_| Tok::Except)]
    #[token("finally", |_| Tok::Finally)]
    #[token("for", |_| Tok::For)]
    #[token("from", |_| Tok::From)]
    #[token("global", |_| Tok::Global)]
    #[token("if", |_| Tok::If)]
    #[token("import", |_| Tok::Import)]
    #[token("in", |_| Tok::In)]
    #[token("is", |_| Tok::Is)]
    #[token("lambda", |_| Tok::Lambda)]
    #[token("nonlocal", |_| Tok::Nonlocal)]
    #[token("not", |_| Tok::Not)]
    #[token("or", |_| Tok::Or)]
    #[token("pass", |_| Tok::Pass)]
    #[token("raise", |_| Tok::Raise)]
    #[token("return", |_| Tok::Return)]
    #[token("try", |_| Tok::Try)]
    #[token("while", |_| Tok::While)]
    #[token("with", |_| Tok::With)]
    #[token("yield", |_| Tok::Yield)]
    Keyword(Tok),

    #[token("+", |_| Tok::Plus)]
    #[token("-", |_| Tok::Minus)]
    #[token("*", |_| Tok::Star)]
    #[token("**", |_| Tok::DoubleStar)]
    #[token("/", |_| Tok::Slash)]
    #[token("//", |_| Tok::DoubleSlash)]
    #[token("%", |_| Tok::Percent)]
    #[token("@", |_| Tok::At)]
    #[token("<<", |_| Tok::LShift)]
    #[token(">>", |_| Tok::RShift)]
    #[token("&", |_| Tok::Amp)]
    #[token("|", |_| Tok::Pipe)]
    #[token("^", |_| Tok::Caret)]
    #[token("~", |_| Tok::Tilde)]
    #[token(":=", |_| Tok::ColonEqual)]
    #[token("<", |_| Tok::Less)]
    #[token(">", |_| Tok::Greater)]
    #[token("<=", |_| Tok::LessEqual)]
    #[token(">=", |_| Tok::GreaterEqual)]
    #[token("==", |_| Tok::EqEqual)]
    #[token("!=", |_| Tok::NotEqual)]
    #[token("(", |_| Tok::LPar)]
    #[token(")", |_| Tok::RPar)]
    #[token("[", |_| Tok::LSqb)]
    #[token("]", |_| Tok::RSqb)]
    #[token("{", |_| Tok::LBrace)]
    #[token("}", |_| Tok::RBrace)]
    #[token(",", |_| Tok::Comma)]
    #[token(":", |_| Tok::Colon)]
    #[token(".", |_| Tok::Dot)]
    #[token(";", |_| Tok::Semi)]
    #[token("=", |_| Tok::Equal)]
    #[token("->", |_| Tok::Arrow)]
    #[token("...", |_| Tok::Ellipsis)]
    #[token("+=", |_| Tok::PlusEqual)]
    #[token("-=", |_| Tok::MinusEqual)]
    #[token("*=", |_| Tok::StarEqual)]
    #[token("/=", |_| Tok::SlashEqual)]
    #[token("//=", |_| Tok::DoubleSlashEqual)]
    #[token("%=", |_| Tok::PercentEqual)]
    #[token("@=", |_| Tok::AtEqual)]
    #[token("&=", |_| Tok::AmpEqual)]
    #[token("|=", |_| Tok::PipeEqual)]
    #[token("^=", |_| Tok::CaretEqual)]
    #[token("<<=", |_| Tok::LShiftEqual)]
    #[token(">>=", |_| Tok::RShiftEqual)]
    #[token("**=", |_| Tok::DoubleStarEqual)]
    Op(Tok),
}

/// A raw token: a `Tok` plus span, where `Tok::Newline` marks a physical line end.
pub type RawResult = Result<Token, LexError>;

/// Iterator over raw tokens of `source[start..end]`, with spans relative to the whole `source`.
/// Stops after the first error.
pub struct RawLexer<'s> {
    source: &'s str,
    inner: logos::Lexer<'s, RawTok>,
    offset: usize,
    done: bool,
}

impl<'s> RawLexer<'s> {
    pub fn new(source: &'s str) -> RawLexer<'s> {
        // A UTF-8 byte-order mark at the very start is ignored.
        let start = if source.starts_with('\u{FEFF}') { 3 } else { 0 };
        RawLexer::range(source, start, source.len())
    }

    /// Lexes only `source[start..end]` (used for f-string expressions).
    pub fn range(source: &'s str, start: usize, end: usize) -> RawLexer<'s> {
        RawLexer {
            source,
            inner: RawTok::lexer(&source[start..end]),
            offset: start,
            done: false,
        }
    }

    fn error(&self, e: RawError, start: usize, end: usize) -> LexError {
        let src = self.source;
        match e {
            RawError::Number(msg, len) => {
                let end = (start + len).min(src.len());
                let label = if msg.starts_with("leading zeros") {
                    "leading zero"
                } else if msg.starts_with("imaginary") {
                    "complex literal"
                } else {
                    "invalid number"
                };
                let mut err = LexError::new(msg.clone(), start, end, label);
                if msg.starts_with("leading zeros") {
                    err = err
                        .with_help("write 0o17 for an octal number, or remove the leading zeros");
                } else if msg == "invalid decimal literal" {
                    err = err.with_help(
                        "names cannot start with a digit; separate the number from what follows",
                    );
                }
                err
            }
            RawError::String(ScanError::Unterminated { triple, at }) => {
                let line = line_of(src, start + at);
                if triple {
                    LexError::new(
                        format!(
                            "unterminated triple-quoted string literal (detected at line {line})"
                        ),
                        start,
                        (start + 3).min(src.len()).max(start),
                        "this string is never closed",
                    )
                    .with_help("close the string with matching triple quotes")
                } else {
                    LexError::new(
                        format!("unterminated string literal (detected at line {line})"),
                        start,
                        start + at,
                        "this string is never closed",
                    )
                    .with_help("add the closing quote on the same line, or use triple quotes for a multi-line string")
                }
            }
            RawError::Continuation => LexError::new(
                "unexpected character after line continuation character",
                start,
                end,
                "a backslash continues a line only at its very end",
            ),
            RawError::Unknown => {
                let c = src[start..].chars().next().unwrap_or(' ');
                let end = start + c.len_utf8();
                if c == '\0' {
                    LexError::new(
                        "source code cannot contain null bytes",
                        start,
                        end,
                        "null byte",
                    )
                } else if c.is_ascii_graphic() {
                    LexError::new(
                        "invalid syntax",
                        start,
                        end,
                        format!("'{c}' is not valid here"),
                    )
                } else if c.is_control() || c.is_whitespace() {
                    LexError::new(
                        format!("invalid non-printable character U+{:04X}", c as u32),
                        start,
                        end,
                        "invisible character",
                    )
                } else {
                    LexError::new(
                        format!("invalid character '{c}' (U+{:04X})", c as u32),
                        start,
                        end,
                        "this character is not allowed here",
                    )
                }
            }
        }
    }
}

impl Iterator for RawLexer<'_> {
    type Item = RawResult;

    fn next(&mut self) -> Option<RawResult> {
        if self.done {
            return None;
        }
        let item = self.inner.next()?;
        let span = self.inner.span();
        let (start, end) = (span.start + self.offset, span.end + self.offset);
        let kind = match item {
            Ok(RawTok::Newline) => Tok::Newline,
            Ok(RawTok::Name) => {
                let text = &self.source[start..end];
                if let Some(bad) = text.chars().find(|c| !c.is_ascii() && !c.is_alphanumeric()) {
                    let at = start + text.find(bad).unwrap_or(0);
                    self.done = true;
                    return Some(Err(self.error(RawError::Unknown, at, at + bad.len_utf8())));
                }
                Tok::Name
            }
            Ok(RawTok::Number(k)) | Ok(RawTok::Keyword(k)) | Ok(RawTok::Op(k)) => k,
            Ok(RawTok::Str) => Tok::String,
            Ok(RawTok::Backslash) => unreachable!("backslash callback always errors"),
            Err(e) => {
                self.done = true;
                return Some(Err(self.error(e, start, end)));
            }
        };
        Some(Ok(Token::new(kind, start, end)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(s: &str) -> Vec<Tok> {
        RawLexer::new(s).map(|t| t.unwrap().kind).collect()
    }

    #[test]
    fn basic_tokens() {
        use Tok::*;
        assert_eq!(kinds("x = 1 + 2.5"), vec![Name, Equal, Int, Plus, Float]);
        assert_eq!(
            kinds("a **= b // c"),
            vec![Name, DoubleStarEqual, Name, DoubleSlash, Name]
        );
        assert_eq!(
            kinds("f(x) -> ...:"),
            vec![Name, LPar, Name, RPar, Arrow, Ellipsis, Colon]
        );
        assert_eq!(kinds("match case type _"), vec![Name, Name, Name, Name]);
        assert_eq!(kinds("define if_ if"), vec![Name, Name, If]);
        assert_eq!(
            kinds("rb'x' f\"y\" b'' u'z'"),
            vec![String, String, String, String]
        );
        assert_eq!(kinds("a # comment\nb"), vec![Name, Newline, Name]);
        assert_eq!(kinds("a \\\n b"), vec![Name, Name]);
        assert_eq!(kinds("x.y .5 1."), vec![Name, Dot, Name, Float, Float]);
        assert_eq!(
            kinds("a := b != c"),
            vec![Name, ColonEqual, Name, NotEqual, Name]
        );
        assert_eq!(kinds("héllo"), vec![Name]);
    }

    #[test]
    fn errors() {
        let err = |s: &str| RawLexer::new(s).find_map(|t| t.err()).unwrap();
        assert_eq!(
            err("x = 'abc\n").message,
            "unterminated string literal (detected at line 1)"
        );
        assert_eq!(
            err("x = '''abc\n\n").message,
            "unterminated triple-quoted string literal (detected at line 3)"
        );
        assert_eq!(err("1abc").message, "invalid decimal literal");
        assert_eq!(err("a $ b").message, "invalid syntax");
        assert_eq!(err("a = €").message, "invalid character '€' (U+20AC)");
        assert_eq!(
            err("a \\ b").message,
            "unexpected character after line continuation character"
        );
    }
}
