//! Semantic actions called from the grammar: node construction, assignment-target checks,
//! parameter/argument ordering rules, string literal concatenation and f-string assembly.
//! Every check reports a CPython-worded `SyntaxError` instead of building an invalid tree.

use eddy_lexer::fstring::{split_fstring, FPiece};
use eddy_lexer::numbers::{parse_float, parse_int, IntValue};
use eddy_lexer::strings::{decode_bytes, decode_str, info, StrKind};
use eddy_lexer::Tok;
use lalrpop_util::ParseError;

use crate::ast::*;
use crate::error::SyntaxError;

pub type PErr = ParseError<usize, Tok, SyntaxError>;
pub type PResult<T> = Result<T, PErr>;

/// Longest `elif` chain accepted (each `elif` nests one level deeper in the tree).
pub const MAX_ELIF_CHAIN: usize = 1000;

/// What the single grammar entry point produced.
pub enum TopLevel {
    Module(Vec<Stmt>),
    Expr(Expr),
}

fn user(e: SyntaxError) -> PErr {
    ParseError::User { error: e }
}

fn fail<T>(message: impl Into<String>, span: Span, label: impl Into<String>) -> PResult<T> {
    Err(user(SyntaxError::new(message, span, label)))
}

pub fn stmt(kind: StmtKind, l: usize, r: usize) -> Stmt {
    Stmt {
        kind,
        span: Span::new(l, r),
    }
}

pub fn expr(kind: ExprKind, l: usize, r: usize) -> Expr {
    Expr {
        kind,
        span: Span::new(l, r),
    }
}

pub fn binop(a: Expr, op: BinOp, b: Expr, l: usize, r: usize) -> Expr {
    expr(
        ExprKind::BinOp {
            left: Box::new(a),
            op,
            right: Box::new(b),
        },
        l,
        r,
    )
}

pub fn boolop(op: BoolOp, first: Expr, rest: Vec<Expr>, l: usize, r: usize) -> Expr {
    let mut values = vec![first];
    values.extend(rest);
    expr(ExprKind::BoolOp { op, values }, l, r)
}

/// End offset of a compound statement: the end of its last nested statement.
pub fn block_end(body: &[Stmt], orelse: &[Stmt], l: usize) -> usize {
    orelse
        .last()
        .or(body.last())
        .map_or(l, |s| s.span.end as usize)
}

/// Rejects a lone `*x` where only a plain expression is allowed.
pub fn no_bare_star(e: Expr) -> PResult<Expr> {
    if matches!(e.kind, ExprKind::Starred(_)) {
        return Err(user(
            SyntaxError::new(
                "can't use starred expression here",
                e.span,
                "starred expression",
            )
            .with_help("'*' unpacking is only allowed inside a tuple, list, set or call"),
        ));
    }
    Ok(e)
}

pub fn int_constant(text: &str) -> Constant {
    match parse_int(text) {
        IntValue::Small(v) => Constant::Int(v),
        IntValue::Big(b) => Constant::BigInt(b),
    }
}

pub fn float_constant(text: &str) -> Constant {
    Constant::Float(parse_float(text))
}

// ---------------------------------------------------------------------------------------------
// Assignment targets

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum TargetCtx {
    Assign,
    AugAssign,
    AnnAssign,
    For,
    With,
    Comprehension,
    Del,
}

/// How CPython names an expression in "cannot assign to ..." messages.
fn kind_name(e: &Expr) -> &'static str {
    match &e.kind {
        ExprKind::Name(_) => "name",
        ExprKind::Attribute { .. } => "attribute",
        ExprKind::Subscript { .. } => "subscript",
        ExprKind::Call { .. } => "function call",
        ExprKind::Constant(Constant::None) => "None",
        ExprKind::Constant(Constant::True) => "True",
        ExprKind::Constant(Constant::False) => "False",
        ExprKind::Constant(Constant::Ellipsis) => "ellipsis",
        ExprKind::Constant(_) => "literal",
        ExprKind::FString(_) => "f-string expression",
        ExprKind::BinOp { .. } | ExprKind::UnaryOp { .. } | ExprKind::BoolOp { .. } => "expression",
        ExprKind::Compare { .. } => "comparison",
        ExprKind::Lambda { .. } => "lambda",
        ExprKind::IfExp { .. } => "conditional expression",
        ExprKind::Dict(_) => "dict literal",
        ExprKind::Set(_) => "set display",
        ExprKind::List(_) => "list",
        ExprKind::Tuple(_) => "tuple",
        ExprKind::ListComp { .. } => "list comprehension",
        ExprKind::SetComp { .. } => "set comprehension",
        ExprKind::DictComp { .. } => "dict comprehension",
        ExprKind::GeneratorExp { .. } => "generator expression",
        ExprKind::Await(_) => "await expression",
        ExprKind::Yield(_) | ExprKind::YieldFrom(_) => "yield expression",
        ExprKind::NamedExpr { .. } => "named expression",
        ExprKind::Starred(_) => "starred",
        ExprKind::Slice { .. } => "slice",
    }
}

