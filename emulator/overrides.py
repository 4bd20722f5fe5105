"""Overriding one API: the user's own fake answers one path prefix; the emulator keeps the rest.

``FunctionsEmulator(overrides={"/timeseries/synthetic": fake})`` or ``emu.override(prefix, fake)``.
A prefix is relative to ``/api/v1/projects/{project}`` and matches whole path segments
("/timeseries/synthetic" takes "/timeseries/synthetic/query", never "/timeseries/syntheticX");
the longest matching prefix wins. The fake is either

- an ASGI app (``async def app(scope, receive, send)``, e.g. a Starlette or FastAPI app): it gets
  the request with ``path`` relative to the project (``/timeseries/synthetic/query``),
  ``root_path`` set to ``/api/v1/projects/<project>`` and ``scope["cdf_project"]`` the project; or
- a callable ``fake(request)`` (sync or async) given the starlette ``Request``, returning a
  ``Response``, a ``(status, json_body)`` pair, or any JSON value (answered 200).

Overridden requests still pass the auth and fault middleware, so injected faults apply to them.
"""

from __future__ import annotations

import inspect
import threading
from collections.abc import Callable, Mapping, MutableMapping
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from emulator.validation import read_body

_PREFIX = "/api/v1/projects/"
Fake = Callable[..., Any]


class Overrides:
    """The fakes of one emulator, by path prefix (thread-safe; changes apply to the next request)."""

    def __init__(self, initial: Mapping[str, Fake] | None = None) -> None:
        self._lock = threading.Lock()
        self._fakes: dict[str, Fake] = {}
        for prefix, fake in (initial or {}).items():
            self.add(prefix, fake)

    def add(self, prefix: str, fake: Fake) -> None:
        if not isinstance(prefix, str) or not prefix.startswith("/") or prefix == "/":
            raise ValueError(
                f"an override prefix starts with / and names an API, e.g. '/timeseries': {prefix!r}"
            )
        if not callable(fake):
            raise TypeError(
                f"an override is an ASGI app or a callable taking a request, not {type(fake).__name__}"
            )
        with self._lock:
            self._fakes[prefix.rstrip("/")] = fake

    def remove(self, prefix: str) -> None:
        with self._lock:
            self._fakes.pop(prefix.rstrip("/"), None)

    def clear(self) -> None:
        with self._lock:
            self._fakes.clear()

    def find(self, relative_path: str) -> Fake | None:
        """The fake for a path relative to the project, if any (longest prefix first)."""
        with self._lock:
            fakes = sorted(self._fakes.items(), key=lambda item: len(item[0]), reverse=True)
        for prefix, fake in fakes:
            if relative_path == prefix or relative_path.startswith(prefix + "/"):
                return fake
        return None

    def __len__(self) -> int:
        return len(self._fakes)


def is_asgi(fake: Fake) -> bool:
    """ASGI apps take (scope, receive, send); plain callables take the request alone."""
    target = fake if inspect.isfunction(fake) or inspect.ismethod(fake) else getattr(fake, "__call__", fake)  # noqa: B004
    try:
        params = [
            p for p in inspect.signature(target).parameters.values()
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
        ]  # fmt: skip
    except (TypeError, ValueError):
        return False
    return len(params) == 3


async def _plain_body(scope: Scope, receive: Receive) -> tuple[Scope, Receive]:
    """The request with its body read and inflated: cognite-sdk gzips its bodies, and a fake should
    not have to know that (nor a sync fake read from this event loop)."""
    body = await read_body(Request(scope, receive))
    headers = [
        (k, v) for k, v in scope.get("headers", []) if k not in (b"content-encoding", b"content-length")
    ]  # fmt: skip
    headers.append((b"content-length", str(len(body)).encode()))
    sent = False

    async def replay() -> MutableMapping[str, Any]:
        nonlocal sent
        if sent:  # a second read waits for a disconnect, as a drained ASGI request would
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return {**scope, "headers": headers}, replay


async def _answer_callable(fake: Fake, scope: Scope, receive: Receive, send: Send) -> None:
    request = Request(scope, receive)
    if inspect.iscoroutinefunction(fake) or inspect.iscoroutinefunction(getattr(fake, "__call__", None)):  # noqa: B004
        result = await fake(request)
    else:
        result = await run_in_threadpool(fake, request)
    if not isinstance(result, Response):
        if isinstance(result, tuple) and len(result) == 2 and isinstance(result[0], int):
            result = JSONResponse(result[1], status_code=result[0])
        else:
            result = JSONResponse(result)
    await result(scope, receive, send)


class OverrideMiddleware:
    """Sends requests under an overridden prefix to the user's fake instead of the emulator."""

    def __init__(self, app: ASGIApp, overrides: Overrides) -> None:
        self.app = app
        self.overrides = overrides

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not len(self.overrides) or not scope["path"].startswith(_PREFIX):
            await self.app(scope, receive, send)
            return
        project, _, rest = scope["path"][len(_PREFIX) :].partition("/")
        relative = "/" + rest
        fake = self.overrides.find(relative)
        if fake is None:
            await self.app(scope, receive, send)
            return
        scope, receive = await _plain_body(scope, receive)
        root = f"{scope.get('root_path', '')}{_PREFIX}{project}"
        inner = {
            **scope,
            "path": relative,
            "raw_path": relative.encode(),
            "root_path": root,
            "cdf_project": project,
        }
        if is_asgi(fake):
            await fake(inner, receive, send)
        else:
            await _answer_callable(fake, {**scope, "cdf_project": project}, receive, send)
