"""The JSON summary the dashboard polls: one project's functions, schedules and sessions, the
pending faults, and the Globus Timer and ROMA state when those facades exist.

Everything here only reads, under the backend's lock or over snapshots; looking never creates a
project or a facade. Calls are paged separately (emulator/ui/calls.py): a summary holds only counts.
"""

from __future__ import annotations

from typing import Any

import emulator.cron as cron
from emulator.context import Context
from emulator.globus.job import Job
from emulator.globus.timers import GlobusTimers
from emulator.roma.service import RomaService, Task
from emulator.state import CallRecord, FunctionRecord, ScheduleRecord, SessionRecord, Store

NEXT_RUNS = 5
PAST_RUNS = 20
FACADE_RUNS = 20  # the newest runs of each Globus timer and ROMA task


def existing_store(ctx: Context, project: str) -> Store:
    """The project's Store, or an empty unregistered one: looking at a project must not create it."""
    return ctx.backend.store(project) if project in ctx.backend.projects() else Store(project)


def function_names(functions: list[FunctionRecord]) -> dict[int, str]:
    return {fn.id: fn.external_id or fn.name for fn in functions}


def _function_json(fn: FunctionRecord, calls: list[CallRecord]) -> dict[str, Any]:
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
    }


def next_runs(schedule: ScheduleRecord, after_ms: int, count: int = NEXT_RUNS) -> list[int] | None:
    """The next ``count`` fire times (epoch ms) strictly after ``after_ms``: what the scheduler will
    fire (the same cron evaluator), or None for an expression it cannot read."""
    try:
        runs = cron.parse(schedule.cron_expression).iter_after(after_ms)
    except cron.CronError:
        return None
    return [t for _, t in zip(range(count), runs, strict=False)]


def _schedule_json(schedule: ScheduleRecord, calls: list[CallRecord], now_ms: int) -> dict[str, Any]:
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


def _session_json(session: SessionRecord) -> dict[str, Any]:
    # The nonce is a credential of sorts: the page shows whether it was used, not its value.
    return {
        "id": session.id,
        "type": session.type,
        "status": session.status,
        "creationTime": session.creation_time,
        "expirationTime": session.expiration_time,
        "clientId": session.client_id,
        "nonceUsed": session.nonce_used,
    }


def _job_json(job: Job) -> dict[str, Any]:
    runs = []
    for entry in job.newest_results(FACADE_RUNS):
        data = entry.get("data") or {}
        runs.append(
            {
                "ranAt": entry.get("ran_at"),
                "httpStatus": entry.get("status"),
                "actionStatus": data.get("status") if isinstance(data, dict) else None,
                "entry": entry,
            }
        )
    return {
        "jobId": job.job_id,
        "name": job.name,
        "kind": job.kind,
        "status": job.status,
        "activity": job.activity()["code"],
        "intervalSeconds": job.interval_s,
        "startMs": job.start_ms,
        "nextRunMs": job.next_run_ms,
        "lastRanAtMs": job.last_ran_at_ms,
        "runCount": job.n_runs,
        "errorCount": job.n_errors,
        "callbackUrl": job.callback_url,
        "runs": runs,
    }


def _task_json(task: Task) -> dict[str, Any]:
    return {
        "projectId": task.project_id,
        "instanceId": task.instance_id,
        "taskId": task.task_id,
        "taskName": task.task_name,
        "started": task.started,
        "executeStatus": task.execute_status,
        "dispatch": task.dispatch.document() if task.dispatch else None,
        "nextRunMs": task.next_run_ms,
        "runCount": len(task.runs),
        "runs": list(reversed(task.runs[-FACADE_RUNS:])),
    }


def facades_json(ctx: Context) -> dict[str, Any]:
    """The Globus Timer and ROMA state, for the facades that exist (looking never makes one)."""
    out: dict[str, Any] = {}
    globus = ctx.facades.get(GlobusTimers)
    if globus is not None:
        out["globus"] = {"jobs": [_job_json(job) for job in list(globus.jobs.values())]}
    roma = ctx.facades.get(RomaService)
    if roma is not None:
        out["roma"] = {"tasks": [_task_json(task) for task in list(roma.tasks.values())]}
    return out


def project_summary(ctx: Context, project: str) -> dict[str, Any]:
    store = existing_store(ctx, project)
    now_ms = ctx.clock.now_ms()
    with ctx.backend.lock:
        functions = list(store.functions.values())
        calls = list(store.calls.values())
        schedules = list(store.schedules.values())
        sessions = list(store.sessions.values())
    by_function: dict[int, list[CallRecord]] = {}
    for call in calls:
        by_function.setdefault(call.function_id, []).append(call)
    names = function_names(functions)
    out = {
        "project": project,
        "functions": [_function_json(fn, by_function.get(fn.id, [])) for fn in functions],
        "callCount": len(calls),
        "schedules": [
            {
                **_schedule_json(s, by_function.get(s.function_id, []), now_ms),
                "functionName": names.get(s.function_id),
            }
            for s in schedules
        ],
        "schedulesSupported": True,
        "sessions": [_session_json(s) for s in sessions],
        "faults": ctx.faults.list(),
    }
    out.update(facades_json(ctx))
    return out
