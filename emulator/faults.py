"""Fault injection: make the next N requests that match a method and path answer an error.

For testing retry logic: ``emu.faults.add(status=429, path="*/functions/*/call", count=2)`` makes the
next two calls answer 429 in CDF's error shape (the SDK retries those), optionally after a delay.
Admin routes (``/_emulator/...``) are never faulted.
"""

from __future__ import annotations

import asyncio
import fnmatch
import re
import threading
from dataclasses import asdict, dataclass, field
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

from emulator.errors import send_error

ALLOWED_STATUSES = (408, 429, 500, 502, 503, 504)
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
MAX_LATENCY_S = 60


@dataclass
class Fault:
    status: int
    method: str = "*"
    path: str = "*"
    count: int = 1
    latency_ms: int = 0
    message: str = ""
    id: int = 0
    hits: int = field(default=0)

    def matches(self, method: str, path: str) -> bool:
        if self.method not in ("*", method.upper()):
            return False
        if self.path.startswith("^"):
            return re.search(self.path, path) is not None
        return fnmatch.fnmatchcase(path, self.path)


class Faults:
    """The fault rules of one emulator (thread-safe)."""

    def __init__(self) -> None:
        self._rules: list[Fault] = []
        self._lock = threading.Lock()
        self._next_id = 1

    def add(
        self,
        status: int = 503,
        *,
        method: str = "*",
        path: str = "*",
        count: int = 1,
        latency: float = 0.0,
        message: str | None = None,
    ) -> Fault:
        """Answer ``status`` to the next ``count`` requests matching ``method`` and ``path``.

        ``path`` is a glob (``*/functions/*/call``) or, starting with ``^``, a regular expression;
        ``latency`` (seconds) delays the answer.
        """
        if isinstance(status, bool) or not isinstance(status, int) or status not in ALLOWED_STATUSES:
            raise ValueError(f"status must be one of {ALLOWED_STATUSES}, got {status!r}")
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            raise ValueError(f"count must be a whole number of at least 1, got {count!r}")
        if (
            isinstance(latency, bool)
            or not isinstance(latency, int | float)
            or not 0 <= latency <= MAX_LATENCY_S  # also False for NaN
        ):
            raise ValueError(f"latency must be between 0 and {MAX_LATENCY_S} seconds, got {latency!r}")
        if not isinstance(method, str) or (method != "*" and method.upper() not in METHODS):
            raise ValueError(f"method must be '*' or one of {', '.join(METHODS)}, got {method!r}")
        if not isinstance(path, str) or not path:
            raise ValueError(f"path must be a non-empty glob or ^regex string, got {path!r}")
        if message is not None and not isinstance(message, str):
            raise ValueError(f"message must be a string, got {message!r}")
        if path.startswith("^"):
            try:
                re.compile(path)
            except re.error as exc:
                raise ValueError(f"path is not a valid regular expression: {exc}") from None
        with self._lock:
            fault = Fault(
                status, method.upper(), path, count, int(latency * 1000), message or "", self._next_id
            )
            self._next_id += 1
            self._rules.append(fault)
        return fault

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()

    def list(self) -> list[dict[str, Any]]:
        with self._lock:
            return [asdict(f) for f in self._rules]

    def __bool__(self) -> bool:
        return bool(self._rules)

    def take(self, method: str, path: str) -> Fault | None:
        """The first rule matching this request, with one use consumed."""
        with self._lock:
            for fault in self._rules:
                if fault.matches(method, path):
                    fault.hits += 1
                    if fault.hits >= fault.count:
                        self._rules.remove(fault)
                    return fault
        return None


class FaultMiddleware:
    def __init__(self, app: ASGIApp, faults: Faults) -> None:
        self.app = app
        self.faults = faults

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and self.faults and not scope["path"].startswith("/_emulator"):
            fault = self.faults.take(scope["method"], scope["path"])
            if fault is not None:
                if fault.latency_ms:
                    await asyncio.sleep(fault.latency_ms / 1000)
                message = fault.message or f"Injected fault: {fault.status}"
                await send_error(send, fault.status, message)
                return
        await self.app(scope, receive, send)
