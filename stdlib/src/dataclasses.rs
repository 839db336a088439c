//! `dataclasses`: the `@dataclass` decorator, `field`, `fields`, `asdict`/`astuple`, `replace` and
//! `FrozenInstanceError`, written in Python (below) as CPython's own module is: the generated
//! `__init__` binds arguments itself, with CPython's TypeError wording, since Eddy has no `exec`.

use std::rc::Rc;

use eddy_vm::objects::module::Module;
use eddy_vm::{PyResult, Vm};

pub fn init(vm: &mut Vm) -> PyResult<Rc<Module>> {
    let m = Rc::new(Module::new("dataclasses"));
    eddy_vm::import::run_source_in(vm, &m, "<eddy dataclasses>", SOURCE)?;
    Ok(m)
}

const SOURCE: &str = r##"import copy as _copy


class FrozenInstanceError(AttributeError):
    pass


class _MISSING_TYPE:
    pass


MISSING = _MISSING_TYPE()


class _KW_ONLY_TYPE:
    pass


KW_ONLY = _KW_ONLY_TYPE()


class InitVar:
    def __init__(self, type):
        self.type = type

    def __repr__(self):
        if isinstance(self.type, type):
            name = self.type.__name__
        else:
            name = repr(self.type)
        return f'dataclasses.InitVar[{name}]'

    def __class_getitem__(cls, type):
        return InitVar(type)


_FIELD = 'field'
_FIELD_CLASSVAR = 'classvar'
_FIELD_INITVAR = 'initvar'


class Field:
    def __init__(self, default, default_factory, init, repr, hash, compare, metadata, kw_only):
        self.name = None
        self.type = None
        self.default = default
        self.default_factory = default_factory
        self.init = init
        self.repr = repr
        self.hash = hash
        self.compare = compare
        self.metadata = {} if metadata is None else metadata
        self.kw_only = kw_only
        self._field_type = None

    def __repr__(self):
        return ('Field('
                f'name={self.name!r},'
                f'type={self.type!r},'
                f'default={self.default!r},'
                f'default_factory={self.default_factory!r},'
                f'init={self.init!r},'
                f'repr={self.repr!r},'
                f'hash={self.hash!r},'
                f'compare={self.compare!r},'
                f'metadata={self.metadata!r},'
                f'kw_only={self.kw_only!r},'
                f'_field_type={self._field_type}'
                ')')


def field(*, default=MISSING, default_factory=MISSING, init=True, repr=True,
          hash=None, compare=True, metadata=None, kw_only=MISSING):
    if default is not MISSING and default_factory is not MISSING:
        raise ValueError('cannot specify both default and default_factory')
    return Field(default, default_factory, init, repr, hash, compare, metadata, kw_only)


def _is_classvar(tp):
    if isinstance(tp, str):
        return tp.startswith('ClassVar') or tp.startswith('typing.ClassVar')
    if isinstance(tp, type):
        return False
    r = repr(tp)
    return r == 'typing.ClassVar' or r.startswith('typing.ClassVar[')


def _is_initvar(tp):
    if tp is InitVar or isinstance(tp, InitVar):
        return True
    return isinstance(tp, str) and (tp.startswith('InitVar') or tp.startswith('dataclasses.InitVar'))


def _is_kw_only(tp):
    if tp is KW_ONLY:
        return True
    return isinstance(tp, str) and (tp == 'KW_ONLY' or tp == 'dataclasses.KW_ONLY')


def _unhashable(value):
    if isinstance(value, (list, dict, set)):
        return True
    return getattr(type(value), '__hash__', 0) is None


def _get_field(cls, a_name, a_type, default_kw_only):
    default = cls.__dict__.get(a_name, MISSING)
    if isinstance(default, Field):
        f = default
    else:
        f = field(default=default)
    f.name = a_name
    f.type = a_type
    f._field_type = _FIELD
    if _is_classvar(a_type):
        f._field_type = _FIELD_CLASSVAR
    elif _is_initvar(a_type):
        f._field_type = _FIELD_INITVAR
    if f._field_type in (_FIELD_CLASSVAR, _FIELD_INITVAR):
        if f.default_factory is not MISSING:
            raise TypeError(f'field {f.name} cannot have a default factory')
    if f._field_type in (_FIELD, _FIELD_INITVAR):
        if f.kw_only is MISSING:
            f.kw_only = default_kw_only
    else:
        if f.kw_only is not MISSING:
            raise TypeError(f'field {f.name} is a ClassVar but specifies kw_only')
    if f._field_type is _FIELD and _unhashable(f.default):
        raise ValueError(f'mutable default {type(f.default)} for field '
                         f'{f.name} is not allowed: use default_factory')
    return f


def _set_new_attribute(cls, name, value):
    if name in cls.__dict__:
        return True
    setattr(cls, name, value)
    return False


