//! The sandbox: which outside resources scripts may touch. A VM with no sandbox (the `eddy`
//! command's default) may touch anything; an embedded VM starts with a sandbox that grants
//! nothing, and the host grants each capability — read or write under directories, connect to or
//! listen on `host:port` patterns, run programs, read environment variables — as Deno scopes its
//! permissions. The standard library calls `Vm::check_access` before it touches the resource;
//! a refusal is a `PermissionError` naming the capability and the refused target.

use std::path::{Component, Path, PathBuf};

use crate::{PyResult, Vm};

/// One kind of access a script may ask for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Capability {
    /// Read a file or directory (list it, stat it, open it for reading).
    Read,
    /// Create, change or delete a file or directory.
    Write,
    /// Open a network connection to `host:port`.
    Connect,
    /// Listen for connections on `host:port`.
    Listen,
    /// Start a program as a subprocess.
    Run,
    /// Read or change an environment variable.
    Env,
}

impl Capability {
    /// The name used in messages and in the `eddy` command's flags (`--allow-read`).
    pub fn name(self) -> &'static str {
        match self {
            Capability::Read => "read",
            Capability::Write => "write",
            Capability::Connect => "net",
            Capability::Listen => "net",
            Capability::Run => "run",
            Capability::Env => "env",
        }
    }
    fn what(self) -> &'static str {
        match self {
            Capability::Read => "read access to",
            Capability::Write => "write access to",
            Capability::Connect => "network access to",
            Capability::Listen => "permission to listen on",
            Capability::Run => "permission to run",
            Capability::Env => "access to environment variable",
        }
    }
}

/// How much of one capability is granted.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Grant {
    /// Nothing.
    #[default]
    Denied,
    /// Everything.
    All,
    /// Only these scopes: directories for read/write, `host:port` patterns for the network
    /// (`*` for any host or port, a bare host for any port), program names or paths for run,
    /// variable names for env (a trailing `*` matches a prefix).
    Only(Vec<String>),
}

impl Grant {
    /// Adds a scope (or everything, for `None`) to this grant.
    pub fn add(&mut self, scope: Option<&str>) {
        match (scope, &mut *self) {
            (_, Grant::All) => {}
            (None, _) => *self = Grant::All,
            (Some(s), Grant::Only(v)) => v.push(s.to_string()),
            (Some(s), Grant::Denied) => *self = Grant::Only(vec![s.to_string()]),
        }
    }
}

/// The capabilities granted to scripts of one VM.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Sandbox {
    /// Reading files and directories (scopes: directories).
    pub read: Grant,
    /// Creating, changing, deleting files and directories (scopes: directories).
    pub write: Grant,
    /// Opening connections (scopes: `host:port` patterns).
    pub connect: Grant,
    /// Listening for connections (scopes: `host:port` patterns).
    pub listen: Grant,
    /// Starting programs (scopes: program names or paths).
    pub run: Grant,
    /// Reading and setting environment variables (scopes: names, `PREFIX*`).
    pub env: Grant,
}

impl Sandbox {
    /// A sandbox that grants nothing.
    pub fn deny_all() -> Sandbox {
        Sandbox::default()
    }

    /// The grant for `cap`, to change it.
    pub fn grant_mut(&mut self, cap: Capability) -> &mut Grant {
        match cap {
            Capability::Read => &mut self.read,
            Capability::Write => &mut self.write,
            Capability::Connect => &mut self.connect,
            Capability::Listen => &mut self.listen,
            Capability::Run => &mut self.run,
            Capability::Env => &mut self.env,
        }
    }

    fn grant(&self, cap: Capability) -> &Grant {
        match cap {
            Capability::Read => &self.read,
            Capability::Write => &self.write,
            Capability::Connect => &self.connect,
            Capability::Listen => &self.listen,
            Capability::Run => &self.run,
            Capability::Env => &self.env,
        }
    }

    /// True if `cap` is granted for `target` (a path, `host:port`, a program, a variable).
    pub fn allows(&self, cap: Capability, target: &str) -> bool {
        match self.grant(cap) {
            Grant::Denied => false,
            Grant::All => true,
            Grant::Only(scopes) => scopes.iter().any(|s| scope_matches(cap, s, target)),
        }
    }
}

