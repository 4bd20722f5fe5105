"""Assets routes: parse -> domain -> wire (records are wire-shaped; aggregates computed on request)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from emulator.errors import bad_request
from emulator.resources.advanced import aggregate, compile_filter
from emulator.resources.assets.domain import UPDATABLE, Assets, predicate
from emulator.resources.classic import list_page, query_of, ranges_from_query, read_request, search
from emulator.resources.common import ids_of, now_of, part_of
from emulator.resources.labels.domain import Labels
from emulator.resources.table import Record
from emulator.validation import get_limit, path_id, reject_unknown


def _assets(request: Request) -> Assets:
    return part_of(request, Assets)


def _wire(assets: Assets, records: list[Record], wanted: list[str] | None = None) -> list[Record]:
    if not wanted:
        return [dict(r) for r in records]
    kids = assets.children()
    return [{**r, "aggregates": assets.aggregates(r, wanted, kids)} for r in records]


def _check_labels(request: Request, items: list[dict[str, Any]]) -> None:
    labels = part_of(request, Labels)
    for i, item in enumerate(items):
        labels.require(item.get("labels"), f"items[{i}]")
        change = (item.get("update") or {}).get("labels")
        if isinstance(change, dict):
            labels.require(change.get("add"), f"items[{i}].update.labels")


async def create(request: Request) -> Response:
    body = await read_request(request, "createAssets")
    for i, item in enumerate(body["items"]):
        reject_unknown(item, UPDATABLE, f"items[{i}]")
    _check_labels(request, body["items"])
    assets = _assets(request)
    made = assets.create(body["items"], ids_of(request), now_of(request))
    return JSONResponse({"items": _wire(assets, made)}, status_code=201)


def _matching(request: Request, body: dict[str, Any]) -> list[Record]:
    assets = _assets(request)
    test = predicate(body.get("filter") or {}, assets)
    found = [r for r in assets.table.records() if test(r)]
    if body.get("advancedFilter") is not None:
        advanced = compile_filter(body["advancedFilter"])
        found = [r for r in found if advanced(r)]
    return found


async def list_assets(request: Request) -> Response:
    body = await read_request(request, "listAssets")
    page = list_page(_matching(request, body), body)
    page["items"] = _wire(_assets(request), page["items"], body.get("aggregatedProperties"))
    return JSONResponse(page)


_QUERY_FILTERS = ("name", "source", "root", "externalIdPrefix")


async def list_assets_get(request: Request) -> Response:
    query = query_of(request, "getAssets")
    flt: dict[str, Any] = {k: query[k] for k in _QUERY_FILTERS if k in query}
    for name in ("parentIds", "parentExternalIds"):
        if name in query:
            flt[name] = query[name]
    for name in ("rootIds", "assetSubtreeIds"):
        if name in query:
            flt[name] = [{"id": v} for v in query[name]]
    if "assetSubtreeExternalIds" in query:
        extra = [{"externalId": v} for v in query["assetSubtreeExternalIds"]]
        flt["assetSubtreeIds"] = flt.get("assetSubtreeIds", []) + extra
    flt.update(ranges_from_query(query, ("createdTime", "lastUpdatedTime")))
    page = list_page(_matching(request, {"filter": flt}), query)
    if query.get("includeMetadata") is False:
        page["items"] = [{k: v for k, v in r.items() if k != "metadata"} for r in page["items"]]
    return JSONResponse(page)


async def retrieve(request: Request) -> Response:
    asset_id = path_id(request.path_params["asset_id"], "asset id")
    (record,) = _assets(request).table.resolve([{"id": asset_id}])
    return JSONResponse(dict(record))


async def by_ids(request: Request) -> Response:
    body = await read_request(request, "byIdsAssets")
    assets = _assets(request)
    found = assets.table.resolve(body["items"], ignore_unknown=bool(body.get("ignoreUnknownIds", False)))
    return JSONResponse({"items": _wire(assets, found, body.get("aggregatedProperties"))})


async def update(request: Request) -> Response:
    body = await read_request(request, "updateAssets")
    _check_labels(request, body["items"])
    assets = _assets(request)
    return JSONResponse({"items": _wire(assets, assets.update(body["items"], now_of(request)))})


async def delete(request: Request) -> Response:
    body = await read_request(request, "deleteAssets")
    _assets(request).delete(
        body["items"],
        recursive=bool(body.get("recursive", False)),
        ignore_unknown=bool(body.get("ignoreUnknownIds", False)),
    )
    return JSONResponse({})


async def search_assets(request: Request) -> Response:
    body = await read_request(request, "searchAssets", loose=("search",))
    limit = get_limit(body, maximum=1000)
    queries = dict(body.get("search") or {})
    if "query" in queries:  # the modern free-text query looks at both name and description
        text = queries.pop("query")
        queries = {"name": text, "description": text}
    return JSONResponse({"items": search(_matching(request, body), queries, limit)})


async def aggregate_assets(request: Request) -> Response:
    body = await read_request(request, "aggregateAssets")
    if body.get("aggregate") in ("metadataKeys", "metadataValues"):
        raise bad_request(f"aggregate {body['aggregate']!r} is not supported by the emulator")
    return JSONResponse({"items": aggregate(_matching(request, body), body)})


routes = [
    Route("/assets", create, methods=["POST"]),
    Route("/assets", list_assets_get, methods=["GET"]),
    Route("/assets/list", list_assets, methods=["POST"]),
    Route("/assets/byids", by_ids, methods=["POST"]),
    Route("/assets/update", update, methods=["POST"]),
    Route("/assets/delete", delete, methods=["POST"]),
    Route("/assets/search", search_assets, methods=["POST"]),
    Route("/assets/aggregate", aggregate_assets, methods=["POST"]),
    Route("/assets/{asset_id:int}", retrieve, methods=["GET"]),
]
