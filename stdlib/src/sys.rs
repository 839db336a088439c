//! `sys`: argv, exit, the standard streams (file-like objects writing through the VM's output
//! sink), recursion limit, version and platform facts, `modules` (a snapshot of the import cache),
//! exc_info and getsizeof.

use std::io::BufRead;
use std::rc::Rc;

use eddy_vm::objects::class::Class;
use eddy_vm::objects::module::Module;
use eddy_vm::{ops, Args, PyResult, Value, Vm};

use crate::native_state;
use crate::util::{self, arity, def, defs};

pub fn init(vm: &mut Vm) -> PyResult<Rc<Module>> {
    let m = Rc::new(Module::new("sys"));
    m.set(
        "argv",
        Value::list(vm.argv.iter().map(|a| Value::str(a)).collect()),
    );
    m.set(
        "orig_argv",
        Value::list(
            std::iter::once("eddy".to_string())
                .chain(vm.argv.iter().cloned())
                .map(Value::string)
                .collect(),
        ),
    );
    defs(
        vm,
        &m,
        &[
            ("exit", exit),
            ("getrecursionlimit", |vm, _a| {
                Ok(Value::Int(vm.recursion_limit as i64))
            }),
            ("setrecursionlimit", setrecursionlimit),
            ("getswitchinterval", |_vm, _a| {
                Ok(Value::Float(
                    crate::threading::sched::switch_interval().as_secs_f64(),
                ))
            }),
            ("setswitchinterval", |vm, a| {
                arity(vm, "setswitchinterval", &a, 1, 1)?;
                let secs = crate::util::to_float(vm, &a.pos[0])?;
                if secs <= 0.0 || secs.is_nan() {
                    return Err(vm.value_error("switch interval must be strictly positive"));
                }
                crate::threading::sched::set_switch_interval(std::time::Duration::from_secs_f64(
                    secs.min(1e9),
                ));
                Ok(Value::None)
            }),
            ("exc_info", exc_info),
            ("exception", |vm, _a| Ok(vm.handled.clone())),
            ("getsizeof", getsizeof),
            ("intern", |vm, a| {
                arity(vm, "intern", &a, 1, 1)?;
                match &a.pos[0] {
                    Value::Str(_) => Ok(a.pos[0].clone()),
                    v => Err(vm.type_error(format!(
                        "intern() argument 1 must be str, not {}",
                        vm.type_name(v)
                    ))),
                }
            }),
            ("getdefaultencoding", |_vm, _a| Ok(Value::str("utf-8"))),
            ("getfilesystemencoding", |_vm, _a| Ok(Value::str("utf-8"))),
            ("getrefcount", |_vm, a| {
                Ok(Value::Int(refcount(a.pos.first()) as i64))
            }),
            ("get_int_max_str_digits", |_vm, _a| Ok(Value::Int(4300))),
            ("set_int_max_str_digits", |_vm, _a| Ok(Value::None)),
            ("is_finalizing", |_vm, _a| Ok(Value::Bool(false))),
            ("_eddy_stats", eddy_stats),
        ],
    );
    m.set("maxsize", Value::Int(i64::MAX));
    m.set("maxunicode", Value::Int(0x10ffff));
    m.set("platform", Value::str("linux"));
    m.set(
        "byteorder",
        Value::str(if cfg!(target_endian = "little") {
            "little"
        } else {
            "big"
        }),
    );
    m.set("version", Value::str("3.11.7 (eddy)"));
    m.set("hexversion", Value::Int(0x030b07f0));
    m.set("api_version", Value::Int(1013));
    m.set(
        "executable",
        Value::string(
            std::env::current_exe()
                .map(|p| p.display().to_string())
                .unwrap_or_default(),
        ),
    );
    m.set("prefix", Value::str("/usr/local"));
    m.set("exec_prefix", Value::str("/usr/local"));
    m.set("float_repr_style", Value::str("short"));
    m.set("dont_write_bytecode", Value::Bool(true));
    m.set("copyright", Value::str("Copyright (c) the Eddy authors."));
    let vi_cls = util::struct_seq_class(vm, "version_info", "sys");
    let version_info = util::struct_seq(
        &vi_cls,
        &[
            ("major", Value::Int(3)),
            ("minor", Value::Int(11)),
            ("micro", Value::Int(7)),
            ("releaselevel", Value::str("final")),
            ("serial", Value::Int(0)),
        ],
        &[],
    );
    m.set("version_info", version_info.clone());
    let fi_cls = util::struct_seq_class(vm, "float_info", "sys");
    m.set(
        "float_info",
        util::struct_seq(
            &fi_cls,
            &[
                ("max", Value::Float(f64::MAX)),
                ("max_exp", Value::Int(1024)),
                ("max_10_exp", Value::Int(308)),
                ("min", Value::Float(f64::MIN_POSITIVE)),
                ("min_exp", Value::Int(-1021)),
                ("min_10_exp", Value::Int(-307)),
                ("dig", Value::Int(15)),
                ("mant_dig", Value::Int(53)),
                ("epsilon", Value::Float(f64::EPSILON)),
                ("radix", Value::Int(2)),
                ("rounds", Value::Int(1)),
            ],
            &[],
        ),
    );
    let ii_cls = util::struct_seq_class(vm, "int_info", "sys");
    m.set(
        "int_info",
        util::struct_seq(
            &ii_cls,
            &[
                ("bits_per_digit", Value::Int(30)),
                ("sizeof_digit", Value::Int(4)),
                ("default_max_str_digits", Value::Int(4300)),
                ("str_digits_check_threshold", Value::Int(640)),
            ],
            &[],
        ),
    );
    let implementation = crate::types::new_namespace(
        vm,
        vec![
            ("name", Value::str("eddy")),
            ("cache_tag", Value::None),
            ("version", version_info),
            ("hexversion", Value::Int(0x030b07f0)),
        ],
    )?;
    m.set("implementation", implementation);
    m.set(
        "path",
        Value::list(
            vm.search_path
                .iter()
                .map(|p| Value::string(p.display().to_string()))
                .collect(),
        ),
    );
    m.set("modules", modules_snapshot(vm, &m)?);
    let stream = stream_class(vm);
    let stdout = util::new_native(
        &stream,
        Stream {
            kind: StreamKind::Stdout,
        },
    );
    let stderr = util::new_native(
        &stream,
        Stream {
            kind: StreamKind::Stderr,
        },
    );
    let stdin = util::new_native(
        &stream,
        Stream {
            kind: StreamKind::Stdin,
        },
    );
    vm.default_stdout = stdout.clone();
    for (name, v) in [("stdout", &stdout), ("stderr", &stderr), ("stdin", &stdin)] {
        if let Value::Instance(i) = v {
            let mut d = i.dict.borrow_mut();
            let mode = if name == "stdin" { "r" } else { "w" };
            for (k, val) in [
                ("name", Value::string(format!("<{name}>"))),
                ("encoding", Value::str("utf-8")),
                ("errors", Value::str("strict")),
                ("mode", Value::str(mode)),
                ("closed", Value::Bool(false)),
            ] {
                d.insert(eddy_vm::value::StrKey(util::s(k)), val);
            }
        }
        m.set(name, v.clone());
        m.set(&format!("__{name}__"), v.clone());
    }
    let flags = util::struct_seq_class(vm, "flags", "sys");
    m.set(
        "flags",
        util::struct_seq(
            &flags,
            &[
                ("debug", Value::Int(0)),
                ("optimize", Value::Int(0)),
                ("dont_write_bytecode", Value::Int(1)),
                ("verbose", Value::Int(0)),
                ("dev_mode", Value::Bool(false)),
                ("utf8_mode", Value::Int(1)),
            ],
            &[],
        ),
    );
    def(vm, &m, "_getframe", |vm, _a| {
        Err(vm.error(
            "NotImplementedError",
            "sys._getframe is not supported by eddy",
        ))
    });
    Ok(m)
}

