//! `functools`: partial, reduce, wraps/update_wrapper, lru_cache/cache (with cache_info and
//! cache_clear, bound as methods when used in a class), cached_property, cmp_to_key and
//! total_ordering, following CPython 3.11. singledispatch lives in functools_dispatch.rs.

use std::rc::Rc;

use eddy_vm::objects::class::Class;
use eddy_vm::objects::function::BoundMethod;
use eddy_vm::objects::module::Module;
use eddy_vm::value::StrKey;
use eddy_vm::{attr, ops, Args, PyResult, Value, Vm};

use crate::functools_dispatch;
use crate::native_state;
use crate::util::{self, arity, s};

pub fn init(vm: &mut Vm) -> PyResult<Rc<Module>> {
    let m = Rc::new(Module::new("functools"));
    m.set("partial", Value::Class(partial_class(vm)));
    m.set("cached_property", Value::Class(cached_property_class(vm)));
    m.set(
        "singledispatchmethod",
        Value::Class(functools_dispatch::singledispatchmethod_class(vm)),
    );
    util::defs(
        vm,
        &m,
        &[
            ("reduce", reduce),
            ("update_wrapper", update_wrapper),
            ("wraps", wraps),
            ("lru_cache", lru_cache),
            ("cache", |vm, a| {
                make_cache(
                    vm,
                    a.pos.first().cloned().unwrap_or(Value::None),
                    None,
                    false,
                )
            }),
            ("cmp_to_key", cmp_to_key),
            ("total_ordering", total_ordering),
            ("singledispatch", functools_dispatch::singledispatch),
        ],
    );
    m.set(
        "WRAPPER_ASSIGNMENTS",
        Value::tuple(ASSIGNED.iter().map(|n| Value::str(n)).collect()),
    );
    m.set(
        "WRAPPER_UPDATES",
        Value::tuple(vec![Value::str("__dict__")]),
    );
    Ok(m)
}

fn is_callable(vm: &Vm, v: &Value) -> bool {
    matches!(
        v,
        Value::Function(_)
            | Value::Native(_)
            | Value::BoundMethod(_)
            | Value::Class(_)
            | Value::StaticMethod(_)
    ) || vm.type_of(v).lookup("__call__").is_some()
}

// ---- reduce ----

fn reduce(vm: &mut Vm, a: Args) -> PyResult<Value> {
    util::no_kwargs(vm, "reduce", &a)?;
    if a.pos.len() < 2 || a.pos.len() > 3 {
        return Err(vm.type_error(format!(
            "reduce expected at least 2 arguments, got {}",
            a.pos.len()
        )));
    }
    let it = ops::get_iter(vm, &a.pos[1])
        .map_err(|_| vm.type_error("reduce() arg 2 must support iteration"))?;
    let mut acc = match a.pos.get(2) {
        Some(v) => v.clone(),
        None => match ops::iter_next(vm, &it)? {
            Some(v) => v,
            None => return Err(vm.type_error("reduce() of empty iterable with no initial value")),
        },
    };
    while let Some(v) = ops::iter_next(vm, &it)? {
        acc = vm.call(&a.pos[0], vec![acc, v])?;
    }
    Ok(acc)
}

// ---- partial ----

fn partial_class(vm: &Vm) -> Rc<Class> {
    util::shared_class(vm, "partial", |vm| {
        let cls = util::native_class(vm, "partial", "functools", None, partial_new);
        util::methods(
            vm,
            &cls,
            &[("__call__", partial_call), ("__repr__", partial_repr)],
        );
        cls
    })
}

