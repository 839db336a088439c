//! Scope analysis, the compiler's first pass: decides for every name in every scope whether it is a
//! local slot, a cell, a free variable, a global or a class-namespace name.
//!
//! In Python an assignment anywhere in a function makes the name local to the whole function, so
//! this must run over a whole function before any of it is compiled. Scopes are keyed by the
//! address of their AST node (the tree is not moved while compiling).

use std::collections::{HashMap, HashSet};

use eddy_parser::ast::*;
use indexmap::IndexMap;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScopeKind {
    Module,
    Function,
    Class,
}

/// How one name is reached from one scope.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Resolution {
    /// A slot in the frame's locals.
    Local,
    /// A local captured by an inner function: lives in a cell.
    Cell,
    /// A variable of an enclosing function, reached through the closure.
    Free,
    /// `global x`, or a module-level name.
    Global,
    /// Not bound anywhere visible: a global or builtin, looked up at run time.
    GlobalImplicit,
    /// Bound in a class body: lives in the class namespace.
    ClassName,
}

#[derive(Default, Clone, Copy, Debug)]
struct SymFlags {
    bound: bool,
    used: bool,
    param: bool,
    global: bool,
    nonlocal: bool,
}

#[derive(Debug)]
pub struct Scope {
    pub kind: ScopeKind,
    pub name: String,
    symbols: IndexMap<String, SymFlags>,
    pub params: Vec<String>,
    pub children: Vec<usize>,
    pub resolved: HashMap<String, Resolution>,
    /// Names in local-slot order (parameters first).
    pub varnames: Vec<String>,
    pub cellvars: Vec<String>,
    pub freevars: Vec<String>,
    pub is_generator: bool,
    pub is_async: bool,
    /// A comprehension or generator expression (its iterator comes in as parameter `.0`).
    pub is_comprehension: bool,
    /// The method uses zero-argument `super()`, so needs the `__class__` cell.
    pub uses_class_cell: bool,
}

impl Scope {
    fn new(kind: ScopeKind, name: &str) -> Scope {
        Scope {
            kind,
            name: name.to_string(),
            symbols: IndexMap::new(),
            params: Vec::new(),
            children: Vec::new(),
            resolved: HashMap::new(),
            varnames: Vec::new(),
            cellvars: Vec::new(),
            freevars: Vec::new(),
            is_generator: false,
            is_async: false,
            is_comprehension: false,
            uses_class_cell: false,
        }
    }
    pub fn resolve(&self, name: &str) -> Resolution {
        if let Some(r) = self.resolved.get(name) {
            return *r;
        }
        match self.kind {
            ScopeKind::Module => Resolution::Global,
            ScopeKind::Class => Resolution::ClassName,
            ScopeKind::Function => Resolution::GlobalImplicit,
        }
    }
}

/// A compile error found during scope analysis (e.g. `nonlocal` at module level).
#[derive(Debug, Clone)]
pub struct ScopeError {
    pub message: String,
    pub span: Span,
}

pub struct SymbolTable {
    pub scopes: Vec<Scope>,
    by_node: HashMap<usize, usize>,
}

impl SymbolTable {
    /// The scope created by the AST node at this address (a FunctionDef, ClassDef, Lambda or comprehension Expr).
    pub fn scope_of<T>(&self, node: &T) -> usize {
        self.by_node[&(node as *const T as usize)]
    }
}

pub fn build(module: &Module) -> Result<SymbolTable, ScopeError> {
    let mut b = Builder {
        scopes: vec![Scope::new(ScopeKind::Module, "<module>")],
        by_node: HashMap::new(),
        stack: vec![0],
    };
    for s in &module.body {
        b.stmt(s)?;
    }
    let mut table = SymbolTable {
        scopes: b.scopes,
        by_node: b.by_node,
    };
    analyze(&mut table.scopes, 0, &HashSet::new());
    Ok(table)
}

struct Builder {
    scopes: Vec<Scope>,
    by_node: HashMap<usize, usize>,
    stack: Vec<usize>,
}

