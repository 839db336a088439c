//! Warnings `eddy check` gives about code that is valid but almost certainly wrong. One so far:
//! a forgotten `await` — a call of an `async def` function of the same module used as a bare
//! statement (`fetch(url)`, `self.close()`), which makes a coroutine and drops it, so its body
//! never runs. CPython only says so at run time, and only if that line runs.
//!
//! The check is syntactic and errs on the side of silence: a name counts as an async function
//! only when the module (or an enclosing function) defines it with `async def` and nothing else,
//! and the current function does not rebind it; `self.name()`/`cls.name()` count inside a
//! method when the class (or a base class of the module named in its header) defines `name`
//! with `async def`.

use std::collections::{HashMap, HashSet};

use eddy_parser::ast::{ClassDef, Expr, ExprKind, FunctionDef, Span, Stmt, StmtKind};
use eddy_vm::SourceFile;

/// A problem worth a look that does not stop the file from running.
#[derive(Debug, Clone, PartialEq)]
pub struct Warning {
    pub file: String,
    /// 1-based line of `span`'s start.
    pub line: u32,
    pub message: String,
    /// Byte span of the offending text.
    pub span: Span,
    /// The words under the span.
    pub label: String,
    pub help: Option<String>,
}

/// Every forgotten `await` in `module`, parsed from `file`.
pub fn forgotten_awaits(file: &SourceFile, module: &eddy_parser::ast::Module) -> Vec<Warning> {
    let classes = class_index(&module.body);
    let mut checker = Checker {
        file,
        classes: &classes,
        scopes: vec![Scope::of(&module.body)],
        out: Vec::new(),
    };
    checker.block(&module.body);
    checker.out
}

/// What one scope (module, function or class body) binds: the names bound by `async def` only,
/// and every other name it binds, parameters included (a name bound both ways is not trusted
/// to be async).
struct Scope<'a> {
    async_defs: HashSet<&'a str>,
    other: HashSet<&'a str>,
    /// Set for a class body, and for a method's body: the class (for `self.x()`).
    class: Option<&'a str>,
    /// True for a class body itself (its names are not visible from its methods).
    is_class_body: bool,
    /// True in the body of an `async def` (the help then says to add `await`).
    is_async: bool,
    /// The first parameter of a method (`self` or `cls`), if any.
    receiver: Option<&'a str>,
}

impl<'a> Scope<'a> {
    fn of(body: &'a [Stmt]) -> Scope<'a> {
        let mut async_defs = HashSet::new();
        let mut other = HashSet::new();
        bindings(body, &mut async_defs, &mut other);
        async_defs.retain(|n| !other.contains(n));
        Scope {
            async_defs,
            other,
            class: None,
            is_class_body: false,
            is_async: false,
            receiver: None,
        }
    }
}

/// Names bound in `body` (not inside nested functions or classes, which have their own scope):
/// those bound by `async def` into `asyncs`, all others into `other`.
fn bindings<'a>(body: &'a [Stmt], asyncs: &mut HashSet<&'a str>, other: &mut HashSet<&'a str>) {
    for stmt in body {
        match &stmt.kind {
            StmtKind::FunctionDef(f) if f.is_async && plain_method(f) => {
                asyncs.insert(&f.name);
            }
            StmtKind::FunctionDef(f) => {
                other.insert(&f.name);
            }
            StmtKind::ClassDef(c) => {
                other.insert(&c.name);
            }
            StmtKind::Assign { targets, .. } => targets.iter().for_each(|t| target_names(t, other)),
            StmtKind::AugAssign { target, .. } | StmtKind::AnnAssign { target, .. } => {
                target_names(target, other)
            }
            StmtKind::For { target, .. } => target_names(target, other),
            StmtKind::With { items, .. } => items
                .iter()
                .filter_map(|i| i.target.as_ref())
                .for_each(|t| target_names(t, other)),
            StmtKind::Import(aliases) | StmtKind::ImportFrom { names: aliases, .. } => {
                for a in aliases {
                    let bound = a.asname.as_deref().unwrap_or(&a.name);
                    other.insert(bound.split('.').next().unwrap_or(bound));
                }
            }
            StmtKind::Global(names) | StmtKind::Nonlocal(names) => {
                other.extend(names.iter().map(String::as_str))
            }
            _ => {}
        }
        for inner in nested_blocks(stmt) {
            bindings(inner, asyncs, other);
        }
        if let StmtKind::Try { handlers, .. } = &stmt.kind {
            other.extend(handlers.iter().filter_map(|h| h.name.as_deref()));
        }
    }
}

