//! Parser tests: every construct of the Eddy subset, rendered as compact s-expressions (see
//! `common.rs`), plus spans and syntax errors (message, label, help).

mod common;

use eddy_parser::{parse_module, SyntaxError};

#[track_caller]
fn check(src: &str, expected: &str) {
    match parse_module(src) {
        Ok(m) => assert_eq!(common::module(&m), expected, "\nsource: {src:?}"),
        Err(e) => panic!("unexpected error for {src:?}: {} ({:?})", e.message, e),
    }
}

#[track_caller]
fn err(src: &str) -> SyntaxError {
    match parse_module(src) {
        Ok(m) => panic!("expected an error for {src:?}, got {}", common::module(&m)),
        Err(e) => {
            assert!(
                e.span.start <= e.span.end && e.span.end as usize <= src.len(),
                "span out of bounds: {e:?}"
            );
            e
        }
    }
}

#[track_caller]
fn err_msg(src: &str, message: &str) {
    assert_eq!(err(src).message, message, "\nsource: {src:?}");
}

// ----------------------------------------------------------------------------------------------
// Simple statements

#[test]
fn expression_statements() {
    check("f(x)\n", "(call f x)");
    check("x", "x");
    check("a; b; c;\n", "a\nb\nc");
    check("pass\nbreak\ncontinue", "pass\nbreak\ncontinue");
}

#[test]
fn assignments() {
    check("x = 1", "(= x 1)");
    check("a = b = 1", "(= a b 1)");
    check("a, b = b, a", "(= (tuple a b) (tuple b a))");
    check("a, *b = x", "(= (tuple a *b) x)");
    check("*a, = x", "(= (tuple *a) x)");
    check("[a, (b, c)] = x", "(= (list a (tuple b c)) x)");
    check("x.y = z[0] = 1", "(= (. x y) (sub z 0) 1)");
    check("x = 1,", "(= x (tuple 1))");
    check("x = yield", "(= x (yield _))");
    check("x = yield a, b", "(= x (yield (tuple a b)))");
    check("x = *a, *b", "(= x (tuple *a *b))");
}

#[test]
fn augmented_and_annotated() {
    check("x += 1", "(Add= x 1)");
    check(
        "a -= 1; a *= 2; a /= 3; a //= 4; a %= 5; a **= 6; a @= m; a &= 1; a |= 2; a ^= 3; a <<= 4; a >>= 5",
        "(Sub= a 1)\n(Mult= a 2)\n(Div= a 3)\n(FloorDiv= a 4)\n(Mod= a 5)\n(Pow= a 6)\n(MatMult= a m)\n(BitAnd= a 1)\n(BitOr= a 2)\n(BitXor= a 3)\n(LShift= a 4)\n(RShift= a 5)",
    );
    check("x.y[0] += 1", "(Add= (sub (. x y) 0) 1)");
    check("x: int = 1", "(: x int 1)");
    check("x: list[int]", "(: x (sub list int) _)");
    check(
        "self.x: int | None = None",
        "(: (. self x) (BitOr int None) None)",
    );
}

#[test]
fn small_statements() {
    check("del a[0], b.c", "(del (sub a 0) (. b c))");
    check("del a,", "(del a)");
    check("del (a, b)", "(del (tuple a b))");
    check("assert x", "(assert x _)");
    check("assert x, \"msg\"", "(assert x \"msg\")");
    check("global a, b", "(global a b)");
    check("def f():\n    nonlocal x", "(def f () [(nonlocal x)])");
    check("raise", "(raise _ _)");
    check("raise X from Y", "(raise X Y)");
    check("raise E(1)", "(raise (call E 1) _)");
    check("return", "(return _)");
    check("return 1, 2", "(return (tuple 1 2))");
    check("return *a, b", "(return (tuple *a b))");
}

#[test]
fn imports() {
    check("import os", "(import os)");
    check("import a.b as c, d", "(import a.b as c, d)");
    check("from . import x", "(from . x)");
    check("from .. import x", "(from .. x)");
    check("from ...pkg.mod import x as y", "(from ...pkg.mod x as y)");
    check("from x import (a, b,)", "(from x a, b)");
    check("from x import (a as b)", "(from x a as b)");
    check("from x import *", "(from x *)");
}

// ----------------------------------------------------------------------------------------------
// Compound statements

#[test]
fn if_elif_else() {
    check("if x: pass", "(if x [pass] [])");
    check(
        "if a:\n    x\nelif b:\n    y\nelif c:\n    z\nelse:\n    w\n",
        "(if a [x] [(if b [y] [(if c [z] [w])])])",
    );
    check(
        "if (n := len(a)) > 10: pass",
        "(if (cmp (:= n (call len a)) Gt 10) [pass] [])",
    );
    check(
        "if __name__ == \"__main__\":\n    main()\n",
        "(if (cmp __name__ Eq \"__main__\") [(call main)] [])",
    );
}

