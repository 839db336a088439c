//! F-strings: splitting an f-string literal into literal text and replacement fields.
//!
//! The lexer yields a whole f-string as one `Tok::String` token (Python 3.11 rules: an expression
//! may not reuse the enclosing quote, so the literal ends at the first matching quote). The parser
//! calls [`split_fstring`] and then lexes and parses each field's expression text (given as an
//! absolute byte range of the source, so spans stay correct). Handles `{{`/`}}`, `!r`/`!s`/`!a`,
//! format specs with nested fields, and the `=` self-documenting form.

use crate::error::LexError;
use crate::strings::{decode_str, info};

/// One piece of an f-string.
#[derive(Clone, Debug, PartialEq)]
pub enum FPiece {
    /// Decoded literal text (`{{` already turned into `{`).
    Literal(String),
    /// A replacement field `{expr!c:spec}`.
    Field {
        /// Absolute byte range of the expression text.
        expr_start: usize,
        expr_end: usize,
        /// For `{x=}`: the text `x=` (with any whitespace) to emit literally before the value.
        debug: Option<String>,
        conversion: Option<char>,
        spec: Option<Vec<FPiece>>,
    },
}

/// Splits the f-string literal occupying `src[start..end]` into pieces.
pub fn split_fstring(src: &str, start: usize, end: usize) -> Result<Vec<FPiece>, LexError> {
    let text = &src[start..end];
    let inf = info(text);
    let mut p = Splitter {
        src,
        b: src.as_bytes(),
        end: start + inf.body_end,
        raw: inf.raw,
        tok: (start, end),
    };
    let (pieces, _) = p.parts(start + inf.body_start, false, 0)?;
    Ok(pieces)
}

struct Splitter<'a> {
    src: &'a str,
    b: &'a [u8],
    /// End of the literal body (absolute).
    end: usize,
    raw: bool,
    tok: (usize, usize),
}

