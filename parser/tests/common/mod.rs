//! Test helper: renders the AST as compact s-expressions so tests can state expectations briefly.

#![allow(dead_code)]

use eddy_parser::ast::*;

pub fn module(m: &Module) -> String {
    m.body.iter().map(stmt).collect::<Vec<_>>().join("\n")
}

fn block(body: &[Stmt]) -> String {
    format!("[{}]", body.iter().map(stmt).collect::<Vec<_>>().join("; "))
}

fn opt(e: &Option<Expr>) -> String {
    e.as_ref().map_or("_".into(), expr)
}

fn opt_box(e: &Option<Box<Expr>>) -> String {
    e.as_ref().map_or("_".into(), |e| expr(e))
}

fn list(items: &[Expr]) -> String {
    items.iter().map(expr).collect::<Vec<_>>().join(" ")
}

pub fn params(p: &Parameters) -> String {
    let one = |p: &Param| {
        let mut s = p.name.clone();
        if let Some(a) = &p.annotation {
            s.push_str(&format!(":{}", expr(a)));
        }
        if let Some(d) = &p.default {
            s.push_str(&format!("={}", expr(d)));
        }
        s
    };
    let mut parts: Vec<String> = p.posonly.iter().map(one).collect();
    if !p.posonly.is_empty() {
        parts.push("/".into());
    }
    parts.extend(p.args.iter().map(one));
    match &p.vararg {
        Some(v) => parts.push(format!("*{}", one(v))),
        None if !p.kwonly.is_empty() => parts.push("*".into()),
        None => {}
    }
    parts.extend(p.kwonly.iter().map(one));
    if let Some(k) = &p.kwarg {
        parts.push(format!("**{}", one(k)));
    }
    format!("({})", parts.join(" "))
}

fn keyword(k: &Keyword) -> String {
    match &k.arg {
        Some(a) => format!("{a}={}", expr(&k.value)),
        None => format!("**{}", expr(&k.value)),
    }
}