#[test]
fn loops() {
    check("while x: pass\nelse: y", "(while x [pass] [y])");
    check(
        "while chunk := f.read(): pass",
        "(while (:= chunk (call (. f read))) [pass] [])",
    );
    check("for x in y: pass", "(for x y [pass] [])");
    check(
        "for x, y in z.items():\n    pass\nelse:\n    done()",
        "(for (tuple x y) (call (. z items)) [pass] [(call done)])",
    );
    check("for x in 1, 2: pass", "(for x (tuple 1 2) [pass] [])");
    check("for x in *a, *b: pass", "(for x (tuple *a *b) [pass] [])");
    check(
        "for (a, b), c in d: pass",
        "(for (tuple (tuple a b) c) d [pass] [])",
    );
    check("for i, in x: pass", "(for (tuple i) x [pass] [])");
}

#[test]
fn functions() {
    check("def f(): pass", "(def f () [pass])");
    check(
        "def f(a, b=1, *args, c, d=2, **kw): pass",
        "(def f (a b=1 *args c d=2 **kw) [pass])",
    );
    check("def f(a, /, b): pass", "(def f (a / b) [pass])");
    check(
        "def f(a, b=2, /, c=3, *, d, e=5): pass",
        "(def f (a b=2 / c=3 * d e=5) [pass])",
    );
    check("def f(*, a): pass", "(def f (* a) [pass])");
    check("def f(a,): pass", "(def f (a) [pass])");
    check("def f(**kw,): pass", "(def f (**kw) [pass])");
    check(
        "def f(a: int, *b: str, **c: dict) -> bool: pass",
        "(def f (a:int *b:str **c:dict) -> bool [pass])",
    );
    check(
        "def f(x=lambda: 0): pass",
        "(def f (x=(lambda () 0)) [pass])",
    );
    check(
        "async def f():\n    await x\n",
        "(async def f () [(await x)])",
    );
    check(
        "@dec\n@dec.attr(1)\ndef f(self): return self._x\n",
        "(@dec @(call (. dec attr) 1) def f (self) [(return (. self _x))])",
    );
    check(
        "@property\ndef f(self): pass",
        "(@property def f (self) [pass])",
    );
    check(
        "@a[0].b\ndef f(): pass",
        "(@(. (sub a 0) b) def f () [pass])",
    );
}

#[test]
fn generators_and_async() {
    check(
        "def g():\n    yield\n    yield 1\n    x = yield from y\n",
        "(def g () [(yield _); (yield 1); (= x (yield-from y))])",
    );
    check(
        "async def f():\n    async for x in y:\n        pass\n    async with a as b, c:\n        pass\n    return [z async for z in w]\n",
        "(async def f () [(async for x y [pass] []); (async with (a b) (c _) [pass]); (return (listcomp z (async for z w)))])",
    );
    check(
        "async def f(): return await g() + await h",
        "(async def f () [(return (Add (await (call g)) (await h)))])",
    );
    check("async def f(): yield 1", "(async def f () [(yield 1)])");
    check("x = lambda: (yield)", "(= x (lambda () (yield _)))");
}

#[test]
fn classes() {
    check("class A: pass", "(class A () [pass])");
    check(
        "class A(B, metaclass=M):\n    x = 1\n    def m(self): pass\n",
        "(class A (B metaclass=M) [(= x 1); (def m (self) [pass])])",
    );
    check("class A(): pass", "(class A () [pass])");
    check(
        "@dataclass\nclass P:\n    x: int = 0\n",
        "(@dataclass class P () [(: x int 0)])",
    );
    check(
        "class A(*bases, **kw): pass",
        "(class A (*bases **kw) [pass])",
    );
}

#[test]
fn try_statements() {
    check(
        "try:\n    a\nexcept ValueError as e:\n    b\nexcept (A, B):\n    c\nexcept:\n    d\nelse:\n    e\nfinally:\n    f\n",
        "(try [a] (except ValueError e [b]) (except (tuple A B) _ [c]) (except _ _ [d]) [e] [f])",
    );
    check("try:\n    a\nfinally:\n    b\n", "(try [a]  [] [b])");
    check(
        "try:\n    a\nexcept* ValueError as eg:\n    b\nexcept* TypeError:\n    c\n",
        "(try [a] (except* ValueError eg [b]) (except* TypeError _ [c]) [] [])",
    );
}

