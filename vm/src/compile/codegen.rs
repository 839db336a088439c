//! Code generation: walks the AST and emits `Instr`s into one `Unit` per function, class body or
//! module, then assembles each unit into a `Code`.
//!
//! Control flow that leaves a block early (`return`, `break`, `continue` through `finally`, `with`
//! or an `except` body) is compiled by unwinding a compile-time stack of frame blocks (`FBlock`),
//! emitting each block's cleanup inline, as CPython's compiler does. Exception handlers are not
//! instructions: each emitted instruction records the innermost handler in force, and `assemble`
//! turns those into the code's exception table.

use std::collections::HashMap;
use std::rc::Rc;

use eddy_parser::ast::*;
use indexmap::IndexMap;

use super::symtable::{self, Resolution, ScopeKind, SymbolTable};
use crate::code::{CallKind, Code, CodeFlags, ExceptionEntry, SourceFile};
use crate::opcode::{is_jump, Instr};
use crate::value::{PyStr, Value};

/// A compile error: a sentence and where in the source it applies.
#[derive(Debug, Clone)]
pub struct CompileError {
    pub message: String,
    pub span: Span,
}

/// What kind of input is compiled.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Mode {
    /// A file: expression statements discard their value.
    Module,
    /// One REPL input: top-level expression statements echo their value.
    Interactive,
}

/// Maximum nesting of expressions and blocks the compiler accepts before reporting an error.
pub const MAX_NESTING: usize = 400;

type Label = u32;

#[derive(Clone)]
enum FBlock<'a> {
    WhileLoop {
        cont: Label,
        brk: Label,
    },
    /// The iterator is on the stack.
    ForLoop {
        cont: Label,
        brk: Label,
    },
    TryExcept,
    FinallyTry {
        body: &'a [Stmt],
    },
    /// In a finally body run for an exception: `prev exc` are on the stack.
    FinallyEnd,
    /// The context manager's `__exit__` is on the stack.
    With {
        is_async: bool,
    },
    /// In an except body: the previously handled exception is on the stack.
    HandlerCleanup {
        name: Option<String>,
    },
    /// A return value waiting under an inlined finally body.
    PopValue,
    /// Around the clauses of a `try ... except*`: `prev orig list rest` are on the stack.
    /// `return`, `break` and `continue` cannot leave such a clause (a SyntaxError), so it
    /// only counts stack depth for the handlers of code nested in a clause body.
    ExceptStarState,
}

impl FBlock<'_> {
    fn stack_size(&self) -> u32 {
        match self {
            FBlock::ForLoop { .. }
            | FBlock::With { .. }
            | FBlock::HandlerCleanup { .. }
            | FBlock::PopValue => 1,
            FBlock::FinallyEnd => 2,
            FBlock::ExceptStarState => 4,
            _ => 0,
        }
    }
}

struct Unit<'a> {
    scope: usize,
    name: String,
    qualname: String,
    instrs: Vec<Instr>,
    spans: Vec<Span>,
    /// The handler (label, depth) in force at each instruction.
    handlers_at: Vec<Option<(Label, u32)>>,
    consts: Vec<Value>,
    names: IndexMap<String, u32>,
    slots: HashMap<String, u32>,
    cells: HashMap<String, u32>,
    labels: Vec<Option<u32>>,
    fblocks: Vec<(FBlock<'a>, usize)>,
    handler_stack: Vec<(Label, u32)>,
    span: Span,
    flags: CodeFlags,
    argcount: u32,
    posonly: u32,
    kwonly: u32,
    first_line: u32,
}

pub struct Compiler<'a> {
    source: Rc<SourceFile>,
    table: SymbolTable,
    units: Vec<Unit<'a>>,
    depth: usize,
    /// `from __future__ import annotations` (PEP 563): annotations are kept as source strings.
    future_annotations: bool,
}

/// Compiles a parsed module into its top-level code object.
pub fn compile_module(
    module: &Module,
    source: Rc<SourceFile>,
    mode: Mode,
) -> Result<Rc<Code>, CompileError> {
    match super::mangle::mangle_module(module) {
        Some(mangled) => compile_unmangled(&mangled, source, mode),
        None => compile_unmangled(module, source, mode),
    }
}

fn compile_unmangled(
    module: &Module,
    source: Rc<SourceFile>,
    mode: Mode,
) -> Result<Rc<Code>, CompileError> {
    let table = symtable::build(module).map_err(|e| CompileError {
        message: e.message,
        span: e.span,
    })?;
    let mut c = Compiler {
        source,
        table,
        units: Vec::new(),
        depth: 0,
        future_annotations: imports_future_annotations(&module.body),
    };
    c.push_unit(0, "<module>".into(), "<module>".into(), Span::default());
    c.unit().flags.module = true;
    if has_annotations(&module.body) {
        c.emit(Instr::BuildMap(0));
        c.store_name("__annotations__");
    }
    // A module's docstring is its `__doc__` (the module starts with `__doc__ = None`).
    if let (
        Mode::Module,
        Some(Stmt {
            kind:
                StmtKind::Expr(Expr {
                    kind: ExprKind::Constant(Constant::Str(doc)),
                    ..
                }),
            ..
        }),
    ) = (mode, module.body.first())
    {
        c.load_const(Value::str(doc));
        c.store_name("__doc__");
    }
    let n = module.body.len();
    for (i, s) in module.body.iter().enumerate() {
        if mode == Mode::Interactive && i + 1 == n {
            if let StmtKind::Expr(e) = &s.kind {
                c.unit().span = s.span;
                c.expr(e)?;
                c.emit(Instr::PrintExpr);
                continue;
            }
        }
        c.stmt(s)?;
    }
    c.load_const(Value::None);
    c.emit(Instr::Return);
    Ok(Rc::new(c.pop_unit()))
}

fn err<T>(message: impl Into<String>, span: Span) -> Result<T, CompileError> {
    Err(CompileError {
        message: message.into(),
        span,
    })
}

type R = Result<(), CompileError>;

