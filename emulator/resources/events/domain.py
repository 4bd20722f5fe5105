"""Events: wire-shaped records in a ``Table``; time-range, asset and subtree filters."""

from __future__ import annotations

from typing import Any, ClassVar

from emulator.errors import bad_request
from emulator.resources.assets.domain import Assets
from emulator.resources.classic import Predicate, all_of, common_predicates, in_range
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
            checks.append(lambda r, null=bounds["isNull"]: (r.get("endTime") is None) is null)
        else:
            checks.append(lambda r: in_range(r.get("endTime"), bounds))
    if "activeAtTime" in flt:
        checks.append(lambda r, b=flt["activeAtTime"]: _active(r, b))
    wanted: set[int] | None = None
    if "assetIds" in flt:
        wanted = set(flt["assetIds"])
    if "assetExternalIds" in flt:
        wanted = (wanted or set()) | assets.ids_of_external(flt["assetExternalIds"])
    if wanted is not None:
        checks.append(lambda r, w=wanted: bool(w.intersection(r.get("assetIds") or ())))
    if "assetSubtreeIds" in flt:
        subtree = assets.subtree_ids(flt["assetSubtreeIds"])
        checks.append(lambda r: bool(subtree.intersection(r.get("assetIds") or ())))
    return all_of(checks)
