//! Syntax colouring of the line being edited, from the real lexer's tokens: keywords, the
//! constants `True False None`, strings, numbers, comments, decorators and the name after
//! `def`/`class`. The output has exactly the input's characters plus ANSI escapes (rustyline
//! requires the same display width). Text after a lexer error (an unterminated string while
//! typing) is coloured as a string if it starts one, else left plain.

use eddy_lexer::{RawLexer, Tok};

const RESET: &str = "\x1b[0m";
const KEYWORD: &str = "\x1b[1;35m";
const CONSTANT: &str = "\x1b[36m";
const STRING: &str = "\x1b[32m";
const NUMBER: &str = "\x1b[36m";
const COMMENT: &str = "\x1b[90m";
const DEFINED: &str = "\x1b[1;34m";
const DECORATOR: &str = "\x1b[33m";
const COMMAND: &str = "\x1b[1;33m";

/// `line` with ANSI colours added.
pub fn highlight(line: &str) -> String {
    if line.trim_start().starts_with(':') {
        // A REPL command (`:tasks`): one colour for the whole line.
        return paint(COMMAND, line);
    }
    let mut out = String::with_capacity(line.len() * 2);
    let mut at = 0;
    let mut prev = None;
    for tok in RawLexer::new(line) {
        let tok = match tok {
            Ok(t) => t,
            Err(e) => {
                let start = e.start.clamp(at, line.len());
                gap(line, at, start, &mut out);
                let Some(rest) = line.get(start..) else {
                    // Not on a character boundary (never expected): show the rest plainly.
                    out.push_str(line.get(at..).unwrap_or(""));
                    return out;
                };
                if e.message.contains("string") {
                    out.push_str(&paint(STRING, rest));
                } else {
                    out.push_str(rest);
                }
                return out;
            }
        };
        gap(line, at, tok.start, &mut out);
        let Some(text) = line.get(tok.start..tok.end) else {
            out.push_str(line.get(at..).unwrap_or(""));
            return out;
        };
        let colour = colour_of(tok.kind, prev, text);
        match colour {
            Some(c) => out.push_str(&paint(c, text)),
            None => out.push_str(text),
        }
        at = tok.end;
        prev = Some(tok.kind);
    }
    gap(line, at, line.len(), &mut out);
    out
}

/// The colour of one token, given the kind of the token before it.
fn colour_of(kind: Tok, prev: Option<Tok>, text: &str) -> Option<&'static str> {
    match kind {
        Tok::True | Tok::False | Tok::None => Some(CONSTANT),
        k if k.is_keyword() => Some(KEYWORD),
        Tok::String => Some(STRING),
        Tok::Int | Tok::Float => Some(NUMBER),
        Tok::At if prev.is_none() || prev == Some(Tok::Newline) => Some(DECORATOR),
        Tok::Name if matches!(prev, Some(Tok::Def | Tok::Class)) => Some(DEFINED),
        Tok::Name if prev == Some(Tok::At) => Some(DECORATOR),
        Tok::Name if matches!(text, "match" | "case") && prev.is_none() => Some(KEYWORD),
        _ => None,
    }
}

/// Copies the text between tokens (spaces, comments, line continuations).
fn gap(line: &str, from: usize, to: usize, out: &mut String) {
    let Some(text) = line.get(from..to) else {
        return;
    };
    match text.find('#') {
        Some(i) => {
            out.push_str(&text[..i]);
            let comment = &text[i..];
            let end = comment.find('\n').unwrap_or(comment.len());
            out.push_str(&paint(COMMENT, &comment[..end]));
            out.push_str(&comment[end..]);
        }
        None => out.push_str(text),
    }
}

fn paint(colour: &str, text: &str) -> String {
    format!("{colour}{text}{RESET}")
}

/// `text` without ANSI escape sequences (what the user typed).
pub fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            for d in chars.by_ref() {
                if d.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_text_and_adds_colour() {
        for line in [
            "def f(x): return x + 1  # add",
            "s = 'abc' + \"d\"",
            "x = 0x1F if True else None",
            "@decorator",
            "print('unterminated",
            "    await asyncio.sleep(1.5)",
            "",
            "a = [1, 2,",
            "é = 'ü'",
        ] {
            let h = highlight(line);
            assert_eq!(strip_ansi(&h), line, "{h:?}");
        }
    }

    #[test]
    fn colours_by_token_kind() {
        let h = highlight("def f(): return 'x'  # c");
        assert!(h.contains(&paint(KEYWORD, "def")));
        assert!(h.contains(&paint(DEFINED, "f")));
        assert!(h.contains(&paint(KEYWORD, "return")));
        assert!(h.contains(&paint(STRING, "'x'")));
        assert!(h.contains(&paint(COMMENT, "# c")));
        let h = highlight("x = 42 or None");
        assert!(h.contains(&paint(NUMBER, "42")));
        assert!(h.contains(&paint(CONSTANT, "None")));
        assert!(h.contains(&paint(KEYWORD, "or")));
        assert!(!h.contains(&paint(KEYWORD, "x")));
    }

    #[test]
    fn an_unterminated_string_is_coloured_to_the_end() {
        let h = highlight("print('abc");
        assert!(h.ends_with(&paint(STRING, "'abc")), "{h:?}");
    }

    #[test]
    fn commands_get_one_colour() {
        assert_eq!(highlight(":tasks"), paint(COMMAND, ":tasks"));
    }
}
