"""Datapoint rules: insert, retrieve (raw and aggregates), latest, delete ranges.

The points live in the time series family's part (``TimeSeriesPart.points``); this module keeps no
state of its own. Queries are answered from binary searches on the sorted arrays of each series.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import tzinfo
from typing import Any

import numpy as np

from emulator.errors import bad_request
from emulator.resources.datapoints import aggregates
from emulator.resources.datapoints.calendar import Intervals, parse_granularity, parse_time_zone
from emulator.resources.datapoints.encode import RawPoints
from emulator.resources.datapoints.parse import MAX_TIMESTAMP, MIN_TIMESTAMP, parse_time
from emulator.resources.table import Record
from emulator.resources.timeseries.domain import TimeSeriesPart
from emulator.resources.timeseries.keys import parse_key
from emulator.resources.timeseries.series import Series, category_of
from emulator.resources.units import catalog
from emulator.validation import expect_object, get_bool, reject_unknown

PARTS: tuple[type, ...] = ()  # points are kept by the timeseries family's part

MAX_RAW = 100_000
MAX_AGGREGATES = 10_000
QUERY_FIELDS = (
    "start", "end", "limit", "aggregates", "granularity", "targetUnit", "targetUnitSystem",
    "includeOutsidePoints", "includeStatus", "ignoreBadDataPoints", "treatUncertainAsBad", "cursor",
    "timeZone",
)  # fmt: skip
TOP_FIELDS = ("items", "start", "end", "limit", "aggregates", "granularity", "includeOutsidePoints",
              "timeZone", "ignoreUnknownIds", "includeStatus", "ignoreBadDataPoints", "treatUncertainAsBad",
              "targetUnit", "targetUnitSystem")  # fmt: skip


@dataclass
class Query:
    key: tuple[str, Any]
    start: int
    end: int
    limit: int
    aggregates: list[str] | None
    granularity: tuple[int, str] | None
    tz: tzinfo | None
    target_unit: str | None
    target_system: str | None
    outside: bool
    include_status: bool
    ignore_bad: bool
    uncertain_is_bad: bool
    cursor: int | None


def _cursor(kind: str, value: int) -> str:
    return base64.urlsafe_b64encode(f"{kind}:{value}".encode()).decode().rstrip("=")


def _read_cursor(raw: Any, kind: str) -> int:
    try:
        text = base64.urlsafe_b64decode(str(raw) + "=" * (-len(str(raw)) % 4)).decode()
        found, _, value = text.partition(":")
        if found != kind:
            raise ValueError
        return int(value)
    except ValueError:
        raise bad_request(
            f"Invalid cursor: {str(raw)[:40]!r} (give the nextCursor of the same query)"
        ) from None


def parse_query(item: Any, top: dict[str, Any], i: int, now: int) -> Query:
    where = f"items[{i}]"
    obj = expect_object(item, where)
    reject_unknown(obj, ("id", "externalId", "instanceId", *QUERY_FIELDS), where)
    key = parse_key(obj, where)

    def field(name: str) -> Any:
        value = obj.get(name, top.get(name))
        if value is None and (name in obj or name in top):
            raise bad_request(f"{where}.{name} must not be null")
        return value

    start = parse_time(field("start") if field("start") is not None else 0, now, f"{where}.start")
    end = parse_time(field("end") if field("end") is not None else now + 1, now, f"{where}.end")
    aggs = field("aggregates")
    if aggs is not None:
        if not isinstance(aggs, list) or not aggs or any(a not in aggregates.AGGREGATES for a in aggs):
            raise bad_request(
                f"{where}.aggregates must be a non-empty list of {', '.join(aggregates.AGGREGATES)}"
            )
        if len(set(aggs)) != len(aggs):
            raise bad_request(f"{where}.aggregates must not repeat an aggregate")
    granularity = field("granularity")
    if aggs is not None and granularity is None:
        raise bad_request(f"{where}: granularity is required with aggregates")
    if aggs is None and granularity is not None:
        raise bad_request(f"{where}: granularity is only allowed with aggregates")
    limit = field("limit")
    maximum = MAX_AGGREGATES if aggs else MAX_RAW
    if limit is None:
        limit = 100
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < -1 or limit > maximum:
        raise bad_request(f"{where}.limit must be an integer from 0 to {maximum}")
    if limit == -1:
        limit = maximum
    tz_raw = field("timeZone")
    target_unit, target_system = field("targetUnit"), field("targetUnitSystem")
    if target_unit is not None and target_system is not None:
        raise bad_request(f"{where}: targetUnit and targetUnitSystem cannot be used together")
    for name, value in (("targetUnit", target_unit), ("targetUnitSystem", target_system)):
        if value is not None and not isinstance(value, str):
            raise bad_request(f"{where}.{name} must be a string")
    flags = {name: get_bool({name: field(name)} if field(name) is not None else {}, name, where, default=d)
             for name, d in (("includeOutsidePoints", False), ("includeStatus", False),
                             ("ignoreBadDataPoints", True), ("treatUncertainAsBad", True))}  # fmt: skip
    cursor_raw = obj.get("cursor")
    if flags["includeOutsidePoints"] and (aggs is not None or cursor_raw is not None):
        raise bad_request(f"{where}: includeOutsidePoints is not available with aggregates or cursors")
    cursor = None
    if cursor_raw is not None:
        if not isinstance(cursor_raw, str) or not cursor_raw:
            raise bad_request(f"{where}.cursor must be a nextCursor string")
        cursor = _read_cursor(cursor_raw, "agg" if aggs else "raw")
    return Query(
        key=key, start=start, end=end, limit=limit, aggregates=aggs,
        granularity=parse_granularity(granularity) if granularity is not None else None,
        tz=parse_time_zone(tz_raw) if tz_raw is not None else None,
        target_unit=target_unit, target_system=target_system, outside=flags["includeOutsidePoints"],
        include_status=flags["includeStatus"], ignore_bad=flags["ignoreBadDataPoints"],
        uncertain_is_bad=flags["treatUncertainAsBad"], cursor=cursor,
    )  # fmt: skip


def parse_list_body(body: Any, now: int) -> tuple[list[Query], bool]:
    top = expect_object(body, "")
    reject_unknown(top, TOP_FIELDS, "")
    items = top.get("items")
    if not isinstance(items, list) or not 1 <= len(items) <= 100:
        raise bad_request("items must be an array of 1 to 100 queries")
    ignore = get_bool(top, "ignoreUnknownIds")
    queries = [parse_query(item, top, i, now) for i, item in enumerate(items)]
    raw_total = sum(q.limit for q in queries if not q.aggregates)
    agg_total = sum(q.limit for q in queries if q.aggregates)
    if raw_total > MAX_RAW or agg_total > MAX_AGGREGATES:
        raise bad_request(
            f"The limits of one request add up to more than {MAX_RAW} raw or {MAX_AGGREGATES} aggregate points"
        )
    return queries, ignore


@dataclass
class Answer:
    record: Record
    unit_xid: str | None
    converted: bool
    raw: RawPoints | None = None
    rows: list[dict[str, Any]] | None = None
    cursor: str | None = None


def unit_conversion(
    record: Record, target: str | None, system: str | None
) -> tuple[str | None, tuple[float, float] | None]:
    """The unit of the answer and ``(scale, shift)`` when points are converted."""
    source = record.get("unitExternalId")
    if target is None and system is None:
        return source, None
    if record.get("isString"):
        raise bad_request("String time series have no unit to convert")
    unit = target if target is not None else catalog.unit_in_system(source, str(system))
    return unit, catalog.converter(source, unit)


def answer(part: TimeSeriesPart, record: Record, q: Query) -> Answer:
    series = part.series_of(record)
    unit_xid, conversion = unit_conversion(record, q.target_unit, q.target_system)
    if q.aggregates:
        if record.get("isString"):
            raise bad_request("Aggregates are not available for string time series")
        return _aggregate(series, record, q, unit_xid, conversion)
    return _raw(series, record, q, unit_xid, conversion)


def _convert(values: Any, conversion: tuple[float, float] | None) -> Any:
    if conversion is None:
        return values
    scale, shift = conversion
    return values * scale + shift


def _raw(
    series: Series, record: Record, q: Query, unit_xid: str | None, conversion: tuple[float, float] | None
) -> Answer:
    start = max(q.start, q.cursor) if q.cursor is not None else q.start
    lo, hi = series.bounds(start, q.end)
    chosen = series.selected(lo, hi, ignore_bad=q.ignore_bad, uncertain_is_bad=q.uncertain_is_bad)
    cursor = None
    if chosen.size > q.limit:
        if q.limit > 0:
            cursor = _cursor("raw", int(series.ts[chosen[q.limit]]))
        chosen = chosen[: q.limit]
    if q.outside:
        flags = {"ignore_bad": q.ignore_bad, "uncertain_is_bad": q.uncertain_is_bad}
        before = series.last_visible_before(lo, **flags)
        after = series.first_visible_from(series.bounds(q.end, MAX_TIMESTAMP + 1)[0], **flags)
        chosen = np.concatenate((before[-1:], chosen, after[:1]))
        cursor = None
    contiguous = chosen.size and int(chosen[-1]) - int(chosen[0]) + 1 == chosen.size
    pick: Any = slice(int(chosen[0]), int(chosen[-1]) + 1) if contiguous else chosen
    status = series.status[pick] if series.status is not None and q.include_status else None
    if status is not None and not status.any():
        status = None
    nulls = series.nulls[pick] if series.nulls is not None else None
    if nulls is not None and not nulls.any():
        nulls = None
    values = _convert(series.values[pick], conversion)
    points = RawPoints(series.is_string, series.ts[pick], values, status, nulls)
    return Answer(record, unit_xid, conversion is not None, raw=points, cursor=cursor)


def _aggregate(
    series: Series, record: Record, q: Query, unit_xid: str | None, conversion: tuple[float, float] | None
) -> Answer:
    assert q.granularity is not None and q.aggregates is not None
    n, unit = q.granularity
    from datetime import timezone

    UTC = timezone.utc  # datetime.UTC is new in Python 3.11

    start = max(q.start, q.cursor) if q.cursor is not None else q.start
    intervals = Intervals(start, n, unit, q.tz or UTC)
    mask = series.good_mask(uncertain_is_bad=q.uncertain_is_bad)
    if series.nulls is not None:
        mask = ~series.nulls if mask is None else mask & ~series.nulls
    good_ts = series.ts if mask is None else series.ts[mask]
    good_values = series.values if mask is None else series.values[mask]
    rows, next_start = aggregates.compute(
        good_ts=good_ts, good_values=_convert(good_values.astype(np.float64), conversion),
        all_ts=series.ts, all_categories=category_of(series.status) if series.status is not None else None,
        is_step=bool(record["isStep"]), intervals=intervals, start=start, end=q.end,
        limit=q.limit, wanted=q.aggregates,
    )  # fmt: skip
    cursor = _cursor("agg", next_start) if next_start is not None and q.limit > 0 else None
    return Answer(record, unit_xid, conversion is not None, rows=rows, cursor=cursor)


def latest(part: TimeSeriesPart, record: Record, before: int, q: Query) -> Answer:
    series = part.series_of(record)
    unit_xid, conversion = unit_conversion(record, q.target_unit, q.target_system)
    _, hi = series.bounds(MIN_TIMESTAMP, before)
    chosen = series.last_visible_before(hi, ignore_bad=q.ignore_bad, uncertain_is_bad=q.uncertain_is_bad)
    status = series.status[chosen] if series.status is not None and q.include_status else None
    nulls = series.nulls[chosen] if series.nulls is not None else None
    values = _convert(series.values[chosen], conversion)
    raw = RawPoints(series.is_string, series.ts[chosen], values, status, nulls)
    return Answer(record, unit_xid, conversion is not None, raw=raw)
