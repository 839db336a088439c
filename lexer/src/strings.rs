//! String and bytes literals: finding where a literal ends, splitting off its prefix and quotes,
//! and decoding escapes (`\n \t \\ \' \" \xhh \ooo \uXXXX \UXXXXXXXX`, line continuations;
//! unknown escapes are kept verbatim as Python does; `\N{...}` is kept verbatim, unsupported).

/// What a literal evaluates to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StrKind {
    Str,
    Bytes,
    FString,
}

/// The anatomy of one string literal token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StrInfo {
    pub kind: StrKind,
    pub raw: bool,
    /// Byte offsets (relative to the token start) of the text between the quotes.
    pub body_start: usize,
    pub body_end: usize,
    /// 1 or 3.
    pub quote_len: usize,
}

/// Why a string literal could not be scanned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScanError {
    /// Reached end of line (single-quoted) or end of input (triple-quoted); `at` is the offset
    /// where it was detected.
    Unterminated { triple: bool, at: usize },
}

/// A decoded literal value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decoded {
    Str(String),
    Bytes(Vec<u8>),
}

/// Splits `prefix` letters off a literal token's text. Returns `(kind, raw, prefix_len)`.
pub fn prefix_of(text: &str) -> (StrKind, bool, usize) {
    let mut kind = StrKind::Str;
    let mut raw = false;
    let mut n = 0;
    for c in text.chars() {
        match c {
            'r' | 'R' => raw = true,
            'b' | 'B' => kind = StrKind::Bytes,
            'f' | 'F' => kind = StrKind::FString,
            'u' | 'U' => {}
            _ => break,
        }
        n += 1;
    }
    (kind, raw, n)
}

/// Scans a literal starting at `s[0]` (prefix letters, then a quote). Returns its byte length.
pub fn scan_string(s: &str) -> Result<usize, ScanError> {
    let (_, _, p) = prefix_of(s);
    let b = s.as_bytes();
    let q = b[p];
    let triple = b.len() >= p + 3 && b[p + 1] == q && b[p + 2] == q;
    let qlen = if triple { 3 } else { 1 };
    let mut i = p + qlen;
    while i < b.len() {
        let c = b[i];
        if c == b'\\' {
            // An escaped character (including an escaped newline) never ends the literal.
            if i + 2 < b.len() && b[i + 1] == b'\r' && b[i + 2] == b'\n' {
                i += 3;
            } else {
                i += 2;
            }
            continue;
        }
        if c == q {
            if !triple {
                return Ok(i + 1);
            }
            if i + 2 < b.len() && b[i + 1] == q && b[i + 2] == q {
                return Ok(i + 3);
            }
        } else if !triple && (c == b'\n' || c == b'\r') {
            return Err(ScanError::Unterminated { triple, at: i });
        }
        i += 1;
    }
    Err(ScanError::Unterminated {
        triple,
        at: b.len(),
    })
}

/// Describes a complete literal token's text (as returned by [`scan_string`]).
pub fn info(text: &str) -> StrInfo {
    let (kind, raw, p) = prefix_of(text);
    let b = text.as_bytes();
    let q = b.get(p).copied().unwrap_or(b'"');
    let triple = b.len() >= p + 6 && b[p + 1] == q && b[p + 2] == q;
    let quote_len = if triple { 3 } else { 1 };
    let body_start = (p + quote_len).min(text.len());
    let body_end = text.len().saturating_sub(quote_len).max(body_start);
    StrInfo {
        kind,
        raw,
        body_start,
        body_end,
        quote_len,
    }
}

/// A decoding error: message and the byte range (relative to the body) it concerns.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecodeError {
    pub message: String,
    pub start: usize,
    pub end: usize,
}

fn push_newline_normalised(out: &mut String, body: &str) {
    let mut chars = body.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\r' {
            if chars.peek() == Some(&'\n') {
                chars.next();
            }
            out.push('\n');
        } else {
            out.push(c);
        }
    }
}

