"""The dev-server dashboard: one static page at /_emulator/ui and the read-only JSON it polls.

The page (dashboard.html, package data, no build step, nothing fetched from the internet) reads
``/_emulator/ui/api/summary`` about once a second and moves the clock through the admin API
(``POST /_emulator/clock/advance``). Everything here only reads state, under the backend's lock.
"""

from __future__ import annotations

from datetime import timezone
from functools import cache
from importlib import resources
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

import emulator.cron as cron
from emulator.context import Context
from emulator.globus.timers import GlobusTimers
from emulator.resources.common import context_of
from emulator.roma.service import RomaService
from emulator.state import CallRecord, FunctionRecord, ScheduleRecord, Store

UTC = timezone.utc  # datetime.UTC is new in Python 3.11

PREFIX = "/_emulator/ui"
CALLS_PER_FUNCTION = 50  # newest first; the page is a dashboard, not an archive
NEXT_RUNS = 5
PAST_RUNS = 20
MAX_LOG_LINES = 200


@cache
def _page() -> str:
    return resources.files("emulator.ui").joinpath("dashboard.html").read_text(encoding="utf-8")


async def index(request: Request) -> Response:
    return HTMLResponse(_page(), headers={"Cache-Control": "no-store"})


async def root(request: Request) -> Response:
    """``/`` of the dev server: a newcomer opening the printed URL lands on the dashboard."""
    return RedirectResponse(PREFIX, status_code=307)


# --- JSON ---------------------------------------------------------------------------------------
def _call_json(call: CallRecord, *, details: bool) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": call.id,
        "functionId": call.function_id,
        "status": call.status,
        "startTime": call.start_time,
        "endTime": call.end_time,
        "scheduleId": call.schedule_id,
        "scheduledTime": call.scheduled_time,
    }
    if details:
        logs = list(call.logs)
        out["logs"] = [{"timestamp": ts, "message": msg} for ts, msg in logs[-MAX_LOG_LINES:]]
        out["logsTruncated"] = max(0, len(logs) - MAX_LOG_LINES)
        out["hasResponse"] = call.has_response
        out["response"] = call.response if call.has_response else None
        out["error"] = call.error
    return out


def _function_json(fn: FunctionRecord, calls: list[CallRecord]) -> dict[str, Any]:
    newest = sorted(calls, key=lambda c: (c.start_time, c.id), reverse=True)
    counts: dict[str, int] = {}
    for call in calls:
        counts[call.status] = counts.get(call.status, 0) + 1
    return {
        "id": fn.id,
        "name": fn.name,
        "externalId": fn.external_id,
        "status": fn.status,
        "runtime": fn.runtime,
        "createdTime": fn.created_time,
        "lastCalled": fn.last_called,
        "error": fn.error,
        "callCount": len(calls),
        "callCounts": counts,
        "calls": [_call_json(c, details=True) for c in newest[:CALLS_PER_FUNCTION]],
    }


def next_runs(schedule: ScheduleRecord, after_ms: int, count: int = NEXT_RUNS) -> list[int] | None:
    """The next ``count`` fire times (epoch ms) strictly after ``after_ms``: what the scheduler will
    fire (the same cron evaluator), or None for an expression it cannot read."""
    try:
        runs = cron.parse(schedule.cron_expression).iter_after(after_ms)
    except cron.CronError:
        return None
    return [t for _, t in zip(range(count), runs, strict=False)]


def _schedule_json(
    ctx: Context, schedule: ScheduleRecord, calls: list[CallRecord], now_ms: int
) -> dict[str, Any]:
    runs = sorted(
        (c for c in calls if c.schedule_id == schedule.id),
        key=lambda c: (c.scheduled_time or c.start_time, c.id),
    )
    return {
        "id": schedule.id,
        "name": schedule.name,
        "functionId": schedule.function_id,
        "functionExternalId": schedule.function_external_id,
        "cronExpression": schedule.cron_expression,
        "when": schedule.when,
        "description": schedule.description,
        "createdTime": schedule.created_time,
        "nextRuns": next_runs(schedule, now_ms),
        "runCount": len(runs),
        "pastRuns": [
            {"callId": c.id, "status": c.status, "time": c.scheduled_time or c.start_time}
            for c in runs[-PAST_RUNS:]
        ],
    }


def _facades_json(ctx: Context) -> dict[str, Any]:
    """The Globus Timer and ROMA state, for the facades that exist (looking never makes one)."""
    out: dict[str, Any] = {}
    globus = ctx.facades.get(GlobusTimers)
    if globus is not None:
        out["globus"] = {"jobs": [job.document() for job in list(globus.jobs.values())]}
    roma = ctx.facades.get(RomaService)
    if roma is not None:
        out["roma"] = {
            "items": [
                {"project_id": t.project_id, "instance_id": t.instance_id, "task_id": t.task_id,
                 "dispatch": t.dispatch.document() if t.dispatch else None, "runs": len(t.runs)}
                for t in list(roma.tasks.values())
            ]
        }  # fmt: skip
    return out


def project_summary(ctx: Context, project: str) -> dict[str, Any]:
    # Looking at a project must not create it: an unknown one reads as an empty, unregistered Store.
    store = ctx.backend.store(project) if project in ctx.backend.projects() else Store(project)
    now_ms = ctx.clock.now_ms()
    with ctx.backend.lock:
        functions = list(store.functions.values())
        calls = list(store.calls.values())
        schedules = list(store.schedules.values())
    by_function: dict[int, list[CallRecord]] = {}
    for call in calls:
        by_function.setdefault(call.function_id, []).append(call)
    names = {fn.id: fn.external_id or fn.name for fn in functions}
    out = {
        "project": project,
        "functions": [_function_json(fn, by_function.get(fn.id, [])) for fn in functions],
        "schedules": [
            {
                **_schedule_json(ctx, s, by_function.get(s.function_id, []), now_ms),
                "functionName": names.get(s.function_id),
            }
            for s in schedules
        ],
        "schedulesSupported": True,
    }
    out.update(_facades_json(ctx))
    return out


async def summary(request: Request) -> Response:
    """GET /_emulator/ui/api/summary?project=NAME: the clock, the project list and one project's state."""
    ctx = context_of(request)
    projects = sorted(set(ctx.backend.projects()) | {ctx.settings.project})
    project = request.query_params.get("project") or ctx.settings.project
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


async def projects(request: Request) -> Response:
    """GET /_emulator/ui/api/projects: every project with a store, plus the default one."""
    ctx = context_of(request)
    return JSONResponse({"items": sorted(set(ctx.backend.projects()) | {ctx.settings.project})})


routes = [
    Route("/", root, methods=["GET"]),
    Route(PREFIX, index, methods=["GET"]),
    Route(PREFIX + "/", index, methods=["GET"]),
    Route(PREFIX + "/api/summary", summary, methods=["GET"]),
    Route(PREFIX + "/api/projects", projects, methods=["GET"]),
]