fn partial_new(vm: &mut Vm, mut a: Args) -> PyResult<Value> {
    let cls = util::new_cls(vm, &mut a)?;
    if a.pos.is_empty() {
        return Err(vm.type_error("type 'partial' takes at least one argument"));
    }
    let mut func = a.pos.remove(0);
    if !is_callable(vm, &func) {
        return Err(vm.type_error("the first argument must be callable"));
    }
    let mut args = a.pos;
    let keywords = vm.new_dict();
    // partial(partial(f, 1), 2) flattens to partial(f, 1, 2), as CPython does.
    if vm.type_of(&func).is_subclass(&partial_class(vm))
        && Rc::ptr_eq(&vm.type_of(&func), &partial_class(vm))
    {
        let inner_args = attr::get_attr(vm, &func, "args")?;
        let inner_kw = attr::get_attr(vm, &func, "keywords")?;
        let mut all = ops::collect(vm, &inner_args)?;
        all.extend(args);
        args = all;
        ops::dict_update_from(vm, &keywords, &inner_kw, false)?;
        func = attr::get_attr(vm, &func, "func")?;
    }
    for (k, v) in a.kw {
        ops::dict_set(vm, &keywords, Value::Str(k), v)?;
    }
    let inst = util::new_native(&cls, Empty);
    if let Value::Instance(i) = &inst {
        let mut d = i.dict.borrow_mut();
        d.insert(StrKey(s("func")), func);
        d.insert(StrKey(s("args")), Value::tuple(args));
        d.insert(StrKey(s("keywords")), keywords);
    }
    Ok(inst)
}

/// Marker state for classes whose data lives in instance attributes.
struct Empty;
native_state!(Empty, |_s, _f| {}, |_c, _o| {});

fn partial_call(vm: &mut Vm, mut a: Args) -> PyResult<Value> {
    let this = a.pos.remove(0);
    let func = attr::get_attr(vm, &this, "func")?;
    let args = attr::get_attr(vm, &this, "args")?;
    let keywords = attr::get_attr(vm, &this, "keywords")?;
    let mut pos = ops::collect(vm, &args)?;
    pos.extend(a.pos);
    let mut kw: Vec<(Rc<eddy_vm::value::PyStr>, Value)> = Vec::new();
    for (k, v) in util::dict_items(&keywords).unwrap_or_default() {
        if let Value::Str(k) = k {
            if !a.kw.iter().any(|(n, _)| n.s == k.s) {
                kw.push((k, v));
            }
        }
    }
    kw.extend(a.kw);
    vm.call_args(&func, Args { pos, kw })
}

fn partial_repr(vm: &mut Vm, a: Args) -> PyResult<Value> {
    let this = &a.pos[0];
    let Some(_guard) = util::ReprGuard::enter(this) else {
        return Ok(Value::str("..."));
    };
    let func = attr::get_attr(vm, this, "func")?;
    let args = attr::get_attr(vm, this, "args")?;
    let keywords = attr::get_attr(vm, this, "keywords")?;
    let mut parts = vec![ops::repr(vm, &func)?];
    for v in ops::collect(vm, &args)? {
        parts.push(ops::repr(vm, &v)?);
    }
    for (k, v) in util::dict_items(&keywords).unwrap_or_default() {
        parts.push(format!("{}={}", ops::to_str(vm, &k)?, ops::repr(vm, &v)?));
    }
    let cls = vm.type_of(this);
    let name = if cls.name() == "partial" {
        "functools.partial".to_string()
    } else {
        ops::class_display_name(&cls)
    };
    Ok(Value::string(format!("{name}({})", parts.join(", "))))
}

// ---- wraps ----

const ASSIGNED: [&str; 5] = [
    "__module__",
    "__name__",
    "__qualname__",
    "__doc__",
    "__annotations__",
];

fn update_wrapper(vm: &mut Vm, mut a: Args) -> PyResult<Value> {
    let assigned = a.take_kw("assigned");
    let updated = a.take_kw("updated");
    let wrapped = util::arg(&mut a, 1, "wrapped").ok_or_else(|| {
        vm.type_error("update_wrapper() missing 1 required positional argument: 'wrapped'")
    })?;
    let wrapper = util::arg(&mut a, 0, "wrapper").ok_or_else(|| {
        vm.type_error(
            "update_wrapper() missing 2 required positional arguments: 'wrapper' and 'wrapped'",
        )
    })?;
    copy_attrs(vm, &wrapper, &wrapped, assigned, updated)?;
    Ok(wrapper)
}

