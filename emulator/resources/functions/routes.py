"""Functions routes: create (with a real deployment of the zip), list, byids, retrieve, delete,
limits, status."""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from emulator.errors import bad_request
from emulator.resources.common import context_of, now_of, project_of, store_of
from emulator.resources.functions import domain
from emulator.resources.functions.wire import function_json
from emulator.state import Store
from emulator.validation import (
    expect_object,
    get_bool,
    get_id,
    get_items,
    get_limit,
    get_str,
    get_str_dict,
    get_time_range,
    path_id,
    query_limit,
    read_json,
    reject_unknown,
)

_FILTER_FIELDS = ("name", "owner", "fileId", "status", "externalIdPrefix", "createdTime", "metadata")


def _parse_filter(raw: Any) -> dict[str, Any]:
    flt = expect_object(raw, "filter")
    reject_unknown(flt, _FILTER_FIELDS, "filter")
    out: dict[str, Any] = {}
    for key, (low, high) in (("name", (1, 140)), ("owner", (0, 128)), ("externalIdPrefix", (0, 255))):
        value = get_str(flt, key, "filter", min_len=low, max_len=high)
        if value is not None:
            out[key] = value
    if (file_id := get_id(flt, "fileId", "filter")) is not None:
        out["fileId"] = file_id
    if (status := get_str(flt, "status", "filter")) is not None:
        if status not in domain.STATUSES:
            raise bad_request(f"filter.status must be one of {', '.join(domain.STATUSES)}")
        out["status"] = status
    if (created := get_time_range(flt, "createdTime", "filter")) is not None:
        out["createdTime"] = created
    if (metadata := get_str_dict(flt, "metadata", "filter")) is not None:
        out["metadata"] = metadata
    return out


async def create(request: Request) -> Response:
    ctx, project = context_of(request), project_of(request)
    body = expect_object(await read_json(request), "")
    reject_unknown(body, ("items",), "")
    items = get_items(body, max_items=1)
    fn = await run_in_threadpool(domain.create_function, ctx, project, items[0])
    return JSONResponse({"items": [function_json(fn)]}, status_code=201)


def _settled(request: Request) -> Store:
    """The project's store with staged deployments moved to where the clock has them."""
    store = store_of(request)
    domain.settle(store, now_of(request))
    return store


def _listed(request: Request, flt: dict[str, Any], limit: int) -> Response:
    return JSONResponse({"items": [function_json(f) for f in domain.listed(_settled(request), flt, limit)]})


async def list_get(request: Request) -> Response:
    return _listed(request, {}, query_limit(request))


async def list_post(request: Request) -> Response:
    body = expect_object(await read_json(request, allow_empty=True), "")
    reject_unknown(body, ("filter", "limit"), "")
    return _listed(request, _parse_filter(body.get("filter", {})), get_limit(body))


async def by_ids(request: Request) -> Response:
    body = expect_object(await read_json(request), "")
    reject_unknown(body, ("items", "ignoreUnknownIds"), "")
    items = get_items(body, max_items=10)
    found = domain.resolve(_settled(request), items, ignore_unknown=get_bool(body, "ignoreUnknownIds"))
    return JSONResponse({"items": [function_json(f) for f in found]})


async def retrieve(request: Request) -> Response:
    fn = domain.get_function(_settled(request), path_id(request.path_params["function_id"], "functionId"))
    return JSONResponse(function_json(fn))


async def delete(request: Request) -> Response:
    ctx, store = context_of(request), store_of(request)
    body = expect_object(await read_json(request), "")
    reject_unknown(body, ("items", "ignoreUnknownIds"), "")
    items = get_items(body, max_items=10)
    with ctx.backend.lock:
        found = domain.resolve(store, items, ignore_unknown=get_bool(body, "ignoreUnknownIds"))
        domain.delete_functions(ctx, store, found)
    return JSONResponse({})


async def limits(request: Request) -> Response:
    return JSONResponse(context_of(request).limits.as_json())


async def get_status(request: Request) -> Response:
    return JSONResponse({"status": store_of(request).functions_status})


async def activate(request: Request) -> Response:
    return JSONResponse({"status": domain.activate(store_of(request))}, status_code=202)


routes = [
    Route("/functions", list_get, methods=["GET"]),
    Route("/functions", create, methods=["POST"]),
    Route("/functions/list", list_post, methods=["POST"]),
    Route("/functions/byids", by_ids, methods=["POST"]),
    Route("/functions/delete", delete, methods=["POST"]),
    Route("/functions/limits", limits, methods=["GET"]),
    Route("/functions/status", get_status, methods=["GET"]),
    Route("/functions/status", activate, methods=["POST"]),
]

# Registered after every other /functions/... route (schedules included) so fixed paths win.
routes_by_id = [Route("/functions/{function_id:int}", retrieve, methods=["GET"])]