fn target_names<'a>(target: &'a Expr, out: &mut HashSet<&'a str>) {
    match &target.kind {
        ExprKind::Name(n) => {
            out.insert(n);
        }
        ExprKind::Tuple(items) | ExprKind::List(items) => {
            items.iter().for_each(|i| target_names(i, out))
        }
        ExprKind::Starred(inner) => target_names(inner, out),
        _ => {}
    }
}

/// The statement lists directly inside `stmt` that belong to the same scope (not function or
/// class bodies).
fn nested_blocks(stmt: &Stmt) -> Vec<&[Stmt]> {
    match &stmt.kind {
        StmtKind::If { body, orelse, .. }
        | StmtKind::While { body, orelse, .. }
        | StmtKind::For { body, orelse, .. } => vec![body, orelse],
        StmtKind::With { body, .. } => vec![body],
        StmtKind::Try {
            body,
            handlers,
            orelse,
            finalbody,
            ..
        } => {
            let mut blocks: Vec<&[Stmt]> = vec![body, orelse, finalbody];
            blocks.extend(handlers.iter().map(|h| h.body.as_slice()));
            blocks
        }
        _ => Vec::new(),
    }
}

/// Each class of the module (at any depth), by name: its async methods and its base names.
struct ClassInfo<'a> {
    async_methods: HashSet<&'a str>,
    other: HashSet<&'a str>,
    bases: Vec<&'a str>,
}

fn class_index(body: &[Stmt]) -> HashMap<&str, ClassInfo<'_>> {
    let mut index = HashMap::new();
    collect_classes(body, &mut index);
    index
}

fn collect_classes<'a>(body: &'a [Stmt], index: &mut HashMap<&'a str, ClassInfo<'a>>) {
    for stmt in body {
        match &stmt.kind {
            StmtKind::ClassDef(c) => {
                let mut info = ClassInfo {
                    async_methods: HashSet::new(),
                    other: HashSet::new(),
                    bases: c
                        .bases
                        .iter()
                        .filter_map(|b| match &b.kind {
                            ExprKind::Name(n) => Some(n.as_str()),
                            _ => None,
                        })
                        .collect(),
                };
                bindings(&c.body, &mut info.async_methods, &mut info.other);
                // Two classes of one name: neither is trusted.
                if index.insert(c.name.as_str(), info).is_some() {
                    index.insert(c.name.as_str(), ClassInfo::empty());
                }
                collect_classes(&c.body, index);
            }
            StmtKind::FunctionDef(f) => collect_classes(&f.body, index),
            _ => {}
        }
        for inner in nested_blocks(stmt) {
            collect_classes(inner, index);
        }
    }
}

impl ClassInfo<'_> {
    fn empty() -> Self {
        ClassInfo {
            async_methods: HashSet::new(),
            other: HashSet::new(),
            bases: Vec::new(),
        }
    }
}

struct Checker<'a, 'f> {
    file: &'f SourceFile,
    classes: &'f HashMap<&'a str, ClassInfo<'a>>,
    scopes: Vec<Scope<'a>>,
    out: Vec<Warning>,
}

