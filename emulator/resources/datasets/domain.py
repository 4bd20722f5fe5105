"""The data sets of one project, kept wire-shaped in a Table."""

from __future__ import annotations

from typing import Any, ClassVar

from emulator.errors import bad_request
from emulator.ids import IdGenerator
from emulator.resources.table import Record, Table
from emulator.validation import get_bool, get_str, get_str_dict, get_time_range, in_range, reject_unknown

CREATE_FIELDS = ("externalId", "name", "description", "metadata", "writeProtected")
UPDATABLE = ("externalId", "name", "description", "metadata", "writeProtected")
FILTER_FIELDS = ("metadata", "createdTime", "lastUpdatedTime", "externalIdPrefix", "writeProtected")
METADATA_LIMITS: dict[str, Any] = {"max_items": 256, "key_max": 128, "value_max": 10240, "total_max": 10240}


class DataSets:
    """A project's data sets."""

    name: ClassVar[str] = "datasets"

    def __init__(self) -> None:
        self.table = Table("Data sets")

    def create(self, items: list[Record], ids: IdGenerator, now: int) -> list[Record]:
        return [wire(r) for r in self.table.create(items, ids, now)]

    def dump(self) -> dict[str, Any]:
        return {"datasets": self.table.dump()}

    def load(self, data: dict[str, Any]) -> None:
        self.table.load(data.get("datasets", []))


def wire(record: Record) -> Record:
    return {"metadata": {}, "writeProtected": False, **record}


def check_fields(item: Record, where: str) -> Record:
    """A data set as created (or as an update leaves it): CDF's field rules."""
    get_str(item, "externalId", where, min_len=1, max_len=255)
    get_str(item, "name", where, min_len=1, max_len=50)
    get_str(item, "description", where, max_len=255)
    get_str_dict(item, "metadata", where, **METADATA_LIMITS)
    get_bool(item, "writeProtected", where)
    return item


def check_updated(record: Record) -> None:
    check_fields(record, "update")


def parse_create(item: Any, where: str) -> Record:
    if not isinstance(item, dict):
        raise bad_request(f"{where} must be an object")
    reject_unknown(item, CREATE_FIELDS, where)
    return check_fields(dict(item), where)


def parse_filter(body: dict[str, Any]) -> Record:
    flt = body.get("filter") or {}
    if not isinstance(flt, dict):
        raise bad_request("filter must be an object")
    reject_unknown(flt, FILTER_FIELDS, "filter")
    get_str_dict(flt, "metadata", "filter", **METADATA_LIMITS)
    get_str(flt, "externalIdPrefix", "filter", max_len=255)
    get_bool(flt, "writeProtected", "filter")
    for name in ("createdTime", "lastUpdatedTime"):
        get_time_range(flt, name, "filter")
    return flt


def matches(record: Record, flt: Record) -> bool:
    metadata = record.get("metadata") or {}
    if any(metadata.get(k) != v for k, v in (flt.get("metadata") or {}).items()):
        return False
    prefix = flt.get("externalIdPrefix")
    xid = record.get("externalId")
    if prefix is not None and (xid is None or not xid.startswith(prefix)):
        return False  # a data set without an externalId matches no prefix, not even ""
    if "writeProtected" in flt and bool(record.get("writeProtected")) != flt["writeProtected"]:
        return False
    for name in ("createdTime", "lastUpdatedTime"):
        bounds = get_time_range(flt, name, "filter")
        if bounds is not None and not in_range(record[name], bounds):
            return False
    return True


PARTS = (DataSets,)