def _join_names(names):
    quoted = [f"'{n}'" for n in names]
    if len(quoted) == 1:
        return quoted[0]
    if len(quoted) == 2:
        return f'{quoted[0]} and {quoted[1]}'
    return ', '.join(quoted[:-1]) + ', and ' + quoted[-1]


def _plural(n, word):
    return f'{n} {word}' if n == 1 else f'{n} {word}s'


def _make_init(cls, fields, std_fields, kw_only_fields, frozen, has_post_init):
    qualname = f'{cls.__qualname__}.__init__'
    n_pos = len(std_fields)
    n_required = len([f for f in std_fields
                      if f.default is MISSING and f.default_factory is MISSING])
    names = [f.name for f in std_fields] + [f.name for f in kw_only_fields]
    initvars = [f.name for f in fields if f._field_type is _FIELD_INITVAR]

    # Fast path: every field given positionally, nothing computed.
    simple = (not kw_only_fields and not initvars
              and all(f._field_type is _FIELD and f.init for f in fields))
    pos_names = tuple(f.name for f in std_fields)

    def __init__(self, *args, **kwargs):
        if simple and not kwargs and len(args) == n_pos:
            if frozen:
                for name, value in zip(pos_names, args):
                    object.__setattr__(self, name, value)
            else:
                for name, value in zip(pos_names, args):
                    setattr(self, name, value)
            if has_post_init:
                self.__post_init__()
            return
        if len(args) > n_pos:
            if n_required < n_pos:
                takes = f'from {n_required + 1} to {n_pos + 1} positional arguments'
            else:
                takes = _plural(n_pos + 1, 'positional argument')
            given = len(args) + 1
            was = 'was' if given == 1 else 'were'
            raise TypeError(f'{qualname}() takes {takes} but {given} {was} given')
        values = {}
        for f, v in zip(std_fields, args):
            values[f.name] = v
        for k, v in kwargs.items():
            if k not in names:
                raise TypeError(f"{qualname}() got an unexpected keyword argument '{k}'")
            if k in values:
                raise TypeError(f"{qualname}() got multiple values for argument '{k}'")
            values[k] = v
        missing = [f.name for f in std_fields if f.name not in values
                   and f.default is MISSING and f.default_factory is MISSING]
        if missing:
            raise TypeError(f'{qualname}() missing {_plural(len(missing), "required positional argument")}: '
                            f'{_join_names(missing)}')
        missing = [f.name for f in kw_only_fields if f.name not in values
                   and f.default is MISSING and f.default_factory is MISSING]
        if missing:
            raise TypeError(f'{qualname}() missing {_plural(len(missing), "required keyword-only argument")}: '
                            f'{_join_names(missing)}')
        for f in fields:
            if f._field_type is not _FIELD:
                continue
            if f.init:
                if f.name in values:
                    value = values[f.name]
                elif f.default_factory is not MISSING:
                    value = f.default_factory()
                else:
                    value = f.default
            elif f.default_factory is not MISSING:
                value = f.default_factory()
            else:
                continue
            if frozen:
                object.__setattr__(self, f.name, value)
            else:
                setattr(self, f.name, value)
        if has_post_init:
            args = []
            for name in initvars:
                if name in values:
                    args.append(values[name])
                else:
                    for f in fields:
                        if f.name == name:
                            args.append(f.default)
            self.__post_init__(*args)

    __init__.__qualname__ = qualname
    return __init__


_repr_running = set()


def _make_repr(fields):
    shown = [f for f in fields if f.repr]

    def __repr__(self):
        key = (id(self),)
        if key in _repr_running:
            return '...'
        _repr_running.add(key)
        try:
            parts = [f'{f.name}={getattr(self, f.name)!r}' for f in shown]
        finally:
            _repr_running.discard(key)
        return f'{self.__class__.__qualname__}({", ".join(parts)})'
    return __repr__


def _tuple_of(self, fields):
    return tuple([getattr(self, f.name) for f in fields])


def _make_eq(fields):
    def __eq__(self, other):
        if other.__class__ is self.__class__:
            return _tuple_of(self, fields) == _tuple_of(other, fields)
        return NotImplemented
    return __eq__


def _make_order(fields, op):
    def __lt__(self, other):
        if other.__class__ is self.__class__:
            return _tuple_of(self, fields) < _tuple_of(other, fields)
        return NotImplemented

    def __le__(self, other):
        if other.__class__ is self.__class__:
            return _tuple_of(self, fields) <= _tuple_of(other, fields)
        return NotImplemented

    def __gt__(self, other):
        if other.__class__ is self.__class__:
            return _tuple_of(self, fields) > _tuple_of(other, fields)
        return NotImplemented

    def __ge__(self, other):
        if other.__class__ is self.__class__:
            return _tuple_of(self, fields) >= _tuple_of(other, fields)
        return NotImplemented
    return {'__lt__': __lt__, '__le__': __le__, '__gt__': __gt__, '__ge__': __ge__}[op]


