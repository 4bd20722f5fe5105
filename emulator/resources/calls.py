"""Function calls: call, list (GET and POST with filters), byids, retrieve, response, logs."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from emulator.errors import CogniteAPIError, bad_request, not_found
from emulator.resources.common import emulator_of, project_of, store_of
from emulator.resources.functions import get_function
from emulator.resources.paging import page, page_body
from emulator.resources.sessions import bind_nonce, release_nonce
from emulator.state import CallRecord, Store
from emulator.validation import (
    check_id,
    expect_object,
    get_bool,
    get_id,
    get_items,
    get_str,
    get_time_range,
    in_range,
    path_id,
    read_json,
    reject_unknown,
)

CALL_STATUSES = ("Running", "Completed", "Failed", "Timeout")


def call_json(call: CallRecord) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": call.id,
        "functionId": call.function_id,
        "status": call.status,
        "startTime": call.start_time,
    }
    if call.end_time is not None:
        out["endTime"] = call.end_time
    if call.error is not None:
        out["error"] = call.error
    if call.schedule_id is not None:
        out["scheduleId"] = call.schedule_id
    if call.scheduled_time is not None:
        out["scheduledTime"] = call.scheduled_time
    return out


def _function_id(request: Request) -> int:
    return path_id(request.path_params["function_id"], "functionId")


def get_call(store: Store, function_id: int, call_id: int) -> CallRecord:
    call = store.calls.get(call_id)
    if call is None or call.function_id != function_id:
        raise not_found([{"id": call_id}], f"Call {call_id} of function {function_id} not found")
    return call


async def call_function(request: Request) -> Response:
    emu, project, store = emulator_of(request), project_of(request), store_of(request)
    function_id = _function_id(request)
    body = expect_object(await read_json(request), "")
    reject_unknown(body, ("data", "nonce"), "")
    data = body.get("data")
    if data is not None and not isinstance(data, dict):
        raise bad_request("data must be a JSON object")
    if "nonce" not in body:
        raise bad_request("Missing required field: nonce")
    fn = get_function(store, function_id)
    if fn.status != "Ready":
        raise bad_request(f"Function {fn.id} is not ready to be called (status: {fn.status})")
    emu.invoker.check_capacity(project, fn)  # a 429 must not spend the nonce: the SDK retries with it
    session = bind_nonce(emu, store, body["nonce"])
    try:
        record = await emu.invoker.run(project, fn, data, session_id=session.id)
    except CogniteAPIError:
        release_nonce(emu, session)
        raise
    return JSONResponse(call_json(record), status_code=201)


def _calls_of(store: Store, function_id: int) -> list[CallRecord]:
    get_function(store, function_id)
    return [c for c in list(store.calls.values()) if c.function_id == function_id]


def _parse_filter(raw: Any) -> dict[str, Any]:
    flt = expect_object(raw, "filter")
    reject_unknown(flt, ("status", "scheduleId", "startTime", "endTime"), "filter")
    out: dict[str, Any] = {}
    if (status := get_str(flt, "status", "filter")) is not None:
        if status not in CALL_STATUSES:
            raise bad_request(f"filter.status must be one of {', '.join(CALL_STATUSES)}")
        out["status"] = status
    if (schedule_id := get_id(flt, "scheduleId", "filter")) is not None:
        out["scheduleId"] = schedule_id
    for key in ("startTime", "endTime"):
        if (rng := get_time_range(flt, key, "filter")) is not None:
            out[key] = rng
    return out


def _matches(call: CallRecord, flt: dict[str, Any]) -> bool:
    return (
        ("status" not in flt or call.status == flt["status"])
        and ("scheduleId" not in flt or call.schedule_id == flt["scheduleId"])
        and in_range(call.start_time, flt.get("startTime"))
        and in_range(call.end_time, flt.get("endTime"))
    )


def _page_json(items: list[CallRecord], cursor: str | None) -> dict[str, Any]:
    out: dict[str, Any] = {"items": [call_json(c) for c in items]}
    if cursor:
        out["nextCursor"] = cursor
    return out


async def list_get(request: Request) -> Response:
    calls = _calls_of(store_of(request), _function_id(request))
    return JSONResponse(_page_json(*page(request, calls, max_limit=10000)))


async def list_post(request: Request) -> Response:
    function_id = _function_id(request)
    body = expect_object(await read_json(request, allow_empty=True), "")
    reject_unknown(body, ("filter", "limit", "cursor"), "")
    flt = _parse_filter(body.get("filter", {}))
    calls = [c for c in _calls_of(store_of(request), function_id) if _matches(c, flt)]
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
    found, missing = [], []
    for call_id in dict.fromkeys(ids):
        call = store.calls.get(call_id)
        if call is None or call.function_id != function_id:
            missing.append({"id": call_id})
        else:
            found.append(call)
    if missing and not ignore:
        raise not_found(missing, "Function calls not found")
    return JSONResponse({"items": [call_json(c) for c in found]})


def _path_call(request: Request) -> CallRecord:
    function_id = _function_id(request)
    call_id = path_id(request.path_params["call_id"], "callId")
    store = store_of(request)
    get_function(store, function_id)
    return get_call(store, function_id, call_id)


async def retrieve(request: Request) -> Response:
    return JSONResponse(call_json(_path_call(request)))


async def response(request: Request) -> Response:
    call = _path_call(request)
    return JSONResponse({"response": call.response, "functionId": call.function_id, "callId": call.id})


async def logs(request: Request) -> Response:
    call = _path_call(request)
    return JSONResponse({"items": [{"timestamp": ts, "message": msg} for ts, msg in call.logs]})


routes = [
    Route("/functions/{function_id:int}/call", call_function, methods=["POST"]),
    Route("/functions/{function_id:int}/calls", list_get, methods=["GET"]),
    Route("/functions/{function_id:int}/calls/list", list_post, methods=["POST"]),
    Route("/functions/{function_id:int}/calls/byids", by_ids, methods=["POST"]),
    Route("/functions/{function_id:int}/calls/{call_id:int}", retrieve, methods=["GET"]),
    Route("/functions/{function_id:int}/calls/{call_id:int}/response", response, methods=["GET"]),
    Route("/functions/{function_id:int}/calls/{call_id:int}/logs", logs, methods=["GET"]),
]