impl Splitter<'_> {
    fn err(&self, msg: &str, at: usize, len: usize, label: &str) -> LexError {
        let s = at.min(self.tok.1);
        LexError::new(msg, s, (s + len).min(self.tok.1), label)
    }

    fn flush(&self, out: &mut Vec<FPiece>, from: usize, to: usize) -> Result<(), LexError> {
        if from < to {
            let s = decode_str(&self.src[from..to], self.raw).map_err(|e| {
                self.err(
                    &e.message,
                    from + e.start,
                    e.end - e.start,
                    "invalid escape sequence",
                )
            })?;
            push_literal(out, s);
        }
        Ok(())
    }

    /// Parses literal text and fields from `i` until the body end (or, in a format spec, an
    /// unmatched `}`). Returns the pieces and the position reached.
    fn parts(
        &mut self,
        mut i: usize,
        in_spec: bool,
        depth: usize,
    ) -> Result<(Vec<FPiece>, usize), LexError> {
        let mut out = Vec::new();
        let mut lit = i;
        while i < self.end {
            match self.b[i] {
                b'{' => {
                    if !in_spec && self.b.get(i + 1) == Some(&b'{') && i + 1 < self.end {
                        self.flush(&mut out, lit, i)?;
                        push_literal(&mut out, "{".into());
                        i += 2;
                        lit = i;
                        continue;
                    }
                    self.flush(&mut out, lit, i)?;
                    i = self.field(&mut out, i, depth)?;
                    lit = i;
                }
                b'}' => {
                    if in_spec {
                        self.flush(&mut out, lit, i)?;
                        return Ok((out, i));
                    }
                    if self.b.get(i + 1) == Some(&b'}') && i + 1 < self.end {
                        self.flush(&mut out, lit, i)?;
                        push_literal(&mut out, "}".into());
                        i += 2;
                        lit = i;
                        continue;
                    }
                    return Err(self
                        .err("f-string: single '}' is not allowed", i, 1, "single '}'")
                        .with_help("write '}}' for a literal '}'"));
                }
                b'\\' if !self.raw => {
                    if self.b.get(i + 1) == Some(&b'N') && self.b.get(i + 2) == Some(&b'{') {
                        // `\N{NAME}`: the braces belong to the escape.
                        let mut j = i + 3;
                        while j < self.end && self.b[j] != b'}' {
                            j += 1;
                        }
                        i = (j + 1).min(self.end);
                    } else if matches!(self.b.get(i + 1), Some(b'{') | Some(b'}')) {
                        i += 1;
                    } else {
                        i += 2;
                    }
                }
                _ => i += 1,
            }
        }
        let i = i.min(self.end);
        if in_spec {
            return Err(self.err("f-string: expecting '}'", i, 0, "expected '}'"));
        }
        self.flush(&mut out, lit, i)?;
        Ok((out, i))
    }

    /// Parses one replacement field starting at the `{` at `open`; returns the position after `}`.
    fn field(
        &mut self,
        out: &mut Vec<FPiece>,
        open: usize,
        depth: usize,
    ) -> Result<usize, LexError> {
        // Fields may nest inside a format spec only one level deep (`{x:{w}}`), as in CPython.
        if depth >= 2 {
            return Err(self.err(
                "f-string: expressions nested too deeply",
                open,
                1,
                "nested too deeply",
            ));
        }
        let b = self.b;
        let mut j = open + 1;
        let mut nest: Vec<u8> = Vec::new();
        loop {
            if j >= self.end {
                return Err(self
                    .err(
                        "f-string: expecting '}'",
                        open,
                        1,
                        "this '{' is never closed",
                    )
                    .with_help("close the replacement field with '}'"));
            }
            let c = b[j];
            match c {
                b'\'' | b'"' => {
                    j = self.skip_string(j)?;
                    continue;
                }
                b'\\' => {
                    return Err(self.err(
                        "f-string expression part cannot include a backslash",
                        j,
                        1,
                        "backslash in expression",
                    ))
                }
                b'#' => {
                    return Err(self.err(
                        "f-string expression part cannot include '#'",
                        j,
                        1,
                        "'#' in expression",
                    ))
                }
                b'(' | b'[' | b'{' => nest.push(c),
                b')' | b']' | b'}' => {
                    if nest.is_empty() {
                        if c == b'}' {
                            break;
                        }
                        return Err(self.err(
                            &format!("f-string: unmatched '{}'", c as char),
                            j,
                            1,
                            "unmatched bracket",
                        ));
                    }
                    nest.pop();
                }
                b'!' if nest.is_empty() => {
                    if b.get(j + 1) == Some(&b'=') {
                        j += 2;
                        continue;
                    }
                    break;
                }
                b':' if nest.is_empty() => break,
                b'<' | b'>' | b'=' if b.get(j + 1) == Some(&b'=') => {
                    j += 2;
                    continue;
                }
                b'=' if nest.is_empty() => break,
                _ => {}
            }
            j += 1;
        }
        let expr_start = open + 1;
        let expr_end = j;
        if self.src[expr_start..expr_end].trim().is_empty() {
            return Err(self.err(
                "f-string: empty expression not allowed",
                open,
                j + 1 - open,
                "empty expression",
            ));
        }
        let mut debug = None;
        if b[j] == b'=' {
            j += 1;
            while j < self.end && matches!(b[j], b' ' | b'\t' | b'\n' | b'\r') {
                j += 1;
            }
            debug = Some(self.src[expr_start..j].to_string());
        }
        let mut conversion = None;
        if j < self.end && b[j] == b'!' {
            let c = self.src[j + 1..self.end].chars().next();
            match c {
                Some(c @ ('s' | 'r' | 'a')) => conversion = Some(c),
                Some(':') | Some('}') | None => {
                    return Err(self.err("f-string: invalid conversion character: expected 's', 'r', or 'a'", j, 1, "expected 's', 'r' or 'a'"))
                }
                Some(other) => {
                    return Err(self.err(
                        &format!("f-string: invalid conversion character '{other}': expected 's', 'r', or 'a'"),
                        j + 1,
                        other.len_utf8(),
                        "expected 's', 'r' or 'a'",
                    ))
                }
            }
            j += 2;
        }
        let mut spec = None;
        if j < self.end && b[j] == b':' {
            let (parts, k) = self.parts(j + 1, true, depth + 1)?;
            spec = Some(parts);
            j = k;
        }
        if j >= self.end || b[j] != b'}' {
            return Err(self.err(
                "f-string: expecting '}'",
                j.min(self.end),
                1,
                "expected '}'",
            ));
        }
        if let Some(d) = &debug {
            push_literal(out, d.clone());
            if conversion.is_none() && spec.is_none() {
                conversion = Some('r');
            }
        }
        out.push(FPiece::Field {
            expr_start,
            expr_end,
            debug,
            conversion,
            spec,
        });
        Ok(j + 1)
    }

    /// Skips a string literal inside a field expression; returns the position after it.
    fn skip_string(&self, j: usize) -> Result<usize, LexError> {
        let b = self.b;
        let q = b[j];
        let triple = j + 2 < self.end && b[j + 1] == q && b[j + 2] == q;
        let mut k = if triple { j + 3 } else { j + 1 };
        while k < self.end {
            if b[k] == b'\\' {
                return Err(self.err(
                    "f-string expression part cannot include a backslash",
                    k,
                    1,
                    "backslash in expression",
                ));
            }
            if b[k] == q {
                if !triple {
                    return Ok(k + 1);
                }
                if k + 2 < self.end && b[k + 1] == q && b[k + 2] == q {
                    return Ok(k + 3);
                }
            }
            k += 1;
        }
        Err(self.err("f-string: unterminated string", j, 1, "unterminated string"))
    }
}

