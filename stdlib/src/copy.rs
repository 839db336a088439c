//! `copy`: shallow `copy` and `deepcopy` (memo dict for shared and cyclic references, `__copy__`/
//! `__deepcopy__` hooks, instances rebuilt from their `__dict__`), written in Python (below).

use std::rc::Rc;

use eddy_vm::objects::module::Module;
use eddy_vm::{PyResult, Vm};

pub fn init(vm: &mut Vm) -> PyResult<Rc<Module>> {
    let m = Rc::new(Module::new("copy"));
    eddy_vm::import::run_source_in(vm, &m, "<eddy copy>", SOURCE)?;
    Ok(m)
}

const SOURCE: &str = r##"class Error(Exception):
    pass


error = Error

_atomic = (type(None), int, float, bool, str, bytes, type, range,
           type(len), type(lambda: 0), type(Ellipsis), type(NotImplemented), property)


def copy(x):
    cls = type(x)
    if cls in _atomic or isinstance(x, type):
        return x
    if cls is list:
        return x[:]
    if cls is dict:
        return x.copy()
    if cls is set:
        return x.copy()
    if cls is tuple or cls is frozenset:
        return x
    copier = getattr(cls, '__copy__', None)
    if copier is not None:
        return copier(x)
    return _reconstruct(x, None)


def _reconstruct(x, memo):
    cls = type(x)
    if hasattr(x, 'appendleft') and hasattr(x, 'maxlen'):
        # A deque (its items live in Rust state, not in __dict__).
        items = list(x)
        if memo is not None:
            items = deepcopy(items, memo)
        y = cls(items, x.maxlen)
        if memo is not None:
            memo[id(x)] = y
        return y
    if isinstance(x, tuple) and hasattr(x, '_fields'):
        args = list(x)
        if memo is not None:
            args = [deepcopy(a, memo) for a in args]
        return cls(*args)
    if isinstance(x, BaseException):
        y = cls(*x.args)
    elif isinstance(x, (list, dict, set)):
        y = cls.__new__(cls)
    else:
        y = object.__new__(cls)
    if memo is not None:
        memo[id(x)] = y
    state = getattr(x, '__dict__', None)
    if hasattr(x, '__getstate__') and not hasattr(object, '__getstate__'):
        state = x.__getstate__()
    if state:
        if memo is not None:
            state = deepcopy(state, memo)
        if hasattr(y, '__setstate__'):
            y.__setstate__(state)
        else:
            for k, v in state.items():
                object.__setattr__(y, k, v)
    if isinstance(x, list):
        y.extend([deepcopy(v, memo) for v in x] if memo is not None else x)
    elif isinstance(x, dict):
        for k, v in x.items():
            if memo is not None:
                k, v = deepcopy(k, memo), deepcopy(v, memo)
            y[k] = v
    elif isinstance(x, set):
        for v in x:
            y.add(deepcopy(v, memo) if memo is not None else v)
    return y


def deepcopy(x, memo=None, _nil=[]):
    if memo is None:
        memo = {}
    d = id(x)
    y = memo.get(d, _nil)
    if y is not _nil:
        return y
    cls = type(x)
    if cls in _atomic or isinstance(x, type):
        return x
    if cls is list:
        y = []
        memo[d] = y
        for a in x:
            y.append(deepcopy(a, memo))
    elif cls is dict:
        y = {}
        memo[d] = y
        for k, v in x.items():
            y[deepcopy(k, memo)] = deepcopy(v, memo)
    elif cls is set:
        y = set()
        memo[d] = y
        for v in x:
            y.add(deepcopy(v, memo))
    elif cls is tuple:
        items = [deepcopy(a, memo) for a in x]
        if d in memo:
            return memo[d]
        same = True
        for k, j in zip(x, items):
            if k is not j:
                same = False
                break
        y = x if same else tuple(items)
    elif cls is frozenset:
        y = frozenset(deepcopy(v, memo) for v in x)
    else:
        copier = getattr(x, '__deepcopy__', None)
        if copier is not None:
            y = copier(memo)
        else:
            y = _reconstruct(x, memo)
    if y is not x:
        memo[d] = y
        _keep_alive(x, memo)
    return y


def _keep_alive(x, memo):
    try:
        memo[id(memo)].append(x)
    except KeyError:
        memo[id(memo)] = [x]


def replace(obj, /, **changes):
    cls = obj.__class__
    func = getattr(cls, '__replace__', None)
    if func is None:
        raise TypeError(f"replace() does not support {cls.__name__} objects")
    return func(obj, **changes)
"##;
