"""Threads a handler starts belong to its call while it runs: they inherit its log and environment.

While calls run in threads, ``threading.Thread.start`` is wrapped: a thread started from a call's
thread (or from a thread it started) runs with the call's log sink, environment overlay and guards
(each a ``Carrier``), so its prints, logging records and warnings land in that call's logs and it
sees the call's ``envVars``. When the call ends, its threads that still run become ordinary threads
again (their output goes where any thread's goes), so a long-lived thread a handler happened to start
first (an SDK's event loop, a module-level executor) never keeps a call's state. Threads started
anywhere else, and the emulator's own threads, are untouched.
"""

from __future__ import annotations

import inspect
import threading
from collections.abc import Callable
from typing import Any, Protocol


class Carrier(Protocol):
    """One piece of per-call state a child thread inherits from the thread that started it."""

    def snapshot(self, parent: int) -> Any:
        """In the parent, as it starts the child: what the child inherits (None: nothing)."""

    def adopt(self, child: int, taken: Any) -> None:
        """In the child: take over ``taken``."""

    def release(self, child: int, taken: Any) -> None:
        """Forget what ``child`` adopted (its call ended, or the child did)."""


class _Call:
    """One running call's token, with the threads that adopted its state."""

    def __init__(self) -> None:
        self.children: dict[int, list[tuple[Carrier, Any]]] = {}
        self.ended = False


class ThreadInheritance:
    """Wraps ``threading.Thread.start`` while installed; one per process (the class is global)."""

    def __init__(self) -> None:
        self._carriers: list[Carrier] = []
        self._calls: dict[int, _Call] = {}  # call thread or adopted child -> its call
        self._lock = threading.Lock()
        self._original: Callable[..., Any] | None = None
        self._ours: Callable[..., Any] | None = None
        # Threads that calls started, counted in the parent before they run: a run that left it
        # unchanged started none (the inline batch then keeps its call entered for the next run).
        self.started = 0

    def add(self, carrier: Carrier) -> None:
        self._carriers.append(carrier)

    def begin(self, ident: int) -> None:
        """The thread ``ident`` starts running a call (no lock: one dict store, atomic)."""
        self._calls[ident] = _Call()

    def end(self, ident: int) -> None:
        """The call of thread ``ident`` ended: its threads that still run let go of its state."""
        call = self._calls.pop(ident, None)
        if call is None:
            return
        call.ended = True
        if not call.children:  # the common case, and the inline batch's hot path: no lock
            return
        with self._lock:
            children = list(call.children.items())
            call.children.clear()
            for child, _ in children:
                if self._calls.get(child) is call:
                    del self._calls[child]
        for child, taken in children:
            for carrier, value in taken:
                carrier.release(child, value)

    def install(self) -> None:
        """Wrap ``Thread.start`` (under the process lock, by the first call in)."""
        if self._ours is not None and threading.Thread.start is self._ours:
            return
        original = threading.Thread.start
        inheritance = self

        def start(thread: threading.Thread) -> None:
            inheritance.prepare(thread, inspect.currentframe())
            original(thread)

        self._original, self._ours = original, start
        threading.Thread.start = start  # type: ignore[method-assign,assignment]

    def uninstall(self) -> None:
        """Put ``Thread.start`` back (the last call out), unless someone wrapped it after us."""
        if self._ours is not None and threading.Thread.start is self._ours and self._original is not None:
            threading.Thread.start = self._original  # type: ignore[method-assign]
        self._original = self._ours = None

    def prepare(self, thread: threading.Thread, frame: Any) -> None:
        """In the parent: make ``thread`` (not started yet) run with its call's state, if any."""
        call = self._calls.get(threading.get_ident())
        if call is None:
            return
        caller = frame.f_back if frame is not None else None
        if caller is not None and str(caller.f_globals.get("__name__", "")).startswith("emulator."):
            return  # the emulator's own threads (its worker pool, a loopback server) serve every call
        with self._lock:  # never a lost update: a reader compares it with what it saw before
            self.started += 1
        parent = threading.get_ident()
        taken = [(carrier, carrier.snapshot(parent)) for carrier in self._carriers]
        run = thread.run

        def adopted() -> None:
            child = threading.get_ident()
            with self._lock:
                live = not call.ended
                if live:
                    call.children[child] = taken
                    self._calls[child] = call
            if live:
                for carrier, value in taken:
                    carrier.adopt(child, value)
            try:
                run()
            finally:
                with self._lock:
                    mine = call.children.pop(child, None) is not None
                    if self._calls.get(child) is call:
                        del self._calls[child]
                if mine:
                    for carrier, value in taken:
                        carrier.release(child, value)

        thread.run = adopted  # type: ignore[method-assign]
