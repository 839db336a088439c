//! Logical-line layout: turns raw tokens into the token stream the grammar sees, inserting
//! `Newline`, `Indent` and `Dedent`.
//!
//! Newlines inside brackets are ignored, blank and comment-only lines are skipped, backslash
//! continuations were already removed by the raw lexer, inconsistent tabs/spaces are rejected, and
//! a final `Newline` plus the outstanding `Dedent`s are emitted at end of input. Bracket balance is
//! checked here (`'(' was never closed`, `unmatched ')'`, mismatched pairs), and so are the
//! nesting limits that keep later recursive passes (drop, compile) from overflowing the stack:
//! at most [`MAX_BRACKET_DEPTH`] open brackets, [`MAX_INDENT_DEPTH`] indentation levels and
//! [`MAX_EXPR_COMPLEXITY`] operators along any one path of an expression.

use std::collections::VecDeque;

use crate::error::{line_of, LexError};
use crate::lexer::RawLexer;
use crate::token::{Tok, Token};

/// Most brackets that may be open at once (CPython: "too many nested parentheses" at 200).
pub const MAX_BRACKET_DEPTH: usize = 200;
/// Most indentation levels (CPython: "too many levels of indentation" at 100).
pub const MAX_INDENT_DEPTH: usize = 100;
/// Most operators/trailers that may nest inside one comma-separated element of a logical line,
/// which bounds the depth of any expression tree.
pub const MAX_EXPR_COMPLEXITY: usize = 1000;

/// The layout adapter. Yields tokens until the first error, which is yielded once.
pub struct Layout<'s, I> {
    src: &'s str,
    raw: I,
    pending: VecDeque<Token>,
    /// Indentation stack: (column with tabs to 8, column with tabs as 1).
    indents: Vec<(usize, usize)>,
    brackets: Vec<Token>,
    at_line_start: bool,
    done: bool,
    /// Expression mode (f-string fields): no layout tokens at all.
    expr_mode: bool,
    /// Complexity counters per bracket level: (current element, max of finished elements).
    levels: Vec<(usize, usize)>,
    total: usize,
}

impl<'s, I: Iterator<Item = Result<Token, LexError>>> Layout<'s, I> {
    pub fn new(src: &'s str, raw: I) -> Self {
        Layout {
            src,
            raw,
            pending: VecDeque::new(),
            indents: vec![(0, 0)],
            brackets: Vec::new(),
            at_line_start: true,
            done: false,
            expr_mode: false,
            levels: vec![(0, 0)],
            total: 0,
        }
    }

    /// A layout that emits no `Newline`/`Indent`/`Dedent` (for f-string expressions).
    pub fn expression(src: &'s str, raw: I) -> Self {
        let mut l = Layout::new(src, raw);
        l.expr_mode = true;
        l.at_line_start = false;
        l
    }

    fn fail(&mut self, e: LexError) -> Option<Result<Token, LexError>> {
        self.done = true;
        self.pending.clear();
        Some(Err(e))
    }

