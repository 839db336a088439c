//! `logging`: loggers in a dotted hierarchy (effective levels, propagation), LogRecord,
//! Formatter (`%`, `{` and `$` styles, asctime), Handler/StreamHandler/FileHandler/NullHandler,
//! Filter, basicConfig and the module-level shortcuts, following CPython 3.11's `logging`.
//!
//! State lives in script-visible attributes (`logger.level`, `logger.handlers`, ...), and
//! methods call each other through attribute lookup, so script subclasses that override `emit`,
//! `format` or `filter` take effect as in CPython.

use std::rc::Rc;

use eddy_vm::objects::class::Class;
use eddy_vm::objects::module::Module;
use eddy_vm::{attr, ops, Args, PyResult, Value, Vm};

use crate::util::{self, s};

const LEVELS: [(&str, i64); 6] = [
    ("CRITICAL", 50),
    ("ERROR", 40),
    ("WARNING", 30),
    ("INFO", 20),
    ("DEBUG", 10),
    ("NOTSET", 0),
];
const BASIC_FORMAT: &str = "%(levelname)s:%(name)s:%(message)s";

mod adapter;

pub fn init(vm: &mut Vm) -> PyResult<Rc<Module>> {
    let m = Rc::new(Module::new("logging"));
    for (name, level) in LEVELS {
        m.set(name, Value::Int(level));
    }
    m.set("FATAL", Value::Int(50));
    m.set("WARN", Value::Int(30));
    m.set("BASIC_FORMAT", Value::str(BASIC_FORMAT));
    m.set("raiseExceptions", Value::Bool(true));
    let level_names = vm.new_dict();
    let name_levels = vm.new_dict();
    for (name, level) in LEVELS {
        ops::dict_set(vm, &level_names, Value::Int(level), Value::str(name))?;
        ops::dict_set(vm, &name_levels, Value::str(name), Value::Int(level))?;
    }
    ops::dict_set(vm, &name_levels, Value::str("FATAL"), Value::Int(50))?;
    ops::dict_set(vm, &name_levels, Value::str("WARN"), Value::Int(30))?;
    m.set("_levelToName", level_names);
    m.set("_nameToLevel", name_levels);
    m.set("_disable", Value::Int(0));
    m.set("_loggers", vm.new_dict());

    let classes = make_classes(vm);
    for c in [
        &classes.logger,
        &classes.root,
        &classes.handler,
        &classes.stream,
        &classes.file,
        &classes.null,
        &classes.formatter,
        &classes.record,
        &classes.filter,
    ] {
        m.set(c.name(), Value::Class(c.clone()));
    }
    let module = Value::Module(m.clone());
    let root = vm.call_args(
        &Value::Class(classes.root.clone()),
        Args {
            pos: vec![Value::str("root"), Value::Int(30)],
            kw: vec![],
        },
    )?;
    m.set("root", root.clone());
    let last_resort = vm.call(&Value::Class(classes.stream.clone()), vec![])?;
    attr::set_attr(vm, &last_resort, &s("level"), Value::Int(30))?;
    m.set("lastResort", last_resort);
    util::defs(
        vm,
        &m,
        &[
            ("getLogger", get_logger),
            ("basicConfig", basic_config),
            ("getLevelName", get_level_name),
            ("addLevelName", add_level_name),
            ("disable", |vm, a| {
                let level = a.pos.first().cloned().unwrap_or(Value::Int(50));
                let level = check_level(vm, &level)?;
                module_of(vm)?.set("_disable", Value::Int(level));
                Ok(Value::None)
            }),
            ("shutdown", |vm, _a| {
                vm.flush();
                Ok(Value::None)
            }),
            ("captureWarnings", |_vm, _a| Ok(Value::None)),
            ("getLoggerClass", |vm, _a| module_attr(vm, "Logger")),
            ("makeLogRecord", |vm, a| {
                let rec_cls = module_attr(vm, "LogRecord")?;
                let rec = vm.call(
                    &rec_cls,
                    vec![
                        Value::None,
                        Value::Int(0),
                        Value::str(""),
                        Value::Int(0),
                        Value::str(""),
                        Value::tuple(vec![]),
                        Value::None,
                    ],
                )?;
                if let Some(d) = a.pos.first() {
                    for (k, v) in util::dict_items(d).unwrap_or_default() {
                        if let Value::Str(k) = k {
                            attr::set_attr(vm, &rec, &k, v)?;
                        }
                    }
                }
                Ok(rec)
            }),
            ("debug", |vm, a| module_log(vm, a, Some(10))),
            ("info", |vm, a| module_log(vm, a, Some(20))),
            ("warning", |vm, a| module_log(vm, a, Some(30))),
            ("warn", |vm, a| module_log(vm, a, Some(30))),
            ("error", |vm, a| module_log(vm, a, Some(40))),
            ("exception", |vm, mut a| {
                if !a.kw.iter().any(|(k, _)| &*k.s == "exc_info") {
                    a.kw.push((s("exc_info"), Value::Bool(true)));
                }
                module_log(vm, a, Some(40))
            }),
            ("critical", |vm, a| module_log(vm, a, Some(50))),
            ("fatal", |vm, a| module_log(vm, a, Some(50))),
            ("log", |vm, a| module_log(vm, a, None)),
        ],
    );
    let _ = module;
    adapter::install(vm, &m)?;
    Ok(m)
}

struct Classes {
    logger: Rc<Class>,
    root: Rc<Class>,
    handler: Rc<Class>,
    stream: Rc<Class>,
    file: Rc<Class>,
    null: Rc<Class>,
    formatter: Rc<Class>,
    record: Rc<Class>,
    filter: Rc<Class>,
}

