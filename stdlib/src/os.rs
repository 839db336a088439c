//! `os` and `os.path` (POSIX semantics, as CPython's posixpath): the environment as a dict
//! snapshot, the working directory, directory listing and simple file operations, process facts.
//! `os.path` is a module object inside `os`, so `import os.path` finds it too.

use std::rc::Rc;

use eddy_vm::objects::module::Module;
use eddy_vm::sandbox::Capability;
use eddy_vm::value::StrKey;
use eddy_vm::{ops, Args, PyResult, Value, Vm};

use crate::util::{self, arity, defs};

pub fn init(vm: &mut Vm) -> PyResult<Rc<Module>> {
    let m = Rc::new(Module::new("os"));
    let environ = vm.new_dict();
    for (k, v) in std::env::vars_os() {
        let (k, v) = (
            k.to_string_lossy().into_owned(),
            v.to_string_lossy().into_owned(),
        );
        // A sandboxed script sees only the variables it was granted.
        if !vm.allows(Capability::Env, &k) {
            continue;
        }
        ops::dict_set(vm, &environ, Value::string(k), Value::string(v))?;
    }
    m.set("environ", environ);
    if vm.sandbox.is_some() {
        sandboxed_environ(vm, &m)?;
    }
    m.set("name", Value::str("posix"));
    m.set("sep", Value::str("/"));
    m.set("altsep", Value::None);
    m.set("extsep", Value::str("."));
    m.set("pathsep", Value::str(":"));
    m.set("linesep", Value::str("\n"));
    m.set("curdir", Value::str("."));
    m.set("pardir", Value::str(".."));
    m.set("devnull", Value::str("/dev/null"));
    defs(
        vm,
        &m,
        &[
            ("getenv", getenv),
            ("putenv", |vm, a| {
                arity(vm, "putenv", &a, 2, 2)?;
                let k = util::to_str_arg(vm, &a.pos[0], "putenv() argument 1")?;
                let v = util::to_str_arg(vm, &a.pos[1], "putenv() argument 2")?;
                vm.check_access(Capability::Env, &k.s)?;
                std::env::set_var(&*k.s, &*v.s);
                Ok(Value::None)
            }),
            ("getcwd", |vm, _a| match std::env::current_dir() {
                Ok(p) => Ok(Value::string(p.display().to_string())),
                Err(e) => Err(os_error(vm, &e, None)),
            }),
            ("chdir", |vm, a| {
                arity(vm, "chdir", &a, 1, 1)?;
                let p = path_arg(vm, &a.pos[0])?;
                vm.check_access(Capability::Read, &p)?;
                std::env::set_current_dir(&p).map_err(|e| os_error(vm, &e, Some(&p)))?;
                Ok(Value::None)
            }),
            ("listdir", listdir),
            ("mkdir", |vm, a| {
                arity(vm, "mkdir", &a, 1, 2)?;
                let p = write_path(vm, &a.pos[0])?;
                std::fs::create_dir(&p).map_err(|e| os_error(vm, &e, Some(&p)))?;
                Ok(Value::None)
            }),
            ("makedirs", makedirs),
            ("remove", remove),
            ("unlink", remove),
            ("rmdir", |vm, a| {
                arity(vm, "rmdir", &a, 1, 1)?;
                let p = write_path(vm, &a.pos[0])?;
                std::fs::remove_dir(&p).map_err(|e| os_error(vm, &e, Some(&p)))?;
                Ok(Value::None)
            }),
            ("rename", |vm, a| {
                arity(vm, "rename", &a, 2, 2)?;
                let from = write_path(vm, &a.pos[0])?;
                let to = write_path(vm, &a.pos[1])?;
                std::fs::rename(&from, &to).map_err(|e| os_error(vm, &e, Some(&from)))?;
                Ok(Value::None)
            }),
            ("replace", |vm, a| {
                arity(vm, "replace", &a, 2, 2)?;
                let from = write_path(vm, &a.pos[0])?;
                let to = write_path(vm, &a.pos[1])?;
                std::fs::rename(&from, &to).map_err(|e| os_error(vm, &e, Some(&from)))?;
                Ok(Value::None)
            }),
            ("getpid", |_vm, _a| {
                Ok(Value::Int(std::process::id() as i64))
            }),
            ("getppid", |_vm, _a| {
                // SAFETY: getppid has no preconditions.
                Ok(Value::Int(unsafe { libc::getppid() } as i64))
            }),
            ("cpu_count", |_vm, _a| {
                Ok(std::thread::available_parallelism()
                    .map(|n| Value::Int(n.get() as i64))
                    .unwrap_or(Value::None))
            }),
            ("urandom", |vm, a| {
                arity(vm, "urandom", &a, 1, 1)?;
                let n = util::to_i64(vm, &a.pos[0])?;
                if n < 0 {
                    return Err(vm.value_error("negative argument not allowed"));
                }
                let mut out = vec![0u8; n as usize];
                crate::random::fill_entropy(&mut out);
                Ok(Value::Bytes(Rc::new(out)))
            }),
            ("fspath", |vm, a| {
                arity(vm, "fspath", &a, 1, 1)?;
                match &a.pos[0] {
                    v @ (Value::Str(_) | Value::Bytes(_)) => Ok(v.clone()),
                    v => Err(vm.type_error(format!(
                        "expected str, bytes or os.PathLike object, not {}",
                        vm.type_name(v)
                    ))),
                }
            }),
        ],
    );
    let path = path_module(vm);
    m.set("path", Value::Module(path));
    Ok(m)
}

