//! `abc`: `ABC`, `abstractmethod` and `ABCMeta`. Eddy has no metaclasses, so `ABC` itself does
//! the work: `__init_subclass__` records `__abstractmethods__` and `__new__` refuses to
//! instantiate a class that still has some, with CPython's message; `isinstance` and
//! `issubclass` ask `__eddy_subclasscheck__` when the MRO says no (vm builtins), which
//! consults `__subclasshook__`, the classes `register` added, and the ABC's subclasses, in
//! `ABCMeta.__subclasscheck__`'s order. A class naming `metaclass=ABCMeta` is not checked.

use std::rc::Rc;

use eddy_vm::objects::module::Module;
use eddy_vm::{PyResult, Vm};

pub fn init(vm: &mut Vm) -> PyResult<Rc<Module>> {
    let m = Rc::new(Module::new("abc"));
    eddy_vm::import::run_source_in(vm, &m, "<eddy abc>", SOURCE)?;
    Ok(m)
}

const SOURCE: &str = r##"def abstractmethod(funcobj):
    funcobj.__isabstractmethod__ = True
    return funcobj


def _is_abstract(value):
    if getattr(value, "__isabstractmethod__", False):
        return True
    if isinstance(value, property):
        return any(getattr(f, "__isabstractmethod__", False)
                   for f in (value.fget, value.fset, value.fdel))
    func = getattr(value, "__func__", None)
    return func is not None and getattr(func, "__isabstractmethod__", False)


def _compute_abstracts(cls):
    abstracts = {name for name, value in cls.__dict__.items() if _is_abstract(value)}
    for base in cls.__mro__[1:]:
        for name in getattr(base, "__abstractmethods__", ()):
            value = getattr(cls, name, None)
            if _is_abstract(value):
                abstracts.add(name)
    return frozenset(abstracts)


class ABCMeta(type):
    pass


class ABC:
    __abstractmethods__ = frozenset()

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls.__abstractmethods__ = _compute_abstracts(cls)

    def __new__(cls, *args, **kwargs):
        abstracts = cls.__abstractmethods__
        if abstracts:
            names = sorted(abstracts)
            s = "s" if len(names) > 1 else ""
            raise TypeError(f"Can't instantiate abstract class {cls.__name__} "
                            f"with abstract method{s} {', '.join(names)}")
        return object.__new__(cls)

    @classmethod
    def register(cls, subclass):
        if not isinstance(subclass, type):
            raise TypeError("Can only register classes")
        if issubclass(subclass, cls):
            return subclass
        if issubclass(cls, subclass):
            raise RuntimeError("Refusing to create an inheritance cycle")
        registry = cls.__dict__.get("_abc_registry")
        if registry is None:
            registry = []
            cls._abc_registry = registry
        registry.append(subclass)
        return subclass

    @classmethod
    def __subclasshook__(cls, subclass):
        return NotImplemented

    def __eddy_subclasscheck__(cls, subclass):
        ok = cls.__subclasshook__(subclass)
        if ok is not NotImplemented:
            return bool(ok)
        for rcls in cls.__dict__.get("_abc_registry", ()):
            if issubclass(subclass, rcls):
                return True
        for scls in cls.__subclasses__():
            if issubclass(subclass, scls):
                return True
        return False


def update_abstractmethods(cls):
    cls.__abstractmethods__ = _compute_abstracts(cls)
    return cls
"##;
