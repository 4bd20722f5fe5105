"""Routes of spaces, containers, views and data models: parse -> ModelsPart -> wire."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from emulator.errors import CogniteAPIError, bad_request
from emulator.resources.common import now_of, part_of
from emulator.resources.instances.domain import InstancesPart
from emulator.resources.models import parse
from emulator.resources.models.domain import ModelsPart, Record, view_key
from emulator.resources.paging import decode_cursor, encode_cursor
from emulator.validation import expect_object, get_items, query_limit, read_json, reject_unknown

MAX_ITEMS = 100
Endpoint = Callable[[Request], Awaitable[Response]]


def _flag(request: Request, name: str, default: bool = False) -> bool:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    if raw.lower() not in ("true", "false"):
        raise bad_request(f"{name} must be true or false, got {raw[:20]!r}")
    return raw.lower() == "true"


def offset_page(records: list[Any], limit: int, cursor: str | None) -> tuple[list[Any], str | None]:
    """A page of an ordered list; the cursor is the offset of the next record."""
    start = decode_cursor(cursor) if cursor is not None else 0
    chunk = records[start : start + limit]
    more = start + limit < len(records)
    return chunk, (encode_cursor(start + limit) if more else None)


def _list(request: Request, records: list[Any]) -> tuple[list[Any], str | None]:
    space = request.query_params.get("space")
    if space is not None:
        parse.check_space(space, "space")
        records = [r for r in records if r["space"] == space]
    limit = query_limit(request, default=10, maximum=1000)
    return offset_page(records, limit, request.query_params.get("cursor"))


def _answer(items: list[Any], cursor: str | None = None) -> JSONResponse:
    body: dict[str, Any] = {"items": items}
    if cursor is not None:
        body["nextCursor"] = cursor
    return JSONResponse(body)


def _latest(records: list[Record]) -> list[Record]:
    """Only the newest version of each (space, externalId), as ``allVersions=false`` lists."""
    newest: dict[tuple[str, str], Record] = {}
    for record in records:
        key = (record["space"], record["externalId"])
        if key not in newest or record["createdTime"] >= newest[key]["createdTime"]:
            newest[key] = record
    return [r for r in records if newest[(r["space"], r["externalId"])] is r]


async def _items(request: Request, check: Callable[[Any, str], Any]) -> list[Any]:
    body = await read_json(request)
    reject_unknown(expect_object(body, ""), ("items",), "")
    items = get_items(body, max_items=MAX_ITEMS)
    return [check(item, f"items[{i}]") for i, item in enumerate(items)]


# --- spaces ---------------------------------------------------------------------------------------


async def apply_spaces(request: Request) -> Response:
    items = await _items(request, parse.space_item)
    return _answer(part_of(request, ModelsPart).apply_spaces(items, now_of(request)))


async def list_spaces(request: Request) -> Response:
    part = part_of(request, ModelsPart)
    records = part.all_spaces(_flag(request, "includeGlobal"))
    limit = query_limit(request, default=10, maximum=1000)
    page, cursor = offset_page(records, limit, request.query_params.get("cursor"))
    return _answer(page, cursor)


async def spaces_by_ids(request: Request) -> Response:
    part = part_of(request, ModelsPart)
    wanted = await _items(request, parse.space_id)
    return _answer([s for s in (part.space(x) for x in dict.fromkeys(wanted)) if s is not None])


async def delete_spaces(request: Request) -> Response:
    wanted = await _items(request, parse.space_id)
    instances = part_of(request, InstancesPart)
    held = [s for s in wanted if instances.in_space(s)]
    if held:
        raise CogniteAPIError(409, f"Cannot delete space {held[0]!r}: it still holds instances")
    gone = part_of(request, ModelsPart).delete_spaces(wanted)
    return _answer([{"space": s} for s in gone])


# --- containers -----------------------------------------------------------------------------------


def _container_id(item: Any, where: str) -> tuple[str, str]:
    return parse.container_ref(item, where)


async def apply_containers(request: Request) -> Response:
    items = await _items(request, parse.container_item)
    return _answer(part_of(request, ModelsPart).apply_containers(items, now_of(request)))


async def list_containers(request: Request) -> Response:
    part = part_of(request, ModelsPart)
    page, cursor = _list(request, part.all_containers(_flag(request, "includeGlobal")))
    return _answer(page, cursor)


async def containers_by_ids(request: Request) -> Response:
    part = part_of(request, ModelsPart)
    wanted = await _items(request, _container_id)
    return _answer([c for c in (part.container(k) for k in dict.fromkeys(wanted)) if c is not None])


async def delete_containers(request: Request) -> Response:
    wanted = await _items(request, _container_id)
    gone = part_of(request, ModelsPart).delete_containers(wanted)
    instances = part_of(request, InstancesPart)
    for key in gone:
        instances.drop_container(key, now_of(request))  # a container's data goes with it
    return _answer([{"space": s, "externalId": x} for s, x in gone])


# --- views ----------------------------------------------------------------------------------------


async def apply_views(request: Request) -> Response:
    items = await _items(request, parse.view_item)
    return _answer(part_of(request, ModelsPart).apply_views(items, now_of(request)))


async def list_views(request: Request) -> Response:
    part = part_of(request, ModelsPart)
    records = part.all_views(_flag(request, "includeGlobal"))
    if not _flag(request, "allVersions"):
        records = _latest(records)
    inherited = _flag(request, "includeInheritedProperties", True)
    page, cursor = _list(request, records)
    return _answer([part.view_wire(view_key(v), inherited=inherited) for v in page], cursor)


def _resolve_versioned(part_records: list[Record], wanted: list[tuple[str, str, str | None]]) -> list[Record]:
    found: dict[tuple[str, str, str], Record] = {}
    for space, xid, version in wanted:
        matches = [r for r in part_records if r["space"] == space and r["externalId"] == xid]
        if version is not None:
            matches = [r for r in matches if r["version"] == version]
        elif matches:
            matches = _latest(matches)
        for record in matches:
            found.setdefault(view_key(record), record)
    return list(found.values())


async def views_by_ids(request: Request) -> Response:
    part = part_of(request, ModelsPart)
    wanted = await _items(request, parse.versioned_id)
    inherited = _flag(request, "includeInheritedProperties", True)
    records = _resolve_versioned(part.all_views(True), wanted)
    return _answer([part.view_wire(view_key(v), inherited=inherited) for v in records])


async def delete_views(request: Request) -> Response:
    part = part_of(request, ModelsPart)
    wanted = await _items(request, parse.versioned_id)
    keys = [view_key(v) for v in _resolve_versioned(list(part.views.values()), wanted)]
    gone = part.delete_views(keys)
    return _answer([{"space": s, "externalId": x, "version": v} for s, x, v in gone])


# --- data models ----------------------------------------------------------------------------------


async def apply_datamodels(request: Request) -> Response:
    items = await _items(request, parse.data_model_item)
    part = part_of(request, ModelsPart)
    made = part.apply_datamodels(items, now_of(request))
    return _answer([part.datamodel_wire(view_key(m), inline=False) for m in made])


async def list_datamodels(request: Request) -> Response:
    part = part_of(request, ModelsPart)
    records = part.all_datamodels(_flag(request, "includeGlobal"))
    if not _flag(request, "allVersions"):
        records = _latest(records)
    inline = _flag(request, "inlineViews")
    page, cursor = _list(request, records)
    return _answer([part.datamodel_wire(view_key(m), inline=inline) for m in page], cursor)


async def datamodels_by_ids(request: Request) -> Response:
    part = part_of(request, ModelsPart)
    wanted = await _items(request, parse.versioned_id)
    inline = _flag(request, "inlineViews")
    records = _resolve_versioned(part.all_datamodels(True), wanted)
    return _answer([part.datamodel_wire(view_key(m), inline=inline) for m in records])


async def delete_datamodels(request: Request) -> Response:
    part = part_of(request, ModelsPart)
    wanted = await _items(request, parse.versioned_id)
    keys = [view_key(m) for m in _resolve_versioned(list(part.datamodels.values()), wanted)]
    gone = part.delete_datamodels(keys)
    return _answer([{"space": s, "externalId": x, "version": v} for s, x, v in gone])


routes = [
    Route("/models/spaces", apply_spaces, methods=["POST"]),
    Route("/models/spaces", list_spaces, methods=["GET"]),
    Route("/models/spaces/byids", spaces_by_ids, methods=["POST"]),
    Route("/models/spaces/delete", delete_spaces, methods=["POST"]),
    Route("/models/containers", apply_containers, methods=["POST"]),
    Route("/models/containers", list_containers, methods=["GET"]),
    Route("/models/containers/byids", containers_by_ids, methods=["POST"]),
    Route("/models/containers/delete", delete_containers, methods=["POST"]),
    Route("/models/views", apply_views, methods=["POST"]),
    Route("/models/views", list_views, methods=["GET"]),
    Route("/models/views/byids", views_by_ids, methods=["POST"]),
    Route("/models/views/delete", delete_views, methods=["POST"]),
    Route("/models/datamodels", apply_datamodels, methods=["POST"]),
    Route("/models/datamodels", list_datamodels, methods=["GET"]),
    Route("/models/datamodels/byids", datamodels_by_ids, methods=["POST"]),
    Route("/models/datamodels/delete", delete_datamodels, methods=["POST"]),
]
