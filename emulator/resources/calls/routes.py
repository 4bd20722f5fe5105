"""Function calls routes: call, list (GET and POST with filters), byids, retrieve, response, logs."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from emulator.errors import bad_request
from emulator.resources.calls import domain
from emulator.resources.calls.wire import call_json, logs_json, response_json
from emulator.resources.common import context_of, project_of, store_of
from emulator.resources.functions.domain import get_function
from emulator.resources.paging import page, page_body
from emulator.state import CallRecord
from emulator.validation import (
    check_id,
    expect_object,
    get_bool,
    get_id,
    get_items,
    get_str,
    get_time_range,
    path_id,
    read_json,
    reject_unknown,
)


def _function_id(request: Request) -> int:
    return path_id(request.path_params["function_id"], "functionId")


async def call_function(request: Request) -> Response:
    function_id = _function_id(request)
    body = expect_object(await read_json(request), "")
    reject_unknown(body, ("data", "nonce"), "")
    data = body.get("data")
    if data is not None and not isinstance(data, dict):
        raise bad_request("data must be a JSON object")
    if "nonce" not in body:
        raise bad_request("Missing required field: nonce")
    ctx = context_of(request)
    record = await domain.call_function(ctx, project_of(request), function_id, data, body["nonce"])
    return JSONResponse(call_json(record), status_code=201)


def _parse_filter(raw: Any) -> dict[str, Any]:
    flt = expect_object(raw, "filter")
    reject_unknown(flt, ("status", "scheduleId", "startTime", "endTime"), "filter")
    out: dict[str, Any] = {}
    if (status := get_str(flt, "status", "filter")) is not None:
        if status not in domain.CALL_STATUSES:
            raise bad_request(f"filter.status must be one of {', '.join(domain.CALL_STATUSES)}")
        out["status"] = status
    if (schedule_id := get_id(flt, "scheduleId", "filter")) is not None:
        out["scheduleId"] = schedule_id
    for key in ("startTime", "endTime"):
        if (rng := get_time_range(flt, key, "filter")) is not None:
            out[key] = rng
    return out


def _page_json(items: list[CallRecord], cursor: str | None) -> dict[str, Any]:
    out: dict[str, Any] = {"items": [call_json(c) for c in items]}
    if cursor:
        out["nextCursor"] = cursor
    return out


async def list_get(request: Request) -> Response:
    calls = domain.calls_of(store_of(request), _function_id(request))
    return JSONResponse(_page_json(*page(request, calls, max_limit=10000)))


async def list_post(request: Request) -> Response:
    function_id = _function_id(request)
    body = expect_object(await read_json(request, allow_empty=True), "")
    reject_unknown(body, ("filter", "limit", "cursor"), "")
    flt = _parse_filter(body.get("filter", {}))
    calls = [c for c in domain.calls_of(store_of(request), function_id) if domain.matches(c, flt)]
    return JSONResponse(_page_json(*page_body(body, calls)))


async def by_ids(request: Request) -> Response:
    store, function_id = store_of(request), _function_id(request)
    body = expect_object(await read_json(request), "")
    reject_unknown(body, ("items", "ignoreUnknownIds"), "")
    items = get_items(body, max_items=10000)
    ignore = get_bool(body, "ignoreUnknownIds")
    get_function(store, function_id)
    ids = []
    for i, item in enumerate(items):
        obj = expect_object(item, f"items[{i}]")
        reject_unknown(obj, ("id",), f"items[{i}]")
        ids.append(check_id(obj.get("id"), f"items[{i}].id"))
    found = domain.by_ids(store, function_id, ids, ignore_unknown=ignore)
    return JSONResponse({"items": [call_json(c) for c in found]})


def _path_call(request: Request) -> CallRecord:
    function_id = _function_id(request)
    call_id = path_id(request.path_params["call_id"], "callId")
    store = store_of(request)
    get_function(store, function_id)
    return domain.get_call(store, function_id, call_id)


async def retrieve(request: Request) -> Response:
    return JSONResponse(call_json(_path_call(request)))


async def response(request: Request) -> Response:
    return JSONResponse(response_json(_path_call(request)))


async def logs(request: Request) -> Response:
    return JSONResponse(logs_json(_path_call(request)))


routes = [
    Route("/functions/{function_id:int}/call", call_function, methods=["POST"]),
    Route("/functions/{function_id:int}/calls", list_get, methods=["GET"]),
    Route("/functions/{function_id:int}/calls/list", list_post, methods=["POST"]),
    Route("/functions/{function_id:int}/calls/byids", by_ids, methods=["POST"]),
    Route("/functions/{function_id:int}/calls/{call_id:int}", retrieve, methods=["GET"]),
    Route("/functions/{function_id:int}/calls/{call_id:int}/response", response, methods=["GET"]),
    Route("/functions/{function_id:int}/calls/{call_id:int}/logs", logs, methods=["GET"]),
]