impl<'a> Checker<'a, '_> {
    fn block(&mut self, body: &'a [Stmt]) {
        for stmt in body {
            match &stmt.kind {
                StmtKind::Expr(e) => self.bare_expression(e),
                StmtKind::FunctionDef(f) => self.function(f),
                StmtKind::ClassDef(c) => self.class(c),
                _ => {}
            }
            for inner in nested_blocks(stmt) {
                self.block(inner);
            }
        }
    }

    fn function(&mut self, f: &'a FunctionDef) {
        let mut scope = Scope::of(&f.body);
        let params = names_of_params(f);
        for p in &params {
            scope.async_defs.remove(p);
            scope.other.insert(p);
        }
        scope.is_async = f.is_async;
        // A function defined directly in a class body is a method: `self.x()` looks in the class.
        if let Some(outer) = self.scopes.last().filter(|s| s.is_class_body) {
            scope.class = outer.class;
            scope.receiver = params.first().copied();
        }
        self.scopes.push(scope);
        self.block(&f.body);
        self.scopes.pop();
    }

    fn class(&mut self, c: &'a ClassDef) {
        let mut scope = Scope::of(&c.body);
        scope.class = Some(c.name.as_str());
        scope.is_class_body = true;
        self.scopes.push(scope);
        self.block(&c.body);
        self.scopes.pop();
    }

    /// Warns when `e` is a call of a known `async def` (and so a dropped coroutine).
    fn bare_expression(&mut self, e: &Expr) {
        let ExprKind::Call { func, .. } = &e.kind else {
            return;
        };
        // The function's qualified name, as CPython's runtime warning names the coroutine.
        let name = match &func.kind {
            ExprKind::Name(n) if self.is_async_function(n) => n.clone(),
            ExprKind::Attribute { value, attr } => match &value.kind {
                ExprKind::Name(r) => match self.async_method_class(r, attr) {
                    Some(class) => format!("{class}.{attr}"),
                    None => return,
                },
                _ => return,
            },
            _ => return,
        };
        let call = self
            .file
            .text
            .get(e.span.start as usize..e.span.end as usize)
            .unwrap_or("...");
        let in_async = self.scopes.last().is_some_and(|s| s.is_async);
        let help = if in_async {
            format!("write `await {call}` to run it, or `asyncio.create_task({call})` to run it alongside (and keep the task)")
        } else {
            format!("outside `async def`, run it with `asyncio.run({call})`")
        };
        self.out.push(Warning {
            file: self.file.name.clone(),
            line: self.file.line_col(e.span.start).0,
            message: format!("coroutine '{name}' is created but never awaited"),
            span: e.span,
            label: format!("this only makes a coroutine object: {name}() never runs"),
            help: Some(help),
        });
    }

    /// `name` resolves, as Python resolves names (innermost scope first, class bodies only
    /// from themselves), to an `async def`.
    fn is_async_function(&self, name: &str) -> bool {
        let innermost = self.scopes.len().saturating_sub(1);
        for (i, scope) in self.scopes.iter().enumerate().rev() {
            if scope.is_class_body && i != innermost {
                continue;
            }
            if scope.async_defs.contains(name) {
                return true;
            }
            if scope.other.contains(name) {
                return false;
            }
        }
        false
    }

    /// For `receiver.attr()` inside a method whose first parameter is `receiver`: the class
    /// defining `attr` with `async def` only, if it is the method's class or one of its bases
    /// defined in the module.
    fn async_method_class(&self, receiver: &str, attr: &str) -> Option<&'a str> {
        let scope = self.scopes.last()?;
        if scope.receiver != Some(receiver) {
            return None;
        }
        let class = scope.class?;
        let mut seen = HashSet::new();
        let mut todo = vec![class];
        while let Some(c) = todo.pop() {
            if !seen.insert(c) {
                continue;
            }
            let Some(info) = self.classes.get(c) else {
                continue;
            };
            if info.other.contains(attr) {
                return None;
            }
            if info.async_methods.contains(attr) {
                return Some(c);
            }
            todo.extend(info.bases.iter().copied());
        }
        None
    }
}

/// No decorator, or only `staticmethod`/`classmethod`, which keep calls returning coroutines.
fn plain_method(f: &FunctionDef) -> bool {
    f.decorators
        .iter()
        .all(|d| matches!(&d.kind, ExprKind::Name(n) if n == "staticmethod" || n == "classmethod"))
}

fn names_of_params(f: &FunctionDef) -> Vec<&str> {
    let p = &f.params;
    p.posonly
        .iter()
        .chain(&p.args)
        .chain(&p.kwonly)
        .chain(p.vararg.iter())
        .chain(p.kwarg.iter())
        .map(|p| p.name.as_str())
        .collect()
}