fn scope_matches(cap: Capability, scope: &str, target: &str) -> bool {
    match cap {
        Capability::Read | Capability::Write => path_within(target, scope),
        Capability::Connect | Capability::Listen => net_matches(scope, target),
        Capability::Run => {
            scope == target || Path::new(target).file_name().and_then(|f| f.to_str()) == Some(scope)
        }
        Capability::Env => match scope.strip_suffix('*') {
            Some(prefix) => target.starts_with(prefix),
            None => scope == target,
        },
    }
}

/// True if `target` is `dir` or inside it, after making both absolute and resolving `..` and
/// symbolic links (so `DIR/../secret` and a link out of DIR are outside).
pub fn path_within(target: &str, dir: &str) -> bool {
    let (t, d) = (resolve(Path::new(target)), resolve(Path::new(dir)));
    t.starts_with(&d)
}

/// An absolute path with `.` and `..` removed and existing prefixes resolved through links.
fn resolve(p: &Path) -> PathBuf {
    let abs = if p.is_absolute() {
        p.to_path_buf()
    } else {
        std::env::current_dir().unwrap_or_default().join(p)
    };
    let mut out = PathBuf::new();
    for c in abs.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    // The longest existing prefix is canonicalised (links resolved); the rest is appended.
    let mut existing = out.clone();
    let mut rest = Vec::new();
    while !existing.exists() {
        match existing.file_name() {
            Some(name) => rest.push(name.to_os_string()),
            None => break,
        }
        existing.pop();
    }
    let mut resolved = std::fs::canonicalize(&existing).unwrap_or(existing);
    for name in rest.into_iter().rev() {
        resolved.push(name);
    }
    resolved
}

/// `host:port` against a pattern: `*` matches any host or port, a pattern without a port
/// matches every port, and `localhost` also stands for the loopback addresses.
fn net_matches(pattern: &str, target: &str) -> bool {
    let (ph, pp) = split_host_port(pattern);
    let (th, tp) = split_host_port(target);
    let host_ok = ph == "*" || ph.eq_ignore_ascii_case(th) || (is_local(ph) && is_local(th));
    let port_ok = match pp {
        None | Some("*") => true,
        Some(p) => tp == Some(p),
    };
    host_ok && port_ok
}

fn is_local(h: &str) -> bool {
    matches!(h, "localhost" | "127.0.0.1" | "::1" | "[::1]")
}

fn split_host_port(s: &str) -> (&str, Option<&str>) {
    if let Some(rest) = s.strip_prefix('[') {
        // [v6]:port
        if let Some((h, p)) = rest.split_once("]:") {
            return (h, Some(p));
        }
        return (rest.trim_end_matches(']'), None);
    }
    match s.rsplit_once(':') {
        Some((h, p)) if !h.contains(':') => (h, Some(p)),
        _ => (s, None),
    }
}

impl Vm {
    /// Raises `PermissionError` unless scripts may use `cap` on `target`.
    pub fn check_access(&self, cap: Capability, target: &str) -> PyResult<()> {
        match &self.sandbox {
            None => Ok(()),
            Some(s) if s.allows(cap, target) => Ok(()),
            Some(_) => Err(self.error(
                "PermissionError",
                format!(
                    "{} '{target}' is not granted (sandbox capability '{}'; the host must allow it, e.g. eddy --allow-{}=...)",
                    cap.what(),
                    cap.name(),
                    cap.name()
                ),
            )),
        }
    }

    /// True when scripts may use `cap` on `target` (for filtering, e.g. `os.environ`).
    pub fn allows(&self, cap: Capability, target: &str) -> bool {
        self.sandbox.as_ref().is_none_or(|s| s.allows(cap, target))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_match_as_documented() {
        assert!(path_within("/tmp/a/b.txt", "/tmp/a"));
        assert!(!path_within("/tmp/a/../b.txt", "/tmp/a"));
        assert!(!path_within("/tmp/ab", "/tmp/a"));
        assert!(net_matches("example.com:443", "example.com:443"));
        assert!(!net_matches("example.com:443", "example.com:80"));
        assert!(net_matches("example.com", "example.com:80"));
        assert!(net_matches("*:8080", "10.0.0.1:8080"));
        assert!(net_matches("localhost:80", "127.0.0.1:80"));
        assert!(scope_matches(Capability::Run, "ls", "/bin/ls"));
        assert!(scope_matches(Capability::Env, "APP_*", "APP_KEY"));
        assert!(!scope_matches(Capability::Env, "APP_*", "HOME"));
    }
}