    fn indentation(&mut self, tok: &Token) -> Result<(), LexError> {
        let b = self.src.as_bytes();
        let mut line_start = tok.start;
        while line_start > 0 && b[line_start - 1] != b'\n' && b[line_start - 1] != b'\r' {
            line_start -= 1;
        }
        let (mut col, mut alt) = (0usize, 0usize);
        for &c in &b[line_start..tok.start] {
            match c {
                b' ' => {
                    col += 1;
                    alt += 1;
                }
                b'\t' => {
                    col = (col / 8 + 1) * 8;
                    alt += 1;
                }
                b'\x0c' => {
                    col = 0;
                    alt = 0;
                }
                // A continuation line or other prefix: not a new indentation.
                _ => return Ok(()),
            }
        }
        let tab_error = |s: usize, e: usize| {
            LexError::new(
                "inconsistent use of tabs and spaces in indentation",
                s,
                e,
                "mixed tabs and spaces",
            )
            .with_help("indent with spaces only (4 per level is conventional)")
        };
        let (top, top_alt) = *self.indents.last().unwrap_or(&(0, 0));
        if col == top {
            if alt != top_alt {
                return Err(tab_error(line_start, tok.start));
            }
        } else if col > top {
            if alt <= top_alt {
                return Err(tab_error(line_start, tok.start));
            }
            if self.indents.len() > MAX_INDENT_DEPTH {
                return Err(LexError::new(
                    "too many levels of indentation",
                    line_start,
                    tok.start,
                    "indented too deeply",
                )
                .with_help(format!(
                    "at most {MAX_INDENT_DEPTH} levels of indentation are supported"
                )));
            }
            self.indents.push((col, alt));
            self.pending
                .push_back(Token::new(Tok::Indent, line_start, tok.start));
        } else {
            while self.indents.last().is_some_and(|&(c, _)| col < c) {
                self.indents.pop();
                self.pending
                    .push_back(Token::new(Tok::Dedent, tok.start, tok.start));
            }
            let (top, top_alt) = *self.indents.last().unwrap_or(&(0, 0));
            if col != top {
                return Err(LexError::new(
                    "unindent does not match any outer indentation level",
                    line_start,
                    tok.start,
                    "this line's indentation matches no enclosing block",
                )
                .with_help("dedent to exactly the indentation of an enclosing block"));
            }
            if alt != top_alt {
                return Err(tab_error(line_start, tok.start));
            }
        }
        Ok(())
    }

    fn brackets_and_complexity(&mut self, tok: &Token) -> Result<(), LexError> {
        let k = tok.kind;
        if k.is_close_bracket() {
            let Some(open) = self.brackets.pop() else {
                let c = k.text().unwrap_or(")");
                return Err(LexError::new(
                    format!("unmatched '{c}'"),
                    tok.start,
                    tok.end,
                    "no matching opening bracket",
                )
                .with_help("remove it or add the matching opening bracket"));
            };
            let want = match open.kind {
                Tok::LSqb => Tok::RSqb,
                Tok::LBrace => Tok::RBrace,
                _ => Tok::RPar,
            };
            if want != k {
                let (o, c) = (open.kind.text().unwrap_or("("), k.text().unwrap_or(")"));
                let (lo, lc) = (line_of(self.src, open.start), line_of(self.src, tok.start));
                let msg = if lo == lc {
                    format!("closing parenthesis '{c}' does not match opening parenthesis '{o}'")
                } else {
                    format!("closing parenthesis '{c}' does not match opening parenthesis '{o}' on line {lo}")
                };
                return Err(LexError::new(
                    msg,
                    tok.start,
                    tok.end,
                    format!("expected '{}'", want.text().unwrap_or(")")),
                )
                .with_help(format!(
                    "the '{o}' opened on line {lo} must be closed with '{}'",
                    want.text().unwrap_or(")")
                )));
            }
            let (c, m) = self.levels.pop().unwrap_or((0, 0));
            self.total -= c;
            let inner = c.max(m);
            if let Some(top) = self.levels.last_mut() {
                top.0 += inner;
            }
            self.total += inner;
            return Ok(());
        }
        match k {
            Tok::Name
            | Tok::Int
            | Tok::Float
            | Tok::String
            | Tok::Newline
            | Tok::Indent
            | Tok::Dedent => return Ok(()),
            Tok::Comma | Tok::Semi => {
                if let Some(top) = self.levels.last_mut() {
                    self.total -= top.0;
                    top.1 = top.1.max(top.0);
                    top.0 = 0;
                }
                return Ok(());
            }
            _ => {}
        }
        if let Some(top) = self.levels.last_mut() {
            top.0 += 1;
        }
        self.total += 1;
        if self.total > MAX_EXPR_COMPLEXITY {
            return Err(LexError::new(
                format!(
                    "expression too complex (more than {MAX_EXPR_COMPLEXITY} nested operations)"
                ),
                tok.start,
                tok.end,
                "nesting limit reached here",
            )
            .with_help("split the expression into several statements"));
        }
        if k.is_open_bracket() {
            self.brackets.push(*tok);
            self.levels.push((0, 0));
            if self.brackets.len() > MAX_BRACKET_DEPTH {
                return Err(LexError::new(
                    "too many nested parentheses",
                    tok.start,
                    tok.end,
                    "nesting limit reached here",
                )
                .with_help(format!(
                    "at most {MAX_BRACKET_DEPTH} brackets may be open at once"
                )));
            }
        }
        Ok(())
    }