pub(crate) fn copy_attrs(
    vm: &mut Vm,
    wrapper: &Value,
    wrapped: &Value,
    assigned: Option<Value>,
    updated: Option<Value>,
) -> PyResult<()> {
    let assigned: Vec<String> = match assigned {
        Some(v) => ops::collect(vm, &v)?
            .iter()
            .filter_map(|x| x.as_str().map(String::from))
            .collect(),
        None => ASSIGNED.iter().map(|x| x.to_string()).collect(),
    };
    for name in assigned {
        if name == "__annotations__" && !matches!(wrapped, Value::Instance(_)) {
            continue;
        }
        if let Some(v) = attr::try_get_attr(vm, wrapped, &name)? {
            // Like CPython, attributes the wrapper cannot take are skipped.
            let _ = attr::set_attr(vm, wrapper, &s(&name), v);
        }
    }
    let updated: Vec<String> = match updated {
        Some(v) => ops::collect(vm, &v)?
            .iter()
            .filter_map(|x| x.as_str().map(String::from))
            .collect(),
        None => vec!["__dict__".into()],
    };
    for name in updated {
        if name != "__dict__" {
            continue;
        }
        if let Some(d) = attr::try_get_attr(vm, wrapped, "__dict__")? {
            for (k, v) in util::dict_items(&d).unwrap_or_default() {
                if let Value::Str(k) = k {
                    let _ = attr::set_attr(vm, wrapper, &k, v);
                }
            }
        }
    }
    let _ = attr::set_attr(vm, wrapper, &s("__wrapped__"), wrapped.clone());
    Ok(())
}

fn wraps(vm: &mut Vm, mut a: Args) -> PyResult<Value> {
    let assigned = a.take_kw("assigned").unwrap_or(Value::None);
    let updated = a.take_kw("updated").unwrap_or(Value::None);
    let wrapped = util::arg(&mut a, 0, "wrapped").ok_or_else(|| {
        vm.type_error("wraps() missing 1 required positional argument: 'wrapped'")
    })?;
    let data = Value::tuple(vec![wrapped, assigned, updated]);
    Ok(vm.native_with(
        "decorating_function",
        |vm, a| {
            let Value::Tuple(t) = &a.pos[0] else {
                return Err(vm.type_error("bad wraps data"));
            };
            let Some(wrapper) = a.pos.get(1).cloned() else {
                return Err(vm.type_error(
                    "update_wrapper() missing 1 required positional argument: 'wrapper'",
                ));
            };
            let assigned = if t[1].is_none() {
                None
            } else {
                Some(t[1].clone())
            };
            let updated = if t[2].is_none() {
                None
            } else {
                Some(t[2].clone())
            };
            copy_attrs(vm, &wrapper, &t[0], assigned, updated)?;
            Ok(wrapper)
        },
        data,
    ))
}

// ---- lru_cache ----

struct Cache {
    func: Value,
    /// Results by key tuple; dict order doubles as recency order (oldest first).
    store: Value,
    maxsize: Option<usize>,
    typed: bool,
    hits: i64,
    misses: i64,
}

native_state!(
    Cache,
    |st, f| {
        f(&st.func);
        f(&st.store);
    },
    |st, out| {
        out.push(std::mem::replace(&mut st.func, Value::None));
        out.push(std::mem::replace(&mut st.store, Value::None));
    }
);

