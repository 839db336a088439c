//! `enum`: Enum, IntEnum, StrEnum, Flag, IntFlag, `auto` and `unique`, written in Python (below).
//! Eddy has no metaclasses, so `Enum.__init_subclass__` turns a subclass's plain attributes into
//! members, and the class-level hooks `__class_iter__`/`__class_len__`/`__class_contains__`/
//! `__class_repr__` (read by the VM for class objects) stand in for `EnumType`'s dunders.

use std::rc::Rc;

use eddy_vm::objects::module::Module;
use eddy_vm::{PyResult, Vm};

pub fn init(vm: &mut Vm) -> PyResult<Rc<Module>> {
    let m = Rc::new(Module::new("enum"));
    eddy_vm::import::run_source_in(vm, &m, "<eddy enum>", SOURCE)?;
    Ok(m)
}

const SOURCE: &str = r##"class auto:
    _counter = 0

    def __init__(self, value=None):
        self.value = value
        auto._counter += 1
        self._order = auto._counter

    def __repr__(self):
        return 'auto(%r)' % (self.value,)

    # CPython gives auto() its value as soon as the class body assigns it, so `RW = R | W`
    # combines ints; here values come later, so operators build a deferred _AutoOp.
    def __or__(self, other):
        return _AutoOp(lambda a, b: a | b, self, other)

    def __ror__(self, other):
        return _AutoOp(lambda a, b: a | b, other, self)

    def __and__(self, other):
        return _AutoOp(lambda a, b: a & b, self, other)

    def __rand__(self, other):
        return _AutoOp(lambda a, b: a & b, other, self)

    def __xor__(self, other):
        return _AutoOp(lambda a, b: a ^ b, self, other)

    def __rxor__(self, other):
        return _AutoOp(lambda a, b: a ^ b, other, self)


class _AutoOp(auto):
    def __init__(self, op, left, right):
        self.value = None
        self._op = op
        self._left = left
        self._right = right

    def _resolve(self):
        return self._op(_auto_value(self._left), _auto_value(self._right))


def _auto_value(v):
    if isinstance(v, _AutoOp):
        return v._resolve()
    if isinstance(v, auto):
        return v.value
    return v


def _is_dunder(name):
    return len(name) > 4 and name[:2] == name[-2:] == '__' and name[2] != '_' and name[-3] != '_'


def _is_sunder(name):
    return len(name) > 2 and name[0] == name[-1] == '_' and name[1] != '_' and name[-2] != '_'


def _is_descriptor(obj):
    if isinstance(obj, (staticmethod, classmethod, property)):
        return True
    if callable(obj) and not isinstance(obj, auto):
        return True
    return False


def _make_member(cls, name, value, base_new):
    if isinstance(value, tuple) and cls._eddy_init_takes_tuple:
        args = value
    else:
        args = (value,)
    if base_new is None:
        member = object.__new__(cls)
    else:
        member = base_new(cls, *args)
    if not hasattr(member, '_value_'):
        if base_new is None:
            member._value_ = value
        else:
            member._value_ = member._eddy_data_type(*args)
    member._name_ = name
    init = cls.__dict__.get('__init__') or _find_init(cls)
    if init is not None:
        init(member, *args)
    return member


def _find_init(cls):
    for b in cls.__mro__:
        if b is Enum or b is object:
            return None
        if '__init__' in b.__dict__ and not b.__dict__.get('_eddy_builtin_init', False):
            return b.__dict__['__init__']
    return None


def _data_type(cls):
    for b in cls.__mro__[1:]:
        if b in (int, str, float):
            return b
    return None