def _make_hash(fields):
    def __hash__(self):
        return hash(_tuple_of(self, fields))
    return __hash__


def _make_frozen(cls, field_names):
    def __setattr__(self, name, value):
        if type(self) is cls or name in field_names:
            raise FrozenInstanceError(f'cannot assign to field {name!r}')
        super(cls, self).__setattr__(name, value)

    def __delattr__(self, name):
        if type(self) is cls or name in field_names:
            raise FrozenInstanceError(f'cannot delete field {name!r}')
        super(cls, self).__delattr__(name)
    return __setattr__, __delattr__


def _process_class(cls, init, repr, eq, order, unsafe_hash, frozen, match_args, kw_only):
    fields = {}
    any_frozen_base = False
    has_dataclass_bases = False
    for b in cls.__mro__[-1:0:-1]:
        base_fields = b.__dict__.get('__dataclass_fields__')
        if base_fields is not None:
            has_dataclass_bases = True
            for f in base_fields.values():
                fields[f.name] = f
            if b.__dict__['__dataclass_params__'].frozen:
                any_frozen_base = True

    cls_annotations = cls.__dict__.get('__annotations__', {})
    cls_fields = []
    kw = kw_only
    kw_only_seen = False
    for name, tp in cls_annotations.items():
        if _is_kw_only(tp):
            if kw_only_seen:
                raise TypeError(f'{name!r} is KW_ONLY, but KW_ONLY has already been specified')
            kw_only_seen = True
            kw = True
        else:
            cls_fields.append(_get_field(cls, name, tp, kw))
    for f in cls_fields:
        fields[f.name] = f
        if isinstance(cls.__dict__.get(f.name), Field):
            if f.default is MISSING:
                delattr(cls, f.name)
            else:
                setattr(cls, f.name, f.default)
    for name, value in list(cls.__dict__.items()):
        if isinstance(value, Field) and name not in cls_annotations:
            raise TypeError(f'{name!r} is a field but has no type annotation')

    if has_dataclass_bases:
        if any_frozen_base and not frozen:
            raise TypeError('cannot inherit non-frozen dataclass from a frozen one')
        if not any_frozen_base and frozen:
            raise TypeError('cannot inherit frozen dataclass from a non-frozen one')

    cls.__dataclass_fields__ = fields
    cls.__dataclass_params__ = _DataclassParams(init, repr, eq, order, unsafe_hash, frozen)

    class_hash = cls.__dict__.get('__hash__', MISSING)
    has_explicit_hash = not (class_hash is MISSING or
                             (class_hash is None and '__eq__' in cls.__dict__))

    all_fields = list(fields.values())
    real = [f for f in all_fields if f._field_type is _FIELD]
    if init:
        init_fields = [f for f in all_fields if f._field_type in (_FIELD, _FIELD_INITVAR)]
        std = [f for f in init_fields if f.init and not f.kw_only]
        kwo = [f for f in init_fields if f.init and f.kw_only]
        seen_default = False
        for f in std:
            if not (f.default is MISSING and f.default_factory is MISSING):
                seen_default = True
            elif seen_default:
                raise TypeError(f'non-default argument {f.name!r} follows default argument')
        _set_new_attribute(cls, '__init__',
                           _make_init(cls, init_fields, std, kwo, frozen,
                                      hasattr(cls, '__post_init__')))
    if repr:
        _set_new_attribute(cls, '__repr__', _make_repr(real))
    compared = [f for f in real if f.compare]
    if eq:
        _set_new_attribute(cls, '__eq__', _make_eq(compared))
    if order:
        if not eq:
            raise ValueError('eq must be true if order is true')
        for op in ('__lt__', '__le__', '__gt__', '__ge__'):
            if _set_new_attribute(cls, op, _make_order(compared, op)):
                raise TypeError(f'Cannot overwrite attribute {op} in class {cls.__name__}. '
                                'Consider using functools.total_ordering')
    if frozen:
        setter, deleter = _make_frozen(cls, tuple(f.name for f in real))
        for name, fn in (('__setattr__', setter), ('__delattr__', deleter)):
            if _set_new_attribute(cls, name, fn):
                raise TypeError(f'Cannot overwrite attribute {name} in class {cls.__name__}')
    hashed = [f for f in real if (f.compare if f.hash is None else f.hash)]
    if unsafe_hash:
        if has_explicit_hash:
            raise TypeError(f'Cannot overwrite attribute __hash__ in class {cls.__name__}')
        cls.__hash__ = _make_hash(hashed)
    elif eq and not has_explicit_hash:
        if frozen:
            cls.__hash__ = _make_hash(hashed)
        else:
            cls.__hash__ = None
    if match_args:
        _set_new_attribute(cls, '__match_args__',
                           tuple(f.name for f in std_init_fields(all_fields)))
    return cls


