"""What the classic resource families (files, assets, events, ...) share on top of ``Table``.

Request bodies are read once, refused if they carry NaN/Infinity (JSON that CDF's parser rejects)
and checked against the official schema of their operation; query strings of the GET list
operations are parsed from the official parameter schemas, so every family refuses the same
malformed input the same way. Filters, search and aggregates work on wire-shaped records.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable
from typing import Any

from starlette.requests import Request

from emulator.errors import bad_request
from emulator.resources.paging import decode_cursor, encode_cursor
from emulator.resources.table import Record, cursor_page, partition
from emulator.spec import check_request, full_spec, operation
from emulator.validation import get_limit, read_json

Predicate = Callable[[Record], bool]


def reject_non_finite(value: Any, where: str = "Request body") -> None:
    """400 for NaN, Infinity or an integer beyond 64 bits anywhere in a parsed JSON value."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, float) and not math.isfinite(item):
            raise bad_request(f"{where}: NaN and Infinity are not valid JSON numbers")
        if isinstance(item, int) and not -(2**63) <= item < 2**63:  # CDF's numbers are 64-bit
            raise bad_request(f"{where}: {str(item)[:30]} does not fit in a 64-bit integer")
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


async def read_request(request: Request, operation_id: str, *, loose: tuple[str, ...] = ()) -> dict[str, Any]:
    """The JSON body of ``operation_id``, checked against its official request schema.

    ``loose`` names top-level objects whose null members mean "not given": the SDK sends
    ``{"search": {"name": "x", "description": null}}`` and CDF accepts it.
    """
    body = await read_json(request)
    reject_non_finite(body)
    if isinstance(body, dict) and "cursor" in body and body["cursor"] is None:
        del body["cursor"]  # the SDK's first page of a partitioned read says cursor: null
    for key in loose:
        if isinstance(body, dict) and isinstance(body.get(key), dict):
            body[key] = {k: v for k, v in body[key].items() if v is not None}
    check_request(operation_id, body)
    if not isinstance(body, dict):
        raise bad_request("Request body must be a JSON object")
    return body


# --- query strings ------------------------------------------------------------------------------


def _deref(node: Any) -> Any:
    root = full_spec()
    while isinstance(node, dict) and "$ref" in node:
        found: Any = root
        for part in node["$ref"].split("/")[1:]:
            found = found[part]
        node = found
    return node


def _query_value(name: str, raw: list[str], schema: dict[str, Any]) -> Any:
    kind, fmt = schema.get("type"), str(schema.get("format", ""))
    if kind == "array":
        return raw
    text = raw[-1]
    if kind == "integer":
        try:
            value = int(text)
        except ValueError:
            raise bad_request(f"{name} must be an integer, got {text[:40]!r}") from None
        bits = {"int32": 31, "int64": 63}.get(fmt, 63)  # the format bounds what the spec leaves open
        low, high = schema.get("minimum", -(2**bits)), schema.get("maximum", 2**bits - 1)
        if (low is not None and value < low) or (high is not None and value > high):
            raise bad_request(f"{name} must be between {low} and {high}, got {value}")
        return value
    if kind == "boolean":
        if text.lower() not in ("true", "false"):
            raise bad_request(f"{name} must be true or false, got {text[:40]!r}")
        return text.lower() == "true"
    if fmt.startswith("jsonArray("):
        try:
            value = json.loads(text)
        except ValueError:
            raise bad_request(f"{name} must be a JSON array, got {text[:40]!r}") from None
        want: type = int if "int" in fmt else str
        if not isinstance(value, list) or not all(
            isinstance(v, want) and not isinstance(v, bool) for v in value
        ):
            raise bad_request(f"{name} must be a JSON array of {want.__name__}s")
        return value
    if len(text) > schema.get("maxLength", 10**6) or len(text) < schema.get("minLength", 0):
        raise bad_request(f"{name} has the wrong length")
    return text