#[test]
fn with_statements() {
    check("with a: pass", "(with (a _) [pass])");
    check("with a as b, c as d: pass", "(with (a b) (c d) [pass])");
    check("with (a as b, c as d): pass", "(with (a b) (c d) [pass])");
    check("with (a as b, c as d,): pass", "(with (a b) (c d) [pass])");
    check("with (a, b): pass", "(with (a _) (b _) [pass])");
    check("with (a) as b: pass", "(with (a b) [pass])");
    check("with (a, b) as c: pass", "(with ((tuple a b) c) [pass])");
    check("with (yield x): pass", "(with ((yield x) _) [pass])");
    check(
        "with open(p) as f, lock: pass",
        "(with ((call open p) f) (lock _) [pass])",
    );
    check("with a as (b, c): pass", "(with (a (tuple b c)) [pass])");
    check("with a as b.c: pass", "(with (a (. b c)) [pass])");
}

#[test]
fn one_line_bodies_and_nesting() {
    check("if x: a; b", "(if x [a; b] [])");
    check(
        "for x in y: print(x); continue",
        "(for x y [(call print x); continue] [])",
    );
    check(
        "def f():\n    if a:\n        if b:\n            return 1\n    return 2\n",
        "(def f () [(if a [(if b [(return 1)] [])] []); (return 2)])",
    );
}

#[test]
fn soft_keywords_are_names() {
    check(
        "match = 1\ncase = 2\ntype = 3\n_ = 4",
        "(= match 1)\n(= case 2)\n(= type 3)\n(= _ 4)",
    );
    check(
        "print(match, case, type, _)",
        "(call print match case type _)",
    );
}

// ----------------------------------------------------------------------------------------------
// Expressions

#[test]
fn operator_precedence() {
    check("-2**2", "(USub (Pow 2 2))");
    check("2**-1", "(Pow 2 (USub 1))");
    check("2**3**2", "(Pow 2 (Pow 3 2))");
    check("a + b * c - d", "(Sub (Add a (Mult b c)) d)");
    check(
        "a | b ^ c & d << e + f",
        "(BitOr a (BitXor b (BitAnd c (LShift d (Add e f)))))",
    );
    check(
        "a // b % c @ d / e",
        "(Div (MatMult (Mod (FloorDiv a b) c) d) e)",
    );
    check("~-+x", "(Invert (USub (UAdd x)))");
    check("not a == b", "(Not (cmp a Eq b))");
    check("not not x", "(Not (Not x))");
    check("a or b and not c", "(Or a (And b (Not c)))");
    check("a and b and c", "(And a b c)");
    check("await x ** 2", "(Pow (await x) 2)");
    check("-await x", "(USub (await x))");
    check("a.b.c(d)[e].f", "(. (sub (call (. (. a b) c) d) e) f)");
}

#[test]
fn comparisons() {
    check(
        "a < b <= c > d >= e == f != g",
        "(cmp a Lt b LtE c Gt d GtE e Eq f NotEq g)",
    );
    check("a in b", "(cmp a In b)");
    check("a not in b", "(cmp a NotIn b)");
    check("a is b", "(cmp a Is b)");
    check("a is not b", "(cmp a IsNot b)");
    check("a is not None is not b", "(cmp a IsNot None IsNot b)");
}

#[test]
fn conditional_lambda_walrus() {
    check("x if y else z", "(ifexp y x z)");
    check("1 if 2 else 3 if 4 else 5", "(ifexp 2 1 (ifexp 4 3 5))");
    check("lambda: 0", "(lambda () 0)");
    check(
        "lambda x, *y, z=1, **k: x if y else z",
        "(lambda (x *y z=1 **k) (ifexp y x z))",
    );
    check("lambda a, /, b: 0", "(lambda (a / b) 0)");
    check("lambda *, k: k", "(lambda (* k) k)");
    check("a if b else lambda: c", "(ifexp b a (lambda () c))");
    check("(x := 1)", "(:= x 1)");
    check("f(x := 1)", "(call f (:= x 1))");
    check("a[b := 1]", "(sub a (:= b 1))");
    check(
        "[y for x in data if (y := f(x))]",
        "(listcomp y (for x data (if (:= y (call f x)))))",
    );
}

#[test]
fn calls() {
    check("f()", "(call f)");
    check("f(a, b=1)", "(call f a b=1)");
    check("f(*a, *b, c=1, **d, e=2)", "(call f *a *b c=1 **d e=2)");
    check("print(*a, sep=\"\")", "(call print *a sep=\"\")");
    check("f(a=1, *b)", "(call f *b a=1)");
    check("f(x for x in y)", "(call f (genexp x (for x y)))");
    check("f(a,)", "(call f a)");
    check("f(\n    a,\n    b,\n)", "(call f a b)");
}

