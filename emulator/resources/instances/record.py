"""One node or edge as the emulator keeps it: identity, version, times and per-container values."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

ContainerKey = tuple[str, str]
InstanceKey = tuple[str, str, str]  # (instanceType, space, externalId)


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