    fn eof(&mut self) -> Option<Result<Token, LexError>> {
        self.done = true;
        if let Some(open) = self.brackets.first().copied() {
            let o = open.kind.text().unwrap_or("(");
            let close = match open.kind {
                Tok::LSqb => "]",
                Tok::LBrace => "}",
                _ => ")",
            };
            // Report the innermost unclosed bracket, as CPython does.
            let open = *self.brackets.last().unwrap_or(&open);
            let o2 = open.kind.text().unwrap_or(o);
            let close2 = match open.kind {
                Tok::LSqb => "]",
                Tok::LBrace => "}",
                _ => close,
            };
            return self.fail(
                LexError::new(
                    format!("'{o2}' was never closed"),
                    open.start,
                    open.end,
                    "this bracket is never closed",
                )
                .with_help(format!("add a matching '{close2}'")),
            );
        }
        let n = self.src.len();
        if !self.expr_mode {
            if !self.at_line_start {
                self.pending.push_back(Token::new(Tok::Newline, n, n));
            }
            for _ in 1..self.indents.len() {
                self.pending.push_back(Token::new(Tok::Dedent, n, n));
            }
            self.indents.truncate(1);
        }
        self.pending.pop_front().map(Ok)
    }
}

impl<I: Iterator<Item = Result<Token, LexError>>> Iterator for Layout<'_, I> {
    type Item = Result<Token, LexError>;

    fn next(&mut self) -> Option<Result<Token, LexError>> {
        if let Some(t) = self.pending.pop_front() {
            return Some(Ok(t));
        }
        if self.done {
            return None;
        }
        loop {
            let tok = match self.raw.next() {
                None => return self.eof(),
                Some(Err(e)) => return self.fail(e),
                Some(Ok(t)) => t,
            };
            if tok.kind == Tok::Newline {
                if self.expr_mode || !self.brackets.is_empty() || self.at_line_start {
                    continue;
                }
                self.at_line_start = true;
                self.levels.clear();
                self.levels.push((0, 0));
                self.total = 0;
                return Some(Ok(tok));
            }
            if self.at_line_start {
                self.at_line_start = false;
                if let Err(e) = self.indentation(&tok) {
                    return self.fail(e);
                }
            }
            if let Err(e) = self.brackets_and_complexity(&tok) {
                return self.fail(e);
            }
            self.pending.push_back(tok);
            return self.pending.pop_front().map(Ok);
        }
    }
}

/// Tokenizes a whole file: the tokens before the first error, and that error if any.
pub fn tokenize(src: &str) -> (Vec<Token>, Option<LexError>) {
    collect(Layout::new(src, RawLexer::new(src)))
}

/// Tokenizes `src[start..end]` as a bare expression (no layout tokens), spans relative to `src`.
pub fn tokenize_expr(src: &str, start: usize, end: usize) -> (Vec<Token>, Option<LexError>) {
    collect(Layout::expression(src, RawLexer::range(src, start, end)))
}

