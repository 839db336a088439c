//! Tab completion, the part that needs no interpreter: what is being completed at the cursor
//! (a bare name, or an attribute after a dotted chain of names such as `asyncio.sl`), the
//! keywords, and filtering and ordering of candidates. The names themselves (globals,
//! builtins, an object's attributes) come from the VM side through [`Names`].

/// Python's keywords, offered when completing a bare name.
pub const KEYWORDS: &[&str] = &[
    "False", "None", "True", "and", "as", "assert", "async", "await", "break", "class", "continue",
    "def", "del", "elif", "else", "except", "finally", "for", "from", "global", "if", "import",
    "in", "is", "lambda", "nonlocal", "not", "or", "pass", "raise", "return", "try", "while",
    "with", "yield",
];

/// The REPL's own commands, offered when a line starts with `:`.
pub const COMMANDS: &[&str] = &[
    ":help", ":tasks", ":where", ":cancel", ":load", ":reset", ":time",
];

/// What the cursor is completing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// Byte offset where the replaced word starts.
    pub start: usize,
    /// The dotted names before the last `.` (`["os", "path"]` for `os.path.jo`); empty for a
    /// bare name.
    pub object: Vec<String>,
    /// The part of the word typed so far.
    pub prefix: String,
}

/// Supplies the names a target can complete to (the VM side implements it).
pub trait Names {
    /// Globals and builtins for an empty `object`, else the attributes of the object the
    /// dotted names lead to (none if it cannot be found without running code).
    fn names(&self, object: &[String]) -> Vec<String>;
}

/// The target at byte `pos` of `line`, None inside a string or comment or after a character
/// that cannot precede a name.
pub fn target(line: &str, pos: usize) -> Option<Target> {
    let before = line.get(..pos)?;
    if inside_string_or_comment(before) {
        return None;
    }
    let start = before
        .char_indices()
        .rev()
        .take_while(|(_, c)| is_name_char(*c) || *c == '.')
        .last()
        .map_or(pos, |(i, _)| i);
    let word = &before[start..];
    if word.starts_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    let (object, prefix) = match word.rsplit_once('.') {
        Some((obj, prefix)) => {
            let parts: Vec<String> = obj.split('.').map(str::to_string).collect();
            if parts.iter().any(|p| p.is_empty() || !is_identifier(p)) {
                return None;
            }
            (parts, prefix)
        }
        None => (Vec::new(), word),
    };
    Some(Target {
        start: pos - prefix.len(),
        object,
        prefix: prefix.to_string(),
    })
}

/// The sorted, de-duplicated candidates for `target` from `names` (plus keywords for a bare
/// name). Names starting with `_` are offered only once the prefix starts with `_`.
pub fn candidates(target: &Target, names: Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = names;
    if target.object.is_empty() {
        out.extend(KEYWORDS.iter().map(|k| k.to_string()));
    }
    let private_ok = target.prefix.starts_with('_');
    out.retain(|n| n.starts_with(&target.prefix) && (private_ok || !n.starts_with('_')));
    out.sort_by(|a, b| a.to_lowercase().cmp(&b.to_lowercase()).then(a.cmp(b)));
    out.dedup();
    out
}

/// Completes the name of a REPL command (`:ta` -> `:tasks`).
pub fn commands(line: &str, pos: usize) -> Option<(usize, Vec<String>)> {
    let before = line.get(..pos)?;
    let typed = before.trim_start();
    if !typed.starts_with(':') || typed.contains(' ') {
        return None;
    }
    let start = pos - typed.len();
    let found = COMMANDS
        .iter()
        .filter(|c| c.starts_with(typed))
        .map(|c| c.to_string())
        .collect();
    Some((start, found))
}

fn is_name_char(c: char) -> bool {
    c == '_' || c.is_alphanumeric()
}

fn is_identifier(s: &str) -> bool {
    !s.starts_with(|c: char| c.is_ascii_digit()) && s.chars().all(is_name_char)
}

/// A rough scan of the text before the cursor: an odd quote count or a `#` outside quotes.
fn inside_string_or_comment(before: &str) -> bool {
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for c in before.chars() {
        match quote {
            Some(q) => {
                if escaped {
                    escaped = false;
                } else if c == '\\' {
                    escaped = true;
                } else if c == q {
                    quote = None;
                }
            }
            None if c == '#' => return true,
            None if c == '\'' || c == '"' => quote = Some(c),
            None => {}
        }
    }
    quote.is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(line: &str) -> Option<Target> {
        target(line, line.len())
    }

    #[test]
    fn finds_a_bare_name() {
        let got = t("x = pri").unwrap();
        assert_eq!(got.start, 4);
        assert!(got.object.is_empty());
        assert_eq!(got.prefix, "pri");
        assert_eq!(t("").unwrap().prefix, "");
    }

    #[test]
    fn finds_an_attribute_after_a_dotted_chain() {
        let got = t("await asyncio.sl").unwrap();
        assert_eq!(got.object, vec!["asyncio".to_string()]);
        assert_eq!(got.prefix, "sl");
        assert_eq!(got.start, "await asyncio.".len());
        let got = t("os.path.").unwrap();
        assert_eq!(got.object, vec!["os".to_string(), "path".to_string()]);
        assert_eq!(got.prefix, "");
    }

    #[test]
    fn nothing_inside_strings_comments_or_numbers() {
        assert_eq!(t("print('asy"), None);
        assert_eq!(t("x = 1  # pri"), None);
        assert_eq!(t("1.5"), None);
        assert_eq!(t("x..y"), None);
    }

    #[test]
    fn candidates_filter_sort_and_hide_private_names() {
        let target = t("pr").unwrap();
        let names = vec![
            "print".into(),
            "property".into(),
            "_private".into(),
            "x".into(),
        ];
        assert_eq!(
            candidates(&target, names.clone()),
            vec!["print", "property"]
        );
        let target = t("_").unwrap();
        assert_eq!(candidates(&target, names), vec!["_private"]);
    }

    #[test]
    fn keywords_complete_bare_names_only() {
        let target = t("awa").unwrap();
        assert_eq!(candidates(&target, vec![]), vec!["await"]);
        let target = t("x.awa").unwrap();
        assert!(candidates(&target, vec![]).is_empty());
    }

    #[test]
    fn commands_complete_after_a_colon() {
        assert_eq!(commands(":ta", 3), Some((0, vec![":tasks".to_string()])));
        assert_eq!(commands("x", 1), None);
        assert_eq!(commands(":time x", 7), None);
    }
}
