"""Schedules routes: create, list, byids, retrieve, delete, input_data."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from emulator.resources.common import context_of, project_of, store_of
from emulator.resources.schedules import domain
from emulator.resources.schedules.wire import schedule_json
from emulator.validation import (
    check_id,
    expect_object,
    get_bool,
    get_id,
    get_items,
    get_limit,
    get_str,
    get_time_range,
    path_id,
    query_limit,
    read_json,
    reject_unknown,
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


def _listed(store: Any, flt: dict[str, Any], limit: int) -> JSONResponse:
    return JSONResponse({"items": [schedule_json(s) for s in domain.listed(store, flt, limit)]})


async def create(request: Request) -> Response:
    body = expect_object(await read_json(request), "")
    reject_unknown(body, ("items",), "")
    items = get_items(body, max_items=1)
    schedule = domain.create_schedule(context_of(request), project_of(request), items[0])
    return JSONResponse({"items": [schedule_json(schedule)]}, status_code=201)


async def list_get(request: Request) -> Response:
    return _listed(store_of(request), {}, query_limit(request))


async def list_post(request: Request) -> Response:
    body = expect_object(await read_json(request, allow_empty=True), "")
    reject_unknown(body, ("filter", "limit"), "")
    return _listed(store_of(request), _parse_filter(body.get("filter", {})), get_limit(body))


async def by_ids(request: Request) -> Response:
    body = expect_object(await read_json(request), "")
    reject_unknown(body, ("items", "ignoreUnknownIds"), "")
    ids = _ids(get_items(body, max_items=10000))
    found = domain.by_ids(store_of(request), ids, ignore_unknown=get_bool(body, "ignoreUnknownIds"))
    return JSONResponse({"items": [schedule_json(s) for s in found]})


def _path_schedule(request: Request) -> Any:
    return domain.get_schedule(store_of(request), path_id(request.path_params["schedule_id"], "scheduleId"))


async def retrieve(request: Request) -> Response:
    return JSONResponse(schedule_json(_path_schedule(request)))


async def input_data(request: Request) -> Response:
    schedule = _path_schedule(request)
    out: dict[str, Any] = {"id": schedule.id}
    data = domain.input_data(schedule)
    if data is not None:
        out["data"] = data
    return JSONResponse(out)


async def delete(request: Request) -> Response:
    body = expect_object(await read_json(request), "")
    reject_unknown(body, ("items",), "")
    domain.delete_schedules(context_of(request), store_of(request), _ids(get_items(body, max_items=10000)))
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