#[test]
fn subscripts_and_slices() {
    check("a[0]", "(sub a 0)");
    check("a[::2]", "(sub a (slice _ _ 2))");
    check("a[1:2]", "(sub a (slice 1 2 _))");
    check("a[1:]", "(sub a (slice 1 _ _))");
    check("a[:-1]", "(sub a (slice _ (USub 1) _))");
    check("a[:]", "(sub a (slice _ _ _))");
    check("a[1:2:3]", "(sub a (slice 1 2 3))");
    check("a[1:2, 3]", "(sub a (tuple (slice 1 2 _) 3))");
    check("a[1, 2]", "(sub a (tuple 1 2))");
    check("a[1,]", "(sub a (tuple 1))");
    check("a[:, None]", "(sub a (tuple (slice _ _ _) None))");
    check("a[...]", "(sub a ...)");
    check("d[str, int]", "(sub d (tuple str int))");
}

#[test]
fn displays() {
    check("()", "(tuple )");
    check("(1,)", "(tuple 1)");
    check("(1, 2)", "(tuple 1 2)");
    check("(a)", "a");
    check("[]", "(list )");
    check("[1, 2,]", "(list 1 2)");
    check("[*a, *b]", "(list *a *b)");
    check("{}", "(dict )");
    check("{'a': 1, **b}", "(dict \"a\":1 **b)");
    check("{1: 2,}", "(dict 1:2)");
    check("{1}", "(set 1)");
    check("{*a, *b}", "(set *a *b)");
    check("{1, 2,}", "(set 1 2)");
    check("(*a, b)", "(tuple *a b)");
}

#[test]
fn comprehensions() {
    check("[x for x in y]", "(listcomp x (for x y))");
    check(
        "[i for i in range(3) if i if i > 0 for j in k]",
        "(listcomp i (for i (call range 3) (if i) (if (cmp i Gt 0))) (for j k))",
    );
    check(
        "{k: v for k, v in d.items()}",
        "(dictcomp k:v (for (tuple k v) (call (. d items))))",
    );
    check("{k for k in d}", "(setcomp k (for k d))");
    check("(x for x in y)", "(genexp x (for x y))");
    check("[x for x in a or b]", "(listcomp x (for x (Or a b)))");
    check(
        "[a if b else c for d in e]",
        "(listcomp (ifexp b a c) (for d e))",
    );
    check("[x async for x in y]", "(listcomp x (async for x y))");
}

#[test]
fn numbers() {
    check("0xFF, 0o17, 0b11, 1_000", "(tuple 255 15 3 1000)");
    check(
        "1e10, .5, 1., 1_000.5e-3",
        "(tuple 10000000000.0 0.5 1.0 1.0005)",
    );
    check(
        "123456789012345678901234567890",
        "123456789012345678901234567890n",
    );
    check("9223372036854775807", "9223372036854775807");
    check("9223372036854775808", "9223372036854775808n");
}

#[test]
fn strings() {
    check("'a' \"b\"", "\"ab\"");
    check("'''a\nb'''", "\"a\\nb\"");
    check(r"'\n\t\x41\u00e9\d'", "\"\\n\\tAé\\\\d\"");
    check(r"r'\d' R'\n'", "\"\\\\d\\\\n\"");
    check("b'a' b'b'", "b\"ab\"");
    check(r"rb'\x' Rb'a' bR'b'", "b\"\\\\xab\"");
    check("'a' \\\n 'b'", "\"ab\"");
    check("('a'\n 'b')", "\"ab\"");
}

#[test]
fn fstrings() {
    check("f'{x}'", "(f {x})");
    check("f'a{x}b'", "(f \"a\" {x} \"b\")");
    check("f'{x!r}{y!s}{z!a}'", "(f {x!r} {y!s} {z!a})");
    check("f'{x:>10}'", "(f {x:\">10\"})");
    check("f'{x:.2f}'", "(f {x:\".2f\"})");
    check("f'{x:,}'", "(f {x:\",\"})");
    check("f'{x:>{width}.{p}}'", "(f {x:\">\" {width} \".\" {p}})");
    check("f'{x=}'", "(f \"x=\" {x!r})");
    check("f'{x = }'", "(f \"x = \" {x!r})");
    check("f'{x=:>5}'", "(f \"x=\" {x:\">5\"})");
    check("f'{x=!s}'", "(f \"x=\" {x!s})");
    check("f'{{}}{{x}}'", "(f \"{}{x}\")");
    check("f''", "(f )");
    check("'a' f'{b}' 'c'", "(f \"a\" {b} \"c\")");
    check("f\"{d['k']}\"", "(f {(sub d \"k\")})");
    check("f'{a + b * 2}'", "(f {(Add a (Mult b 2))})");
    check("f'{a, b}'", "(f {(tuple a b)})");
    check("f'{a if b else c}'", "(f {(ifexp b a c)})");
    check("f'{x!r:^{w}}'", "(f {x!r:\"^\" {w}})");
    check("f\"{f'{x}'}\"", "(f {(f {x})})");
    check("f'''{\nx\n}'''", "(f {x})");
    check("f'{a != b}'", "(f {(cmp a NotEq b)})");
    check("f'{ {1: 2}[1] }'", "(f {(sub (dict 1:2) 1)})");
    check("rf'\\d{x}'", "(f \"\\\\d\" {x})");
    check("f'\\n{x}'", "(f \"\\n\" {x})");
}

