"""What a handler in a thread must not do to the test process, turned into a Failed call.

While calls run in threads, ``os._exit``, ``os.fork``, ``os.forkpty`` and ``signal.signal`` are
guarded: called from a call's thread (or a thread it started) they raise ``ContainedError``, a
``BaseException`` (an ``except Exception`` in the handler does not swallow it), and the call ends
Failed with a message saying why; from any other thread they do what they always do.
``signal.signal`` raises ``SignalRefused``, a ``ValueError``, as Python itself does in any thread but
the main one (so an API call on a worker thread and a scheduled run on the test's main thread behave
alike, and code that expects it, such as ``asyncio.run``, goes on without a SIGINT handler). In CDF each
call has its own container, where these are harmless; in the test process they would end the test
run (``os._exit``), copy it with all its threads (``fork``) or take over its signal handling.
Code that needs them runs with ``isolation="process"``.

Not guarded (docs/calls.md): the same done from C code, ``os.kill(os.getpid(), ...)``, and
``os.abort()``.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable
from typing import Any

WHY = "the handler runs in the test process (isolation='thread'); use isolation='process' for it"
_GUARDED: tuple[tuple[Any, str, str], ...] = (
    (os, "_exit", "it would end the test process"),
    (os, "fork", "it would copy the test process with all its threads"),
    (os, "forkpty", "it would copy the test process with all its threads"),
    (signal, "signal", "it would change the test process's signal handlers"),
)


class ContainedError(BaseException):
    """A call did something only a process of its own may do; its message is the call's error."""


class SignalRefused(ValueError):
    """``signal.signal`` from a call's thread; a ValueError, as Python's own outside the main thread."""


class ProcessGuards:
    """Installs the guards while calls run; one per process (``os`` and ``signal`` are global)."""

    def __init__(self, is_call_thread: Callable[[], bool]) -> None:
        self._is_call_thread = is_call_thread
        self._originals: dict[tuple[int, str], Callable[..., Any]] = {}
        self._installed: dict[tuple[int, str], Callable[..., Any]] = {}

    def install(self) -> None:
        for module, name, why in _GUARDED:
            key = (id(module), name)
            current = getattr(module, name, None)
            if current is None or current is self._installed.get(key):
                continue
            self._originals[key] = current
            self._installed[key] = guard = self._guard(module.__name__, name, why, current)
            setattr(module, name, guard)

    def uninstall(self) -> None:
        for module, name, _ in _GUARDED:
            key = (id(module), name)
            if getattr(module, name, None) is self._installed.get(key):
                setattr(module, name, self._originals[key])
        self._installed.clear()
        self._originals.clear()

    def _guard(self, module: str, name: str, why: str, original: Callable[..., Any]) -> Callable[..., Any]:
        is_call_thread = self._is_call_thread

        def guarded(*args: Any, **kwargs: Any) -> Any:
            if is_call_thread():
                shown = ", ".join(repr(a) for a in args)
                message = f"Function called {module}.{name}({shown}): not allowed, {why}; {WHY}"
                raise SignalRefused(message) if module == "signal" else ContainedError(message)
            return original(*args, **kwargs)

        guarded.__name__ = name
        guarded.__doc__ = original.__doc__
        return guarded
