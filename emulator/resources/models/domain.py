"""The data-modeling schema of one project: spaces, containers, views and data models.

Records are kept wire-shaped (camelCase) as they were applied; a view's answer is computed on
read (its properties resolved against the containers and the views it implements). The Core
Data Model (see ``cdm``) is global: visible in every project, never stored, never writable.
Every change happens under the part's lock; apply requests are all-or-none.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Iterable
from typing import Any, ClassVar

from emulator.errors import CogniteAPIError, bad_request
from emulator.resources.models import cdm

ContainerKey = tuple[str, str]
ViewKey = tuple[str, str, str]
Record = dict[str, Any]


def view_key(ref: dict[str, Any]) -> ViewKey:
    return (ref["space"], ref["externalId"], ref["version"])


def container_key(ref: dict[str, Any]) -> ContainerKey:
    return (ref["space"], ref["externalId"])


def fmt_view(key: ViewKey) -> str:
    return f"{key[0]}:{key[1]}/{key[2]}"


def fmt_container(key: ContainerKey) -> str:
    return f"{key[0]}:{key[1]}"


class ModelsPart:
    """Spaces, containers, views and data models of one project (a ``StatePart``)."""

    name: ClassVar[str] = "datamodeling.models"

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.spaces: dict[str, Record] = {}
        self.containers: dict[ContainerKey, Record] = {}
        self.views: dict[ViewKey, Record] = {}
        self.datamodels: dict[ViewKey, Record] = {}

    # --- state files --------------------------------------------------------------------------
    def dump(self) -> dict[str, Any]:
        with self.lock:
            return copy.deepcopy(
                {
                    "spaces": list(self.spaces.values()),
                    "containers": list(self.containers.values()),
                    "views": list(self.views.values()),
                    "dataModels": list(self.datamodels.values()),
                }
            )

    def load(self, data: dict[str, Any]) -> None:
        with self.lock:
            self.spaces = {s["space"]: s for s in copy.deepcopy(data.get("spaces", []))}
            self.containers = {container_key(c): c for c in copy.deepcopy(data.get("containers", []))}
            self.views = {view_key(v): v for v in copy.deepcopy(data.get("views", []))}
            self.datamodels = {view_key(d): d for d in copy.deepcopy(data.get("dataModels", []))}

    # --- lookups (user records first, then the global Core Data Model) ------------------------
    def space(self, space: str) -> Record | None:
        return self.spaces.get(space) or cdm.system_models()["spaces"].get(space)

    def container(self, key: ContainerKey) -> Record | None:
        return self.containers.get(key) or cdm.system_models()["containers"].get(key)

    def view(self, key: ViewKey) -> Record | None:
        return self.views.get(key) or cdm.system_models()["views"].get(key)

    def datamodel(self, key: ViewKey) -> Record | None:
        return self.datamodels.get(key) or cdm.system_models()["datamodels"].get(key)

    def all_spaces(self, include_global: bool) -> list[Record]:
        found = list(self.spaces.values())
        return found + list(cdm.system_models()["spaces"].values()) if include_global else found

    def all_containers(self, include_global: bool) -> list[Record]:
        found = list(self.containers.values())
        return found + list(cdm.system_models()["containers"].values()) if include_global else found

    def all_views(self, include_global: bool) -> list[Record]:
        found = list(self.views.values())
        return found + list(cdm.system_models()["views"].values()) if include_global else found

    def all_datamodels(self, include_global: bool) -> list[Record]:
        found = list(self.datamodels.values())
        return found + list(cdm.system_models()["datamodels"].values()) if include_global else found

    # --- apply --------------------------------------------------------------------------------
    def _writable_space(self, space: str, where: str) -> None:
        if space in cdm.system_models()["spaces"] or space in cdm.SYSTEM_SPACES:
            raise bad_request(f"{where}: space {space!r} is a system space and cannot be modified")
        if space not in self.spaces:
            raise bad_request(f"One or more spaces do not exist: {space}")

    def apply_spaces(self, items: list[Record], now: int) -> list[Record]:
        with self.lock:
            out = []
            for item in items:
                old = self.spaces.get(item["space"])
                record = {
                    **item,
                    "isGlobal": False,
                    "createdTime": old["createdTime"] if old else now,
                    "lastUpdatedTime": now,
                }
                self.spaces[item["space"]] = record
                out.append(record)
            return out

    def apply_containers(self, items: list[Record], now: int) -> list[Record]:
        with self.lock:
            for i, item in enumerate(items):
                where = f"items[{i}]"
                self._writable_space(item["space"], where)
                old = self.containers.get(container_key(item))
                if old is not None:
                    _check_container_change(old, item, where)
                for name, constraint in item["constraints"].items():
                    if constraint["constraintType"] == "requires":
                        target = container_key(constraint["require"])
                        known = self.container(target) or any(container_key(x) == target for x in items)
                        if not known:
                            raise bad_request(
                                f"{where}.constraints.{name}: One or more containers do not exist: "
                                f"{fmt_container(target)}"
                            )
            out = []
            for item in items:
                key = container_key(item)
                old = self.containers.get(key)
                record = copy.deepcopy(item)
                if old is not None:
                    # Properties left out of an update are kept (CDF never drops container data).
                    record["properties"] = {**old["properties"], **item["properties"]}
                for prop in record["properties"].values():
                    prop.setdefault("constraintState", {})
                for entry in (*record["constraints"].values(), *record["indexes"].values()):
                    entry["state"] = "current"  # built at once: the emulator has no backfill
                record.update(
                    isGlobal=False, createdTime=old["createdTime"] if old else now, lastUpdatedTime=now
                )
                self.containers[key] = record
                out.append(record)
            return out

    def apply_views(self, items: list[Record], now: int) -> list[Record]:
        with self.lock:
            pending = {view_key(v): v for v in items}
            before = dict(self.views)
            for i, item in enumerate(items):
                self._check_view(item, f"items[{i}]", pending)
            out = []
            for key, item in pending.items():
                old = self.views.get(key)
                record = copy.deepcopy(item)
                record.update(
                    isGlobal=False,
                    writable=True,
                    createdTime=old["createdTime"] if old else now,
                    lastUpdatedTime=now,
                )
                self.views[key] = record
                out.append(record)
            try:
                for key in pending:
                    _check_cycles(self, key)
            except CogniteAPIError:
                # All or none: put back what the request replaced.
                self.views = before
                raise
            return [self.view_wire(view_key(r)) for r in out]

    def _check_view(self, item: Record, where: str, pending: dict[ViewKey, Record]) -> None:
        self._writable_space(item["space"], where)
        for ref in item["implements"]:
            if view_key(ref) not in pending and self.view(view_key(ref)) is None:
                raise bad_request(
                    f"{where}.implements: One or more views do not exist: {fmt_view(view_key(ref))}"
                )
        for name, prop in item["properties"].items():
            if "container" not in prop:
                continue
            key = container_key(prop["container"])
            container = self.container(key)
            if container is None:
                raise bad_request(
                    f"{where}.properties.{name}: One or more containers do not exist: {fmt_container(key)}"
                )
            if prop["containerPropertyIdentifier"] not in container["properties"]:
                raise bad_request(
                    f"{where}.properties.{name}: property {prop['containerPropertyIdentifier']!r} does not exist "
                    f"in container {fmt_container(key)}"
                )

    def apply_datamodels(self, items: list[tuple[Record, list[Record]]], now: int) -> list[Record]:
        with self.lock:
            inline = [view for _, views in items for view in views]
            if inline:
                self.apply_views(inline, now)
            out = []
            for i, (model, _) in enumerate(items):
                self._writable_space(model["space"], f"items[{i}]")
                missing = [fmt_view(view_key(v)) for v in model["views"] if self.view(view_key(v)) is None]
                if missing:
                    raise bad_request(f"items[{i}]: One or more views do not exist: {', '.join(missing)}")
            for model, _ in items:
                key = view_key(model)
                old = self.datamodels.get(key)
                record = copy.deepcopy(model)
                record.update(
                    isGlobal=False, createdTime=old["createdTime"] if old else now, lastUpdatedTime=now
                )
                self.datamodels[key] = record
                out.append(record)
            return out

    # --- delete -------------------------------------------------------------------------------
    def delete_spaces(self, spaces: Iterable[str]) -> list[str]:
        with self.lock:
            gone = []
            for space in spaces:
                if space not in self.spaces:
                    continue
                in_use = [k for k in (*self.containers, *self.views, *self.datamodels) if k[0] == space]
                if in_use:
                    raise CogniteAPIError(
                        409, f"Cannot delete space {space!r}: it still holds containers, views or data models"
                    )
                del self.spaces[space]
                gone.append(space)
            return gone

    def delete_containers(self, keys: Iterable[ContainerKey]) -> list[ContainerKey]:
        with self.lock:
            return [k for k in keys if self.containers.pop(k, None) is not None]

    def delete_views(self, keys: Iterable[ViewKey]) -> list[ViewKey]:
        with self.lock:
            return [k for k in keys if self.views.pop(k, None) is not None]

    def delete_datamodels(self, keys: Iterable[ViewKey]) -> list[ViewKey]:
        with self.lock:
            return [k for k in keys if self.datamodels.pop(k, None) is not None]

    # --- views as the API answers them ----------------------------------------------------------
    def view_properties(self, key: ViewKey, *, inherited: bool = True) -> dict[str, Record]:
        """The view's properties (raw, as applied), those of the views it implements first."""
        view = self.view(key)
        if view is None:
            return {}
        found: dict[str, Record] = {}
        if inherited:
            for parent in view.get("implements", []):
                if view_key(parent) != key:
                    found.update(self.view_properties(view_key(parent)))
        found.update(view["properties"])
        return found

    def view_wire(self, key: ViewKey, *, inherited: bool = True) -> Record:
        view = self.view(key)
        assert view is not None
        if view.get("isGlobal"):
            properties = copy.deepcopy(view["properties"])  # stored as CDF answers them
        else:
            own = self.view_properties(key, inherited=inherited)
            properties = {name: self._property_wire(prop) for name, prop in own.items()}
        for prop in properties.values():
            if str(prop.get("connectionType", "")).endswith("reverse_direct_relation"):
                prop.setdefault("targetsList", self._targets_list(prop["through"]))
        mapped = {container_key(p["container"]) for p in properties.values() if "container" in p}
        used = {c["usedFor"] for c in (self.container(k) for k in mapped) if c is not None}
        out = {k: copy.deepcopy(v) for k, v in view.items() if k != "properties"}
        out["properties"] = properties
        if not view.get("isGlobal"):
            out["usedFor"] = used.pop() if len(used) == 1 else ("all" if used else "node")
        out["queryable"] = True
        out["mappedContainers"] = [
            {"space": s, "externalId": x, "type": "container"} for s, x in sorted(mapped)
        ]
        return out

    def _targets_list(self, through: Record) -> bool:
        """Whether a reverse relation goes through a list of direct relations (``targetsList``)."""
        source, name = through["source"], through["identifier"]
        if source.get("type") == "container":
            definition = (self.container(container_key(source)) or {}).get("properties", {}).get(name, {})
        else:
            prop = self.view_properties(view_key(source)).get(name, {})
            if "container" not in prop:
                return False
            container = self.container(container_key(prop["container"])) or {}
            definition = container.get("properties", {}).get(prop["containerPropertyIdentifier"], {})
        return bool(definition.get("type", {}).get("list", False))

    def _property_wire(self, prop: Record) -> Record:
        if "container" not in prop:
            return copy.deepcopy(prop)
        container = self.container(container_key(prop["container"]))
        definition = (container or {}).get("properties", {}).get(prop["containerPropertyIdentifier"], {})
        prop_type = copy.deepcopy(definition.get("type", {"type": "text", "list": False}))
        if prop_type.get("type") == "direct" and "source" in prop:
            prop_type["source"] = prop["source"]
        out = {
            "container": prop["container"],
            "containerPropertyIdentifier": prop["containerPropertyIdentifier"],
            "type": prop_type,
            "nullable": definition.get("nullable", True),
            "immutable": definition.get("immutable", False),
            "autoIncrement": definition.get("autoIncrement", False),
            "constraintState": {},
        }
        for field in ("defaultValue", "name", "description"):
            value = prop.get(field, definition.get(field))
            if value is not None:
                out[field] = value
        return out

    def datamodel_wire(self, key: ViewKey, *, inline: bool) -> Record:
        model = self.datamodel(key)
        assert model is not None
        out = copy.deepcopy(model)
        if inline:
            out["views"] = [
                self.view_wire(view_key(v)) for v in model["views"] if self.view(view_key(v)) is not None
            ]
        return out


def _check_container_change(old: Record, new: Record, where: str) -> None:
    if old.get("usedFor") != new["usedFor"]:
        raise bad_request(
            f"{where}: usedFor of container {fmt_container(container_key(old))} cannot be changed"
        )
    for name, prop in new["properties"].items():
        before = old["properties"].get(name)
        if before is None:
            continue
        if before["type"].get("type") != prop["type"].get("type") or bool(before["type"].get("list")) != bool(
            prop["type"].get("list")
        ):
            raise bad_request(
                f"{where}.properties.{name}: Changing the type of a container property is not allowed"
            )


def _check_cycles(part: ModelsPart, start: ViewKey) -> None:
    seen: set[ViewKey] = set()
    stack = [start]
    while stack:
        key = stack.pop()
        view = part.view(key)
        for parent in (view or {}).get("implements", []):
            pkey = view_key(parent)
            if pkey == start:
                raise bad_request(f"View {fmt_view(start)} implements itself through {fmt_view(key)}")
            if pkey not in seen:
                seen.add(pkey)
                stack.append(pkey)


PARTS = [ModelsPart]
