"""What every resource module needs from a request: its project, Store, clock time and ids."""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeVar

from starlette.requests import Request

from emulator.ids import IdGenerator
from emulator.state import StatePart, Store

if TYPE_CHECKING:
    from emulator.emulator import FunctionsEmulator

P = TypeVar("P", bound=StatePart)


def emulator_of(request: Request) -> FunctionsEmulator:
    return request.app.state.emulator  # type: ignore[no-any-return]


def project_of(request: Request) -> str:
    return str(request.path_params["project"])


_READ_SUFFIXES = ("/list", "/byids", "/search", "/aggregate", "/downloadlink")


def store_of(request: Request) -> Store:
    """The request's project's Store; reads (GET, and the POST list/byids/search/aggregate
    endpoints) of a project that does not exist see an empty one and create nothing."""
    backend = emulator_of(request).backend
    if request.method == "GET" or request.url.path.endswith(_READ_SUFFIXES):
        return backend.peek(project_of(request))
    return backend.store(project_of(request))


def part_of(request: Request, kind: type[P]) -> P:
    """The request's project's state of one resource family (see ``StatePart``)."""
    return store_of(request).part(kind)


def now_of(request: Request) -> int:
    """The emulator's clock, in epoch milliseconds."""
    return emulator_of(request).clock.now_ms()


def ids_of(request: Request) -> IdGenerator:
    """The emulator's id generator (ids unique across resource types and projects)."""
    return emulator_of(request).backend.ids