fn cache_class(vm: &Vm) -> Rc<Class> {
    util::shared_class(vm, "_lru_cache_wrapper", |vm| {
        let cls = util::plain_class("_lru_cache_wrapper", "functools", vm.types.object.clone());
        util::methods(
            vm,
            &cls,
            &[
                ("__call__", cache_call),
                ("cache_info", cache_info),
                ("cache_clear", |vm, a| {
                    let store =
                        util::state(vm, &a.pos[0], "_lru_cache_wrapper", |c: &mut Cache| {
                            c.hits = 0;
                            c.misses = 0;
                            c.store.clone()
                        })?;
                    if let Some(d) = ops::dict_of(&store) {
                        d.borrow_mut().clear();
                    }
                    Ok(Value::None)
                }),
                ("cache_parameters", |vm, a| {
                    let (maxsize, typed) =
                        util::state(vm, &a.pos[0], "_lru_cache_wrapper", |c: &mut Cache| {
                            (c.maxsize, c.typed)
                        })?;
                    let d = vm.new_dict();
                    ops::dict_set(
                        vm,
                        &d,
                        Value::str("maxsize"),
                        maxsize.map(|m| Value::Int(m as i64)).unwrap_or(Value::None),
                    )?;
                    ops::dict_set(vm, &d, Value::str("typed"), Value::Bool(typed))?;
                    Ok(d)
                }),
                ("__get__", |_vm, a| {
                    // Used as a method: bind to the instance, as a function would be.
                    match a.pos.get(1) {
                        Some(obj) if !obj.is_none() => {
                            Ok(Value::BoundMethod(Rc::new(BoundMethod {
                                func: a.pos[0].clone(),
                                receiver: obj.clone(),
                            })))
                        }
                        _ => Ok(a.pos[0].clone()),
                    }
                }),
                ("__repr__", |vm, a| {
                    let func =
                        util::state(vm, &a.pos[0], "_lru_cache_wrapper", |c: &mut Cache| {
                            c.func.clone()
                        })?;
                    Ok(Value::string(format!(
                        "<functools._lru_cache_wrapper object at 0x{:x}> wrapping {}",
                        a.pos[0].ptr_id().unwrap_or(0),
                        ops::repr(vm, &func)?
                    )))
                }),
            ],
        );
        cls
    })
}

fn lru_cache(vm: &mut Vm, mut a: Args) -> PyResult<Value> {
    let typed = match a.take_kw("typed") {
        Some(v) => ops::truthy(vm, &v)?,
        None => a
            .pos
            .get(1)
            .map(|v| ops::truthy(vm, v))
            .transpose()?
            .unwrap_or(false),
    };
    let maxsize = a
        .take_kw("maxsize")
        .or_else(|| a.pos.first().cloned())
        .unwrap_or(Value::Int(128));
    util::no_kwargs(vm, "lru_cache", &a)?;
    match &maxsize {
        // `@lru_cache` without parentheses: the argument is the function.
        v if is_callable(vm, v) && !matches!(v, Value::Int(_)) => {
            make_cache(vm, maxsize.clone(), Some(128), typed)
        }
        Value::None => Ok(vm.native_with(
            "decorating_function",
            |vm, a| {
                make_cache(
                    vm,
                    a.pos[1].clone(),
                    None,
                    matches!(a.pos[0], Value::Bool(true)),
                )
            },
            Value::Bool(typed),
        )),
        Value::Int(n) => {
            let n = (*n).max(0) as usize;
            let data = Value::tuple(vec![Value::Int(n as i64), Value::Bool(typed)]);
            Ok(vm.native_with(
                "decorating_function",
                |vm, a| {
                    let Value::Tuple(t) = &a.pos[0] else {
                        return Err(vm.type_error("bad lru_cache data"));
                    };
                    let n = if let Value::Int(n) = t[0] {
                        n as usize
                    } else {
                        128
                    };
                    make_cache(
                        vm,
                        a.pos[1].clone(),
                        Some(n),
                        matches!(t[1], Value::Bool(true)),
                    )
                },
                data,
            ))
        }
        _ => Err(vm.type_error("Expected first argument to be an integer, a callable, or None")),
    }
}

