"""Assets: hierarchies (parentId / parentExternalId, computed rootId), filters, updates, deletion.

Records are wire-shaped (a ``Table``); ``parentExternalId`` is kept on the record only when the
client gave it, as CDF answers it. Aggregated properties (childCount, depth, path) are computed on
request from the parent links, never stored, so they cannot go stale.
"""

from __future__ import annotations

import copy
from collections import defaultdict
from typing import Any, ClassVar

from emulator.errors import CogniteAPIError, bad_request, not_found
from emulator.ids import IdGenerator
from emulator.resources.classic import Predicate, all_of, common_predicates, field_in
from emulator.resources.table import Record, Table

UPDATABLE = (
    "externalId", "name", "description", "dataSetId", "metadata", "source", "parentId",
    "parentExternalId", "labels", "geoLocation",
)  # fmt: skip


class Assets:
    """The assets of one project."""

    name: ClassVar[str] = "assets"

    def __init__(self) -> None:
        self.table = Table("Assets")

    def dump(self) -> dict[str, Any]:
        return {"assets": self.table.dump()}

    def load(self, data: dict[str, Any]) -> None:
        self.table.load(data.get("assets", []))

    # --- hierarchy ------------------------------------------------------------------------------
    def children(self) -> dict[int, list[int]]:
        found: dict[int, list[int]] = defaultdict(list)
        for record in self.table.records():
            if record.get("parentId") is not None:
                found[record["parentId"]].append(record["id"])
        return found

    def root_of(self, asset_id: int) -> int | None:
        record = self.table.by_id.get(asset_id)
        return record.get("rootId") if record is not None else None

    def ids_of_external(self, external_ids: list[str]) -> set[int]:
        """Ids of the assets with these externalIds (unknown ones match nothing)."""
        return {self.table.by_xid[x] for x in external_ids if x in self.table.by_xid}

    def subtree_ids(self, items: list[Any], *, where: str = "assetSubtreeIds") -> set[int]:
        """Every asset in the subtrees rooted at the named assets, roots included (400 if unknown)."""
        roots = [r["id"] for r in self.table.resolve(items, where=where)]
        kids = self.children()
        found: set[int] = set()
        stack = list(roots)
        while stack:
            current = stack.pop()
            if current not in found:
                found.add(current)
                stack.extend(kids.get(current, ()))
        return found

    def path(self, record: Record) -> list[Record]:
        chain = [record]
        while chain[-1].get("parentId") is not None and len(chain) < 10_000:
            parent = self.table.by_id.get(chain[-1]["parentId"])
            if parent is None:
                break
            chain.append(parent)
        return chain[::-1]

    def aggregates(self, record: Record, wanted: list[str], kids: dict[int, list[int]]) -> dict[str, Any]:
        chain = self.path(record)
        out: dict[str, Any] = {}
        if "childCount" in wanted:
            out["childCount"] = len(kids.get(record["id"], ()))
        if "depth" in wanted:
            out["depth"] = len(chain) - 1
        if "path" in wanted:
            out["path"] = [{"id": a["id"]} for a in chain]
        return out

    # --- writing --------------------------------------------------------------------------------
    def create(self, items: list[dict[str, Any]], ids: IdGenerator, now: int) -> list[Record]:
        """Insert assets, parents resolved within the request too (a parent may precede or follow)."""
        with self.table.lock:
            batch_xids = {item["externalId"]: i for i, item in enumerate(items) if "externalId" in item}
            missing: list[dict[str, Any]] = []
            for i, item in enumerate(items):
                if "parentId" in item and "parentExternalId" in item:
                    raise bad_request(f"items[{i}]: give parentId or parentExternalId, not both")
                if "parentId" in item and item["parentId"] not in self.table.by_id:
                    missing.append({"id": item["parentId"]})
                xid = item.get("parentExternalId")
                if xid is not None and xid not in self.table.by_xid and xid not in batch_xids:
                    missing.append({"externalId": xid})
            if missing:
                raise not_found(missing, "Parent assets not found")
            made = self.table.create([copy.deepcopy(item) for item in items], ids, now)
            by_batch_xid = {r["externalId"]: r for r in made if "externalId" in r}
            for record in made:
                xid = record.get("parentExternalId")
                if xid is not None:
                    parent = by_batch_xid.get(xid) or self.table.by_id[self.table.by_xid[xid]]
                    record["parentId"] = parent["id"]
            try:
                for record in made:
                    record["rootId"] = self._root_through_parents(record)
            except CogniteAPIError:
                for record in made:
                    self.table.remove(record["id"])
                raise
            return made

    def _root_through_parents(self, record: Record) -> int:
        seen = {record["id"]}
        current = record
        while current.get("parentId") is not None:
            current = self.table.by_id[current["parentId"]]
            if current["id"] in seen:
                raise bad_request(
                    f"Asset {record.get('externalId', record['id'])!r}: its parents form a cycle"
                )
            seen.add(current["id"])
        return int(current["id"])

    def update(self, items: list[dict[str, Any]], now: int) -> list[Record]:
        """Update objects; a new parent must be in the same hierarchy (as CDF requires)."""
        with self.table.lock:
            for i, item in enumerate(items):
                change = item["update"].get("parentExternalId")
                if isinstance(change, dict) and isinstance(change.get("set"), str):
                    target = self.table.by_xid.get(change["set"])
                    if target is None:
                        raise not_found([{"externalId": change["set"]}], "Parent assets not found")
                    item["update"] = {**item["update"], "parentId": {"set": target}}
                if "setNull" in (item["update"].get("parentId") or {}):
                    raise bad_request(f"items[{i}]: an asset cannot be made a root by an update")
            changed = self.table.update(items, now, allowed=UPDATABLE, check=self._check_parent)
            self._follow_renamed_parents(changed)
            return changed

    def _follow_renamed_parents(self, changed: list[Record]) -> None:
        """Children that name their parent by externalId follow a parent's new externalId."""
        by_id = {r["id"]: r for r in changed}
        for child in self.table.records():
            parent = by_id.get(child.get("parentId"))
            if parent is None or "parentExternalId" not in child:
                continue
            if parent.get("externalId") is None:
                child.pop("parentExternalId")
            else:
                child["parentExternalId"] = parent["externalId"]

    def _check_parent(self, new: Record) -> None:
        old = self.table.by_id[new["id"]]
        if new.get("parentId") == old.get("parentId"):
            return
        parent = self.table.by_id.get(new["parentId"])
        if parent is None:
            raise not_found([{"id": new["parentId"]}], "Parent assets not found")
        if old.get("parentId") is None:
            raise bad_request(f"Asset {new['id']} is a root: a root asset cannot get a parent")
        if parent["rootId"] != old["rootId"]:
            raise bad_request("The parent of an asset can only change within the same hierarchy (rootId)")
        if parent["id"] in self.subtree_ids([{"id": new["id"]}]):
            raise bad_request(f"Asset {parent['id']} is in the subtree of {new['id']}: that would be a cycle")
        if parent.get("externalId") is not None:
            new["parentExternalId"] = parent["externalId"]
        else:
            new.pop("parentExternalId", None)

    def delete(self, items: list[Any], *, recursive: bool, ignore_unknown: bool) -> None:
        with self.table.lock:
            records = self.table.resolve(items, ignore_unknown=ignore_unknown)
            named = {r["id"] for r in records}
            doomed: set[int] = set()
            for record in records:
                subtree = self.subtree_ids([{"id": record["id"]}])
                if not recursive and subtree - named:
                    raise bad_request(f"Asset {record['id']} has children: delete them too, or use recursive")
                doomed |= subtree
            for asset_id in doomed:
                self.table.remove(asset_id)


PARTS = (Assets,)


def predicate(flt: dict[str, Any], assets: Assets) -> Predicate:
    """An asset filter (the official ``AssetFilter.filter``) as a test on wire records."""
    checks = common_predicates(flt)
    if "parentIds" in flt:
        checks.append(field_in("parentId", set(flt["parentIds"])))
    if "parentExternalIds" in flt:
        checks.append(field_in("parentId", assets.ids_of_external(flt["parentExternalIds"])))
    if "rootIds" in flt:
        roots = {a["id"] for a in assets.table.resolve(flt["rootIds"], where="rootIds")}
        checks.append(field_in("rootId", roots))
    if "assetSubtreeIds" in flt:
        subtree = assets.subtree_ids(flt["assetSubtreeIds"])
        checks.append(field_in("id", subtree))
    if "root" in flt:
        root: bool = flt["root"]
        checks.append(lambda r: (r.get("parentId") is None) is root)
    if "geoLocation" in flt:
        raise bad_request("Filtering assets by geoLocation is not supported by the emulator")
    return all_of(checks)
