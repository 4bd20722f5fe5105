"""What every resource module needs from a request: its context, project, Store, clock time and ids."""

from __future__ import annotations

from typing import TypeVar

from starlette.requests import Request

from emulator.context import Context
from emulator.ids import IdGenerator
from emulator.state import StatePart, Store

P = TypeVar("P", bound=StatePart)


def context_of(request: Request) -> Context:
    """The emulator's context (settings, backend, clock, timeline, clients), from ``app.state``."""
    return request.app.state.context  # type: ignore[no-any-return]


# The first wave's name. It returns the Context, which has the attributes resource modules used on
# the emulator object (``clock``, ``backend``, ``limits``, ``faults``); prefer ``context_of``.
emulator_of = context_of


def project_of(request: Request) -> str:
    return str(request.path_params["project"])


_READ_SUFFIXES = ("/list", "/byids", "/search", "/aggregate", "/downloadlink", "/latest", "/query", "/sync")


def store_of(request: Request) -> Store:
    """The request's project's Store; reads (GET, and the POST read endpoints: list, byids, search,
    aggregate, downloadlink, latest, query, sync) of a project that does not exist see an empty one
    and create nothing."""
    backend = context_of(request).backend
    path: str = request.scope["path"]  # not request.url, which parses the whole URL per request
    if request.method == "GET" or path.endswith(_READ_SUFFIXES):
        return backend.peek(project_of(request))
    return backend.store(project_of(request))


def part_of(request: Request, kind: type[P]) -> P:
    """The request's project's state of one resource family (see ``StatePart``)."""
    return store_of(request).part(kind)


def now_of(request: Request) -> int:
    """The emulator's clock, in epoch milliseconds."""
    return context_of(request).clock.now_ms()


def ids_of(request: Request) -> IdGenerator:
    """The emulator's id generator (ids unique across resource types and projects)."""
    return context_of(request).ids
