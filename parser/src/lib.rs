//! Eddy's parser: the LALRPOP grammar in `../grammar/python.lalrpop` over eddy-lexer's tokens,
//! producing the typed AST in [`ast`]. Entry points: [`parse_module`] and [`parse_expression`].

pub mod ast;
pub mod error;

mod actions;

#[allow(
    clippy::all,
    clippy::pedantic,
    unused,
    unused_qualifications,
    non_snake_case,
    non_camel_case_types
)]
mod python {
    include!(concat!(env!("OUT_DIR"), "/python.rs"));
}

use eddy_lexer::{LexError, Tok, Token};

use actions::TopLevel;
pub use error::SyntaxError;

/// Parse a whole file.
pub fn parse_module(source: &str) -> Result<ast::Module, SyntaxError> {
    let (toks, lex_err) = eddy_lexer::tokenize(source);
    let mut stream = Vec::with_capacity(toks.len() + 1);
    stream.push(Token::new(Tok::StartModule, 0, 0));
    stream.extend(toks);
    mark_with_parens(&mut stream);
    match run(source, &stream, lex_err.as_ref())? {
        TopLevel::Module(body) => Ok(ast::Module { body }),
        TopLevel::Expr(e) => Ok(ast::Module {
            body: vec![ast::Stmt {
                span: e.span,
                kind: ast::StmtKind::Expr(e),
            }],
        }),
    }
}

/// Parse a single expression (e.g. for `eval`-like uses). Newlines are allowed anywhere.
pub fn parse_expression(source: &str) -> Result<ast::Expr, SyntaxError> {
    parse_expr_range(source, 0, source.len())
}

/// Parses `src[start..end]` as an expression with spans relative to `src`.
fn parse_expr_range(src: &str, start: usize, end: usize) -> Result<ast::Expr, SyntaxError> {
    let (toks, lex_err) = eddy_lexer::tokenize_expr(src, start, end);
    let mut stream = Vec::with_capacity(toks.len() + 1);
    stream.push(Token::new(Tok::StartExpr, start, start));
    stream.extend(toks);
    match run(src, &stream, lex_err.as_ref()) {
        Ok(TopLevel::Expr(e)) => Ok(e),
        Ok(TopLevel::Module(_)) => Err(SyntaxError::new(
            "invalid syntax",
            ast::Span::new(start, end),
            "expected an expression",
        )),
        Err(e) if e.span.start as usize >= end && e.label.starts_with("expected") => {
            Err(SyntaxError {
                message: e.message,
                span: ast::Span::new(start, end),
                label: e.label,
                help: e.help,
            })
        }
        Err(e) => Err(e),
    }
}

/// Parses one f-string replacement field's expression; errors are prefixed with `f-string: `.
pub(crate) fn parse_fstring_expr(
    src: &str,
    start: usize,
    end: usize,
) -> Result<ast::Expr, SyntaxError> {
    parse_expr_range(src, start, end).map_err(|mut e| {
        if !e.message.starts_with("f-string") {
            e.message = format!("f-string: {}", e.message);
        }
        e
    })
}

fn run(src: &str, toks: &[Token], lex_err: Option<&LexError>) -> Result<TopLevel, SyntaxError> {
    let stream = toks
        .iter()
        .map(|t| Ok((t.start, t.kind, t.end)))
        .chain(lex_err.map(|e| Err(SyntaxError::from(e.clone()))));
    python::TopParser::new()
        .parse(src, stream)
        .map_err(|e| error::convert(e, src, toks, lex_err))
}

/// Marks the `(` right after `with` as `WithLParen` when its matching `)` is followed by `:`, so
/// `with (a as b, c as d):` parses as parenthesised with-items rather than a tuple.
fn mark_with_parens(toks: &mut [Token]) {
    for i in 0..toks.len().saturating_sub(1) {
        if toks[i].kind != Tok::With || toks[i + 1].kind != Tok::LPar {
            continue;
        }
        // `with (yield x):` is a parenthesised expression, not a list of items.
        if toks.get(i + 2).is_some_and(|t| t.kind == Tok::Yield) {
            continue;
        }
        let mut depth = 0usize;
        for j in i + 1..toks.len() {
            let k = toks[j].kind;
            if k.is_open_bracket() {
                depth += 1;
            } else if k.is_close_bracket() {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    if toks.get(j + 1).is_some_and(|t| t.kind == Tok::Colon) {
                        toks[i + 1].kind = Tok::WithLParen;
                    }
                    break;
                }
            } else if k == Tok::Newline {
                break;
            }
        }
    }
}
