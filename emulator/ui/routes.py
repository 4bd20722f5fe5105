"""The dev-server dashboard: one static page at /_emulator/ui and the read-only JSON it polls.

The page (dashboard.html, package data, no build step, nothing fetched from the internet) reads
``/_emulator/ui/api/summary`` about once a second and moves the clock through the admin API
(``POST /_emulator/clock/advance``). Everything here only reads state, under the backend's lock.
"""

from __future__ import annotations

import importlib
from datetime import datetime, timezone
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from emulator.resources.common import emulator_of
from emulator.state import CallRecord, FunctionRecord, ScheduleRecord, Store

UTC = timezone.utc  # datetime.UTC is new in Python 3.11

if TYPE_CHECKING:
    from emulator.emulator import FunctionsEmulator

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


def next_runs(
    emu: FunctionsEmulator, schedule: ScheduleRecord, after_ms: int, count: int = NEXT_RUNS
) -> list[int] | None:
    """The next ``count`` fire times (epoch ms) strictly after ``after_ms``, or None if unknown.

    Prefers the scheduler's own helper (so the page shows what will really fire); falls back to
    cronsim in UTC, the emulator's cron library.
    """
    scheduler = getattr(emu, "scheduler", None)
    helper = getattr(scheduler, "next_runs", None)
    if callable(helper):
        try:
            return [int(t) for t in helper(schedule, after_ms, count)]
        except Exception:  # the helper's signature is the scheduler's business; fall back
            pass
    try:
        from cronsim import CronSim
    except ImportError:  # pragma: no cover - cronsim is a dependency
        return None
    try:
        start = datetime.fromtimestamp(after_ms / 1000, tz=UTC)
        it = CronSim(schedule.cron_expression, start)
        out: list[int] = []
        for moment in it:
            ms = int(moment.timestamp() * 1000)
            if ms > after_ms:
                out.append(ms)
            if len(out) >= count:
                break
        return out
    except Exception:
        return None


def _schedule_json(
    emu: FunctionsEmulator, schedule: ScheduleRecord, calls: list[CallRecord], now_ms: int
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
        "nextRuns": next_runs(emu, schedule, now_ms),
        "runCount": len(runs),
        "pastRuns": [
            {"callId": c.id, "status": c.status, "time": c.scheduled_time or c.start_time}
            for c in runs[-PAST_RUNS:]
        ],
    }


def _facade_json(emu: FunctionsEmulator, attr: str, project: str) -> Any:
    """Globus Timer / ROMA state when those facades exist: their own JSON, whatever it is."""
    facade = getattr(emu, attr, None)
    if facade is None:
        return None
    for name in ("ui_summary", "summary", "state_json", "dump"):
        method = getattr(facade, name, None)
        if callable(method):
            try:
                try:
                    return method(project)
                except TypeError:
                    return method()
            except Exception as exc:  # a facade bug must not take the dashboard down
                return {"error": f"{type(exc).__name__}: {exc}"}
    return {"available": True}


def project_summary(emu: FunctionsEmulator, project: str) -> dict[str, Any]:
    # Looking at a project must not create it: an unknown one reads as an empty, unregistered Store.
    store = emu.backend.store(project) if project in emu.backend.projects() else Store(project)
    now_ms = emu.clock.now_ms()
    with emu.backend.lock:
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
                **_schedule_json(emu, s, by_function.get(s.function_id, []), now_ms),
                "functionName": names.get(s.function_id),
            }
            for s in schedules
        ],
        "schedulesSupported": _schedules_supported(emu),
    }
    for key, attrs in (("globus", ("globus", "globus_timer", "globus_timers")), ("roma", ("roma",))):
        for attr in attrs:
            value = _facade_json(emu, attr, project)
            if value is not None:
                out[key] = value
                break
    return out


def _schedules_supported(emu: FunctionsEmulator) -> bool:
    try:
        module = importlib.import_module("emulator.resources.schedules")
    except ImportError:  # pragma: no cover
        return False
    return bool(getattr(module, "routes", None))


def _admin_available() -> bool:
    try:
        importlib.import_module("emulator.resources.admin")
    except ImportError:
        return False
    return True


async def summary(request: Request) -> Response:
    """GET /_emulator/ui/api/summary?project=NAME: the clock, the project list and one project's state."""
    emu = emulator_of(request)
    projects = sorted(set(emu.backend.projects()) | {emu.project})
    project = request.query_params.get("project") or emu.project
    if project not in projects:
        projects.append(project)
    body = {
        "now": emu.clock.now_ms(),
        "mode": emu.clock.mode,
        "defaultProject": emu.project,
        "projects": projects,
        "adminApi": _admin_available(),
        **project_summary(emu, project),
    }
    return JSONResponse(body, headers={"Cache-Control": "no-store"})


async def projects(request: Request) -> Response:
    """GET /_emulator/ui/api/projects: every project with a store, plus the default one."""
    emu = emulator_of(request)
    return JSONResponse({"items": sorted(set(emu.backend.projects()) | {emu.project})})


routes = [
    Route("/", root, methods=["GET"]),
    Route(PREFIX, index, methods=["GET"]),
    Route(PREFIX + "/", index, methods=["GET"]),
    Route(PREFIX + "/api/summary", summary, methods=["GET"]),
    Route(PREFIX + "/api/projects", projects, methods=["GET"]),
]