impl<'a> Compiler<'a> {
    fn unit(&mut self) -> &mut Unit<'a> {
        self.units.last_mut().unwrap()
    }
    fn scope(&self) -> &symtable::Scope {
        &self.table.scopes[self.units.last().unwrap().scope]
    }

    fn push_unit(&mut self, scope: usize, name: String, qualname: String, span: Span) {
        let sc = &self.table.scopes[scope];
        let mut slots = HashMap::new();
        for (i, n) in sc.varnames.iter().enumerate() {
            slots.insert(n.clone(), i as u32);
        }
        let mut cells = HashMap::new();
        for (i, n) in sc.cellvars.iter().chain(&sc.freevars).enumerate() {
            cells.insert(n.clone(), i as u32);
        }
        let first_line = self.source.line_col(span.start).0;
        self.units.push(Unit {
            scope,
            name,
            qualname,
            instrs: Vec::new(),
            spans: Vec::new(),
            handlers_at: Vec::new(),
            consts: Vec::new(),
            names: IndexMap::new(),
            slots,
            cells,
            labels: Vec::new(),
            fblocks: Vec::new(),
            handler_stack: Vec::new(),
            span,
            flags: CodeFlags::default(),
            argcount: 0,
            posonly: 0,
            kwonly: 0,
            first_line,
        });
    }

    /// Finishes the current unit: resolves labels and builds the exception table.
    fn pop_unit(&mut self) -> Code {
        let u = self.units.pop().unwrap();
        let sc = &self.table.scopes[u.scope];
        let resolve = |l: u32| u.labels[l as usize].expect("label bound");
        let mut instrs = u.instrs;
        for ins in instrs.iter_mut() {
            if is_jump(ins) {
                *ins = match *ins {
                    Instr::Jump(l) => Instr::Jump(resolve(l)),
                    Instr::PopJumpIfFalse(l) => Instr::PopJumpIfFalse(resolve(l)),
                    Instr::PopJumpIfTrue(l) => Instr::PopJumpIfTrue(resolve(l)),
                    Instr::JumpIfFalseOrPop(l) => Instr::JumpIfFalseOrPop(resolve(l)),
                    Instr::JumpIfTrueOrPop(l) => Instr::JumpIfTrueOrPop(resolve(l)),
                    Instr::ForIter(l) => Instr::ForIter(resolve(l)),
                    Instr::Send(l) => Instr::Send(resolve(l)),
                    other => other,
                };
            }
        }
        let mut table: Vec<ExceptionEntry> = Vec::new();
        let mut i = 0;
        while i < u.handlers_at.len() {
            if let Some((label, depth)) = u.handlers_at[i] {
                let start = i;
                while i < u.handlers_at.len() && u.handlers_at[i] == Some((label, depth)) {
                    i += 1;
                }
                table.push(ExceptionEntry {
                    start: start as u32,
                    end: i as u32,
                    target: resolve(label),
                    depth,
                });
            } else {
                i += 1;
            }
        }
        let name_rc = |s: &String| Rc::new(PyStr::new(s.as_str()));
        let cell_params = sc
            .cellvars
            .iter()
            .enumerate()
            .filter_map(|(ci, n)| {
                sc.params
                    .iter()
                    .position(|p| p == n)
                    .map(|pi| (ci as u32, pi as u32))
            })
            .collect();
        // Parameters that are cells still get a slot (the argument lands there first).
        let mut varnames: Vec<Rc<PyStr>> = sc.params.iter().map(name_rc).collect();
        for n in &sc.varnames[sc.params.len().min(sc.varnames.len())..] {
            varnames.push(name_rc(n));
        }
        // Generators start with room for what their deepest suspension saves.
        let suspend_slots = if u.flags.generator || u.flags.coroutine || u.flags.async_generator {
            varnames.len() as u32 + super::stackdepth::suspend_operands(&instrs, &table)
        } else {
            0
        };
        Code {
            name: Rc::new(PyStr::new(u.name)),
            qualname: Rc::new(PyStr::new(u.qualname)),
            source: self.source.clone(),
            instrs,
            spans: u.spans,
            consts: u.consts,
            names: u.names.keys().map(name_rc).collect(),
            varnames,
            cellvars: sc.cellvars.iter().map(name_rc).collect(),
            freevars: sc.freevars.iter().map(name_rc).collect(),
            cell_params,
            argcount: u.argcount,
            posonlyargcount: u.posonly,
            kwonlyargcount: u.kwonly,
            flags: u.flags,
            exception_table: table,
            suspend_slots,
            first_line: u.first_line,
            call_kind: match () {
                _ if u.flags.varargs
                    || u.flags.varkw
                    || u.kwonly != 0
                    || !sc.cellvars.is_empty()
                    || u.flags.generator
                    || u.flags.async_generator =>
                {
                    CallKind::General
                }
                _ if u.flags.coroutine => CallKind::SimpleCoroutine,
                _ => CallKind::Simple,
            },
            global_cache: (0..u.names.len())
                .map(|_| std::cell::Cell::new(Default::default()))
                .collect(),
        }
    }

    fn emit(&mut self, ins: Instr) -> usize {
        let source = self.source.clone();
        let u = self.unit();
        let h = u.handler_stack.last().copied();
        // Peephole fusion of the new instruction into the ones before it, when no jump lands
        // between them, they share a handler region and (for those that can raise on their own)
        // sit on one source line, so tracebacks are unchanged.
        let joinable = |u: &Unit, at: usize| {
            at > 0 && !u.labels.contains(&Some(at as u32)) && u.handlers_at[at - 1] == h
        };
        let same_line = |u: &Unit, at: usize| {
            source.line_col(u.spans[at].start).0 == source.line_col(u.span.start).0
        };
        let n = u.instrs.len();
        // `LoadConst k; Binary op` becomes `BinaryConst`, `LoadConst k; Compare op` becomes
        // `CompareConst`; with a `LoadFast` before them, `LoadFastBinaryConst`/`LoadFastCompareConst`.
        if let (Instr::Binary(op) | Instr::Compare(op), Some(&Instr::LoadConst(k))) =
            (ins, u.instrs.last())
        {
            if joinable(u, n) && k < (1 << 24) {
                let c = n - 1;
                let is_binary = matches!(ins, Instr::Binary(_));
                let prev_slot = match u.instrs.get(c.wrapping_sub(1)) {
                    Some(&Instr::LoadFast(s)) => Some(s),
                    Some(&Instr::LoadFastLoadFast(ab)) => Some(ab >> 16),
                    _ => None,
                };
                let k_fits = if is_binary {
                    k < (1 << 20)
                } else {
                    k < (1 << 21)
                };
                if let Some(slot) = prev_slot
                    .filter(|&s| s < 256 && k_fits && joinable(u, c) && same_line(u, c - 1))
                {
                    let fused = if is_binary {
                        Instr::LoadFastBinaryConst(slot | op << 8 | k << 12)
                    } else {
                        Instr::LoadFastCompareConst(slot | op << 8 | k << 11)
                    };
                    if let Instr::LoadFastLoadFast(ab) = u.instrs[c - 1] {
                        // Split the pair: the first load stays, the second joins the operation.
                        u.instrs[c - 1] = Instr::LoadFast(ab & 0xffff);
                        u.instrs[c] = fused;
                        u.spans[c] = u.span;
                        return c;
                    }
                    u.instrs.truncate(c);
                    u.spans.truncate(c);
                    u.handlers_at.truncate(c);
                    u.instrs[c - 1] = fused;
                    u.spans[c - 1] = u.span;
                    return c - 1;
                }
                let fused = if is_binary {
                    Instr::BinaryConst(op | (k << 4))
                } else {
                    Instr::CompareConst(op | (k << 3))
                };
                u.instrs[c] = fused;
                u.spans[c] = u.span;
                return c;
            }
        }
        // `LoadFast a; LoadFast b` becomes `LoadFastLoadFast`.
        if let (Instr::LoadFast(b), Some(&Instr::LoadFast(a))) = (ins, u.instrs.last()) {
            if joinable(u, n) && a < (1 << 16) && b < (1 << 16) && same_line(u, n - 1) {
                u.instrs[n - 1] = Instr::LoadFastLoadFast(a | b << 16);
                return n - 1;
            }
        }
        // `LoadFast slot; Return` becomes `ReturnFast`.
        if let (Instr::Return, Some(&Instr::LoadFast(slot))) = (ins, u.instrs.last()) {
            if joinable(u, n) {
                u.instrs[n - 1] = Instr::ReturnFast(slot);
                return n - 1;
            }
        }
        u.instrs.push(ins);
        u.spans.push(u.span);
        u.handlers_at.push(h);
        u.instrs.len() - 1
    }
    fn new_label(&mut self) -> Label {
        let u = self.unit();
        u.labels.push(None);
        (u.labels.len() - 1) as Label
    }
    fn bind(&mut self, l: Label) {
        let u = self.unit();
        u.labels[l as usize] = Some(u.instrs.len() as u32);
    }
    fn add_const(&mut self, v: Value) -> u32 {
        let u = self.unit();
        // Reuse identical simple constants.
        for (i, c) in u.consts.iter().enumerate() {
            let same = match (c, &v) {
                (Value::None, Value::None) => true,
                (Value::Bool(a), Value::Bool(b)) => a == b,
                (Value::Int(a), Value::Int(b)) => a == b,
                (Value::Str(a), Value::Str(b)) => a.s == b.s,
                _ => false,
            };
            if same {
                return i as u32;
            }
        }
        u.consts.push(v);
        (u.consts.len() - 1) as u32
    }
    fn load_const(&mut self, v: Value) {
        let k = self.add_const(v);
        self.emit(Instr::LoadConst(k));
    }
    fn name_index(&mut self, name: &str) -> u32 {
        let u = self.unit();
        let n = u.names.len() as u32;
        *u.names.entry(name.to_string()).or_insert(n)
    }
    fn block_depth(&self) -> u32 {
        self.units
            .last()
            .unwrap()
            .fblocks
            .iter()
            .map(|(b, _)| b.stack_size())
            .sum()
    }
    fn push_handler(&mut self, label: Label, depth: u32) {
        self.unit().handler_stack.push((label, depth));
    }
    fn pop_handler(&mut self) {
        self.unit().handler_stack.pop();
    }
    fn push_fblock(&mut self, b: FBlock<'a>) {
        let hl = self.unit().handler_stack.len();
        self.unit().fblocks.push((b, hl));
    }
    fn pop_fblock(&mut self) {
        self.unit().fblocks.pop();
    }
    fn enter(&mut self, span: Span) -> R {
        self.depth += 1;
        if self.depth > MAX_NESTING {
            return err("too many nested expressions or blocks", span);
        }
        Ok(())
    }
    fn leave(&mut self) {
        self.depth -= 1;
    }

    // ---- names ----

    /// Pushes an annotation: its value, or under PEP 563 its source text.
    fn annotation(&mut self, e: &'a Expr) -> Result<(), CompileError> {
        if self.future_annotations {
            let text = annotation_text(&self.source.text, e);
            self.load_const(Value::string(text));
            return Ok(());
        }
        self.expr(e)
    }

    fn load_name(&mut self, name: &str) {
        self.name_op(name, NameCtx::Load);
    }
    fn store_name(&mut self, name: &str) {
        self.name_op(name, NameCtx::Store);
    }
    fn delete_name(&mut self, name: &str) {
        self.name_op(name, NameCtx::Delete);
    }

    /// Emits the load, store or delete of `name` that its resolution calls for (CPython's
    /// `compiler_nameop`): a slot, a cell, a global, or the class namespace.
    fn name_op(&mut self, name: &str, ctx: NameCtx) {
        use NameCtx::*;
        let ins = match self.scope().resolve(name) {
            Resolution::Local => {
                let slot = self.unit().slots[name];
                [
                    Instr::LoadFast(slot),
                    Instr::StoreFast(slot),
                    Instr::DeleteFast(slot),
                ]
            }
            Resolution::Cell | Resolution::Free => {
                let c = self.unit().cells[name];
                [
                    Instr::LoadDeref(c),
                    Instr::StoreDeref(c),
                    Instr::DeleteDeref(c),
                ]
            }
            Resolution::Global | Resolution::GlobalImplicit => {
                let k = self.name_index(name);
                // A class body reads globals through its namespace first (LoadName), but binds them directly.
                let load = if self.scope().kind == ScopeKind::Class {
                    Instr::LoadName(k)
                } else {
                    Instr::LoadGlobal(k)
                };
                [load, Instr::StoreGlobal(k), Instr::DeleteGlobal(k)]
            }
            Resolution::ClassName => {
                let k = self.name_index(name);
                [
                    Instr::LoadName(k),
                    Instr::StoreName(k),
                    Instr::DeleteName(k),
                ]
            }
        };
        self.emit(
            ins[match ctx {
                Load => 0,
                Store => 1,
                Delete => 2,
            }],
        );
    }

    // ---- statements ----

    fn body(&mut self, body: &'a [Stmt]) -> R {
        for s in body {
            self.stmt(s)?;
        }
        Ok(())
    }

    fn stmt(&mut self, s: &'a Stmt) -> R {
        self.enter(s.span)?;
        self.unit().span = s.span;
        let r = self.stmt_inner(s);
        self.leave();
        r
    }

    fn stmt_inner(&mut self, s: &'a Stmt) -> R {
        match &s.kind {
            StmtKind::Expr(e) => {
                self.expr(e)?;
                self.emit(Instr::Pop);
            }
            StmtKind::Assign { targets, value } => {
                self.expr(value)?;
                for (i, t) in targets.iter().enumerate() {
                    if i + 1 < targets.len() {
                        self.emit(Instr::Copy(1));
                    }
                    self.store_target(t)?;
                }
            }
            StmtKind::AugAssign { target, op, value } => self.aug_assign(target, *op, value)?,
            StmtKind::AnnAssign {
                target,
                annotation,
                value,
            } => {
                if let Some(v) = value {
                    self.expr(v)?;
                    self.store_target(target)?;
                }
                // In a class or module body, `name: T` records T in `__annotations__`
                // (dataclasses and typing read it); function bodies ignore annotations.
                if let ExprKind::Name(n) = &target.kind {
                    if self.scope().kind != ScopeKind::Function {
                        self.annotation(annotation)?;
                        self.load_name("__annotations__");
                        self.load_const(Value::str(n));
                        self.emit(Instr::StoreSubscr);
                    }
                }
            }
            StmtKind::If { test, body, orelse } => {
                let else_l = self.new_label();
                self.jump_if(test, false, else_l)?;
                self.body(body)?;
                if orelse.is_empty() {
                    self.bind(else_l);
                } else {
                    let end = self.new_label();
                    self.emit(Instr::Jump(end));
                    self.bind(else_l);
                    self.body(orelse)?;
                    self.bind(end);
                }
            }
            StmtKind::While { test, body, orelse } => {
                let start = self.new_label();
                let else_l = self.new_label();
                let brk = self.new_label();
                self.bind(start);
                self.jump_if(test, false, else_l)?;
                self.push_fblock(FBlock::WhileLoop { cont: start, brk });
                self.body(body)?;
                self.pop_fblock();
                self.emit(Instr::Jump(start));
                self.bind(else_l);
                self.body(orelse)?;
                self.bind(brk);
            }
            StmtKind::For {
                is_async,
                target,
                iter,
                body,
                orelse,
            } => {
                if *is_async {
                    return self.async_for(target, iter, body, orelse, s.span);
                }
                let start = self.new_label();
                let exit = self.new_label();
                let brk = self.new_label();
                self.expr(iter)?;
                self.unit().span = s.span;
                self.emit(Instr::GetIter);
                self.bind(start);
                self.emit(Instr::ForIter(exit));
                self.store_target(target)?;
                self.push_fblock(FBlock::ForLoop { cont: start, brk });
                self.body(body)?;
                self.pop_fblock();
                self.emit(Instr::Jump(start));
                self.bind(exit);
                self.body(orelse)?;
                self.bind(brk);
            }
            StmtKind::Break => self.break_continue(true, s.span)?,
            StmtKind::Continue => self.break_continue(false, s.span)?,
            StmtKind::Pass => {}
            StmtKind::FunctionDef(f) => self.function_def(f, s.span)?,
            StmtKind::ClassDef(c) => self.class_def(c, s.span)?,
            StmtKind::Return(v) => {
                if self.scope().kind != ScopeKind::Function {
                    return err("'return' outside function", s.span);
                }
                if v.is_some() && self.unit().flags.async_generator {
                    return err("'return' with value in async generator", s.span);
                }
                match v {
                    Some(v) => self.expr(v)?,
                    None => self.load_const(Value::None),
                }
                self.unwind(true)?;
                self.emit(Instr::Return);
            }
            StmtKind::Global(_) | StmtKind::Nonlocal(_) => {}
            StmtKind::Try {
                body,
                handlers,
                orelse,
                finalbody,
                is_star,
            } => {
                if finalbody.is_empty() {
                    self.try_except(body, handlers, orelse, *is_star)?;
                } else {
                    self.try_finally(body, handlers, orelse, finalbody, *is_star)?;
                }
            }
            StmtKind::Raise { exc, cause } => match (exc, cause) {
                (None, _) => {
                    self.emit(Instr::Raise(0));
                }
                (Some(e), None) => {
                    self.expr(e)?;
                    self.emit(Instr::Raise(1));
                }
                (Some(e), Some(c)) => {
                    self.expr(e)?;
                    self.expr(c)?;
                    self.emit(Instr::Raise(2));
                }
            },
            StmtKind::Assert { test, msg } => {
                let end = self.new_label();
                self.jump_if(test, true, end)?;
                self.emit(Instr::LoadAssertionError);
                if let Some(m) = msg {
                    self.expr(m)?;
                    self.emit(Instr::Call(1));
                }
                self.unit().span = s.span;
                self.emit(Instr::Raise(1));
                self.bind(end);
            }
            StmtKind::Delete(targets) => {
                for t in targets {
                    self.delete_target(t)?;
                }
            }
            StmtKind::With {
                is_async,
                items,
                body,
            } => self.with(items, body, *is_async, s.span)?,
            StmtKind::Import(aliases) => {
                for a in aliases {
                    let k = self.name_index(&a.name);
                    self.emit(Instr::ImportName(k));
                    match &a.asname {
                        Some(asname) => self.store_name(asname),
                        None => {
                            let top = a.name.split('.').next().unwrap_or("").to_string();
                            if top != a.name {
                                self.emit(Instr::Pop);
                                let k = self.name_index(&top);
                                self.emit(Instr::ImportName(k));
                            }
                            self.store_name(&top);
                        }
                    }
                }
            }
            StmtKind::ImportFrom {
                module,
                names,
                level,
            } => {
                let modname = match module {
                    Some(m) => m.clone(),
                    None if *level > 0 => String::new(),
                    None => return err("invalid import", s.span),
                };
                if modname.is_empty() {
                    // `from . import x`: each name is a sibling module.
                    for a in names {
                        let k = self.name_index(&a.name);
                        self.emit(Instr::ImportName(k));
                        self.store_name(a.asname.as_ref().unwrap_or(&a.name));
                    }
                    return Ok(());
                }
                let k = self.name_index(&modname);
                self.emit(Instr::ImportName(k));
                for a in names {
                    if a.name == "*" {
                        self.emit(Instr::ImportStar);
                        return Ok(());
                    }
                    let k = self.name_index(&a.name);
                    self.emit(Instr::ImportFrom(k));
                    self.store_name(a.asname.as_ref().unwrap_or(&a.name));
                }
                self.emit(Instr::Pop);
            }
        }
        Ok(())
    }

    /// Emits the cleanups of every block up to the function boundary (for `return`).
    fn unwind(&mut self, preserve_tos: bool) -> R {
        let saved_blocks = self.unit().fblocks.clone();
        let saved_handlers = self.unit().handler_stack.clone();
        while let Some((block, handler_len)) = self.unit().fblocks.last().cloned() {
            self.unit().fblocks.pop();
            self.unit().handler_stack.truncate(handler_len);
            self.unwind_block(&block, preserve_tos)?;
        }
        self.unit().fblocks = saved_blocks;
        self.unit().handler_stack = saved_handlers;
        Ok(())
    }

    fn unwind_block(&mut self, block: &FBlock<'a>, preserve_tos: bool) -> R {
        match block {
            FBlock::WhileLoop { .. } | FBlock::TryExcept | FBlock::ExceptStarState => {}
            FBlock::ForLoop { .. } | FBlock::PopValue => {
                if preserve_tos {
                    self.emit(Instr::Swap(2));
                }
                self.emit(Instr::Pop);
            }
            FBlock::FinallyTry { body } => {
                if preserve_tos {
                    self.push_fblock(FBlock::PopValue);
                }
                self.body(body)?;
                if preserve_tos {
                    self.pop_fblock();
                }
            }
            FBlock::FinallyEnd => {
                if preserve_tos {
                    self.emit(Instr::Swap(2));
                }
                self.emit(Instr::Pop);
                if preserve_tos {
                    self.emit(Instr::Swap(2));
                }
                self.emit(Instr::PopExcept);
            }
            FBlock::With { is_async } => {
                if preserve_tos {
                    self.emit(Instr::Swap(2));
                }
                self.load_const(Value::None);
                self.load_const(Value::None);
                self.load_const(Value::None);
                self.emit(Instr::Call(3));
                if *is_async {
                    self.emit_await();
                }
                self.emit(Instr::Pop);
            }
            FBlock::HandlerCleanup { name } => {
                if preserve_tos {
                    self.emit(Instr::Swap(2));
                }
                self.emit(Instr::PopExcept);
                if let Some(n) = name {
                    self.load_const(Value::None);
                    self.store_name(n);
                    self.delete_name(n);
                }
            }
        }
        Ok(())
    }

    fn break_continue(&mut self, is_break: bool, span: Span) -> R {
        let word = if is_break {
            "'break' outside loop"
        } else {
            "'continue' not properly in loop"
        };
        let saved_blocks = self.unit().fblocks.clone();
        let saved_handlers = self.unit().handler_stack.clone();
        let mut target = None;
        while let Some((block, handler_len)) = self.unit().fblocks.last().cloned() {
            match block {
                FBlock::WhileLoop { cont, brk } => {
                    target = Some(if is_break { brk } else { cont });
                    break;
                }
                FBlock::ForLoop { cont, brk } => {
                    self.unit().handler_stack.truncate(handler_len);
                    if is_break {
                        self.emit(Instr::Pop);
                        target = Some(brk);
                    } else {
                        target = Some(cont);
                    }
                    break;
                }
                _ => {
                    self.unit().fblocks.pop();
                    self.unit().handler_stack.truncate(handler_len);
                    self.unwind_block(&block, false)?;
                }
            }
        }
        let Some(target) = target else {
            self.unit().fblocks = saved_blocks;
            self.unit().handler_stack = saved_handlers;
            return err(word, span);
        };
        self.emit(Instr::Jump(target));
        self.unit().fblocks = saved_blocks;
        self.unit().handler_stack = saved_handlers;
        Ok(())
    }

    fn try_except(
        &mut self,
        body: &'a [Stmt],
        handlers: &'a [ExceptHandler],
        orelse: &'a [Stmt],
        is_star: bool,
    ) -> R {
        let handler = self.new_label();
        let end = self.new_label();
        let depth = self.block_depth();
        self.push_handler(handler, depth);
        self.push_fblock(FBlock::TryExcept);
        self.body(body)?;
        self.pop_fblock();
        self.pop_handler();
        self.body(orelse)?;
        self.emit(Instr::Jump(end));

        self.bind(handler);
        let cleanup = self.new_label();
        self.emit(Instr::PushExcInfo);
        self.push_handler(cleanup, depth + 1);
        if is_star {
            self.star_handlers(handlers, depth, end)?;
        } else {
            for h in handlers {
                self.unit().span = h.span;
                let next = self.new_label();
                if let Some(t) = &h.typ {
                    self.expr(t)?;
                    self.emit(Instr::CheckExcMatch);
                    self.emit(Instr::PopJumpIfFalse(next));
                }
                match &h.name {
                    Some(n) => self.store_name(n),
                    None => {
                        self.emit(Instr::Pop);
                    }
                }
                self.push_fblock(FBlock::HandlerCleanup {
                    name: h.name.clone(),
                });
                self.body(&h.body)?;
                self.pop_fblock();
                // As CPython's POP_BLOCK: once the handled exception is popped, the cleanup
                // handler (which expects it on the stack) no longer covers the code, so an
                // exception raised there (the eval breaker ticks at the Jump) unwinds outward.
                self.pop_handler();
                self.emit(Instr::PopExcept);
                if let Some(n) = &h.name {
                    self.load_const(Value::None);
                    self.store_name(n);
                    self.delete_name(n);
                }
                self.emit(Instr::Jump(end));
                self.push_handler(cleanup, depth + 1);
                self.bind(next);
            }
            self.emit(Instr::Reraise);
        }
        self.pop_handler();
        self.bind(cleanup);
        self.emit(Instr::Swap(2));
        self.emit(Instr::PopExcept);
        self.emit(Instr::Reraise);
        self.bind(end);
        Ok(())
    }

    /// The handlers of a `try ... except*` (PEP 654); the stack holds `prev exc`.
    fn star_handlers(&mut self, handlers: &'a [ExceptHandler], depth: u32, end: Label) -> R {
        // prev orig list rest
        self.emit(Instr::Copy(1));
        self.emit(Instr::BuildList(0));
        self.emit(Instr::Swap(2));
        self.push_fblock(FBlock::ExceptStarState);
        for h in handlers {
            self.unit().span = h.span;
            let next = self.new_label();
            let no_match = self.new_label();
            let raised = self.new_label();
            match &h.typ {
                Some(t) => self.expr(t)?,
                None => return err("expected an exception type after 'except*'", h.span),
            }
            self.emit(Instr::CheckEgMatch);
            self.emit(Instr::Copy(1));
            self.load_const(Value::None);
            self.emit(Instr::IsOp(0));
            self.emit(Instr::PopJumpIfTrue(no_match));
            // An exception raised by the clause body joins the list of raised exceptions.
            self.push_handler(raised, depth + 4);
            self.emit(Instr::PushExcInfo);
            match &h.name {
                Some(n) => self.store_name(n),
                None => {
                    self.emit(Instr::Pop);
                }
            }
            self.push_fblock(FBlock::HandlerCleanup {
                name: h.name.clone(),
            });
            self.body(&h.body)?;
            self.pop_fblock();
            self.emit(Instr::PopExcept);
            self.pop_handler();
            self.emit(Instr::Jump(next));
            self.bind(raised);
            // prev orig list rest exc
            self.emit(Instr::ListAppend(2));
            self.emit(Instr::Jump(next));
            self.bind(no_match);
            self.emit(Instr::Pop);
            self.bind(next);
        }
        self.pop_fblock();
        self.emit(Instr::ListAppend(1));
        self.emit(Instr::PrepReraiseStar);
        let ok = self.new_label();
        self.emit(Instr::Copy(1));
        self.load_const(Value::None);
        self.emit(Instr::IsOp(0));
        self.emit(Instr::PopJumpIfTrue(ok));
        self.emit(Instr::Reraise);
        self.bind(ok);
        self.emit(Instr::Pop);
        // Out of the cleanup handler's range once the exception is popped (see try_except).
        let cleanup = self.unit().handler_stack.pop();
        self.emit(Instr::PopExcept);
        self.emit(Instr::Jump(end));
        if let Some(c) = cleanup {
            self.unit().handler_stack.push(c);
        }
        Ok(())
    }

    fn try_finally(
        &mut self,
        body: &'a [Stmt],
        handlers: &'a [ExceptHandler],
        orelse: &'a [Stmt],
        finalbody: &'a [Stmt],
        is_star: bool,
    ) -> R {
        let handler = self.new_label();
        let end = self.new_label();
        let depth = self.block_depth();
        self.push_handler(handler, depth);
        self.push_fblock(FBlock::FinallyTry { body: finalbody });
        if handlers.is_empty() {
            self.body(body)?;
        } else {
            self.try_except(body, handlers, orelse, is_star)?;
        }
        self.pop_fblock();
        self.pop_handler();
        self.body(finalbody)?;
        self.emit(Instr::Jump(end));

        self.bind(handler);
        let cleanup = self.new_label();
        self.emit(Instr::PushExcInfo);
        self.push_handler(cleanup, depth + 1);
        self.push_fblock(FBlock::FinallyEnd);
        self.body(finalbody)?;
        self.pop_fblock();
        self.emit(Instr::Reraise);
        self.pop_handler();
        self.bind(cleanup);
        self.emit(Instr::Swap(2));
        self.emit(Instr::PopExcept);
        self.emit(Instr::Reraise);
        self.bind(end);
        Ok(())
    }

    fn with(&mut self, items: &'a [WithItem], body: &'a [Stmt], is_async: bool, span: Span) -> R {
        let Some((item, rest)) = items.split_first() else {
            return self.body(body);
        };
        let depth = self.block_depth();
        self.expr(&item.context)?;
        self.unit().span = span;
        if is_async {
            self.emit(Instr::BeforeAsyncWith);
            self.emit(Instr::Call(0));
            self.emit_await();
        } else {
            self.emit(Instr::BeforeWith);
            self.emit(Instr::Call(0));
        }
        match &item.target {
            Some(t) => self.store_target(t)?,
            None => {
                self.emit(Instr::Pop);
            }
        }
        let handler = self.new_label();
        let end = self.new_label();
        self.push_handler(handler, depth + 1);
        self.push_fblock(FBlock::With { is_async });
        if rest.is_empty() {
            self.body(body)?;
        } else {
            self.with(rest, body, is_async, span)?;
        }
        self.pop_fblock();
        self.pop_handler();
        self.unit().span = span;
        self.load_const(Value::None);
        self.load_const(Value::None);
        self.load_const(Value::None);
        self.emit(Instr::Call(3));
        if is_async {
            self.emit_await();
        }
        self.emit(Instr::Pop);
        self.emit(Instr::Jump(end));

        // exit exc
        self.bind(handler);
        let cleanup = self.new_label();
        let suppress = self.new_label();
        self.emit(Instr::PushExcInfo);
        self.push_handler(cleanup, depth + 2);
        self.emit(Instr::Copy(3));
        self.emit(Instr::Copy(2));
        self.emit(Instr::WithExceptArgs);
        self.emit(Instr::Call(3));
        if is_async {
            self.emit_await();
        }
        self.emit(Instr::PopJumpIfTrue(suppress));
        self.emit(Instr::Reraise);
        self.bind(suppress);
        self.emit(Instr::Pop);
        self.emit(Instr::PopExcept);
        self.emit(Instr::Pop);
        self.pop_handler();
        self.emit(Instr::Jump(end));
        // exit prev exc2
        self.bind(cleanup);
        self.emit(Instr::Swap(2));
        self.emit(Instr::PopExcept);
        self.emit(Instr::Swap(2));
        self.emit(Instr::Pop);
        self.emit(Instr::Reraise);
        self.bind(end);
        Ok(())
    }

    fn async_for(
        &mut self,
        target: &'a Expr,
        iter: &'a Expr,
        body: &'a [Stmt],
        orelse: &'a [Stmt],
        span: Span,
    ) -> R {
        let start = self.new_label();
        let stop = self.new_label();
        let brk = self.new_label();
        self.expr(iter)?;
        self.unit().span = span;
        self.emit(Instr::GetAiter);
        self.bind(start);
        let depth = self.block_depth();
        self.push_handler(stop, depth + 1);
        self.emit(Instr::GetAnext);
        self.emit_await();
        self.pop_handler();
        self.store_target(target)?;
        self.push_fblock(FBlock::ForLoop { cont: start, brk });
        self.body(body)?;
        self.pop_fblock();
        self.emit(Instr::Jump(start));
        // aiter exc
        self.bind(stop);
        self.emit(Instr::EndAsyncFor);
        self.body(orelse)?;
        let end = self.new_label();
        self.emit(Instr::Jump(end));
        self.bind(brk);
        self.bind(end);
        Ok(())
    }

    /// `awaitable -> result`: the await loop (GetAwaitable, then Send/YieldValue until done).
    fn emit_await(&mut self) {
        // An await at a module's top level (Eddy's top-level await) makes the module's code a
        // coroutine: the host runs it inside an event loop instead of as a plain frame.
        let u = self.unit();
        if u.flags.module {
            u.flags.coroutine = true;
        }
        self.emit(Instr::GetAwaitable);
        self.emit_yield_from_loop();
    }

    fn emit_yield_from_loop(&mut self) {
        let l = self.new_label();
        let exit = self.new_label();
        self.load_const(Value::None);
        self.bind(l);
        self.emit(Instr::Send(exit));
        self.emit(Instr::YieldValue);
        self.emit(Instr::Jump(l));
        self.bind(exit);
    }

    fn aug_assign(&mut self, target: &'a Expr, op: BinOp, value: &'a Expr) -> R {
        let opn = binop_index(op);
        match &target.kind {
            ExprKind::Name(n) => {
                self.load_name(n);
                self.expr(value)?;
                self.unit().span = target.span.to(value.span);
                self.emit(Instr::InplaceBinary(opn));
                self.store_name(n);
            }
            ExprKind::Attribute { value: obj, attr } => {
                self.expr(obj)?;
                self.emit(Instr::Copy(1));
                let k = self.name_index(attr);
                self.emit(Instr::LoadAttr(k));
                self.expr(value)?;
                self.emit(Instr::InplaceBinary(opn));
                self.emit(Instr::Swap(2));
                self.emit(Instr::StoreAttr(k));
            }
            ExprKind::Subscript { value: obj, slice } => {
                self.expr(obj)?;
                self.expr(slice)?;
                self.emit(Instr::Copy(2));
                self.emit(Instr::Copy(2));
                self.emit(Instr::BinarySubscr);
                self.expr(value)?;
                self.emit(Instr::InplaceBinary(opn));
                self.emit(Instr::Swap(3));
                self.emit(Instr::Swap(2));
                self.emit(Instr::StoreSubscr);
            }
            _ => {
                return err(
                    "'expression' is an illegal expression for augmented assignment",
                    target.span,
                )
            }
        }
        Ok(())
    }

    fn store_target(&mut self, t: &'a Expr) -> R {
        match &t.kind {
            ExprKind::Name(n) => self.store_name(n),
            ExprKind::Attribute { value, attr } => {
                self.expr(value)?;
                let k = self.name_index(attr);
                self.unit().span = t.span;
                self.emit(Instr::StoreAttr(k));
            }
            ExprKind::Subscript { value, slice } => {
                self.expr(value)?;
                self.expr(slice)?;
                self.unit().span = t.span;
                self.emit(Instr::StoreSubscr);
            }
            ExprKind::Tuple(items) | ExprKind::List(items) => {
                self.unit().span = t.span;
                let star = items
                    .iter()
                    .position(|e| matches!(e.kind, ExprKind::Starred(_)));
                match star {
                    None => {
                        self.emit(Instr::UnpackSequence(items.len() as u32));
                    }
                    Some(i) => {
                        let after = items.len() - i - 1;
                        if i > 255 || after > 255 {
                            return err(
                                "too many expressions in star-unpacking assignment",
                                t.span,
                            );
                        }
                        self.emit(Instr::UnpackEx(i as u32 | ((after as u32) << 8)));
                    }
                }
                for item in items {
                    match &item.kind {
                        ExprKind::Starred(inner) => self.store_target(inner)?,
                        _ => self.store_target(item)?,
                    }
                }
            }
            ExprKind::Starred(_) => {
                return err(
                    "starred assignment target must be in a list or tuple",
                    t.span,
                )
            }
            _ => return err("cannot assign to expression", t.span),
        }
        Ok(())
    }

    fn delete_target(&mut self, t: &'a Expr) -> R {
        match &t.kind {
            ExprKind::Name(n) => self.delete_name(n),
            ExprKind::Attribute { value, attr } => {
                self.expr(value)?;
                let k = self.name_index(attr);
                self.emit(Instr::DeleteAttr(k));
            }
            ExprKind::Subscript { value, slice } => {
                self.expr(value)?;
                self.expr(slice)?;
                self.emit(Instr::DeleteSubscr);
            }
            ExprKind::Tuple(items) | ExprKind::List(items) => {
                for i in items {
                    self.delete_target(i)?;
                }
            }
            _ => return err("cannot delete expression", t.span),
        }
        Ok(())
    }

    /// Compiles `test` and jumps to `target` when its truth equals `when`.
    fn jump_if(&mut self, test: &'a Expr, when: bool, target: Label) -> R {
        match &test.kind {
            ExprKind::UnaryOp {
                op: UnaryOp::Not,
                operand,
            } => return self.jump_if(operand, !when, target),
            ExprKind::BoolOp { op, values } => {
                // `a and b` jumps on false if either is false; on true only if both are.
                let is_and = *op == BoolOp::And;
                if is_and != when {
                    for v in values {
                        self.jump_if(v, when, target)?;
                    }
                } else {
                    let skip = self.new_label();
                    let (last, init) = values.split_last().unwrap();
                    for v in init {
                        self.jump_if(v, !when, skip)?;
                    }
                    self.jump_if(last, when, target)?;
                    self.bind(skip);
                }
                return Ok(());
            }
            _ => {}
        }
        self.expr(test)?;
        if when {
            self.emit(Instr::PopJumpIfTrue(target));
        } else {
            self.emit(Instr::PopJumpIfFalse(target));
        }
        Ok(())
    }

    // ---- functions and classes ----

    fn qualname_for(&self, name: &str) -> String {
        let u = self.units.last().unwrap();
        let sc = &self.table.scopes[u.scope];
        match sc.kind {
            ScopeKind::Module => name.to_string(),
            ScopeKind::Class => format!("{}.{}", u.qualname, name),
            ScopeKind::Function => format!("{}.<locals>.{}", u.qualname, name),
        }
    }

    /// Pushes defaults, kw-defaults and closure, then the code, and emits MakeFunction.
    fn make_function(&mut self, code: Code, params: &'a Parameters) -> R {
        let mut flags = 0;
        let defaults: Vec<&Expr> = params
            .posonly
            .iter()
            .chain(&params.args)
            .filter_map(|p| p.default.as_ref())
            .collect();
        if !defaults.is_empty() {
            for d in &defaults {
                self.expr(d)?;
            }
            self.emit(Instr::BuildTuple(defaults.len() as u32));
            flags |= 1;
        }
        let kwdefaults: Vec<&Param> = params
            .kwonly
            .iter()
            .filter(|p| p.default.is_some())
            .collect();
        if !kwdefaults.is_empty() {
            for p in &kwdefaults {
                self.load_const(Value::str(&p.name));
                self.expr(p.default.as_ref().unwrap())?;
            }
            self.emit(Instr::BuildMap(kwdefaults.len() as u32));
            flags |= 2;
        }
        self.finish_function(code, flags);
        Ok(())
    }

    fn finish_function(&mut self, code: Code, mut flags: u32) {
        if !code.freevars.is_empty() {
            for fv in &code.freevars {
                let c = match self.unit().cells.get(&*fv.s) {
                    Some(c) => *c,
                    None => {
                        // Should not happen: symtable passes free variables through.
                        0
                    }
                };
                self.emit(Instr::LoadClosure(c));
            }
            self.emit(Instr::BuildTuple(code.freevars.len() as u32));
            flags |= 8;
        }
        self.load_const(Value::Code(Rc::new(code)));
        self.emit(Instr::MakeFunction(flags));
    }

    fn set_params(&mut self, params: &Parameters) {
        let u = self.unit();
        u.posonly = params.posonly.len() as u32;
        u.argcount = (params.posonly.len() + params.args.len()) as u32;
        u.kwonly = params.kwonly.len() as u32;
        u.flags.varargs = params.vararg.is_some();
        u.flags.varkw = params.kwarg.is_some();
    }

    fn function_def(&mut self, f: &'a FunctionDef, span: Span) -> R {
        for d in &f.decorators {
            self.expr(d)?;
        }
        let scope = self.table.scope_of(f);
        let qualname = self.qualname_for(&f.name);
        self.push_unit(scope, f.name.clone(), qualname, span);
        self.set_params(&f.params);
        self.set_code_kind(scope, f.is_async);
        // A docstring is not executed as a statement.
        let body: &'a [Stmt] = match f.body.first() {
            Some(Stmt {
                kind:
                    StmtKind::Expr(Expr {
                        kind: ExprKind::Constant(Constant::Str(_)),
                        ..
                    }),
                ..
            }) if f.body.len() > 1 => &f.body[1..],
            _ => &f.body,
        };
        self.body(body)?;
        self.load_const(Value::None);
        self.emit(Instr::Return);
        let code = self.pop_unit();
        self.unit().span = span;
        self.make_function(code, &f.params)?;
        // fn.__annotations__ = {param: annotation, ..., "return": annotation}, evaluated now.
        let p = &f.params;
        let annotated: Vec<&Param> = p
            .posonly
            .iter()
            .chain(&p.args)
            .chain(p.vararg.iter())
            .chain(&p.kwonly)
            .chain(p.kwarg.iter())
            .filter(|x| x.annotation.is_some())
            .collect();
        if !annotated.is_empty() || f.returns.is_some() {
            let mut n = 0;
            for param in annotated {
                self.load_const(Value::str(&param.name));
                if let Some(a) = &param.annotation {
                    self.annotation(a)?;
                }
                n += 1;
            }
            if let Some(r) = &f.returns {
                self.load_const(Value::str("return"));
                self.annotation(r)?;
                n += 1;
            }
            self.emit(Instr::BuildMap(n));
            self.emit(Instr::Copy(2));
            let k = self.name_index("__annotations__");
            self.emit(Instr::StoreAttr(k));
        }
        if let Some(Stmt {
            kind:
                StmtKind::Expr(Expr {
                    kind: ExprKind::Constant(Constant::Str(doc)),
                    ..
                }),
            ..
        }) = f.body.first()
        {
            // fn.__doc__ = docstring (the function stays on the stack).
            self.load_const(Value::str(doc));
            self.emit(Instr::Copy(2));
            let k = self.name_index("__doc__");
            self.emit(Instr::StoreAttr(k));
        }
        for _ in &f.decorators {
            self.emit(Instr::Call(1));
        }
        self.store_name(&f.name);
        Ok(())
    }

    fn set_code_kind(&mut self, scope: usize, is_async: bool) {
        let sc = &self.table.scopes[scope];
        let is_gen = sc.is_generator;
        let u = self.unit();
        match (is_async, is_gen) {
            (true, true) => u.flags.async_generator = true,
            (true, false) => u.flags.coroutine = true,
            (false, true) => u.flags.generator = true,
            _ => {}
        }
    }

    fn class_def(&mut self, c: &'a ClassDef, span: Span) -> R {
        for d in &c.decorators {
            self.expr(d)?;
        }
        let scope = self.table.scope_of(c);
        let qualname = self.qualname_for(&c.name);
        self.push_unit(scope, c.name.clone(), qualname.clone(), span);
        self.unit().flags.class_body = true;
        let k = self.name_index("__name__");
        self.emit(Instr::LoadName(k));
        let k = self.name_index("__module__");
        self.emit(Instr::StoreName(k));
        self.load_const(Value::str(&qualname));
        let k = self.name_index("__qualname__");
        self.emit(Instr::StoreName(k));
        if let Some(Stmt {
            kind:
                StmtKind::Expr(Expr {
                    kind: ExprKind::Constant(Constant::Str(doc)),
                    ..
                }),
            ..
        }) = c.body.first()
        {
            self.load_const(Value::str(doc));
            let k = self.name_index("__doc__");
            self.emit(Instr::StoreName(k));
        }
        if has_annotations(&c.body) {
            self.emit(Instr::BuildMap(0));
            let k = self.name_index("__annotations__");
            self.emit(Instr::StoreName(k));
        }
        self.body(&c.body)?;
        if let Some(&cell) = self.unit().cells.get("__class__") {
            if self.table.scopes[scope]
                .cellvars
                .iter()
                .any(|n| n == "__class__")
            {
                self.emit(Instr::LoadClosure(cell));
                let k = self.name_index("__classcell__");
                self.emit(Instr::StoreName(k));
            }
        }
        self.load_const(Value::None);
        self.emit(Instr::Return);
        let code = self.pop_unit();
        self.unit().span = span;
        self.finish_function(code, 0);
        self.load_const(Value::str(&c.name));
        let mut nbases = 0;
        for b in &c.bases {
            self.expr(b)?;
            nbases += 1;
        }
        self.emit(Instr::BuildTuple(nbases));
        if c.keywords.is_empty() {
            self.load_const(Value::None);
        } else {
            for kw in &c.keywords {
                self.load_const(Value::str(kw.arg.as_deref().unwrap_or("")));
                self.expr(&kw.value)?;
            }
            self.emit(Instr::BuildMap(c.keywords.len() as u32));
        }
        self.unit().span = span;
        self.emit(Instr::BuildClass);
        for _ in &c.decorators {
            self.emit(Instr::Call(1));
        }
        self.store_name(&c.name);
        Ok(())
    }

    fn lambda(&mut self, e: &'a Expr, params: &'a Parameters, body: &'a Expr) -> R {
        let scope = self.table.scope_of(e);
        let qualname = self.qualname_for("<lambda>");
        self.push_unit(scope, "<lambda>".into(), qualname, e.span);
        self.set_params(params);
        self.set_code_kind(scope, false);
        self.expr(body)?;
        self.emit(Instr::Return);
        let code = self.pop_unit();
        self.unit().span = e.span;
        self.make_function(code, params)
    }

    fn comprehension(&mut self, e: &'a Expr, generators: &'a [Comprehension]) -> R {
        let scope = self.table.scope_of(e);
        let name = match &e.kind {
            ExprKind::ListComp { .. } => "<listcomp>",
            ExprKind::SetComp { .. } => "<setcomp>",
            ExprKind::DictComp { .. } => "<dictcomp>",
            _ => "<genexpr>",
        };
        let qualname = self.qualname_for(name);
        self.push_unit(scope, name.into(), qualname, e.span);
        self.unit().argcount = 1;
        let is_async = self.table.scopes[scope].is_async;
        self.set_code_kind(
            scope,
            is_async && matches!(e.kind, ExprKind::GeneratorExp { .. }),
        );
        if is_async && !matches!(e.kind, ExprKind::GeneratorExp { .. }) {
            self.unit().flags.coroutine = true;
        }
        match &e.kind {
            ExprKind::ListComp { .. } => {
                self.emit(Instr::BuildList(0));
            }
            ExprKind::SetComp { .. } => {
                self.emit(Instr::BuildSet(0));
            }
            ExprKind::DictComp { .. } => {
                self.emit(Instr::BuildMap(0));
            }
            _ => {}
        }
        self.comprehension_level(e, generators, 0)?;
        if !matches!(e.kind, ExprKind::GeneratorExp { .. }) {
            self.emit(Instr::Return);
        } else {
            self.load_const(Value::None);
            self.emit(Instr::Return);
        }
        let code = self.pop_unit();
        self.unit().span = e.span;
        self.finish_function(code, 0);
        self.expr(&generators[0].iter)?;
        if generators[0].is_async {
            self.emit(Instr::GetAiter);
        } else {
            self.emit(Instr::GetIter);
        }
        self.emit(Instr::Call(1));
        if is_async && !matches!(e.kind, ExprKind::GeneratorExp { .. }) {
            self.emit_await();
        }
        Ok(())
    }

    fn comprehension_level(
        &mut self,
        e: &'a Expr,
        generators: &'a [Comprehension],
        level: usize,
    ) -> R {
        let g = &generators[level];
        let start = self.new_label();
        let exit = self.new_label();
        if level == 0 {
            self.emit(Instr::LoadFast(0));
        } else {
            self.expr(&g.iter)?;
            if g.is_async {
                self.emit(Instr::GetAiter);
            } else {
                self.emit(Instr::GetIter);
            }
        }
        self.bind(start);
        let stop = self.new_label();
        if g.is_async {
            let depth = self.block_depth()
                + level as u32
                + 1
                + u32::from(!matches!(e.kind, ExprKind::GeneratorExp { .. }));
            self.push_handler(stop, depth);
            self.emit(Instr::GetAnext);
            self.emit_await();
            self.pop_handler();
        } else {
            self.emit(Instr::ForIter(exit));
        }
        self.store_target(&g.target)?;
        for cond in &g.ifs {
            self.jump_if(cond, false, start)?;
        }
        if level + 1 < generators.len() {
            self.comprehension_level(e, generators, level + 1)?;
        } else {
            let depth = (level + 2) as u32;
            match &e.kind {
                ExprKind::ListComp { elt, .. } => {
                    self.expr(elt)?;
                    self.emit(Instr::ListAppend(depth));
                }
                ExprKind::SetComp { elt, .. } => {
                    self.expr(elt)?;
                    self.emit(Instr::SetAdd(depth));
                }
                ExprKind::DictComp { key, value, .. } => {
                    self.expr(key)?;
                    self.expr(value)?;
                    self.emit(Instr::MapAdd(depth));
                }
                ExprKind::GeneratorExp { elt, .. } => {
                    self.expr(elt)?;
                    self.emit(Instr::YieldValue);
                    self.emit(Instr::Pop);
                }
                _ => unreachable!(),
            }
        }
        self.emit(Instr::Jump(start));
        if g.is_async {
            self.bind(stop);
            self.emit(Instr::EndAsyncFor);
            self.bind(exit);
        } else {
            self.bind(exit);
        }
        Ok(())
    }

    // ---- expressions ----

    fn expr(&mut self, e: &'a Expr) -> R {
        self.enter(e.span)?;
        let saved = self.unit().span;
        self.unit().span = e.span;
        let r = self.expr_inner(e);
        self.unit().span = saved;
        self.leave();
        r
    }

    fn expr_inner(&mut self, e: &'a Expr) -> R {
        match &e.kind {
            ExprKind::Name(n) => self.load_name(n),
            ExprKind::Constant(c) => self.load_const(constant_value(c)),
            ExprKind::FString(parts) => self.fstring(parts)?,
            ExprKind::BoolOp { op, values } => {
                let end = self.new_label();
                let (last, init) = values.split_last().unwrap();
                for v in init {
                    self.expr(v)?;
                    match op {
                        BoolOp::And => self.emit(Instr::JumpIfFalseOrPop(end)),
                        BoolOp::Or => self.emit(Instr::JumpIfTrueOrPop(end)),
                    };
                }
                self.expr(last)?;
                self.bind(end);
            }
            ExprKind::NamedExpr { target, value } => {
                self.expr(value)?;
                self.emit(Instr::Copy(1));
                self.store_name(target);
            }
            ExprKind::BinOp { left, op, right } => {
                self.expr(left)?;
                self.expr(right)?;
                self.emit(Instr::Binary(binop_index(*op)));
            }
            ExprKind::UnaryOp { op, operand } => {
                if let (UnaryOp::USub, ExprKind::Constant(c)) = (op, &operand.kind) {
                    match c {
                        Constant::Int(i) if *i != i64::MIN => {
                            return {
                                self.load_const(Value::Int(-i));
                                Ok(())
                            }
                        }
                        Constant::Float(f) => {
                            return {
                                self.load_const(Value::Float(-f));
                                Ok(())
                            }
                        }
                        _ => {}
                    }
                }
                self.expr(operand)?;
                let n = match op {
                    UnaryOp::Invert => 0,
                    UnaryOp::Not => 1,
                    UnaryOp::UAdd => 2,
                    UnaryOp::USub => 3,
                };
                self.emit(Instr::Unary(n));
            }
            ExprKind::Lambda { params, body } => self.lambda(e, params, body)?,
            ExprKind::IfExp { test, body, orelse } => {
                let else_l = self.new_label();
                let end = self.new_label();
                self.jump_if(test, false, else_l)?;
                self.expr(body)?;
                self.emit(Instr::Jump(end));
                self.bind(else_l);
                self.expr(orelse)?;
                self.bind(end);
            }
            ExprKind::Dict(items) => {
                let simple = items.iter().all(|i| matches!(i, DictItem::KeyValue(..)));
                if simple {
                    for i in items {
                        if let DictItem::KeyValue(k, v) = i {
                            self.expr(k)?;
                            self.expr(v)?;
                        }
                    }
                    self.emit(Instr::BuildMap(items.len() as u32));
                } else {
                    self.emit(Instr::BuildMap(0));
                    for i in items {
                        match i {
                            DictItem::KeyValue(k, v) => {
                                self.expr(k)?;
                                self.expr(v)?;
                                self.emit(Instr::MapAdd(1));
                            }
                            DictItem::Unpack(m) => {
                                self.expr(m)?;
                                self.emit(Instr::DictUpdate(1));
                            }
                        }
                    }
                }
            }
            ExprKind::Set(items) => self.sequence(items, SeqKind::Set)?,
            ExprKind::List(items) => self.sequence(items, SeqKind::List)?,
            ExprKind::Tuple(items) => self.sequence(items, SeqKind::Tuple)?,
            ExprKind::ListComp { generators, .. }
            | ExprKind::SetComp { generators, .. }
            | ExprKind::DictComp { generators, .. }
            | ExprKind::GeneratorExp { generators, .. } => self.comprehension(e, generators)?,
            ExprKind::Await(v) => {
                if !self.in_async() {
                    return err("'await' outside async function", e.span);
                }
                self.expr(v)?;
                self.unit().span = e.span;
                self.emit_await();
            }
            ExprKind::Yield(v) => {
                if self.scope().kind != ScopeKind::Function {
                    return err("'yield' outside function", e.span);
                }
                match v {
                    Some(v) => self.expr(v)?,
                    None => self.load_const(Value::None),
                }
                // An async generator's own yields are marked, to tell them from the yields its
                // awaits pass up to the event loop.
                if self.unit().flags.async_generator {
                    self.emit(Instr::AsyncGenWrap);
                }
                self.emit(Instr::YieldValue);
            }
            ExprKind::YieldFrom(v) => {
                if self.scope().kind != ScopeKind::Function {
                    return err("'yield' outside function", e.span);
                }
                if self.unit().flags.async_generator {
                    return err("'yield from' inside async function", e.span);
                }
                self.expr(v)?;
                self.emit(Instr::GetYieldFromIter);
                self.emit_yield_from_loop();
            }
            ExprKind::Compare {
                left,
                ops,
                comparators,
            } => self.compare(left, ops, comparators)?,
            ExprKind::Call {
                func,
                args,
                keywords,
            } => self.call(func, args, keywords, e.span)?,
            ExprKind::Attribute { value, attr } => {
                self.expr(value)?;
                let k = self.name_index(attr);
                self.emit(Instr::LoadAttr(k));
            }
            ExprKind::Subscript { value, slice } => {
                self.expr(value)?;
                self.expr(slice)?;
                self.emit(Instr::BinarySubscr);
            }
            ExprKind::Starred(_) => return err("can't use starred expression here", e.span),
            ExprKind::Slice { lower, upper, step } => {
                for part in [lower, upper] {
                    match part {
                        Some(p) => self.expr(p)?,
                        None => self.load_const(Value::None),
                    }
                }
                match step {
                    Some(s) => {
                        self.expr(s)?;
                        self.emit(Instr::BuildSlice(3));
                    }
                    None => {
                        self.emit(Instr::BuildSlice(2));
                    }
                }
            }
        }
        Ok(())
    }

    fn in_async(&self) -> bool {
        let u = self.units.last().unwrap();
        u.flags.coroutine
            || u.flags.async_generator
            || (u.flags.module)
            || self.table.scopes[u.scope].is_async
    }

    fn fstring(&mut self, parts: &'a [FStringPart]) -> R {
        let mut n = 0;
        for p in parts {
            match p {
                FStringPart::Literal(s) => self.load_const(Value::str(s)),
                FStringPart::Formatted {
                    value,
                    conversion,
                    format_spec,
                } => {
                    self.expr(value)?;
                    let mut flags = match conversion {
                        Some('s') => 1,
                        Some('r') => 2,
                        Some('a') => 3,
                        _ => 0,
                    };
                    if let Some(spec) = format_spec {
                        self.fstring(spec)?;
                        flags |= 4;
                    }
                    self.emit(Instr::FormatValue(flags));
                }
            }
            n += 1;
        }
        if n != 1 {
            self.emit(Instr::BuildString(n));
        } else if let Some(FStringPart::Literal(_)) = parts.first() {
        }
        Ok(())
    }

    fn sequence(&mut self, items: &'a [Expr], kind: SeqKind) -> R {
        let has_star = items.iter().any(|e| matches!(e.kind, ExprKind::Starred(_)));
        if !has_star {
            // A tuple of constants is itself a constant.
            if kind == SeqKind::Tuple && !items.is_empty() && items.iter().all(is_simple_constant) {
                let vals = items
                    .iter()
                    .map(|e| {
                        if let ExprKind::Constant(c) = &e.kind {
                            constant_value(c)
                        } else {
                            Value::None
                        }
                    })
                    .collect();
                self.load_const(Value::tuple(vals));
                return Ok(());
            }
            // A set display of three or more constants becomes a frozenset constant merged into
            // a new set, as CPython compiles it (the table layout, hence the order, depends on it).
            if kind == SeqKind::Set && items.len() > 2 {
                let folded: Option<Vec<Value>> = items.iter().map(fold_constant).collect();
                if let Some(fs) = folded.and_then(crate::ops::const_frozenset) {
                    self.emit(Instr::BuildSet(0));
                    self.load_const(fs);
                    self.emit(Instr::SetUpdate(1));
                    return Ok(());
                }
            }
            for i in items {
                self.expr(i)?;
            }
            let n = items.len() as u32;
            match kind {
                SeqKind::List => self.emit(Instr::BuildList(n)),
                SeqKind::Tuple => self.emit(Instr::BuildTuple(n)),
                SeqKind::Set => self.emit(Instr::BuildSet(n)),
            };
            return Ok(());
        }
        match kind {
            SeqKind::Set => self.emit(Instr::BuildSet(0)),
            _ => self.emit(Instr::BuildList(0)),
        };
        for i in items {
            match &i.kind {
                ExprKind::Starred(inner) => {
                    self.expr(inner)?;
                    match kind {
                        SeqKind::Set => self.emit(Instr::SetUpdate(1)),
                        _ => self.emit(Instr::ListExtend(1)),
                    };
                }
                _ => {
                    self.expr(i)?;
                    match kind {
                        SeqKind::Set => self.emit(Instr::SetAdd(1)),
                        _ => self.emit(Instr::ListAppend(1)),
                    };
                }
            }
        }
        if kind == SeqKind::Tuple {
            self.emit(Instr::ListToTuple);
        }
        Ok(())
    }

    fn compare(&mut self, left: &'a Expr, ops: &[CmpOp], comparators: &'a [Expr]) -> R {
        self.expr(left)?;
        if ops.len() == 1 {
            self.expr(&comparators[0])?;
            self.emit_compare(ops[0]);
            return Ok(());
        }
        let cleanup = self.new_label();
        let end = self.new_label();
        for (i, (op, c)) in ops.iter().zip(comparators).enumerate() {
            self.expr(c)?;
            if i + 1 < ops.len() {
                self.emit(Instr::Copy(1));
                self.emit(Instr::Swap(3));
                self.emit(Instr::Swap(2));
                self.emit_compare(*op);
                self.emit(Instr::JumpIfFalseOrPop(cleanup));
            } else {
                self.emit_compare(*op);
            }
        }
        self.emit(Instr::Jump(end));
        self.bind(cleanup);
        self.emit(Instr::Swap(2));
        self.emit(Instr::Pop);
        self.bind(end);
        Ok(())
    }

    fn emit_compare(&mut self, op: CmpOp) {
        let ins = match op {
            CmpOp::Eq => Instr::Compare(0),
            CmpOp::NotEq => Instr::Compare(1),
            CmpOp::Lt => Instr::Compare(2),
            CmpOp::LtE => Instr::Compare(3),
            CmpOp::Gt => Instr::Compare(4),
            CmpOp::GtE => Instr::Compare(5),
            CmpOp::Is => Instr::IsOp(0),
            CmpOp::IsNot => Instr::IsOp(1),
            CmpOp::In => Instr::ContainsOp(0),
            CmpOp::NotIn => Instr::ContainsOp(1),
        };
        self.emit(ins);
    }

    fn call(&mut self, func: &'a Expr, args: &'a [Expr], keywords: &'a [Keyword], span: Span) -> R {
        let has_star = args.iter().any(|a| matches!(a.kind, ExprKind::Starred(_)))
            || keywords.iter().any(|k| k.arg.is_none());
        // Zero-argument super() inside a method becomes super(__class__, first_argument).
        if let ExprKind::Name(n) = &func.kind {
            if n == "super"
                && args.is_empty()
                && keywords.is_empty()
                && self.scope().kind == ScopeKind::Function
            {
                let cell = self.unit().cells.get("__class__").copied();
                let first = self.scope().params.first().cloned();
                if let (Some(cell), Some(first)) = (cell, first) {
                    self.load_name("super");
                    self.emit(Instr::LoadDeref(cell));
                    self.load_name(&first);
                    self.unit().span = span;
                    self.emit(Instr::Call(2));
                    return Ok(());
                }
            }
        }
        if has_star {
            self.expr(func)?;
            self.emit(Instr::BuildList(0));
            for a in args {
                match &a.kind {
                    ExprKind::Starred(inner) => {
                        self.expr(inner)?;
                        self.emit(Instr::ListExtend(1));
                    }
                    _ => {
                        self.expr(a)?;
                        self.emit(Instr::ListAppend(1));
                    }
                }
            }
            self.emit(Instr::ListToTuple);
            if keywords.is_empty() {
                self.unit().span = span;
                self.emit(Instr::CallEx(0));
            } else {
                self.emit(Instr::BuildMap(0));
                for k in keywords {
                    match &k.arg {
                        Some(name) => {
                            self.load_const(Value::str(name));
                            self.expr(&k.value)?;
                            self.emit(Instr::BuildMap(1));
                            self.emit(Instr::DictMerge(1));
                        }
                        None => {
                            self.expr(&k.value)?;
                            self.emit(Instr::DictMerge(1));
                        }
                    }
                }
                self.unit().span = span;
                self.emit(Instr::CallEx(1));
            }
            return Ok(());
        }
        if let (ExprKind::Attribute { value, attr }, true) = (&func.kind, keywords.is_empty()) {
            self.expr(value)?;
            let k = self.name_index(attr);
            self.unit().span = func.span;
            self.emit(Instr::LoadMethod(k));
            for a in args {
                self.expr(a)?;
            }
            self.unit().span = span;
            self.emit(Instr::CallMethod(args.len() as u32));
            return Ok(());
        }
        self.expr(func)?;
        for a in args {
            self.expr(a)?;
        }
        if keywords.is_empty() {
            self.unit().span = span;
            self.emit(Instr::Call(args.len() as u32));
        } else {
            let mut names = Vec::new();
            for k in keywords {
                self.expr(&k.value)?;
                names.push(Value::str(k.arg.as_deref().unwrap_or("")));
            }
            self.load_const(Value::tuple(names));
            self.unit().span = span;
            self.emit(Instr::CallKw((args.len() + keywords.len()) as u32));
        }
        Ok(())
    }
}