fn collect(it: impl Iterator<Item = Result<Token, LexError>>) -> (Vec<Token>, Option<LexError>) {
    let mut toks = Vec::new();
    for t in it {
        match t {
            Ok(t) => toks.push(t),
            Err(e) => return (toks, Some(e)),
        }
    }
    (toks, None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use Tok::{Colon, Comma, Dedent, Equal, If, Indent, Int, LPar, Name, Newline, Plus, RPar};

    fn kinds(s: &str) -> Vec<Tok> {
        let (t, e) = tokenize(s);
        assert!(e.is_none(), "{e:?}");
        t.into_iter().map(|t| t.kind).collect()
    }

    fn err(s: &str) -> String {
        tokenize(s).1.expect("an error").message
    }

    #[test]
    fn indents_and_dedents() {
        assert_eq!(
            kinds("if x:\n    y\n    if z:\n        w\nv\n"),
            vec![
                If, Name, Colon, Newline, Indent, Name, Newline, If, Name, Colon, Newline, Indent,
                Name, Newline, Dedent, Dedent, Name, Newline
            ]
        );
    }

    #[test]
    fn final_newline_and_dedents_at_eof() {
        assert_eq!(
            kinds("if x:\n  y"),
            vec![If, Name, Colon, Newline, Indent, Name, Newline, Dedent]
        );
        assert_eq!(kinds(""), vec![]);
        assert_eq!(kinds("\n\n# only a comment\n"), vec![]);
    }

    #[test]
    fn blank_and_comment_lines_are_skipped() {
        assert_eq!(
            kinds("a\n\n   # c\n\t\nb\n"),
            vec![Name, Newline, Name, Newline]
        );
    }

    #[test]
    fn brackets_hide_newlines() {
        assert_eq!(
            kinds("f(a,\n  b\n)\nc"),
            vec![Name, LPar, Name, Comma, Name, RPar, Newline, Name, Newline]
        );
        assert_eq!(
            kinds("x = 1 + \\\n    2\n"),
            vec![Name, Equal, Int, Plus, Int, Newline]
        );
    }

    #[test]
    fn indentation_errors() {
        assert_eq!(
            err("if x:\n    a\n  b\n"),
            "unindent does not match any outer indentation level"
        );
        assert_eq!(
            err("if x:\n\ta\n        b\n"),
            "inconsistent use of tabs and spaces in indentation"
        );
    }

    #[test]
    fn bracket_errors() {
        assert_eq!(err("f(a,\nb\n"), "'(' was never closed");
        assert_eq!(err("a)\n"), "unmatched ')'");
        assert_eq!(
            err("(a]\n"),
            "closing parenthesis ']' does not match opening parenthesis '('"
        );
        assert_eq!(
            err("(a\n]\n"),
            "closing parenthesis ']' does not match opening parenthesis '(' on line 1"
        );
    }

    #[test]
    fn nesting_limits() {
        let deep = format!("{}{}", "(".repeat(199), ")".repeat(199));
        assert!(tokenize(&deep).1.is_none());
        let deep = format!("{}{}", "(".repeat(201), ")".repeat(201));
        assert_eq!(err(&deep), "too many nested parentheses");
        let mut s = String::new();
        for i in 0..102 {
            s.push_str(&" ".repeat(i));
            s.push_str("if x:\n");
        }
        assert_eq!(err(&s), "too many levels of indentation");
        let long = format!("x = {}1\n", "1 + ".repeat(2000));
        assert!(err(&long).starts_with("expression too complex"));
        let table = format!("x = [{}]\n", "-1, ".repeat(5000));
        assert!(tokenize(&table).1.is_none());
    }

    #[test]
    fn expression_mode() {
        let src = "f'{a +\n b}'";
        let (t, e) = tokenize_expr(src, 3, 9);
        assert!(e.is_none());
        assert_eq!(
            t.iter().map(|t| t.kind).collect::<Vec<_>>(),
            vec![Name, Plus, Name]
        );
        assert_eq!((t[2].start, t[2].end), (8, 9));
    }
}