fn exit(vm: &mut Vm, a: Args) -> PyResult<Value> {
    arity(vm, "exit", &a, 0, 1)?;
    let cls = vm.exc_class("SystemExit");
    Err(vm.new_exception(&cls, a.pos))
}

fn setrecursionlimit(vm: &mut Vm, a: Args) -> PyResult<Value> {
    arity(vm, "setrecursionlimit", &a, 1, 1)?;
    if let Value::Float(_) = a.pos[0] {
        return Err(vm.type_error("'float' object cannot be interpreted as an integer"));
    }
    let n = util::to_i64(vm, &a.pos[0])?;
    if n < 1 {
        return Err(vm.value_error("recursion limit must be greater or equal than 1"));
    }
    vm.recursion_limit = n.min(i32::MAX as i64) as usize;
    Ok(Value::None)
}

fn exc_info(vm: &mut Vm, _a: Args) -> PyResult<Value> {
    let e = vm.handled.clone();
    if e.is_none() {
        return Ok(Value::tuple(vec![Value::None, Value::None, Value::None]));
    }
    let cls = Value::Class(vm.type_of(&e));
    Ok(Value::tuple(vec![cls, e, Value::None]))
}

/// The import cache as a dict, modules in a stable order (sys and builtins first, as CPython).
fn modules_snapshot(vm: &mut Vm, sys: &Rc<Module>) -> PyResult<Value> {
    let d = vm.new_dict();
    let mut names: Vec<String> = vm.modules.keys().cloned().collect();
    names.sort();
    names.sort_by_key(|n| match n.as_str() {
        "sys" => 0,
        "builtins" => 1,
        _ => 2,
    });
    if !names.iter().any(|n| n == "sys") {
        names.insert(0, "sys".into());
    }
    for n in names {
        if n == "sys" {
            ops::dict_set(vm, &d, Value::string(n), Value::Module(sys.clone()))?;
        } else if let Some(v) = vm.modules.get(&n).cloned() {
            ops::dict_set(vm, &d, Value::string(n), v)?;
        }
    }
    Ok(d)
}