fn make_cache(vm: &mut Vm, func: Value, maxsize: Option<usize>, typed: bool) -> PyResult<Value> {
    if !is_callable(vm, &func) {
        return Err(vm.type_error("the first argument must be callable"));
    }
    let cls = cache_class(vm);
    let store = vm.new_dict();
    let w = util::new_native(
        &cls,
        Cache {
            func: func.clone(),
            store,
            maxsize,
            typed,
            hits: 0,
            misses: 0,
        },
    );
    copy_attrs(vm, &w, &func, None, None)?;
    Ok(w)
}

fn cache_key(vm: &Vm, a: &Args, typed: bool) -> Value {
    let mut key = a.pos.clone();
    if !a.kw.is_empty() {
        key.push(Value::str("\u{0}kwd_mark"));
        for (k, v) in &a.kw {
            key.push(Value::Str(k.clone()));
            key.push(v.clone());
        }
    }
    if typed {
        let types: Vec<Value> = key.iter().map(|v| Value::Class(vm.type_of(v))).collect();
        key.extend(types);
    }
    // A single argument of a simple type is its own key, as in CPython.
    if key.len() == 1 && matches!(key[0], Value::Int(_) | Value::Str(_)) {
        return key.pop().unwrap_or(Value::None);
    }
    Value::tuple(key)
}

fn cache_call(vm: &mut Vm, mut a: Args) -> PyResult<Value> {
    let this = a.pos.remove(0);
    let (func, store, maxsize, typed) =
        util::state(vm, &this, "_lru_cache_wrapper", |c: &mut Cache| {
            (c.func.clone(), c.store.clone(), c.maxsize, c.typed)
        })?;
    if maxsize == Some(0) {
        util::state(vm, &this, "_lru_cache_wrapper", |c: &mut Cache| {
            c.misses += 1
        })?;
        return vm.call_args(&func, a);
    }
    let key = cache_key(vm, &a, typed);
    let d = util::dict_data(vm, &store)?;
    if let Some(v) = ops::dict_get_in(vm, &d, &key)? {
        util::state(vm, &this, "_lru_cache_wrapper", |c: &mut Cache| c.hits += 1)?;
        if maxsize.is_some() {
            // Most recently used moves to the end.
            ops::dict_del_in(vm, &d, &key)?;
            ops::dict_set_in(vm, &d, key, v.clone())?;
        }
        return Ok(v);
    }
    util::state(vm, &this, "_lru_cache_wrapper", |c: &mut Cache| {
        c.misses += 1
    })?;
    let r = vm.call_args(&func, a)?;
    if ops::dict_get_in(vm, &d, &key)?.is_none() {
        if let Some(max) = maxsize {
            while d.borrow().len() >= max {
                let oldest = d.borrow().iter().next().map(|e| e.key.clone());
                match oldest {
                    Some(k) => {
                        ops::dict_del_in(vm, &d, &k)?;
                    }
                    None => break,
                }
            }
        }
        ops::dict_set_in(vm, &d, key, r.clone())?;
    }
    Ok(r)
}

fn cache_info(vm: &mut Vm, a: Args) -> PyResult<Value> {
    let (hits, misses, maxsize, store) =
        util::state(vm, &a.pos[0], "_lru_cache_wrapper", |c: &mut Cache| {
            (c.hits, c.misses, c.maxsize, c.store.clone())
        })?;
    let size = ops::dict_of(&store).map(|d| d.borrow().len()).unwrap_or(0);
    let cls = util::shared_class(vm, "CacheInfo", |vm| {
        util::struct_seq_class(vm, "CacheInfo", "")
    });
    Ok(util::struct_seq(
        &cls,
        &[
            ("hits", Value::Int(hits)),
            ("misses", Value::Int(misses)),
            (
                "maxsize",
                maxsize.map(|m| Value::Int(m as i64)).unwrap_or(Value::None),
            ),
            ("currsize", Value::Int(size as i64)),
        ],
        &[],
    ))
}

// ---- cached_property ----