fn make_classes(vm: &Vm) -> Classes {
    let object = vm.types.object.clone();
    let filterer = util::plain_class("Filterer", "logging", object.clone());
    util::methods(
        vm,
        &filterer,
        &[
            ("addFilter", add_filter),
            ("removeFilter", remove_filter),
            ("filter", run_filters),
        ],
    );
    let logger = util::plain_class("Logger", "logging", filterer.clone());
    util::methods(
        vm,
        &logger,
        &[
            ("__init__", logger_init),
            ("__repr__", logger_repr),
            ("setLevel", set_level),
            ("getEffectiveLevel", |vm, a| {
                Ok(Value::Int(effective_level(vm, &a.pos[0])?))
            }),
            ("isEnabledFor", |vm, a| {
                util::arity(vm, "isEnabledFor", &a, 2, 2)?;
                let level = util::to_i64(vm, &a.pos[1])?;
                Ok(Value::Bool(enabled_for(vm, &a.pos[0], level)?))
            }),
            ("addHandler", |vm, a| {
                util::arity(vm, "addHandler", &a, 2, 2)?;
                let hs = attr::get_attr(vm, &a.pos[0], "handlers")?;
                if !ops::contains(vm, &hs, &a.pos[1])? {
                    if let Value::List(l) = hs {
                        l.borrow_mut().push(a.pos[1].clone());
                    }
                }
                Ok(Value::None)
            }),
            ("removeHandler", |vm, a| {
                util::arity(vm, "removeHandler", &a, 2, 2)?;
                if let Value::List(l) = attr::get_attr(vm, &a.pos[0], "handlers")? {
                    l.borrow_mut().retain(|h| !h.is(&a.pos[1]));
                }
                Ok(Value::None)
            }),
            ("hasHandlers", has_handlers),
            ("getChild", |vm, a| {
                util::arity(vm, "getChild", &a, 2, 2)?;
                let name = attr::get_attr(vm, &a.pos[0], "name")?;
                let suffix = ops::to_str(vm, &a.pos[1])?;
                let full = if name.as_str() == Some("root") {
                    suffix
                } else {
                    format!("{}.{}", name.as_str().unwrap_or(""), suffix)
                };
                get_logger(vm, Args::new(vec![Value::string(full)]))
            }),
            ("debug", |vm, a| logger_log(vm, a, Some(10))),
            ("info", |vm, a| logger_log(vm, a, Some(20))),
            ("warning", |vm, a| logger_log(vm, a, Some(30))),
            ("warn", |vm, a| logger_log(vm, a, Some(30))),
            ("error", |vm, a| logger_log(vm, a, Some(40))),
            ("exception", |vm, mut a| {
                if !a.kw.iter().any(|(k, _)| &*k.s == "exc_info") {
                    a.kw.push((s("exc_info"), Value::Bool(true)));
                }
                logger_log(vm, a, Some(40))
            }),
            ("critical", |vm, a| logger_log(vm, a, Some(50))),
            ("fatal", |vm, a| logger_log(vm, a, Some(50))),
            ("log", |vm, a| logger_log(vm, a, None)),
            ("handle", logger_handle),
        ],
    );
    let root = util::plain_class("RootLogger", "logging", logger.clone());
    let handler = util::plain_class("Handler", "logging", filterer.clone());
    util::methods(
        vm,
        &handler,
        &[
            ("__init__", handler_init),
            ("__repr__", handler_repr),
            ("setLevel", set_level),
            ("setFormatter", |vm, a| {
                util::arity(vm, "setFormatter", &a, 2, 2)?;
                attr::set_attr(vm, &a.pos[0], &s("formatter"), a.pos[1].clone())?;
                Ok(Value::None)
            }),
            ("format", handler_format),
            ("handle", handler_handle),
            ("emit", |vm, _a| {
                Err(vm.error(
                    "NotImplementedError",
                    "emit must be implemented by Handler subclasses",
                ))
            }),
            ("flush", |_vm, _a| Ok(Value::None)),
            ("close", |_vm, _a| Ok(Value::None)),
            ("acquire", |_vm, _a| Ok(Value::None)),
            ("release", |_vm, _a| Ok(Value::None)),
            ("handleError", |_vm, _a| Ok(Value::None)),
            ("get_name", |vm, a| attr::get_attr(vm, &a.pos[0], "name")),
            ("set_name", |vm, a| {
                attr::set_attr(
                    vm,
                    &a.pos[0],
                    &s("name"),
                    a.pos.get(1).cloned().unwrap_or(Value::None),
                )?;
                Ok(Value::None)
            }),
        ],
    );
    let stream = util::plain_class("StreamHandler", "logging", handler.clone());
    util::methods(
        vm,
        &stream,
        &[
            ("__init__", stream_init),
            ("emit", stream_emit),
            ("flush", stream_flush),
            ("setStream", set_stream),
        ],
    );
    stream.set_attr(s("terminator"), Value::str("\n"));
    let file = util::plain_class("FileHandler", "logging", stream.clone());
    util::methods(vm, &file, &[("__init__", file_init), ("emit", file_emit)]);
    let null = util::plain_class("NullHandler", "logging", handler.clone());
    util::methods(
        vm,
        &null,
        &[
            ("emit", |_vm, _a| Ok(Value::None)),
            ("handle", |_vm, _a| Ok(Value::None)),
        ],
    );
    let formatter = util::plain_class("Formatter", "logging", object.clone());
    util::methods(
        vm,
        &formatter,
        &[
            ("__init__", formatter_init),
            ("format", formatter_format),
            ("formatTime", format_time),
            ("formatException", |vm, a| {
                util::arity(vm, "formatException", &a, 2, 2)?;
                Ok(Value::string(format_exc_info(vm, &a.pos[1])?))
            }),
            ("formatMessage", format_message),
            ("usesTime", |vm, a| {
                Ok(Value::Bool(uses_time(vm, &a.pos[0])?))
            }),
        ],
    );
    formatter.set_attr(s("default_time_format"), Value::str("%Y-%m-%d %H:%M:%S"));
    formatter.set_attr(s("default_msec_format"), Value::str("%s,%03d"));
    let record = util::plain_class("LogRecord", "logging", object.clone());
    util::methods(
        vm,
        &record,
        &[
            ("__init__", record_init),
            ("getMessage", get_message),
            ("__repr__", record_repr),
        ],
    );
    let filter = util::plain_class("Filter", "logging", object);
    util::methods(
        vm,
        &filter,
        &[("__init__", filter_init), ("filter", filter_filter)],
    );
    Classes {
        logger,
        root,
        handler,
        stream,
        file,
        null,
        formatter,
        record,
        filter,
    }
}

