//! The Python half of `interpreters`: Interpreter (a one-worker process pool underneath),
//! ExecutionFailed and its ExcInfo, the queue exceptions, create/list_all/get_current/get_main.

pub const PY: &str = r#"
import concurrent.futures as _cf


class InterpreterError(Exception):
    pass


class InterpreterNotFoundError(InterpreterError):
    pass


class QueueError(RuntimeError):
    pass


class QueueNotFoundError(QueueError):
    pass


class QueueEmpty(QueueError):
    pass


class QueueFull(QueueError):
    pass


class _ExcType:
    def __init__(self, name, qualname, module):
        self.__name__ = name
        self.__qualname__ = qualname
        self.__module__ = module

    def __repr__(self):
        return f"<class '{self.__qualname__}'>" if self.__module__ == "builtins" else \
            f"<class '{self.__module__}.{self.__qualname__}'>"


class ExcInfo:
    """A snapshot of an exception raised in another interpreter."""

    def __init__(self, type, msg, formatted, errdisplay):
        self.type = type
        self.msg = msg
        self.formatted = formatted
        self.errdisplay = errdisplay

    def __repr__(self):
        return f"ExcInfo(type={self.type!r}, msg={self.msg!r})"


class ExecutionFailed(InterpreterError):
    """An uncaught exception in another interpreter (PEP 734)."""

    def __init__(self, excinfo):
        super().__init__(excinfo.formatted)
        self.excinfo = excinfo

    def __str__(self):
        return (f"{self.excinfo.formatted}\n\nUncaught in the interpreter:\n\n"
                + self.excinfo.errdisplay).rstrip()


def _excinfo(exc, tb):
    t = type(exc)
    msg = str(exc)
    text = (tb or "").rstrip()
    formatted = text.splitlines()[-1] if text else (f"{t.__name__}: {msg}" if msg else t.__name__)
    return ExcInfo(_ExcType(t.__name__, t.__qualname__, t.__module__), msg, formatted,
                   text or formatted)


def _deliver(fut, ok, value, tb):
    if ok is None:
        fut.set_exception(InterpreterError(value))
    elif ok:
        fut.set_result(value)
    else:
        fut.set_exception(ExecutionFailed(_excinfo(value, tb)))


# The interpreters this interpreter created: id -> its one-worker pool.
_pools = {}


class Interpreter:
    """A separate VM on its own OS thread. Its __main__ starts as a copy of its creator's."""

    def __init__(self, id):
        self._id = id

    @property
    def id(self):
        return self._id

    def __repr__(self):
        return f"Interpreter({self._id})"

    def __eq__(self, other):
        return isinstance(other, Interpreter) and other._id == self._id

    def __hash__(self):
        return hash(self._id)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _pool(self):
        pool = _pools.get(self._id)
        if pool is not None:
            return pool
        if self._id == _current_id():
            raise InterpreterError("cannot run code in the current interpreter")
        if self._id in _live() or self._id == 0:
            raise InterpreterError(
                f"interpreter {self._id} was not created by the current interpreter")
        raise InterpreterNotFoundError(f"unrecognized interpreter ID {self._id}")

    def is_running(self):
        return bool(self._pool().pending())

    def submit(self, callable, /, *args, **kwargs):
        """Starts callable(*args, **kwargs) there; returns a concurrent.futures.Future."""
        pool = self._pool()
        fut = _cf.Future()
        pool.submit(fut, callable, args, kwargs)
        return fut

    def exec(self, code, /):
        if not isinstance(code, str):
            raise TypeError(f"exec() expected a str, got {type(code).__name__}")
        pool = self._pool()
        fut = _cf.Future()
        pool.exec(fut, code)
        fut.result()

    def call(self, callable, /, *args, **kwargs):
        return self.submit(callable, *args, **kwargs).result()

    def call_in_thread(self, callable, /, *args, **kwargs):
        import threading
        t = threading.Thread(target=self.call, args=(callable, *args), kwargs=kwargs)
        t.start()
        return t

    def call_async(self, callable, /, *args, **kwargs):
        """An asyncio future for callable(*args, **kwargs) run there: awaiting it lets the
        event loop go on meanwhile."""
        import asyncio
        return asyncio.wrap_future(self.submit(callable, *args, **kwargs))

    def prepare_main(self, ns=None, /, **kwargs):
        names = dict(ns or {}, **kwargs)
        if names:
            self.call(_set_main, names)

    def close(self):
        if self._id == 0:
            raise InterpreterError("cannot close the main interpreter")
        pool = _pools.get(self._id)
        if pool is None:
            if self._id in _live():
                self._pool()
            return
        pending = pool.pending()
        if pending:
            _cf.wait(pending)
        del _pools[self._id]
        pool.close()
        _forget(self._id)


def create():
    id = _new_id()
    try:
        _pools[id] = _cf._pool_start(1, _set_id, (id,), _deliver)
    except BaseException:
        _forget(id)
        raise
    return Interpreter(id)


def get_main():
    return Interpreter(0)


def get_current():
    return Interpreter(_current_id())


def list_all():
    return [Interpreter(0)] + [Interpreter(i) for i in _live()]
"#;
