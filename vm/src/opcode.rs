//! The instruction set, defined once: the `opcodes!` table below generates the `Instr` enum, each
//! opcode's name, its operand, its stack effect and its flags. The compiler, `eddy dis` and the VM
//! all read this one table, so there is no list to keep in step by hand.
//!
//! Stack notation in the meanings: `a b -> c` pops `b` (top) then `a`, pushes `c`.

/// Declares the opcodes. Each line: `Name(operand?) [pops, pushes] "meaning"`; a stack effect of
/// `var` means it depends on the operand and is computed in `stack_effect` by hand.
macro_rules! opcodes {
    ($( $(#[doc = $doc:literal])* $name:ident $( ( $arg:ident ) )? => $effect:expr ),* $(,)?) => {
        /// One instruction: an opcode with at most one 32-bit operand, 8 bytes in all.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum Instr {
            $( $(#[doc = $doc])* $name $( ( opcodes!(@ty $arg) ) )? ),*
        }

        impl Instr {
            /// The opcode's name, as `eddy dis` prints it.
            pub fn name(&self) -> &'static str {
                match self {
                    $( Instr::$name $( (opcodes!(@pat $arg)) )? => stringify!($name) ),*
                }
            }
            /// The operand, if the opcode has one.
            pub fn operand(&self) -> Option<u32> {
                match *self {
                    $( Instr::$name $( (opcodes!(@bind $arg)) )? => opcodes!(@val $( $arg )?) ),*
                }
            }
            /// Net change in stack depth when the instruction runs (falls through, for jumps).
            pub fn stack_effect(&self) -> i32 {
                #[allow(unused_variables)]
                match *self {
                    $( Instr::$name $( (opcodes!(@bind $arg)) )? => { $( let $arg = $arg as i32; )? $effect } ),*
                }
            }
            /// Every opcode name, in table order (for tests and tools).
            pub const NAMES: &'static [&'static str] = &[ $( stringify!($name) ),* ];
        }
    };
    (@ty $arg:ident) => { u32 };
    (@pat $arg:ident) => { _ };
    (@bind $arg:ident) => { $arg };
    (@val $arg:ident) => { Some($arg) };
    (@val) => { None };
}

opcodes! {
    /// Does nothing.
    Nop => 0,
    /// `a ->`
    Pop => -1,
    /// Push a copy of the n-th item from the top (1 = top).
    Copy(n) => 1,
    /// Swap the top with the n-th item from the top.
    Swap(n) => 0,
    /// `-> consts[k]`
    LoadConst(k) => 1,
    /// `-> locals[slot]`; UnboundLocalError if unset.
    LoadFast(slot) => 1,
    /// `a ->` into locals[slot].
    StoreFast(slot) => -1,
    /// Unbind locals[slot].
    DeleteFast(slot) => 0,
    /// `-> cells[i].value`
    LoadDeref(i) => 1,
    /// `a ->` into cells[i].
    StoreDeref(i) => -1,
    DeleteDeref(i) => 0,
    /// `-> cells[i]` (the cell itself, to build a closure).
    LoadClosure(i) => 1,
    /// `-> globals[names[k]]`, falling back to builtins.
    LoadGlobal(k) => 1,
    StoreGlobal(k) => -1,
    DeleteGlobal(k) => 0,
    /// Class-body lookup: namespace, then globals, then builtins.
    LoadName(k) => 1,
    StoreName(k) => -1,
    DeleteName(k) => 0,
    /// `obj -> obj.names[k]`
    LoadAttr(k) => 0,
    /// `value obj ->` sets obj.names[k] = value.
    StoreAttr(k) => -2,
    DeleteAttr(k) => -1,
    /// `obj -> method obj` for an unbound method, or `obj -> NULL attr` otherwise.
    LoadMethod(k) => 1,
    /// `container key -> container[key]`
    BinarySubscr => -1,
    /// `value container key ->`
    StoreSubscr => -3,
    DeleteSubscr => -2,
    /// `lo hi -> slice` (n = 2) or `lo hi step -> slice` (n = 3).
    BuildSlice(n) => 1 - n,
    /// `a b -> a op b`, op a `BinOp` index.
    Binary(op) => -1,
    /// `a b -> a op= b` (tries the in-place dunder first).
    InplaceBinary(op) => -1,
    /// `a -> a op consts[k]`: operand is op | k << 4 (a LoadConst fused into Binary).
    BinaryConst(op_k) => 0,
    /// `a -> a cmp consts[k]`: operand is op | k << 3 (a LoadConst fused into Compare).
    CompareConst(op_k) => 0,
    /// `-> locals[a] locals[b]`: operand is a | b << 16 (two LoadFasts fused).
    LoadFastLoadFast(ab) => 2,
    /// `-> locals[slot] op consts[k]`: operand is slot | op << 8 | k << 12 (LoadFast fused into
    /// BinaryConst).
    LoadFastBinaryConst(x) => 1,
    /// `-> locals[slot] cmp consts[k]`: operand is slot | op << 8 | k << 11 (LoadFast fused into
    /// CompareConst).
    LoadFastCompareConst(x) => 1,
    /// Return locals[slot] from the frame (LoadFast fused into Return).
    ReturnFast(slot) => 0,
    /// `a -> op a`: 0 invert, 1 not, 2 plus, 3 minus.
    Unary(op) => 0,
    /// `a b -> a cmp b`, op a `CmpOp` index (Eq..GtE only).
    Compare(op) => -1,
    /// `a b -> a is b` (operand 1 inverts).
    IsOp(invert) => -1,
    /// `a b -> a in b` (operand 1 inverts).
    ContainsOp(invert) => -1,
    BuildTuple(n) => 1 - n,
    BuildList(n) => 1 - n,
    BuildSet(n) => 1 - n,
    /// `k1 v1 ... kn vn -> dict`
    BuildMap(n) => 1 - 2 * n,
    /// Concatenate n strings (f-strings).
    BuildString(n) => 1 - n,
    /// `list ... v -> list ...`: append v to the list n below it (comprehensions).
    ListAppend(n) => -1,
    SetAdd(n) => -1,
    /// `dict ... k v -> dict ...`
    MapAdd(n) => -2,
    /// `list ... iterable -> list ...`: extend (star displays).
    ListExtend(n) => -1,
    SetUpdate(n) => -1,
    /// `dict ... mapping -> dict ...`: update (dict displays).
    DictUpdate(n) => -1,
    /// As DictUpdate, but a repeated key is a TypeError (`**kwargs` in calls).
    DictMerge(n) => -1,
    /// `list -> tuple`
    ListToTuple => 0,
    /// `seq -> v[n-1] ... v[0]`
    UnpackSequence(n) => n - 1,
    /// `seq -> ...` for `a, *b, c`: operand is before | (after << 8).
    UnpackEx(counts) => (counts & 0xff) + (counts >> 8),
    /// `value [spec] -> str`: bits 0-1 conversion (0 none, 1 str, 2 repr, 3 ascii), bit 2 has spec.
    FormatValue(flags) => if flags & 4 != 0 { -1 } else { 0 },
    Jump(target) => 0,
    PopJumpIfFalse(target) => -1,
    PopJumpIfTrue(target) => -1,
    /// If top is false jump and keep it, else pop it (`and`).
    JumpIfFalseOrPop(target) => 0,
    /// If top is true jump and keep it, else pop it (`or`).
    JumpIfTrueOrPop(target) => 0,
    /// `obj -> iter(obj)`
    GetIter => 0,
    /// `it -> it next`, or pop `it` and jump to target when exhausted.
    ForIter(target) => 1,
    /// `v ->` return v from the frame.
    Return => -1,
    /// `callable a1..an -> result`
    Call(argc) => -argc,
    /// `callable a1..an names -> result`: the last len(names) args are keywords.
    CallKw(argc) => -argc - 1,
    /// `m s a1..an -> result` after LoadMethod.
    CallMethod(argc) => -argc - 1,
    /// `callable args_tuple [kwargs_dict] -> result` (bit 0 of flags: has kwargs).
    CallEx(flags) => -1 - (flags & 1),
    /// `[defaults] [kwdefaults] [closure] code -> function`; flag bits 1, 2, 8 (as CPython).
    MakeFunction(flags) => -((flags & 1) + ((flags >> 1) & 1) + ((flags >> 3) & 1)),
    /// `body_fn name bases_tuple kwargs_dict -> class`
    BuildClass => -3,
    /// Raise: 0 re-raises the handled exception, 1 raises top, 2 raises `exc cause` with a cause.
    Raise(kind) => -kind,
    /// `exc ->` re-raise exc, keeping its traceback.
    Reraise => -1,
    /// `exc -> prev exc`: make exc the handled exception, saving the previous one under it.
    PushExcInfo => 1,
    /// `prev ->` restore the previously handled exception.
    PopExcept => -1,
    /// `exc type -> exc bool`
    CheckExcMatch => 0,
    /// `eg type -> rest match` (except*); match is None when nothing matched.
    CheckEgMatch => 0,
    /// `orig raised_list -> exc_or_None`: combine what except* clauses raised with what is left.
    PrepReraiseStar => -1,
    /// `ctx -> exit enter_result`: calls `__enter__`.
    BeforeWith => 1,
    /// `exc -> exc type exc None`: the arguments `__exit__` gets for an exception.
    WithExceptArgs => 3,
    /// `ctx -> aexit aenter_awaitable` (async with).
    BeforeAsyncWith => 1,
    LoadAssertionError => 1,
    /// `v -> wrapped`: mark a value yielded by an async generator's own `yield`.
    AsyncGenWrap => 0,
    /// `v -> v'`: suspend a generator, handing v to the resumer; v' is what send() passed in.
    YieldValue => 0,
    /// `sub v -> sub yielded` (sub yielded), or `-> result` and jump to target when sub returns.
    Send(target) => 0,
    /// `obj -> iter` for `yield from` (generators pass through).
    GetYieldFromIter => 0,
    /// `obj -> awaitable` for `await`.
    GetAwaitable => 0,
    /// `obj -> aiter` (async for).
    GetAiter => 0,
    /// `aiter -> aiter awaitable` (async for).
    GetAnext => 1,
    /// `aiter exc ->` end an async for on StopAsyncIteration, else re-raise.
    EndAsyncFor => -2,
    /// `-> module`: import names[k]; the top-level package is bound by the caller.
    ImportName(k) => 1,
    /// `module -> module module.names[k]`
    ImportFrom(k) => 1,
    /// `module ->` copy public names into the namespace.
    ImportStar => -1,
    /// `v ->` echo a REPL expression result.
    PrintExpr => -1,
    /// `a -> bool(a)`
    ToBool => 0,
    /// `v -> v` raise StopIteration-as-RuntimeError inside generators (PEP 479 guard).
    GenStopGuard => 0,
}

impl std::fmt::Display for Instr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.operand() {
            Some(n) => write!(f, "{} {}", self.name(), n),
            None => write!(f, "{}", self.name()),
        }
    }
}

/// True for instructions whose operand is a jump target.
pub fn is_jump(instr: &Instr) -> bool {
    matches!(
        instr,
        Instr::Jump(_)
            | Instr::PopJumpIfFalse(_)
            | Instr::PopJumpIfTrue(_)
            | Instr::JumpIfFalseOrPop(_)
            | Instr::JumpIfTrueOrPop(_)
            | Instr::ForIter(_)
            | Instr::Send(_)
    )
}

const _: () = assert!(std::mem::size_of::<Instr>() == 8);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_operands_round_trip() {
        let mut names = Instr::NAMES.to_vec();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), Instr::NAMES.len());
        assert_eq!(Instr::LoadConst(7).operand(), Some(7));
        assert_eq!(Instr::Pop.operand(), None);
        assert_eq!(Instr::BuildMap(2).stack_effect(), -3);
        assert_eq!(Instr::UnpackEx(1 | (2 << 8)).stack_effect(), 3);
        assert_eq!(format!("{}", Instr::Jump(12)), "Jump 12");
    }
}
