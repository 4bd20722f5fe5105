"""Threads a handler starts belong to its call: they inherit the call's log, environment and guards.

While calls run in threads, ``threading.Thread.start`` is wrapped: a thread started from a call's
thread runs with the call's log sink, environment overlay and guards (each a ``Carrier``), so its
prints, logging records and warnings land in that call's logs and it sees the call's ``envVars``.
Threads started anywhere else are untouched. What such a thread writes after its call has ended is
dropped (the call's logs are final by then).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, Protocol


class Carrier(Protocol):
    """One piece of per-call state a child thread inherits from the thread that started it."""

    def adopt(self, parent: int, child: int) -> None:
        """In the child: take over what ``parent`` has (if anything)."""

    def release(self, child: int) -> None:
        """In the child, as it ends: forget what it adopted."""


class ThreadInheritance:
    """Wraps ``threading.Thread.start`` while installed; one per process (the class is global)."""

    def __init__(self, is_call_thread: Callable[[int], bool]) -> None:
        self._is_call_thread = is_call_thread
        self._carriers: list[Carrier] = []
        self._original: Callable[..., Any] | None = None
        self._ours: Callable[..., Any] | None = None

    def add(self, carrier: Carrier) -> None:
        self._carriers.append(carrier)

    def install(self) -> None:
        """Wrap ``Thread.start`` (under the process lock, by the first call in)."""
        if self._ours is not None and threading.Thread.start is self._ours:
            return
        original = threading.Thread.start
        inheritance = self

        def start(thread: threading.Thread) -> None:
            parent = threading.get_ident()
            if inheritance._is_call_thread(parent):
                inheritance.adopting(thread, parent)
            original(thread)

        self._original, self._ours = original, start
        threading.Thread.start = start  # type: ignore[method-assign,assignment]

    def uninstall(self) -> None:
        """Put ``Thread.start`` back (the last call out), unless someone wrapped it after us."""
        if self._ours is not None and threading.Thread.start is self._ours and self._original is not None:
            threading.Thread.start = self._original  # type: ignore[method-assign]
        self._original = self._ours = None

    def adopting(self, thread: threading.Thread, parent: int) -> None:
        """Make ``thread`` (not started yet) run with what ``parent`` has."""
        run = thread.run
        carriers = list(self._carriers)

        def adopted() -> None:
            child = threading.get_ident()
            for carrier in carriers:
                carrier.adopt(parent, child)
            try:
                run()
            finally:
                for carrier in carriers:
                    carrier.release(child)

        thread.run = adopted  # type: ignore[method-assign]