#[test]
fn layout() {
    check("x = [\n    1,\n  2,\n        3]\n", "(= x (list 1 2 3))");
    check(
        "if x:\n    pass\n  # odd comment\n    pass\n",
        "(if x [pass; pass] [])",
    );
    check("\n\n# c\nx\n\n\n", "x");
    check("if x:\n\n    a\n\n    b\n", "(if x [a; b] [])");
    check("if x:\r\n    a\r\nb\r\n", "(if x [a] [])\nb");
    check("if x:\n\ta\n\tb\n", "(if x [a; b] [])");
    check("x = 1 + \\\n    2\n", "(= x (Add 1 2))");
    check("", "");
    check("\u{feff}x", "x");
}

// ----------------------------------------------------------------------------------------------
// Spans

#[test]
fn spans_cover_their_text() {
    let src = "x = f(a, b)\nif y:\n    z = -1 ** 2\n";
    let m = parse_module(src).unwrap();
    let s0 = &m.body[0];
    assert_eq!(
        &src[s0.span.start as usize..s0.span.end as usize],
        "x = f(a, b)"
    );
    let eddy_parser::ast::StmtKind::Assign { value, .. } = &s0.kind else {
        panic!()
    };
    assert_eq!(
        &src[value.span.start as usize..value.span.end as usize],
        "f(a, b)"
    );
    let s1 = &m.body[1];
    assert_eq!(
        &src[s1.span.start as usize..s1.span.end as usize],
        "if y:\n    z = -1 ** 2"
    );
}

#[test]
fn fstring_expression_spans_are_absolute() {
    let src = "s = f'ab{name}'";
    let m = parse_module(src).unwrap();
    let eddy_parser::ast::StmtKind::Assign { value, .. } = &m.body[0].kind else {
        panic!()
    };
    let eddy_parser::ast::ExprKind::FString(parts) = &value.kind else {
        panic!()
    };
    let eddy_parser::ast::FStringPart::Formatted { value: v, .. } = &parts[1] else {
        panic!()
    };
    assert_eq!(&src[v.span.start as usize..v.span.end as usize], "name");
}

// ----------------------------------------------------------------------------------------------
// Errors

#[test]
fn missing_colon() {
    let e = err("if x\n    pass\n");
    assert_eq!(e.message, "expected ':'");
    assert_eq!(e.label, "expected ':' here");
    assert!(e.help.unwrap().contains("':'"));
    assert_eq!(e.span.start, 4);
    err_msg("def f()\n    pass\n", "expected ':'");
    err_msg("class A\n    pass\n", "expected ':'");
    err_msg("for x in y\n    pass\n", "expected ':'");
    err_msg("while True\n    pass\n", "expected ':'");
    err_msg("if x:\n    pass\nelse\n    pass\n", "expected ':'");
}

#[test]
fn assignment_instead_of_comparison() {
    let e = err("if x = 1:\n    pass\n");
    assert_eq!(
        e.message,
        "invalid syntax. Maybe you meant '==' or ':=' instead of '='?"
    );
    assert_eq!((e.span.start, e.span.end), (5, 6));
    assert!(e.help.unwrap().contains("'=='"));
    err_msg(
        "while x = 1: pass",
        "invalid syntax. Maybe you meant '==' or ':=' instead of '='?",
    );
    err_msg(
        "f(a.b=1)",
        "expression cannot contain assignment, perhaps you meant \"==\"?",
    );
}

