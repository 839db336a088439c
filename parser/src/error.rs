//! `SyntaxError`, and the translation of LALRPOP's parse errors into CPython-worded messages with
//! human labels and help lines (missing ':', missing indented block, '=' for '==', missing comma,
//! unexpected indent, ...).

use std::fmt;

use eddy_lexer::{error::line_of, LexError, Tok, Token};
use lalrpop_util::ParseError;

use crate::ast::Span;

/// A syntax (or indentation) error, located by a byte span of the source.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyntaxError {
    /// CPython-style short message, e.g. `invalid syntax`, `expected ':'`.
    pub message: String,
    /// Byte span of the offending token/region (never out of bounds; may be empty at EOF).
    pub span: Span,
    /// Words for the label under the span, e.g. `expected ':' here`.
    pub label: String,
    /// A hint for common mistakes.
    pub help: Option<String>,
}

impl SyntaxError {
    pub fn new(message: impl Into<String>, span: Span, label: impl Into<String>) -> SyntaxError {
        SyntaxError {
            message: message.into(),
            span,
            label: label.into(),
            help: None,
        }
    }

    pub fn with_help(mut self, help: impl Into<String>) -> SyntaxError {
        self.help = Some(help.into());
        self
    }

    /// The Python exception class CPython would raise: `SyntaxError`, `IndentationError` or
    /// `TabError`.
    pub fn kind(&self) -> &'static str {
        let m = self.message.as_str();
        if m.starts_with("inconsistent use of tabs") {
            "TabError"
        } else if m == "unexpected indent"
            || m == "unexpected unindent"
            || m.starts_with("unindent does not match")
            || m.starts_with("expected an indented block")
            || m == "too many levels of indentation"
        {
            "IndentationError"
        } else {
            "SyntaxError"
        }
    }

    /// True when more input could make the source valid (an unclosed bracket or triple-quoted
    /// string, or a block header at the very end). A REPL uses this to ask for another line.
    pub fn is_incomplete(&self, source: &str) -> bool {
        let m = self.message.as_str();
        m.ends_with("was never closed")
            || m.starts_with("unterminated triple-quoted string")
            || (m.starts_with("expected an indented block")
                && self.span.start as usize >= source.trim_end().len())
    }
}

impl fmt::Display for SyntaxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for SyntaxError {}

impl From<LexError> for SyntaxError {
    fn from(e: LexError) -> SyntaxError {
        SyntaxError {
            message: e.message,
            span: Span::new(e.start, e.end),
            label: e.label,
            help: e.help,
        }
    }
}

/// Describes a grammar terminal (as LALRPOP spells it in `expected`) in words.
fn describe_terminal(t: &str) -> String {
    match t {
        "NAME" => "a name".into(),
        "INT" | "FLOAT" => "a number".into(),
        "STRING" => "a string".into(),
        "NEWLINE" => "end of line".into(),
        "INDENT" => "an indented block".into(),
        "DEDENT" => "end of block".into(),
        "WITH_LPAREN" => "'('".into(),
        "START_MODULE" | "START_EXPR" => "start of input".into(),
        other => {
            let inner = other.trim_matches('"');
            format!("'{inner}'")
        }
    }
}

fn join_or(items: &[String]) -> String {
    match items.len() {
        0 => String::new(),
        1 => items[0].clone(),
        _ => format!(
            "{} or {}",
            items[..items.len() - 1].join(", "),
            items[items.len() - 1]
        ),
    }
}

fn expects_expression(expected: &[String]) -> bool {
    let has = |t: &str| expected.iter().any(|e| e == t);
    has("NAME") && has("INT") && has("\"(\"")
}

/// What the block header starting at `first` is called in "expected an indented block after ...".
fn block_name(toks: &[Token], first: usize) -> Option<String> {
    let mut i = first;
    if toks.get(i)?.kind == Tok::Async {
        i += 1;
    }
    let t = toks.get(i)?;
    Some(match t.kind {
        Tok::Def => "function definition".into(),
        Tok::Class => "class definition".into(),
        Tok::Except if toks.get(i + 1).is_some_and(|n| n.kind == Tok::Star) => {
            "'except*' statement".into()
        }
        Tok::If
        | Tok::Elif
        | Tok::Else
        | Tok::While
        | Tok::For
        | Tok::Try
        | Tok::Except
        | Tok::Finally
        | Tok::With => {
            format!("'{}' statement", t.kind.text().unwrap_or("?"))
        }
        _ => return None,
    })
}

/// Index of the first token of the logical line containing token `i`.
fn line_start(toks: &[Token], i: usize) -> usize {
    let mut j = i.min(toks.len());
    while j > 0
        && !matches!(
            toks[j - 1].kind,
            Tok::Newline | Tok::Indent | Tok::Dedent | Tok::StartModule
        )
    {
        j -= 1;
    }
    j
}