fn comps(gens: &[Comprehension]) -> String {
    gens.iter()
        .map(|g| {
            let mut s = format!(
                "({}for {} {}",
                if g.is_async { "async " } else { "" },
                expr(&g.target),
                expr(&g.iter)
            );
            for i in &g.ifs {
                s.push_str(&format!(" (if {})", expr(i)));
            }
            s.push(')');
            s
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn fparts(parts: &[FStringPart]) -> String {
    parts
        .iter()
        .map(|p| match p {
            FStringPart::Literal(s) => format!("{s:?}"),
            FStringPart::Formatted {
                value,
                conversion,
                format_spec,
            } => {
                let mut s = format!("{{{}", expr(value));
                if let Some(c) = conversion {
                    s.push_str(&format!("!{c}"));
                }
                if let Some(spec) = format_spec {
                    s.push_str(&format!(":{}", fparts(spec)));
                }
                s.push('}');
                s
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

pub fn expr(e: &Expr) -> String {
    match &e.kind {
        ExprKind::Name(n) => n.clone(),
        ExprKind::Constant(c) => match c {
            Constant::None => "None".into(),
            Constant::True => "True".into(),
            Constant::False => "False".into(),
            Constant::Ellipsis => "...".into(),
            Constant::Int(i) => i.to_string(),
            Constant::BigInt(b) => format!("{b}n"),
            Constant::Float(f) => format!("{f:?}"),
            Constant::Str(s) => format!("{s:?}"),
            Constant::Bytes(b) => format!("b{:?}", String::from_utf8_lossy(b)),
        },
        ExprKind::FString(parts) => format!("(f {})", fparts(parts)),
        ExprKind::BoolOp { op, values } => format!("({op:?} {})", list(values)),
        ExprKind::NamedExpr { target, value } => format!("(:= {target} {})", expr(value)),
        ExprKind::BinOp { left, op, right } => format!("({op:?} {} {})", expr(left), expr(right)),
        ExprKind::UnaryOp { op, operand } => format!("({op:?} {})", expr(operand)),
        ExprKind::Lambda { params: p, body } => format!("(lambda {} {})", params(p), expr(body)),
        ExprKind::IfExp { test, body, orelse } => {
            format!("(ifexp {} {} {})", expr(test), expr(body), expr(orelse))
        }
        ExprKind::Dict(items) => {
            let inner: Vec<String> = items
                .iter()
                .map(|i| match i {
                    DictItem::KeyValue(k, v) => format!("{}:{}", expr(k), expr(v)),
                    DictItem::Unpack(m) => format!("**{}", expr(m)),
                })
                .collect();
            format!("(dict {})", inner.join(" "))
        }
        ExprKind::Set(v) => format!("(set {})", list(v)),
        ExprKind::List(v) => format!("(list {})", list(v)),
        ExprKind::Tuple(v) => format!("(tuple {})", list(v)),
        ExprKind::ListComp { elt, generators } => {
            format!("(listcomp {} {})", expr(elt), comps(generators))
        }
        ExprKind::SetComp { elt, generators } => {
            format!("(setcomp {} {})", expr(elt), comps(generators))
        }
        ExprKind::DictComp {
            key,
            value,
            generators,
        } => {
            format!(
                "(dictcomp {}:{} {})",
                expr(key),
                expr(value),
                comps(generators)
            )
        }
        ExprKind::GeneratorExp { elt, generators } => {
            format!("(genexp {} {})", expr(elt), comps(generators))
        }
        ExprKind::Await(v) => format!("(await {})", expr(v)),
        ExprKind::Yield(v) => format!("(yield {})", opt_box(v)),
        ExprKind::YieldFrom(v) => format!("(yield-from {})", expr(v)),
        ExprKind::Compare {
            left,
            ops,
            comparators,
        } => {
            let mut s = format!("(cmp {}", expr(left));
            for (o, c) in ops.iter().zip(comparators) {
                s.push_str(&format!(" {o:?} {}", expr(c)));
            }
            s.push(')');
            s
        }
        ExprKind::Call {
            func,
            args,
            keywords,
        } => {
            let mut parts = vec![expr(func)];
            parts.extend(args.iter().map(expr));
            parts.extend(keywords.iter().map(keyword));
            format!("(call {})", parts.join(" "))
        }
        ExprKind::Attribute { value, attr } => format!("(. {} {attr})", expr(value)),
        ExprKind::Subscript { value, slice } => format!("(sub {} {})", expr(value), expr(slice)),
        ExprKind::Starred(v) => format!("*{}", expr(v)),
        ExprKind::Slice { lower, upper, step } => {
            format!(
                "(slice {} {} {})",
                opt_box(lower),
                opt_box(upper),
                opt_box(step)
            )
        }
    }
}

pub fn stmt(s: &Stmt) -> String {
    match &s.kind {
        StmtKind::Expr(e) => expr(e),
        StmtKind::Assign { targets, value } => format!("(= {} {})", list(targets), expr(value)),
        StmtKind::AugAssign { target, op, value } => {
            format!("({op:?}= {} {})", expr(target), expr(value))
        }
        StmtKind::AnnAssign {
            target,
            annotation,
            value,
        } => {
            format!("(: {} {} {})", expr(target), expr(annotation), opt(value))
        }
        StmtKind::If { test, body, orelse } => {
            format!("(if {} {} {})", expr(test), block(body), block(orelse))
        }
        StmtKind::While { test, body, orelse } => {
            format!("(while {} {} {})", expr(test), block(body), block(orelse))
        }
        StmtKind::For {
            is_async,
            target,
            iter,
            body,
            orelse,
        } => format!(
            "({}for {} {} {} {})",
            if *is_async { "async " } else { "" },
            expr(target),
            expr(iter),
            block(body),
            block(orelse)
        ),
        StmtKind::Break => "break".into(),
        StmtKind::Continue => "continue".into(),
        StmtKind::Pass => "pass".into(),
        StmtKind::FunctionDef(f) => {
            let decos: String = f
                .decorators
                .iter()
                .map(|d| format!("@{} ", expr(d)))
                .collect();
            let ret = f
                .returns
                .as_ref()
                .map_or(String::new(), |r| format!(" -> {}", expr(r)));
            format!(
                "({}{}def {} {}{} {})",
                decos,
                if f.is_async { "async " } else { "" },
                f.name,
                params(&f.params),
                ret,
                block(&f.body)
            )
        }
        StmtKind::ClassDef(c) => {
            let decos: String = c
                .decorators
                .iter()
                .map(|d| format!("@{} ", expr(d)))
                .collect();
            let mut bases: Vec<String> = c.bases.iter().map(expr).collect();
            bases.extend(c.keywords.iter().map(keyword));
            format!(
                "({}class {} ({}) {})",
                decos,
                c.name,
                bases.join(" "),
                block(&c.body)
            )
        }
        StmtKind::Return(v) => format!("(return {})", opt(v)),
        StmtKind::Global(n) => format!("(global {})", n.join(" ")),
        StmtKind::Nonlocal(n) => format!("(nonlocal {})", n.join(" ")),
        StmtKind::Try {
            body,
            handlers,
            orelse,
            finalbody,
            is_star,
        } => {
            let hs: Vec<String> = handlers
                .iter()
                .map(|h| {
                    format!(
                        "(except{} {} {} {})",
                        if *is_star { "*" } else { "" },
                        opt(&h.typ),
                        h.name.as_deref().unwrap_or("_"),
                        block(&h.body)
                    )
                })
                .collect();
            format!(
                "(try {} {} {} {})",
                block(body),
                hs.join(" "),
                block(orelse),
                block(finalbody)
            )
        }
        StmtKind::Raise { exc, cause } => format!("(raise {} {})", opt(exc), opt(cause)),
        StmtKind::Assert { test, msg } => format!("(assert {} {})", expr(test), opt(msg)),
        StmtKind::Delete(t) => format!("(del {})", list(t)),
        StmtKind::With {
            is_async,
            items,
            body,
        } => {
            let its: Vec<String> = items
                .iter()
                .map(|i| format!("({} {})", expr(&i.context), opt(&i.target)))
                .collect();
            format!(
                "({}with {} {})",
                if *is_async { "async " } else { "" },
                its.join(" "),
                block(body)
            )
        }
        StmtKind::Import(names) => format!("(import {})", aliases(names)),
        StmtKind::ImportFrom {
            module,
            names,
            level,
        } => format!(
            "(from {}{} {})",
            ".".repeat(*level as usize),
            module.as_deref().unwrap_or(""),
            aliases(names)
        ),
    }
}

fn aliases(names: &[Alias]) -> String {
    names
        .iter()
        .map(|a| match &a.asname {
            Some(n) => format!("{} as {n}", a.name),
            None => a.name.clone(),
        })
        .collect::<Vec<_>>()
        .join(", ")
}
