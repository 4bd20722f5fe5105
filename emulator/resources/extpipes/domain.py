"""A project's extraction pipelines, config revisions and runs.

A pipeline's ``lastSuccess``, ``lastFailure``, ``lastSeen`` and ``lastMessage`` follow the runs
reported for it, as CDF's do: every run is a sign of life (``lastSeen``), a success or failure
also moves its own field, and a failure's message becomes ``lastMessage``. Runs reported with an
earlier ``createdTime`` never move a field backwards.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any, ClassVar

from emulator.errors import CogniteAPIError, not_found
from emulator.ids import IdGenerator
from emulator.resources.table import Record, Table

STATUSES = ("success", "failure", "seen")
_LAST_OF = {"success": "lastSuccess", "failure": "lastFailure"}


@dataclass
class Revision:
    revision: int
    config: str | None
    description: str | None
    created: int

    def wire(self, external_id: str, *, with_config: bool = True) -> Record:
        out: Record = {"externalId": external_id, "revision": self.revision, "createdTime": self.created}
        if with_config and self.config is not None:
            out["config"] = self.config
        if self.description is not None:
            out["description"] = self.description
        return out


@dataclass
class History:
    """What belongs to one pipeline besides its record: config revisions and runs (newest last)."""

    revisions: list[Revision] = field(default_factory=list)
    runs: list[Record] = field(default_factory=list)


class ExtPipes:
    """A project's extraction pipelines (a Table of wire records) and their histories."""

    name: ClassVar[str] = "extpipes"

    def __init__(self) -> None:
        self.table = Table("Extraction pipelines")
        self.lock = self.table.lock
        self.history: dict[int, History] = {}

    # --- pipelines ------------------------------------------------------------------------------
    def create(self, items: list[Record], ids: IdGenerator, now: int) -> list[Record]:
        with self.lock:
            made = self.table.create(items, ids, now)
            for record in made:
                self.history[record["id"]] = History()
            return copy.deepcopy(made)

    def delete(self, items: list[Any], ignore_unknown: bool) -> None:
        with self.lock:
            for record in self.table.delete(items, ignore_unknown=ignore_unknown):
                self.history.pop(record["id"], None)

    def by_external_id(self, external_id: str) -> Record:
        record = self.table.get(("externalId", external_id))
        if record is None:
            raise not_found([{"externalId": external_id}], "Extraction pipeline not found")
        return record

    # --- config revisions -------------------------------------------------------------------------
    def add_config(self, external_id: str, config: str | None, description: str | None, now: int) -> Record:
        with self.lock:
            history = self.history[self.by_external_id(external_id)["id"]]
            revision = Revision(len(history.revisions) + 1, config, description, now)
            history.revisions.append(revision)
            return revision.wire(external_id)

    def config(self, external_id: str, revision: int | None, active_at: int | None) -> Record:
        with self.lock:
            revisions = self.history[self.by_external_id(external_id)["id"]].revisions
            if revision:
                found = [r for r in revisions if r.revision == revision]
            elif active_at:
                found = [r for r in revisions if r.created <= active_at]
            else:
                found = revisions
            if not found:
                which = f"revision {revision}" if revision else "a config"
                raise CogniteAPIError(404, f"Extraction pipeline {external_id!r} has no {which}")
            return found[-1].wire(external_id)

    def revisions(self, external_id: str) -> list[Record]:
        """Newest first, without the config text (as CDF lists them)."""
        with self.lock:
            revisions = self.history[self.by_external_id(external_id)["id"]].revisions
            return [r.wire(external_id, with_config=False) for r in reversed(revisions)]

    def revert(self, external_id: str, revision: int, now: int) -> Record:
        """A new revision with the config of an earlier one."""
        with self.lock:
            old = self.config(external_id, revision, None)
            return self.add_config(external_id, old.get("config"), old.get("description"), now)

    # --- runs -------------------------------------------------------------------------------------
    def report(self, runs: list[Record], ids: IdGenerator, now: int) -> list[Record]:
        """Record runs (all pipelines checked first: an unknown one changes nothing)."""
        with self.lock:
            missing = [
                {"externalId": r["externalId"]}
                for r in runs
                if self.table.get(("externalId", r["externalId"])) is None
            ]
            if missing:
                raise not_found(missing, "Extraction pipelines not found")
            made = []
            for run in runs:
                pipeline = self.by_external_id(run["externalId"])
                record = {
                    "id": ids.new(),
                    "status": run["status"],
                    "createdTime": run.get("createdTime", now),
                }
                if run.get("message") is not None:
                    record["message"] = run["message"]
                self.history[pipeline["id"]].runs.append(record)
                _follow(pipeline, record)
                made.append({**record, "externalId": run["externalId"]})
            return made

    def runs(self, external_id: str) -> list[Record]:
        """Newest first."""
        with self.lock:
            runs = self.history[self.by_external_id(external_id)["id"]].runs
            return sorted(copy.deepcopy(runs), key=lambda r: (r["createdTime"], r["id"]), reverse=True)

    # --- state ------------------------------------------------------------------------------------
    def dump(self) -> dict[str, Any]:
        with self.lock:
            return {
                "pipelines": self.table.dump(),
                "configs": {
                    str(pid): [vars(r) for r in h.revisions] for pid, h in self.history.items() if h.revisions
                },
                "runs": {str(pid): copy.deepcopy(h.runs) for pid, h in self.history.items() if h.runs},
            }

    def load(self, data: dict[str, Any]) -> None:
        with self.lock:
            self.table.load(data.get("pipelines", []))
            for record in self.table.records():
                self.history.setdefault(record["id"], History())
            for pid, revisions in (data.get("configs") or {}).items():
                self.history.setdefault(int(pid), History()).revisions = [Revision(**r) for r in revisions]
            for pid, runs in (data.get("runs") or {}).items():
                self.history.setdefault(int(pid), History()).runs = copy.deepcopy(list(runs))


def _follow(pipeline: Record, run: Record) -> None:
    """Move the pipeline's last* fields for a newly reported run (never backwards)."""
    when = run["createdTime"]
    if when >= pipeline.get("lastSeen", -1):
        pipeline["lastSeen"] = when
    name = _LAST_OF.get(run["status"])
    if name is not None and when >= pipeline.get(name, -1):
        pipeline[name] = when
        if run["status"] == "failure":
            if run.get("message") is not None:
                pipeline["lastMessage"] = run["message"]
            else:
                pipeline.pop("lastMessage", None)


PARTS = (ExtPipes,)
