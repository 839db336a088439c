//! `eddy check`: every syntax and compile error of a file, not just the first, and the warnings
//! of `lint.rs` (a forgotten `await`) when the file parses.
//!
//! The parser stops at its first error, so recovery happens here, a top-level statement at a time:
//! after an error, the statement it is in (from the last line that starts at column 0 up to the next
//! one) is blanked out with spaces, keeping every byte offset and line number, and the file is
//! compiled again. Errors after the first may therefore be missed inside the same statement, but
//! are never invented by the blanking, which only removes whole top-level statements.

use crate::error::Error;
use crate::lint::Warning;

/// At most this many errors are reported for one file.
const MAX_ERRORS: usize = 50;

/// Everything `eddy check` found in one file.
#[derive(Debug, Default)]
pub struct Findings {
    pub errors: Vec<Error>,
    pub warnings: Vec<Warning>,
}

/// Errors as [`check`] finds them, and warnings about code that parses but looks wrong.
pub fn check_file(name: &str, source: &str) -> Findings {
    let errors = check(name, source);
    let warnings = match eddy_parser::parse_module(source) {
        Ok(module) => {
            crate::lint::forgotten_awaits(&eddy_vm::SourceFile::new(name, source), &module)
        }
        Err(_) => Vec::new(),
    };
    Findings { errors, warnings }
}

/// Compiles `source` without running it and returns every error found (empty when clean).
pub fn check(name: &str, source: &str) -> Vec<Error> {
    let mut text = source.to_string();
    let mut errors = Vec::new();
    while errors.len() < MAX_ERRORS {
        let Err(mut err) = crate::compile(name, &text) else {
            break;
        };
        let Error::Syntax(syntax) = &mut err else {
            errors.push(err);
            break;
        };
        let at = syntax.span.start as usize;
        // Blanking keeps offsets, so the error's span fits the original text, which reads better.
        syntax.source = source.to_string();
        errors.push(err);
        let Some(blanked) = blank_statement(&text, at) else {
            break;
        };
        text = blanked;
    }
    errors
}

/// `text` with the top-level statement around byte `at` replaced by spaces (newlines kept), or
/// None when nothing would change (so the same error would come back forever).
fn blank_statement(text: &str, at: usize) -> Option<String> {
    let at = at.min(text.len());
    let starts = statement_starts(text);
    let start = starts.iter().copied().rfind(|&s| s <= at).unwrap_or(0);
    let end = starts
        .iter()
        .copied()
        .find(|&s| s > at)
        .unwrap_or(text.len());
    let region = &text[start..end];
    if region.chars().all(char::is_whitespace) {
        return None;
    }
    let blank: String = region
        .chars()
        .map(|c| if c == '\n' || c == '\r' { c } else { ' ' })
        .collect();
    Some(format!("{}{}{}", &text[..start], blank, &text[end..]))
}

/// Byte offsets of the lines that look like the start of a top-level statement: text at column 0
/// that is not a comment and does not continue the statement before it (`else:`, `except:`...).
fn statement_starts(text: &str) -> Vec<usize> {
    const CONTINUATIONS: [&str; 4] = ["else", "elif", "except", "finally"];
    let mut starts = Vec::new();
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let first = line.chars().next().unwrap_or(' ');
        let word: String = line
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        let continues = CONTINUATIONS.contains(&word.as_str());
        if !first.is_whitespace() && first != '#' && !continues && !matches!(first, ')' | ']' | '}')
        {
            starts.push(offset);
        }
        offset += line.len();
    }
    starts
}

#[cfg(test)]
mod tests {
    use super::*;

    fn warned_lines(src: &str) -> Vec<u32> {
        check_file("t.py", src)
            .warnings
            .iter()
            .map(|w| w.line)
            .collect()
    }

    #[test]
    fn warns_about_a_bare_call_of_an_async_function() {
        let src =
            "async def f():\n    pass\nasync def main():\n    f()\n    await f()\n    x = f()\n";
        assert_eq!(warned_lines(src), vec![4]);
    }

    #[test]
    fn warns_about_self_calls_of_async_methods_including_inherited_ones() {
        let src = "class A:\n    async def close(self):\n        pass\n\
class B(A):\n    def sync(self):\n        pass\n    async def run(self):\n        self.close()\n        self.sync()\n        other.close()\n";
        assert_eq!(warned_lines(src), vec![8]);
    }

    #[test]
    fn rebound_or_shadowed_names_are_not_trusted() {
        let src = "async def f():\n    pass\nasync def g():\n    pass\ng = 3\n\
def h(f):\n    f()\ndef k():\n    g()\ndef m():\n    f = print\n    f()\n";
        assert!(warned_lines(src).is_empty(), "{:?}", warned_lines(src));
    }

    #[test]
    fn a_nested_async_def_and_a_module_level_call_are_found() {
        let src = "async def main():\n    async def inner():\n        pass\n    inner()\nmain()\n";
        assert_eq!(warned_lines(src), vec![4, 5]);
    }

    #[test]
    fn clean_file_has_no_errors() {
        assert!(check("t.py", "x = 1\nprint(x)\n").is_empty());
    }

    #[test]
    fn reports_one_error_per_broken_statement() {
        let src = "if x = 1:\n    pass\ny = (1,\nz = 3\ndef f()\n    return 1\nprint('ok')\n";
        let lines: Vec<u32> = check("t.py", src)
            .iter()
            .map(|e| match e {
                Error::Syntax(s) => s.line,
                _ => 0,
            })
            .collect();
        assert_eq!(lines[0], 1);
        assert!(lines.len() >= 2, "{lines:?}");
    }

    #[test]
    fn blanking_keeps_offsets() {
        let src = "a = 1\nb = (\nc = 2\n";
        let blanked = blank_statement(src, 8).unwrap_or_default();
        assert_eq!(blanked.len(), src.len());
        assert!(blanked.starts_with("a = 1\n"));
    }
}
