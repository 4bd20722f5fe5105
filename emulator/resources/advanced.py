"""CDF's advanced filters (``advancedFilter``) and the aggregates built on them, on wire records.

The classic families (assets, events, files, ...) share one filter language: boolean ``and``,
``or``, ``not`` over leaf filters naming a property by path (``["name"]``,
``["metadata", "key"]``). The SDK's ``filter()`` and ``aggregate_*`` methods send it; the shapes
are checked by the official schema before they get here.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from emulator.errors import bad_request
from emulator.resources.classic import Predicate
from emulator.resources.table import Record

_MISSING = object()


def value_at(record: Record, path: list[Any]) -> Any:
    """The value of a property path, or _MISSING; labels compare by their externalIds."""
    current: Any = record
    for step in path:
        if not isinstance(current, dict) or step not in current:
            return _MISSING
        current = current[step]
    if path == ["labels"] and isinstance(current, list):
        return [label.get("externalId") for label in current if isinstance(label, dict)]
    return current


def _plain(value: Any) -> Any:
    return value.get("externalId") if isinstance(value, dict) and "externalId" in value else value


def _leaf(kind: str, spec: dict[str, Any]) -> Predicate:
    path = spec.get("property")
    if not isinstance(path, list) or not path:
        raise bad_request(f"{kind}.property must be a non-empty list")
    if kind == "equals":
        return lambda r: value_at(r, path) == spec.get("value")
    if kind == "in":
        values = spec.get("values") or []
        return lambda r: value_at(r, path) in values
    if kind == "prefix":
        prefix = spec.get("value")
        return lambda r: (
            isinstance(v := value_at(r, path), str) and isinstance(prefix, str) and v.startswith(prefix)
        )
    if kind == "exists":
        return lambda r: value_at(r, path) not in (_MISSING, None)
    if kind == "range":
        return lambda r: _in_range(value_at(r, path), spec)
    if kind in ("containsAny", "containsAll"):
        wanted = [_plain(v) for v in spec.get("values") or []]
        test = any if kind == "containsAny" else all

        def contains(record: Record) -> bool:
            have = value_at(record, path)
            have = have if isinstance(have, list) else [have]
            return test(w in have for w in wanted)

        return contains
    if kind == "search":
        words = str(spec.get("value") or "").lower().split()
        return lambda r: isinstance(v := value_at(r, path), str) and any(w in v.lower() for w in words)
    raise bad_request(f"advancedFilter: {kind!r} is not supported by the emulator")


def _in_range(value: Any, spec: dict[str, Any]) -> bool:
    if value is _MISSING or value is None or isinstance(value, (dict, list, bool)):
        return False
    try:
        return all(
            {"gt": value > bound, "gte": value >= bound, "lt": value < bound, "lte": value <= bound}[op]
            for op, bound in spec.items()
            if op in ("gt", "gte", "lt", "lte")
        )
    except TypeError:  # a string compared with a number: not in range
        return False


def compile_filter(flt: Any) -> Predicate:
    """An advanced filter as a test on wire records (400 for what the emulator does not know)."""
    if not isinstance(flt, dict) or len(flt) != 1:
        raise bad_request("advancedFilter must be an object with exactly one operator")
    ((kind, spec),) = flt.items()
    if kind in ("and", "or"):
        if not isinstance(spec, list):
            raise bad_request(f"advancedFilter.{kind} must be a list of filters")
        parts = [compile_filter(f) for f in spec]
        test = all if kind == "and" else any
        return lambda r: test(p(r) for p in parts)
    if kind == "not":
        inner = compile_filter(spec)
        return lambda r: not inner(r)
    if not isinstance(spec, dict):
        raise bad_request(f"advancedFilter.{kind} must be an object")
    return _leaf(kind, spec)


# --- aggregates ---------------------------------------------------------------------------------


def _hashable(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


def aggregate(records: list[Record], body: dict[str, Any]) -> list[dict[str, Any]]:
    """The ``items`` of an ``/aggregate`` answer: count, cardinality and unique values/properties."""
    kind = body.get("aggregate", "count")
    props = body.get("properties") or []
    path = props[0].get("property") if props and isinstance(props[0], dict) else None
    if kind == "count":
        if path is None:
            return [{"count": len(records)}]
        return [{"count": sum(1 for r in records if value_at(r, path) not in (_MISSING, None))}]
    if path is None:
        raise bad_request(f"aggregate {kind!r} needs properties: [{{property: [...]}}]")
    if kind in ("uniqueProperties", "cardinalityProperties"):
        keys: Counter[str] = Counter()
        for record in records:
            found = value_at(record, path)
            if isinstance(found, dict):
                keys.update(found.keys())
        if kind == "cardinalityProperties":
            return [{"count": len(keys)}]
        return [{"count": n, "values": [{"property": [*path, k]}]} for k, n in keys.most_common()]
    if kind in ("uniqueValues", "cardinalityValues"):
        values: Counter[Any] = Counter()
        for record in records:
            found = value_at(record, path)
            if found is _MISSING or found is None:
                continue
            values.update(found if isinstance(found, list) else [_hashable(found)])
        if kind == "cardinalityValues":
            return [{"count": len(values)}]
        limit = body.get("limit") or 10
        return [{"count": n, "values": [v]} for v, n in values.most_common(limit)]
    raise bad_request(f"aggregate {kind!r} is not supported by the emulator")