// ---- helpers ----

fn module_of(vm: &mut Vm) -> PyResult<Rc<Module>> {
    match eddy_vm::import::import_module(vm, "logging")? {
        Value::Module(m) => Ok(m),
        _ => Err(vm.error("ImportError", "logging module missing")),
    }
}

fn module_attr(vm: &mut Vm, name: &str) -> PyResult<Value> {
    let m = module_of(vm)?;
    m.get(name)
        .ok_or_else(|| vm.attribute_error(format!("module 'logging' has no attribute '{name}'")))
}

fn get(vm: &mut Vm, obj: &Value, name: &str) -> PyResult<Value> {
    attr::get_attr(vm, obj, name)
}

fn set(vm: &mut Vm, obj: &Value, name: &str, v: Value) -> PyResult<()> {
    attr::set_attr(vm, obj, &s(name), v)
}

fn level_name(vm: &mut Vm, level: i64) -> PyResult<String> {
    let names = module_attr(vm, "_levelToName")?;
    match ops::dict_get(vm, &names, &Value::Int(level))? {
        Some(v) => ops::to_str(vm, &v),
        None => Ok(format!("Level {level}")),
    }
}

/// A level from an int or a registered level name (CPython's `_checkLevel`).
fn check_level(vm: &mut Vm, v: &Value) -> PyResult<i64> {
    match v {
        Value::Int(i) => Ok(*i),
        Value::Bool(b) => Ok(*b as i64),
        Value::Str(name) => {
            let levels = module_attr(vm, "_nameToLevel")?;
            match ops::dict_get(vm, &levels, v)? {
                Some(Value::Int(i)) => Ok(i),
                _ => Err(vm.value_error(format!("Unknown level: {}", ops::str_repr(&name.s)))),
            }
        }
        _ => {
            let r = ops::repr(vm, v)?;
            Err(vm.type_error(format!("Level not an integer or a valid string: {r}")))
        }
    }
}

fn set_level(vm: &mut Vm, a: Args) -> PyResult<Value> {
    util::arity(vm, "setLevel", &a, 2, 2)?;
    let level = check_level(vm, &a.pos[1])?;
    set(vm, &a.pos[0], "level", Value::Int(level))?;
    Ok(Value::None)
}

fn get_level_name(vm: &mut Vm, a: Args) -> PyResult<Value> {
    util::arity(vm, "getLevelName", &a, 1, 1)?;
    let names = module_attr(vm, "_levelToName")?;
    if let Some(v) = ops::dict_get(vm, &names, &a.pos[0])? {
        return Ok(v);
    }
    let levels = module_attr(vm, "_nameToLevel")?;
    if let Some(v) = ops::dict_get(vm, &levels, &a.pos[0])? {
        return Ok(v);
    }
    Ok(Value::string(format!(
        "Level {}",
        ops::to_str(vm, &a.pos[0])?
    )))
}

fn add_level_name(vm: &mut Vm, a: Args) -> PyResult<Value> {
    util::arity(vm, "addLevelName", &a, 2, 2)?;
    let names = module_attr(vm, "_levelToName")?;
    let levels = module_attr(vm, "_nameToLevel")?;
    ops::dict_set(vm, &names, a.pos[0].clone(), a.pos[1].clone())?;
    ops::dict_set(vm, &levels, a.pos[1].clone(), a.pos[0].clone())?;
    Ok(Value::None)
}

// ---- loggers ----

fn logger_init(vm: &mut Vm, mut a: Args) -> PyResult<Value> {
    let level = util::arg(&mut a, 2, "level").unwrap_or(Value::Int(0));
    let name = util::arg(&mut a, 1, "name").ok_or_else(|| {
        vm.type_error("Logger.__init__() missing 1 required positional argument: 'name'")
    })?;
    let this = a.pos[0].clone();
    let level = check_level(vm, &level)?;
    set(vm, &this, "name", name)?;
    set(vm, &this, "level", Value::Int(level))?;
    set(vm, &this, "parent", Value::None)?;
    set(vm, &this, "propagate", Value::Bool(true))?;
    set(vm, &this, "handlers", Value::list(vec![]))?;
    set(vm, &this, "disabled", Value::Bool(false))?;
    set(vm, &this, "filters", Value::list(vec![]))?;
    Ok(Value::None)
}

fn logger_repr(vm: &mut Vm, a: Args) -> PyResult<Value> {
    let this = &a.pos[0];
    let level = effective_level(vm, this)?;
    let name = get(vm, this, "name")?;
    let name = ops::to_str(vm, &name)?;
    Ok(Value::string(format!(
        "<{} {} ({})>",
        vm.type_name(this),
        name,
        level_name(vm, level)?
    )))
}

fn effective_level(vm: &mut Vm, logger: &Value) -> PyResult<i64> {
    let mut cur = logger.clone();
    for _ in 0..1000 {
        if cur.is_none() {
            break;
        }
        let level = get(vm, &cur, "level")?;
        let level = util::to_i64(vm, &level)?;
        if level != 0 {
            return Ok(level);
        }
        cur = get(vm, &cur, "parent")?;
    }
    Ok(0)
}

fn enabled_for(vm: &mut Vm, logger: &Value, level: i64) -> PyResult<bool> {
    let disable = module_attr(vm, "_disable")?;
    if util::to_i64(vm, &disable)? >= level {
        return Ok(false);
    }
    let disabled = get(vm, logger, "disabled")?;
    if ops::truthy(vm, &disabled)? {
        return Ok(false);
    }
    Ok(level >= effective_level(vm, logger)?)
}