def std_init_fields(all_fields):
    return [f for f in all_fields
            if f._field_type in (_FIELD, _FIELD_INITVAR) and f.init and not f.kw_only]


class _DataclassParams:
    def __init__(self, init, repr, eq, order, unsafe_hash, frozen):
        self.init = init
        self.repr = repr
        self.eq = eq
        self.order = order
        self.unsafe_hash = unsafe_hash
        self.frozen = frozen

    def __repr__(self):
        return ('_DataclassParams('
                f'init={self.init!r},'
                f'repr={self.repr!r},'
                f'eq={self.eq!r},'
                f'order={self.order!r},'
                f'unsafe_hash={self.unsafe_hash!r},'
                f'frozen={self.frozen!r}'
                ')')


def dataclass(cls=None, /, *, init=True, repr=True, eq=True, order=False,
              unsafe_hash=False, frozen=False, match_args=True,
              kw_only=False, slots=False, weakref_slot=False):
    def wrap(cls):
        return _process_class(cls, init, repr, eq, order, unsafe_hash,
                              frozen, match_args, kw_only)
    if cls is None:
        return wrap
    return wrap(cls)


def fields(class_or_instance):
    try:
        fs = getattr(class_or_instance, '__dataclass_fields__')
    except AttributeError:
        raise TypeError('must be called with a dataclass type or instance') from None
    return tuple(f for f in fs.values() if f._field_type is _FIELD)


def _is_dataclass_instance(obj):
    return hasattr(type(obj), '__dataclass_fields__')


def is_dataclass(obj):
    cls = obj if isinstance(obj, type) else type(obj)
    return hasattr(cls, '__dataclass_fields__')


def asdict(obj, *, dict_factory=dict):
    if not _is_dataclass_instance(obj):
        raise TypeError('asdict() should be called on dataclass instances')
    return _asdict_inner(obj, dict_factory)


def _asdict_inner(obj, dict_factory):
    if _is_dataclass_instance(obj):
        result = []
        for f in fields(obj):
            value = _asdict_inner(getattr(obj, f.name), dict_factory)
            result.append((f.name, value))
        return dict_factory(result)
    elif isinstance(obj, tuple) and hasattr(obj, '_fields'):
        return type(obj)(*[_asdict_inner(v, dict_factory) for v in obj])
    elif isinstance(obj, (list, tuple)):
        return type(obj)(_asdict_inner(v, dict_factory) for v in obj)
    elif isinstance(obj, dict):
        return type(obj)((_asdict_inner(k, dict_factory),
                          _asdict_inner(v, dict_factory))
                         for k, v in obj.items())
    else:
        return _copy.deepcopy(obj)


def astuple(obj, *, tuple_factory=tuple):
    if not _is_dataclass_instance(obj):
        raise TypeError('astuple() should be called on dataclass instances')
    return _astuple_inner(obj, tuple_factory)


def _astuple_inner(obj, tuple_factory):
    if _is_dataclass_instance(obj):
        result = []
        for f in fields(obj):
            result.append(_astuple_inner(getattr(obj, f.name), tuple_factory))
        return tuple_factory(result)
    elif isinstance(obj, tuple) and hasattr(obj, '_fields'):
        return type(obj)(*[_astuple_inner(v, tuple_factory) for v in obj])
    elif isinstance(obj, (list, tuple)):
        return type(obj)(_astuple_inner(v, tuple_factory) for v in obj)
    elif isinstance(obj, dict):
        return type(obj)((_astuple_inner(k, tuple_factory), _astuple_inner(v, tuple_factory))
                         for k, v in obj.items())
    else:
        return _copy.deepcopy(obj)


def replace(obj, /, **changes):
    if not _is_dataclass_instance(obj):
        raise TypeError('replace() should be called on dataclass instances')
    for f in obj.__dataclass_fields__.values():
        if f._field_type is _FIELD_CLASSVAR:
            continue
        if not f.init:
            if f.name in changes:
                raise ValueError(f'field {f.name} is declared with '
                                 'init=False, it cannot be specified with '
                                 'replace()')
            continue
        if f.name not in changes:
            if f._field_type is _FIELD_INITVAR and f.default is MISSING:
                raise ValueError(f"InitVar {f.name!r} "
                                 'must be specified with replace()')
            changes[f.name] = getattr(obj, f.name)
    return obj.__class__(**changes)


def make_dataclass(cls_name, fields, *, bases=(), namespace=None, **kwargs):
    raise NotImplementedError('make_dataclass is not supported by eddy')
"##;