/// Checks that `e` may be assigned to (or deleted) in context `ctx`.
pub fn check_target(e: &Expr, ctx: TargetCtx) -> PResult<()> {
    check_target_inner(e, ctx, true)
}

fn check_target_inner(e: &Expr, ctx: TargetCtx, top: bool) -> PResult<()> {
    match &e.kind {
        ExprKind::Name(_) | ExprKind::Attribute { .. } | ExprKind::Subscript { .. } => Ok(()),
        ExprKind::Tuple(items) | ExprKind::List(items)
            if !matches!(ctx, TargetCtx::AugAssign | TargetCtx::AnnAssign) =>
        {
            let mut starred = 0;
            for item in items {
                if let ExprKind::Starred(inner) = &item.kind {
                    if ctx == TargetCtx::Del {
                        return fail("cannot delete starred", item.span, "starred expression");
                    }
                    starred += 1;
                    if starred > 1 {
                        return fail(
                            "multiple starred expressions in assignment",
                            item.span,
                            "second starred target",
                        );
                    }
                    check_target_inner(inner, ctx, false)?;
                } else {
                    check_target_inner(item, ctx, false)?;
                }
            }
            Ok(())
        }
        _ => {
            let name = kind_name(e);
            let (message, label, help) = match ctx {
                TargetCtx::Del => (
                    format!("cannot delete {name}"),
                    format!("cannot delete this {name}"),
                    None,
                ),
                TargetCtx::AugAssign => (
                    format!("'{name}' is an illegal expression for augmented assignment"),
                    "not a valid augmented assignment target".to_string(),
                    None,
                ),
                TargetCtx::AnnAssign => match &e.kind {
                    ExprKind::Tuple(_) | ExprKind::List(_) => (
                        format!("only single target (not {name}) can be annotated"),
                        "cannot annotate several targets at once".to_string(),
                        None,
                    ),
                    _ => (
                        "illegal target for annotation".to_string(),
                        format!("cannot annotate a {name}"),
                        None,
                    ),
                },
                TargetCtx::Assign
                    if matches!(e.kind, ExprKind::Yield(_) | ExprKind::YieldFrom(_)) =>
                {
                    (
                        "assignment to yield expression not possible".to_string(),
                        "yield expression".to_string(),
                        None,
                    )
                }
                TargetCtx::Assign
                    if top
                        && !matches!(
                            e.kind,
                            ExprKind::Constant(Constant::None | Constant::True | Constant::False)
                                | ExprKind::Starred(_)
                                | ExprKind::Lambda { .. }
                        ) =>
                {
                    (
                        format!(
                            "cannot assign to {name} here. Maybe you meant '==' instead of '='?"
                        ),
                        format!("cannot assign to this {name}"),
                        Some("use '==' to compare values"),
                    )
                }
                _ if matches!(e.kind, ExprKind::Starred(_)) => (
                    "starred assignment target must be in a list or tuple".to_string(),
                    "starred target".to_string(),
                    Some("add a trailing comma to unpack into a one-element tuple: *a, = ..."),
                ),
                _ => (
                    format!("cannot assign to {name}"),
                    format!("cannot assign to this {name}"),
                    None,
                ),
            };
            let mut err = SyntaxError::new(message, e.span, label);
            if let Some(h) = help {
                err = err.with_help(h);
            }
            Err(user(err))
        }
    }
}

pub fn assign(first: Expr, mut rest: Vec<Expr>, l: usize, r: usize) -> PResult<Stmt> {
    let Some(value) = rest.pop() else {
        return Ok(stmt(StmtKind::Expr(first), l, r));
    };
    let value = no_bare_star(value)?;
    let mut targets = vec![first];
    targets.extend(rest);
    for t in &targets {
        check_target(t, TargetCtx::Assign)?;
    }
    Ok(stmt(StmtKind::Assign { targets, value }, l, r))
}

pub fn aug_assign(target: Expr, op: BinOp, value: Expr, l: usize, r: usize) -> PResult<Stmt> {
    check_target(&target, TargetCtx::AugAssign)?;
    let value = no_bare_star(value)?;
    Ok(stmt(StmtKind::AugAssign { target, op, value }, l, r))
}