fn has_handlers(vm: &mut Vm, a: Args) -> PyResult<Value> {
    let mut cur = a.pos[0].clone();
    while !cur.is_none() {
        let hs = get(vm, &cur, "handlers")?;
        if !ops::collect(vm, &hs)?.is_empty() {
            return Ok(Value::Bool(true));
        }
        let prop = get(vm, &cur, "propagate")?;
        if !ops::truthy(vm, &prop)? {
            break;
        }
        cur = get(vm, &cur, "parent")?;
    }
    Ok(Value::Bool(false))
}

fn get_logger(vm: &mut Vm, mut a: Args) -> PyResult<Value> {
    let name = util::arg(&mut a, 0, "name").unwrap_or(Value::None);
    let root = module_attr(vm, "root")?;
    let name = match &name {
        Value::None => return Ok(root),
        Value::Str(n) if n.s.is_empty() => return Ok(root),
        Value::Str(n) => n.s.to_string(),
        other => {
            return Err(vm.type_error(format!(
                "A logger name must be a string, not {}",
                vm.type_name(other)
            )))
        }
    };
    let loggers = module_attr(vm, "_loggers")?;
    let key = Value::string(name.clone());
    if let Some(l) = ops::dict_get(vm, &loggers, &key)? {
        return Ok(l);
    }
    let cls = module_attr(vm, "Logger")?;
    let logger = vm.call(&cls, vec![key.clone()])?;
    ops::dict_set(vm, &loggers, key, logger.clone())?;
    // Parent: the nearest existing ancestor, else root.
    let mut parent = root;
    let mut prefix = name.as_str();
    while let Some((head, _)) = prefix.rsplit_once('.') {
        if let Some(p) = ops::dict_get(vm, &loggers, &Value::str(head))? {
            parent = p;
            break;
        }
        prefix = head;
    }
    set(vm, &logger, "parent", parent.clone())?;
    // Existing descendants whose parent is above us now hang below us.
    let children = format!("{name}.");
    for (k, child) in util::dict_items(&loggers).unwrap_or_default() {
        let Some(k) = k.as_str() else { continue };
        if !k.starts_with(&children) {
            continue;
        }
        let cp = get(vm, &child, "parent")?;
        let cp_name = get(vm, &cp, "name")?;
        let cp_name = cp_name.as_str().unwrap_or("root").to_string();
        if (cp.is(&parent) || cp_name == "root" || !cp_name.starts_with(&children))
            && (cp_name == "root" || name.starts_with(&format!("{cp_name}.")))
        {
            set(vm, &child, "parent", logger.clone())?;
        }
    }
    Ok(logger)
}

/// `logger.debug(msg, *args, exc_info=..., extra=..., stack_info=..., stacklevel=...)` and friends;
/// `level` None means `log(level, msg, ...)`.
fn logger_log(vm: &mut Vm, mut a: Args, level: Option<i64>) -> PyResult<Value> {
    let this = a.pos.remove(0);
    let level = match level {
        Some(l) => l,
        None => {
            if a.pos.is_empty() {
                return Err(vm.type_error(
                    "Logger.log() missing 2 required positional arguments: 'level' and 'msg'",
                ));
            }
            let l = a.pos.remove(0);
            match l {
                Value::Int(i) => i,
                _ => {
                    let raise = module_attr(vm, "raiseExceptions")?;
                    if ops::truthy(vm, &raise)? {
                        return Err(vm.type_error("level must be an integer"));
                    }
                    return Ok(Value::None);
                }
            }
        }
    };
    if a.pos.is_empty() {
        return Err(vm.type_error("Logger.info() missing 1 required positional argument: 'msg'"));
    }
    if !enabled_for(vm, &this, level)? {
        return Ok(Value::None);
    }
    let msg = a.pos.remove(0);
    let exc_info = a.take_kw("exc_info").unwrap_or(Value::None);
    let extra = a.take_kw("extra").unwrap_or(Value::None);
    let _ = a.take_kw("stack_info");
    let _ = a.take_kw("stacklevel");
    util::no_kwargs(vm, "_log", &a)?;
    let exc_info = match &exc_info {
        Value::None | Value::Bool(false) => Value::None,
        Value::Tuple(_) => exc_info.clone(),
        v if vm.isinstance(v, &vm.exc_class("BaseException")) => {
            Value::tuple(vec![Value::Class(vm.type_of(v)), v.clone(), Value::None])
        }
        _ => {
            let e = vm.handled.clone();
            if e.is_none() {
                Value::tuple(vec![Value::None, Value::None, Value::None])
            } else {
                Value::tuple(vec![Value::Class(vm.type_of(&e)), e, Value::None])
            }
        }
    };
    let name = get(vm, &this, "name")?;
    let record = make_record(vm, name, level, msg, Value::tuple(a.pos), exc_info)?;
    if let Some(items) = util::dict_items(&extra) {
        for (k, v) in items {
            if let Value::Str(k) = k {
                if matches!(&*k.s, "message" | "asctime") {
                    return Err(vm.error(
                        "KeyError",
                        format!(
                            "\"Attempt to overwrite {} in LogRecord\"",
                            ops::str_repr(&k.s)
                        ),
                    ));
                }
                attr::set_attr(vm, &record, &k, v)?;
            }
        }
    }
    vm.call_method(&this, "handle", vec![record])?;
    Ok(Value::None)
}

fn make_record(
    vm: &mut Vm,
    name: Value,
    level: i64,
    msg: Value,
    args: Value,
    exc_info: Value,
) -> PyResult<Value> {
    let (path, line, func) = match vm.frames.last() {
        Some(f) => (
            f.code.source.name.clone(),
            f.code.line_of(f.ip.saturating_sub(1)) as i64,
            f.code.name.s.to_string(),
        ),
        None => ("<unknown>".to_string(), 0, "<module>".to_string()),
    };
    let cls = module_attr(vm, "LogRecord")?;
    let rec = vm.call(
        &cls,
        vec![
            name,
            Value::Int(level),
            Value::string(path),
            Value::Int(line),
            msg,
            args,
            exc_info,
        ],
    )?;
    set(vm, &rec, "funcName", Value::string(func))?;
    Ok(rec)
}