/// Decodes the body of a `str` literal (or an f-string literal segment).
pub fn decode_str(body: &str, raw: bool) -> Result<String, DecodeError> {
    let mut out = String::with_capacity(body.len());
    if raw || !body.contains('\\') {
        push_newline_normalised(&mut out, body);
        return Ok(out);
    }
    let b = body.as_bytes();
    let mut i = 0;
    let mut plain_start = 0;
    while i < b.len() {
        if b[i] != b'\\' {
            i += 1;
            continue;
        }
        push_newline_normalised(&mut out, &body[plain_start..i]);
        let esc_start = i;
        i += 1;
        let Some(c) = body[i..].chars().next() else {
            out.push('\\');
            plain_start = i;
            break;
        };
        i += c.len_utf8();
        match c {
            '\n' => {}
            '\r' => {
                if i < b.len() && b[i] == b'\n' {
                    i += 1;
                }
            }
            '\\' => out.push('\\'),
            '\'' => out.push('\''),
            '"' => out.push('"'),
            'a' => out.push('\x07'),
            'b' => out.push('\x08'),
            'f' => out.push('\x0c'),
            'n' => out.push('\n'),
            'r' => out.push('\r'),
            't' => out.push('\t'),
            'v' => out.push('\x0b'),
            '0'..='7' => {
                let mut v = c as u32 - '0' as u32;
                let mut n = 1;
                while n < 3 && i < b.len() && (b'0'..=b'7').contains(&b[i]) {
                    v = v * 8 + (b[i] - b'0') as u32;
                    i += 1;
                    n += 1;
                }
                out.push(char::from_u32(v).unwrap_or('\u{FFFD}'));
            }
            'x' | 'u' | 'U' => {
                let want = match c {
                    'x' => 2,
                    'u' => 4,
                    _ => 8,
                };
                let digits = &b[i..(i + want).min(b.len())];
                if digits.len() < want || !digits.iter().all(|d| d.is_ascii_hexdigit()) {
                    let name = match c {
                        'x' => "\\xXX",
                        'u' => "\\uXXXX",
                        _ => "\\UXXXXXXXX",
                    };
                    let valid = digits.iter().take_while(|d| d.is_ascii_hexdigit()).count();
                    return Err(DecodeError {
                        message: format!(
                            "(unicode error) 'unicodeescape' codec can't decode bytes in position {}-{}: truncated {} escape",
                            esc_start,
                            i + valid - 1,
                            name
                        ),
                        start: esc_start,
                        end: i + valid,
                    });
                }
                let v = u32::from_str_radix(std::str::from_utf8(digits).unwrap_or("0"), 16)
                    .unwrap_or(0);
                i += want;
                if v > 0x10FFFF {
                    return Err(DecodeError {
                        message: format!(
                            "(unicode error) 'unicodeescape' codec can't decode bytes in position {}-{}: illegal Unicode character",
                            esc_start,
                            i - 1
                        ),
                        start: esc_start,
                        end: i,
                    });
                }
                out.push(char::from_u32(v).unwrap_or('\u{FFFD}'));
            }
            other => {
                // Unknown escapes (and `\N{...}`) are kept verbatim.
                out.push('\\');
                out.push(other);
            }
        }
        plain_start = i;
    }
    if plain_start < b.len() {
        push_newline_normalised(&mut out, &body[plain_start..]);
    }
    Ok(out)
}

/// Decodes the body of a bytes literal.
pub fn decode_bytes(body: &str, raw: bool) -> Result<Vec<u8>, DecodeError> {
    if let Some(pos) = body.find(|c: char| !c.is_ascii()) {
        return Err(DecodeError {
            message: "bytes can only contain ASCII literal characters".into(),
            start: pos,
            end: pos + body[pos..].chars().next().map_or(1, char::len_utf8),
        });
    }
    let b = body.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c == b'\r' {
            out.push(b'\n');
            i += if b.get(i + 1) == Some(&b'\n') { 2 } else { 1 };
            continue;
        }
        if c != b'\\' || raw {
            out.push(c);
            i += 1;
            continue;
        }
        let esc_start = i;
        i += 1;
        let Some(&e) = b.get(i) else {
            out.push(b'\\');
            break;
        };
        i += 1;
        match e {
            b'\n' => {}
            b'\r' => {
                if b.get(i) == Some(&b'\n') {
                    i += 1;
                }
            }
            b'\\' => out.push(b'\\'),
            b'\'' => out.push(b'\''),
            b'"' => out.push(b'"'),
            b'a' => out.push(7),
            b'b' => out.push(8),
            b'f' => out.push(12),
            b'n' => out.push(b'\n'),
            b'r' => out.push(b'\r'),
            b't' => out.push(b'\t'),
            b'v' => out.push(11),
            b'0'..=b'7' => {
                let mut v = (e - b'0') as u32;
                let mut n = 1;
                while n < 3 && i < b.len() && (b'0'..=b'7').contains(&b[i]) {
                    v = v * 8 + (b[i] - b'0') as u32;
                    i += 1;
                    n += 1;
                }
                out.push((v & 0xFF) as u8);
            }
            b'x' => {
                let digits = &b[i..(i + 2).min(b.len())];
                if digits.len() < 2 || !digits.iter().all(|d| d.is_ascii_hexdigit()) {
                    return Err(DecodeError {
                        message: format!(
                            "(value error) invalid \\x escape at position {esc_start}"
                        ),
                        start: esc_start,
                        end: i,
                    });
                }
                out.push(
                    u8::from_str_radix(std::str::from_utf8(digits).unwrap_or("0"), 16).unwrap_or(0),
                );
                i += 2;
            }
            other => {
                out.push(b'\\');
                out.push(other);
            }
        }
    }
    Ok(out)
}