/// An OSError subclass for an I/O error, with CPython's message and errno/strerror/filename.
fn os_error(vm: &Vm, e: &std::io::Error, filename: Option<&str>) -> Value {
    let errno = e.raw_os_error().unwrap_or(0);
    let class = match e.kind() {
        std::io::ErrorKind::NotFound => "FileNotFoundError",
        std::io::ErrorKind::AlreadyExists => "FileExistsError",
        std::io::ErrorKind::PermissionDenied => "PermissionError",
        _ => match errno {
            libc::ENOTDIR => "NotADirectoryError",
            libc::EISDIR => "IsADirectoryError",
            _ => "OSError",
        },
    };
    // SAFETY: strerror returns a pointer to a static NUL-terminated message for any errno.
    let strerror = unsafe { std::ffi::CStr::from_ptr(libc::strerror(errno)) }
        .to_string_lossy()
        .into_owned();
    let msg = match filename {
        Some(f) => format!("[Errno {errno}] {strerror}: {}", ops::str_repr(f)),
        None => format!("[Errno {errno}] {strerror}"),
    };
    let exc = vm.error(class, msg);
    if let Value::Instance(i) = &exc {
        let mut d = i.dict.borrow_mut();
        d.insert(StrKey(util::s("errno")), Value::Int(errno as i64));
        d.insert(StrKey(util::s("strerror")), Value::string(strerror));
        d.insert(
            StrKey(util::s("filename")),
            filename.map(Value::str).unwrap_or(Value::None),
        );
    }
    exc
}

/// A path argument: a str (bytes paths are not supported).
fn path_arg(vm: &Vm, v: &Value) -> PyResult<String> {
    match v {
        Value::Str(s) => Ok(s.s.to_string()),
        _ => Err(vm.type_error(format!(
            "expected str, bytes or os.PathLike object, not {}",
            vm.type_name(v)
        ))),
    }
}

/// In a sandbox, `os.environ[name]` for a variable the script was not granted raises
/// PermissionError rather than KeyError (the dict only holds the granted ones).
fn sandboxed_environ(vm: &mut Vm, m: &Rc<Module>) -> PyResult<()> {
    util::def(vm, m, "_check_env", |vm, a| {
        arity(vm, "_check_env", &a, 1, 1)?;
        if let Value::Str(k) = &a.pos[0] {
            vm.check_access(Capability::Env, &k.s)?;
        }
        Ok(Value::None)
    });
    const SRC: &str = "class _Environ(dict):\n    def __missing__(self, key):\n        _check_env(key)\n        raise KeyError(key)\nenviron = _Environ(environ)\n";
    eddy_vm::import::run_source_in(vm, m, "<os>", SRC)
}