fn logger_handle(vm: &mut Vm, a: Args) -> PyResult<Value> {
    util::arity(vm, "handle", &a, 2, 2)?;
    let (this, record) = (a.pos[0].clone(), a.pos[1].clone());
    let disabled = get(vm, &this, "disabled")?;
    if ops::truthy(vm, &disabled)? || !passes_filters(vm, &this, &record)? {
        return Ok(Value::None);
    }
    let levelno = get(vm, &record, "levelno")?;
    let levelno = util::to_i64(vm, &levelno)?;
    let mut found = 0;
    let mut cur = this;
    while !cur.is_none() {
        let hs = get(vm, &cur, "handlers")?;
        for h in ops::collect(vm, &hs)? {
            found += 1;
            let hl = get(vm, &h, "level")?;
            if levelno >= util::to_i64(vm, &hl)? {
                vm.call_method(&h, "handle", vec![record.clone()])?;
            }
        }
        let prop = get(vm, &cur, "propagate")?;
        if !ops::truthy(vm, &prop)? {
            break;
        }
        cur = get(vm, &cur, "parent")?;
    }
    if found == 0 {
        let last = module_attr(vm, "lastResort")?;
        if !last.is_none() {
            let hl = get(vm, &last, "level")?;
            if levelno >= util::to_i64(vm, &hl)? {
                vm.call_method(&last, "handle", vec![record])?;
            }
        }
    }
    Ok(Value::None)
}

fn module_log(vm: &mut Vm, a: Args, level: Option<i64>) -> PyResult<Value> {
    let root = module_attr(vm, "root")?;
    let hs = get(vm, &root, "handlers")?;
    if ops::collect(vm, &hs)?.is_empty() {
        basic_config(vm, Args::default())?;
    }
    let mut a = a;
    a.pos.insert(0, root);
    logger_log(vm, a, level)
}

fn basic_config(vm: &mut Vm, mut a: Args) -> PyResult<Value> {
    if !a.pos.is_empty() {
        return Err(vm.type_error(format!(
            "basicConfig() takes 0 positional arguments but {} were given",
            a.pos.len()
        )));
    }
    let root = module_attr(vm, "root")?;
    let force = a
        .take_kw("force")
        .map(|f| ops::truthy(vm, &f))
        .transpose()?
        .unwrap_or(false);
    let hs = get(vm, &root, "handlers")?;
    if force {
        if let Value::List(l) = &hs {
            l.borrow_mut().clear();
        }
    }
    if !ops::collect(vm, &hs)?.is_empty() {
        return Ok(Value::None);
    }
    let handlers = a.take_kw("handlers").filter(|h| !h.is_none());
    let stream = a.take_kw("stream").filter(|h| !h.is_none());
    let filename = a.take_kw("filename").filter(|h| !h.is_none());
    let filemode = a.take_kw("filemode").unwrap_or(Value::str("a"));
    let _ = a.take_kw("encoding");
    let _ = a.take_kw("errors");
    if handlers.is_some() && (stream.is_some() || filename.is_some()) {
        return Err(vm.value_error(
            "'stream' or 'filename' should not be specified together with 'handlers'",
        ));
    }
    if stream.is_some() && filename.is_some() {
        return Err(vm.value_error("'stream' and 'filename' should not be specified together"));
    }
    let style = a.take_kw("style").unwrap_or(Value::str("%"));
    let style_s = style.as_str().unwrap_or("%").to_string();
    if !matches!(style_s.as_str(), "%" | "{" | "$") {
        return Err(vm.value_error("Style must be one of: %,{,$"));
    }
    let default_fmt = match style_s.as_str() {
        "{" => "{levelname}:{name}:{message}",
        "$" => "${levelname}:${name}:${message}",
        _ => BASIC_FORMAT,
    };
    let fmt = a.take_kw("format").unwrap_or(Value::str(default_fmt));
    let datefmt = a.take_kw("datefmt").unwrap_or(Value::None);
    let level = a.take_kw("level");
    if !a.kw.is_empty() {
        let keys: Vec<String> = a.kw.iter().map(|(k, _)| k.s.to_string()).collect();
        return Err(vm.value_error(format!("Unrecognised argument(s): {}", keys.join(", "))));
    }
    let handlers = match handlers {
        Some(h) => ops::collect(vm, &h)?,
        None => {
            let h = match filename {
                Some(f) => {
                    let cls = module_attr(vm, "FileHandler")?;
                    vm.call(&cls, vec![f, filemode])?
                }
                None => {
                    let cls = module_attr(vm, "StreamHandler")?;
                    vm.call(&cls, stream.into_iter().collect())?
                }
            };
            vec![h]
        }
    };
    let fcls = module_attr(vm, "Formatter")?;
    let formatter = vm.call(&fcls, vec![fmt, datefmt, style])?;
    for h in handlers {
        let current = get(vm, &h, "formatter")?;
        if current.is_none() {
            set(vm, &h, "formatter", formatter.clone())?;
        }
        vm.call_method(&root, "addHandler", vec![h])?;
    }
    if let Some(level) = level {
        set_level(vm, Args::new(vec![root, level]))?;
    }
    Ok(Value::None)
}

// ---- filters ----

fn add_filter(vm: &mut Vm, a: Args) -> PyResult<Value> {
    util::arity(vm, "addFilter", &a, 2, 2)?;
    if let Value::List(l) = get(vm, &a.pos[0], "filters")? {
        if !l.borrow().iter().any(|f| f.is(&a.pos[1])) {
            l.borrow_mut().push(a.pos[1].clone());
        }
    }
    Ok(Value::None)
}

fn remove_filter(vm: &mut Vm, a: Args) -> PyResult<Value> {
    util::arity(vm, "removeFilter", &a, 2, 2)?;
    if let Value::List(l) = get(vm, &a.pos[0], "filters")? {
        l.borrow_mut().retain(|f| !f.is(&a.pos[1]));
    }
    Ok(Value::None)
}

