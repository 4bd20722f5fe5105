"""The nodes and edges of one project, with a change sequence for sync cursors.

An instance keeps its property values per container (``data[(space, container)][property]``), as
CDF stores them; views are projections computed on read. Every write bumps the part's sequence
number and stamps the instance with it, so a sync cursor ("changes after sequence N") is exact.
Deleted instances stay as tombstones (with ``deleted`` set) so a sync reports their deletion.
"""

from __future__ import annotations

import copy
import threading
from typing import Any, ClassVar

from emulator.resources.instances.record import ContainerKey, Instance, InstanceKey
from emulator.resources.instances.units import unit_nodes

__all__ = ["PARTS", "ContainerKey", "Instance", "InstanceKey", "InstancesPart"]
MAX_TOMBSTONES = 100_000
SYSTEM_INSTANCE_SPACES = frozenset({"cdf_cdm_units"})  # seeded in every project, never dumped


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
        self._seed()

    def _seed(self) -> None:
        for node in unit_nodes():
            self.items[node.key] = node

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
                "items": [i.dump() for i in self.items.values() if i.space not in SYSTEM_INSTANCE_SPACES],
                "tombstones": [i.dump() for i in self.tombstones.values()],
            }

    def load(self, data: dict[str, Any]) -> None:
        with self.lock:
            self.seq = int(data.get("seq", 0))
            self.items = {i.key: i for i in map(Instance.load, data.get("items", []))}
            self.tombstones = {i.key: i for i in map(Instance.load, data.get("tombstones", []))}
            self.listings.clear()
            self._seed()


PARTS = [InstancesPart]