pub fn ann_assign(
    target: Expr,
    annotation: Expr,
    value: Option<Expr>,
    l: usize,
    r: usize,
) -> PResult<Stmt> {
    check_target(&target, TargetCtx::AnnAssign)?;
    let value = value.map(no_bare_star).transpose()?;
    Ok(stmt(
        StmtKind::AnnAssign {
            target,
            annotation,
            value,
        },
        l,
        r,
    ))
}

pub fn delete(targets: Vec<Expr>, l: usize, r: usize) -> PResult<Stmt> {
    for t in &targets {
        check_target(t, TargetCtx::Del)?;
    }
    Ok(stmt(StmtKind::Delete(targets), l, r))
}

// ---------------------------------------------------------------------------------------------
// Compound statements

pub fn if_chain(
    l: usize,
    test: Expr,
    body: Vec<Stmt>,
    elifs: Vec<(usize, Expr, Vec<Stmt>)>,
    else_body: Option<Vec<Stmt>>,
) -> PResult<Stmt> {
    if elifs.len() > MAX_ELIF_CHAIN {
        let at = elifs[MAX_ELIF_CHAIN].0;
        return fail(
            format!("too many 'elif' clauses (at most {MAX_ELIF_CHAIN})"),
            Span::new(at, at + 4),
            "limit reached here",
        );
    }
    let mut orelse = else_body.unwrap_or_default();
    for (el, t, b) in elifs.into_iter().rev() {
        let end = block_end(&b, &orelse, el);
        orelse = vec![stmt(
            StmtKind::If {
                test: t,
                body: b,
                orelse,
            },
            el,
            end,
        )];
    }
    let end = block_end(&body, &orelse, l);
    Ok(stmt(StmtKind::If { test, body, orelse }, l, end))
}

pub fn handler(
    l: usize,
    typ: Option<Expr>,
    name: Option<String>,
    body: Vec<Stmt>,
) -> ExceptHandler {
    let end = block_end(&body, &[], l);
    ExceptHandler {
        typ,
        name,
        body,
        span: Span::new(l, end),
    }
}

pub fn try_stmt(
    l: usize,
    body: Vec<Stmt>,
    handlers: Vec<(bool, ExceptHandler)>,
    orelse: Vec<Stmt>,
    finalbody: Vec<Stmt>,
) -> PResult<Stmt> {
    let is_star = handlers.iter().any(|h| h.0);
    if let Some((_, h)) = handlers.iter().find(|h| h.0 != is_star) {
        return fail(
            "cannot have both 'except' and 'except*' on the same 'try'",
            h.span,
            "mixed handler kinds",
        );
    }
    for (i, (_, h)) in handlers.iter().enumerate() {
        if h.typ.is_none() && i + 1 < handlers.len() {
            return Err(user(
                SyntaxError::new(
                    "default 'except:' must be last",
                    h.span,
                    "catches everything",
                )
                .with_help("move the bare 'except:' after the other handlers"),
            ));
        }
    }
    let handlers: Vec<ExceptHandler> = handlers.into_iter().map(|h| h.1).collect();
    let end = finalbody
        .last()
        .or(orelse.last())
        .map(|s| s.span.end as usize)
        .or(handlers.last().map(|h| h.span.end as usize))
        .unwrap_or_else(|| block_end(&body, &[], l));
    Ok(stmt(
        StmtKind::Try {
            body,
            handlers,
            orelse,
            finalbody,
            is_star,
        },
        l,
        end,
    ))
}

pub fn decorate(decorators: Vec<Expr>, mut s: Stmt) -> Stmt {
    match &mut s.kind {
        StmtKind::FunctionDef(f) => f.decorators = decorators,
        StmtKind::ClassDef(c) => c.decorators = decorators,
        _ => {}
    }
    s
}

pub fn class_def(l: usize, name: String, args: Vec<ArgItem>, body: Vec<Stmt>) -> PResult<Stmt> {
    let (bases, keywords) = split_args(args)?;
    let r = block_end(&body, &[], l);
    Ok(stmt(
        StmtKind::ClassDef(Box::new(ClassDef {
            name,
            bases,
            keywords,
            body,
            decorators: vec![],
        })),
        l,
        r,
    ))
}

// ---------------------------------------------------------------------------------------------
// Parameters

/// One comma-separated item of a parameter list, before the ordering rules are applied.
pub enum ParamItem {
    Plain(Param),
    Slash(Span),
    /// `*` (bare) or `*args`.
    Star(Option<Param>, Span),
    KwStar(Param),
}