impl Builder {
    fn cur(&mut self) -> &mut Scope {
        let i = *self.stack.last().unwrap();
        &mut self.scopes[i]
    }
    fn flags(&mut self, name: &str) -> &mut SymFlags {
        self.cur().symbols.entry(name.to_string()).or_default()
    }
    fn bind(&mut self, name: &str) {
        self.flags(name).bound = true;
    }
    fn use_name(&mut self, name: &str) {
        self.flags(name).used = true;
    }
    fn push_scope<T>(&mut self, node: &T, kind: ScopeKind, name: &str) -> usize {
        let id = self.scopes.len();
        self.scopes.push(Scope::new(kind, name));
        let parent = *self.stack.last().unwrap();
        self.scopes[parent].children.push(id);
        self.by_node.insert(node as *const T as usize, id);
        self.stack.push(id);
        id
    }
    fn pop_scope(&mut self) {
        self.stack.pop();
    }

    fn body(&mut self, body: &[Stmt]) -> Result<(), ScopeError> {
        for s in body {
            self.stmt(s)?;
        }
        Ok(())
    }

    fn params_defaults(&mut self, p: &Parameters) -> Result<(), ScopeError> {
        for param in p.posonly.iter().chain(&p.args).chain(&p.kwonly) {
            if let Some(d) = &param.default {
                self.expr(d)?;
            }
        }
        for param in p
            .posonly
            .iter()
            .chain(&p.args)
            .chain(p.vararg.iter())
            .chain(&p.kwonly)
            .chain(p.kwarg.iter())
        {
            if let Some(a) = &param.annotation {
                self.expr(a)?;
            }
        }
        Ok(())
    }

    fn declare_params(&mut self, p: &Parameters) {
        let mut names = Vec::new();
        for param in p.posonly.iter().chain(&p.args) {
            names.push(param.name.clone());
        }
        for param in &p.kwonly {
            names.push(param.name.clone());
        }
        if let Some(v) = &p.vararg {
            names.push(v.name.clone());
        }
        if let Some(k) = &p.kwarg {
            names.push(k.name.clone());
        }
        for n in &names {
            let f = self.flags(n);
            f.bound = true;
            f.param = true;
        }
        self.cur().params = names;
    }