/// Runs the object's filters: a filter is an object with `filter(record)` or a callable.
fn passes_filters(vm: &mut Vm, this: &Value, record: &Value) -> PyResult<bool> {
    let filters = get(vm, this, "filters")?;
    for f in ops::collect(vm, &filters)? {
        let r = match attr::try_get_attr(vm, &f, "filter")? {
            Some(m) => vm.call(&m, vec![record.clone()])?,
            None => vm.call(&f, vec![record.clone()])?,
        };
        if !ops::truthy(vm, &r)? {
            return Ok(false);
        }
    }
    Ok(true)
}

fn run_filters(vm: &mut Vm, a: Args) -> PyResult<Value> {
    util::arity(vm, "filter", &a, 2, 2)?;
    Ok(Value::Bool(passes_filters(vm, &a.pos[0], &a.pos[1])?))
}

fn filter_init(vm: &mut Vm, mut a: Args) -> PyResult<Value> {
    let name = util::arg(&mut a, 1, "name").unwrap_or(Value::str(""));
    let n = ops::to_str(vm, &name)?;
    set(vm, &a.pos[0], "name", name)?;
    set(vm, &a.pos[0], "nlen", Value::Int(n.chars().count() as i64))?;
    Ok(Value::None)
}

fn filter_filter(vm: &mut Vm, a: Args) -> PyResult<Value> {
    util::arity(vm, "filter", &a, 2, 2)?;
    let name = get(vm, &a.pos[0], "name")?;
    let name = ops::to_str(vm, &name)?;
    if name.is_empty() {
        return Ok(Value::Bool(true));
    }
    let rn = get(vm, &a.pos[1], "name")?;
    let rn = ops::to_str(vm, &rn)?;
    Ok(Value::Bool(
        rn == name || rn.starts_with(&format!("{name}.")),
    ))
}

// ---- handlers ----

fn handler_init(vm: &mut Vm, mut a: Args) -> PyResult<Value> {
    let level = util::arg(&mut a, 1, "level").unwrap_or(Value::Int(0));
    let level = check_level(vm, &level)?;
    let this = a.pos[0].clone();
    set(vm, &this, "level", Value::Int(level))?;
    set(vm, &this, "formatter", Value::None)?;
    set(vm, &this, "filters", Value::list(vec![]))?;
    set(vm, &this, "name", Value::None)?;
    Ok(Value::None)
}

fn handler_repr(vm: &mut Vm, a: Args) -> PyResult<Value> {
    let this = &a.pos[0];
    let level = get(vm, this, "level")?;
    let level = util::to_i64(vm, &level)?;
    let name = level_name(vm, level)?;
    let stream = attr::try_get_attr(vm, this, "stream")?;
    let cls = vm.type_name(this);
    Ok(Value::string(match stream {
        Some(st) => {
            let sname = attr::try_get_attr(vm, &st, "name")?
                .map(|n| ops::to_str(vm, &n))
                .transpose()?
                .unwrap_or_default();
            format!("<{cls} {sname} ({name})>")
        }
        None => format!("<{cls} ({name})>"),
    }))
}

fn handler_format(vm: &mut Vm, a: Args) -> PyResult<Value> {
    util::arity(vm, "format", &a, 2, 2)?;
    let mut f = get(vm, &a.pos[0], "formatter")?;
    if f.is_none() {
        let cls = module_attr(vm, "Formatter")?;
        f = vm.call(&cls, vec![])?;
    }
    vm.call_method(&f, "format", vec![a.pos[1].clone()])
}

fn handler_handle(vm: &mut Vm, a: Args) -> PyResult<Value> {
    util::arity(vm, "handle", &a, 2, 2)?;
    if !passes_filters(vm, &a.pos[0], &a.pos[1])? {
        return Ok(Value::Bool(false));
    }
    vm.call_method(&a.pos[0], "emit", vec![a.pos[1].clone()])?;
    Ok(Value::Bool(true))
}

fn sys_stream(vm: &mut Vm, name: &str) -> PyResult<Value> {
    let sys = eddy_vm::import::import_module(vm, "sys")?;
    get(vm, &sys, name)
}

fn stream_init(vm: &mut Vm, mut a: Args) -> PyResult<Value> {
    let stream = util::arg(&mut a, 1, "stream").filter(|s| !s.is_none());
    let this = a.pos[0].clone();
    handler_init(vm, Args::new(vec![this.clone()]))?;
    let stream = match stream {
        Some(st) => st,
        None => sys_stream(vm, "stderr")?,
    };
    set(vm, &this, "stream", stream)?;
    Ok(Value::None)
}

fn stream_emit(vm: &mut Vm, a: Args) -> PyResult<Value> {
    util::arity(vm, "emit", &a, 2, 2)?;
    let this = a.pos[0].clone();
    let msg = vm.call_method(&this, "format", vec![a.pos[1].clone()])?;
    let term = get(vm, &this, "terminator")?;
    let text = format!("{}{}", ops::to_str(vm, &msg)?, ops::to_str(vm, &term)?);
    let stream = get(vm, &this, "stream")?;
    vm.call_method(&stream, "write", vec![Value::string(text)])?;
    vm.call_method(&this, "flush", vec![])?;
    Ok(Value::None)
}

fn stream_flush(vm: &mut Vm, a: Args) -> PyResult<Value> {
    let stream = get(vm, &a.pos[0], "stream")?;
    if let Some(f) = attr::try_get_attr(vm, &stream, "flush")? {
        vm.call(&f, vec![])?;
    }
    Ok(Value::None)
}

fn set_stream(vm: &mut Vm, a: Args) -> PyResult<Value> {
    util::arity(vm, "setStream", &a, 2, 2)?;
    let old = get(vm, &a.pos[0], "stream")?;
    if old.is(&a.pos[1]) {
        return Ok(Value::None);
    }
    set(vm, &a.pos[0], "stream", a.pos[1].clone())?;
    Ok(old)
}

