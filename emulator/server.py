"""Serving an emulator over real HTTP: uvicorn in a background thread, plus a ticker for due runs."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import uvicorn
from starlette.types import ASGIApp

from emulator.context import Context
from emulator.guard import HostOriginGuard

if TYPE_CHECKING:
    from cognite.client import CogniteClient


class Ticker:
    """Fires due schedule runs about every ``interval`` seconds while the clock follows real time."""

    def __init__(self, context: Context, interval: float = 0.5) -> None:
        self._context = context
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="emulator-ticker", daemon=True)

    def start(self) -> None:
        if self._context.clock.mode != "virtual":
            self._thread.start()

    def _loop(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                clock = self._context.clock
                due = self._context.timeline.next_due_ms()
                if due is not None and due <= clock.now_ms():
                    clock.run_due()
            except Exception:  # a ticker must never die; the next tick tries again
                pass

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)


class EmulatorServer:
    """A running HTTP server for one emulator. Use as a context manager, or call ``stop()``."""

    def __init__(
        self,
        app: ASGIApp,
        context: Context,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        access_log: bool = False,
        log_level: str = "warning",
        allow_hosts: Iterable[str] = (),
        allow_origins: Iterable[str] = (),
    ) -> None:
        """``app`` is the emulator's app, or an ASGI wrapper of it (the CLI counts changes)."""
        self.context = context
        self.host = host
        # Only the socket is guarded: browsers can reach it, never the in-process transport.
        guarded = HostOriginGuard(app, bound_host=host, allow_hosts=allow_hosts, allow_origins=allow_origins)
        config = uvicorn.Config(
            guarded,
            host=host,
            port=port,
            log_level=log_level,
            access_log=access_log,
            lifespan="off",
            timeout_graceful_shutdown=5,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="emulator-server", daemon=True)
        self._ticker = Ticker(context)
        self.port = port

    def start(self, timeout: float = 10.0) -> EmulatorServer:
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive():
                raise RuntimeError(f"The emulator server could not start on {self.host}:{self.port}")
            if time.monotonic() > deadline:
                self._server.should_exit = True
                raise RuntimeError(f"The emulator server did not start within {timeout} s")
            time.sleep(0.005)
        sockets = [s for server in self._server.servers for s in server.sockets]
        self.port = sockets[0].getsockname()[1]
        self._ticker.start()
        return self

    @property
    def base_url(self) -> str:
        """``http://host:port``, to use as a CogniteClient ``base_url``."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def client(self, project: str | None = None, token: str | None = None) -> CogniteClient:
        """A CogniteClient that talks to this server over HTTP (not in-process); by default with the
        emulator's own client token (``emu.auth.client_token``)."""
        from cognite.client import CogniteClient

        from emulator.transport import make_config

        token = token if token is not None else self.context.auth.client_token
        return CogniteClient(
            make_config(project or self.context.settings.project, self.base_url, token=token)
        )

    def stop(self) -> None:
        self._ticker.stop()
        self._server.should_exit = True
        if self._thread.is_alive():
            self._thread.join(timeout=10)

    def __enter__(self) -> EmulatorServer:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"<EmulatorServer {self.base_url}>"
