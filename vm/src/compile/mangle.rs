//! Private name mangling: inside a class body, `__name` (not ending in `__`) becomes
//! `_Class__name` in names, attribute names, definitions and parameters, as CPython's compiler
//! does. Done as a rewrite of the tree before scope analysis, so every later pass sees one name.

use eddy_parser::ast::*;

/// Returns a mangled copy of `module` if any class uses a private name; None otherwise.
pub fn mangle_module(module: &Module) -> Option<Module> {
    if !module.body.iter().any(stmt_has_private_class) {
        return None;
    }
    let mut m = module.clone();
    for s in &mut m.body {
        stmt(s, None);
    }
    Some(m)
}

fn stmt_has_private_class(s: &Stmt) -> bool {
    // A cheap over-approximation: any class at all. Mangling a tree without private names is a no-op.
    match &s.kind {
        StmtKind::ClassDef(_) => true,
        StmtKind::FunctionDef(f) => f.body.iter().any(stmt_has_private_class),
        StmtKind::If { body, orelse, .. }
        | StmtKind::While { body, orelse, .. }
        | StmtKind::For { body, orelse, .. } => {
            body.iter().chain(orelse).any(stmt_has_private_class)
        }
        StmtKind::Try {
            body,
            handlers,
            orelse,
            finalbody,
            ..
        } => body
            .iter()
            .chain(orelse)
            .chain(finalbody)
            .chain(handlers.iter().flat_map(|h| h.body.iter()))
            .any(stmt_has_private_class),
        StmtKind::With { body, .. } => body.iter().any(stmt_has_private_class),
        _ => false,
    }
}

/// `_Class__name` for a private `__name` inside class `class`.
fn mangled(name: &str, class: Option<&str>) -> Option<String> {
    let class = class?;
    if !name.starts_with("__") || name.ends_with("__") || name.contains('.') {
        return None;
    }
    let stripped = class.trim_start_matches('_');
    if stripped.is_empty() {
        return None;
    }
    Some(format!("_{stripped}{name}"))
}

fn fix(name: &mut String, class: Option<&str>) {
    if let Some(m) = mangled(name, class) {
        *name = m;
    }
}

fn body(b: &mut [Stmt], class: Option<&str>) {
    for s in b {
        stmt(s, class);
    }
}

fn params(p: &mut Parameters, class: Option<&str>) {
    for param in p
        .posonly
        .iter_mut()
        .chain(p.args.iter_mut())
        .chain(p.vararg.iter_mut())
        .chain(p.kwonly.iter_mut())
        .chain(p.kwarg.iter_mut())
    {
        fix(&mut param.name, class);
        if let Some(d) = &mut param.default {
            expr(d, class);
        }
        if let Some(a) = &mut param.annotation {
            expr(a, class);
        }
    }
}

fn stmt(s: &mut Stmt, class: Option<&str>) {
    match &mut s.kind {
        StmtKind::Expr(e) => expr(e, class),
        StmtKind::Assign { targets, value } => {
            for t in targets {
                expr(t, class);
            }
            expr(value, class);
        }
        StmtKind::AugAssign { target, value, .. } => {
            expr(target, class);
            expr(value, class);
        }
        StmtKind::AnnAssign {
            target,
            annotation,
            value,
        } => {
            expr(target, class);
            expr(annotation, class);
            if let Some(v) = value {
                expr(v, class);
            }
        }
        StmtKind::If {
            test,
            body: b,
            orelse,
        }
        | StmtKind::While {
            test,
            body: b,
            orelse,
        } => {
            expr(test, class);
            body(b, class);
            body(orelse, class);
        }
        StmtKind::For {
            target,
            iter,
            body: b,
            orelse,
            ..
        } => {
            expr(target, class);
            expr(iter, class);
            body(b, class);
            body(orelse, class);
        }
        StmtKind::FunctionDef(f) => {
            for d in &mut f.decorators {
                expr(d, class);
            }
            fix(&mut f.name, class);
            params(&mut f.params, class);
            if let Some(r) = &mut f.returns {
                expr(r, class);
            }
            body(&mut f.body, class);
        }
        StmtKind::ClassDef(c) => {
            for d in &mut c.decorators {
                expr(d, class);
            }
            for b in &mut c.bases {
                expr(b, class);
            }
            for k in &mut c.keywords {
                expr(&mut k.value, class);
            }
            // The class's own name is mangled in the enclosing class; its body uses its own name.
            let own = c.name.clone();
            fix(&mut c.name, class);
            body(&mut c.body, Some(&own));
        }
        StmtKind::Return(v) => {
            if let Some(v) = v {
                expr(v, class);
            }
        }
        StmtKind::Global(names) | StmtKind::Nonlocal(names) => {
            for n in names {
                fix(n, class);
            }
        }
        StmtKind::Try {
            body: b,
            handlers,
            orelse,
            finalbody,
            ..
        } => {
            body(b, class);
            for h in handlers {
                if let Some(t) = &mut h.typ {
                    expr(t, class);
                }
                if let Some(n) = &mut h.name {
                    fix(n, class);
                }
                body(&mut h.body, class);
            }
            body(orelse, class);
            body(finalbody, class);
        }
        StmtKind::Raise { exc, cause } => {
            if let Some(e) = exc {
                expr(e, class);
            }
            if let Some(c) = cause {
                expr(c, class);
            }
        }
        StmtKind::Assert { test, msg } => {
            expr(test, class);
            if let Some(m) = msg {
                expr(m, class);
            }
        }
        StmtKind::Delete(targets) => {
            for t in targets {
                expr(t, class);
            }
        }
        StmtKind::With { items, body: b, .. } => {
            for i in items {
                expr(&mut i.context, class);
                if let Some(t) = &mut i.target {
                    expr(t, class);
                }
            }
            body(b, class);
        }
        StmtKind::Import(aliases) | StmtKind::ImportFrom { names: aliases, .. } => {
            for a in aliases {
                if let Some(asn) = &mut a.asname {
                    fix(asn, class);
                }
            }
        }
        StmtKind::Break | StmtKind::Continue | StmtKind::Pass => {}
    }
}