def query_of(request: Request, operation_id: str) -> dict[str, Any]:
    """The query parameters of a GET operation, parsed and checked from its official declaration."""
    declared = {}
    for param in operation(operation_id).get("parameters", []):
        param = _deref(param)
        if param.get("in") == "query":
            declared[param["name"]] = _deref(param.get("schema", {}))
    out: dict[str, Any] = {}
    for name in request.query_params:
        if name not in declared:
            continue  # CDF ignores unknown query parameters
        out[name] = _query_value(name, request.query_params.getlist(name), declared[name])
    return out


def ranges_from_query(query: dict[str, Any], names: Iterable[str]) -> dict[str, Any]:
    """``minCreatedTime``/``maxCreatedTime`` query parameters as a body filter's ``createdTime``."""
    out: dict[str, Any] = {}
    for name in names:
        upper = name[0].upper() + name[1:]
        bounds = {k: query[f"{k}{upper}"] for k in ("min", "max") if f"{k}{upper}" in query}
        if bounds:
            out[name] = bounds
    return out


# --- filters ------------------------------------------------------------------------------------


def in_range(value: Any, bounds: dict[str, Any] | None) -> bool:
    """``{"min", "max"}``, both inclusive; a missing value is never in a range."""
    if bounds is None:
        return True
    if not isinstance(value, int):
        return False
    low, high = bounds.get("min"), bounds.get("max")
    return (low is None or value >= low) and (high is None or value <= high)


def labels_match(record: Record, wanted: dict[str, Any]) -> bool:
    have = {label.get("externalId") for label in record.get("labels") or []}
    if "containsAny" in wanted:
        return any(label.get("externalId") in have for label in wanted["containsAny"])
    return all(label.get("externalId") in have for label in wanted.get("containsAll", []))


def data_set_ids(items: list[dict[str, Any]]) -> set[int]:
    """Data sets named in a filter; by externalId they are not known to this family (400)."""
    found = set()
    for item in items:
        if "id" not in item:
            raise bad_request("Filtering by data set externalId is not supported by the emulator: use ids")
        found.add(item["id"])
    return found


def field_equals(field: str, value: Any) -> Predicate:
    return lambda record: record.get(field) == value


def field_in(field: str, values: set[Any]) -> Predicate:
    return lambda record: record.get(field) in values


def field_in_range(field: str, bounds: dict[str, Any]) -> Predicate:
    return lambda record: in_range(record.get(field), bounds)


def shares_any(field: str, ids: set[int]) -> Predicate:
    """The record's list ``field`` (assetIds, ...) has at least one of ``ids``."""
    return lambda record: bool(ids.intersection(record.get(field) or ()))


def common_predicates(flt: dict[str, Any]) -> list[Predicate]:
    """Predicates for the filter fields every classic resource has (name, metadata, times, ...)."""
    checks: list[Predicate] = []
    for field in ("name", "source", "type", "subtype", "mimeType"):
        if field in flt:
            checks.append(field_equals(field, flt[field]))
    if "metadata" in flt:
        wanted = flt["metadata"]
        checks.append(lambda r: all((r.get("metadata") or {}).get(k) == v for k, v in wanted.items()))
    if "externalIdPrefix" in flt:
        prefix = flt["externalIdPrefix"]
        checks.append(lambda r: str(r.get("externalId") or "\0").startswith(prefix))
    times = (
        "createdTime",
        "lastUpdatedTime",
        "startTime",
        "uploadedTime",
        "sourceCreatedTime",
        "sourceModifiedTime",
    )
    for field in times:
        if field in flt:
            checks.append(field_in_range(field, flt[field]))
    if "dataSetIds" in flt:
        checks.append(field_in("dataSetId", data_set_ids(flt["dataSetIds"])))
    if "labels" in flt:
        wanted_labels = flt["labels"]
        checks.append(lambda r: labels_match(r, wanted_labels))
    return checks


def all_of(checks: list[Predicate]) -> Predicate:
    return lambda record: all(check(record) for check in checks)


# --- paging, search, aggregates -----------------------------------------------------------------