fn getenv(vm: &mut Vm, mut a: Args) -> PyResult<Value> {
    let default = util::arg(&mut a, 1, "default").unwrap_or(Value::None);
    let Some(key) = a.take_kw("key").or_else(|| a.pos.first().cloned()) else {
        return Err(vm.type_error("getenv() missing 1 required positional argument: 'key'"));
    };
    let Value::Str(k) = &key else {
        return Err(vm.type_error(format!("str expected, not {}", vm.type_name(&key))));
    };
    vm.check_access(Capability::Env, &k.s)?;
    // Scripts that change os.environ expect getenv to see it, as in CPython.
    if let Some(Value::Module(os)) = vm.modules.get("os").cloned() {
        if let Some(env) = os.get("environ") {
            if let Some(v) = ops::dict_get(vm, &env, &key)? {
                return Ok(v);
            }
            return Ok(default);
        }
    }
    Ok(std::env::var(&*k.s).map(Value::string).unwrap_or(default))
}

fn listdir(vm: &mut Vm, a: Args) -> PyResult<Value> {
    arity(vm, "listdir", &a, 0, 1)?;
    let p = match a.pos.first() {
        None | Some(Value::None) => ".".to_string(),
        Some(v) => path_arg(vm, v)?,
    };
    vm.check_access(Capability::Read, &p)?;
    let rd = std::fs::read_dir(&p).map_err(|e| os_error(vm, &e, Some(&p)))?;
    let mut out = Vec::new();
    for entry in rd.flatten() {
        out.push(Value::string(
            entry.file_name().to_string_lossy().into_owned(),
        ));
    }
    Ok(Value::list(out))
}

fn makedirs(vm: &mut Vm, mut a: Args) -> PyResult<Value> {
    let exist_ok = match util::arg(&mut a, 2, "exist_ok") {
        Some(v) => ops::truthy(vm, &v)?,
        None => false,
    };
    let _mode = a.take_kw("mode");
    let Some(p) = a.pos.first() else {
        return Err(vm.type_error("makedirs() missing 1 required positional argument: 'name'"));
    };
    let p = write_path(vm, p)?;
    if std::path::Path::new(&p).is_dir() {
        if exist_ok {
            return Ok(Value::None);
        }
        let e = std::io::Error::from_raw_os_error(libc::EEXIST);
        return Err(os_error(vm, &e, Some(&p)));
    }
    std::fs::create_dir_all(&p).map_err(|e| os_error(vm, &e, Some(&p)))?;
    Ok(Value::None)
}

fn remove(vm: &mut Vm, a: Args) -> PyResult<Value> {
    arity(vm, "remove", &a, 1, 1)?;
    let p = write_path(vm, &a.pos[0])?;
    std::fs::remove_file(&p).map_err(|e| os_error(vm, &e, Some(&p)))?;
    Ok(Value::None)
}

// ---- os.path ----

