"""Small pure-ASGI middleware (BaseHTTPMiddleware is too slow for the hot path)."""

from __future__ import annotations

import itertools

from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from emulator.clock import Clock
from emulator.timeline import Timeline


class DueRunsMiddleware:
    """In "system" and "wall" clock modes, fire schedule runs that fell due before serving a request.

    That is how freezegun's ``tick()`` or time-machine's ``shift()`` make runs happen "when the
    emulator is next used". Runs go to a worker thread: a handler may use its sync client, whose
    requests are served on the event loop this request came from. Virtual mode costs one compare.
    """

    def __init__(self, app: ASGIApp, clock: Clock, timeline: Timeline) -> None:
        self.app = app
        self.clock = clock
        self.timeline = timeline

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        clock = self.clock
        if scope["type"] == "http" and clock.mode != "virtual":
            due = self.timeline.next_due_ms()
            if due is not None and due <= clock.now_ms():
                await run_in_threadpool(clock.run_due)
        await self.app(scope, receive, send)


class RequestIdMiddleware:
    """Every response carries ``X-Request-ID``, as CDF's do: the SDK prints it in its errors and
    users quote it when they report a problem. Ids are unique per emulator and reproducible."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._ids = itertools.count(1)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = f"emulator-{next(self._ids):08x}".encode()

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), (b"x-request-id", request_id)]
            await send(message)

        await self.app(scope, receive, send_with_id)
