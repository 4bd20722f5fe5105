"""Events routes: parse -> domain -> wire (records are wire-shaped)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from emulator.resources.advanced import aggregate, compile_filter
from emulator.resources.assets.domain import Assets
from emulator.resources.classic import list_page, query_of, ranges_from_query, read_request, search
from emulator.resources.common import ids_of, now_of, part_of
from emulator.resources.events.domain import CREATE_FIELDS, UPDATABLE, Events, check_times, predicate
from emulator.resources.table import Record
from emulator.validation import get_limit, path_id, reject_unknown


def _events(request: Request) -> Events:
    return part_of(request, Events)


async def create(request: Request) -> Response:
    body = await read_request(request, "createEvents")
    for i, item in enumerate(body["items"]):
        reject_unknown(item, CREATE_FIELDS, f"items[{i}]")
        check_times(item)
    made = _events(request).table.create(body["items"], ids_of(request), now_of(request))
    return JSONResponse({"items": made}, status_code=201)


def _matching(request: Request, body: dict[str, Any]) -> list[Record]:
    test = predicate(body.get("filter") or {}, part_of(request, Assets))
    found = [r for r in _events(request).table.records() if test(r)]
    if body.get("advancedFilter") is not None:
        advanced = compile_filter(body["advancedFilter"])
        found = [r for r in found if advanced(r)]
    return found


async def list_events(request: Request) -> Response:
    body = await read_request(request, "advancedListEvents")
    return JSONResponse(list_page(_matching(request, body), body))


_QUERY_FILTERS = ("source", "type", "subtype", "externalIdPrefix")
_QUERY_RANGES = ("startTime", "endTime", "activeAtTime", "createdTime", "lastUpdatedTime")


async def list_events_get(request: Request) -> Response:
    query = query_of(request, "listEvents")
    flt: dict[str, Any] = {k: query[k] for k in _QUERY_FILTERS if k in query}
    for name in ("assetIds", "assetExternalIds"):
        if name in query:
            flt[name] = query[name]
    subtree = [{"id": v} for v in query.get("assetSubtreeIds", [])]
    subtree += [{"externalId": v} for v in query.get("assetSubtreeExternalIds", [])]
    if subtree:
        flt["assetSubtreeIds"] = subtree
    flt.update(ranges_from_query(query, _QUERY_RANGES))
    page = list_page(_matching(request, {"filter": flt}), query)
    if query.get("includeMetadata") is False:
        page["items"] = [{k: v for k, v in r.items() if k != "metadata"} for r in page["items"]]
    return JSONResponse(page)


async def retrieve(request: Request) -> Response:
    event_id = path_id(request.path_params["event_id"], "event id")
    (record,) = _events(request).table.resolve([{"id": event_id}])
    return JSONResponse(record)


async def by_ids(request: Request) -> Response:
    body = await read_request(request, "byIdsEvents")
    ignore = bool(body.get("ignoreUnknownIds", False))
    return JSONResponse({"items": _events(request).table.resolve(body["items"], ignore_unknown=ignore)})


async def update(request: Request) -> Response:
    body = await read_request(request, "updateEvents")
    changed = _events(request).table.update(
        body["items"], now_of(request), allowed=UPDATABLE, check=check_times
    )
    return JSONResponse({"items": changed})


async def delete(request: Request) -> Response:
    body = await read_request(request, "deleteEvents")
    _events(request).table.delete(body["items"], ignore_unknown=bool(body.get("ignoreUnknownIds", False)))
    return JSONResponse({})


async def search_events(request: Request) -> Response:
    body = await read_request(request, "searchEvents", loose=("search",))
    limit = get_limit(body, maximum=1000)
    return JSONResponse({"items": search(_matching(request, body), dict(body.get("search") or {}), limit)})


async def aggregate_events(request: Request) -> Response:
    body = await read_request(request, "aggregateEvents")
    return JSONResponse({"items": aggregate(_matching(request, body), body)})


routes = [
    Route("/events", create, methods=["POST"]),
    Route("/events", list_events_get, methods=["GET"]),
    Route("/events/list", list_events, methods=["POST"]),
    Route("/events/byids", by_ids, methods=["POST"]),
    Route("/events/update", update, methods=["POST"]),
    Route("/events/delete", delete, methods=["POST"]),
    Route("/events/search", search_events, methods=["POST"]),
    Route("/events/aggregate", aggregate_events, methods=["POST"]),
    Route("/events/{event_id:int}", retrieve, methods=["GET"]),
]