class Enum:
    _eddy_init_takes_tuple = False

    def __init_subclass__(cls, **kwargs):
        members = {}
        names = []
        value_map = {}
        last_values = []
        existing = [b for b in cls.__mro__[1:] if b.__dict__.get('_member_names_')]
        if existing:
            raise TypeError(f'{cls.__name__}: cannot extend {existing[0]!r}')
        items = [(k, v) for k, v in cls.__dict__.items()
                 if not _is_dunder(k) and not _is_sunder(k) and not k.startswith('_eddy')
                 and not k.startswith('_' + cls.__name__ + '__')
                 and not _is_descriptor(v)]
        data_type = _data_type(cls)
        cls._eddy_data_type = data_type
        base_new = None
        if data_type is not None:
            base_new = data_type.__new__
        custom_new = cls.__dict__.get('__new__')
        if cls.__dict__.get('_eddy_lookup_new'):
            custom_new = None
        if custom_new is not None:
            cls._new_member_ = custom_new
        for b in cls.__mro__[1:]:
            if '_new_member_' in b.__dict__ and custom_new is None:
                custom_new = b.__dict__['_new_member_']
        if custom_new is not None:
            base_new = custom_new
        init = _find_init(cls)
        cls._eddy_init_takes_tuple = init is not None or custom_new is not None
        gen = cls.__dict__.get('_generate_next_value_')
        if gen is None:
            gen = _find_generate(cls)
        for name, value in items:
            if isinstance(value, _AutoOp):
                value.value = value._resolve()
            if isinstance(value, auto):
                if value.value is None:
                    value.value = gen(name, 1, len(names), last_values[:])
                value = value.value
            if isinstance(value, tuple):
                value = tuple(v.value if isinstance(v, auto) else v for v in value)
            last_values.append(value)
            alias = None
            for m in members.values():
                if m._value_ == value:
                    alias = m
                    break
            if alias is not None:
                members[name] = alias
                setattr(cls, name, alias)
                continue
            member = _make_member(cls, name, value, base_new)
            value = member._value_
            members[name] = member
            names.append(name)
            try:
                value_map[value] = member
            except TypeError:
                pass
            setattr(cls, name, member)
        cls._member_map_ = members
        cls.__members__ = dict(members)
        cls._member_names_ = names
        cls._value2member_map_ = value_map

    def _generate_next_value_(name, start, count, last_values):
        for v in reversed(last_values):
            try:
                return v + 1
            except TypeError:
                pass
        return start

    def __new__(cls, value=None, *args, **kwargs):
        if '_member_map_' not in cls.__dict__:
            return object.__new__(cls)
        if isinstance(value, cls):
            return value
        try:
            return cls._value2member_map_[value]
        except (KeyError, TypeError):
            pass
        for m in cls._member_map_.values():
            if m._value_ == value:
                return m
        missing = cls._missing_(value)
        if isinstance(missing, cls):
            return missing
        if missing is not None:
            raise TypeError(f'error in {cls.__name__}._missing_: returned {missing!r} instead of None or a valid member')
        raise ValueError(f'{value!r} is not a valid {cls.__qualname__}')

    def __init__(self, *args, **kwargs):
        pass

    _eddy_builtin_init = True

    @classmethod
    def _missing_(cls, value):
        return None

    def __class_iter__(cls):
        return iter([cls._member_map_[n] for n in cls._member_names_])

    def __class_len__(cls):
        return len(cls._member_names_)

    def __class_contains__(cls, value):
        if isinstance(value, cls):
            return value._name_ in cls._member_map_
        return any(m._value_ == value for m in cls._member_map_.values())

    def __class_repr__(cls):
        return f"<enum {cls.__name__!r}>"

    def __class_getitem__(cls, name):
        return cls._member_map_[name]

    @property
    def name(self):
        return self._name_

    @property
    def value(self):
        return self._value_

    def __repr__(self):
        if self._name_ is None:
            return f'<{self.__class__.__name__}: {self._value_!r}>'
        return f'<{self.__class__.__name__}.{self._name_}: {self._value_!r}>'

    def __str__(self):
        if self._name_ is None:
            return f'{self.__class__.__name__}({self._value_!r})'
        return f'{self.__class__.__name__}.{self._name_}'

    def __format__(self, spec):
        return format(str(self), spec)

    def __hash__(self):
        return hash(self._name_)

    def __reduce_ex__(self, proto):
        return self.__class__, (self._value_,)

    def __copy__(self):
        return self

    def __deepcopy__(self, memo):
        return self

    def __dir__(self):
        return ['__class__', '__doc__', '__module__', 'name', 'value']


def _find_generate(cls):
    for b in cls.__mro__:
        if '_generate_next_value_' in b.__dict__:
            return b.__dict__['_generate_next_value_']
    return Enum._generate_next_value_


class ReprEnum(Enum):
    pass


