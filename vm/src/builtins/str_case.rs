//! Character classes and case mappings of `str` with CPython's definitions: the `is*`
//! predicates, `capitalize`, `title`, `swapcase`, `casefold`. Upper/lower use Rust's full
//! Unicode mappings (SpecialCasing and final sigma), which are the ones CPython uses; the
//! tables Rust's std lacks (general categories, title case, case folding) are generated in
//! `unicode_data.rs`. Methods that search or slice strings live in `str_methods.rs`.

use super::unicode_data as ud;

/// `str.isspace` for one character: Unicode White_Space plus the ASCII separators \x1c-\x1f.
pub fn is_space(c: char) -> bool {
    c.is_whitespace() || ('\x1c'..='\x1f').contains(&c)
}

/// Line boundaries as `str.splitlines` sees them (`\r\n` is handled by the caller).
pub fn is_linebreak(c: char) -> bool {
    matches!(
        c,
        '\n' | '\r'
            | '\x0b'
            | '\x0c'
            | '\x1c'
            | '\x1d'
            | '\x1e'
            | '\u{85}'
            | '\u{2028}'
            | '\u{2029}'
    )
}

pub fn is_alpha(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_alphabetic();
    }
    ud::in_table(ud::ALPHA, c)
}

pub fn is_decimal(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_digit();
    }
    ud::in_table(ud::DECIMAL, c)
}

/// The value of a decimal digit character of any script (`int('٣')` is 3).
pub fn decimal_value(c: char) -> Option<u32> {
    if c.is_ascii_digit() {
        return Some(c as u32 - '0' as u32);
    }
    if !ud::in_table(ud::DECIMAL, c) {
        return None;
    }
    // Every Nd range is a run of ten digits starting at zero.
    let n = c as u32;
    let i = ud::DECIMAL.partition_point(|&(_, hi)| hi < n);
    let (lo, _) = ud::DECIMAL.get(i)?;
    Some((n - lo) % 10)
}

pub fn is_digit(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_digit();
    }
    ud::in_table(ud::DIGIT, c)
}

pub fn is_numeric(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_digit();
    }
    ud::in_table(ud::NUMERIC, c)
}

pub fn is_alnum(c: char) -> bool {
    is_alpha(c) || is_decimal(c) || is_digit(c) || is_numeric(c)
}

pub fn is_printable(c: char) -> bool {
    if c.is_ascii() {
        return (' '..='~').contains(&c);
    }
    ud::in_table(ud::PRINTABLE, c)
}

/// Title-case letters (category Lt): neither upper nor lower case, but cased.
fn is_titlecase(c: char) -> bool {
    matches!(c as u32, 0x1c5 | 0x1c8 | 0x1cb | 0x1f2 | 0x1f88..=0x1f8f | 0x1f98..=0x1f9f | 0x1fa8..=0x1faf | 0x1fbc | 0x1fcc | 0x1ffc)
}

pub fn is_cased(c: char) -> bool {
    c.is_lowercase() || c.is_uppercase() || is_titlecase(c)
}

/// Characters that `title()` and the final-sigma rule skip over when looking for a cased
/// neighbour (Case_Ignorable, approximated: apostrophes, periods, colons, marks, modifiers).
fn is_case_ignorable(c: char) -> bool {
    matches!(
        c,
        '\'' | '.'
            | ':'
            | '^'
            | '`'
            | '\u{a8}'
            | '\u{ad}'
            | '\u{af}'
            | '\u{b4}'
            | '\u{b7}'
            | '\u{b8}'
            | '\u{2019}'
    ) || matches!(c as u32, 0x300..=0x36f | 0x2b0..=0x2ff | 0x200b..=0x200f)
}

pub fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) if c == '_' || ud::in_table(ud::XID_START, c) => {}
        _ => return false,
    }
    chars.all(|c| ud::in_table(ud::XID_CONTINUE, c))
}

pub fn is_upper(s: &str) -> bool {
    let mut cased = false;
    for c in s.chars() {
        if c.is_lowercase() || is_titlecase(c) {
            return false;
        }
        cased |= c.is_uppercase();
    }
    cased
}

pub fn is_lower(s: &str) -> bool {
    let mut cased = false;
    for c in s.chars() {
        if c.is_uppercase() || is_titlecase(c) {
            return false;
        }
        cased |= c.is_lowercase();
    }
    cased
}

/// `istitle`: upper/title-case letters only after uncased ones, lower-case only after cased.
pub fn is_title(s: &str) -> bool {
    let (mut cased, mut prev_cased) = (false, false);
    for c in s.chars() {
        if c.is_uppercase() || is_titlecase(c) {
            if prev_cased {
                return false;
            }
            prev_cased = true;
            cased = true;
        } else if c.is_lowercase() {
            if !prev_cased {
                return false;
            }
            prev_cased = true;
            cased = true;
        } else {
            prev_cased = false;
        }
    }
    cased
}

/// Title case of one character (`ǆ` -> `ǅ`, `ß` -> `Ss`).
fn push_title(out: &mut String, c: char) {
    match ud::lookup(ud::TITLECASE, c) {
        Some(t) => out.push_str(t),
        None => out.extend(c.to_uppercase()),
    }
}

/// Lower case of `chars[i]` in context: a capital sigma at the end of a word becomes `ς`.
fn push_lower(out: &mut String, chars: &[char], i: usize) {
    let c = chars[i];
    if c != 'Σ' {
        out.extend(c.to_lowercase());
        return;
    }
    let before = chars[..i]
        .iter()
        .rev()
        .find(|c| !is_case_ignorable(**c))
        .is_some_and(|c| is_cased(*c));
    let after = chars[i + 1..]
        .iter()
        .find(|c| !is_case_ignorable(**c))
        .is_some_and(|c| is_cased(*c));
    out.push(if before && !after { 'ς' } else { 'σ' });
}

pub fn capitalize(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len());
    for i in 0..chars.len() {
        if i == 0 {
            push_title(&mut out, chars[0]);
        } else {
            push_lower(&mut out, &chars, i);
        }
    }
    out
}

pub fn title(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len());
    let mut prev_cased = false;
    for i in 0..chars.len() {
        let c = chars[i];
        if prev_cased {
            push_lower(&mut out, &chars, i);
        } else {
            push_title(&mut out, c);
        }
        prev_cased = is_cased(c);
    }
    out
}

pub fn swapcase(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len());
    for (i, &c) in chars.iter().enumerate() {
        if c.is_uppercase() {
            push_lower(&mut out, &chars, i);
        } else if c.is_lowercase() {
            out.extend(c.to_uppercase());
        } else {
            out.push(c);
        }
    }
    out
}

pub fn casefold(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match ud::lookup(ud::CASEFOLD, c) {
            Some(t) => out.push_str(t),
            None => out.extend(c.to_lowercase()),
        }
    }
    out
}
