"""The classic ``filter`` and ``search`` objects of time series list, search and aggregate."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from emulator.errors import bad_request
from emulator.resources.table import Record
from emulator.resources.units import catalog
from emulator.spec import check_schema
from emulator.validation import (
    expect_object,
    get_bool,
    get_str,
    get_str_dict,
    get_time_range,
    in_range,
    parse_identifier,
    reject_unknown,
)

FILTER_FIELDS = (
    "name", "unit", "unitExternalId", "unitQuantity", "isString", "isStep", "metadata", "assetIds",
    "assetExternalIds", "rootAssetIds", "assetSubtreeIds", "dataSetIds", "externalIdPrefix",
    "createdTime", "lastUpdatedTime",
)  # fmt: skip

Predicate = Callable[[Record], bool]


def _id_list(obj: dict[str, Any], key: str, where: str) -> list[Any] | None:
    value = obj.get(key)
    if value is None:
        if key in obj:
            raise bad_request(f"{where}.{key} must not be null")
        return None
    if not isinstance(value, list) or not 1 <= len(value) <= 100:
        raise bad_request(f"{where}.{key} must be an array of 1 to 100 items")
    if len({repr(v) for v in value}) != len(value):
        raise bad_request(f"{where}.{key} must not repeat an item")
    return value


def _equals(name: str, wanted: Any) -> Predicate:
    return lambda record: record.get(name) == wanted


def _flag(name: str, wanted: bool) -> Predicate:
    return lambda record: bool(record.get(name)) == wanted


def _within(name: str, bounds: tuple[int | None, int | None]) -> Predicate:
    return lambda record: in_range(record.get(name), bounds)


def parse_filter(raw: Any, where: str = "filter") -> Predicate:
    """A predicate over wire records from a classic time series filter object."""
    if raw is None:
        return lambda record: True
    obj = expect_object(raw, where)
    reject_unknown(obj, FILTER_FIELDS, where)
    check_schema("Filter", obj, where)  # the official schema: lengths, item shapes, uniqueness
    checks: list[Predicate] = []
    for name in ("name", "unit", "unitExternalId"):
        wanted = get_str(obj, name, where, max_len=255)
        if wanted is not None:
            checks.append(_equals(name, wanted))
    quantity = get_str(obj, "unitQuantity", where)
    if quantity is not None:
        checks.append(
            lambda r: (catalog.unit(r.get("unitExternalId") or "") or {}).get("quantity") == quantity
        )
    for name in ("isString", "isStep"):
        if name in obj:
            checks.append(_flag(name, get_bool(obj, name, where)))
    metadata = get_str_dict(obj, "metadata", where)
    if metadata is not None:
        checks.append(lambda r: all((r.get("metadata") or {}).get(k) == v for k, v in metadata.items()))
    asset_ids = _id_list(obj, "assetIds", where)
    if asset_ids is not None:
        wanted_assets = set(asset_ids)
        checks.append(lambda r: r.get("assetId") in wanted_assets)
    for name in ("assetExternalIds", "rootAssetIds", "assetSubtreeIds"):
        if _id_list(obj, name, where) is not None:
            # The emulator has no asset hierarchy yet: no time series is under an unknown asset.
            checks.append(lambda r: False)
    data_sets = _id_list(obj, "dataSetIds", where)
    if data_sets is not None:
        keys = [parse_identifier(d, f"{where}.dataSetIds[{i}]") for i, d in enumerate(data_sets)]
        ids = {value for kind, value in keys if kind == "id"}
        checks.append(lambda r: r.get("dataSetId") in ids)
    prefix = get_str(obj, "externalIdPrefix", where, max_len=255)
    if prefix is not None:
        checks.append(lambda r: str(r.get("externalId") or "").startswith(prefix) and "externalId" in r)
    for name in ("createdTime", "lastUpdatedTime"):
        bounds = get_time_range(obj, name, where)
        if bounds is not None:
            checks.append(_within(name, bounds))
    return lambda record: all(check(record) for check in checks)


def parse_search(raw: Any) -> Callable[[Record], int]:
    """A relevance score from a ``search`` object (0: no match): case-insensitive matching of
    each term of ``name``/``description``/``query`` in the record's name and description."""
    if raw is None:
        return lambda record: 1
    # The SDK sends the fields it was not given as null.
    obj = {k: v for k, v in expect_object(raw, "search").items() if v is not None}
    reject_unknown(obj, ("name", "description", "query"), "search")
    name = (get_str(obj, "name", "search") or "").lower().split()
    description = (get_str(obj, "description", "search") or "").lower().split()
    query = (get_str(obj, "query", "search") or "").lower().split()

    def score(record: Record) -> int:
        rec_name = str(record.get("name") or "").lower()
        rec_desc = str(record.get("description") or "").lower()
        if name and not any(term in rec_name for term in name):
            return 0
        if description and not any(term in rec_desc for term in description):
            return 0
        hits = sum(term in rec_name or term in rec_desc for term in query)
        if query and not hits:
            return 0
        return 1 + hits

    return score
