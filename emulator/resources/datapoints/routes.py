"""POST /timeseries/data (JSON or protobuf), /data/list (protobuf or JSON), /data/latest, /data/delete."""

from __future__ import annotations

from typing import Any

from cognite.client._proto.data_point_insertion_request_pb2 import DataPointInsertionRequest
from google.protobuf.message import DecodeError  # type: ignore[import-untyped]
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from emulator.errors import CogniteAPIError, bad_request
from emulator.resources.common import now_of, part_of
from emulator.resources.datapoints import domain, encode
from emulator.resources.datapoints.parse import (
    MAX_ITEMS_PER_INSERT,
    MAX_POINTS_PER_REQUEST,
    MAX_TIMESTAMP,
    Points,
    loads_strict,
    parse_points,
    parse_time,
)
from emulator.resources.timeseries.domain import TimeSeriesPart
from emulator.resources.timeseries.keys import parse_key
from emulator.validation import expect_object, get_bool, read_body, reject_unknown

PROTOBUF = "application/protobuf"


async def _json_body(request: Request) -> Any:
    content_type = request.headers.get("content-type", "")
    if content_type and "json" not in content_type.lower():
        raise CogniteAPIError(415, f"Unsupported Content-Type {content_type!r}: send application/json")
    return loads_strict(await read_body(request))


def _proto_items(raw: bytes) -> list[dict[str, Any]]:
    """A protobuf insertion request as the JSON items it stands for."""
    message = DataPointInsertionRequest()
    try:
        message.MergeFromString(raw)
    except DecodeError as exc:
        raise bad_request(f"Request body is not a valid DataPointInsertionRequest: {exc}") from None
    items = []
    for item in message.items:
        out: dict[str, Any] = {}
        kind = item.WhichOneof("timeSeriesReference")
        if kind == "instanceId":
            out["instanceId"] = {"space": item.instanceId.space, "externalId": item.instanceId.externalId}
        elif kind is not None:
            out[kind] = getattr(item, kind)
        which = item.WhichOneof("datapointType")
        if which == "stateDatapoints":
            raise bad_request("State time series are not supported by the emulator")
        points = getattr(item, which).datapoints if which else []
        out["datapoints"] = [_proto_point(dp) for dp in points]
        items.append(out)
    return items


def _proto_point(dp: Any) -> dict[str, Any]:
    point: dict[str, Any] = {"timestamp": dp.timestamp}
    if not dp.nullValue:
        point["value"] = dp.value
    if dp.HasField("status"):
        point["status"] = {k: v for k, v in (("code", dp.status.code), ("symbol", dp.status.symbol)) if v}
        if not point["status"]:
            del point["status"]
    return point


async def insert(request: Request) -> Response:
    content_type = request.headers.get("content-type", "").lower()
    if PROTOBUF in content_type:
        items: Any = _proto_items(await read_body(request))
    else:
        body = expect_object(await _json_body(request), "")
        reject_unknown(body, ("items",), "")
        items = body.get("items")
    if not isinstance(items, list) or not 1 <= len(items) <= MAX_ITEMS_PER_INSERT:
        raise bad_request(f"items must be an array of 1 to {MAX_ITEMS_PER_INSERT} time series")
    keys = []
    total = 0
    for i, item in enumerate(items):
        obj = expect_object(item, f"items[{i}]")
        reject_unknown(obj, ("id", "externalId", "instanceId", "datapoints"), f"items[{i}]")
        keys.append(parse_key(obj, f"items[{i}]"))
        points = obj.get("datapoints")
        if not isinstance(points, list):
            raise bad_request(f"items[{i}].datapoints must be an array")
        total += len(points)
    if total > MAX_POINTS_PER_REQUEST:
        raise bad_request(f"At most {MAX_POINTS_PER_REQUEST} datapoints per request, got {total}")
    part = part_of(request, TimeSeriesPart)
    records = part.resolve(keys, ignore_unknown=False)
    parsed: list[tuple[Any, Points]] = []
    for i, (item, record) in enumerate(zip(items, records, strict=True)):
        assert record is not None
        parsed.append((record, parse_points(item["datapoints"], bool(record["isString"]), f"items[{i}]")))
    with part.lock:  # every item is checked before any is applied: a bad request changes nothing
        for record, points in parsed:
            part.series_of(record).insert(points.ts, points.values, points.status, points.nulls)
    return JSONResponse({})