/// What a name operation does.
#[derive(Clone, Copy)]
enum NameCtx {
    Load,
    Store,
    Delete,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum SeqKind {
    List,
    Tuple,
    Set,
}

/// The value of a constant expression as CPython's AST optimizer folds it (literals, negated
/// numbers, tuples of those), or None.
fn fold_constant(e: &Expr) -> Option<Value> {
    match &e.kind {
        ExprKind::Constant(Constant::Ellipsis) => None,
        ExprKind::Constant(c) => Some(constant_value(c)),
        ExprKind::UnaryOp {
            op: UnaryOp::USub,
            operand,
        } => match &operand.kind {
            ExprKind::Constant(Constant::Int(i)) if *i != i64::MIN => Some(Value::Int(-i)),
            ExprKind::Constant(Constant::Float(f)) => Some(Value::Float(-f)),
            _ => None,
        },
        ExprKind::Tuple(items) => {
            let vals: Option<Vec<Value>> = items.iter().map(fold_constant).collect();
            vals.map(Value::tuple)
        }
        _ => None,
    }
}

fn is_simple_constant(e: &Expr) -> bool {
    matches!(&e.kind, ExprKind::Constant(c) if !matches!(c, Constant::Bytes(_)))
}

pub fn binop_index(op: BinOp) -> u32 {
    match op {
        BinOp::Add => 0,
        BinOp::Sub => 1,
        BinOp::Mult => 2,
        BinOp::MatMult => 3,
        BinOp::Div => 4,
        BinOp::FloorDiv => 5,
        BinOp::Mod => 6,
        BinOp::Pow => 7,
        BinOp::LShift => 8,
        BinOp::RShift => 9,
        BinOp::BitOr => 10,
        BinOp::BitXor => 11,
        BinOp::BitAnd => 12,
    }
}

fn constant_value(c: &Constant) -> Value {
    match c {
        Constant::None => Value::None,
        Constant::True => Value::Bool(true),
        Constant::False => Value::Bool(false),
        Constant::Ellipsis => Value::Ellipsis,
        Constant::Int(i) => Value::Int(*i),
        Constant::BigInt(b) => Value::from_bigint(b.clone()),
        Constant::Float(f) => Value::Float(*f),
        Constant::Str(s) => Value::str(s),
        Constant::Bytes(b) => Value::Bytes(Rc::new(b.clone())),
    }
}

/// True if the module starts (after its docstring and other `__future__` imports, as CPython
/// requires) with `from __future__ import annotations`.
fn imports_future_annotations(body: &[Stmt]) -> bool {
    for (i, s) in body.iter().enumerate() {
        match &s.kind {
            StmtKind::ImportFrom {
                module: Some(m),
                names,
                level: 0,
            } if m == "__future__" => {
                if names.iter().any(|a| a.name == "annotations") {
                    return true;
                }
            }
            StmtKind::Expr(Expr {
                kind: ExprKind::Constant(Constant::Str(_)),
                ..
            }) if i == 0 => {}
            _ => return false,
        }
    }
    false
}

/// The text PEP 563 stores for an annotation: its source with runs of whitespace (line breaks
/// inside brackets) collapsed, close to what CPython's unparser prints.
fn annotation_text(source: &str, e: &Expr) -> String {
    if let ExprKind::Constant(Constant::Str(text)) = &e.kind {
        // CPython unparses a string annotation to its repr.
        return crate::ops::str_repr(text);
    }
    let (start, end) = (e.span.start as usize, e.span.end as usize);
    let raw = source.get(start..end).unwrap_or_default();
    let collapsed = raw.split_whitespace().collect::<Vec<_>>().join(" ");
    // The unparser writes `a, b` after commas and nothing inside brackets.
    let mut out = String::with_capacity(collapsed.len());
    let mut chars = collapsed.chars().peekable();
    while let Some(c) = chars.next() {
        if c == ' ' && (out.ends_with(['[', '(']) || matches!(chars.peek(), Some(']' | ')' | ',')))
        {
            continue;
        }
        out.push(c);
        if c == ',' && !matches!(chars.peek(), Some(' ' | ']' | ')')) {
            out.push(' ');
        }
    }
    out
}

/// True if a body has `name: T` annotations at its own level (not inside nested functions).
fn has_annotations(body: &[Stmt]) -> bool {
    body.iter().any(|s| match &s.kind {
        StmtKind::AnnAssign { target, .. } => matches!(target.kind, ExprKind::Name(_)),
        StmtKind::If { body, orelse, .. }
        | StmtKind::While { body, orelse, .. }
        | StmtKind::For { body, orelse, .. } => has_annotations(body) || has_annotations(orelse),
        StmtKind::With { body, .. } => has_annotations(body),
        StmtKind::Try {
            body,
            handlers,
            orelse,
            finalbody,
            ..
        } => {
            has_annotations(body)
                || has_annotations(orelse)
                || has_annotations(finalbody)
                || handlers.iter().any(|h| has_annotations(&h.body))
        }
        _ => false,
    })
}
