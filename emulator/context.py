"""What every part of one emulator receives: settings, the stores, ids, clock, timeline, clients.

``FunctionsEmulator`` (emulator/emulator.py) builds one ``Context`` and hands it to the app, the
resource domains, the call pipeline, the scheduler, persistence and the server. Nothing below the
emulator object imports it: modules depend on this context (and on the protocols here), so the
dependency direction stays one way (see docs/architecture.md).
"""

from __future__ import annotations

import shutil
import tempfile
import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol, TypeVar

from cognite.client import AsyncCogniteClient, CogniteClient

from emulator.auth import AuthPolicy
from emulator.build.runtimes import Interpreters
from emulator.changes import CHANGES
from emulator.clock import Clock
from emulator.deploy_timing import DeployTiming
from emulator.faults import Faults
from emulator.ids import IdGenerator
from emulator.limits import Limits
from emulator.overrides import Overrides
from emulator.schedule_queue import ScheduleQueue
from emulator.state import Backend
from emulator.timeline import Timeline

__all__ = [
    "CallMode",
    "Clients",
    "CodeFrom",
    "Context",
    "Facades",
    "Isolation",
    "RequirementsMode",
    "Settings",
]

CallMode = Literal["sync", "background"]
Isolation = Literal["thread", "process"]
RequirementsMode = Literal["install", "check", "ignore"]  # the build step (emulator/build/step.py)
CodeFrom = Literal["snapshot", "source"]
T = TypeVar("T")


@dataclass
class Settings:
    """The emulator's options (see ``FunctionsEmulator``). ``call_mode``, ``timeout_seconds`` and
    ``max_calls_kept`` are read at use (a test may change them); ``limits`` are read once."""

    project: str
    call_mode: CallMode = "sync"
    isolation: Isolation = "thread"
    timeout_seconds: float = 600.0
    max_calls_kept: int | None = 100_000
    limits: Limits = field(default_factory=Limits)
    deploy_timing: DeployTiming | None = None  # None: functions are Ready (or Failed) at once
    requirements: RequirementsMode = "check"
    build_cache: str | Path | None = None  # None: $CDF_FUNCTIONS_EMULATOR_CACHE or the user cache
    interpreters: dict[str, str] = field(default_factory=dict)  # runtime -> python, before discovery
    # Wall/system clock: a scheduled run slower than this goes on in the background, so the other
    # schedules keep firing (emulator/execution/deadline.py).
    inline_seconds: float = 1.0
    code_from: CodeFrom = "snapshot"  # "source": frames name the user's files (execution/sources.py)
    source_roots: tuple[Path, ...] = ()  # where "source" looks for folders the SDK zipped

    def __post_init__(self) -> None:
        if self.requirements not in ("install", "check", "ignore"):
            raise ValueError(
                f"requirements must be 'install', 'check' or 'ignore', not {self.requirements!r}"
            )
        if self.call_mode not in ("sync", "background"):
            raise ValueError(f"call_mode must be 'sync' or 'background', not {self.call_mode!r}")
        if self.isolation not in ("thread", "process"):
            raise ValueError(f"isolation must be 'thread' or 'process', not {self.isolation!r}")
        if self.code_from not in ("snapshot", "source"):
            raise ValueError(f"code_from must be 'snapshot' or 'source', not {self.code_from!r}")

    def __setattr__(self, name: str, value: Any) -> None:
        # isolation and timeout_seconds decide how a scheduled run is made: a clock move that is
        # under way makes its next run with the new value (emulator/changes.py).
        object.__setattr__(self, name, value)
        CHANGES.bump()


class Clients(Protocol):
    """The clients the emulator hands out (implemented by ``emulator.clients.EmulatorClients``)."""

    def client(self, project: str) -> CogniteClient:
        """A CogniteClient wired in-process to this emulator (what ``emu.client()`` gives)."""

    def handler_client(self, project: str) -> Any:
        """The ``client`` argument of a handler running in ``project``; may raise (user factory)."""

    def sdk_ref(self, project: str) -> AsyncCogniteClient:
        """The client SDK objects built by the emulator (Function, FunctionCall) are bound to."""

    def loopback_url(self) -> str:
        """The base URL of a loopback HTTP server for this emulator, started on first use."""


