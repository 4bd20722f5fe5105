"""In-memory state: one Store per CDF project, all guarded by the emulator's one lock.

Records are plain dataclasses; each resource module turns them into wire JSON. Nothing here is
module-level: a Backend belongs to one FunctionsEmulator, so two emulators never share state.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from operator import itemgetter
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, TypeVar

from emulator.ids import MAX_ID, IdGenerator

__all__ = ["CALL_FIELDS", "MAX_ID", "Backend", "CallRecord", "StatePart", "Store"]


class StatePart(Protocol):
    """The state one resource family keeps per project (RAW, assets, time series, ...).

    A part is made on first use by ``Store.part(Kind)`` (its class takes no arguments); ``name`` is
    its key in state dumps, ``dump()`` gives JSON-ready data and ``load()`` restores it.
    """

    name: ClassVar[str]

    def dump(self) -> dict[str, Any]: ...

    def load(self, data: dict[str, Any]) -> None: ...


P = TypeVar("P", bound=StatePart)


@dataclass
class FileRecord:
    id: int
    name: str
    external_id: str | None
    created_time: int
    last_updated_time: int
    extra: dict[str, Any] = field(default_factory=dict)  # directory, source, mimeType, metadata, ...
    content: bytes | None = None
    uploaded_time: int | None = None

    @property
    def uploaded(self) -> bool:
        return self.content is not None


@dataclass
class SessionRecord:
    id: int
    type: str
    status: str
    nonce: str
    creation_time: int
    expiration_time: int
    client_id: str | None = None
    nonce_used: bool = False


@dataclass
class FunctionRecord:
    id: int
    name: str
    file_id: int
    created_time: int
    status: str = "Queued"
    external_id: str | None = None
    description: str | None = None
    owner: str | None = None
    function_path: str = "handler.py"
    secrets: dict[str, str] = field(default_factory=dict)
    env_vars: dict[str, str] = field(default_factory=dict)
    cpu: float = 0.25
    memory: float = 1.0
    runtime: str = "py313"
    metadata: dict[str, str] | None = None
    index_url: str | None = None
    extra_index_urls: list[str] | None = None
    error: dict[str, Any] | None = None
    last_called: int | None = None
    # With a DeployTiming: (deploying_at_ms, done_at_ms, final status, final error) until settled.
    staged: tuple[int, int, str, dict[str, Any] | None] | None = None
    # Runtime side (never on the wire): the unpacked code and the loaded handle().
    code: Any = None
    code_dir: Path | None = None


# A call record's fields, in the order a CallRecord holds them, and the defaults of the optional ones.
CALL_FIELDS = (
    "id",
    "function_id",
    "status",
    "start_time",
    "end_time",
    "error",
    "schedule_id",
    "scheduled_time",
    "session_id",
    "response",
    "has_response",
    "logs",
    "data_json",
    "wall_ms",
)
_CALL_DEFAULTS: dict[str, Any] = {
    "end_time": None,
    "error": None,
    "schedule_id": None,
    "scheduled_time": None,
    "session_id": None,
    "response": None,
    "has_response": False,
    "logs": (),
    "data_json": None,
    "wall_ms": None,
}


def _field(index: int) -> Any:
    """A CallRecord attribute: its item ``index``, read and written by name."""

    def write(record: list[Any], value: Any) -> None:
        record[index] = value

    return property(itemgetter(index), write)


class CallRecord(list[Any]):
    """One function call: its fields by name (``CALL_FIELDS``), held as the items of a list.

    Why a list: time travel makes a record per scheduled run (a year of a minutely schedule is
    525,600 of them), and a list is filled from a tuple in C, where a dataclass runs one Python
    statement per field: the record cost more than the rest of a run. ``CallRecord(values)`` takes
    every field in ``CALL_FIELDS`` order (the hot path's form); ``CallRecord.of(...)`` takes them
    by name, with defaults. ``logs`` is never mutated, only replaced (close() sets the call's
    lines): a shared empty default. ``data_json`` and ``wall_ms`` are not on CDF's wire (the
    dashboard shows them): the call's input data as JSON, and the wall time its handler took in ms
    (on a virtual clock endTime - startTime is 0).
    """

    __slots__ = ()

    if TYPE_CHECKING:
        id: int
        function_id: int
        status: str
        start_time: int
        end_time: int | None
        error: dict[str, Any] | None
        schedule_id: int | None
        scheduled_time: int | None
        session_id: int | None
        response: Any
        has_response: bool
        logs: Sequence[tuple[int, str]]
        data_json: str | None
        wall_ms: float | None
    else:
        id = _field(0)
        function_id = _field(1)
        status = _field(2)
        start_time = _field(3)
        end_time = _field(4)
        error = _field(5)
        schedule_id = _field(6)
        scheduled_time = _field(7)
        session_id = _field(8)
        response = _field(9)
        has_response = _field(10)
        logs = _field(11)
        data_json = _field(12)
        wall_ms = _field(13)

    @classmethod
    def of(cls, id: int, function_id: int, status: str, start_time: int, **optional: Any) -> CallRecord:
        """A record from its fields by name; those not given take their defaults."""
        unknown = set(optional) - set(_CALL_DEFAULTS)
        if unknown:
            raise TypeError(f"CallRecord has no field {sorted(unknown)[0]!r}")
        rest = {**_CALL_DEFAULTS, **optional}
        return cls((id, function_id, status, start_time, *(rest[name] for name in CALL_FIELDS[4:])))

    def as_dict(self) -> dict[str, Any]:
        return dict(zip(CALL_FIELDS, self, strict=True))

    def __repr__(self) -> str:
        return f"CallRecord({', '.join(f'{k}={v!r}' for k, v in zip(CALL_FIELDS, self, strict=True))})"


@dataclass
class ScheduleRecord:
    id: int
    name: str
    function_id: int
    cron_expression: str
    created_time: int
    session_id: int
    function_external_id: str | None = None
    description: str | None = None
    data_json: str | None = None  # the schedule's data, serialised once at creation
    when: str = ""


@dataclass
class Store:
    """Everything one CDF project holds."""

    project: str
    files: dict[int, FileRecord] = field(default_factory=dict)
    sessions: dict[int, SessionRecord] = field(default_factory=dict)
    functions: dict[int, FunctionRecord] = field(default_factory=dict)
    calls: dict[int, CallRecord] = field(default_factory=dict)
    schedules: dict[int, ScheduleRecord] = field(default_factory=dict)
    functions_status: str = "activated"
    running_calls: dict[int, int] = field(default_factory=dict)  # function id -> calls Running
    nonces: dict[str, int] = field(default_factory=dict)  # nonce -> session id
    call_order: deque[int] = field(default_factory=deque)  # call ids, oldest first (for trimming)
    parts: dict[type, Any] = field(default_factory=dict)  # the other resource families' state
    parts_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def part(self, kind: type[P]) -> P:
        """This project's state of one resource family, made on first use."""
        found = self.parts.get(kind)
        if found is None:
            with self.parts_lock:
                found = self.parts.setdefault(kind, kind())
        return found  # type: ignore[no-any-return]

    def add_call(self, call: CallRecord) -> None:
        self.calls[call.id] = call
        self.call_order.append(call.id)

    # Lookups iterate over a snapshot (list() of a dict view is atomic under the GIL), so a request
    # reading while another thread writes never sees "dictionary changed size during iteration".
    def function_by_external_id(self, external_id: str) -> FunctionRecord | None:
        return next((f for f in list(self.functions.values()) if f.external_id == external_id), None)

    def file_by_external_id(self, external_id: str) -> FileRecord | None:
        return next((f for f in list(self.files.values()) if f.external_id == external_id), None)

    def session_by_nonce(self, nonce: str) -> SessionRecord | None:
        session_id = self.nonces.get(nonce)
        return self.sessions.get(session_id) if session_id is not None else None


class Backend:
    """The Stores of every project, created lazily (moto's BackendDict), plus the id source."""

    def __init__(self, ids: IdGenerator | None = None) -> None:
        self.lock = threading.RLock()
        self._stores: dict[str, Store] = {}
        self.ids = ids or IdGenerator()

    def store(self, project: str) -> Store:
        store = self._stores.get(project)
        if store is None:
            with self.lock:
                store = self._stores.setdefault(project, Store(project))
        return store

    def peek(self, project: str) -> Store:
        """The project's Store if it exists, else an empty one that is not registered: reading an
        unknown project must not create it (a GET per made-up name would grow memory for ever)."""
        return self._stores.get(project) or Store(project)

    def projects(self) -> list[str]:
        return list(self._stores)

    def new_id(self) -> int:
        """A new id, unique across resources and projects (see emulator/ids.py)."""
        return self.ids.new()

    def reset(self) -> None:
        with self.lock:
            self._stores.clear()
