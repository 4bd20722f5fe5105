"""Time series metadata: create, list (GET and filter), byids, search, update, delete, aggregate."""

from __future__ import annotations

import copy
import json
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from emulator.errors import bad_request
from emulator.resources.common import ids_of, now_of, part_of
from emulator.resources.table import Record, cursor_page, partition
from emulator.resources.timeseries.domain import TimeSeriesPart
from emulator.resources.timeseries.filters import parse_filter, parse_search
from emulator.resources.timeseries.keys import parse_key
from emulator.resources.units import catalog
from emulator.spec import check_request
from emulator.validation import (
    expect_object,
    get_bool,
    get_items,
    get_limit,
    query_limit,
    read_json,
    reject_unknown,
)

CREATE_FIELDS = (
    "externalId", "name", "legacyName", "isString", "metadata", "unit", "unitExternalId", "assetId",
    "isStep", "description", "securityCategories", "dataSetId",
)  # fmt: skip
UPDATABLE = (
    "externalId", "name", "metadata", "unit", "unitExternalId", "assetId", "isStep", "description",
    "securityCategories", "dataSetId",
)  # fmt: skip
UPDATABLE_DM = ("externalId", "metadata", "assetId", "dataSetId")  # instanceId series (TimeSeriesPatchDM)
METADATA_LIMITS = {"max_items": 256, "key_max": 128, "value_max": 10000, "total_max": 10000}


def wire(record: Record, include_metadata: bool = True) -> Record:
    out = copy.deepcopy(record)
    if not include_metadata:
        out.pop("metadata", None)
    return out


def _check_unit(record: Record, where: str) -> None:
    unit_xid = record.get("unitExternalId")
    if unit_xid is None:
        return
    if record.get("isString"):
        raise bad_request(f"{where}: unitExternalId is only available for numeric time series")
    if catalog.unit(unit_xid) is None:
        raise bad_request(f"{where}: unitExternalId {unit_xid!r} is not in the units catalog")


def _check_metadata(record: Record, where: str) -> None:
    metadata = record.get("metadata") or {}
    if len(metadata) > METADATA_LIMITS["max_items"]:
        raise bad_request(f"{where}.metadata may have at most 256 keys")
    size = sum(len(k.encode()) + len(str(v).encode()) for k, v in metadata.items())
    if size > METADATA_LIMITS["total_max"]:
        raise bad_request(f"{where}.metadata is larger than 10000 bytes")


async def create(request: Request) -> JSONResponse:
    body = await read_json(request)
    check_request("postTimeSeries", body)
    items = get_items(body, max_items=1000)
    made = []
    for i, raw in enumerate(items):
        item = expect_object(raw, f"items[{i}]")
        reject_unknown(item, CREATE_FIELDS, f"items[{i}]")
        record = {k: copy.deepcopy(v) for k, v in item.items() if k != "legacyName"}
        record["isString"] = bool(record.get("isString", False))
        record["isStep"] = bool(record.get("isStep", False))
        record["type"] = "string" if record["isString"] else "numeric"
        record.setdefault("metadata", {})
        record.setdefault("securityCategories", [])
        _check_unit(record, f"items[{i}]")
        _check_metadata(record, f"items[{i}]")
        made.append(record)
    part = part_of(request, TimeSeriesPart)
    created = part.create(made, ids_of(request), now_of(request))
    return JSONResponse({"items": [wire(r) for r in created]}, status_code=201)


def _page(request: Request, records: list[Record], limit: int, cursor: Any, part_spec: Any) -> Any:
    chosen = list(partition(records, part_spec))
    return cursor_page(chosen, limit, cursor)


async def list_get(request: Request) -> JSONResponse:
    params = request.query_params
    unknown = set(params) - {"limit", "includeMetadata", "cursor", "partition", "assetIds", "rootAssetIds",
                             "externalIdPrefix"}  # fmt: skip
    if unknown:
        raise bad_request(f"Unknown query parameter(s): {', '.join(sorted(unknown))}")
    for name in params:
        if len(params.getlist(name)) > 1:
            raise bad_request(f"Query parameter {name} is given more than once")
    limit = query_limit(request, maximum=1000)
    flag = params.get("includeMetadata", "true")
    if flag not in ("true", "false"):
        raise bad_request("includeMetadata must be true or false")
    include_metadata = flag == "true"
    raw_filter: dict[str, Any] = {}
    if "externalIdPrefix" in params:
        raw_filter["externalIdPrefix"] = params["externalIdPrefix"]
    for name in ("assetIds", "rootAssetIds"):
        if name in params:
            try:
                raw_filter[name] = json.loads(params[name])
            except ValueError:
                raise bad_request(f"{name} must be a JSON array of ids") from None
    keep = parse_filter(raw_filter)
    records = [r for r in part_of(request, TimeSeriesPart).table.records() if keep(r)]
    page, cursor = _page(request, records, limit, params.get("cursor"), params.get("partition"))
    return _answer([wire(r, include_metadata) for r in page], cursor)


def _no_nulls(body: dict[str, Any], allowed: tuple[str, ...] = ()) -> None:
    for name, value in body.items():
        if value is None and name not in allowed:
            raise bad_request(f"{name} must not be null")


def _answer(items: list[Record], cursor: str | None) -> JSONResponse:
    body: dict[str, Any] = {"items": items}
    if cursor is not None:
        body["nextCursor"] = cursor
    return JSONResponse(body)


