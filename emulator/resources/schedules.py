"""Function schedules (filled in by the schedules work)."""

from __future__ import annotations

from starlette.routing import Route

routes: list[Route] = []