    fn stmt(&mut self, s: &Stmt) -> Result<(), ScopeError> {
        match &s.kind {
            StmtKind::Expr(e) => self.expr(e)?,
            StmtKind::Assign { targets, value } => {
                self.expr(value)?;
                for t in targets {
                    self.target(t)?;
                }
            }
            StmtKind::AugAssign { target, value, .. } => {
                self.expr(value)?;
                if let ExprKind::Name(n) = &target.kind {
                    self.use_name(n);
                }
                self.target(target)?;
            }
            StmtKind::AnnAssign {
                target,
                annotation,
                value,
            } => {
                if let Some(v) = value {
                    self.expr(v)?;
                }
                if matches!(self.cur().kind, ScopeKind::Module | ScopeKind::Class) {
                    self.expr(annotation)?;
                }
                if value.is_some() || !matches!(target.kind, ExprKind::Name(_)) {
                    self.target(target)?;
                } else if let ExprKind::Name(n) = &target.kind {
                    // A bare annotation still makes the name local in a function.
                    self.bind(n);
                }
            }
            StmtKind::If { test, body, orelse } | StmtKind::While { test, body, orelse } => {
                self.expr(test)?;
                self.body(body)?;
                self.body(orelse)?;
            }
            StmtKind::For {
                target,
                iter,
                body,
                orelse,
                ..
            } => {
                self.expr(iter)?;
                self.target(target)?;
                self.body(body)?;
                self.body(orelse)?;
            }
            StmtKind::Break | StmtKind::Continue | StmtKind::Pass => {}
            StmtKind::FunctionDef(f) => {
                for d in &f.decorators {
                    self.expr(d)?;
                }
                self.params_defaults(&f.params)?;
                if let Some(r) = &f.returns {
                    self.expr(r)?;
                }
                self.bind(&f.name);
                self.push_scope(&**f, ScopeKind::Function, &f.name);
                self.cur().is_async = f.is_async;
                self.declare_params(&f.params);
                self.body(&f.body)?;
                self.pop_scope();
            }
            StmtKind::ClassDef(c) => {
                for d in &c.decorators {
                    self.expr(d)?;
                }
                for b in &c.bases {
                    self.expr(b)?;
                }
                for k in &c.keywords {
                    self.expr(&k.value)?;
                }
                self.bind(&c.name);
                self.push_scope(&**c, ScopeKind::Class, &c.name);
                self.body(&c.body)?;
                self.pop_scope();
            }
            StmtKind::Return(v) => {
                if let Some(v) = v {
                    self.expr(v)?;
                }
            }
            StmtKind::Global(names) => {
                for n in names {
                    let f = self.flags(n);
                    if f.param {
                        return Err(ScopeError {
                            message: format!("name '{n}' is parameter and global"),
                            span: s.span,
                        });
                    }
                    f.global = true;
                }
            }
            StmtKind::Nonlocal(names) => {
                if self.cur().kind == ScopeKind::Module {
                    return Err(ScopeError {
                        message: "nonlocal declaration not allowed at module level".into(),
                        span: s.span,
                    });
                }
                for n in names {
                    let f = self.flags(n);
                    if f.param {
                        return Err(ScopeError {
                            message: format!("name '{n}' is parameter and nonlocal"),
                            span: s.span,
                        });
                    }
                    f.nonlocal = true;
                }
            }
            StmtKind::Try {
                body,
                handlers,
                orelse,
                finalbody,
                ..
            } => {
                self.body(body)?;
                for h in handlers {
                    if let Some(t) = &h.typ {
                        self.expr(t)?;
                    }
                    if let Some(n) = &h.name {
                        self.bind(n);
                    }
                    self.body(&h.body)?;
                }
                self.body(orelse)?;
                self.body(finalbody)?;
            }
            StmtKind::Raise { exc, cause } => {
                if let Some(e) = exc {
                    self.expr(e)?;
                }
                if let Some(c) = cause {
                    self.expr(c)?;
                }
            }
            StmtKind::Assert { test, msg } => {
                self.expr(test)?;
                if let Some(m) = msg {
                    self.expr(m)?;
                }
            }
            StmtKind::Delete(targets) => {
                for t in targets {
                    self.target(t)?;
                }
            }
            StmtKind::With { items, body, .. } => {
                for item in items {
                    self.expr(&item.context)?;
                    if let Some(t) = &item.target {
                        self.target(t)?;
                    }
                }
                self.body(body)?;
            }
            StmtKind::Import(aliases) => {
                for a in aliases {
                    let bound = a
                        .asname
                        .clone()
                        .unwrap_or_else(|| a.name.split('.').next().unwrap_or("").to_string());
                    self.bind(&bound);
                }
            }
            StmtKind::ImportFrom { names, .. } => {
                for a in names {
                    if a.name != "*" {
                        self.bind(a.asname.as_ref().unwrap_or(&a.name));
                    }
                }
            }
        }
        Ok(())
    }

    /// An assignment target: binds names, evaluates the rest.
    fn target(&mut self, t: &Expr) -> Result<(), ScopeError> {
        match &t.kind {
            ExprKind::Name(n) => self.bind(n),
            ExprKind::Tuple(items) | ExprKind::List(items) => {
                for i in items {
                    self.target(i)?;
                }
            }
            ExprKind::Starred(inner) => self.target(inner)?,
            ExprKind::Attribute { value, .. } => self.expr(value)?,
            ExprKind::Subscript { value, slice } => {
                self.expr(value)?;
                self.expr(slice)?;
            }
            _ => self.expr(t)?,
        }
        Ok(())
    }

    fn comprehension(
        &mut self,
        node: &Expr,
        generators: &[Comprehension],
        elts: &[&Expr],
    ) -> Result<(), ScopeError> {
        // The first iterable is evaluated in the enclosing scope.
        self.expr(&generators[0].iter)?;
        self.push_scope(node, ScopeKind::Function, "<comprehension>");
        self.cur().is_comprehension = true;
        let f = self.flags(".0");
        f.bound = true;
        f.param = true;
        self.cur().params = vec![".0".to_string()];
        if matches!(node.kind, ExprKind::GeneratorExp { .. }) {
            self.cur().is_generator = true;
        }
        for (i, g) in generators.iter().enumerate() {
            if i > 0 {
                self.expr(&g.iter)?;
            }
            self.target(&g.target)?;
            for cond in &g.ifs {
                self.expr(cond)?;
            }
            if g.is_async {
                self.cur().is_async = true;
            }
        }
        for e in elts {
            self.expr(e)?;
        }
        self.pop_scope();
        Ok(())
    }