fn cached_property_class(vm: &Vm) -> Rc<Class> {
    util::shared_class(vm, "cached_property", |vm| {
        let cls = util::plain_class("cached_property", "functools", vm.types.object.clone());
        util::methods(
            vm,
            &cls,
            &[
                ("__init__", |vm, a| {
                    arity(vm, "cached_property", &a, 2, 2)?;
                    let this = &a.pos[0];
                    let func = a.pos[1].clone();
                    attr::set_attr(vm, this, &s("func"), func.clone())?;
                    attr::set_attr(vm, this, &s("attrname"), Value::None)?;
                    if let Some(doc) = attr::try_get_attr(vm, &func, "__doc__")? {
                        attr::set_attr(vm, this, &s("__doc__"), doc)?;
                    }
                    Ok(Value::None)
                }),
                ("__set_name__", |vm, a| {
                    arity(vm, "__set_name__", &a, 3, 3)?;
                    attr::set_attr(vm, &a.pos[0], &s("attrname"), a.pos[2].clone())?;
                    Ok(Value::None)
                }),
                ("__get__", |vm, a| {
                    let this = a.pos[0].clone();
                    let obj = a.pos.get(1).cloned().unwrap_or(Value::None);
                    if obj.is_none() {
                        return Ok(this);
                    }
                    let func = attr::get_attr(vm, &this, "func")?;
                    let mut name = attr::get_attr(vm, &this, "attrname")?;
                    if name.is_none() {
                        name = attr::get_attr(vm, &func, "__name__")?;
                    }
                    let v = vm.call(&func, vec![obj.clone()])?;
                    if let (Value::Instance(i), Value::Str(n)) = (&obj, &name) {
                        i.dict.borrow_mut().insert(StrKey(n.clone()), v.clone());
                    }
                    Ok(v)
                }),
            ],
        );
        cls
    })
}

// ---- cmp_to_key ----

struct KeyWrapper {
    cmp: Value,
    obj: Value,
}

native_state!(
    KeyWrapper,
    |st, f| {
        f(&st.cmp);
        f(&st.obj);
    },
    |st, out| {
        out.push(std::mem::replace(&mut st.cmp, Value::None));
        out.push(std::mem::replace(&mut st.obj, Value::None));
    }
);

fn key_class(vm: &Vm) -> Rc<Class> {
    util::shared_class(vm, "KeyWrapper", |vm| {
        let cls = util::plain_class("KeyWrapper", "functools", vm.types.object.clone());
        util::methods(
            vm,
            &cls,
            &[
                ("__lt__", |vm, a| key_compare(vm, a, 2)),
                ("__le__", |vm, a| key_compare(vm, a, 3)),
                ("__gt__", |vm, a| key_compare(vm, a, 4)),
                ("__ge__", |vm, a| key_compare(vm, a, 5)),
                ("__eq__", |vm, a| key_compare(vm, a, 0)),
                ("__ne__", |vm, a| key_compare(vm, a, 1)),
            ],
        );
        cls.set_attr(s("__hash__"), Value::None);
        cls
    })
}

fn cmp_to_key(vm: &mut Vm, mut a: Args) -> PyResult<Value> {
    let cmp = util::arg(&mut a, 0, "mycmp")
        .ok_or_else(|| vm.type_error("cmp_to_key() missing required argument 'mycmp' (pos 1)"))?;
    Ok(vm.native_with(
        "K",
        |vm, a| {
            if a.pos.len() != 2 {
                return Err(vm.type_error(format!(
                    "K() takes exactly 1 argument ({} given)",
                    a.pos.len() - 1
                )));
            }
            let cls = key_class(vm);
            Ok(util::new_native(
                &cls,
                KeyWrapper {
                    cmp: a.pos[0].clone(),
                    obj: a.pos[1].clone(),
                },
            ))
        },
        cmp,
    ))
}