fn path_module(vm: &Vm) -> Rc<Module> {
    let m = Rc::new(Module::new("posixpath"));
    m.set("sep", Value::str("/"));
    m.set("curdir", Value::str("."));
    m.set("pardir", Value::str(".."));
    m.set("extsep", Value::str("."));
    defs(
        vm,
        &m,
        &[
            ("join", join),
            ("split", |vm, a| {
                let p = one_path(vm, &a, "split")?;
                let (h, t) = split(&p);
                Ok(Value::tuple(vec![Value::string(h), Value::string(t)]))
            }),
            ("basename", |vm, a| {
                Ok(Value::string(split(&one_path(vm, &a, "basename")?).1))
            }),
            ("dirname", |vm, a| {
                Ok(Value::string(split(&one_path(vm, &a, "dirname")?).0))
            }),
            ("splitext", |vm, a| {
                let p = one_path(vm, &a, "splitext")?;
                let (root, ext) = splitext(&p);
                Ok(Value::tuple(vec![Value::string(root), Value::string(ext)]))
            }),
            ("exists", |vm, a| {
                Ok(Value::Bool(
                    std::path::Path::new(&read_path(vm, &a, "exists")?).exists(),
                ))
            }),
            ("lexists", |vm, a| {
                Ok(Value::Bool(
                    std::fs::symlink_metadata(read_path(vm, &a, "lexists")?).is_ok(),
                ))
            }),
            ("isfile", |vm, a| {
                Ok(Value::Bool(
                    std::path::Path::new(&read_path(vm, &a, "isfile")?).is_file(),
                ))
            }),
            ("isdir", |vm, a| {
                Ok(Value::Bool(
                    std::path::Path::new(&read_path(vm, &a, "isdir")?).is_dir(),
                ))
            }),
            ("islink", |vm, a| {
                Ok(Value::Bool(
                    std::fs::symlink_metadata(read_path(vm, &a, "islink")?)
                        .map(|m| m.file_type().is_symlink())
                        .unwrap_or(false),
                ))
            }),
            ("isabs", |vm, a| {
                Ok(Value::Bool(one_path(vm, &a, "isabs")?.starts_with('/')))
            }),
            ("normpath", |vm, a| {
                Ok(Value::string(normpath(&one_path(vm, &a, "normpath")?)))
            }),
            ("abspath", |vm, a| {
                let p = one_path(vm, &a, "abspath")?;
                Ok(Value::string(abspath(&p)))
            }),
            ("realpath", |vm, a| {
                let p = read_path(vm, &a, "realpath")?;
                Ok(Value::string(
                    std::fs::canonicalize(&p)
                        .map(|c| c.display().to_string())
                        .unwrap_or_else(|_| abspath(&p)),
                ))
            }),
            ("expanduser", |vm, a| {
                let p = one_path(vm, &a, "expanduser")?;
                if p == "~" || p.starts_with("~/") {
                    if let Ok(home) = std::env::var("HOME") {
                        let home = home.trim_end_matches('/');
                        return Ok(Value::string(format!(
                            "{}{}",
                            if home.is_empty() { "/" } else { home },
                            &p[1..]
                        )));
                    }
                }
                Ok(Value::string(p))
            }),
            ("getsize", |vm, a| {
                let p = read_path(vm, &a, "getsize")?;
                let md = std::fs::metadata(&p).map_err(|e| os_error(vm, &e, Some(&p)))?;
                Ok(Value::Int(md.len() as i64))
            }),
            ("getmtime", |vm, a| {
                let p = read_path(vm, &a, "getmtime")?;
                let md = std::fs::metadata(&p).map_err(|e| os_error(vm, &e, Some(&p)))?;
                let t = md
                    .modified()
                    .ok()
                    .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                    .map(|d| d.as_secs_f64())
                    .unwrap_or(0.0);
                Ok(Value::Float(t))
            }),
            ("relpath", relpath),
            ("commonprefix", |vm, a| {
                arity(vm, "commonprefix", &a, 1, 1)?;
                let items = ops::collect(vm, &a.pos[0])?;
                let mut strs = Vec::new();
                for i in &items {
                    strs.push(path_arg(vm, i)?);
                }
                let Some(first) = strs.iter().min().cloned() else {
                    return Ok(Value::str(""));
                };
                let last = strs.iter().max().cloned().unwrap_or_default();
                let n = first
                    .chars()
                    .zip(last.chars())
                    .take_while(|(x, y)| x == y)
                    .count();
                Ok(Value::string(first.chars().take(n).collect()))
            }),
        ],
    );
    m
}

/// `one_path`, for a function that looks at the file: the sandbox must grant reading it.
fn read_path(vm: &Vm, a: &Args, name: &str) -> PyResult<String> {
    let p = one_path(vm, a, name)?;
    vm.check_access(Capability::Read, &p)?;
    Ok(p)
}

