"""Keeping the dev server's state file current while it runs (``emulator serve --state FILE``).

Saving only at exit loses the whole session to ``kill -9``, a crash or a closed terminal. The
:class:`Autosaver` thread wakes every ``interval`` seconds and, when something changed since the
last save, writes the file again (atomically, via ``persistence.save``): bursts of changes cost one
write per interval, and a hard kill loses at most the last interval of changes plus one write.

What counts as a change is cheap to read, never a full dump: state-changing requests served
(counted by :class:`ChangeCounter` around the served app), ids issued (every new object: calls
fired by schedules, objects a handler creates in-process), the virtual clock, and the number of
calls still running (a background call finishing changes no id).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from emulator.context import Context
from emulator.persistence import save

_READ_ONLY = frozenset({"GET", "HEAD", "OPTIONS"})


class ChangeCounter:
    """ASGI middleware counting answered state-changing requests (``count``)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.count = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in _READ_ONLY:
            await self.app(scope, receive, send)
            return

        async def counting_send(message: Message) -> None:
            await send(message)
            if message["type"] == "http.response.start":
                self.count += 1  # counted once the answer starts: the change is in memory

        try:
            await self.app(scope, receive, counting_send)
        finally:
            self.count += 1  # and again at the end, for changes made while streaming


class Autosaver:
    """Saves ``context``'s state to ``path`` after changes, at most once per ``interval`` seconds."""

    def __init__(
        self,
        context: Context,
        path: str | Path,
        *,
        interval: float = 0.5,
        counter: ChangeCounter | None = None,
        on_error: Callable[[BaseException], None] | None = None,
    ) -> None:
        self._context = context
        self._path = Path(path)
        self._interval = interval
        self._counter = counter
        self._on_error = on_error
        self._stop = threading.Event()
        self._save_lock = threading.Lock()
        self._saved: Any = self.fingerprint()  # what is on disk: loaded, or nothing yet to save
        self._thread = threading.Thread(target=self._loop, name="emulator-autosave", daemon=True)
        self.saves = 0
        self.last_error: BaseException | None = None

    def fingerprint(self) -> tuple[Any, ...]:
        ctx = self._context
        with ctx.backend.lock:
            calls = running = 0
            for name in ctx.backend.projects():
                store = ctx.backend.store(name)
                calls += len(store.calls)
                running += sum(1 for c in store.calls.values() if c.status == "Running")
        return (
            self._counter.count if self._counter is not None else 0,
            ctx.ids.issued,
            ctx.clock.now_ms() if ctx.clock.mode == "virtual" else 0,
            calls,
            running,
        )

    def start(self) -> Autosaver:
        self._thread.start()
        return self

    def save_now(self) -> None:
        """Save unconditionally (at shutdown); raises what ``persistence.save`` raises."""
        with self._save_lock:
            mark = self.fingerprint()
            save(self._context, self._path)
            self._saved = mark
            self.saves += 1

    def _loop(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                if self.fingerprint() != self._saved:
                    self.save_now()
                self.last_error = None
            except Exception as exc:  # a full disk must not kill the server; report, retry later
                if self.last_error is None and self._on_error is not None:
                    self._on_error(exc)
                self.last_error = exc

    def stop(self) -> None:
        """Stop the thread (without a last save: call :meth:`save_now`)."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=30)