class _Unwired:
    def client(self, project: str) -> CogniteClient:
        raise RuntimeError("the emulator's clients are not wired yet")

    def handler_client(self, project: str) -> Any:
        raise RuntimeError("the emulator's clients are not wired yet")

    def sdk_ref(self, project: str) -> AsyncCogniteClient:
        raise RuntimeError("the emulator's clients are not wired yet")

    def loopback_url(self) -> str:
        raise RuntimeError("the emulator's clients are not wired yet")


class Facades:
    """The facades (Globus Timer, ROMA, ...) of one emulator, by class, made on first use.

    ``get`` never makes one (the dashboard reads only the facades that exist); ``ensure`` does.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._made: dict[type, Any] = {}

    def get(self, kind: type[T]) -> T | None:
        return self._made.get(kind)

    def ensure(self, kind: type[T], make: Callable[[], T]) -> T:
        found = self._made.get(kind)
        if found is None:
            with self._lock:
                found = self._made.get(kind)
                if found is None:
                    found = self._made[kind] = make()
        return found

    def existing(self) -> list[Any]:
        return list(self._made.values())


class Context:
    """One emulator's parts. Owned by one ``FunctionsEmulator``; two emulators share nothing."""

    def __init__(
        self,
        settings: Settings,
        clock: Clock,
        *,
        id_seed: int = 0,
        auth: str = "any",
        admin_token: str | None = None,
    ) -> None:
        self.settings = settings
        self.clock = clock
        self.timeline = Timeline(clock)
        self.backend = Backend(IdGenerator(id_seed))
        # Plain attributes, not properties: the call pipeline reads them on every scheduled run.
        self.limits: Limits = settings.limits
        self.ids: IdGenerator = self.backend.ids  # CDF-looking ids, unique across types and projects
        self.schedules = ScheduleQueue(clock.now_ms)
        self.faults = Faults()
        self.auth = AuthPolicy(auth, admin_token=admin_token)
        self.facades = Facades()
        self.overrides = Overrides()  # the user's fakes for some APIs, by path prefix
        self.interpreters = Interpreters(settings.interpreters)  # the runtimes' Pythons, found once
        self.clients: Clients = _Unwired()
        self._workdir: Path | None = None
        self._workdir_lock = threading.Lock()
        self._finalizer: weakref.finalize[Any, Context] | None = None

    @property
    def workdir(self) -> Path:
        """The emulator's own temporary directory (unpacked function code); made on first use."""
        with self._workdir_lock:
            if self._workdir is None:
                self._workdir = Path(tempfile.mkdtemp(prefix="cdf-functions-emulator-"))
                self._finalizer = weakref.finalize(self, shutil.rmtree, str(self._workdir), True)
            return self._workdir

    def clear_workdir(self, sub: str) -> None:
        """Remove one subdirectory of the workdir, if the workdir exists."""
        if self._workdir is not None:
            shutil.rmtree(self._workdir / sub, ignore_errors=True)

    def reset(self) -> None:
        """Forget every project's state, pending schedule runs, faults and facade state; keep the
        clock and the ids already issued."""
        self._release_code()
        self.backend.reset()
        self.schedules.reset()
        self.faults.clear()
        for facade in self.facades.existing():
            facade.reset()
        self.clear_workdir("functions")

    def _release_code(self) -> None:
        # Every function's modules leave sys.modules and its worker processes stop.
        for project in self.backend.projects():
            for fn in list(self.backend.store(project).functions.values()):
                if fn.code is not None:
                    fn.code.release()

    def close(self) -> None:
        """Drop all state and remove the workdir."""
        self._release_code()
        self.backend.reset()
        self.schedules.reset()
        if self._finalizer is not None:
            self._finalizer()