/// Decodes a whole plain (non-f) literal token's text into its value.
pub fn decode_literal(text: &str) -> Result<Decoded, DecodeError> {
    let inf = info(text);
    let body = &text[inf.body_start..inf.body_end];
    let shift = |e: DecodeError| DecodeError {
        start: e.start + inf.body_start,
        end: e.end + inf.body_start,
        ..e
    };
    match inf.kind {
        StrKind::Bytes => decode_bytes(body, inf.raw)
            .map(Decoded::Bytes)
            .map_err(shift),
        _ => decode_str(body, inf.raw).map(Decoded::Str).map_err(shift),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(text: &str) -> String {
        match decode_literal(text).unwrap() {
            Decoded::Str(s) => s,
            Decoded::Bytes(_) => panic!("bytes"),
        }
    }

    #[test]
    fn scans_literals() {
        assert_eq!(scan_string("'abc' + 1"), Ok(5));
        assert_eq!(scan_string(r#""a\"b" x"#), Ok(6));
        assert_eq!(scan_string("'''a\n'b'\n''' x"), Ok(12));
        assert_eq!(scan_string("rb'x' "), Ok(5));
        assert_eq!(scan_string("'a\\\nb'"), Ok(6));
        assert_eq!(
            scan_string("'abc\n'"),
            Err(ScanError::Unterminated {
                triple: false,
                at: 4
            })
        );
        assert_eq!(
            scan_string("\"\"\"abc"),
            Err(ScanError::Unterminated {
                triple: true,
                at: 6
            })
        );
        assert_eq!(scan_string("''"), Ok(2));
        assert_eq!(scan_string("''''''"), Ok(6));
    }

    #[test]
    fn decodes_escapes() {
        assert_eq!(s(r#"'a\nb\tc\\d\'e\"'"#), "a\nb\tc\\d'e\"");
        assert_eq!(s(r"'\x41\101\u00e9\U0001F600'"), "AAé😀");
        assert_eq!(s(r"'\d\w'"), "\\d\\w");
        assert_eq!(s(r"r'\n\d'"), "\\n\\d");
        assert_eq!(s("'a\\\nb'"), "ab");
        assert_eq!(s("'''a\r\nb'''"), "a\nb");
        assert_eq!(s(r"'\N{DASH}'"), "\\N{DASH}");
        assert_eq!(s("u'x'"), "x");
        assert!(decode_literal(r"'\x4'")
            .unwrap_err()
            .message
            .contains("truncated \\xXX escape"));
    }

    #[test]
    fn decodes_bytes() {
        assert_eq!(
            decode_literal(r"b'a\x00\n\\'").unwrap(),
            Decoded::Bytes(vec![b'a', 0, b'\n', b'\\'])
        );
        assert_eq!(
            decode_literal(r"rb'\n'").unwrap(),
            Decoded::Bytes(vec![b'\\', b'n'])
        );
        assert_eq!(
            decode_literal(r"BR'\n'").unwrap(),
            Decoded::Bytes(vec![b'\\', b'n'])
        );
        assert_eq!(
            decode_literal(r"b'\u1234'").unwrap(),
            Decoded::Bytes(br"\u1234".to_vec())
        );
        assert_eq!(
            decode_literal("b'é'").unwrap_err().message,
            "bytes can only contain ASCII literal characters"
        );
    }

    #[test]
    fn literal_info() {
        let i = info("rf'''x'''");
        assert_eq!(
            (i.kind, i.raw, i.body_start, i.body_end, i.quote_len),
            (StrKind::FString, true, 5, 6, 3)
        );
        let i = info("''");
        assert_eq!((i.body_start, i.body_end), (1, 1));
    }
}
