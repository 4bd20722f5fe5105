"""Events: wire-shaped records in a ``Table``; time-range, asset and subtree filters."""

from __future__ import annotations

from typing import Any, ClassVar

from emulator.errors import bad_request
from emulator.resources.assets.domain import Assets
from emulator.resources.classic import Predicate, all_of, common_predicates, field_in_range, shares_any
from emulator.resources.table import Record, Table

UPDATABLE = (
    "externalId", "dataSetId", "startTime", "endTime", "description", "metadata", "assetIds",
    "source", "type", "subtype",
)  # fmt: skip

CREATE_FIELDS = UPDATABLE


class Events:
    """The events of one project."""

    name: ClassVar[str] = "events"

    def __init__(self) -> None:
        self.table = Table("Events")

    def dump(self) -> dict[str, Any]:
        return {"events": self.table.dump()}

    def load(self, data: dict[str, Any]) -> None:
        self.table.load(data.get("events", []))


PARTS = (Events,)


def check_times(record: Record) -> None:
    """An event may not end before it starts (CDF refuses it)."""
    start, end = record.get("startTime"), record.get("endTime")
    if start is not None and end is not None and end < start:
        raise bad_request(
            f"Event {record.get('externalId') or record.get('id')}: endTime is before startTime"
        )


def _active(record: Record, bounds: dict[str, Any]) -> bool:
    """Active from startTime to endTime inclusive; without endTime, from startTime on."""
    start, end = record.get("startTime"), record.get("endTime")
    if start is None:
        return False
    low, high = bounds.get("min"), bounds.get("max")
    return (high is None or start <= high) and (low is None or end is None or end >= low)


def predicate(flt: dict[str, Any], assets: Assets) -> Predicate:
    """An event filter (the official ``EventFilter``) as a test on wire records."""
    checks = common_predicates(flt)
    if "endTime" in flt:
        bounds = flt["endTime"]
        if "isNull" in bounds:
            null: bool = bounds["isNull"]
            checks.append(lambda r: (r.get("endTime") is None) is null)
        else:
            checks.append(field_in_range("endTime", bounds))
    if "activeAtTime" in flt:
        active: dict[str, Any] = flt["activeAtTime"]
        checks.append(lambda r: _active(r, active))
    wanted: set[int] | None = None
    if "assetIds" in flt:
        wanted = set(flt["assetIds"])
    if "assetExternalIds" in flt:
        wanted = (wanted or set()) | assets.ids_of_external(flt["assetExternalIds"])
    if wanted is not None:
        checks.append(shares_any("assetIds", wanted))
    if "assetSubtreeIds" in flt:
        checks.append(shares_any("assetIds", assets.subtree_ids(flt["assetSubtreeIds"])))
    return all_of(checks)
