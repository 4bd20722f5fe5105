"""Routes of nodes and edges: apply, list, byids, delete, search, aggregate, query, sync."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from emulator.errors import bad_request
from emulator.resources.common import ids_of, now_of, part_of, store_of
from emulator.resources.instances import hooks, query
from emulator.resources.instances.apply import MAX_APPLY, apply, parse_flags
from emulator.resources.instances.domain import InstancesPart
from emulator.resources.instances.filters import Context
from emulator.resources.instances.read import (
    aggregate,
    instance_type,
    matching,
    offset_page,
    search,
    view_source,
)
from emulator.resources.instances.sources import instance_ref
from emulator.resources.instances.wire import Selection, instance_wire, parse_sources, typing_of
from emulator.resources.models.domain import ModelsPart
from emulator.validation import expect_object, get_bool, get_items, get_limit, read_json, reject_unknown

LIST_MAX = 1000
SEARCH_MAX = 1000
AGGREGATE_MAX = 1000


def _context(request: Request, parameters: dict[str, Any] | None = None) -> tuple[InstancesPart, Context]:
    part = part_of(request, InstancesPart)
    return part, Context(part_of(request, ModelsPart), part, parameters)


async def _body(request: Request, allowed: tuple[str, ...]) -> dict[str, Any]:
    body = expect_object(await read_json(request), "")
    reject_unknown(body, allowed, "")
    for key, value in body.items():
        if value is None:
            raise bad_request(f"{key} must not be null")
    for flag in BODY_FLAGS:
        get_bool(body, flag, "")
    if "debug" in body:
        _check_debug(body["debug"])
    return body


BODY_FLAGS = (
    "includeTyping",
    "allowExpiredCursorsAndAcceptMissedDeletes",
    "autoCreateStartNodes",
    "autoCreateEndNodes",
    "autoCreateDirectRelations",
    "skipOnVersionConflict",
    "replace",
)
DEBUG_FLAGS = ("emitResults", "includeTranslatedQuery", "includePlan", "profile")


def _check_debug(value: Any) -> None:
    """``debug`` is accepted and ignored (the emulator has no query planner), but checked."""
    debug = expect_object(value, "debug")
    reject_unknown(debug, (*DEBUG_FLAGS, "timeout"), "debug")
    for flag in DEBUG_FLAGS:
        get_bool(debug, flag, "debug")
    timeout = debug.get("timeout")
    if "timeout" in debug and (isinstance(timeout, bool) or not isinstance(timeout, int) or timeout < 0):
        raise bad_request("debug.timeout must be a non-negative integer")


async def apply_instances(request: Request) -> Response:
    body = await _body(
        request,
        (
            "items",
            "autoCreateStartNodes",
            "autoCreateEndNodes",
            "autoCreateDirectRelations",
            "skipOnVersionConflict",
            "replace",
        ),
    )
    items = get_items(body, max_items=MAX_APPLY)
    flags = parse_flags(body)
    part, ctx = _context(request)
    answer, written = apply(part, ctx.models, items, flags, now_of(request))
    hooks.after_apply(store_of(request), written, now_of(request), ids_of(request))
    return JSONResponse({"items": answer})


async def list_instances(request: Request) -> Response:
    body = await _body(
        request, ("instanceType", "sources", "filter", "sort", "limit", "cursor", "includeTyping", "debug")
    )
    part, ctx = _context(request)
    kind = instance_type(body)
    selection = parse_sources(ctx, body.get("sources"))
    limit = get_limit(body, default=1000, maximum=LIST_MAX)
    found = matching(part, ctx, kind, selection, body)
    page, cursor = offset_page(found, limit, body.get("cursor"))
    out: dict[str, Any] = {"items": [instance_wire(i, selection, ctx) for i in page]}
    if cursor is not None:
        out["nextCursor"] = cursor
    if get_bool(body, "includeTyping", ""):
        out["typing"] = typing_of(selection, ctx)
    return JSONResponse(out)


def _refs(items: list[Any]) -> list[tuple[str, str, str]]:
    keys = []
    for i, item in enumerate(items):
        where = f"items[{i}]"
        obj = expect_object(item, where)
        reject_unknown(obj, ("instanceType", "space", "externalId", "existingVersion"), where)
        kind = obj.get("instanceType")
        if kind not in ("node", "edge"):
            raise bad_request(f"{where}.instanceType must be 'node' or 'edge'")
        ref = instance_ref({"space": obj.get("space"), "externalId": obj.get("externalId")}, where)
        version = obj.get("existingVersion")
        if "existingVersion" in obj and (
            isinstance(version, bool) or not isinstance(version, int) or version < 0
        ):
            raise bad_request(f"{where}.existingVersion must be a non-negative integer")
        keys.append((str(kind), ref["space"], ref["externalId"]))
    return keys


async def instances_by_ids(request: Request) -> Response:
    body = await _body(request, ("items", "sources", "includeTyping"))
    part, ctx = _context(request)
    keys = _refs(get_items(body, max_items=1000))
    selection = parse_sources(ctx, body.get("sources"))
    found = [i for i in (part.items.get(k) for k in dict.fromkeys(keys)) if i is not None]
    out: dict[str, Any] = {"items": [instance_wire(i, selection, ctx) for i in found]}
    if get_bool(body, "includeTyping", ""):
        out["typing"] = typing_of(selection, ctx)
    return JSONResponse(out)


async def delete_instances(request: Request) -> Response:
    body = await _body(request, ("items",))
    part = part_of(request, InstancesPart)
    keys = _refs(get_items(body, max_items=1000))
    now = now_of(request)
    gone = []
    with part.lock:
        for key in dict.fromkeys(keys):
            if part.remove(key, now) is None:
                continue
            gone.append(key)
            if key[0] == "node":
                # Deleting a node deletes the edges that start or end at it.
                ref = {"space": key[1], "externalId": key[2]}
                for edge in [e for e in part.items.values() if e.kind == "edge" and ref in (e.start, e.end)]:
                    part.remove(edge.key, now)
    return JSONResponse({"items": [{"instanceType": k, "space": s, "externalId": x} for k, s, x in gone]})


async def search_instances(request: Request) -> Response:
    body = await _body(
        request,
        (
            "view",
            "query",
            "instanceType",
            "properties",
            "targetUnits",
            "filter",
            "sort",
            "limit",
            "operator",
            "includeTyping",
        ),
    )
    part, ctx = _context(request)
    source = view_source(ctx, body)
    limit = get_limit(body, default=1000, maximum=SEARCH_MAX)
    found = search(part, ctx, source, instance_type(body), body, limit)
    selection: Selection = [(source, None)]
    return JSONResponse({"items": [instance_wire(i, selection, ctx) for i in found]})


async def aggregate_instances(request: Request) -> Response:
    body = await _body(
        request,
        (
            "view",
            "query",
            "properties",
            "targetUnits",
            "filter",
            "aggregates",
            "groupBy",
            "instanceType",
            "limit",
        ),
    )
    part, ctx = _context(request)
    source = view_source(ctx, body)
    limit = get_limit(body, default=100, maximum=AGGREGATE_MAX)
    items = aggregate(part, ctx, source, instance_type(body), body)
    return JSONResponse({"items": items[:limit]})


async def query_instances(request: Request) -> Response:
    body = await _body(request, ("with", "select", "cursors", "parameters", "includeTyping", "debug"))
    part, ctx = _context(request, query.parameters(body))
    return JSONResponse(query.run(part, ctx, body, sync=False))


async def sync_instances(request: Request) -> Response:
    body = await _body(
        request,
        (
            "with",
            "select",
            "cursors",
            "parameters",
            "includeTyping",
            "debug",
            "mode",
            "allowExpiredCursorsAndAcceptMissedDeletes",
        ),
    )
    part, ctx = _context(request, query.parameters(body))
    return JSONResponse(query.run(part, ctx, body, sync=True))


routes = [
    Route("/models/instances", apply_instances, methods=["POST"]),
    Route("/models/instances/list", list_instances, methods=["POST"]),
    Route("/models/instances/byids", instances_by_ids, methods=["POST"]),
    Route("/models/instances/delete", delete_instances, methods=["POST"]),
    Route("/models/instances/search", search_instances, methods=["POST"]),
    Route("/models/instances/aggregate", aggregate_instances, methods=["POST"]),
    Route("/models/instances/query", query_instances, methods=["POST"]),
    Route("/models/instances/sync", sync_instances, methods=["POST"]),
]