/// A path argument the function will create, change or delete: the sandbox must grant writing.
fn write_path(vm: &Vm, v: &Value) -> PyResult<String> {
    let p = path_arg(vm, v)?;
    vm.check_access(Capability::Write, &p)?;
    Ok(p)
}

fn one_path(vm: &Vm, a: &Args, name: &str) -> PyResult<String> {
    if a.pos.len() != 1 {
        return Err(vm.type_error(format!(
            "{name}() takes exactly one argument ({} given)",
            a.pos.len()
        )));
    }
    path_arg(vm, &a.pos[0])
}

fn join(vm: &mut Vm, a: Args) -> PyResult<Value> {
    if a.pos.is_empty() {
        return Err(vm.type_error("join() missing 1 required positional argument: 'a'"));
    }
    let mut path = path_arg(vm, &a.pos[0])?;
    for v in &a.pos[1..] {
        let b = path_arg(vm, v)?;
        if b.starts_with('/') {
            path = b;
        } else if path.is_empty() || path.ends_with('/') {
            path.push_str(&b);
        } else {
            path.push('/');
            path.push_str(&b);
        }
    }
    Ok(Value::string(path))
}

fn split(p: &str) -> (String, String) {
    let i = p.rfind('/').map(|i| i + 1).unwrap_or(0);
    let (head, tail) = (&p[..i], &p[i..]);
    let head = if !head.is_empty() && head.chars().any(|c| c != '/') {
        head.trim_end_matches('/')
    } else {
        head
    };
    (head.to_string(), tail.to_string())
}

fn splitext(p: &str) -> (String, String) {
    let sep = p.rfind('/').map(|i| i as i64).unwrap_or(-1);
    let Some(dot) = p.rfind('.') else {
        return (p.to_string(), String::new());
    };
    if dot as i64 > sep {
        // A leading run of dots in the file name (".bashrc") is not an extension.
        let start = (sep + 1) as usize;
        if p[start..dot].bytes().any(|b| b != b'.') {
            return (p[..dot].to_string(), p[dot..].to_string());
        }
    }
    (p.to_string(), String::new())
}

fn normpath(p: &str) -> String {
    if p.is_empty() {
        return ".".into();
    }
    let mut initial = if p.starts_with('/') { 1 } else { 0 };
    if p.starts_with("//") && !p.starts_with("///") {
        initial = 2;
    }
    let mut comps: Vec<&str> = Vec::new();
    for comp in p.split('/') {
        if comp.is_empty() || comp == "." {
            continue;
        }
        if comp != ".." || (initial == 0 && comps.is_empty()) || comps.last() == Some(&"..") {
            comps.push(comp);
        } else if !comps.is_empty() {
            comps.pop();
        }
    }
    let out = format!("{}{}", "/".repeat(initial), comps.join("/"));
    if out.is_empty() {
        ".".into()
    } else {
        out
    }
}

fn abspath(p: &str) -> String {
    if p.starts_with('/') {
        return normpath(p);
    }
    let cwd = std::env::current_dir()
        .map(|c| c.display().to_string())
        .unwrap_or_else(|_| "/".into());
    normpath(&format!("{cwd}/{p}"))
}

fn relpath(vm: &mut Vm, a: Args) -> PyResult<Value> {
    arity(vm, "relpath", &a, 1, 2)?;
    let p = path_arg(vm, &a.pos[0])?;
    if p.is_empty() {
        return Err(vm.value_error("no path specified"));
    }
    let start = match a.pos.get(1) {
        None | Some(Value::None) => ".".to_string(),
        Some(v) => path_arg(vm, v)?,
    };
    let target = abspath(&p);
    let base = abspath(&start);
    let t: Vec<&str> = target.split('/').filter(|c| !c.is_empty()).collect();
    let b: Vec<&str> = base.split('/').filter(|c| !c.is_empty()).collect();
    let common = t.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let mut parts: Vec<&str> = vec![".."; b.len() - common];
    parts.extend(&t[common..]);
    Ok(Value::string(if parts.is_empty() {
        ".".into()
    } else {
        parts.join("/")
    }))
}
