//! When is an input complete? The REPL reads one physical line at a time (`>>> ` then `... `,
//! as CPython's prompt does) and asks [`verdict`] after each one whether to run what it has,
//! ask for another line, or report a syntax error. The answer comes from the real lexer and
//! parser, so it agrees with what the compiler will accept: an open bracket or an unterminated
//! triple-quoted string asks for more; a block (a first line that ends in `:` or starts a
//! compound statement or decorator) runs only after a blank line; any other error is reported
//! at once, so a typo never traps the user in continuation mode.

use eddy_lexer::{RawLexer, Tok};

/// What to do with the text read so far.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Nothing but blanks and comments: show a fresh prompt.
    Empty,
    /// Run it (a syntax error is reported by the compiler when it is run).
    Complete,
    /// Ask for another line.
    Incomplete,
    /// A syntax error more input cannot fix: report it (the message is the parser's).
    Invalid(String),
}

/// Judges `source`: the lines typed so far joined by `\n`, without a final newline (a blank
/// last line, the block terminator, shows up as a trailing `\n`).
pub fn verdict(source: &str) -> Verdict {
    if is_blank(source) {
        return Verdict::Empty;
    }
    if ends_with_continuation(source) {
        return Verdict::Incomplete;
    }
    let ends_blank = ends_with_blank_line(source);
    let (block, opened) = starts_block(source);
    // An error at the very end waits for more input only once a block is really open: `if x:`
    // or `@dec` on one line, or a block already several lines long (`if x` alone is an error).
    let open_block = opened || (block && source.contains('\n'));
    let mut text = source.to_string();
    text.push('\n');
    match eddy_parser::parse_module(&text) {
        Ok(_) if block && !ends_blank => Verdict::Incomplete,
        Ok(_) => Verdict::Complete,
        Err(e) => {
            let m = e.message.as_str();
            let open = m.ends_with("was never closed")
                || m.starts_with("unterminated triple-quoted string");
            let at_end = e.span.start as usize >= text.trim_end().len();
            if open || (!ends_blank && (e.is_incomplete(&text) || (open_block && at_end))) {
                Verdict::Incomplete
            } else {
                Verdict::Invalid(e.message)
            }
        }
    }
}

/// True when every line is empty, blank or a comment.
fn is_blank(source: &str) -> bool {
    source.lines().all(|l| {
        let t = l.trim();
        t.is_empty() || t.starts_with('#')
    })
}

/// True when the last line ends in a backslash that continues it (not inside a comment).
fn ends_with_continuation(source: &str) -> bool {
    let last = source.rsplit('\n').next().unwrap_or("");
    last.ends_with('\\') && !last.contains('#')
}

/// True when the text has more than one line and the last is empty or only spaces.
fn ends_with_blank_line(source: &str) -> bool {
    match source.rsplit_once('\n') {
        Some((_, last)) => last.trim().is_empty(),
        None => false,
    }
}

/// Whether the first statement opens a block, which a blank line must close (its first token
/// is a compound-statement keyword or a decorator, or its first logical line ends in `:`), and
/// whether its first line visibly asks for more (ends in `:` or is a decorator).
fn starts_block(source: &str) -> (bool, bool) {
    let mut depth = 0usize;
    let mut first = None;
    let mut last = None;
    for tok in RawLexer::new(source) {
        let Ok(tok) = tok else { break };
        match tok.kind {
            Tok::Newline if depth == 0 && first.is_some() => break,
            Tok::Newline => continue,
            k if k.is_open_bracket() => depth += 1,
            k if k.is_close_bracket() => depth = depth.saturating_sub(1),
            _ => {}
        }
        first.get_or_insert(tok.kind);
        last = Some(tok.kind);
    }
    let compound = matches!(
        first,
        Some(
            Tok::If
                | Tok::While
                | Tok::For
                | Tok::Try
                | Tok::With
                | Tok::Def
                | Tok::Class
                | Tok::Async
                | Tok::At
        )
    );
    let opened = last == Some(Tok::Colon) || first == Some(Tok::At);
    (compound || opened, opened)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Verdict {
        verdict(s)
    }

    #[test]
    fn simple_statements_run_at_once() {
        assert_eq!(v("1 + 2"), Verdict::Complete);
        assert_eq!(v("x = 5"), Verdict::Complete);
        assert_eq!(v("print('a:')"), Verdict::Complete);
        assert_eq!(v("d = {'a': 1}"), Verdict::Complete);
        assert_eq!(v("await asyncio.sleep(0)"), Verdict::Complete);
    }

    #[test]
    fn blank_input_is_empty() {
        assert_eq!(v(""), Verdict::Empty);
        assert_eq!(v("   "), Verdict::Empty);
        assert_eq!(v("# a comment"), Verdict::Empty);
    }

    #[test]
    fn a_block_waits_for_a_blank_line() {
        assert_eq!(v("def f():"), Verdict::Incomplete);
        assert_eq!(v("def f():\n    return 1"), Verdict::Incomplete);
        assert_eq!(v("def f():\n    return 1\n"), Verdict::Complete);
        assert_eq!(v("for i in range(3):\n    print(i)\n"), Verdict::Complete);
        assert_eq!(v("if x: pass"), Verdict::Incomplete);
        assert_eq!(v("if x: pass\n"), Verdict::Complete);
        assert_eq!(v("@dec"), Verdict::Incomplete);
        assert_eq!(v("@dec\ndef f(): pass\n"), Verdict::Complete);
        assert_eq!(v("try:\n    pass"), Verdict::Incomplete);
        assert_eq!(v("if x:\n    pass\nelse:"), Verdict::Incomplete);
        assert_eq!(v("async def f():\n    await g()\n"), Verdict::Complete);
    }

    #[test]
    fn open_brackets_and_strings_continue() {
        assert_eq!(v("x = (1,"), Verdict::Incomplete);
        assert_eq!(v("x = [1,\n 2"), Verdict::Incomplete);
        assert_eq!(v("x = [1,\n 2]"), Verdict::Complete);
        assert_eq!(v("f(1,\n"), Verdict::Incomplete);
        assert_eq!(v("s = '''abc"), Verdict::Incomplete);
        assert_eq!(v("s = '''abc\n\n"), Verdict::Incomplete);
        assert_eq!(v("s = '''abc\ndef'''"), Verdict::Complete);
        assert_eq!(v("x = 1 + \\"), Verdict::Incomplete);
        assert_eq!(v("x = 1 + \\\n  2"), Verdict::Complete);
    }

    #[test]
    fn syntax_errors_are_reported_not_continued() {
        assert!(matches!(v("x = = 1"), Verdict::Invalid(_)));
        assert!(matches!(v("1 +"), Verdict::Invalid(_)));
        assert!(matches!(v("if x"), Verdict::Invalid(_)));
        assert!(matches!(v(")"), Verdict::Invalid(_)));
        assert!(matches!(v("def f():\n    x = = 1"), Verdict::Invalid(_)));
        // A blank line after a header with no body is an error, not another "... ".
        assert!(matches!(v("if x:\n"), Verdict::Invalid(_)));
        assert!(matches!(v("try:\n    pass\n"), Verdict::Invalid(_)));
    }
}