fn file_init(vm: &mut Vm, mut a: Args) -> PyResult<Value> {
    let filename = util::arg(&mut a, 1, "filename").ok_or_else(|| {
        vm.type_error("FileHandler.__init__() missing 1 required positional argument: 'filename'")
    })?;
    let mode = util::arg(&mut a, 2, "mode").unwrap_or(Value::str("a"));
    let this = a.pos[0].clone();
    handler_init(vm, Args::new(vec![this.clone()]))?;
    let path = ops::to_str(vm, &filename)?;
    let abs = if path.starts_with('/') {
        path.clone()
    } else {
        format!(
            "{}/{}",
            std::env::current_dir()
                .map(|d| d.display().to_string())
                .unwrap_or_default(),
            path
        )
    };
    vm.check_access(eddy_vm::sandbox::Capability::Write, &abs)?;
    let opened = if mode.as_str() == Some("w") {
        std::fs::File::create(&abs).map(|_| ())
    } else {
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&abs)
            .map(|_| ())
    };
    if let Err(e) = opened {
        return Err(vm.error(
            "OSError",
            format!(
                "[Errno {}] {}: {}",
                e.raw_os_error().unwrap_or(0),
                e,
                ops::str_repr(&path)
            ),
        ));
    }
    set(vm, &this, "baseFilename", Value::string(abs))?;
    set(vm, &this, "mode", mode)?;
    set(vm, &this, "stream", Value::None)?;
    Ok(Value::None)
}

fn file_emit(vm: &mut Vm, a: Args) -> PyResult<Value> {
    use std::io::Write;
    util::arity(vm, "emit", &a, 2, 2)?;
    let this = a.pos[0].clone();
    let msg = vm.call_method(&this, "format", vec![a.pos[1].clone()])?;
    let term = get(vm, &this, "terminator")?;
    let text = format!("{}{}", ops::to_str(vm, &msg)?, ops::to_str(vm, &term)?);
    let path = get(vm, &this, "baseFilename")?;
    let path = ops::to_str(vm, &path)?;
    let r = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .and_then(|mut f| f.write_all(text.as_bytes()));
    if let Err(e) = r {
        return Err(vm.error("OSError", e.to_string()));
    }
    Ok(Value::None)
}

// ---- records and formatters ----

fn record_init(vm: &mut Vm, a: Args) -> PyResult<Value> {
    if a.pos.len() < 8 {
        return Err(vm.type_error("LogRecord.__init__() missing required positional arguments"));
    }
    let this = a.pos[0].clone();
    let (name, level, path, line, msg, args, exc_info) = (
        a.pos[1].clone(),
        a.pos[2].clone(),
        a.pos[3].clone(),
        a.pos[4].clone(),
        a.pos[5].clone(),
        a.pos[6].clone(),
        a.pos[7].clone(),
    );
    let levelno = util::to_i64(vm, &level).unwrap_or(0);
    // A single mapping argument is used for %(key)s formatting, as in CPython.
    let args = match &args {
        Value::Tuple(t)
            if t.len() == 1 && util::dict_items(&t[0]).is_some_and(|d| !d.is_empty()) =>
        {
            t[0].clone()
        }
        _ => args,
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0);
    let path_s = ops::to_str(vm, &path)?;
    let filename = path_s.rsplit('/').next().unwrap_or(&path_s).to_string();
    let module = filename
        .rsplit_once('.')
        .map(|(m, _)| m.to_string())
        .unwrap_or_else(|| filename.clone());
    let levelname = level_name(vm, levelno)?;
    let fields: Vec<(&str, Value)> = vec![
        ("name", name),
        ("msg", msg),
        ("args", args),
        ("levelname", Value::string(levelname)),
        ("levelno", Value::Int(levelno)),
        ("pathname", path),
        ("filename", Value::string(filename)),
        ("module", Value::string(module)),
        ("exc_info", exc_info),
        ("exc_text", Value::None),
        ("stack_info", Value::None),
        ("lineno", line),
        ("funcName", Value::None),
        ("created", Value::Float(now)),
        (
            "msecs",
            Value::Float(((now - now.floor()) * 1000.0).floor()),
        ),
        ("relativeCreated", Value::Float(0.0)),
        ("thread", Value::Int(1)),
        ("threadName", Value::str("MainThread")),
        ("processName", Value::str("MainProcess")),
        ("process", Value::Int(std::process::id() as i64)),
    ];
    for (k, v) in fields {
        set(vm, &this, k, v)?;
    }
    Ok(Value::None)
}

fn record_repr(vm: &mut Vm, a: Args) -> PyResult<Value> {
    let this = &a.pos[0];
    let mut parts = Vec::new();
    for k in ["name", "levelno", "pathname", "lineno", "msg"] {
        let v = get(vm, this, k)?;
        parts.push(if k == "msg" {
            ops::repr(vm, &v)?
        } else {
            ops::to_str(vm, &v)?
        });
    }
    Ok(Value::string(format!(
        "<LogRecord: {}, {}, {}, {}, {}>",
        parts[0], parts[1], parts[2], parts[3], parts[4]
    )))
}

fn get_message(vm: &mut Vm, a: Args) -> PyResult<Value> {
    let this = &a.pos[0];
    let msg = get(vm, this, "msg")?;
    let msg = Value::string(ops::to_str(vm, &msg)?);
    let args = get(vm, this, "args")?;
    let empty = match &args {
        Value::Tuple(t) => t.is_empty(),
        Value::None => true,
        v => !ops::truthy(vm, v)?,
    };
    if empty {
        return Ok(msg);
    }
    ops::binary_op(vm, &msg, &args, 6)
}