fn fstring(parts: &mut [FStringPart], class: Option<&str>) {
    for p in parts {
        if let FStringPart::Formatted {
            value, format_spec, ..
        } = p
        {
            expr(value, class);
            if let Some(spec) = format_spec {
                fstring(spec, class);
            }
        }
    }
}

fn comprehension(gens: &mut [Comprehension], class: Option<&str>) {
    for g in gens {
        expr(&mut g.target, class);
        expr(&mut g.iter, class);
        for i in &mut g.ifs {
            expr(i, class);
        }
    }
}

fn expr(e: &mut Expr, class: Option<&str>) {
    match &mut e.kind {
        ExprKind::Name(n) => fix(n, class),
        ExprKind::Constant(_) => {}
        ExprKind::FString(parts) => fstring(parts, class),
        ExprKind::BoolOp { values, .. } => {
            for v in values {
                expr(v, class);
            }
        }
        ExprKind::NamedExpr { target, value } => {
            fix(target, class);
            expr(value, class);
        }
        ExprKind::BinOp { left, right, .. } => {
            expr(left, class);
            expr(right, class);
        }
        ExprKind::UnaryOp { operand, .. } => expr(operand, class),
        ExprKind::Lambda { params: p, body: b } => {
            params(p, class);
            expr(b, class);
        }
        ExprKind::IfExp {
            test,
            body: b,
            orelse,
        } => {
            expr(test, class);
            expr(b, class);
            expr(orelse, class);
        }
        ExprKind::Dict(items) => {
            for i in items {
                match i {
                    DictItem::KeyValue(k, v) => {
                        expr(k, class);
                        expr(v, class);
                    }
                    DictItem::Unpack(m) => expr(m, class),
                }
            }
        }
        ExprKind::Set(items) | ExprKind::List(items) | ExprKind::Tuple(items) => {
            for i in items {
                expr(i, class);
            }
        }
        ExprKind::ListComp { elt, generators }
        | ExprKind::SetComp { elt, generators }
        | ExprKind::GeneratorExp { elt, generators } => {
            expr(elt, class);
            comprehension(generators, class);
        }
        ExprKind::DictComp {
            key,
            value,
            generators,
        } => {
            expr(key, class);
            expr(value, class);
            comprehension(generators, class);
        }
        ExprKind::Await(v) | ExprKind::YieldFrom(v) | ExprKind::Starred(v) => expr(v, class),
        ExprKind::Yield(v) => {
            if let Some(v) = v {
                expr(v, class);
            }
        }
        ExprKind::Compare {
            left, comparators, ..
        } => {
            expr(left, class);
            for c in comparators {
                expr(c, class);
            }
        }
        ExprKind::Call {
            func,
            args,
            keywords,
        } => {
            expr(func, class);
            for a in args {
                expr(a, class);
            }
            for k in keywords {
                expr(&mut k.value, class);
            }
        }
        ExprKind::Attribute { value, attr } => {
            expr(value, class);
            fix(attr, class);
        }
        ExprKind::Subscript { value, slice } => {
            expr(value, class);
            expr(slice, class);
        }
        ExprKind::Slice { lower, upper, step } => {
            for p in [lower, upper, step].into_iter().flatten() {
                expr(p, class);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::mangled;

    #[test]
    fn mangles_only_private_names_inside_classes() {
        assert_eq!(mangled("__x", Some("Account")), Some("_Account__x".into()));
        assert_eq!(mangled("__x", Some("_Private")), Some("_Private__x".into()));
        assert_eq!(mangled("__init__", Some("A")), None);
        assert_eq!(mangled("_x", Some("A")), None);
        assert_eq!(mangled("__x", None), None);
        assert_eq!(mangled("__x", Some("___")), None);
    }
}
