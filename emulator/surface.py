"""The whole official surface: every CDF operation no route serves answers 501, naming itself.

Computed from the official spec (``emulator.spec.operations()``) against the routes the app really
has, so it shrinks by itself as resource families land: a route that serves the same method and
path template (parameter names and converters aside) wins. Only paths outside the official API
are left to answer 404. The SDK turns the 501 into a ``CogniteAPIError`` whose message names the
operation, so a handler calling an API the emulator lacks ends Failed with that message instead of
a misleading "not found" (which ``retrieve()`` would silently turn into None).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route

from emulator.errors import CogniteAPIError
from emulator.spec import Operation, operations

_PARAM = re.compile(r"\{[^}]*\}")
PROJECT_PREFIX = "/api/v1/projects/{}"  # the app's project Mount, as ``template`` writes it


def template(path: str) -> str:
    """A path with every parameter written ``{}``: "/files/{file_id:int}" -> "/files/{}"."""
    return _PARAM.sub("{}", path)


class Unimplemented(Route):
    """The 501 route of one official operation that nothing in the emulator serves."""

    def __init__(self, op: Operation) -> None:
        self.op = op
        message = f"{op.method.upper()} {op.path} ({op.operation_id}) is not implemented by the emulator"

        async def answer(request: Request) -> Response:
            raise CogniteAPIError(501, message)

        super().__init__(op.path, answer, methods=[op.method.upper()], name=op.operation_id)


def served(routes: Iterable[BaseRoute], prefix: str = "") -> set[tuple[str, str]]:
    """(method, path template) of every route that really serves something (not a 501 route)."""
    found: set[tuple[str, str]] = set()
    for route in routes:
        if isinstance(route, Unimplemented):
            continue
        if isinstance(route, Mount):
            found |= served(route.routes, prefix + route.path)
        elif isinstance(route, Route):
            for method in route.methods or ():
                found.add((method.lower(), template(prefix + route.path)))
    return found


def served_in_project(app_routes: Iterable[BaseRoute]) -> set[tuple[str, str]]:
    """What an app serves under /api/v1/projects/{project}, as templates relative to that prefix
    (the way the spec writes its paths)."""
    return {
        (m, p.removeprefix(PROJECT_PREFIX)) for m, p in served(app_routes) if p.startswith(PROJECT_PREFIX)
    }


def unimplemented(routes: Iterable[BaseRoute]) -> list[Operation]:
    """The official operations that none of ``routes`` (relative to the project prefix) serves."""
    have = served(routes)
    return [op for op in operations() if (op.method, template(op.path)) not in have]


def _specificity(op: Operation) -> tuple[tuple[bool, ...], int]:
    # Fixed segments before parameters at each depth, so "/x/list" is never shadowed by "/x/{id}".
    return tuple(seg.startswith("{") for seg in op.path.split("/")), -len(op.path)


def complete(routes: Sequence[BaseRoute]) -> list[BaseRoute]:
    """``routes`` followed by a 501 route for every official operation they do not serve."""
    missing = sorted(unimplemented(routes), key=_specificity)
    return [*routes, *(Unimplemented(op) for op in missing)]
