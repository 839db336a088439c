//! Token kinds and the small `Copy` token the lexer hands to the parser.
//!
//! Tokens carry no owned text: names, numbers and string literals are recovered from the source
//! slice `source[start..end]` (see [`crate::numbers`], [`crate::strings`], [`crate::fstring`]).

/// What kind of token this is. Keywords are separate kinds; `match`, `case`, `type` and `_` are
/// plain names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Tok {
    // ---- atoms ----
    Name,
    /// An integer literal (decimal, hex, octal or binary).
    Int,
    /// A float literal.
    Float,
    /// Any string-ish literal including its prefix and quotes: plain, raw, bytes or f-string.
    String,

    // ---- layout ----
    Newline,
    Indent,
    Dedent,

    // ---- synthesised by the parser crate, never produced by the lexer ----
    /// First token of a whole-file parse.
    StartModule,
    /// First token of a single-expression parse (an f-string replacement field).
    StartExpr,
    /// The `(` directly after `with` when it opens a parenthesised list of with-items.
    WithLParen,

    // ---- keywords ----
    False,
    None,
    True,
    And,
    As,
    Assert,
    Async,
    Await,
    Break,
    Class,
    Continue,
    Def,
    Del,
    Elif,
    Else,
    Except,
    Finally,
    For,
    From,
    Global,
    If,
    Import,
    In,
    Is,
    Lambda,
    Nonlocal,
    Not,
    Or,
    Pass,
    Raise,
    Return,
    Try,
    While,
    With,
    Yield,

    // ---- operators and delimiters ----
    Plus,
    Minus,
    Star,
    DoubleStar,
    Slash,
    DoubleSlash,
    Percent,
    At,
    LShift,
    RShift,
    Amp,
    Pipe,
    Caret,
    Tilde,
    ColonEqual,
    Less,
    Greater,
    LessEqual,
    GreaterEqual,
    EqEqual,
    NotEqual,
    LPar,
    RPar,
    LSqb,
    RSqb,
    LBrace,
    RBrace,
    Comma,
    Colon,
    Dot,
    Semi,
    Equal,
    Arrow,
    Ellipsis,
    PlusEqual,
    MinusEqual,
    StarEqual,
    SlashEqual,
    DoubleSlashEqual,
    PercentEqual,
    AtEqual,
    AmpEqual,
    PipeEqual,
    CaretEqual,
    LShiftEqual,
    RShiftEqual,
    DoubleStarEqual,
}

impl Tok {
    /// True for `(`, `[` and `{` (and the synthetic with-paren).
    pub fn is_open_bracket(self) -> bool {
        matches!(self, Tok::LPar | Tok::LSqb | Tok::LBrace | Tok::WithLParen)
    }

    /// True for `)`, `]` and `}`.
    pub fn is_close_bracket(self) -> bool {
        matches!(self, Tok::RPar | Tok::RSqb | Tok::RBrace)
    }

    /// True for Python keywords.
    pub fn is_keyword(self) -> bool {
        use Tok::*;
        matches!(
            self,
            False
                | None
                | True
                | And
                | As
                | Assert
                | Async
                | Await
                | Break
                | Class
                | Continue
                | Def
                | Del
                | Elif
                | Else
                | Except
                | Finally
                | For
                | From
                | Global
                | If
                | Import
                | In
                | Is
                | Lambda
                | Nonlocal
                | Not
                | Or
                | Pass
                | Raise
                | Return
                | Try
                | While
                | With
                | Yield
        )
    }

    /// True when a token of this kind can begin an expression.
    pub fn starts_expression(self) -> bool {
        use Tok::*;
        matches!(
            self,
            Name | Int
                | Float
                | String
                | False
                | None
                | True
                | Not
                | Await
                | Lambda
                | Plus
                | Minus
                | Tilde
                | LPar
                | LSqb
                | LBrace
                | Ellipsis
        )
    }

    /// True when a token of this kind can end an expression.
    pub fn ends_expression(self) -> bool {
        use Tok::*;
        matches!(
            self,
            Name | Int | Float | String | False | None | True | RPar | RSqb | RBrace | Ellipsis
        )
    }

    /// The fixed spelling of keyword and operator tokens (`None` for names, literals and layout).
    pub fn text(self) -> Option<&'static str> {
        use Tok::*;
        Some(match self {
            Name | Int | Float | String | Newline | Indent | Dedent | StartModule | StartExpr => {
                return Option::None
            }
            WithLParen => "(",
            False => "False",
            None => "None",
            True => "True",
            And => "and",
            As => "as",
            Assert => "assert",
            Async => "async",
            Await => "await",
            Break => "break",
            Class => "class",
            Continue => "continue",
            Def => "def",
            Del => "del",
            Elif => "elif",
            Else => "else",
            Except => "except",
            Finally => "finally",
            For => "for",
            From => "from",
            Global => "global",
            If => "if",
            Import => "import",
            In => "in",
            Is => "is",
            Lambda => "lambda",
            Nonlocal => "nonlocal",
            Not => "not",
            Or => "or",
            Pass => "pass",
            Raise => "raise",
            Return => "return",
            Try => "try",
            While => "while",
            With => "with",
            Yield => "yield",
            Plus => "+",
            Minus => "-",
            Star => "*",
            DoubleStar => "**",
            Slash => "/",
            DoubleSlash => "//",
            Percent => "%",
            At => "@",
            LShift => "<<",
            RShift => ">>",
            Amp => "&",
            Pipe => "|",
            Caret => "^",
            Tilde => "~",
            ColonEqual => ":=",
            Less => "<",
            Greater => ">",
            LessEqual => "<=",
            GreaterEqual => ">=",
            EqEqual => "==",
            NotEqual => "!=",
            LPar => "(",
            RPar => ")",
            LSqb => "[",
            RSqb => "]",
            LBrace => "{",
            RBrace => "}",
            Comma => ",",
            Colon => ":",
            Dot => ".",
            Semi => ";",
            Equal => "=",
            Arrow => "->",
            Ellipsis => "...",
            PlusEqual => "+=",
            MinusEqual => "-=",
            StarEqual => "*=",
            SlashEqual => "/=",
            DoubleSlashEqual => "//=",
            PercentEqual => "%=",
            AtEqual => "@=",
            AmpEqual => "&=",
            PipeEqual => "|=",
            CaretEqual => "^=",
            LShiftEqual => "<<=",
            RShiftEqual => ">>=",
            DoubleStarEqual => "**=",
        })
    }

    /// A short human description, used in error labels: `':'`, `a name`, `a number`, ...
    pub fn describe(self) -> String {
        match self {
            Tok::Name => "a name".into(),
            Tok::Int | Tok::Float => "a number".into(),
            Tok::String => "a string".into(),
            Tok::Newline => "end of line".into(),
            Tok::Indent => "an indented block".into(),
            Tok::Dedent => "a dedent".into(),
            Tok::StartModule | Tok::StartExpr => "start of input".into(),
            other => format!("'{}'", other.text().unwrap_or("?")),
        }
    }
}

/// One token: its kind and the byte range `start..end` it covers in the source.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Token {
    pub kind: Tok,
    pub start: usize,
    pub end: usize,
}

impl Token {
    pub fn new(kind: Tok, start: usize, end: usize) -> Token {
        Token { kind, start, end }
    }
}
