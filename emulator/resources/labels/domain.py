"""Label definitions: the externalIds that assets and files may carry as labels.

CDF identifies a label definition by its externalId only; the ``Table`` gives each one an internal
id for ordering and cursors, which never reaches the wire.
"""

from __future__ import annotations

from typing import Any, ClassVar

from emulator.errors import bad_request
from emulator.resources.table import Record, Table


class Labels:
    """The label definitions of one project."""

    name: ClassVar[str] = "labels"

    def __init__(self) -> None:
        self.table = Table("Labels")

    def dump(self) -> dict[str, Any]:
        return {"labels": self.table.dump()}

    def load(self, data: dict[str, Any]) -> None:
        self.table.load(data.get("labels", []))

    def require(self, labels: Any, where: str) -> None:
        """400 when a resource names labels that are not defined (as CDF refuses them)."""
        if not isinstance(labels, list):
            return
        unknown = [
            {"externalId": label["externalId"]}
            for label in labels
            if isinstance(label, dict) and label.get("externalId") not in self.table.by_xid
        ]
        if unknown:
            raise bad_request(f"{where}: labels {[u['externalId'] for u in unknown][:10]} are not defined")


PARTS = (Labels,)


def to_wire(record: Record) -> dict[str, Any]:
    return {k: v for k, v in record.items() if k not in ("id", "lastUpdatedTime")}
