"""Routes of extraction pipelines, their configs and runs (all 14 operations of the official spec)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from emulator.errors import bad_request
from emulator.resources.common import ids_of, now_of, part_of
from emulator.resources.extpipes.domain import ExtPipes
from emulator.resources.extpipes.rules import (
    UPDATABLE,
    check_pipeline,
    check_updated,
    matches,
    parse_filter,
    parse_run_filter,
    run_matches,
)
from emulator.resources.paging import decode_cursor, encode_cursor
from emulator.resources.table import cursor_page
from emulator.spec import check_request
from emulator.validation import (
    get_bool,
    get_items,
    get_limit,
    path_id,
    query_limit,
    read_json,
    reject_unknown,
)


def _offset_page(items: list[Any], limit: int, cursor: Any) -> dict[str, Any]:
    """Newest-first lists page by position (the cursor encodes the offset of the next item)."""
    start = decode_cursor(cursor) if cursor is not None else 0
    out: dict[str, Any] = {"items": items[start : start + limit]}
    if start + limit < len(items):
        out["nextCursor"] = encode_cursor(start + limit)
    return out


def _query_int(request: Request, name: str, *, maximum: int) -> int | None:
    raw = request.query_params.get(name)
    if raw is None:
        return None
    if not raw.isdigit() or int(raw) > maximum:
        raise bad_request(f"{name} must be an integer from 0 to {maximum}, got {raw[:40]!r}")
    return int(raw)


def _external_id(request: Request) -> str:
    value = request.query_params.get("externalId")
    if not value or len(value) > 255:
        raise bad_request("externalId (1 to 255 characters) is required")
    return value


# --- pipelines ------------------------------------------------------------------------------------
async def create(request: Request) -> Response:
    body = await read_json(request)
    check_request("createExtPipes", body)
    items = get_items(body, max_items=1000)
    for i, item in enumerate(items):
        check_pipeline(request, item, f"items[{i}]")
    made = part_of(request, ExtPipes).create(items, ids_of(request), now_of(request))
    return JSONResponse({"items": made})


async def list_get(request: Request) -> Response:
    limit = query_limit(request, maximum=1000)
    page, cursor = cursor_page(
        part_of(request, ExtPipes).table.records(), limit, request.query_params.get("cursor")
    )
    return JSONResponse({"items": page, **({"nextCursor": cursor} if cursor else {})})


async def list_post(request: Request) -> Response:
    body = await read_json(request)  # the spec requires a body here, unlike the data sets' list
    check_request("filterExtPipes", body)
    reject_unknown(body, ("filter", "limit", "cursor"), "")
    flt = parse_filter(request, body)
    found = [r for r in part_of(request, ExtPipes).table.records() if matches(r, flt)]
    page, cursor = cursor_page(found, get_limit(body, maximum=1000), body.get("cursor"))
    return JSONResponse({"items": page, **({"nextCursor": cursor} if cursor else {})})


async def by_ids(request: Request) -> Response:
    body = await read_json(request)
    check_request("byidsExtPipes", body)
    reject_unknown(body, ("items", "ignoreUnknownIds"), "")
    found = part_of(request, ExtPipes).table.resolve(
        get_items(body, max_items=1000), ignore_unknown=get_bool(body, "ignoreUnknownIds")
    )
    return JSONResponse({"items": found})


async def show(request: Request) -> Response:
    pipeline_id = path_id(str(request.path_params["id"]), "id")
    return JSONResponse(part_of(request, ExtPipes).table.resolve([{"id": pipeline_id}])[0])


async def update(request: Request) -> Response:
    body = await read_json(request)
    reject_unknown(body, ("items",), "")
    items = get_items(body, max_items=1000)
    changed = part_of(request, ExtPipes).table.update(
        items, now_of(request), allowed=UPDATABLE, check=lambda record: check_updated(request, record)
    )
    return JSONResponse({"items": changed})


async def delete(request: Request) -> Response:
    body = await read_json(request)
    check_request("deleteExtPipes", body)
    reject_unknown(body, ("items", "ignoreUnknownIds"), "")
    part_of(request, ExtPipes).delete(get_items(body, max_items=1000), get_bool(body, "ignoreUnknownIds"))
    return JSONResponse({})


# --- config revisions -------------------------------------------------------------------------------
async def create_config(request: Request) -> Response:
    body = await read_json(request)
    check_request("createExtPipeConfig", body)
    reject_unknown(body, ("externalId", "config", "description"), "")
    made = part_of(request, ExtPipes).add_config(
        body["externalId"], body.get("config"), body.get("description"), now_of(request)
    )
    return JSONResponse(made)


async def get_config(request: Request) -> Response:
    revision = _query_int(request, "revision", maximum=2**31 - 1)
    active_at = _query_int(request, "activeAtTime", maximum=2**63 - 1)
    return JSONResponse(part_of(request, ExtPipes).config(_external_id(request), revision, active_at))


async def list_revisions(request: Request) -> Response:
    revisions = part_of(request, ExtPipes).revisions(_external_id(request))
    return JSONResponse(
        _offset_page(revisions, query_limit(request, maximum=1000), request.query_params.get("cursor"))
    )


async def revert_config(request: Request) -> Response:
    body = await read_json(request)
    check_request("revertExtPipeConfigRevision", body)
    reject_unknown(body, ("externalId", "revision"), "")
    if "revision" not in body:
        raise bad_request("revision is required")
    return JSONResponse(
        part_of(request, ExtPipes).revert(body["externalId"], body["revision"], now_of(request))
    )


# --- runs -----------------------------------------------------------------------------------------
async def create_runs(request: Request) -> Response:
    body = await read_json(request)
    check_request("createRuns", body)
    reject_unknown(body, ("items",), "")
    items = get_items(body, max_items=1000)
    for i, item in enumerate(items):
        reject_unknown(item, ("externalId", "status", "message", "createdTime"), f"items[{i}]")
    made = part_of(request, ExtPipes).report(items, ids_of(request), now_of(request))
    return JSONResponse({"items": made})


async def list_runs(request: Request) -> Response:
    runs = part_of(request, ExtPipes).runs(_external_id(request))
    return JSONResponse(
        _offset_page(runs, query_limit(request, maximum=1000), request.query_params.get("cursor"))
    )


async def filter_runs(request: Request) -> Response:
    body = await read_json(request)
    check_request("filterRuns", body)
    reject_unknown(body, ("filter", "limit", "cursor"), "")
    flt = parse_run_filter(body)
    runs = [r for r in part_of(request, ExtPipes).runs(flt["externalId"]) if run_matches(r, flt)]
    return JSONResponse(_offset_page(runs, get_limit(body, maximum=1000), body.get("cursor")))


routes = [
    Route("/extpipes", list_get, methods=["GET"]),
    Route("/extpipes", create, methods=["POST"]),
    Route("/extpipes/list", list_post, methods=["POST"]),
    Route("/extpipes/byids", by_ids, methods=["POST"]),
    Route("/extpipes/update", update, methods=["POST"]),
    Route("/extpipes/delete", delete, methods=["POST"]),
    Route("/extpipes/config", get_config, methods=["GET"]),
    Route("/extpipes/config", create_config, methods=["POST"]),
    Route("/extpipes/config/revisions", list_revisions, methods=["GET"]),
    Route("/extpipes/config/revert", revert_config, methods=["POST"]),
    Route("/extpipes/runs", list_runs, methods=["GET"]),
    Route("/extpipes/runs", create_runs, methods=["POST"]),
    Route("/extpipes/runs/list", filter_runs, methods=["POST"]),
    Route("/extpipes/{id:int}", show, methods=["GET"]),
]