class IntEnum(int, ReprEnum):
    # The data type's dunders come first in the MRO; CPython's EnumType puts Enum's lookup and
    # repr back, as these do.
    _eddy_lookup_new = True

    def __new__(cls, value):
        return Enum.__new__(cls, value)

    def __repr__(self):
        return Enum.__repr__(self)

    def __str__(self):
        return repr(self._value_)

    def __format__(self, spec):
        return format(self._value_, spec)

    def __hash__(self):
        return hash(self._value_)


class StrEnum(str, ReprEnum):
    # The data type's dunders come first in the MRO; CPython's EnumType puts Enum's lookup and
    # repr back, as these do.
    _eddy_lookup_new = True

    def __new__(cls, value):
        return Enum.__new__(cls, value)

    def __repr__(self):
        return Enum.__repr__(self)

    def _generate_next_value_(name, start, count, last_values):
        return name.lower()

    def __str__(self):
        return self._value_

    def __format__(self, spec):
        return format(self._value_, spec)

    def __hash__(self):
        return hash(self._value_)


class Flag(Enum):
    def _generate_next_value_(name, start, count, last_values):
        if not count:
            return start if start is not None else 1
        high = 0
        for v in last_values:
            high = max(high, v)
        n = 1
        while n <= high:
            n *= 2
        return n

    @classmethod
    def _missing_(cls, value):
        if not isinstance(value, int):
            return None
        pseudo = object.__new__(cls)
        pseudo._value_ = value
        names = [m._name_ for m in cls if m._value_ & value == m._value_ and m._value_]
        pseudo._name_ = '|'.join(names) if names else None
        return pseudo

    def __or__(self, other):
        if not isinstance(other, self.__class__):
            return NotImplemented
        return self.__class__(self._value_ | other._value_)

    def __and__(self, other):
        if not isinstance(other, self.__class__):
            return NotImplemented
        return self.__class__(self._value_ & other._value_)

    def __xor__(self, other):
        if not isinstance(other, self.__class__):
            return NotImplemented
        return self.__class__(self._value_ ^ other._value_)

    def __contains__(self, other):
        return other._value_ & self._value_ == other._value_

    # CPython 3.11 iterates (and counts) only the canonical members: single bits.
    def __class_iter__(cls):
        return iter([m for m in (cls._member_map_[n] for n in cls._member_names_)
                     if _is_single_bit(m._value_)])

    def __class_len__(cls):
        return len([n for n in cls._member_names_
                    if _is_single_bit(cls._member_map_[n]._value_)])

    def __iter__(self):
        return iter([m for m in self.__class__ if m._value_ & self._value_ == m._value_])

    def __len__(self):
        return len(list(self.__iter__()))

    def __bool__(self):
        return bool(self._value_)

    def __eq__(self, other):
        if isinstance(other, self.__class__):
            return self._value_ == other._value_
        return NotImplemented

    def __hash__(self):
        return hash(self._value_)


class IntFlag(int, Flag):
    # The data type's dunders come first in the MRO; CPython's EnumType puts Enum's lookup and
    # repr back, as these do.
    _eddy_lookup_new = True

    def __new__(cls, value):
        return Enum.__new__(cls, value)

    def __repr__(self):
        return Enum.__repr__(self)

    def __str__(self):
        return repr(self._value_)

    def __hash__(self):
        return hash(self._value_)

    # Bitwise operators with ints or members stay IntFlags (int's would make plain ints).
    def __or__(self, other):
        if not isinstance(other, int):
            return NotImplemented
        return self.__class__(self._value_ | int(other))

    def __and__(self, other):
        if not isinstance(other, int):
            return NotImplemented
        return self.__class__(self._value_ & int(other))

    def __xor__(self, other):
        if not isinstance(other, int):
            return NotImplemented
        return self.__class__(self._value_ ^ int(other))

    __ror__ = __or__
    __rand__ = __and__
    __rxor__ = __xor__


def _is_single_bit(value):
    return isinstance(value, int) and value > 0 and value & (value - 1) == 0


def unique(enumeration):
    duplicates = []
    for name, member in enumeration._member_map_.items():
        if name != member._name_:
            duplicates.append((name, member._name_))
    if duplicates:
        alias_details = ', '.join(['%s -> %s' % (alias, name) for (alias, name) in duplicates])
        raise ValueError('duplicate values found in %r: %s' % (enumeration, alias_details))
    return enumeration
"##;