    fn expr(&mut self, e: &Expr) -> Result<(), ScopeError> {
        match &e.kind {
            ExprKind::Name(n) => {
                self.use_name(n);
                if n == "super" {
                    self.note_super();
                }
            }
            ExprKind::Constant(_) => {}
            ExprKind::FString(parts) => self.fstring(parts)?,
            ExprKind::BoolOp { values, .. } => {
                for v in values {
                    self.expr(v)?;
                }
            }
            ExprKind::NamedExpr { target, value } => {
                self.expr(value)?;
                // In a comprehension, the walrus binds in the enclosing function scope (PEP 572).
                let mut depth = self.stack.len() - 1;
                while depth > 0 && self.scopes[self.stack[depth]].is_comprehension {
                    depth -= 1;
                }
                let owner = self.stack[depth];
                if owner != *self.stack.last().unwrap() {
                    self.scopes[owner]
                        .symbols
                        .entry(target.clone())
                        .or_default()
                        .bound = true;
                    for &s in &self.stack[depth + 1..] {
                        self.scopes[s]
                            .symbols
                            .entry(target.clone())
                            .or_default()
                            .nonlocal = self.scopes[owner].kind == ScopeKind::Function;
                        if self.scopes[owner].kind != ScopeKind::Function {
                            self.scopes[s]
                                .symbols
                                .entry(target.clone())
                                .or_default()
                                .global = true;
                        }
                    }
                } else {
                    self.bind(target);
                }
            }
            ExprKind::BinOp { left, right, .. } => {
                self.expr(left)?;
                self.expr(right)?;
            }
            ExprKind::UnaryOp { operand, .. } => self.expr(operand)?,
            ExprKind::Lambda { params, body } => {
                self.params_defaults(params)?;
                self.push_scope(e, ScopeKind::Function, "<lambda>");
                self.declare_params(params);
                self.expr(body)?;
                self.pop_scope();
            }
            ExprKind::IfExp { test, body, orelse } => {
                self.expr(test)?;
                self.expr(body)?;
                self.expr(orelse)?;
            }
            ExprKind::Dict(items) => {
                for item in items {
                    match item {
                        DictItem::KeyValue(k, v) => {
                            self.expr(k)?;
                            self.expr(v)?;
                        }
                        DictItem::Unpack(m) => self.expr(m)?,
                    }
                }
            }
            ExprKind::Set(items) | ExprKind::List(items) | ExprKind::Tuple(items) => {
                for i in items {
                    self.expr(i)?;
                }
            }
            ExprKind::ListComp { elt, generators }
            | ExprKind::SetComp { elt, generators }
            | ExprKind::GeneratorExp { elt, generators } => {
                self.comprehension(e, generators, &[elt])?
            }
            ExprKind::DictComp {
                key,
                value,
                generators,
            } => self.comprehension(e, generators, &[key, value])?,
            ExprKind::Await(v) => {
                // `await` inside a comprehension makes the comprehension itself asynchronous.
                if self.cur().is_comprehension {
                    self.cur().is_async = true;
                }
                self.expr(v)?;
            }
            ExprKind::Yield(v) => {
                self.cur().is_generator = true;
                if let Some(v) = v {
                    self.expr(v)?;
                }
            }
            ExprKind::YieldFrom(v) => {
                self.cur().is_generator = true;
                self.expr(v)?;
            }
            ExprKind::Compare {
                left, comparators, ..
            } => {
                self.expr(left)?;
                for c in comparators {
                    self.expr(c)?;
                }
            }
            ExprKind::Call {
                func,
                args,
                keywords,
            } => {
                self.expr(func)?;
                for a in args {
                    self.expr(a)?;
                }
                for k in keywords {
                    self.expr(&k.value)?;
                }
            }
            ExprKind::Attribute { value, .. } => self.expr(value)?,
            ExprKind::Subscript { value, slice } => {
                self.expr(value)?;
                self.expr(slice)?;
            }
            ExprKind::Starred(v) => self.expr(v)?,
            ExprKind::Slice { lower, upper, step } => {
                for part in [lower, upper, step].into_iter().flatten() {
                    self.expr(part)?;
                }
            }
        }
        Ok(())
    }

    fn fstring(&mut self, parts: &[FStringPart]) -> Result<(), ScopeError> {
        for p in parts {
            if let FStringPart::Formatted {
                value, format_spec, ..
            } = p
            {
                self.expr(value)?;
                if let Some(spec) = format_spec {
                    self.fstring(spec)?;
                }
            }
        }
        Ok(())
    }

