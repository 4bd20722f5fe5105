"""The clients one emulator hands out: the test's, the handlers', and the one SDK objects are bound to.

In-process clients send every request straight into the app (emulator/transport.py); a loopback
HTTP server is started on first need (process isolation, the Globus and ROMA clients).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import httpx2
from cognite.client import AsyncCogniteClient, CogniteClient
from starlette.types import ASGIApp

import emulator.transport as transport
from emulator.context import Context

if TYPE_CHECKING:
    from emulator.server import EmulatorServer


class EmulatorClients:
    """Implements ``emulator.context.Clients`` for one app and context."""

    def __init__(
        self,
        app: ASGIApp,
        context: Context,
        *,
        handler_client: Callable[[str], Any] | None = None,
        raise_server_exceptions: bool = True,
    ) -> None:
        self._app = app
        self._context = context
        self._factory = handler_client
        self._handler_clients: dict[str, Any] = {}
        self._sdk_refs: dict[str, AsyncCogniteClient] = {}
        self._lock = threading.Lock()
        self._loopback: EmulatorServer | None = None
        if raise_server_exceptions:
            self.httpx = transport.asgi_httpx_client(app)
        else:
            self.httpx = httpx2.AsyncClient(
                transport=httpx2.ASGITransport(app=app, raise_app_exceptions=False),
                base_url=transport.IN_PROCESS_BASE_URL,
            )

    def client(self, project: str) -> CogniteClient:
        token = self._context.auth.client_token
        return transport.in_process_client(self._app, project, self.httpx, token=token)

    def async_client(self, project: str) -> AsyncCogniteClient:
        token = self._context.auth.client_token
        return transport.in_process_async_client(self._app, project, self.httpx, token=token)

    def sdk_ref(self, project: str) -> AsyncCogniteClient:
        ref = self._sdk_refs.get(project)
        if ref is None:
            ref = self._sdk_refs[project] = transport.async_of(self.client(project))
        return ref

    def handler_client(self, project: str) -> Any:
        """Cached per project; a user factory that raises raises here (the call then fails)."""
        client = self._handler_clients.get(project)
        if client is None:
            factory = self._factory
            client = factory(project) if factory is not None else self.client(project)
            self._handler_clients[project] = client
        return client

    def serve(self, host: str = "127.0.0.1", port: int = 0, **options: Any) -> EmulatorServer:
        from emulator.server import EmulatorServer

        return EmulatorServer(self._app, self._context, host, port, **options).start()

    def loopback_url(self) -> str:
        with self._lock:
            if self._loopback is None:
                self._loopback = self.serve()
            return self._loopback.base_url

    def close(self) -> None:
        with self._lock:
            if self._loopback is not None:
                self._loopback.stop()
                self._loopback = None