fn refcount(v: Option<&Value>) -> usize {
    match v {
        Some(Value::List(l)) => Rc::strong_count(l) + 1,
        Some(Value::Dict(d)) => Rc::strong_count(d) + 1,
        Some(Value::Instance(i)) => Rc::strong_count(i) + 1,
        Some(Value::Str(s)) => Rc::strong_count(s) + 1,
        _ => 2,
    }
}

/// Rough `sys.getsizeof`, using CPython's sizes on 64-bit Linux for the common types.
fn getsizeof(vm: &mut Vm, a: Args) -> PyResult<Value> {
    arity(vm, "getsizeof", &a, 1, 2)?;
    let n = match &a.pos[0] {
        Value::None => 16,
        Value::Bool(b) => 24 + *b as i64 * 4,
        Value::Int(0) => 24,
        Value::Int(i) => 24 + 4 * ((64 - i.unsigned_abs().leading_zeros() as i64 + 29) / 30),
        Value::BigInt(b) => 24 + 4 * ((b.bits() as i64 + 29) / 30),
        Value::Float(_) => 24,
        Value::Str(st) => {
            if st.is_ascii() {
                49 + st.s.len() as i64
            } else {
                let max = st.s.chars().map(|c| c as u32).max().unwrap_or(0);
                let width = if max < 256 {
                    1
                } else if max < 65536 {
                    2
                } else {
                    4
                };
                let head = if max < 256 { 73 } else { 74 };
                head + width * st.char_len() as i64 + width
            }
        }
        Value::Bytes(b) => 33 + b.len() as i64,
        Value::List(l) => 56 + 8 * l.borrow().capacity().max(l.borrow().len()) as i64,
        Value::Tuple(t) => 40 + 8 * t.len() as i64,
        Value::Dict(d) => {
            let n = d.borrow().len();
            if n == 0 {
                64
            } else {
                let slots = (n * 3 / 2).next_power_of_two().max(8);
                64 + slots as i64 * 8 + ((slots * 2 / 3) as i64 * 24)
            }
        }
        Value::Set(d) | Value::FrozenSet(d) => {
            let n = d.borrow().len();
            216 + if n > 5 {
                ((n * 5 / 3).next_power_of_two() as i64) * 16
            } else {
                0
            }
        }
        Value::Range(_) => 48,
        Value::Function(_) => 152,
        Value::Class(_) => 1072,
        Value::Module(_) => 72,
        Value::Generator(_) => 208,
        _ => 56,
    };
    Ok(Value::Int(n))
}

// ---- standard streams ----

#[derive(Clone, Copy, PartialEq)]
enum StreamKind {
    Stdout,
    Stderr,
    Stdin,
}

struct Stream {
    kind: StreamKind,
}

native_state!(Stream, |_s, _f| {}, |_c, _out| {});

fn stream_class(vm: &Vm) -> Rc<Class> {
    util::shared_class(vm, "TextIOWrapper", |vm| {
        let cls = util::plain_class("TextIOWrapper", "_io", vm.types.object.clone());
        util::methods(
            vm,
            &cls,
            &[
                ("write", stream_write),
                ("writelines", stream_writelines),
                ("flush", |vm, _a| {
                    vm.flush();
                    Ok(Value::None)
                }),
                ("readline", stream_readline),
                ("read", stream_read),
                ("readlines", stream_readlines),
                ("__iter__", util::iter_self),
                ("__next__", |vm, a| {
                    let line = stream_readline(vm, a)?;
                    if line.as_str() == Some("") {
                        return Err(util::stop(vm));
                    }
                    Ok(line)
                }),
                ("isatty", |_vm, _a| Ok(Value::Bool(false))),
                ("readable", |vm, a| {
                    Ok(Value::Bool(kind(vm, &a)? == StreamKind::Stdin))
                }),
                ("writable", |vm, a| {
                    Ok(Value::Bool(kind(vm, &a)? != StreamKind::Stdin))
                }),
                ("fileno", |vm, a| {
                    Ok(Value::Int(match kind(vm, &a)? {
                        StreamKind::Stdin => 0,
                        StreamKind::Stdout => 1,
                        StreamKind::Stderr => 2,
                    }))
                }),
                ("close", |_vm, _a| Ok(Value::None)),
                ("__enter__", util::iter_self),
                ("__exit__", |_vm, _a| Ok(Value::None)),
                ("__repr__", |vm, a| {
                    let name = stream_name(kind(vm, &a)?);
                    let mode = if kind(vm, &a)? == StreamKind::Stdin {
                        "r"
                    } else {
                        "w"
                    };
                    Ok(Value::string(format!(
                        "<_io.TextIOWrapper name='{name}' mode='{mode}' encoding='utf-8'>"
                    )))
                }),
            ],
        );
        cls
    })
}