/// Index just after the innermost bracket still open before token `i`.
fn innermost_group(toks: &[Token], i: usize) -> usize {
    let mut stack = Vec::new();
    let start = line_start(toks, i);
    for (k, t) in toks[start..i.min(toks.len())].iter().enumerate() {
        if t.kind.is_open_bracket() {
            stack.push(start + k + 1);
        } else if t.kind.is_close_bracket() {
            stack.pop();
        }
    }
    stack.last().copied().unwrap_or(start)
}

/// Number of brackets open just before token `i` (within its logical line).
fn open_brackets(toks: &[Token], i: usize) -> usize {
    let mut depth: usize = 0;
    for t in &toks[line_start(toks, i)..i.min(toks.len())] {
        if t.kind.is_open_bracket() {
            depth += 1;
        } else if t.kind.is_close_bracket() {
            depth = depth.saturating_sub(1);
        }
    }
    depth
}

/// Converts a LALRPOP error into a `SyntaxError`. `toks` is the token stream given to the parser
/// (including the synthetic start token); `lex_err` the tokenizer error that ended it, if any.
pub(crate) fn convert(
    err: ParseError<usize, Tok, SyntaxError>,
    src: &str,
    toks: &[Token],
    lex_err: Option<&LexError>,
) -> SyntaxError {
    let at = match &err {
        ParseError::UnrecognizedToken {
            token: (l, _, _), ..
        }
        | ParseError::ExtraToken { token: (l, _, _) } => *l,
        ParseError::UnrecognizedEof { location, .. } | ParseError::InvalidToken { location } => {
            *location
        }
        ParseError::User { error } => error.span.start as usize,
    };
    let pe = convert_parse_error(err, src, toks);
    let Some(le) = lex_err else { return pe };
    let le = SyntaxError::from(le.clone());
    if pe == le || pe.message == "unexpected indent" {
        return pe;
    }
    // Like CPython, a tokenizer error found later in the file takes precedence over a parser
    // error; an unclosed bracket only when the parser error is on a later line than the bracket.
    if le.message.ends_with("was never closed")
        && line_of(src, at) <= line_of(src, le.span.start as usize)
    {
        return pe;
    }
    le
}