fn push_literal(out: &mut Vec<FPiece>, s: String) {
    if s.is_empty() {
        return;
    }
    if let Some(FPiece::Literal(prev)) = out.last_mut() {
        prev.push_str(&s);
    } else {
        out.push(FPiece::Literal(s));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(s: &str) -> Vec<FPiece> {
        split_fstring(s, 0, s.len()).unwrap()
    }

    fn field_text<'a>(src: &'a str, p: &FPiece) -> &'a str {
        match p {
            FPiece::Field {
                expr_start,
                expr_end,
                ..
            } => &src[*expr_start..*expr_end],
            FPiece::Literal(_) => panic!("literal"),
        }
    }

    #[test]
    fn literal_and_fields() {
        let s = "f'a{x}b{y!r}c'";
        let p = split(s);
        assert_eq!(p.len(), 5);
        assert_eq!(p[0], FPiece::Literal("a".into()));
        assert_eq!(field_text(s, &p[1]), "x");
        assert!(matches!(
            p[3],
            FPiece::Field {
                conversion: Some('r'),
                ..
            }
        ));
        assert_eq!(p[4], FPiece::Literal("c".into()));
    }

    #[test]
    fn doubled_braces_and_escapes() {
        assert_eq!(split("f'{{x}}\\n'"), vec![FPiece::Literal("{x}\n".into())]);
        assert_eq!(split("rf'\\n{{'"), vec![FPiece::Literal("\\n{".into())]);
    }

    #[test]
    fn format_specs() {
        let s = "f'{x:>{width}.{p}f}'";
        let p = split(s);
        let FPiece::Field {
            spec: Some(spec), ..
        } = &p[0]
        else {
            panic!()
        };
        assert_eq!(spec[0], FPiece::Literal(">".into()));
        assert_eq!(field_text(s, &spec[1]), "width");
        assert_eq!(spec[2], FPiece::Literal(".".into()));
        assert_eq!(spec[4], FPiece::Literal("f".into()));
        let s = "f'{x:,}'";
        let FPiece::Field {
            spec: Some(spec), ..
        } = &split(s)[0]
        else {
            panic!()
        };
        assert_eq!(spec, &vec![FPiece::Literal(",".into())]);
    }

    #[test]
    fn nested_specs() {
        let s = "f'{v:{w:0}.{p:1}}'";
        let FPiece::Field {
            spec: Some(spec), ..
        } = &split(s)[0]
        else {
            panic!()
        };
        assert!(matches!(&spec[0], FPiece::Field { spec: Some(_), .. }));
        let e = split_fstring("f'{a:{b:{c}}}'", 0, 14).unwrap_err();
        assert_eq!(e.message, "f-string: expressions nested too deeply");
    }

    #[test]
    fn self_documenting() {
        let p = split("f'{x = }'");
        assert_eq!(p[0], FPiece::Literal("x = ".into()));
        assert!(matches!(
            p[1],
            FPiece::Field {
                conversion: Some('r'),
                ..
            }
        ));
        let p = split("f'{x=:>4}'");
        assert!(matches!(
            p[1],
            FPiece::Field {
                conversion: None,
                spec: Some(_),
                ..
            }
        ));
        let s = "f'{a == b}{a != b}{a <= b}'";
        let p = split(s);
        assert_eq!(field_text(s, &p[0]), "a == b");
        assert_eq!(field_text(s, &p[1]), "a != b");
        assert_eq!(field_text(s, &p[2]), "a <= b");
    }

    #[test]
    fn nested_strings_and_brackets() {
        let s = "f\"{d['k']}{ {'a': 1}['a'] }{f'{x}'}\"";
        let p = split(s);
        assert_eq!(field_text(s, &p[0]), "d['k']");
        assert_eq!(field_text(s, &p[1]), " {'a': 1}['a'] ");
        assert_eq!(field_text(s, &p[2]), "f'{x}'");
    }

    #[test]
    fn errors() {
        let e = |s: &str| split_fstring(s, 0, s.len()).unwrap_err().message;
        assert_eq!(e("f'{x'"), "f-string: expecting '}'");
        assert_eq!(e("f'}'"), "f-string: single '}' is not allowed");
        assert_eq!(e("f'{}'"), "f-string: empty expression not allowed");
        assert_eq!(
            e("f'{x!z}'"),
            "f-string: invalid conversion character 'z': expected 's', 'r', or 'a'"
        );
        assert_eq!(
            e("f'{a\\n}'"),
            "f-string expression part cannot include a backslash"
        );
    }
}
