//! `warnings`: `warn`, filters (`filterwarnings`, `simplefilter`, `resetwarnings`), `catch_warnings`
//! and CPython's stderr format. The module is Python (below); Rust supplies what Python cannot see:
//! the caller's file, line and module at a given `stacklevel`, source lines, and stderr.

use std::rc::Rc;

use eddy_vm::objects::module::Module;
use eddy_vm::{Args, PyResult, Value, Vm};

use crate::util;

pub fn init(vm: &mut Vm) -> PyResult<Rc<Module>> {
    let m = Rc::new(Module::new("warnings"));
    util::defs(
        vm,
        &m,
        &[
            ("_caller", caller),
            ("_source_line", source_line),
            ("_write_stderr", |vm, a| {
                util::arity(vm, "_write_stderr", &a, 1, 1)?;
                let s = eddy_vm::ops::to_str(vm, &a.pos[0])?;
                vm.write_stderr(&s);
                Ok(Value::None)
            }),
        ],
    );
    eddy_vm::import::run_source_in(vm, &m, "<eddy warnings>", SOURCE)?;
    Ok(m)
}

/// `_caller(stacklevel)`: `(filename, lineno, module)` of the frame `stacklevel` levels above
/// `warn` (whose own frame is the innermost), or CPython's `("sys", 1, "sys")` past the top.
fn caller(vm: &mut Vm, a: Args) -> PyResult<Value> {
    util::arity(vm, "_caller", &a, 1, 1)?;
    let level = util::to_i64(vm, &a.pos[0])?.max(1) as usize;
    let n = vm.frames.len();
    let Some(frame) = n.checked_sub(1 + level).and_then(|i| vm.frames.get(i)) else {
        return Ok(Value::tuple(vec![
            Value::str("sys"),
            Value::Int(1),
            Value::str("sys"),
        ]));
    };
    // `ip` is the next instruction; the call in progress is the one before it.
    let line = frame.code.line_of(frame.ip.saturating_sub(1));
    let module = frame.globals.name.clone();
    Ok(Value::tuple(vec![
        Value::string(frame.code.source.name.clone()),
        Value::Int(line as i64),
        Value::Str(module),
    ]))
}

/// `_source_line(filename, lineno)`: that line of the file, or "" when it cannot be read.
fn source_line(vm: &mut Vm, a: Args) -> PyResult<Value> {
    util::arity(vm, "_source_line", &a, 2, 2)?;
    let Some(path) = a.pos[0].as_str().map(String::from) else {
        return Ok(Value::str(""));
    };
    let lineno = util::to_i64(vm, &a.pos[1])?;
    let text = std::fs::read_to_string(&path).unwrap_or_default();
    let line = usize::try_from(lineno - 1)
        .ok()
        .and_then(|i| text.lines().nth(i))
        .unwrap_or("");
    Ok(Value::str(line))
}

const SOURCE: &str = r##"
filters = []
defaultaction = 'default'
_registry = set()


class WarningMessage:
    _WARNING_DETAILS = ('message', 'category', 'filename', 'lineno', 'file', 'line', 'source')

    def __init__(self, message, category, filename, lineno, file=None, line=None, source=None):
        self.message = message
        self.category = category
        self.filename = filename
        self.lineno = lineno
        self.file = file
        self.line = line
        self.source = source
        self._category_name = category.__name__ if category else None

    def __str__(self):
        return ('{message : %r, category : %r, filename : %r, lineno : %s, '
                'line : %r}' % (self.message, self._category_name,
                                self.filename, self.lineno, self.line))


def formatwarning(message, category, filename, lineno, line=None):
    s = f'{filename}:{lineno}: {category.__name__}: {message}\n'
    if line is None:
        line = _source_line(filename, lineno)
    if line:
        s += f'  {line.strip()}\n'
    return s


def showwarning(message, category, filename, lineno, file=None, line=None):
    text = formatwarning(message, category, filename, lineno, line)
    if file is None:
        _write_stderr(text)
    else:
        file.write(text)


_VALID_ACTIONS = ('error', 'ignore', 'always', 'default', 'module', 'once')


def _add_filter(item, append):
    if not append:
        try:
            filters.remove(item)
        except ValueError:
            pass
        filters.insert(0, item)
    elif item not in filters:
        filters.append(item)
    _registry.clear()


def filterwarnings(action, message='', category=Warning, module='', lineno=0, append=False):
    if action not in _VALID_ACTIONS:
        raise AssertionError(f'invalid action: {action!r}')
    if not isinstance(message, str):
        raise AssertionError('message must be a string')
    if not isinstance(category, type):
        raise AssertionError('category must be a class')
    if not issubclass(category, Warning):
        raise AssertionError('category must be a Warning subclass')
    if not isinstance(module, str):
        raise AssertionError('module must be a string')
    if not isinstance(lineno, int) or lineno < 0:
        raise AssertionError('lineno must be an int >= 0')
    _add_filter((action, message or None, category, module or None, lineno), append)