async def list_post(request: Request) -> JSONResponse:
    body = expect_object(await read_json(request, allow_empty=True), "")
    reject_unknown(body, ("filter", "advancedFilter", "limit", "cursor", "partition", "sort"), "")
    _no_nulls(body, allowed=("cursor",))  # cognite-sdk sends "cursor": null with partitions
    body = {k: v for k, v in body.items() if v is not None}
    if body.get("advancedFilter") is not None or body.get("sort") is not None:
        raise bad_request("advancedFilter and sort are not supported by the emulator yet")
    keep = parse_filter(body.get("filter"))
    limit = get_limit(body, maximum=1000)
    records = [r for r in part_of(request, TimeSeriesPart).table.records() if keep(r)]
    page, cursor = _page(request, records, limit, body.get("cursor"), body.get("partition"))
    return _answer([wire(r) for r in page], cursor)


async def by_ids(request: Request) -> JSONResponse:
    body = expect_object(await read_json(request), "")
    reject_unknown(body, ("items", "ignoreUnknownIds"), "")
    ignore = get_bool(body, "ignoreUnknownIds")
    items = get_items(body, max_items=1000)
    keys = [parse_key(expect_object(item, f"items[{i}]"), f"items[{i}]") for i, item in enumerate(items)]
    for i, item in enumerate(items):
        reject_unknown(item, ("id", "externalId", "instanceId"), f"items[{i}]")
    found = part_of(request, TimeSeriesPart).resolve(keys, ignore_unknown=ignore)
    seen: set[int] = set()
    out = []
    for record in found:
        if record is not None and record["id"] not in seen:
            seen.add(record["id"])
            out.append(wire(record))
    return JSONResponse({"items": out})


async def search(request: Request) -> JSONResponse:
    body = expect_object(await read_json(request, allow_empty=True), "")
    reject_unknown(body, ("filter", "search", "limit"), "")
    keep = parse_filter(body.get("filter"))
    score = parse_search(body.get("search"))
    limit = get_limit(body, maximum=1000)
    scored = [(score(r), r) for r in part_of(request, TimeSeriesPart).table.records() if keep(r)]
    ranked = sorted((pair for pair in scored if pair[0] > 0), key=lambda p: (-p[0], p[1]["id"]))
    return JSONResponse({"items": [wire(r) for _, r in ranked[:limit]]})


async def update(request: Request) -> JSONResponse:
    body = expect_object(await read_json(request), "")
    reject_unknown(body, ("items",), "")
    items = get_items(body, max_items=1000)
    part = part_of(request, TimeSeriesPart)
    by_id: list[dict[str, Any]] = []
    dm_ids: set[int] = set()
    for i, raw in enumerate(items):
        item = expect_object(raw, f"items[{i}]")
        reject_unknown(item, ("id", "externalId", "instanceId", "update"), f"items[{i}]")
        key = parse_key(item, f"items[{i}]")
        (record,) = part.resolve([key], ignore_unknown=False)
        assert record is not None
        if record.get("instanceId") is not None:
            dm_ids.add(record["id"])
            changes = expect_object(item.get("update"), f"items[{i}].update")
            refused = sorted(set(changes) - set(UPDATABLE_DM))
            if refused:
                raise bad_request(
                    f"items[{i}].update: {', '.join(refused)} of a data-modeling time series is set through its node"
                )
        by_id.append({"id": record["id"], "update": item.get("update")})

    def check(new: Record) -> None:
        _check_unit(new, "update")
        _check_metadata(new, "update")

    with part.lock:
        updated = part.table.update(by_id, now_of(request), allowed=UPDATABLE, check=check)
    return JSONResponse({"items": [wire(r) for r in updated]})


async def delete(request: Request) -> JSONResponse:
    body = expect_object(await read_json(request), "")
    reject_unknown(body, ("items", "ignoreUnknownIds"), "")
    ignore = get_bool(body, "ignoreUnknownIds")
    items = get_items(body, max_items=1000)
    keys = []
    for i, item in enumerate(items):
        obj = expect_object(item, f"items[{i}]")
        reject_unknown(obj, ("id", "externalId", "instanceId"), f"items[{i}]")
        keys.append(parse_key(obj, f"items[{i}]"))
    part = part_of(request, TimeSeriesPart)
    with part.lock:
        found = part.resolve(keys, ignore_unknown=ignore)
        records = {r["id"]: r for r in found if r is not None}
        if any(r.get("instanceId") is not None for r in records.values()):
            raise bad_request("A data-modeling time series is deleted by deleting its node")
        part.delete(list(records.values()))
    return JSONResponse({})


async def aggregate(request: Request) -> JSONResponse:
    body = expect_object(await read_json(request, allow_empty=True), "")
    reject_unknown(body, ("filter", "advancedFilter", "aggregate", "properties", "path"), "")
    _no_nulls(body)
    if body.get("aggregate", "count") != "count" or body.get("advancedFilter") is not None:
        raise bad_request("The emulator supports the count aggregate with a classic filter only")
    keep = parse_filter(body.get("filter"))
    count = sum(1 for r in part_of(request, TimeSeriesPart).table.records() if keep(r))
    return JSONResponse({"items": [{"count": count}]})


routes = [
    Route("/timeseries", create, methods=["POST"]),
    Route("/timeseries", list_get, methods=["GET"]),
    Route("/timeseries/list", list_post, methods=["POST"]),
    Route("/timeseries/byids", by_ids, methods=["POST"]),
    Route("/timeseries/search", search, methods=["POST"]),
    Route("/timeseries/update", update, methods=["POST"]),
    Route("/timeseries/delete", delete, methods=["POST"]),
    Route("/timeseries/aggregate", aggregate, methods=["POST"]),
]