fn stream_name(k: StreamKind) -> &'static str {
    match k {
        StreamKind::Stdin => "<stdin>",
        StreamKind::Stdout => "<stdout>",
        StreamKind::Stderr => "<stderr>",
    }
}

fn kind(vm: &Vm, a: &Args) -> PyResult<StreamKind> {
    util::state(vm, &a.pos[0], "_io.TextIOWrapper", |st: &mut Stream| {
        st.kind
    })
}

fn stream_write(vm: &mut Vm, a: Args) -> PyResult<Value> {
    let k = kind(vm, &a)?;
    if a.pos.len() != 2 {
        return Err(vm.type_error(format!(
            "TextIOWrapper.write() takes exactly one argument ({} given)",
            a.pos.len() - 1
        )));
    }
    let Value::Str(text) = &a.pos[1] else {
        return Err(vm.type_error(format!(
            "write() argument must be str, not {}",
            vm.type_name(&a.pos[1])
        )));
    };
    match k {
        StreamKind::Stdout => vm.write_stdout(&text.s),
        StreamKind::Stderr => vm.write_stderr(&text.s),
        StreamKind::Stdin => return Err(vm.error("OSError", "not writable")),
    }
    Ok(Value::Int(text.char_len() as i64))
}

fn stream_writelines(vm: &mut Vm, a: Args) -> PyResult<Value> {
    arity(vm, "writelines", &a, 2, 2)?;
    let items = ops::collect(vm, &a.pos[1])?;
    for item in items {
        stream_write(vm, Args::new(vec![a.pos[0].clone(), item]))?;
    }
    Ok(Value::None)
}

fn read_line(vm: &mut Vm) -> PyResult<String> {
    vm.flush();
    let mut line = String::new();
    match std::io::stdin().lock().read_line(&mut line) {
        Ok(_) => Ok(line),
        Err(e) => Err(vm.error("OSError", e.to_string())),
    }
}

fn stream_readline(vm: &mut Vm, a: Args) -> PyResult<Value> {
    if kind(vm, &a)? != StreamKind::Stdin {
        return Err(vm.error("OSError", "not readable"));
    }
    Ok(Value::string(read_line(vm)?))
}

fn stream_read(vm: &mut Vm, a: Args) -> PyResult<Value> {
    if kind(vm, &a)? != StreamKind::Stdin {
        return Err(vm.error("OSError", "not readable"));
    }
    let mut out = String::new();
    loop {
        let line = read_line(vm)?;
        if line.is_empty() {
            break;
        }
        out.push_str(&line);
    }
    Ok(Value::string(out))
}

fn stream_readlines(vm: &mut Vm, a: Args) -> PyResult<Value> {
    if kind(vm, &a)? != StreamKind::Stdin {
        return Err(vm.error("OSError", "not readable"));
    }
    let mut out = Vec::new();
    loop {
        let line = read_line(vm)?;
        if line.is_empty() {
            break;
        }
        out.push(Value::string(line));
    }
    Ok(Value::list(out))
}

/// `sys._eddy_stats(collect=True)`, Eddy only: counts of live runtime objects, for tests that
/// check memory is released: `tasks` (asyncio Task objects), `generators` (generator, coroutine
/// and async generator objects, each holding a suspended frame) and `frames` (frames executing
/// now). Unless `collect` is false, the cycle collector runs first, so garbage that only
/// reference cycles keep is not counted.
fn eddy_stats(vm: &mut Vm, mut a: Args) -> PyResult<Value> {
    let collect = match a.take_kw("collect") {
        Some(v) => ops::truthy(vm, &v)?,
        None => true,
    };
    util::no_kwargs(vm, "_eddy_stats", &a)?;
    arity(vm, "_eddy_stats", &a, 0, 0)?;
    if collect {
        eddy_vm::gc::collect();
    }
    let d = vm.new_dict();
    for (key, n) in [
        ("tasks", crate::asyncio::tasktree::live_tasks()),
        ("generators", eddy_vm::objects::generator::live_generators()),
        ("frames", vm.frames.len()),
    ] {
        ops::dict_set(vm, &d, Value::str(key), Value::Int(n as i64))?;
    }
    Ok(d)
}