fn convert_parse_error(
    err: ParseError<usize, Tok, SyntaxError>,
    src: &str,
    toks: &[Token],
) -> SyntaxError {
    let clamp = |a: usize, b: usize| {
        let a = a.min(src.len());
        Span::new(a, b.clamp(a, src.len()))
    };
    let (l, tok, r, expected) = match err {
        ParseError::User { error } => return error,
        ParseError::InvalidToken { location } => {
            return SyntaxError::new(
                "invalid syntax",
                clamp(location, location + 1),
                "invalid token",
            )
        }
        ParseError::ExtraToken { token: (l, _, r) } => {
            return SyntaxError::new("invalid syntax", clamp(l, r), "unexpected token")
        }
        ParseError::UnrecognizedEof { location, expected } => (location, None, location, expected),
        ParseError::UnrecognizedToken {
            token: (l, t, r),
            expected,
        } => (l, Some(t), r, expected),
    };
    // Index of the offending token in `toks` (toks.len() at end of input).
    let idx = match tok {
        Some(_) => toks.partition_point(|t| t.start < l).min(toks.len()),
        None => toks.len(),
    };
    let idx = if tok.is_some() {
        // Several zero-width tokens can share a start; find the one that matches exactly.
        (idx..toks.len())
            .find(|&k| toks[k].start == l && Some(toks[k].kind) == tok)
            .unwrap_or(idx)
    } else {
        idx
    };
    let prev = if idx > 0 {
        toks.get(idx - 1).copied()
    } else {
        None
    };
    let span = clamp(l, r);

    if tok == Some(Tok::Indent) {
        let at = toks.get(idx + 1).map_or(r, |t| t.start);
        return SyntaxError::new("unexpected indent", clamp(l, at), "unexpected indent").with_help(
            "this line is indented more than the block it belongs to; remove the extra indentation",
        );
    }

    if expected.len() == 1 && expected[0] == "INDENT" {
        // `header:` NEWLINE, then no indented block.
        let header_end = idx.saturating_sub(1);
        let first = line_start(toks, header_end);
        let what = block_name(toks, first).unwrap_or_else(|| "statement".into());
        let line = toks.get(first).map_or(1, |t| line_of(src, t.start));
        let at = match tok {
            Some(Tok::Dedent) | None => {
                // Point at the start of the next line's content (or EOF).
                let p = toks.get(idx).map_or(src.len(), |t| t.start);
                clamp(
                    p,
                    toks.get(idx + 1)
                        .filter(|_| tok.is_some())
                        .map_or(p, |t| t.end.max(p)),
                )
            }
            _ => span,
        };
        let at = if tok == Some(Tok::Dedent) {
            let next = toks[idx..].iter().find(|t| !matches!(t.kind, Tok::Dedent));
            next.map_or(clamp(src.len(), src.len()), |t| clamp(t.start, t.end))
        } else {
            at
        };
        return SyntaxError::new(
            format!("expected an indented block after {what} on line {line}"),
            at,
            "expected an indented block here",
        )
        .with_help("indent the body of the block (4 spaces per level is conventional); use 'pass' for an empty body");
    }

    let Some(tok) = tok else {
        return SyntaxError::new("unexpected EOF while parsing", span, "input ends here")
            .with_help(format!("expected {}", summarise(&expected)));
    };

    let has = |s: &str| expected.iter().any(|e| e == s);
    let first = line_start(toks, idx);
    let header = toks.get(first).map(|t| t.kind);
    // An f-string field is parsed as if parenthesised (as CPython 3.11 does).
    let in_brackets =
        open_brackets(toks, idx) > 0 || toks.first().is_some_and(|t| t.kind == Tok::StartExpr);

    if tok == Tok::Equal {
        if has("\":\"") && !in_brackets {
            return SyntaxError::new(
                "invalid syntax. Maybe you meant '==' or ':=' instead of '='?",
                span,
                "'=' assigns a value; it does not compare",
            )
            .with_help("use '==' to compare values (or ':=' to assign inside an expression)");
        }
        if in_brackets {
            return SyntaxError::new(
                "expression cannot contain assignment, perhaps you meant \"==\"?",
                prev.map_or(span, |p| clamp(p.start, r)),
                "'=' is only allowed after a plain name here (a keyword argument)",
            )
            .with_help("use '==' to compare values");
        }
        return SyntaxError::new("invalid syntax", span, "'=' is not allowed here")
            .with_help("use '==' to compare values");
    }

    if has("\":\"") && tok == Tok::Newline {
        let p = prev.map_or(l, |p| p.end);
        if let Some(what) = block_name(toks, first) {
            return SyntaxError::new("expected ':'", clamp(p, p), "expected ':' here")
                .with_help(format!("add ':' at the end of the {what} line"));
        }
        if toks[first..idx].iter().any(|t| t.kind == Tok::Lambda) {
            return SyntaxError::new("expected ':'", clamp(p, p), "expected ':' here")
                .with_help("a lambda needs ':' between its parameters and its body");
        }
    }

    if header == Some(Tok::Name)
        && toks
            .get(first)
            .is_some_and(|t| &src[t.start..t.end] == "match")
    {
        return SyntaxError::new(
            "invalid syntax",
            span,
            unexpected(tok, &src[span.start as usize..span.end as usize]),
        )
        .with_help("'match' statements are not supported by Eddy");
    }

    // Python 2 `print "x"`.
    if let Some(p) = prev {
        if p.kind == Tok::Name
            && &src[p.start..p.end] == "print"
            && first + 1 == idx
            && tok.starts_expression()
        {
            return SyntaxError::new(
                "Missing parentheses in call to 'print'. Did you mean print(...)?",
                clamp(p.start, toks.last().map_or(r, |t| t.end).max(r)),
                "print is a function",
            )
            .with_help("write print(...) with parentheses");
        }
    }

    if in_brackets && matches!(tok, Tok::For | Tok::Comma | Tok::Async) {
        // `f(x for x in y, z)` / `f(z, x for x in y)`.
        let group = innermost_group(toks, idx);
        let has_for = toks[group..idx].iter().any(|t| t.kind == Tok::For);
        let in_call = group > 0 && toks[group - 1].kind == Tok::LPar;
        if in_call && ((tok == Tok::Comma && has_for) || (tok != Tok::Comma && !has("\"for\""))) {
            return SyntaxError::new(
                "Generator expression must be parenthesized",
                span,
                "generator expression",
            )
            .with_help(
                "wrap the generator expression in its own parentheses: f((x for x in y), z)",
            );
        }
    }

    if has("\"except\"") && has("\"finally\"") && tok != Tok::Except {
        let at = toks.get(idx).map_or(span, |t| clamp(t.start, t.end));
        return SyntaxError::new(
            "expected 'except' or 'finally' block",
            at,
            "expected 'except' or 'finally' here",
        )
        .with_help("a 'try' block must be followed by at least one 'except' or a 'finally' block");
    }

    if tok == Tok::Comma && header == Some(Tok::Except) && !in_brackets {
        return SyntaxError::new(
            "multiple exception types must be parenthesized",
            span,
            "unexpected ','",
        )
        .with_help("write 'except (A, B):' to catch several exception types");
    }

    if tok == Tok::ColonEqual {
        let what = match prev.map(|p| p.kind) {
            Some(Tok::Name) if idx >= 2 && toks[idx - 2].kind == Tok::Dot => "attribute",
            Some(Tok::RSqb) => "subscript",
            Some(Tok::RPar) => "expression",
            Some(Tok::Int | Tok::Float | Tok::String | Tok::True | Tok::False | Tok::None) => {
                "literal"
            }
            _ => "expression",
        };
        return SyntaxError::new(
            format!("cannot use assignment expressions with {what}"),
            span,
            "':=' needs a plain name on its left",
        )
        .with_help("only a simple name can be the target of ':='");
    }

    if tok == Tok::Colon && header == Some(Tok::Except) && prev.is_some_and(|p| p.kind == Tok::Star)
    {
        return SyntaxError::new(
            "expected one or more exception types",
            span,
            "expected an exception type",
        )
        .with_help("write 'except* SomeError:'");
    }

    if expected.len() == 1 && expected[0] == "\"else\"" {
        return SyntaxError::new(
            "expected 'else' after 'if' expression",
            span,
            "expected 'else' here",
        )
        .with_help("a conditional expression needs both branches: 'a if cond else b'");
    }

    if expected.len() == 1 && expected[0] == "\"(\"" {
        return SyntaxError::new("expected '('", span, "expected '(' here");
    }

    if in_brackets
        && tok.starts_expression()
        && prev.is_some_and(|p| p.kind.ends_expression())
        && has("\",\"")
    {
        let start = prev.map_or(l, |p| p.start);
        return SyntaxError::new(
            "invalid syntax. Perhaps you forgot a comma?",
            clamp(start, r),
            "expected ',' between these",
        )
        .with_help("separate items with ','");
    }

    if tok == Tok::Newline && expects_expression(&expected) {
        let p = prev.map_or(l, |p| p.end);
        return SyntaxError::new(
            "invalid syntax",
            clamp(p, p.max(r)),
            "expected an expression",
        );
    }

    if tok.is_keyword()
        && matches!(
            prev.map(|p| p.kind),
            Some(Tok::Def | Tok::Class | Tok::Import | Tok::As | Tok::Dot)
        )
    {
        return SyntaxError::new(
            "invalid syntax",
            span,
            format!(
                "'{}' is a keyword and cannot be used as a name",
                tok.text().unwrap_or("?")
            ),
        );
    }

    let text = &src[span.start as usize..span.end as usize];
    let label = if idx == first && matches!(tok, Tok::Else | Tok::Elif | Tok::Except | Tok::Finally)
    {
        let opener = if matches!(tok, Tok::Else | Tok::Elif) {
            "if"
        } else {
            "try"
        };
        format!("'{text}' without a matching '{opener}'")
    } else if has("\":\"") && block_name(toks, first).is_some() && !in_brackets {
        "expected ':'".to_string()
    } else if expected.len() <= 3 || expects_expression(&expected) {
        format!("expected {}", summarise(&expected))
    } else {
        unexpected(tok, text)
    };
    let mut e = SyntaxError::new("invalid syntax", span, label);
    if matches!(tok, Tok::Else | Tok::Elif) {
        e = e.with_help(format!(
            "'{}' must follow an 'if' block at the same indentation",
            tok.text().unwrap_or("else")
        ));
    } else if matches!(tok, Tok::Except | Tok::Finally) {
        e = e.with_help(format!(
            "'{}' must follow a 'try' block at the same indentation",
            tok.text().unwrap_or("except")
        ));
    }
    e
}

/// "unexpected name 'foo'", "unexpected ')'", ...
fn unexpected(tok: Tok, text: &str) -> String {
    match tok {
        Tok::Name => format!("unexpected name '{text}'"),
        Tok::Int | Tok::Float => format!("unexpected number {text}"),
        Tok::String => "unexpected string".into(),
        Tok::Newline => "unexpected end of line".into(),
        Tok::Indent => "unexpected indent".into(),
        Tok::Dedent => "unexpected end of block".into(),
        other => format!("unexpected '{}'", other.text().unwrap_or("?")),
    }
}

/// Summarises an expected-terminal list in words: "an expression", "':' or ','", ...
fn summarise(expected: &[String]) -> String {
    if expects_expression(expected) {
        return "an expression".into();
    }
    let mut words: Vec<String> = Vec::new();
    for e in expected {
        let d = describe_terminal(e);
        if !words.contains(&d) {
            words.push(d);
        }
    }
    if words.is_empty() {
        return "something else".into();
    }
    if words.len() > 5 {
        words.truncate(5);
        return format!("one of {}, ...", words.join(", "));
    }
    join_or(&words)
}