fn formatter_init(vm: &mut Vm, mut a: Args) -> PyResult<Value> {
    let fmt = util::arg(&mut a, 1, "fmt").unwrap_or(Value::None);
    let datefmt = util::arg(&mut a, 2, "datefmt").unwrap_or(Value::None);
    let style = util::arg(&mut a, 3, "style").unwrap_or(Value::str("%"));
    let _ = a.take_kw("validate");
    let _ = a.take_kw("defaults");
    let style_s = style.as_str().unwrap_or("").to_string();
    if !matches!(style_s.as_str(), "%" | "{" | "$") {
        return Err(vm.value_error("Style must be one of: %,{,$"));
    }
    let fmt = if fmt.is_none() {
        Value::str(match style_s.as_str() {
            "{" => "{message}",
            "$" => "${message}",
            _ => "%(message)s",
        })
    } else {
        fmt
    };
    if style_s == "%" {
        let f = ops::to_str(vm, &fmt)?;
        if !f.contains("%(") {
            return Err(vm.value_error(format!("Invalid format '{f}' for '%' style")));
        }
    }
    let this = a.pos[0].clone();
    set(vm, &this, "_fmt", fmt)?;
    set(vm, &this, "datefmt", datefmt)?;
    set(vm, &this, "_style", style)?;
    Ok(Value::None)
}

fn uses_time(vm: &mut Vm, this: &Value) -> PyResult<bool> {
    let fmt = get(vm, this, "_fmt")?;
    let fmt = ops::to_str(vm, &fmt)?;
    let style = get(vm, this, "_style")?;
    Ok(match style.as_str() {
        Some("{") => fmt.contains("{asctime"),
        Some("$") => fmt.contains("$asctime") || fmt.contains("${asctime}"),
        _ => fmt.contains("%(asctime)"),
    })
}

fn record_dict(vm: &mut Vm, record: &Value) -> PyResult<Value> {
    get(vm, record, "__dict__")
}

fn format_message(vm: &mut Vm, a: Args) -> PyResult<Value> {
    util::arity(vm, "formatMessage", &a, 2, 2)?;
    let this = &a.pos[0];
    let fmt = get(vm, this, "_fmt")?;
    let style = get(vm, this, "_style")?;
    let d = record_dict(vm, &a.pos[1])?;
    match style.as_str() {
        Some("{") => {
            let kw: Vec<_> = util::dict_items(&d)
                .unwrap_or_default()
                .into_iter()
                .filter_map(|(k, v)| {
                    if let Value::Str(k) = k {
                        Some((k, v))
                    } else {
                        None
                    }
                })
                .collect();
            let f = get(vm, &fmt, "format")?;
            vm.call_args(&f, Args { pos: vec![], kw })
        }
        Some("$") => {
            let mut out = ops::to_str(vm, &fmt)?;
            for (k, v) in util::dict_items(&d).unwrap_or_default() {
                let Some(k) = k.as_str() else { continue };
                let v = ops::to_str(vm, &v)?;
                out = out
                    .replace(&format!("${{{k}}}"), &v)
                    .replace(&format!("${k}"), &v);
            }
            Ok(Value::string(out))
        }
        _ => ops::binary_op(vm, &fmt, &d, 6),
    }
}

fn format_time(vm: &mut Vm, mut a: Args) -> PyResult<Value> {
    let datefmt = util::arg(&mut a, 2, "datefmt").unwrap_or(Value::None);
    if a.pos.len() < 2 {
        return Err(vm.type_error("formatTime() missing 1 required positional argument: 'record'"));
    }
    let (this, record) = (a.pos[0].clone(), a.pos[1].clone());
    let created = get(vm, &record, "created")?;
    let time = eddy_vm::import::import_module(vm, "time")?;
    let localtime = get(vm, &time, "localtime")?;
    let strftime = get(vm, &time, "strftime")?;
    let ct = vm.call(&localtime, vec![created])?;
    if !datefmt.is_none() {
        return vm.call(&strftime, vec![datefmt, ct]);
    }
    let dflt = get(vm, &this, "default_time_format")?;
    let base = vm.call(&strftime, vec![dflt, ct])?;
    let msecs = get(vm, &record, "msecs")?;
    let msec_fmt = get(vm, &this, "default_msec_format")?;
    if msec_fmt.is_none() {
        return Ok(base);
    }
    let msecs = Value::Int(util::to_float(vm, &msecs)? as i64);
    ops::binary_op(vm, &msec_fmt, &Value::tuple(vec![base, msecs]), 6)
}

fn format_exc_info(vm: &mut Vm, exc_info: &Value) -> PyResult<String> {
    let exc = match exc_info {
        Value::Tuple(t) if t.len() >= 2 => t[1].clone(),
        _ => Value::None,
    };
    if exc.is_none() {
        return Ok("NoneType: None".into());
    }
    let text = eddy_vm::traceback::format_exception(vm, &exc);
    Ok(text.trim_end_matches('\n').to_string())
}

fn formatter_format(vm: &mut Vm, a: Args) -> PyResult<Value> {
    util::arity(vm, "format", &a, 2, 2)?;
    let (this, record) = (a.pos[0].clone(), a.pos[1].clone());
    let message = vm.call_method(&record, "getMessage", vec![])?;
    set(vm, &record, "message", message)?;
    let uses = vm.call_method(&this, "usesTime", vec![])?;
    if ops::truthy(vm, &uses)? {
        let datefmt = get(vm, &this, "datefmt")?;
        let t = vm.call_method(&this, "formatTime", vec![record.clone(), datefmt])?;
        set(vm, &record, "asctime", t)?;
    }
    let s = vm.call_method(&this, "formatMessage", vec![record.clone()])?;
    let mut out = ops::to_str(vm, &s)?;
    let exc_info = get(vm, &record, "exc_info")?;
    let has_exc = matches!(&exc_info, Value::Tuple(t) if !t.is_empty() && !t[0].is_none());
    if has_exc {
        let mut text = get(vm, &record, "exc_text")?;
        if text.is_none() {
            text = vm.call_method(&this, "formatException", vec![exc_info])?;
            set(vm, &record, "exc_text", text.clone())?;
        }
        let text = ops::to_str(vm, &text)?;
        if !text.is_empty() {
            if !out.ends_with('\n') {
                out.push('\n');
            }
            out.push_str(&text);
        }
    }
    Ok(Value::string(out))
}
