"""The nodes and edges of one project, with a change sequence for sync cursors.

An instance keeps its property values per container (``data[(space, container)][property]``), as
CDF stores them; views are projections computed on read. Every write bumps the part's sequence
number and stamps the instance with it, so a sync cursor ("changes after sequence N") is exact.
Deleted instances stay as tombstones (with ``deleted`` set) so a sync reports their deletion.
"""

from __future__ import annotations

import copy
import threading
from dataclasses import dataclass, field
from typing import Any, ClassVar

ContainerKey = tuple[str, str]
InstanceKey = tuple[str, str, str]  # (instanceType, space, externalId)
MAX_TOMBSTONES = 100_000


@dataclass(slots=True)
class Instance:
    kind: str  # "node" or "edge"
    space: str
    external_id: str
    version: int
    created: int
    updated: int
    seq: int
    type: dict[str, str] | None = None
    start: dict[str, str] | None = None
    end: dict[str, str] | None = None
    data: dict[ContainerKey, dict[str, Any]] = field(default_factory=dict)
    deleted: int | None = None

    @property
    def key(self) -> InstanceKey:
        return (self.kind, self.space, self.external_id)

    def ref(self) -> dict[str, str]:
        return {"space": self.space, "externalId": self.external_id}

    def dump(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "space": self.space,
            "externalId": self.external_id,
            "version": self.version,
            "created": self.created,
            "updated": self.updated,
            "seq": self.seq,
            "type": self.type,
            "start": self.start,
            "end": self.end,
            "data": [[s, c, values] for (s, c), values in self.data.items()],
            "deleted": self.deleted,
        }

    @classmethod
    def load(cls, raw: dict[str, Any]) -> Instance:
        return cls(
            kind=raw["kind"],
            space=raw["space"],
            external_id=raw["externalId"],
            version=raw["version"],
            created=raw["created"],
            updated=raw["updated"],
            seq=raw["seq"],
            type=raw.get("type"),
            start=raw.get("start"),
            end=raw.get("end"),
            data={(s, c): dict(values) for s, c, values in raw.get("data", [])},
            deleted=raw.get("deleted"),
        )


class InstancesPart:
    """Nodes, edges and tombstones of one project (a ``StatePart``)."""

    name: ClassVar[str] = "datamodeling.instances"

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.items: dict[InstanceKey, Instance] = {}
        self.tombstones: dict[InstanceKey, Instance] = {}
        self.seq = 0
        # Matching instances of recent list requests, by request and sequence (pages of one
        # listing reuse them instead of filtering everything again for every page).
        self.listings: dict[tuple[str, int], list[Instance]] = {}

    def next_seq(self) -> int:
        self.seq += 1
        return self.seq

    def get(self, kind: str, space: str, external_id: str) -> Instance | None:
        return self.items.get((kind, space, external_id))

    def nodes_exist(self, refs: list[dict[str, str]]) -> list[dict[str, str]]:
        """The refs that name no node."""
        return [r for r in refs if ("node", r["space"], r["externalId"]) not in self.items]

    def put(self, instance: Instance) -> None:
        self.items[instance.key] = instance
        self.tombstones.pop(instance.key, None)

    def remove(self, key: InstanceKey, now: int) -> Instance | None:
        instance = self.items.pop(key, None)
        if instance is None:
            return None
        tombstone = copy.copy(instance)
        tombstone.deleted = now
        tombstone.updated = now
        tombstone.seq = self.next_seq()  # its data stays, so sync filters still see what was deleted
        self.tombstones[key] = tombstone
        if len(self.tombstones) > MAX_TOMBSTONES:
            self.tombstones.pop(next(iter(self.tombstones)))
        return instance

    def drop_container(self, key: ContainerKey, now: int) -> None:
        """A deleted container takes its data with it."""
        with self.lock:
            for instance in self.items.values():
                if instance.data.pop(key, None) is not None:
                    instance.seq = self.next_seq()
                    instance.updated = now
                    instance.version += 1

    def in_space(self, space: str) -> bool:
        return any(k[1] == space for k in self.items)

    # --- state files ----------------------------------------------------------------------------
    def dump(self) -> dict[str, Any]:
        with self.lock:
            return {
                "seq": self.seq,
                "items": [i.dump() for i in self.items.values()],
                "tombstones": [i.dump() for i in self.tombstones.values()],
            }

    def load(self, data: dict[str, Any]) -> None:
        with self.lock:
            self.seq = int(data.get("seq", 0))
            self.items = {i.key: i for i in map(Instance.load, data.get("items", []))}
            self.tombstones = {i.key: i for i in map(Instance.load, data.get("tombstones", []))}
            self.listings.clear()


PARTS = [InstancesPart]
