"""Reading instances: list (filter, sort, cursors), byids, search and aggregate.

Instances are listed in creation order unless sorted; a cursor is the offset of the next
instance in the request's ordering. The matching instances of a listing are remembered for the
part's current change sequence, so the pages of one listing filter the instances only once.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from typing import Any

from emulator.errors import bad_request
from emulator.resources.instances.domain import Instance, InstancesPart
from emulator.resources.instances.filters import Context, compile_filter, has_data, resolve_property
from emulator.resources.instances.sources import Source, parse_source_ref
from emulator.resources.instances.wire import Selection
from emulator.resources.paging import decode_cursor, encode_cursor
from emulator.validation import expect_object, reject_unknown

MAX_LISTINGS = 8
MAX_SORT = 5


def instance_type(body: dict[str, Any], default: str = "node") -> str:
    kind = body.get("instanceType", default)
    if kind not in ("node", "edge"):
        raise bad_request("instanceType must be 'node' or 'edge'")
    return str(kind)


def sorter(ctx: Context, spec: Any, where: str = "sort") -> Callable[[list[Instance]], list[Instance]]:
    """``sort: [{property, direction?, nullsFirst?}]`` as a function ordering a list."""
    if spec is None:
        return lambda items: items
    if not isinstance(spec, list) or len(spec) > MAX_SORT:
        raise bad_request(f"{where} must be a list of at most {MAX_SORT} sort specifications")
    keys = []
    for i, entry in enumerate(spec):
        at = f"{where}[{i}]"
        entry = expect_object(entry, at)
        reject_unknown(entry, ("property", "direction", "nullsFirst"), at)
        getter, _ = resolve_property(ctx, entry.get("property"), f"{at}.property")
        direction = entry.get("direction", "ascending")
        if direction not in ("ascending", "descending"):
            raise bad_request(f"{at}.direction must be 'ascending' or 'descending'")
        nulls_first = entry.get("nullsFirst", direction == "descending")
        keys.append((getter, direction == "descending", bool(nulls_first)))

    def order(items: list[Instance]) -> list[Instance]:
        ordered = list(items)
        for getter, descending, nulls_first in reversed(keys):
            present = [i for i in ordered if getter(i) is not None]
            absent = [i for i in ordered if getter(i) is None]
            present.sort(key=lambda i: _sort_key(getter(i)), reverse=descending)
            ordered = absent + present if nulls_first else present + absent
        return ordered

    return order


def _sort_key(value: Any) -> Any:
    if isinstance(value, dict):
        return (2, json.dumps(value, sort_keys=True))
    if isinstance(value, list):
        return (3, json.dumps(value, sort_keys=True))
    if isinstance(value, bool | int | float):
        return (0, value)
    return (1, str(value))


def matching(
    part: InstancesPart, ctx: Context, kind: str, selection: Selection, body: dict[str, Any]
) -> list[Instance]:
    """The instances a list request selects (every page of it), in its order."""
    key = (
        json.dumps({k: body.get(k) for k in ("instanceType", "sources", "filter", "sort")}, sort_keys=True),
        part.seq,
    )
    cached = part.listings.get(key)
    if cached is not None:
        return cached
    predicate = compile_filter(ctx, body["filter"]) if body.get("filter") is not None else None
    order = sorter(ctx, body.get("sort"))
    sources = [s for s, _ in selection]
    found = [
        i
        for i in list(part.items.values())
        if i.kind == kind
        and all(has_data(i, s, ctx) for s in sources)
        and (predicate is None or predicate(i))
    ]
    found = order(found)
    with part.lock:
        if len(part.listings) >= MAX_LISTINGS:
            part.listings.pop(next(iter(part.listings)))
        part.listings[key] = found
    return found


def offset_page(items: list[Any], limit: int, cursor: Any) -> tuple[list[Any], str | None]:
    start = decode_cursor(cursor) if cursor is not None else 0
    end = start + limit
    return items[start:end], (encode_cursor(end) if end < len(items) else None)


# --- search -------------------------------------------------------------------------------------

_TOKEN = re.compile(r"\w+", re.UNICODE)


def search(
    part: InstancesPart, ctx: Context, source: Source, kind: str, body: dict[str, Any], limit: int
) -> list[Instance]:
    """Each word of ``query`` must prefix a word of one of the searched text properties
    (case-insensitive; with ``operator: OR`` one word suffices), the matches with the most exact
    word hits first; no query lists all."""
    query = body.get("query")
    if query is not None and not isinstance(query, str):
        raise bad_request("query must be a string")
    names = body.get("properties")
    if names is not None and (not isinstance(names, list) or not all(isinstance(n, str) for n in names)):
        raise bad_request("properties must be a list of property names")
    text_props = [
        m
        for n, m in source.properties.items()
        if m.definition["type"].get("type") == "text" and (names is None or n in names)
    ]
    operator = str(body.get("operator", "AND")).upper()
    if operator not in ("AND", "OR"):
        raise bad_request("operator must be 'AND' or 'OR'")
    combine = all if operator == "AND" else any
    predicate = compile_filter(ctx, body["filter"]) if body.get("filter") is not None else None
    words = [w.lower() for w in _TOKEN.findall(query or "")]
    scored: list[tuple[int, int, Instance]] = []
    for n, instance in enumerate(list(part.items.values())):
        if instance.kind != kind or not has_data(instance, source, ctx):
            continue
        if predicate is not None and not predicate(instance):
            continue
        if not words:
            scored.append((0, n, instance))
            continue
        tokens: list[str] = []
        for mapped in text_props:
            value = instance.data.get(mapped.container, {}).get(mapped.identifier)
            for text in value if isinstance(value, list) else [value]:
                if isinstance(text, str):
                    tokens.extend(t.lower() for t in _TOKEN.findall(text))
        if combine(any(t.startswith(w) for t in tokens) for w in words):
            scored.append((-sum(w in tokens for w in words), n, instance))
    scored.sort(key=lambda s: (s[0], s[1]))
    found = [i for _, _, i in scored]
    if body.get("sort") is not None:
        found = sorter(ctx, body["sort"])(found)
    return found[:limit]


# --- aggregate ----------------------------------------------------------------------------------

AGGREGATES = ("count", "avg", "min", "max", "sum", "histogram")


def aggregate(
    part: InstancesPart, ctx: Context, source: Source, kind: str, body: dict[str, Any]
) -> list[dict[str, Any]]:
    specs = body.get("aggregates") or []
    if not isinstance(specs, list) or len(specs) > 5:
        raise bad_request("aggregates must be a list of at most 5 aggregates")
    group_by = body.get("groupBy") or []
    if not isinstance(group_by, list) or not all(
        isinstance(g, str) and g in source.properties for g in group_by
    ):
        raise bad_request("groupBy must name properties of the view")
    found = search(
        part, ctx, source, kind, {k: body[k] for k in ("query", "properties", "filter") if k in body}, 10**9
    )
    groups: dict[str, tuple[dict[str, Any], list[Instance]]] = {}
    for instance in found:
        group = {g: _get(instance, source, g) for g in group_by}
        groups.setdefault(json.dumps(group, sort_keys=True), (group, []))[1].append(instance)
    if not group_by:
        groups = {"": ({}, found)}
    out = []
    for group, members in groups.values():
        item: dict[str, Any] = {
            "instanceType": kind,
            "aggregates": [_one(s, members, source, i) for i, s in enumerate(specs)],
        }
        if group_by:
            item["group"] = group
        out.append(item)
    return out


def _get(instance: Instance, source: Source, name: str) -> Any:
    mapped = source.properties[name]
    return instance.data.get(mapped.container, {}).get(mapped.identifier)


def _one(spec: Any, members: list[Instance], source: Source, index: int) -> dict[str, Any]:
    where = f"aggregates[{index}]"
    if not isinstance(spec, dict) or len(spec) != 1 or next(iter(spec)) not in AGGREGATES:
        raise bad_request(f"{where} must be one of {', '.join(AGGREGATES)}")
    ((name, arg),) = spec.items()
    arg = expect_object(arg, f"{where}.{name}")
    prop = arg.get("property")
    if not isinstance(prop, str) or (
        prop not in source.properties and not (name == "count" and prop == "externalId")
    ):
        raise bad_request(f"{where}.{name}.property must name a property of the view")
    values = (
        [i.external_id for i in members] if prop == "externalId" else [_get(i, source, prop) for i in members]
    )
    present = [v for v in values if v is not None]
    if name == "count":
        return {"aggregate": "count", "property": prop, "value": len(present)}
    numbers = [v for v in present if isinstance(v, int | float) and not isinstance(v, bool)]
    if name == "histogram":
        interval = arg.get("interval")
        if isinstance(interval, bool) or not isinstance(interval, int | float) or interval <= 0:
            raise bad_request(f"{where}.histogram.interval must be a positive number")
        buckets: dict[float, int] = {}
        for v in numbers:
            start = math.floor(v / interval) * interval
            buckets[start] = buckets.get(start, 0) + 1
        return {
            "aggregate": "histogram",
            "property": prop,
            "interval": interval,
            "buckets": [{"start": k, "count": c} for k, c in sorted(buckets.items())],
        }
    result: float | None
    if not numbers:
        result = None
    elif name == "avg":
        result = sum(numbers) / len(numbers)
    elif name == "sum":
        result = sum(numbers)
    else:
        result = min(numbers) if name == "min" else max(numbers)
    out: dict[str, Any] = {"aggregate": name, "property": prop}
    if result is not None:
        out["value"] = result
    return out


def view_source(ctx: Context, body: dict[str, Any]) -> Source:
    return ctx.source(parse_source_ref(body.get("view"), "view"))
