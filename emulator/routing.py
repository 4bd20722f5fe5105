"""The project Mount, routing by resource family: a dict lookup, then that family's few routes.

Starlette's Router tries its routes in order, one regex each. Under ``/api/v1/projects/{project}``
there are some 485 (the served operations and a 501 route for each other official one), so a
request for a late family (datapoints, RAW, data modeling) paid for hundreds of regex matches
before its own, some 1.5 µs each. Every path there starts with a literal segment naming its family
(``/functions/...``, ``/timeseries/...``), so the Mount keeps one Router per first segment and
hands the request to it; the order of routes within a family, and so the answer, is unchanged.
``routes`` is still the whole list (the 404/405 helpers and the surface map walk it).
"""

from __future__ import annotations

from collections.abc import Sequence

from starlette.routing import BaseRoute, Mount, Router
from starlette.types import Receive, Scope, Send


def _family(path: str) -> str:
    """The first segment of a route path (``/functions/{id}`` -> ``functions``)."""
    return path.split("/", 2)[1] if path.startswith("/") else ""


class FamilyMount(Mount):
    """A ``Mount`` of ``routes`` whose request dispatch looks its Router up by the first segment
    of the path below the Mount; a segment no route has answers 404 (as the single Router did).
    No Router redirects a path with a trailing slash: CDF answers it with its error shape."""

    def __init__(self, path: str, routes: Sequence[BaseRoute]) -> None:
        super().__init__(path, routes=list(routes))
        groups: dict[str, list[BaseRoute]] = {}
        for route in routes:
            groups.setdefault(_family(getattr(route, "path", "")), []).append(route)
        self.families = {name: Router(routes=group, redirect_slashes=False) for name, group in groups.items()}
        self._nothing = Router(routes=[], redirect_slashes=False)

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        # The path below the Mount: Mount.matches extended root_path with the matched prefix.
        path: str = scope["path"]
        root: str = scope.get("root_path", "")
        if root and path.startswith(root):
            path = path[len(root) :]
        await self.families.get(_family(path), self._nothing)(scope, receive, send)