#[test]
fn invalid_targets() {
    let e = err("f() = 1");
    assert_eq!(
        e.message,
        "cannot assign to function call here. Maybe you meant '==' instead of '='?"
    );
    assert_eq!((e.span.start, e.span.end), (0, 3));
    assert_eq!(e.help.as_deref(), Some("use '==' to compare values"));
    err_msg(
        "1 = x",
        "cannot assign to literal here. Maybe you meant '==' instead of '='?",
    );
    err_msg(
        "a + b = c",
        "cannot assign to expression here. Maybe you meant '==' instead of '='?",
    );
    err_msg("None = 1", "cannot assign to None");
    err_msg("(a, 1) = x", "cannot assign to literal");
    err_msg("for 1 in x: pass", "cannot assign to literal");
    err_msg("with a as 1: pass", "cannot assign to literal");
    err_msg("[x for 1 in y]", "cannot assign to literal");
    err_msg("del f()", "cannot delete function call");
    err_msg(
        "a + 1 += 2",
        "'expression' is an illegal expression for augmented assignment",
    );
    err_msg(
        "(a, b) += 1",
        "'tuple' is an illegal expression for augmented assignment",
    );
    err_msg(
        "(a, b): int = 1",
        "only single target (not tuple) can be annotated",
    );
    err_msg(
        "*a = b",
        "starred assignment target must be in a list or tuple",
    );
    err_msg(
        "a, *b, *c = d",
        "multiple starred expressions in assignment",
    );
    err_msg("x = *a", "can't use starred expression here");
    err_msg(
        "x = yield = 1",
        "assignment to yield expression not possible",
    );
}

#[test]
fn parameter_and_argument_errors() {
    err_msg(
        "def f(a, a): pass",
        "duplicate argument 'a' in function definition",
    );
    err_msg(
        "def f(a=1, b): pass",
        "non-default argument follows default argument",
    );
    err_msg("def f(*): pass", "named arguments must follow bare *");
    err_msg(
        "def f(**k, a): pass",
        "arguments cannot follow var-keyword argument",
    );
    err_msg("def f(*, a, /): pass", "/ must be ahead of *");
    err_msg("def f(/): pass", "at least one argument must precede /");
    err_msg("def f(a, /, b, /): pass", "/ may appear only once");
    err_msg("def f(*a, *b): pass", "* argument may appear only once");
    err_msg("f(a=1, b)", "positional argument follows keyword argument");
    err_msg(
        "f(**a, b)",
        "positional argument follows keyword argument unpacking",
    );
    err_msg(
        "f(**a, *b)",
        "iterable argument unpacking follows keyword argument unpacking",
    );
    err_msg("f(a=1, a=2)", "keyword argument repeated: a");
    err_msg(
        "f(x for x in y, z)",
        "Generator expression must be parenthesized",
    );
    err_msg(
        "f(z, x for x in y)",
        "Generator expression must be parenthesized",
    );
}

#[test]
fn indentation_errors() {
    let e = err("  x = 1\n");
    assert_eq!(e.message, "unexpected indent");
    assert_eq!(e.kind(), "IndentationError");
    let e = err("def f():\nreturn 1\n");
    assert_eq!(
        e.message,
        "expected an indented block after function definition on line 1"
    );
    assert_eq!(e.kind(), "IndentationError");
    assert_eq!(e.label, "expected an indented block here");
    assert!(e.help.is_some());
    err_msg(
        "x = 1\nif x:\n",
        "expected an indented block after 'if' statement on line 2",
    );
    err_msg(
        "for x in y:\n\nz\n",
        "expected an indented block after 'for' statement on line 1",
    );
    err_msg(
        "class A:\n",
        "expected an indented block after class definition on line 1",
    );
    err_msg(
        "try:\n    a\nexcept E:\nb\n",
        "expected an indented block after 'except' statement on line 3",
    );
    err_msg(
        "if a:\n    b\nelse:\nc\n",
        "expected an indented block after 'else' statement on line 3",
    );
    err_msg(
        "if a:\n    b\nelif c:\nd\n",
        "expected an indented block after 'elif' statement on line 3",
    );
    err_msg(
        "with a:\nb\n",
        "expected an indented block after 'with' statement on line 1",
    );
    err_msg(
        "while a:\nb\n",
        "expected an indented block after 'while' statement on line 1",
    );
    err_msg(
        "try:\nb\n",
        "expected an indented block after 'try' statement on line 1",
    );
    err_msg(
        "async def f():\npass\n",
        "expected an indented block after function definition on line 1",
    );
    let e = err("if x:\n    a\n  b\n");
    assert_eq!(
        e.message,
        "unindent does not match any outer indentation level"
    );
    assert_eq!(e.kind(), "IndentationError");
    let e = err("if x:\n\ta\n        b\n");
    assert_eq!(
        e.message,
        "inconsistent use of tabs and spaces in indentation"
    );
    assert_eq!(e.kind(), "TabError");
}

