"""Function schedules: create (binding a session nonce), list, byids, retrieve, delete, input_data.

A schedule in a response never carries ``nonce`` or ``data``; data is only at ``/{id}/input_data``.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from emulator import cron
from emulator.errors import CogniteAPIError, bad_request, not_found
from emulator.resources.common import emulator_of, project_of, store_of
from emulator.resources.functions import get_function
from emulator.resources.sessions import bind_nonce
from emulator.state import ScheduleRecord, Store
from emulator.validation import (
    check_id,
    expect_object,
    get_bool,
    get_id,
    get_items,
    get_limit,
    get_str,
    get_time_range,
    in_range,
    path_id,
    query_limit,
    read_json,
    reject_unknown,
)

if TYPE_CHECKING:
    from emulator.emulator import FunctionsEmulator

_CREATE_FIELDS = (
    "name",
    "description",
    "cronExpression",
    "functionId",
    "functionExternalId",
    "data",
    "nonce",
)
# The official spec spells two filter keys with a capital F; the SDK sends camelCase. Accept both.
_FILTER_KEYS = {
    "name": "name",
    "functionId": "functionId",
    "FunctionId": "functionId",
    "functionExternalId": "functionExternalId",
    "FunctionExternalId": "functionExternalId",
    "createdTime": "createdTime",
    "cronExpression": "cronExpression",
}


def schedule_json(schedule: ScheduleRecord) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": schedule.id,
        "name": schedule.name,
        "functionId": schedule.function_id,
        "createdTime": schedule.created_time,
        "cronExpression": schedule.cron_expression,
        "sessionId": schedule.session_id,
        "when": schedule.when,
    }
    if schedule.function_external_id is not None:
        out["functionExternalId"] = schedule.function_external_id
    if schedule.description is not None:
        out["description"] = schedule.description
    return out


def create_schedule(emu: FunctionsEmulator, project: str, item: Any) -> ScheduleRecord:
    """Validate, bind the nonce, store and start firing one schedule."""
    where = "items[0]"
    store = emu.backend.store(project)
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
        if len(data_json.encode()) > emu.limits.max_schedule_data_bytes:
            raise bad_request(f"{where}.data is larger than {emu.limits.max_schedule_data_bytes} bytes")
    if "nonce" not in obj:
        raise bad_request(f"Missing required field: {where}.nonce")
    function = get_function(store, function_id)
    with emu.backend.lock:
        count = sum(1 for s in store.schedules.values() if s.function_id == function_id)
        if count >= emu.limits.max_schedules_per_function:
            raise bad_request(
                f"Function {function_id} already has {count} schedules; the limit is "
                f"{emu.limits.max_schedules_per_function}"
            )
        session = bind_nonce(emu, store, obj["nonce"])
        schedule = ScheduleRecord(
            id=emu.backend.new_id(),
            name=name or "",
            function_id=function_id,
            cron_expression=compiled.text,
            created_time=emu.clock.now_ms(),
            session_id=session.id,
            function_external_id=function.external_id,
            description=description,
            data_json=data_json,
            when=cron.describe(compiled.text),
        )
        store.schedules[schedule.id] = schedule
    if emu.scheduler is not None:
        emu.scheduler.add(project, schedule, compiled)
    return schedule


def _get(store: Store, schedule_id: int) -> ScheduleRecord:
    schedule = store.schedules.get(schedule_id)
    if schedule is None:
        raise not_found([{"id": schedule_id}], f"Schedule {schedule_id} not found")
    return schedule


def _ids(items: list[Any]) -> list[int]:
    ids = []
    for i, item in enumerate(items):
        obj = expect_object(item, f"items[{i}]")
        reject_unknown(obj, ("id",), f"items[{i}]")
        ids.append(check_id(obj.get("id"), f"items[{i}].id"))
    return ids


def _parse_filter(raw: Any) -> dict[str, Any]:
    flt = expect_object(raw, "filter")
    reject_unknown(flt, _FILTER_KEYS, "filter")
    out: dict[str, Any] = {}
    for key, canonical in _FILTER_KEYS.items():
        if key not in flt:
            continue
        if canonical == "functionId":
            out[canonical] = get_id(flt, key, "filter")
        elif canonical == "createdTime":
            out[canonical] = get_time_range(flt, key, "filter")
        else:
            low, high = {"name": (1, 140), "functionExternalId": (0, 255)}.get(canonical, (0, 1024))
            out[canonical] = get_str(flt, key, "filter", min_len=low, max_len=high)
    return out


def _matches(schedule: ScheduleRecord, flt: dict[str, Any]) -> bool:
    return (
        ("name" not in flt or schedule.name == flt["name"])
        and ("functionId" not in flt or schedule.function_id == flt["functionId"])
        and ("functionExternalId" not in flt or schedule.function_external_id == flt["functionExternalId"])
        and ("cronExpression" not in flt or schedule.cron_expression == flt["cronExpression"])
        and in_range(schedule.created_time, flt.get("createdTime"))
    )


def _listed(store: Store, flt: dict[str, Any], limit: int) -> JSONResponse:
    schedules = sorted(list(store.schedules.values()), key=lambda s: s.id)
    return JSONResponse({"items": [schedule_json(s) for s in schedules if _matches(s, flt)][:limit]})


# --- routes ----------------------------------------------------------------------------------------


async def create(request: Request) -> Response:
    body = expect_object(await read_json(request), "")
    reject_unknown(body, ("items",), "")
    items = get_items(body, max_items=1)
    schedule = create_schedule(emulator_of(request), project_of(request), items[0])
    return JSONResponse({"items": [schedule_json(schedule)]}, status_code=201)


async def list_get(request: Request) -> Response:
    return _listed(store_of(request), {}, query_limit(request))


async def list_post(request: Request) -> Response:
    body = expect_object(await read_json(request, allow_empty=True), "")
    reject_unknown(body, ("filter", "limit"), "")
    return _listed(store_of(request), _parse_filter(body.get("filter", {})), get_limit(body))


async def by_ids(request: Request) -> Response:
    store = store_of(request)
    body = expect_object(await read_json(request), "")
    reject_unknown(body, ("items", "ignoreUnknownIds"), "")
    ids = _ids(get_items(body, max_items=10000))
    missing = [{"id": i} for i in dict.fromkeys(ids) if i not in store.schedules]
    if missing and not get_bool(body, "ignoreUnknownIds"):
        raise not_found(missing, "Schedules not found")
    found = [store.schedules[i] for i in dict.fromkeys(ids) if i in store.schedules]
    return JSONResponse({"items": [schedule_json(s) for s in found]})


async def retrieve(request: Request) -> Response:
    schedule = _get(store_of(request), path_id(request.path_params["schedule_id"], "scheduleId"))
    return JSONResponse(schedule_json(schedule))


async def input_data(request: Request) -> Response:
    schedule = _get(store_of(request), path_id(request.path_params["schedule_id"], "scheduleId"))
    out: dict[str, Any] = {"id": schedule.id}
    if schedule.data_json is not None:
        out["data"] = json.loads(schedule.data_json)
    return JSONResponse(out)


def delete_schedules(emu: FunctionsEmulator, store: Store, ids: list[int]) -> None:
    with emu.backend.lock:
        for schedule_id in ids:
            store.schedules.pop(schedule_id, None)
            if emu.scheduler is not None:
                emu.scheduler.remove(schedule_id)


async def delete(request: Request) -> Response:
    emu, store = emulator_of(request), store_of(request)
    body = expect_object(await read_json(request), "")
    reject_unknown(body, ("items",), "")
    ids = _ids(get_items(body, max_items=10000))
    with emu.backend.lock:
        missing = [{"id": i} for i in dict.fromkeys(ids) if i not in store.schedules]
        if missing:
            raise CogniteAPIError(400, "Schedules not found", missing=missing)
        delete_schedules(emu, store, ids)
    return JSONResponse({})


routes = [
    Route("/functions/schedules", list_get, methods=["GET"]),
    Route("/functions/schedules", create, methods=["POST"]),
    Route("/functions/schedules/list", list_post, methods=["POST"]),
    Route("/functions/schedules/byids", by_ids, methods=["POST"]),
    Route("/functions/schedules/delete", delete, methods=["POST"]),
    Route("/functions/schedules/{schedule_id:int}", retrieve, methods=["GET"]),
    Route("/functions/schedules/{schedule_id:int}/input_data", input_data, methods=["GET"]),
]
