"""FunctionsEmulator: the composition root (builds the context, app and clients) and the user's verbs."""

from __future__ import annotations

import inspect
import io
import textwrap
import warnings
import zipfile
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from inspect import getsource
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from cognite.client import AsyncCogniteClient, CogniteClient
from cognite.client.data_classes import Function

from emulator.app import build_app
from emulator.auth import AuthPolicy
from emulator.build.requirements import FILE_NAME, docstring_requirements
from emulator.clients import EmulatorClients
from emulator.clock import Clock, ClockMode
from emulator.context import CallMode, CodeFrom, Context, Isolation, RequirementsMode, Settings
from emulator.deploy_timing import DeployTiming
from emulator.execution.free_names import unbound_globals
from emulator.execution.outcomes import NAME_ERROR_HINT
from emulator.faults import Faults
from emulator.fired import FiredCalls
from emulator.globus.timers import GlobusTimers
from emulator.globus.wiring import globus_of
from emulator.limits import Limits
from emulator.overrides import Overrides
from emulator.persistence import dump
from emulator.resources.functions.domain import create_function
from emulator.resources.functions.wire import function_json
from emulator.roma.service import RomaService
from emulator.roma.wiring import roma_of
from emulator.scheduler import Scheduler
from emulator.state import Backend, FileRecord

if TYPE_CHECKING:
    from emulator.server import EmulatorServer