pub fn param(
    name: String,
    annotation: Option<Expr>,
    default: Option<Expr>,
    l: usize,
    r: usize,
) -> Param {
    Param {
        name,
        annotation,
        default,
        span: Span::new(l, r),
    }
}

/// Sorts parameter items into CPython's five groups, enforcing the ordering rules.
pub fn build_params(items: Vec<ParamItem>, is_lambda: bool) -> PResult<Parameters> {
    let mut p = Parameters::default();
    let mut seen_slash = false;
    let mut star_span: Option<Span> = None;
    let mut seen_default = false;
    let mut names: Vec<String> = Vec::new();
    let mut check_dup = |prm: &Param| -> PResult<()> {
        if names.contains(&prm.name) {
            return fail(
                format!("duplicate argument '{}' in function definition", prm.name),
                prm.span,
                "duplicate parameter name",
            );
        }
        names.push(prm.name.clone());
        Ok(())
    };
    let what = if is_lambda { "lambda" } else { "function" };
    for item in items {
        if let Some(kw) = &p.kwarg {
            let span = match &item {
                ParamItem::Plain(x) | ParamItem::KwStar(x) => x.span,
                ParamItem::Slash(s) | ParamItem::Star(_, s) => *s,
            };
            let _ = kw;
            return Err(user(
                SyntaxError::new(
                    "arguments cannot follow var-keyword argument",
                    span,
                    "after '**' parameter",
                )
                .with_help(format!(
                    "the '**' parameter must come last in a {what} signature"
                )),
            ));
        }
        match item {
            ParamItem::Plain(prm) => {
                check_dup(&prm)?;
                if star_span.is_some() {
                    p.kwonly.push(prm);
                } else {
                    if prm.default.is_some() {
                        seen_default = true;
                    } else if seen_default {
                        return Err(user(
                            SyntaxError::new(
                                "non-default argument follows default argument",
                                prm.span,
                                "needs a default value",
                            )
                            .with_help(
                                "parameters without defaults must come before those with defaults",
                            ),
                        ));
                    }
                    p.args.push(prm);
                }
            }
            ParamItem::Slash(span) => {
                if seen_slash {
                    return fail("/ may appear only once", span, "second '/'");
                }
                if star_span.is_some() {
                    return fail("/ must be ahead of *", span, "'/' after '*'");
                }
                if p.args.is_empty() {
                    return fail(
                        "at least one argument must precede /",
                        span,
                        "nothing before '/'",
                    );
                }
                seen_slash = true;
                p.posonly = std::mem::take(&mut p.args);
            }
            ParamItem::Star(prm, span) => {
                if star_span.is_some() {
                    return fail("* argument may appear only once", span, "second '*'");
                }
                star_span = Some(span);
                if let Some(prm) = prm {
                    check_dup(&prm)?;
                    p.vararg = Some(prm);
                }
            }
            ParamItem::KwStar(prm) => {
                check_dup(&prm)?;
                p.kwarg = Some(prm);
            }
        }
    }
    if let Some(span) = star_span {
        if p.vararg.is_none() && p.kwonly.is_empty() {
            return Err(user(
                SyntaxError::new(
                    "named arguments must follow bare *",
                    span,
                    "bare '*' with nothing after it",
                )
                .with_help("add keyword-only parameters after '*', or remove it"),
            ));
        }
    }
    Ok(p)
}

// ---------------------------------------------------------------------------------------------
// Calls

/// One call argument before the ordering rules are applied.
pub enum ArgItem {
    /// Positional, possibly `Starred`.
    Pos(Expr),
    /// `name=value` or `**mapping`.
    Kw(Keyword),
}

fn split_args(args: Vec<ArgItem>) -> PResult<(Vec<Expr>, Vec<Keyword>)> {
    let mut pos = Vec::new();
    let mut kws: Vec<Keyword> = Vec::new();
    let mut seen_kw = false;
    let mut seen_kw_unpack = false;
    for a in args {
        match a {
            ArgItem::Pos(e) => {
                if matches!(e.kind, ExprKind::Starred(_)) {
                    if seen_kw_unpack {
                        return fail(
                            "iterable argument unpacking follows keyword argument unpacking",
                            e.span,
                            "'*' after '**'",
                        );
                    }
                } else if seen_kw_unpack {
                    return fail(
                        "positional argument follows keyword argument unpacking",
                        e.span,
                        "positional argument",
                    );
                } else if seen_kw {
                    return Err(user(
                        SyntaxError::new(
                            "positional argument follows keyword argument",
                            e.span,
                            "positional argument",
                        )
                        .with_help("pass positional arguments before keyword arguments"),
                    ));
                }
                pos.push(e);
            }
            ArgItem::Kw(k) => {
                match &k.arg {
                    Some(name) => {
                        if kws.iter().any(|o| o.arg.as_deref() == Some(name.as_str())) {
                            return fail(
                                format!("keyword argument repeated: {name}"),
                                k.span,
                                "repeated keyword",
                            );
                        }
                        seen_kw = true;
                    }
                    None => seen_kw_unpack = true,
                }
                kws.push(k);
            }
        }
    }
    Ok((pos, kws))
}

