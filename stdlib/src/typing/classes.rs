//! `typing.Generic`, `typing.Protocol` (with `runtime_checkable`), the aliases that
//! subscripting a generic class makes (`Box[int]`), `typing.NamedTuple` and
//! `typing.TypedDict`, written in Python (below). A runtime-checkable protocol answers
//! `isinstance` through `__eddy_instancecheck__`, which the VM consults where CPython's
//! `_ProtocolMeta.__instancecheck__` would run. Eddy has no
//! metaclasses, so a class statement naming them as a base builds the class through
//! `__init_subclass__`: a NamedTuple subclass is a tuple subclass with field properties,
//! CPython's `__new__` argument errors, `_make`/`_replace`/`_asdict`; calling a TypedDict
//! subclass makes a plain dict. Both functional forms (`NamedTuple("P", [...])`) work too.

use std::rc::Rc;

use eddy_vm::objects::module::Module;
use eddy_vm::{PyResult, Vm};

pub fn install(vm: &mut Vm, m: &Rc<Module>) -> PyResult<()> {
    eddy_vm::import::run_source_in(vm, m, "<eddy typing>", SOURCE)?;
    Ok(())
}

const SOURCE: &str = r##"from operator import itemgetter as _itemgetter


def _type_repr(obj):
    if isinstance(obj, type):
        if obj.__module__ == "builtins":
            return obj.__qualname__
        return f"{obj.__module__}.{obj.__qualname__}"
    if obj is ...:
        return "..."
    return repr(obj)


class _GenericAlias:
    def __init__(self, origin, args):
        if not isinstance(args, tuple):
            args = (args,)
        self.__origin__ = origin
        self.__args__ = args
        self.__parameters__ = tuple(a for a in args if type(a).__name__ == "_SpecialForm"
                                    and repr(a).startswith("~"))

    def __repr__(self):
        args = ", ".join(_type_repr(a) for a in self.__args__)
        return f"{_type_repr(self.__origin__)}[{args}]"

    def __call__(self, *args, **kwargs):
        result = self.__origin__(*args, **kwargs)
        try:
            result.__orig_class__ = self
        except Exception:
            pass
        return result

    def __mro_entries__(self, bases):
        if self.__origin__ is Generic:
            if Protocol in bases:
                return ()
            i = bases.index(self)
            for b in bases[i + 1:]:
                if isinstance(b, _GenericAlias) and b is not self:
                    return ()
        return (self.__origin__,)

    def __eq__(self, other):
        if not isinstance(other, _GenericAlias):
            return NotImplemented
        return self.__origin__ is other.__origin__ and self.__args__ == other.__args__

    def __hash__(self):
        return hash((self.__origin__, self.__args__))

    def __getattr__(self, attr):
        if attr.startswith("__") and attr.endswith("__"):
            raise AttributeError(attr)
        return getattr(self.__origin__, attr)

    def __or__(self, other):
        return Union[self, other]

    def __ror__(self, other):
        return Union[other, self]


class Generic:
    def __class_getitem__(cls, params):
        return _GenericAlias(cls, params)


_EXCLUDED_ATTRIBUTES = frozenset([
    "__parameters__", "__orig_bases__", "__orig_class__", "_is_protocol",
    "_is_runtime_protocol", "__abstractmethods__", "__annotations__", "__dict__", "__doc__",
    "__init__", "__module__", "__new__", "__slots__", "__subclasshook__", "__weakref__",
    "__class_getitem__", "__qualname__", "__init_subclass__", "__eddy_instancecheck__",
])


def _get_protocol_attrs(cls):
    attrs = set()
    for base in cls.__mro__[:-1]:
        if base.__name__ in ("Protocol", "Generic"):
            continue
        annotations = base.__dict__.get("__annotations__", {})
        for attr in list(base.__dict__.keys()) + list(annotations.keys()):
            if not attr.startswith("_abc_") and attr not in _EXCLUDED_ATTRIBUTES:
                attrs.add(attr)
    return attrs


class Protocol(Generic):
    _is_protocol = True
    _is_runtime_protocol = False

    def __init_subclass__(cls, *args, **kwargs):
        super().__init_subclass__(*args, **kwargs)
        if not cls.__dict__.get("_is_protocol", False):
            cls._is_protocol = any(b is Protocol for b in cls.__bases__)

    # CPython's _ProtocolMeta.__instancecheck__, once the plain check has failed.
    @classmethod
    def __eddy_instancecheck__(cls, instance):
        if not cls._is_protocol:
            return False
        if not cls._is_runtime_protocol:
            raise TypeError("Instance and class checks can only be used with"
                            " @runtime_checkable protocols")
        for attr in _get_protocol_attrs(cls):
            if not hasattr(instance, attr):
                return False
            if callable(getattr(cls, attr, None)) and getattr(instance, attr) is None:
                return False
        return True


