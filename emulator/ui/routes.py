"""The dev-server dashboard: one static page at /_emulator/ui and the read-only JSON it polls.

The page (dashboard.html, package data, no build step, nothing fetched from the internet) reads
``/_emulator/ui/api/summary`` and ``/_emulator/ui/api/calls`` about once a second. What it changes
goes through the emulator's existing routes: the CDF API (call or delete a function, delete a
schedule) and the admin API (move the clock, reset, clear faults). Nothing here changes state.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from emulator.resources.common import context_of
from emulator.ui.calls import calls_page, parse_query
from emulator.ui.summary import existing_store, function_names, next_runs, project_summary

__all__ = ["PREFIX", "next_runs", "project_summary", "routes"]

PREFIX = "/_emulator/ui"


@cache
def _page() -> str:
    return resources.files("emulator.ui").joinpath("dashboard.html").read_text(encoding="utf-8")


async def index(request: Request) -> Response:
    return HTMLResponse(_page(), headers={"Cache-Control": "no-store"})


async def root(request: Request) -> Response:
    """``/`` of the dev server: a newcomer opening the printed URL lands on the dashboard (with the
    query kept, so ``/?project=x&token=t`` opens that project with that token)."""
    query = request.url.query
    return RedirectResponse(PREFIX + ("?" + query if query else ""), status_code=307)


def _project(request: Request) -> str:
    return request.query_params.get("project") or context_of(request).settings.project


async def summary(request: Request) -> Response:
    """GET /_emulator/ui/api/summary?project=NAME: the clock, the project list and one project's state."""
    ctx = context_of(request)
    projects = sorted(set(ctx.backend.projects()) | {ctx.settings.project})
    project = _project(request)
    if project not in projects:
        projects.append(project)
    body = {
        "now": ctx.clock.now_ms(),
        "mode": ctx.clock.mode,
        "defaultProject": ctx.settings.project,
        "projects": projects,
        "adminApi": True,
        **project_summary(ctx, project),
    }
    return JSONResponse(body, headers={"Cache-Control": "no-store"})


async def calls(request: Request) -> Response:
    """GET /_emulator/ui/api/calls?project=&function=ID&status=S&limit=N&cursor=C: one page of the
    project's calls, newest first, with their input data, response, logs and wall time."""
    query = parse_query(request.query_params)
    ctx = context_of(request)
    store = existing_store(ctx, _project(request))
    with ctx.backend.lock:
        records = list(store.calls.values())
        names = function_names(list(store.functions.values()))
    return JSONResponse(calls_page(records, query, names), headers={"Cache-Control": "no-store"})


async def projects(request: Request) -> Response:
    """GET /_emulator/ui/api/projects: every project with a store, plus the default one."""
    ctx = context_of(request)
    return JSONResponse({"items": sorted(set(ctx.backend.projects()) | {ctx.settings.project})})


routes = [
    Route("/", root, methods=["GET"]),
    Route(PREFIX, index, methods=["GET"]),
    Route(PREFIX + "/", index, methods=["GET"]),
    Route(PREFIX + "/api/summary", summary, methods=["GET"]),
    Route(PREFIX + "/api/calls", calls, methods=["GET"]),
    Route(PREFIX + "/api/projects", projects, methods=["GET"]),
]