pub fn call(func: Expr, args: Vec<ArgItem>, l: usize, r: usize) -> PResult<Expr> {
    let (args, keywords) = split_args(args)?;
    Ok(expr(
        ExprKind::Call {
            func: Box::new(func),
            args,
            keywords,
        },
        l,
        r,
    ))
}

// ---------------------------------------------------------------------------------------------
// Strings

fn push_literal(parts: &mut Vec<FStringPart>, s: String) {
    if s.is_empty() {
        return;
    }
    if let Some(FStringPart::Literal(prev)) = parts.last_mut() {
        prev.push_str(&s);
    } else {
        parts.push(FStringPart::Literal(s));
    }
}

fn fstring_parts(src: &str, pieces: Vec<FPiece>, out: &mut Vec<FStringPart>) -> PResult<()> {
    for piece in pieces {
        match piece {
            FPiece::Literal(s) => push_literal(out, s),
            FPiece::Field {
                expr_start,
                expr_end,
                conversion,
                spec,
                ..
            } => {
                let value = crate::parse_fstring_expr(src, expr_start, expr_end).map_err(user)?;
                let format_spec = match spec {
                    Some(sp) => {
                        let mut v = Vec::new();
                        fstring_parts(src, sp, &mut v)?;
                        Some(v)
                    }
                    None => None,
                };
                out.push(FStringPart::Formatted {
                    value: Box::new(value),
                    conversion,
                    format_spec,
                });
            }
        }
    }
    Ok(())
}

/// Joins adjacent string literal tokens into one constant or f-string.
pub fn strings(src: &str, parts: &[(usize, Tok, usize)]) -> PResult<ExprKind> {
    let infos: Vec<_> = parts
        .iter()
        .map(|&(l, _, r)| (l, r, info(&src[l..r])))
        .collect();
    let n_bytes = infos.iter().filter(|i| i.2.kind == StrKind::Bytes).count();
    let full = Span::new(
        parts.first().map_or(0, |p| p.0),
        parts.last().map_or(0, |p| p.2),
    );
    if n_bytes != 0 && n_bytes != infos.len() {
        return fail(
            "cannot mix bytes and nonbytes literals",
            full,
            "bytes and str literals side by side",
        )
        .map_err(|e| match e {
            ParseError::User { error } => {
                user(error.with_help("add a b prefix to every part, or to none"))
            }
            other => other,
        });
    }
    let decode_err = |l: usize, e: eddy_lexer::strings::DecodeError| {
        user(SyntaxError::new(
            e.message,
            Span::new(l + e.start, l + e.end),
            "in this escape sequence",
        ))
    };
    if n_bytes > 0 {
        let mut out = Vec::new();
        for (l, r, inf) in &infos {
            let body = &src[l + inf.body_start..l + inf.body_end];
            let b = decode_bytes(body, inf.raw).map_err(|e| decode_err(l + inf.body_start, e))?;
            out.extend(b);
            let _ = r;
        }
        return Ok(ExprKind::Constant(Constant::Bytes(out)));
    }
    let any_f = infos.iter().any(|i| i.2.kind == StrKind::FString);
    if !any_f {
        let mut out = String::new();
        for (l, _, inf) in &infos {
            let body = &src[l + inf.body_start..l + inf.body_end];
            out.push_str(
                &decode_str(body, inf.raw).map_err(|e| decode_err(l + inf.body_start, e))?,
            );
        }
        return Ok(ExprKind::Constant(Constant::Str(out)));
    }
    let mut out = Vec::new();
    for (l, r, inf) in &infos {
        if inf.kind == StrKind::FString {
            let pieces = split_fstring(src, *l, *r).map_err(|e| user(e.into()))?;
            fstring_parts(src, pieces, &mut out)?;
        } else {
            let body = &src[l + inf.body_start..l + inf.body_end];
            push_literal(
                &mut out,
                decode_str(body, inf.raw).map_err(|e| decode_err(l + inf.body_start, e))?,
            );
        }
    }
    Ok(ExprKind::FString(out))
}