def runtime_checkable(cls):
    if not (isinstance(cls, type) and issubclass(cls, Generic) and cls._is_protocol):
        raise TypeError("@runtime_checkable can be only applied to protocol classes,"
                        " got %r" % cls)
    cls._is_runtime_protocol = True
    return cls


def _make_nt_class(name, fields, module=None):
    ns = {"__annotations__": dict(fields)}
    if module is not None:
        ns["__module__"] = module
    cls = type(name, (NamedTuple,), ns)
    if "_fields" not in cls.__dict__:
        _setup_namedtuple(cls)
    return cls


def _setup_namedtuple(cls):
    types = cls.__dict__.get("__annotations__", {})
    fields = tuple(types)
    defaults = {}
    for name in fields:
        if name.startswith("_"):
            raise ValueError(f"Field names cannot start with an underscore: {name!r}")
        if name in cls.__dict__:
            defaults[name] = cls.__dict__[name]
        elif defaults:
            raise TypeError(f"Non-default namedtuple field {name} cannot follow "
                            f"default field{'s' if len(defaults) > 1 else ''} "
                            f"{', '.join(defaults)}")
    cls._fields = fields
    cls._field_defaults = defaults
    cls.__match_args__ = fields
    for index, name in enumerate(fields):
        setattr(cls, name, property(_itemgetter(index), doc=f"Alias for field number {index}"))


class NamedTuple(tuple):
    _fields = ()
    _field_defaults = {}

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        _setup_namedtuple(cls)

    def __new__(cls, *args, **kwargs):
        if cls is NamedTuple:
            return _make_nt_class(*args, **kwargs)
        fields = cls._fields
        qual = f"{cls.__name__}.__new__()"
        if len(args) > len(fields):
            lo = len(fields) - len(cls._field_defaults) + 1
            hi = len(fields) + 1
            if lo == hi:
                takes = f"{hi} positional argument{'s' if hi != 1 else ''}"
            else:
                takes = f"from {lo} to {hi} positional arguments"
            raise TypeError(f"{qual} takes {takes} but {len(args) + 1} were given")
        values = list(args)
        for name in kwargs:
            if name not in fields:
                raise TypeError(f"{qual} got an unexpected keyword argument {name!r}")
            if fields.index(name) < len(args):
                raise TypeError(f"{qual} got multiple values for argument {name!r}")
        missing = []
        for name in fields[len(args):]:
            if name in kwargs:
                values.append(kwargs[name])
            elif name in cls._field_defaults:
                values.append(cls._field_defaults[name])
            else:
                missing.append(name)
        if missing:
            names = [repr(m) for m in missing]
            if len(names) == 1:
                listed = names[0]
            else:
                listed = ", ".join(names[:-1]) + " and " + names[-1]
            raise TypeError(f"{qual} missing {len(missing)} required positional "
                            f"argument{'s' if len(missing) > 1 else ''}: {listed}")
        return tuple.__new__(cls, values)

    @classmethod
    def _make(cls, iterable):
        result = tuple.__new__(cls, iterable)
        if len(result) != len(cls._fields):
            raise TypeError(f"Expected {len(cls._fields)} arguments, got {len(result)}")
        return result

    def _replace(self, /, **kwds):
        result = self._make(map(kwds.pop, self._fields, self))
        if kwds:
            raise ValueError(f"Got unexpected field names: {list(kwds)!r}")
        return result

    def _asdict(self):
        return dict(zip(self._fields, self))

    def __repr__(self):
        parts = ", ".join(f"{name}={value!r}" for name, value in zip(self._fields, self))
        return f"{type(self).__name__}({parts})"

    def __getnewargs__(self):
        return tuple(self)


class TypedDict(dict):
    __total__ = True

    def __init_subclass__(cls, total=True, **kwargs):
        super().__init_subclass__(**kwargs)
        cls.__total__ = total
        keys = set(cls.__dict__.get("__annotations__", {}))
        if total:
            cls.__required_keys__ = frozenset(keys)
            cls.__optional_keys__ = frozenset()
        else:
            cls.__required_keys__ = frozenset()
            cls.__optional_keys__ = frozenset(keys)

    def __new__(cls, *args, **kwargs):
        if cls is TypedDict:
            name, fields = args[0], (args[1] if len(args) > 1 else {})
            total = kwargs.pop("total", True)
            cls = type(name, (TypedDict,), {"__annotations__": dict(fields)})
            TypedDict.__init_subclass__.__func__(cls, total=total)
            return cls
        return dict(*args, **kwargs)
"##;
