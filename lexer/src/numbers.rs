//! Numeric literals: scanning their extent (with CPython's error messages) and decoding their value.
//!
//! Integers may use `_` separators and `0x`/`0o`/`0b` prefixes in any case; values that do not fit
//! an `i64` decode to a `BigInt`. Floats: `1.`, `.5`, `1e10`, `1_000.5e-3`.

use num_bigint::BigInt;

use crate::token::Tok;

/// The value of an integer literal.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IntValue {
    Small(i64),
    Big(BigInt),
}

fn is_ident_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || (!c.is_ascii() && c.is_alphanumeric())
}

/// Scans `digit (_? digit)*` from `b[i..]` with the given digit predicate. Returns the end index;
/// `Err(end)` when a `_` is not followed by a digit.
fn digit_part(b: &[u8], mut i: usize, is_digit: impl Fn(u8) -> bool) -> Result<usize, usize> {
    if i >= b.len() || !is_digit(b[i]) {
        return Ok(i);
    }
    i += 1;
    loop {
        if i < b.len() && is_digit(b[i]) {
            i += 1;
        } else if i < b.len() && b[i] == b'_' {
            if i + 1 < b.len() && is_digit(b[i + 1]) {
                i += 2;
            } else {
                return Err(i + 1);
            }
        } else {
            return Ok(i);
        }
    }
}

/// Scans the numeric literal at the start of `s` (which starts with a digit or `.digit`).
/// Returns its length and kind (`Tok::Int` or `Tok::Float`), or an error message and the length of
/// the offending text.
pub fn scan_number(s: &str) -> Result<(usize, Tok), (String, usize)> {
    let b = s.as_bytes();
    let next_char = |i: usize| s.get(i..).and_then(|r| r.chars().next());
    if b.len() >= 2 && b[0] == b'0' && matches!(b[1], b'x' | b'X' | b'o' | b'O' | b'b' | b'B') {
        let (name, pred): (&str, fn(u8) -> bool) = match b[1] {
            b'x' | b'X' => ("hexadecimal", |c: u8| c.is_ascii_hexdigit()),
            b'o' | b'O' => ("octal", |c: u8| (b'0'..=b'7').contains(&c)),
            _ => ("binary", |c: u8| c == b'0' || c == b'1'),
        };
        let mut i = 2;
        if i < b.len() && b[i] == b'_' {
            i += 1;
        }
        let start_digits = i;
        let end = match digit_part(b, i, pred) {
            Ok(e) => e,
            Err(e) => return Err((format!("invalid {name} literal"), e)),
        };
        if end == start_digits {
            if let Some(c) = next_char(end) {
                if c.is_ascii_digit() {
                    return Err((format!("invalid digit '{c}' in {name} literal"), end + 1));
                }
            }
            return Err((format!("invalid {name} literal"), end.max(2)));
        }
        if let Some(c) = next_char(end) {
            if c.is_ascii_digit() {
                return Err((format!("invalid digit '{c}' in {name} literal"), end + 1));
            }
            if is_ident_char(c) {
                return Err((format!("invalid {name} literal"), end + c.len_utf8()));
            }
        }
        return Ok((end, Tok::Int));
    }
    let dec = |c: u8| c.is_ascii_digit();
    let bad = |e: usize| Err(("invalid decimal literal".to_string(), e));
    let mut i = match digit_part(b, 0, dec) {
        Ok(e) => e,
        Err(e) => return bad(e),
    };
    let int_end = i;
    let mut is_float = false;
    if i < b.len() && b[i] == b'.' {
        is_float = true;
        i = match digit_part(b, i + 1, dec) {
            Ok(e) => e,
            Err(e) => return bad(e),
        };
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        let mut j = i + 1;
        if j < b.len() && (b[j] == b'+' || b[j] == b'-') {
            j += 1;
        }
        if j < b.len() && b[j].is_ascii_digit() {
            is_float = true;
            i = match digit_part(b, j, dec) {
                Ok(e) => e,
                Err(e) => return bad(e),
            };
        } else {
            return bad(j.min(b.len()).max(i + 1));
        }
    }
    if let Some(c) = next_char(i) {
        if c == 'j' || c == 'J' {
            return Err((
                "imaginary (complex) literals are not supported".to_string(),
                i + 1,
            ));
        }
        if is_ident_char(c) {
            return bad(i + c.len_utf8());
        }
    }
    if !is_float
        && int_end > 1
        && b[0] == b'0'
        && b[..int_end].iter().any(|&c| c != b'0' && c != b'_')
    {
        return Err((
            "leading zeros in decimal integer literals are not permitted; use an 0o prefix for octal integers"
                .to_string(),
            int_end,
        ));
    }
    Ok((i, if is_float { Tok::Float } else { Tok::Int }))
}

