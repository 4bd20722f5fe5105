"""Routes of the data sets API (all 5 operations of the official spec)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from emulator.resources.common import ids_of, now_of, part_of
from emulator.resources.datasets.domain import (
    UPDATABLE,
    DataSets,
    check_updated,
    matches,
    parse_create,
    parse_filter,
    wire,
)
from emulator.resources.table import cursor_page
from emulator.spec import check_request
from emulator.validation import get_bool, get_items, get_limit, read_json, reject_unknown


async def create(request: Request) -> Response:
    body = await read_json(request)
    check_request("createDataSets", body)
    items = [parse_create(item, f"items[{i}]") for i, item in enumerate(get_items(body, max_items=10))]
    made = part_of(request, DataSets).create(items, ids_of(request), now_of(request))
    return JSONResponse({"items": made})  # the spec documents 200, not 201


async def list_(request: Request) -> Response:
    body = await read_json(request, allow_empty=True)
    check_request("listDataSets", body)
    reject_unknown(body, ("filter", "limit", "cursor"), "")
    flt = parse_filter(body)
    limit = get_limit(body, maximum=1000)
    found = [r for r in part_of(request, DataSets).table.records() if matches(r, flt)]
    page, cursor = cursor_page(found, limit, body.get("cursor"))
    out: dict[str, object] = {"items": [wire(r) for r in page]}
    if cursor is not None:
        out["nextCursor"] = cursor
    return JSONResponse(out)


async def aggregate(request: Request) -> Response:
    body = await read_json(request, allow_empty=True)
    check_request("aggregateDataSets", body)
    reject_unknown(body, ("filter",), "")
    flt = parse_filter(body)
    count = sum(1 for r in part_of(request, DataSets).table.records() if matches(r, flt))
    return JSONResponse({"items": [{"count": count}]})


async def by_ids(request: Request) -> Response:
    body = await read_json(request)
    check_request("getDataSets", body)
    reject_unknown(body, ("items", "ignoreUnknownIds"), "")
    items = get_items(body, max_items=1000)
    ignore = get_bool(body, "ignoreUnknownIds")
    found = part_of(request, DataSets).table.resolve(items, ignore_unknown=ignore)
    return JSONResponse({"items": [wire(r) for r in found]})


async def update(request: Request) -> Response:
    # Not checked against the spec's schema: its metadata update is a oneOf whose branches overlap
    # ({"set": {}} matches both), so the SDK's own replace-mode updates would be refused.
    body = await read_json(request)
    items = get_items(body, max_items=10)
    table = part_of(request, DataSets).table
    changed = table.update(items, now_of(request), allowed=UPDATABLE, check=check_updated)
    return JSONResponse({"items": [wire(r) for r in changed]})


routes = [
    Route("/datasets", create, methods=["POST"]),
    Route("/datasets/list", list_, methods=["POST"]),
    Route("/datasets/aggregate", aggregate, methods=["POST"]),
    Route("/datasets/byids", by_ids, methods=["POST"]),
    Route("/datasets/update", update, methods=["POST"]),
]
