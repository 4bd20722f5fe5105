"""Time series of one project: wire-shaped metadata records (a Table) and each one's points.

Data-modeling time series (CogniteTimeSeries nodes) get their time series through
:func:`ensure_instance_series`, called by the data-modeling family; after that their points are
inserted and read by ``instanceId`` like any other.
"""

from __future__ import annotations

import threading
from typing import Any, ClassVar

from emulator.errors import bad_request, not_found
from emulator.ids import IdGenerator
from emulator.resources.table import Record, Table
from emulator.resources.timeseries.series import Series

InstanceKey = tuple[str, str]  # (space, externalId)


class TimeSeriesPart:
    """The ``timeseries`` StatePart: metadata and points of every time series of a project."""

    name: ClassVar[str] = "timeseries"

    def __init__(self) -> None:
        self.table = Table("Time series")
        self.lock = threading.RLock()  # guards points and the instance index, with the table's
        self.points: dict[int, Series] = {}
        self.by_instance: dict[InstanceKey, int] = {}

    # --- lookups ----------------------------------------------------------------------------------
    def find(self, key: tuple[str, Any]) -> Record | None:
        """``("id", n)``, ``("externalId", s)`` or ``("instanceId", (space, xid))``."""
        if key[0] == "instanceId":
            found = self.by_instance.get(key[1])
            return self.table.by_id.get(found) if found is not None else None
        return self.table.get(key)

    def resolve(self, keys: list[tuple[str, Any]], *, ignore_unknown: bool) -> list[Record | None]:
        """The record of each key, in order (None for unknown keys when ``ignore_unknown``);
        otherwise 400 with every unknown key in ``missing``."""
        found = [self.find(key) for key in keys]
        missing = [wire_key(key) for key, record in zip(keys, found, strict=True) if record is None]
        if missing and not ignore_unknown:
            raise not_found(missing, "Time series not found")
        return found

    def series_of(self, record: Record) -> Series:
        series = self.points.get(record["id"])
        if series is None:
            with self.lock:
                series = self.points.setdefault(record["id"], Series(bool(record["isString"])))
        return series

    # --- writing ----------------------------------------------------------------------------------
    def create(self, items: list[Record], ids: IdGenerator, now: int) -> list[Record]:
        with self.lock:
            made = self.table.create(items, ids, now)
            for record in made:
                self.points[record["id"]] = Series(bool(record["isString"]))
            return made

    def delete(self, records: list[Record]) -> None:
        with self.lock:
            for record in records:
                self.table.remove(record["id"])
                self.points.pop(record["id"], None)
                instance = record.get("instanceId")
                if instance is not None:
                    self.by_instance.pop((instance["space"], instance["externalId"]), None)

    # --- state files ------------------------------------------------------------------------------
    def dump(self) -> dict[str, Any]:
        with self.lock:
            return {
                "timeSeries": self.table.dump(),
                "points": {str(k): v.dump() for k, v in self.points.items() if len(v)},
            }

    def load(self, data: dict[str, Any]) -> None:
        with self.lock:
            self.table.load(data.get("timeSeries", []))
            for record in self.table.records():
                stored = data.get("points", {}).get(str(record["id"]))
                is_string = bool(record.get("isString"))
                self.points[record["id"]] = Series.load(is_string, stored) if stored else Series(is_string)
                instance = record.get("instanceId")
                if instance is not None:
                    self.by_instance[(instance["space"], instance["externalId"])] = record["id"]


def ensure_instance_series(
    part: TimeSeriesPart,
    instance_id: InstanceKey,
    *,
    is_string: bool,
    is_step: bool,
    now: int,
    ids: IdGenerator,
    unit_external_id: str | None = None,
) -> Record:
    """The time series behind a CogniteTimeSeries node ``(space, externalId)``, made on first call.

    Called by the data-modeling family when such a node is written: a later call updates
    ``isStep`` and ``unitExternalId`` (the node's properties) and keeps the points; a node whose
    type changes between numeric and string is refused (CDF does not allow it either). The record
    has no ``externalId``, as CDF's do not; points are inserted and read with ``instanceId``.
    """
    with part.lock:
        found = part.find(("instanceId", instance_id))
        if found is not None:
            if bool(found["isString"]) != is_string:
                raise bad_request("The type of a time series (numeric or string) cannot change")
            updated = dict(found, isStep=is_step, lastUpdatedTime=now)
            if unit_external_id is not None:
                updated["unitExternalId"] = unit_external_id
            else:
                updated.pop("unitExternalId", None)
            with part.table.lock:
                part.table.by_id[found["id"]] = updated
            return updated
        space, external_id = instance_id
        item: Record = {
            "instanceId": {"space": space, "externalId": external_id},
            "isString": is_string,
            "isStep": is_step,
            "type": "string" if is_string else "numeric",
            "metadata": {},
            "securityCategories": [],
        }
        if unit_external_id is not None:
            item["unitExternalId"] = unit_external_id
        (record,) = part.create([item], ids, now)
        part.by_instance[instance_id] = record["id"]
        return record


def remove_instance_series(part: TimeSeriesPart, instance_id: InstanceKey) -> None:
    """Forget the time series of a deleted CogniteTimeSeries node, and its points."""
    with part.lock:
        found = part.find(("instanceId", instance_id))
        if found is not None:
            part.delete([found])


def wire_key(key: tuple[str, Any]) -> dict[str, Any]:
    if key[0] == "instanceId":
        return {"instanceId": {"space": key[1][0], "externalId": key[1][1]}}
    return {key[0]: key[1]}


PARTS = (TimeSeriesPart,)