#[test]
fn bracket_errors() {
    let e = err("foo(1,\nx = 2\n");
    assert_eq!(e.message, "'(' was never closed");
    assert_eq!((e.span.start, e.span.end), (3, 4));
    assert_eq!(e.help.as_deref(), Some("add a matching ')'"));
    assert!(e.is_incomplete("foo(1,\nx = 2\n"));
    assert!(err("if x:\n").is_incomplete("if x:\n"));
    assert!(err("s = \"\"\"abc\n").is_incomplete("s = \"\"\"abc\n"));
    assert!(!err("x = )").is_incomplete("x = )"));
    err_msg("print(\"a\"\nprint(\"b\")\n", "'(' was never closed");
    // An unclosed bracket only overrides a parser error on a later line (as in CPython).
    err_msg("x = (1 2\n", "invalid syntax. Perhaps you forgot a comma?");
    err_msg("def f(:\n    pass\n", "invalid syntax");
    // Other tokenizer errors later in the file take precedence over a generic parser error.
    err_msg(
        "x = = 1\ny = 'abc\n",
        "unterminated string literal (detected at line 2)",
    );
    err_msg("x = [1, 2\n", "'[' was never closed");
    err_msg("x = {'a': 1\n", "'{' was never closed");
    err_msg("x)\n", "unmatched ')'");
    err_msg(
        "(x]\n",
        "closing parenthesis ']' does not match opening parenthesis '('",
    );
    let e = err("[a b]");
    assert_eq!(e.message, "invalid syntax. Perhaps you forgot a comma?");
    assert_eq!(e.label, "expected ',' between these");
}

#[test]
fn tokenizer_errors() {
    err_msg(
        "x = 'abc\n",
        "unterminated string literal (detected at line 1)",
    );
    err_msg(
        "x = 1\ny = \"\"\"abc\n\n",
        "unterminated triple-quoted string literal (detected at line 4)",
    );
    err_msg("x = 1abc", "invalid decimal literal");
    err_msg("x = 012", "leading zeros in decimal integer literals are not permitted; use an 0o prefix for octal integers");
    err_msg("x = 0b2", "invalid digit '2' in binary literal");
    err_msg("x = $", "invalid syntax");
    err_msg("x = a € b", "invalid character '€' (U+20AC)");
    err_msg(
        "x = b'é'",
        "bytes can only contain ASCII literal characters",
    );
    err_msg("x = b'a' 'b'", "cannot mix bytes and nonbytes literals");
    err_msg("x = f'{'", "f-string: expecting '}'");
    err_msg("x = f'{}'", "f-string: empty expression not allowed");
    err_msg("x = f'}'", "f-string: single '}' is not allowed");
    err_msg(
        "x = f'{a b}'",
        "f-string: invalid syntax. Perhaps you forgot a comma?",
    );
    err_msg(
        "x = f'{x!z}'",
        "f-string: invalid conversion character 'z': expected 's', 'r', or 'a'",
    );
    err_msg(
        "x = 1 \\ 2",
        "unexpected character after line continuation character",
    );
}

#[test]
fn generic_errors_have_readable_labels() {
    let e = err("x = \n");
    assert_eq!(e.message, "invalid syntax");
    assert_eq!(e.label, "expected an expression");
    let e = err("x = )");
    assert_eq!(e.message, "unmatched ')'");
    let e = err("def (): pass");
    assert_eq!(e.message, "invalid syntax");
    assert_eq!(e.label, "expected a name");
    let e = err("else: pass");
    assert!(e.help.unwrap().contains("'if'"));
    let e = err("class = 1");
    assert_eq!(e.message, "invalid syntax");
    for src in [
        "x = (1 +)",
        "import",
        "from x import",
        "lambda x",
        "a.1",
        "x = [1,, 2]",
        "f(**)",
        "if:",
        "@\ndef f(): pass",
    ] {
        let e = err(src);
        assert!(
            !e.label.contains('"') && !e.label.contains("Tok::") && !e.label.contains("NAME"),
            "{src}: {e:?}"
        );
        assert!(!e.message.is_empty());
    }
    err_msg(
        "print \"hello\"",
        "Missing parentheses in call to 'print'. Did you mean print(...)?",
    );
    err_msg(
        "try:\n    pass\nprint(1)\n",
        "expected 'except' or 'finally' block",
    );
    err_msg(
        "try:\n    x\nexcept A, B:\n    pass\n",
        "multiple exception types must be parenthesized",
    );
    err_msg("x = 1 if 2\n", "expected 'else' after 'if' expression");
    err_msg("def f[T](x): pass", "expected '('");
    err_msg(
        "(a.b := 1)",
        "cannot use assignment expressions with attribute",
    );
    err_msg(
        "(a[0] := 1)",
        "cannot use assignment expressions with subscript",
    );
    err_msg(
        "try:\n    pass\nexcept*:\n    pass\n",
        "expected one or more exception types",
    );
    let e = err("lambda x\n");
    assert_eq!(e.message, "expected ':'");
    assert!(e.help.unwrap().contains("lambda"));
    assert!(err("match x:\n    case 1: pass\n")
        .help
        .unwrap()
        .contains("not supported"));
}

