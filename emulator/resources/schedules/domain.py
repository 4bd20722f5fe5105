"""Schedules: create (validation, the per-function limit, binding the session nonce), lookups, delete.

A created schedule starts firing through the context's ScheduleQueue; a deleted one stops.
"""

from __future__ import annotations

import json
from typing import Any

import emulator.cron as cron
from emulator.context import Context
from emulator.errors import CogniteAPIError, bad_request, not_found
from emulator.resources.functions.domain import get_function
from emulator.resources.sessions.domain import bind_nonce
from emulator.state import ScheduleRecord, Store
from emulator.validation import expect_object, get_id, get_str, in_range, reject_unknown

_CREATE_FIELDS = (
    "name",
    "description",
    "cronExpression",
    "functionId",
    "functionExternalId",
    "data",
    "nonce",
)


def create_schedule(ctx: Context, project: str, item: Any) -> ScheduleRecord:
    """Validate, bind the nonce, store and start firing one schedule."""
    where = "items[0]"
    store = ctx.backend.store(project)
    obj = expect_object(item, where)
    reject_unknown(obj, _CREATE_FIELDS, where)
    name = get_str(obj, "name", where, required=True, min_len=1, max_len=140)
    description = get_str(obj, "description", where, max_len=500)
    expression = get_str(obj, "cronExpression", where, required=True, max_len=cron.MAX_EXPRESSION_LENGTH)
    try:
        compiled = cron.parse(expression)
    except cron.CronError as exc:
        raise bad_request(f"{where}.cronExpression {expression!r} is invalid: {exc}") from None
    function_id = get_id(obj, "functionId", where)
    if function_id is None:
        if obj.get("functionExternalId") is not None:
            raise bad_request(f"{where}.functionId is required: schedules are created by function id")
        raise bad_request(f"Missing required field: {where}.functionId")
    data = obj.get("data")
    data_json = None
    if data is not None:
        if not isinstance(data, dict):
            raise bad_request(f"{where}.data must be a JSON object")
        data_json = json.dumps(data)
        if len(data_json.encode()) > ctx.limits.max_schedule_data_bytes:
            raise bad_request(f"{where}.data is larger than {ctx.limits.max_schedule_data_bytes} bytes")
    if "nonce" not in obj:
        raise bad_request(f"Missing required field: {where}.nonce")
    get_function(store, function_id)  # 400 if there is no such function
    with ctx.backend.lock:
        count = sum(1 for s in store.schedules.values() if s.function_id == function_id)
        if count >= ctx.limits.max_schedules_per_function:
            raise bad_request(
                f"Function {function_id} already has {count} schedules; the limit is "
                f"{ctx.limits.max_schedules_per_function}"
            )
        session = bind_nonce(ctx, store, obj["nonce"])
        schedule = ScheduleRecord(
            id=ctx.ids.new(),
            name=name or "",
            function_id=function_id,
            cron_expression=compiled.text,
            created_time=ctx.clock.now_ms(),
            session_id=session.id,
            # CDF answers only what was posted: functionExternalId only if the request had it.
            function_external_id=get_str(obj, "functionExternalId", where, max_len=255),
            description=description,
            data_json=data_json,
            when=cron.describe(compiled.text),
        )
        store.schedules[schedule.id] = schedule
    # From the clock as the queue reads it (never a run at or before one a moving clock already
    # made); keyed by the compiled expression: schedules of one expression due together share a cohort.
    ctx.schedules.add_after_now(project, schedule.id, compiled.iter_after, compiled)
    return schedule


def get_schedule(store: Store, schedule_id: int) -> ScheduleRecord:
    schedule = store.schedules.get(schedule_id)
    if schedule is None:
        raise not_found([{"id": schedule_id}], f"Schedule {schedule_id} not found")
    return schedule


def matches(schedule: ScheduleRecord, flt: dict[str, Any], xid_function: int | None = None) -> bool:
    """``xid_function``: the id of the function whose externalId the filter names, if it does."""
    return (
        ("name" not in flt or schedule.name == flt["name"])
        and ("functionId" not in flt or schedule.function_id == flt["functionId"])
        and ("functionExternalId" not in flt or schedule.function_id == xid_function)
        and ("cronExpression" not in flt or schedule.cron_expression == flt["cronExpression"])
        and in_range(schedule.created_time, flt.get("createdTime"))
    )


def listed(store: Store, flt: dict[str, Any], limit: int) -> list[ScheduleRecord]:
    schedules = sorted(list(store.schedules.values()), key=lambda s: s.id)
    xid_function = None
    if "functionExternalId" in flt:  # a filter on the function's externalId, as it is now
        fn = store.function_by_external_id(flt["functionExternalId"])
        xid_function = fn.id if fn is not None else None
    return [s for s in schedules if matches(s, flt, xid_function)][:limit]


def by_ids(store: Store, ids: list[int], *, ignore_unknown: bool) -> list[ScheduleRecord]:
    missing = [{"id": i} for i in dict.fromkeys(ids) if i not in store.schedules]
    if missing and not ignore_unknown:
        raise not_found(missing, "Schedules not found")
    return [store.schedules[i] for i in dict.fromkeys(ids) if i in store.schedules]


def input_data(schedule: ScheduleRecord) -> Any:
    return json.loads(schedule.data_json) if schedule.data_json is not None else None


def delete_schedules(ctx: Context, store: Store, ids: list[int]) -> None:
    """Delete schedules; 400 with ``missing`` (nothing deleted) if any id is unknown."""
    with ctx.backend.lock:
        missing = [{"id": i} for i in dict.fromkeys(ids) if i not in store.schedules]
        if missing:
            raise CogniteAPIError(400, "Schedules not found", missing=missing)
        for schedule_id in ids:
            store.schedules.pop(schedule_id, None)
            ctx.schedules.remove(schedule_id)