fn key_compare(vm: &mut Vm, a: Args, op: u8) -> PyResult<Value> {
    arity(vm, "compare", &a, 2, 2)?;
    let (cmp, x) = util::state(
        vm,
        &a.pos[0],
        "functools.KeyWrapper",
        |k: &mut KeyWrapper| (k.cmp.clone(), k.obj.clone()),
    )?;
    let Some(y) = util::with_state(&a.pos[1], |k: &mut KeyWrapper| k.obj.clone()) else {
        return Err(vm.type_error("other argument must be K instance"));
    };
    let r = vm.call(&cmp, vec![x, y])?;
    ops::compare(vm, &r, &Value::Int(0), op)
}

// ---- total_ordering ----

/// `@total_ordering`: fills in the missing comparisons from the one the class defines.
fn total_ordering(vm: &mut Vm, a: Args) -> PyResult<Value> {
    arity(vm, "total_ordering", &a, 1, 1)?;
    let Value::Class(cls) = &a.pos[0] else {
        return Err(vm.type_error("total_ordering expects a class"));
    };
    let object = vm.types.object.clone();
    let defined = |name: &str| -> bool {
        match (cls.lookup(name), object.lookup(name)) {
            (Some(Value::Native(x)), Some(Value::Native(y))) => !Rc::ptr_eq(&x, &y),
            (Some(_), None) => true,
            (Some(_), Some(_)) => true,
            _ => false,
        }
    };
    // CPython picks max() of the defined names: __lt__ > __le__ > __gt__ > __ge__.
    let root = ["__lt__", "__le__", "__gt__", "__ge__"]
        .into_iter()
        .find(|n| defined(n));
    let Some(root) = root else {
        return Err(vm.value_error("must define at least one ordering operation: < > <= >="));
    };
    let derived: &[(&str, i64)] = match root {
        "__lt__" => &[("__gt__", 0), ("__le__", 1), ("__ge__", 2)],
        "__le__" => &[("__ge__", 3), ("__lt__", 4), ("__gt__", 2)],
        "__gt__" => &[("__lt__", 0), ("__ge__", 1), ("__le__", 2)],
        _ => &[("__le__", 3), ("__gt__", 4), ("__lt__", 2)],
    };
    for (name, how) in derived {
        if cls.dict.borrow().contains_key(*name) {
            continue;
        }
        let data = Value::tuple(vec![Value::str(root), Value::Int(*how)]);
        cls.set_attr(s(name), vm.native_with(name, derived_compare, data));
    }
    Ok(a.pos[0].clone())
}

/// A comparison derived from `root`: how 0 = `not r and self != other`, 1 = `r or self == other`,
/// 2 = `not r`, 3 = `not r or self == other`, 4 = `r and self != other`.
fn derived_compare(vm: &mut Vm, a: Args) -> PyResult<Value> {
    let Value::Tuple(t) = &a.pos[0] else {
        return Err(vm.type_error("bad total_ordering data"));
    };
    if a.pos.len() != 3 {
        return Err(vm.type_error("comparison takes exactly one argument"));
    }
    let (this, other) = (a.pos[1].clone(), a.pos[2].clone());
    let root = t[0].as_str().unwrap_or("__lt__").to_string();
    let how = if let Value::Int(h) = t[1] { h } else { 0 };
    let f = vm
        .type_of(&this)
        .lookup(&root)
        .ok_or_else(|| vm.type_error("missing root comparison"))?;
    let r = vm.call(&f, vec![this.clone(), other.clone()])?;
    if matches!(r, Value::NotImplemented) {
        return Ok(r);
    }
    let r = ops::truthy(vm, &r)?;
    let result = match how {
        0 => !r && !ops::eq(vm, &this, &other)?,
        1 => r || ops::eq(vm, &this, &other)?,
        2 => !r,
        3 => !r || ops::eq(vm, &this, &other)?,
        _ => r && !ops::eq(vm, &this, &other)?,
    };
    Ok(Value::Bool(result))
}