// ----------------------------------------------------------------------------------------------
// Limits and robustness

#[test]
fn deep_nesting_is_rejected_not_crashed() {
    let ok = format!("x = {}1{}", "(".repeat(150), ")".repeat(150));
    check(&ok, "(= x 1)");
    let deep = format!("x = {}1{}", "(".repeat(250), ")".repeat(250));
    assert_eq!(err(&deep).message, "too many nested parentheses");
    let deep = format!("x = {}", "[".repeat(100_000));
    assert_eq!(err(&deep).message, "too many nested parentheses");
    let long = format!("x = {}1", "1 + ".repeat(100_000));
    assert!(err(&long).message.starts_with("expression too complex"));
    let nots = format!("x = {}y", "not ".repeat(100_000));
    assert!(err(&nots).message.starts_with("expression too complex"));
    let attrs = format!("x = y{}", ".a".repeat(100_000));
    assert!(err(&attrs).message.starts_with("expression too complex"));
    let mut blocks = String::new();
    for i in 0..120 {
        blocks.push_str(&" ".repeat(i));
        blocks.push_str("if x:\n");
    }
    assert_eq!(err(&blocks).message, "too many levels of indentation");
}

#[test]
fn moderately_deep_code_parses() {
    let mut src = String::new();
    for i in 0..50 {
        src.push_str(&" ".repeat(i * 2));
        src.push_str("if x:\n");
    }
    src.push_str(&" ".repeat(100));
    src.push_str("pass\n");
    assert!(parse_module(&src).is_ok());
    let elifs = format!(
        "if a:\n    pass\n{}else:\n    pass\n",
        "elif b:\n    pass\n".repeat(900)
    );
    assert!(parse_module(&elifs).is_ok());
    let elifs = format!("if a:\n    pass\n{}", "elif b:\n    pass\n".repeat(1001));
    assert!(err(&elifs).message.starts_with("too many 'elif' clauses"));
    let sum = format!("x = {}1\n", "1 + ".repeat(500));
    assert!(parse_module(&sum).is_ok());
    let table = format!("x = [{}]\n", "{'a': -1, 'b': (2, 3)}, ".repeat(3000));
    assert!(parse_module(&table).is_ok());
}

#[test]
fn garbage_never_panics() {
    let samples = [
        "",
        "\n",
        "(",
        ")",
        "[",
        "{",
        "'",
        "\"\"\"",
        "f'{",
        "f'{x!",
        "f'{x:{y:{z}}}'",
        "\\",
        "\t",
        " \n x",
        "if",
        "def",
        "class",
        "@",
        "lambda",
        "yield",
        "await",
        "async",
        "*",
        "**",
        "->",
        ":=",
        "...",
        "0x",
        "1e",
        "f'{x=!r:>{w}}'",
        "with (",
        "with (a as b",
        "with ()",
        "with (a):",
        "from",
        "from . import",
        "import .",
        "x = f'{f\"{f'''{1}'''}\"}'",
        "\u{0}",
        "é",
        "x = 'é",
        "\r",
        "\r\n\r\n",
        "if x:\n\tpass\n  \tpass",
        "del",
        "del *a",
        "x[",
        "x[::",
        "x[1:2:3:4]",
        "a if b",
        "a if b else",
        "not",
        "for",
        "for x in",
        "try:\n  pass\n",
        "try:\n  pass\nelse:\n  pass",
        "except",
        "elif x:",
        "return return",
        "f(a for a in b for c in d)",
        "b'\\x'",
        "'\\x4'",
        "'\\U11111111'",
        "'\\N{x}'",
        "f'\\N{DASH}{x}'",
        "global",
        "nonlocal 1",
    ];
    for s in samples {
        let _ = parse_module(s);
    }
    // Every prefix of a realistic program.
    let prog = "import asyncio\n@dec(1)\nasync def main(a, /, b=2, *c, d, **e) -> None:\n    async with x as (y, z):\n        r = [f\"{i!r:>{w}}\" async for i in g() if i]\n    try:\n        await asyncio.sleep(0.1)\n    except* (ValueError, TypeError) as eg:\n        raise RuntimeError('x') from eg\n    return {**d, 'k': lambda q=1: q if q else -q ** 2}\n";
    for (i, _) in prog.char_indices() {
        let _ = parse_module(&prog[..i]);
    }
    assert!(parse_module(prog).is_ok());
}
