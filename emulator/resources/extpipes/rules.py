"""Field rules and filters of extraction pipelines and runs beyond what the spec's schema checks."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from emulator.errors import bad_request, not_found
from emulator.resources.common import part_of
from emulator.resources.datasets.domain import DataSets
from emulator.resources.table import Record
from emulator.validation import (
    check_id,
    expect_object,
    get_str,
    get_str_dict,
    get_time_range,
    in_range,
    parse_identifier,
    reject_unknown,
)

FIELDS = (
    "externalId", "name", "description", "dataSetId", "rawTables", "schedule", "contacts", "metadata",
    "source", "documentation", "notificationConfig", "createdBy",
)  # fmt: skip
UPDATABLE = FIELDS  # every field a pipeline is created with; the last* fields follow runs only
FILTER_FIELDS = (
    "externalIdPrefix", "name", "description", "dataSetIds", "schedule", "contacts", "rawTables",
    "metadata", "source", "documentation", "createdTime", "lastUpdatedTime", "createdBy",
)  # fmt: skip


def _data_set_exists(request: Request, data_set_id: Any, where: str) -> None:
    check_id(data_set_id, where)
    if part_of(request, DataSets).table.get(("id", data_set_id)) is None:
        raise not_found([{"id": data_set_id}], "Data set not found")


def check_pipeline(request: Request, item: Any, where: str) -> None:
    """A pipeline as created or as an update leaves it: known fields, its data set exists."""
    obj = expect_object(item, where)
    reject_unknown(obj, FIELDS, where)
    get_str(obj, "externalId", where, required=True, min_len=1, max_len=255)
    get_str(obj, "name", where, required=True, min_len=1, max_len=140)
    get_str(obj, "description", where, max_len=500)
    get_str(obj, "source", where, max_len=255)
    get_str(obj, "documentation", where, max_len=10000)
    get_str(obj, "createdBy", where, max_len=255)
    get_str_dict(obj, "metadata", where, max_items=256, key_max=128, value_max=10240, total_max=10240)
    if "dataSetId" not in obj:
        raise bad_request(f"Missing required field: {where}.dataSetId")
    _data_set_exists(request, obj["dataSetId"], f"{where}.dataSetId")


def check_updated(request: Request, record: Record) -> None:
    fields = {k: v for k, v in record.items() if k in FIELDS}
    check_pipeline(request, fields, "update")


def parse_filter(request: Request, body: dict[str, Any]) -> Record:
    flt = dict(expect_object(body.get("filter", {}), "filter"))
    reject_unknown(flt, FILTER_FIELDS, "filter")
    if "dataSetIds" in flt:
        ids = []
        for i, item in enumerate(flt["dataSetIds"]):
            kind, value = parse_identifier(item, f"filter.dataSetIds[{i}]")
            record = part_of(request, DataSets).table.get((kind, value))
            ids.append(record["id"] if record is not None else None)
        flt["dataSetIds"] = {i for i in ids if i is not None}
    for name in ("createdTime", "lastUpdatedTime"):
        flt[name] = get_time_range(flt, name, "filter")
    return flt


def _contains(have: Any, wanted: Any) -> bool:
    return all(item in (have or []) for item in wanted)


def matches(record: Record, flt: Record) -> bool:
    prefix = flt.get("externalIdPrefix")
    if prefix is not None and not str(record["externalId"]).startswith(prefix):
        return False
    for name in ("name", "description", "schedule", "source", "documentation", "createdBy"):
        if name in flt and record.get(name) != flt[name]:
            return False
    if "dataSetIds" in flt and record["dataSetId"] not in flt["dataSetIds"]:
        return False
    metadata = record.get("metadata") or {}
    if any(metadata.get(k) != v for k, v in (flt.get("metadata") or {}).items()):
        return False
    for name in ("contacts", "rawTables"):
        if name in flt and not _contains(record.get(name), flt[name]):
            return False
    return in_range(record["createdTime"], flt["createdTime"]) and in_range(
        record["lastUpdatedTime"], flt["lastUpdatedTime"]
    )


def parse_run_filter(body: dict[str, Any]) -> Record:
    flt = dict(expect_object(body.get("filter"), "filter"))
    reject_unknown(flt, ("externalId", "statuses", "createdTime", "message"), "filter")
    get_str(flt, "externalId", "filter", required=True, min_len=1, max_len=255)
    flt["createdTime"] = get_time_range(flt, "createdTime", "filter")
    return flt


def run_matches(run: Record, flt: Record) -> bool:
    statuses = flt.get("statuses")
    if statuses and run["status"] not in statuses:
        return False
    substring = (flt.get("message") or {}).get("substring")
    if substring and substring not in (run.get("message") or ""):
        return False
    return in_range(run["createdTime"], flt["createdTime"])