async def retrieve(request: Request) -> Response:
    now = now_of(request)
    queries, ignore = domain.parse_list_body(await _json_body(request), now)
    part = part_of(request, TimeSeriesPart)
    records = part.resolve([q.key for q in queries], ignore_unknown=ignore)
    answers = [domain.answer(part, r, q) for q, r in zip(queries, records, strict=True) if r is not None]
    statuses = [q.include_status for q, r in zip(queries, records, strict=True) if r is not None]
    if PROTOBUF in request.headers.get("accept", "").lower():
        items = []
        for a, include_status in zip(answers, statuses, strict=True):
            header = encode.item_header(a.record, a.unit_xid, a.converted, a.cursor)
            if a.raw is not None:
                items.append(encode.raw_item_bytes(header, a.raw))
            else:
                items.append(encode.aggregate_item_bytes(header, a.rows or [], include_status))
        return Response(encode.response_bytes(items), media_type=PROTOBUF)
    out = []
    for a in answers:
        item = encode.item_json(a.record, a.unit_xid, a.converted)
        if a.raw is not None:
            item["datapoints"] = encode.raw_points_json(a.raw)
        else:
            item["datapoints"] = [{k: encode.json_value(v) for k, v in row.items()} for row in a.rows or []]
        if a.cursor:
            item["nextCursor"] = a.cursor
        out.append(item)
    return JSONResponse({"items": out})


async def latest(request: Request) -> Response:
    now = now_of(request)
    body = expect_object(await _json_body(request), "")
    reject_unknown(body, ("items", "ignoreUnknownIds"), "")
    ignore = get_bool(body, "ignoreUnknownIds")
    items = body.get("items")
    if not isinstance(items, list) or not 1 <= len(items) <= 100:
        raise bad_request("items must be an array of 1 to 100 queries")
    queries = []
    befores = []
    for i, item in enumerate(items):
        obj = dict(expect_object(item, f"items[{i}]"))
        reject_unknown(obj, ("id", "externalId", "instanceId", "before", "targetUnit", "targetUnitSystem",
                             "includeStatus", "ignoreBadDataPoints", "treatUncertainAsBad"), f"items[{i}]")  # fmt: skip
        before = obj.pop("before", "now")
        befores.append(parse_time(before, now, f"items[{i}].before") if before is not None else now)
        queries.append(domain.parse_query(obj, {}, i, now))
    part = part_of(request, TimeSeriesPart)
    records = part.resolve([q.key for q in queries], ignore_unknown=ignore)
    out = []
    for q, record, before in zip(queries, records, befores, strict=True):
        if record is None:
            continue
        a = domain.latest(part, record, min(before, MAX_TIMESTAMP + 1), q)
        item = encode.item_json(record, a.unit_xid, a.converted)
        item["datapoints"] = encode.raw_points_json(a.raw) if a.raw is not None else []
        out.append(item)
    return JSONResponse({"items": out})


async def delete(request: Request) -> Response:
    body = expect_object(await _json_body(request), "")
    reject_unknown(body, ("items",), "")
    items = body.get("items")
    if not isinstance(items, list) or not 1 <= len(items) <= 10_000:
        raise bad_request("items must be an array of 1 to 10000 delete ranges")
    keys, ranges = [], []
    for i, item in enumerate(items):
        obj = expect_object(item, f"items[{i}]")
        reject_unknown(
            obj, ("id", "externalId", "instanceId", "inclusiveBegin", "exclusiveEnd"), f"items[{i}]"
        )
        keys.append(parse_key(obj, f"items[{i}]"))
        begin = obj.get("inclusiveBegin")
        if begin is None:
            raise bad_request(f"Missing required field: items[{i}].inclusiveBegin")
        begin = parse_time(begin, now_of(request), f"items[{i}].inclusiveBegin")
        end_raw = obj.get("exclusiveEnd")
        end = (
            parse_time(end_raw, now_of(request), f"items[{i}].exclusiveEnd")
            if end_raw is not None
            else begin + 1
        )
        if end <= begin:
            raise bad_request(f"items[{i}]: exclusiveEnd must be after inclusiveBegin")
        ranges.append((begin, end))
    part = part_of(request, TimeSeriesPart)
    records = part.resolve(keys, ignore_unknown=False)
    with part.lock:
        for record, (begin, end) in zip(records, ranges, strict=True):
            assert record is not None
            part.series_of(record).delete_range(begin, end)
    return JSONResponse({})


routes = [
    Route("/timeseries/data", insert, methods=["POST"]),
    Route("/timeseries/data/list", retrieve, methods=["POST"]),
    Route("/timeseries/data/latest", latest, methods=["POST"]),
    Route("/timeseries/data/delete", delete, methods=["POST"]),
]