    /// `super` used inside a function nested in a class: that function needs the `__class__` cell.
    fn note_super(&mut self) {
        let cur = *self.stack.last().unwrap();
        if self.scopes[cur].kind == ScopeKind::Function {
            self.scopes[cur].uses_class_cell = true;
            self.flags("__class__").used = true;
        }
    }
}

/// Resolves every scope's names, top-down; returns the names `id` needs from enclosing scopes.
fn analyze(scopes: &mut [Scope], id: usize, enclosing: &HashSet<String>) -> HashSet<String> {
    let kind = scopes[id].kind;
    let mut visible = match kind {
        ScopeKind::Module => HashSet::new(),
        ScopeKind::Class => {
            let mut v = enclosing.clone();
            v.insert("__class__".to_string());
            v
        }
        ScopeKind::Function => {
            let mut v = enclosing.clone();
            for (name, f) in &scopes[id].symbols {
                if f.global {
                    v.remove(name);
                } else if f.bound || f.nonlocal {
                    v.insert(name.clone());
                }
            }
            v
        }
    };
    if kind == ScopeKind::Class {
        // Class-level names are not visible to methods, except through `__class__`.
        for (name, f) in &scopes[id].symbols {
            if f.global {
                visible.remove(name);
            }
        }
    }
    let mut child_free = HashSet::new();
    for child in scopes[id].children.clone() {
        child_free.extend(analyze(scopes, child, &visible));
    }

    let scope = &mut scopes[id];
    let mut resolved = HashMap::new();
    let mut free = Vec::new();
    for (name, f) in &scope.symbols {
        let r = match kind {
            ScopeKind::Module => Resolution::Global,
            ScopeKind::Function => {
                if f.global {
                    Resolution::Global
                } else if f.nonlocal {
                    Resolution::Free
                } else if f.bound {
                    if child_free.contains(name) {
                        Resolution::Cell
                    } else {
                        Resolution::Local
                    }
                } else if enclosing.contains(name) {
                    Resolution::Free
                } else {
                    Resolution::GlobalImplicit
                }
            }
            ScopeKind::Class => {
                if f.global {
                    Resolution::Global
                } else if f.nonlocal {
                    Resolution::Free
                } else if f.bound {
                    Resolution::ClassName
                } else if name == "__class__" {
                    Resolution::Cell
                } else if enclosing.contains(name) {
                    Resolution::Free
                } else {
                    Resolution::ClassName
                }
            }
        };
        if r == Resolution::Free {
            free.push(name.clone());
        }
        resolved.insert(name.clone(), r);
    }
    // Free variables of children that this scope does not own pass through it.
    let mut child_free: Vec<String> = child_free.into_iter().collect();
    child_free.sort();
    for name in child_free {
        match resolved.get(&name) {
            Some(Resolution::Local) | Some(Resolution::Cell) if kind == ScopeKind::Function => {}
            _ if kind == ScopeKind::Class && name == "__class__" => {
                resolved.insert(name.clone(), Resolution::Cell);
            }
            _ if kind == ScopeKind::Module => {}
            Some(Resolution::Free) => {}
            _ => {
                if kind == ScopeKind::Class && resolved.get(&name) == Some(&Resolution::ClassName) {
                    // The class binds it, but methods see the enclosing function's variable.
                    scope.symbols.get(&name);
                }
                if enclosing.contains(&name) {
                    if kind == ScopeKind::Function || !resolved.contains_key(&name) {
                        resolved.insert(name.clone(), Resolution::Free);
                    }
                    free.push(name.clone());
                }
            }
        }
    }
    free.sort();
    free.dedup();

    // Lay out slots: parameters first, then other locals in order of first appearance.
    if kind == ScopeKind::Function {
        let mut varnames: Vec<String> = scope.params.clone();
        for (name, _) in &scope.symbols {
            if resolved.get(name) == Some(&Resolution::Local) && !varnames.contains(name) {
                varnames.push(name.clone());
            }
        }
        scope.varnames = varnames;
    }
    let mut cellvars: Vec<String> = resolved
        .iter()
        .filter(|(_, r)| **r == Resolution::Cell)
        .map(|(n, _)| n.clone())
        .collect();
    cellvars.sort();
    scope.cellvars = cellvars;
    scope.freevars = free.clone();
    scope.resolved = resolved;
    free.into_iter().collect()
}