__all__ = ["DEFAULT_PROJECT", "CallMode", "FunctionsEmulator", "Isolation", "RequirementsMode"]

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
        isolation: "thread" (handlers run in this process) or "process" (calls run in warm worker
            processes, one small pool per function version; see docs/calls.md).
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
        deploy_timing: a ``DeployTiming``: new functions stay Queued, then Deploying, for that many
            seconds of the emulator's clock before they are Ready or Failed (default: at once).
        overrides: your own fakes for some APIs, by path prefix relative to the project
            (``{"/timeseries/synthetic": app}``: an ASGI app or a callable taking the request);
            see emulator/overrides.py and :meth:`override`.
        requirements: the build step at deployment (docs/calls.md, "The build step"): "check" (the
            default) fails a deployment whose requirements.txt this Python environment does not
            meet; "install" builds the function a virtual environment (uv, else pip; cached) and, in
            process isolation, runs it on its declared runtime's Python; "ignore" skips it.
        build_cache: the folder of built environments (default: $CDF_FUNCTIONS_EMULATOR_CACHE, else
            ~/.cache/cognite-functions-emulator).
        interpreters: the Python of a runtime, before discovery (``{"py312": "/usr/bin/python3.12"}``).
        code_from: "snapshot" (frames name the deployed copy) or "source": the deployed snapshot
            still runs, compiled under the paths of the user's own files, so breakpoints and
            tracebacks point at them (emulator/execution/sources.py, docs/calls.md).
        source_roots: where ``code_from="source"`` looks for the folder of a function the SDK
            zipped (``client.functions.create(folder=...)``); default: the working directory.
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
        deploy_timing: DeployTiming | None = None,
        overrides: Mapping[str, Callable[..., Any]] | None = None,
        requirements: RequirementsMode = "check",
        build_cache: str | Path | None = None,
        interpreters: Mapping[str, str] | None = None,
        code_from: CodeFrom = "snapshot",
        source_roots: Sequence[str | Path] | None = None,
    ) -> None:
        settings = Settings(
            project=project,
            call_mode=call_mode,
            isolation=isolation,
            timeout_seconds=0.0,
            max_calls_kept=max_calls_kept,
            limits=limits or Limits(),
            deploy_timing=deploy_timing,
            requirements=requirements,
            build_cache=build_cache,
            interpreters=dict(interpreters or {}),
            code_from=code_from,
            source_roots=tuple(Path(r).resolve() for r in source_roots) if source_roots else (Path.cwd(),),
        )
        settings.timeout_seconds = (
            float(timeout) if timeout is not None else settings.limits.timeout_minutes * 60.0
        )
        self.context = context = Context(
            settings, Clock(clock, start), id_seed=id_seed, auth=auth, admin_token=admin_token
        )
        context.overrides = Overrides(overrides)
        self.app = build_app(context)
        self._clients = EmulatorClients(
            self.app, context, handler_client=handler_client, raise_server_exceptions=raise_server_exceptions
        )
        context.clients = self._clients
        self._scheduler = Scheduler(context)
        context.timeline.add_source(self._scheduler)
        context.clock.on_move(self._fire_due)

    def _fire_due(self, target_ms: int) -> FiredCalls:
        return self._scheduler.fire_due(self.context.timeline, target_ms)

    # --- the parts users reach ------------------------------------------------------------------
    @property
    def project(self) -> str:
        return self.context.settings.project

    @property
    def clock(self) -> Clock:
        """The emulator's clock: ``advance(...)``, ``advance_to(...)``, ``set(...)``, ``now()``."""
        return self.context.clock

    @property
    def backend(self) -> Backend:
        return self.context.backend

    @property
    def faults(self) -> Faults:
        return self.context.faults

    @property
    def auth(self) -> AuthPolicy:
        return self.context.auth

    @property
    def limits(self) -> Limits:
        return self.context.limits

    @property
    def workdir(self) -> Path:
        """The emulator's own temporary directory (unpacked function code); made on first use."""
        return self.context.workdir

    @property
    def call_mode(self) -> CallMode:
        return self.context.settings.call_mode

    @call_mode.setter
    def call_mode(self, value: CallMode) -> None:
        self.context.settings.call_mode = value

    @property
    def requirements(self) -> RequirementsMode:
        return self.context.settings.requirements

    @property
    def isolation(self) -> Isolation:
        return self.context.settings.isolation

    @property
    def timeout_seconds(self) -> float:
        return self.context.settings.timeout_seconds

    @property
    def max_calls_kept(self) -> int | None:
        return self.context.settings.max_calls_kept

    # --- clients --------------------------------------------------------------------------------
    def client(self, project: str | None = None) -> CogniteClient:
        """A real ``CogniteClient`` whose requests go straight into this emulator (no socket)."""
        return self._clients.client(project or self.project)

    def async_client(self, project: str | None = None) -> AsyncCogniteClient:
        """A real ``AsyncCogniteClient`` wired to this emulator in-process."""
        return self._clients.async_client(project or self.project)

    def sdk_ref(self, project: str | None = None) -> AsyncCogniteClient:
        """The AsyncCogniteClient that SDK objects built by the emulator (Function, FunctionCall) are bound
        to, so that ``fn.call()``, ``call.get_logs()`` etc. work on them. Cached per project."""
        return self._clients.sdk_ref(project or self.project)

    def handler_client(self, project: str) -> Any:
        """The ``client`` argument for a handler running in ``project`` (cached per project)."""
        return self._clients.handler_client(project)

    # --- state ----------------------------------------------------------------------------------
    def reset(self) -> None:
        """Forget every project's state (functions, files, calls, schedules, sessions, facades'
        timers); keep the clock."""
        self.context.reset()

    def close(self) -> None:
        """Drop all state, stop the loopback server and remove the temporary directory."""
        self._clients.close()
        self.context.close()

    @property
    def globus(self) -> GlobusTimers:
        """The Globus Timer facade (jobs and timers on this emulator's clock); made on first use."""
        return globus_of(self.context)

    def globus_timer_client(self) -> Any:
        """A ``globus_sdk.TimersClient`` talking to this emulator (over a loopback server it starts)."""
        import globus_sdk

        self.globus  # noqa: B018 - the facade must exist before the first request
        return globus_sdk.TimersClient(
            base_url=self._clients.loopback_url() + "/globus-timer",
            authorizer=globus_sdk.AccessTokenAuthorizer(self.auth.client_token),
        )

    @property
    def roma(self) -> RomaService:
        """The ROMA Connect FDI facade (tasks and dispatches on this emulator's clock)."""
        return roma_of(self.context)

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
            .with_endpoint(self._clients.loopback_url())
            .build()
        )

    def state(self, *, secrets: bool = False) -> dict[str, Any]:
        """A JSON-ready dump of every project (what GET /_emulator/state answers); function secrets,
        credentials in index URLs and session nonces read ``***`` unless ``secrets=True``."""
        return dump(self.context, secrets=secrets)

    def serve(self, host: str = "127.0.0.1", port: int = 0, **options: Any) -> EmulatorServer:
        """Start a real HTTP server (uvicorn, in a background thread) on this emulator.

        ``with emu.serve(port=0) as server:`` gives ``server.base_url`` and ``server.client()``; the
        server and ``emu.client()`` share the same state. Shut down on leaving the block.
        """
        return self._clients.serve(host, port, **options)

    def __enter__(self) -> FunctionsEmulator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def override(self, prefix: str, fake: Callable[..., Any] | None) -> None:
        """Answer requests under ``prefix`` (e.g. "/timeseries/synthetic") with your own fake (an
        ASGI app or a callable taking the request); None gives the prefix back to the emulator."""
        if fake is None:
            self.context.overrides.remove(prefix)
        else:
            self.context.overrides.add(prefix, fake)

    def load(self, fixture: str | Path | dict[str, Any], project: str | None = None) -> dict[str, int]:
        """Seed resources (data sets, RAW, extraction pipelines, groups) from a JSON/YAML fixture
        file or a dict, through the emulator's own API; see emulator/seeding.py for the format."""
        from emulator.seeding import load

        return load(self.context, fixture, project)

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
        deploy_timing: DeployTiming | None = None,
        code_from: CodeFrom | None = None,
        **fields: Any,
    ) -> Function:
        """Deploy a function from a folder or a ``handle`` function without the upload round trips.

        Extra keyword arguments are API fields in camelCase or snake_case (``secrets``,
        ``env_vars``, ``metadata``, ...). Returns the SDK's ``Function``, bound to a client of this
        emulator; check ``.status`` (Ready or Failed) and ``.error``. ``deploy_timing`` holds this
        function Queued, then Deploying, on the clock (default: the emulator's ``deploy_timing``).
        ``code_from`` overrides the emulator's for this deployment (``"source"``: breakpoints in the
        folder's files are hit). A ``function_handle`` that uses names its own source does not define or import (closures,
        module globals) gives a warning: CDF gets only that source, so the call would fail there.
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
            _warn_unbound(function_handle)
            function_path = "handler.py"
            default_name = getattr(function_handle, "__module__", "function")
        name = name or external_id or default_name
        context = self.context
        store = context.backend.store(project)
        now = context.clock.now_ms()
        file = FileRecord(
            context.ids.new(), f"{name}.zip", None, now, now, content=content, uploaded_time=now
        )
        with context.backend.lock:
            store.files[file.id] = file
        item: dict[str, Any] = {"name": name, "fileId": file.id, "functionPath": function_path}
        if external_id is not None:
            item["externalId"] = external_id
        item.update({_camel(k): v for k, v in fields.items() if v is not None})
        source = Path(folder) if folder is not None else None
        record = create_function(
            context, project, item, timing=deploy_timing, source=source, code_from=code_from
        )
        return Function.load(function_json(record)).set_client_ref(self.sdk_ref(project))

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


def _warn_unbound(handle: Callable[..., Any]) -> None:
    names = unbound_globals(textwrap.dedent(getsource(handle)))
    if names:
        warnings.warn(
            f"handle() uses {', '.join(names)}, which its own source neither defines nor imports; "
            f"CDF gets only that source, so the call would fail there with a NameError ({NAME_ERROR_HINT})",
            UserWarning,
            stacklevel=3,
        )


def _zip_handle(handle: Callable[..., Any]) -> bytes:
    if getattr(handle, "__name__", None) != "handle":
        raise TypeError("function_handle must be a function named 'handle'")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("handler.py", textwrap.dedent(getsource(handle)))
        # The SDK's convention: a [requirements] block in the docstring becomes requirements.txt.
        requirements = docstring_requirements(inspect.getdoc(handle))
        if requirements:
            zf.writestr(FILE_NAME, "".join(f"{line}\n" for line in requirements))
    return buffer.getvalue()