def simplefilter(action, category=Warning, lineno=0, append=False):
    if action not in _VALID_ACTIONS:
        raise AssertionError(f'invalid action: {action!r}')
    if not isinstance(lineno, int) or lineno < 0:
        raise AssertionError('lineno must be an int >= 0')
    _add_filter((action, None, category, None, lineno), append)


def resetwarnings():
    filters[:] = []
    _registry.clear()


def _matches(pattern, text):
    if pattern is None:
        return True
    if hasattr(pattern, 'match'):
        return pattern.match(text) is not None
    return text.lower().startswith(pattern.lower())


def _module_matches(pattern, module):
    if pattern is None:
        return True
    if hasattr(pattern, 'match'):
        return pattern.match(module) is not None
    return module == pattern


def _default_action(category, module):
    if issubclass(category, DeprecationWarning):
        return 'default' if module == '__main__' else 'ignore'
    # By name: Eddy's builtins may lack some of these classes.
    ignored = ('PendingDeprecationWarning', 'ImportWarning', 'ResourceWarning')
    if any(c.__name__ in ignored for c in category.__mro__):
        return 'ignore'
    return defaultaction


def warn(message, category=None, stacklevel=1, source=None):
    if isinstance(message, Warning):
        category = message.__class__
    if category is None:
        category = UserWarning
    if not (isinstance(category, type) and issubclass(category, Warning)):
        raise TypeError(f"category must be a Warning subclass, not '{type(category).__name__}'")
    filename, lineno, module = _caller(stacklevel)
    warn_explicit(message, category, filename, lineno, module, source=source)


def warn_explicit(message, category, filename, lineno, module=None, registry=None,
                  module_globals=None, source=None):
    lineno = int(lineno)
    if module is None:
        module = filename or '<unknown>'
        if module[-3:].lower() == '.py':
            module = module[:-3]
    if isinstance(message, Warning):
        text = str(message)
        category = message.__class__
    else:
        text = message
        message = category(message)
    action = None
    for item in filters:
        act, msg, cat, mod, ln = item
        if (_matches(msg, text) and issubclass(category, cat)
                and _module_matches(mod, module) and (ln == 0 or lineno == ln)):
            action = act
            break
    if action is None:
        action = _default_action(category, module)
    if action == 'ignore':
        return
    if action == 'error':
        raise message
    if action == 'once':
        key = (text, category)
    elif action == 'module':
        key = (text, category, module)
    elif action == 'default':
        key = (text, category, filename, lineno)
    elif action == 'always':
        key = None
    else:
        raise RuntimeError(f'Unrecognized action ({action!r}) in warnings.filters:\n {item}')
    if key is not None:
        if key in _registry:
            return
        _registry.add(key)
    _showwarnmsg(WarningMessage(message, category, filename, lineno, None, None, source))


def _showwarnmsg(msg):
    sw = showwarning
    if sw is not _showwarning_orig:
        sw(msg.message, msg.category, msg.filename, msg.lineno, msg.file, msg.line)
        return
    if _record_log is not None:
        _record_log[-1].append(msg)
        return
    _showwarnmsg_impl(msg)


def _showwarnmsg_impl(msg):
    text = _formatwarnmsg(msg)
    if msg.file is None:
        _write_stderr(text)
    else:
        msg.file.write(text)


def _formatwarnmsg(msg):
    if formatwarning is not _formatwarning_orig:
        return formatwarning(msg.message, msg.category, msg.filename, msg.lineno, msg.line)
    s = formatwarning(msg.message, msg.category, msg.filename, msg.lineno, msg.line)
    if msg.source is not None:
        # CPython names the allocation site when tracemalloc traces; Eddy never does.
        s += (f'{msg.category.__name__}: Enable tracemalloc to get the object '
              f'allocation traceback\n')
    return s


_showwarning_orig = showwarning
_formatwarning_orig = formatwarning
_record_log = None


class catch_warnings:
    def __init__(self, *, record=False, module=None, action=None, category=Warning,
                 lineno=0, append=False):
        self._record = record
        self._entered = False
        self._filter = None if action is None else (action, category, lineno, append)

    def __repr__(self):
        args = []
        if self._record:
            args.append('record=True')
        return '%s(%s)' % (type(self).__name__, ', '.join(args))

    def __enter__(self):
        global _record_log, showwarning
        if self._entered:
            raise RuntimeError('Cannot enter %r twice' % self)
        self._entered = True
        self._filters = filters[:]
        self._showwarning = showwarning
        self._log_state = _record_log
        _registry.clear()
        if self._filter is not None:
            simplefilter(*self._filter)
        if self._record:
            log = []
            if _record_log is None:
                _record_log = [log]
            else:
                _record_log = _record_log + [log]
            showwarning = _showwarning_orig
            return log
        return None

    def __exit__(self, *exc_info):
        global _record_log, showwarning
        if not self._entered:
            raise RuntimeError('Cannot exit %r without entering first' % self)
        filters[:] = self._filters
        _registry.clear()
        showwarning = self._showwarning
        _record_log = self._log_state
"##;
