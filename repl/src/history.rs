//! Where the REPL keeps its history: `$EDDY_HISTORY` if set (an empty value turns history off),
//! else `eddy/history` under the user's data directory (`$XDG_DATA_HOME`, or
//! `~/.local/share`; `~/Library/Application Support` on macOS).

use std::path::PathBuf;

/// The environment variable that overrides the history file.
pub const ENV: &str = "EDDY_HISTORY";

/// How many entries the file keeps.
pub const MAX_ENTRIES: usize = 2000;

/// The history file, or None when history is off or no home directory is known.
pub fn path() -> Option<PathBuf> {
    path_from(
        std::env::var_os(ENV),
        std::env::var_os("XDG_DATA_HOME"),
        std::env::var_os("HOME"),
    )
}

fn path_from(
    over: Option<std::ffi::OsString>,
    xdg: Option<std::ffi::OsString>,
    home: Option<std::ffi::OsString>,
) -> Option<PathBuf> {
    if let Some(p) = over {
        return (!p.is_empty()).then(|| PathBuf::from(p));
    }
    let data = match xdg.filter(|x| !x.is_empty()) {
        Some(x) => PathBuf::from(x),
        None => {
            let home = PathBuf::from(home.filter(|h| !h.is_empty())?);
            if cfg!(target_os = "macos") {
                home.join("Library/Application Support")
            } else {
                home.join(".local/share")
            }
        }
    };
    Some(data.join("eddy").join("history"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_variable_wins_and_empty_turns_history_off() {
        assert_eq!(
            path_from(Some("/tmp/h".into()), None, Some("/home/u".into())),
            Some(PathBuf::from("/tmp/h"))
        );
        assert_eq!(
            path_from(Some("".into()), None, Some("/home/u".into())),
            None
        );
    }

    #[test]
    fn data_directory_from_xdg_or_home() {
        assert_eq!(
            path_from(None, Some("/x".into()), Some("/home/u".into())),
            Some(PathBuf::from("/x/eddy/history"))
        );
        if !cfg!(target_os = "macos") {
            assert_eq!(
                path_from(None, None, Some("/home/u".into())),
                Some(PathBuf::from("/home/u/.local/share/eddy/history"))
            );
        }
        assert_eq!(path_from(None, None, None), None);
    }
}
