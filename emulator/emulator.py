"""FunctionsEmulator: the unit that owns a clock, the project stores, the app and the runtime."""

from __future__ import annotations

import io
import shutil
import tempfile
import textwrap
import weakref
import zipfile
from collections.abc import Callable
from datetime import datetime
from inspect import getsource
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from cognite.client import AsyncCogniteClient, CogniteClient
from cognite.client.data_classes import Function

from emulator import transport
from emulator.app import build_app
from emulator.auth import AuthPolicy
from emulator.clock import Clock, ClockMode
from emulator.faults import Faults
from emulator.ids import IdGenerator
from emulator.invoker import Invoker
from emulator.limits import Limits
from emulator.resources.functions import create_function, function_json
from emulator.scheduler import Scheduler
from emulator.state import Backend, FileRecord
from emulator.timeline import Timeline

if TYPE_CHECKING:
    from emulator.server import EmulatorServer

CallMode = Literal["sync", "background"]
Isolation = Literal["thread", "process"]
DEFAULT_PROJECT = "emulator-project"


class FunctionsEmulator:
    """An in-memory CDF Functions service.

    Args:
        project: the default project for :meth:`client` (any project name works on the wire).
        start: where the clock starts: an aware datetime, ISO string or epoch ms (default: now).
        clock: "virtual" (moves only when told), "wall" (follows real time) or "system" (reads
            ``time.time()``, so freezegun / time-machine drive it).
        call_mode: "sync" (a call has finished when the POST answers) or "background" (answers Running).
        timeout: seconds a call may run before it ends as Timeout (default: the limits' timeoutMinutes).
        isolation: "thread" (handlers run in this process) or "process" (each call in a fresh subprocess).
        handler_client: builds the ``client`` argument handed to ``handle()``, given the project; by
            default a CogniteClient wired back into this emulator.
        max_calls_kept: finished call records kept per project (oldest dropped first); None keeps all.
        auth: "any" accepts every request; "strict" wants a known token on every route (docs/admin.md;
            ``emu.auth.bind``/``emu.auth.allow`` add project tokens).
        admin_token: with ``auth="strict"``, the token for ``/_emulator/`` (random if not given:
            ``emu.auth.admin_token``); distinct from every project token.
        raise_server_exceptions: re-raise emulator bugs in the test instead of answering 500.
        id_seed: seeds the id generator: ids look like CDF's (large, unique across resource types)
            and the same seed gives the same ids in the same order.
    """

    def __init__(
        self,
        project: str = DEFAULT_PROJECT,
        start: datetime | str | int | float | None = None,
        *,
        clock: ClockMode = "virtual",
        call_mode: CallMode = "sync",
        timeout: float | None = None,
        isolation: Isolation = "thread",
        handler_client: Callable[[str], Any] | None = None,
        max_calls_kept: int | None = 100_000,
        limits: Limits | None = None,
        auth: Literal["any", "strict"] = "any",
        admin_token: str | None = None,
        raise_server_exceptions: bool = True,
        id_seed: int = 0,
    ) -> None:
        if call_mode not in ("sync", "background"):
            raise ValueError(f"call_mode must be 'sync' or 'background', not {call_mode!r}")
        if isolation not in ("thread", "process"):
            raise ValueError(f"isolation must be 'thread' or 'process', not {isolation!r}")
        self.project = project
        self.clock = Clock(clock, start)
        self.call_mode: CallMode = call_mode
        self.isolation: Isolation = isolation
        self.limits = limits or Limits()
        self.timeout_seconds = float(timeout) if timeout is not None else self.limits.timeout_minutes * 60.0
        self.max_calls_kept = max_calls_kept
        self.backend = Backend(IdGenerator(id_seed))
        self.invoker = Invoker(self)
        self._handler_client_factory = handler_client
        self._handler_clients: dict[str, Any] = {}
        self._sdk_refs: dict[str, AsyncCogniteClient] = {}
        self._workdir: Path | None = None
        self._finalizer: weakref.finalize | None = None
        self.faults = Faults()
        self._loopback: EmulatorServer | None = None
        self._globus: Any = None
        self._roma: Any = None
        self.auth = AuthPolicy(auth, admin_token=admin_token)
        self.app = build_app(self)
        self._httpx = transport.asgi_httpx_client(self.app)
        if not raise_server_exceptions:
            self._httpx = transport.httpx2.AsyncClient(
                transport=transport.httpx2.ASGITransport(app=self.app, raise_app_exceptions=False),
                base_url=transport.IN_PROCESS_BASE_URL,
            )
        self._setup_scheduler()

    @property
    def workdir(self) -> Path:
        """The emulator's own temporary directory (unpacked function code); made on first use."""
        if self._workdir is None:
            self._workdir = Path(tempfile.mkdtemp(prefix="cdf-functions-emulator-"))
            self._finalizer = weakref.finalize(self, shutil.rmtree, str(self._workdir), True)
        return self._workdir

    def _setup_scheduler(self) -> None:
        self.scheduler = Scheduler(self)
        self.timeline = Timeline(self.clock)
        self.timeline.add_source(self.scheduler)
        self.clock._attach(self._fire_due)

    def _fire_due(self, target_ms: int) -> list[Any]:
        return self.scheduler.wrap(self.timeline.fire_due(target_ms))

    # --- clients --------------------------------------------------------------------------------
    def client(self, project: str | None = None) -> CogniteClient:
        """A real ``CogniteClient`` whose requests go straight into this emulator (no socket)."""
        return transport.in_process_client(
            self.app, project or self.project, self._httpx, token=self.auth.client_token
        )

    def async_client(self, project: str | None = None) -> AsyncCogniteClient:
        """A real ``AsyncCogniteClient`` wired to this emulator in-process."""
        return transport.in_process_async_client(
            self.app, project or self.project, self._httpx, token=self.auth.client_token
        )

    def sdk_ref(self, project: str | None = None) -> AsyncCogniteClient:
        """The AsyncCogniteClient that SDK objects built by the emulator (Function, FunctionCall) are bound
        to, so that ``fn.call()``, ``call.get_logs()`` etc. work on them. Cached per project."""
        project = project or self.project
        ref = self._sdk_refs.get(project)
        if ref is None:
            ref = self._sdk_refs[project] = transport._async_of(self.client(project))
        return ref

    def handler_client(self, project: str) -> Any:
        """The ``client`` argument for a handler running in ``project`` (cached per project)."""
        client = self._handler_clients.get(project)
        if client is None:
            factory = self._handler_client_factory
            client = factory(project) if factory is not None else self.client(project)
            self._handler_clients[project] = client
        return client

    # --- state ----------------------------------------------------------------------------------
    def reset(self) -> None:
        """Forget every project's state (functions, files, calls, schedules, sessions); keep the clock."""
        self.backend.reset()
        self.scheduler.reset()
        self.faults.clear()
        if self._globus is not None:
            self._globus.reset()
        if self._roma is not None:
            self._roma.reset()
        if self._workdir is not None:
            shutil.rmtree(self._workdir / "functions", ignore_errors=True)

    def close(self) -> None:
        """Drop all state and the temporary directory that holds unpacked function code."""
        self.backend.reset()
        self.scheduler.reset()
        if self._loopback is not None:
            self._loopback.stop()
            self._loopback = None
        if self._finalizer is not None:
            self._finalizer()

    @property
    def globus(self) -> Any:
        """The Globus Timer facade (jobs and timers on this emulator's clock); made on first use."""
        if self._globus is None:
            from emulator.globus import GlobusTimers

            with self.backend.lock:
                if self._globus is None:
                    self._globus = GlobusTimers(self)
        return self._globus

    def globus_timer_client(self) -> Any:
        """A ``globus_sdk.TimersClient`` talking to this emulator (over a loopback server it starts)."""
        import globus_sdk

        self.globus  # noqa: B018 - the facade must exist before the first request
        return globus_sdk.TimersClient(
            base_url=self._loopback_url() + "/globus-timer",
            authorizer=globus_sdk.AccessTokenAuthorizer(self.auth.client_token),
        )

    @property
    def roma(self) -> Any:
        """The ROMA Connect FDI facade (tasks and dispatches on this emulator's clock)."""
        if self._roma is None:
            from emulator.roma import RomaService

            with self.backend.lock:
                if self._roma is None:
                    self._roma = RomaService(self)
        return self._roma

    def roma_client(self, project_id: str = "roma-project") -> Any:
        """A ``huaweicloudsdkroma.v2.RomaClient`` talking to this emulator (over a loopback server),
        with fake AK/SK."""
        from huaweicloudsdkcore.auth.credentials import BasicCredentials
        from huaweicloudsdkcore.http.http_config import HttpConfig
        from huaweicloudsdkroma.v2 import RomaClient

        self.roma  # noqa: B018 - the facade must exist before the first request
        config = HttpConfig.get_default_config()
        config.ignore_ssl_verification = True
        return (
            RomaClient.new_builder()
            .with_http_config(config)
            .with_credentials(
                BasicCredentials(
                    "emulator-ak" if self.auth.mode == "any" else self.auth.client_token,
                    "emulator-sk",
                    project_id,
                )
            )
            .with_endpoint(self._loopback_url())
            .build()
        )

    def _loopback_url(self) -> str:
        """The URL of a loopback server for this emulator, started on first use (process isolation)."""
        with self.backend.lock:
            if self._loopback is None:
                self._loopback = self.serve()
            return self._loopback.base_url

    def state(self, *, secrets: bool = False) -> dict[str, Any]:
        """A JSON-ready dump of every project (what GET /_emulator/state answers); function secrets,
        credentials in index URLs and session nonces read ``***`` unless ``secrets=True``."""
        from emulator.persistence import dump

        return dump(self, secrets=secrets)

    def serve(self, host: str = "127.0.0.1", port: int = 0, **options: Any) -> EmulatorServer:
        """Start a real HTTP server (uvicorn, in a background thread) on this emulator.

        ``with emu.serve(port=0) as server:`` gives ``server.base_url`` and ``server.client()``; the
        server and ``emu.client()`` share the same state. Shut down on leaving the block.
        """
        from emulator.server import EmulatorServer

        return EmulatorServer(self, host, port, **options).start()

    def __enter__(self) -> FunctionsEmulator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def run_due(self) -> list[Any]:
        """Fire the schedule runs that are due now (useful in "wall" and "system" clock modes)."""
        return self.clock.run_due()

    # --- one-line deployment ----------------------------------------------------------------------
    def deploy(
        self,
        folder: str | Path | None = None,
        *,
        function_handle: Callable[..., Any] | None = None,
        name: str | None = None,
        external_id: str | None = None,
        function_path: str = "handler.py",
        project: str | None = None,
        **fields: Any,
    ) -> Function:
        """Deploy a function from a folder or a ``handle`` function without the upload round trips.

        Extra keyword arguments are API fields in camelCase or snake_case (``secrets``,
        ``env_vars``, ``metadata``, ...). Returns the SDK's ``Function``, bound to a client of this
        emulator; check ``.status`` (Ready or Failed) and ``.error``.
        """
        if (folder is None) == (function_handle is None):
            raise TypeError("deploy() needs exactly one of folder= or function_handle=")
        project = project or self.project
        if folder is not None:
            content = _zip_folder(Path(folder))
            default_name = Path(folder).resolve().name
        else:
            assert function_handle is not None
            content = _zip_handle(function_handle)
            function_path = "handler.py"
            default_name = getattr(function_handle, "__module__", "function")
        name = name or external_id or default_name
        store = self.backend.store(project)
        now = self.clock.now_ms()
        file = FileRecord(
            self.backend.new_id(), f"{name}.zip", None, now, now, content=content, uploaded_time=now
        )
        with self.backend.lock:
            store.files[file.id] = file
        item: dict[str, Any] = {"name": name, "fileId": file.id, "functionPath": function_path}
        if external_id is not None:
            item["externalId"] = external_id
        item.update({_camel(k): v for k, v in fields.items() if v is not None})
        record = create_function(self, project, item)
        return Function._load(function_json(record)).set_client_ref(self.sdk_ref(project))

    # --- hooks used by resources -------------------------------------------------------------------
    def _schedules_changed(self, project: str) -> None:
        self.scheduler.changed(project)

    def _trim_calls(self, project: str) -> None:
        """Keep at most ``max_calls_kept`` calls per project; the oldest finished ones go first."""
        if self.max_calls_kept is None:
            return
        store = self.backend.store(project)
        calls, order = store.calls, store.call_order
        budget = len(order)  # never loop forever when every old call is still Running
        while len(calls) > self.max_calls_kept and order and budget > 0:
            budget -= 1
            call_id = order.popleft()
            call = calls.get(call_id)
            if call is None:
                continue
            if call.status == "Running":
                order.append(call_id)
                continue
            del calls[call_id]

    def __repr__(self) -> str:
        return f"<FunctionsEmulator project={self.project!r} clock={self.clock.mode} now={self.clock.now().isoformat()}>"


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def _zip_folder(folder: Path) -> bytes:
    if not folder.is_dir():
        raise FileNotFoundError(f"No such function folder: {folder}")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(folder.rglob("*")):
            if "__pycache__" in path.parts or not path.is_file():
                continue
            zf.write(path, path.relative_to(folder).as_posix())
    return buffer.getvalue()


def _zip_handle(handle: Callable[..., Any]) -> bytes:
    if getattr(handle, "__name__", None) != "handle":
        raise TypeError("function_handle must be a function named 'handle'")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("handler.py", textwrap.dedent(getsource(handle)))
    return buffer.getvalue()