/// Decodes an integer literal's text (as scanned by [`scan_number`]).
pub fn parse_int(text: &str) -> IntValue {
    let cleaned: String = text.chars().filter(|&c| c != '_').collect();
    let (radix, digits) = if cleaned.len() >= 2 && cleaned.as_bytes()[0] == b'0' {
        match cleaned.as_bytes()[1] {
            b'x' | b'X' => (16, &cleaned[2..]),
            b'o' | b'O' => (8, &cleaned[2..]),
            b'b' | b'B' => (2, &cleaned[2..]),
            _ => (10, &cleaned[..]),
        }
    } else {
        (10, &cleaned[..])
    };
    match i64::from_str_radix(digits, radix) {
        Ok(v) => IntValue::Small(v),
        Err(_) => match BigInt::parse_bytes(digits.as_bytes(), radix) {
            Some(b) => IntValue::Big(b),
            None => IntValue::Small(0),
        },
    }
}

/// Decodes a float literal's text (as scanned by [`scan_number`]).
pub fn parse_float(text: &str) -> f64 {
    let cleaned: String = text.chars().filter(|&c| c != '_').collect();
    cleaned.parse::<f64>().unwrap_or(f64::NAN)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(s: &str) -> (usize, Tok) {
        scan_number(s).unwrap()
    }

    #[test]
    fn scans_ints_and_floats() {
        assert_eq!(ok("123 "), (3, Tok::Int));
        assert_eq!(ok("1_000_000)"), (9, Tok::Int));
        assert_eq!(ok("0x_FF"), (5, Tok::Int));
        assert_eq!(ok("0O17"), (4, Tok::Int));
        assert_eq!(ok("0b1010"), (6, Tok::Int));
        assert_eq!(ok("000"), (3, Tok::Int));
        assert_eq!(ok("1."), (2, Tok::Float));
        assert_eq!(ok(".5"), (2, Tok::Float));
        assert_eq!(ok("1e10"), (4, Tok::Float));
        assert_eq!(ok("1_000.5e-3"), (10, Tok::Float));
        assert_eq!(ok("012.5"), (5, Tok::Float));
        assert_eq!(
            scan_number("1.__class__").unwrap_err().0,
            "invalid decimal literal"
        );
    }

    #[test]
    fn rejects_bad_numbers() {
        assert_eq!(
            scan_number("1abc").unwrap_err().0,
            "invalid decimal literal"
        );
        assert_eq!(scan_number("1_").unwrap_err().0, "invalid decimal literal");
        assert_eq!(
            scan_number("1__0").unwrap_err().0,
            "invalid decimal literal"
        );
        assert_eq!(
            scan_number("0x").unwrap_err().0,
            "invalid hexadecimal literal"
        );
        assert_eq!(
            scan_number("0o8").unwrap_err().0,
            "invalid digit '8' in octal literal"
        );
        assert_eq!(
            scan_number("0b12").unwrap_err().0,
            "invalid digit '2' in binary literal"
        );
        assert!(scan_number("012")
            .unwrap_err()
            .0
            .starts_with("leading zeros"));
        assert_eq!(scan_number("1e").unwrap_err().0, "invalid decimal literal");
    }

    #[test]
    fn decodes_values() {
        assert_eq!(parse_int("1_000"), IntValue::Small(1000));
        assert_eq!(parse_int("0xff"), IntValue::Small(255));
        assert_eq!(parse_int("0o777"), IntValue::Small(511));
        assert_eq!(parse_int("0B101"), IntValue::Small(5));
        assert_eq!(parse_int("9223372036854775807"), IntValue::Small(i64::MAX));
        assert_eq!(
            parse_int("9223372036854775808"),
            IntValue::Big("9223372036854775808".parse::<BigInt>().unwrap())
        );
        assert_eq!(parse_float("1."), 1.0);
        assert_eq!(parse_float(".5"), 0.5);
        assert_eq!(parse_float("1_000.5e-3"), 1.0005);
        assert_eq!(parse_float("1e10"), 1e10);
    }
}