def list_page(records: Iterable[Record], body: dict[str, Any], *, maximum: int = 1000) -> dict[str, Any]:
    """``{"items", "nextCursor"?}`` from ``limit``, ``cursor``, ``partition`` and ``sort`` of a body.

    Without ``sort`` records come by id and the cursor is the last id (stable while others are
    added); with ``sort`` the cursor is a position in the sorted result.
    """
    limit = get_limit(body, maximum=maximum)
    spec = body.get("partition")
    if isinstance(spec, str) and spec.partition("/")[2].isdigit() and int(spec.partition("/")[2]) > 10:
        raise bad_request("partition: at most 10 partitions (m/n with n <= 10)")
    chosen = list(partition(records, spec))
    if body.get("sort"):
        if body.get("partition") is not None:
            raise bad_request("sort cannot be combined with partition")
        ordered = sort_records(chosen, body["sort"])
        start = decode_cursor(body["cursor"]) if body.get("cursor") is not None else 0
        chunk = ordered[start : start + limit]
        more = start + limit < len(ordered)
        cursor = encode_cursor(start + limit) if more else None
    else:
        chunk, cursor = cursor_page(chosen, limit, body.get("cursor"))
    out: dict[str, Any] = {"items": chunk}
    if cursor is not None:
        out["nextCursor"] = cursor
    return out


def sort_records(records: list[Record], sort: list[Any]) -> list[Record]:
    """Records ordered by ``[{"property": [...], "order": "asc"|"desc", "nulls": ...}]``, then id."""
    ordered = sorted(records, key=lambda r: r["id"])
    for spec in reversed(sort):
        if isinstance(spec, str):  # the deprecated form: "startTime:desc"
            prop, _, order = spec.partition(":")
            spec = {"property": [prop], "order": order or "asc"}
        path = spec.get("property") if isinstance(spec, dict) else None
        if not isinstance(path, list) or not path:
            raise bad_request("sort items need a property path")
        descending = spec.get("order") == "desc"
        nulls_last = spec.get("nulls", "last" if not descending else "first") == "last"

        def key(record: Record, path: list[Any] = path) -> tuple[int, str, Any]:
            value: Any = record
            for step in path:
                value = value.get(step) if isinstance(value, dict) else None
            if value is None:
                return (1, "", 0)
            return (0, type(value).__name__, value)

        present = [r for r in ordered if key(r)[0] == 0]
        absent = [r for r in ordered if key(r)[0] == 1]
        present.sort(key=lambda r: key(r)[1:], reverse=descending)
        ordered = present + absent if nulls_last else absent + present
    return ordered


def _tokens(text: str) -> list[str]:
    return [t for t in "".join(c.lower() if c.isalnum() else " " for c in text).split() if t]


def search_score(record: Record, queries: dict[str, str]) -> float:
    """How well a record matches free-text queries by field: 0 is no match.

    CDF's search is fuzzy and its ranking unspecified; here every query word that is a prefix of a
    word of the field counts, an exact (case-insensitive) match of the whole field counts more.
    """
    score = 0.0
    for field, query in queries.items():
        words = _tokens(str(record.get(field) or ""))
        wanted = _tokens(query)
        if not wanted:
            continue
        hits = sum(1 for w in wanted if any(word.startswith(w) for word in words))
        if hits:
            score += hits / len(wanted)
            if str(record.get(field) or "").lower() == query.lower():
                score += 1.0
    return score


def search(records: Iterable[Record], queries: dict[str, str], limit: int) -> list[Record]:
    """Records matching every given query field's words in part, best first, then by id."""
    queries = {k: v for k, v in queries.items() if isinstance(v, str) and v}
    if not queries:
        return sorted(records, key=lambda r: r["id"])[:limit]
    scored = [(search_score(r, queries), r) for r in records]
    hits = [(s, r) for s, r in scored if s > 0]
    hits.sort(key=lambda pair: (-pair[0], pair[1]["id"]))
    return [r for _, r in hits[:limit]]
