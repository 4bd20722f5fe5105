"""Applying nodes and edges (``POST /models/instances``): CDF's upsert rules, all or none.

Per item: the space must exist; each source's properties must belong to it and fit their types;
writing a container for the first time needs its non-nullable properties (defaults fill the
rest); immutable properties cannot change; ``existingVersion`` guards against lost updates
(``skipOnVersionConflict`` skips instead of failing); ``replace`` replaces a source's containers
instead of merging into them. Edges need their start and end nodes, direct relations their
targets, unless the request's ``autoCreate*`` flags create them as empty nodes.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from emulator.errors import CogniteAPIError, bad_request
from emulator.resources.instances.domain import ContainerKey, Instance, InstanceKey, InstancesPart
from emulator.resources.instances.sources import Source, instance_ref, parse_source_ref, resolve
from emulator.resources.instances.values import ValueProblem, check_value, direct_targets, invalid
from emulator.resources.models import cdm
from emulator.resources.models.domain import ModelsPart
from emulator.validation import expect_object, get_bool, reject_unknown

MAX_APPLY = 1000


@dataclass(slots=True)
class Write:
    kind: str
    space: str
    external_id: str
    existing_version: int | None
    type: dict[str, str] | None
    start: dict[str, str] | None
    end: dict[str, str] | None
    sources: list[tuple[Source, dict[str, Any]]] = field(default_factory=list)

    @property
    def key(self) -> InstanceKey:
        return (self.kind, self.space, self.external_id)


@dataclass(slots=True)
class Flags:
    auto_start: bool = False
    auto_end: bool = False
    auto_direct: bool = True
    skip_conflicts: bool = False
    replace: bool = False


def parse_flags(body: dict[str, Any]) -> Flags:
    return Flags(
        auto_start=get_bool(body, "autoCreateStartNodes", ""),
        auto_end=get_bool(body, "autoCreateEndNodes", ""),
        auto_direct=get_bool(body, "autoCreateDirectRelations", "", default=True),
        skip_conflicts=get_bool(body, "skipOnVersionConflict", ""),
        replace=get_bool(body, "replace", ""),
    )


def parse_write(item: Any, where: str, models: ModelsPart) -> Write:
    obj = expect_object(item, where)
    kind = obj.get("instanceType")
    if kind not in ("node", "edge"):
        raise bad_request(f"{where}.instanceType must be 'node' or 'edge'")
    allowed = ["instanceType", "space", "externalId", "existingVersion", "type", "sources"]
    if kind == "edge":
        allowed += ["startNode", "endNode"]
    reject_unknown(obj, allowed, where)
    ident = instance_ref({"space": obj.get("space"), "externalId": obj.get("externalId")}, where)
    version = obj.get("existingVersion")
    if version is not None and (isinstance(version, bool) or not isinstance(version, int) or version < 0):
        raise bad_request(f"{where}.existingVersion must be a non-negative integer")
    write = Write(kind, ident["space"], ident["externalId"], version, None, None, None)
    if obj.get("type") is not None or kind == "edge":
        write.type = instance_ref(obj.get("type"), f"{where}.type")
    if kind == "edge":
        write.start = instance_ref(obj.get("startNode"), f"{where}.startNode")
        write.end = instance_ref(obj.get("endNode"), f"{where}.endNode")
    sources = obj.get("sources", [])
    if not isinstance(sources, list) or len(sources) > 10:
        raise bad_request(f"{where}.sources must be a list of at most 10 sources")
    for i, entry in enumerate(sources):
        at = f"{where}.sources[{i}]"
        entry = expect_object(entry, at)
        reject_unknown(entry, ("source", "properties"), at)
        source = resolve(models, parse_source_ref(entry.get("source"), f"{at}.source"))
        if source.used_for not in (kind, "all"):
            raise bad_request(f"{at}: {source.kind} {source.label} cannot hold data of {kind}s")
        properties = expect_object(entry.get("properties", {}), f"{at}.properties")
        for name in properties:
            if name in source.connections:
                raise bad_request(f"{at}.properties.{name}: connection properties cannot be written")
            if name not in source.properties:
                raise bad_request(
                    f"{at}.properties: property '{name}' does not exist in {source.kind} {source.label}"
                )
        write.sources.append((source, properties))
    return write


def _new_data(
    write: Write, old: Instance | None, flags: Flags, where: str
) -> dict[ContainerKey, dict[str, Any]]:
    data = {k: dict(v) for k, v in (old.data if old else {}).items()}
    touched: set[ContainerKey] = set()
    for source, properties in write.sources:
        if flags.replace:
            for key in source.containers():
                if key not in touched:
                    data.pop(key, None)
        for name, raw in properties.items():
            mapped = source.properties[name]
            try:
                value = check_value(mapped.definition, raw)
            except ValueProblem as problem:
                raise invalid(where, name, mapped.container, problem) from None
            before = (old.data.get(mapped.container, {}) if old else {}).get(mapped.identifier)
            if mapped.definition.get("immutable") and before is not None and before != value:
                raise bad_request(f"{where}: property '{name}' is immutable and cannot be changed")
            values = data.setdefault(mapped.container, {})
            if value is None:
                values.pop(mapped.identifier, None)
            else:
                values[mapped.identifier] = value
            touched.add(mapped.container)
        if source.kind == "view":
            # Writing through a view gives the instance data in every container the view maps
            # (what makes it "have data" in the view), as CDF does.
            for key in source.containers():
                data.setdefault(key, {})
                touched.add(key)
    return data


def _complete(data: dict[ContainerKey, dict[str, Any]], models: ModelsPart, where: str) -> None:
    """Defaults and required properties of every container the instance has data in."""
    for key, values in data.items():
        container = models.container(key)
        if container is None:
            continue
        missing = []
        for name, definition in container["properties"].items():
            if name in values:
                continue
            if definition.get("defaultValue") is not None:
                values[name] = definition["defaultValue"]
            elif not definition.get("nullable", True):
                missing.append(name)
        if missing:
            raise bad_request(
                f"{where}: Missing required properties in container {key[0]}:{key[1]}: {', '.join(missing)}"
            )
        for name, constraint in container.get("constraints", {}).items():
            if constraint.get("constraintType") == "requires":
                need = (constraint["require"]["space"], constraint["require"]["externalId"])
                if need not in data:
                    raise bad_request(
                        f"{where}: container {key[0]}:{key[1]} requires data in {need[0]}:{need[1]} "
                        f"(constraint {name})"
                    )


def _check_unique(part: InstancesPart, models: ModelsPart, instance: Instance, where: str) -> None:
    for key, values in instance.data.items():
        container = models.container(key)
        for name, constraint in (container or {}).get("constraints", {}).items():
            if constraint.get("constraintType") != "uniqueness":
                continue
            props = constraint["properties"]
            mine = tuple(values.get(p) for p in props)
            if any(v is None for v in mine):
                continue
            for other in part.items.values():
                if other.key == instance.key or other.kind != instance.kind:
                    continue
                if constraint.get("bySpace") and other.space != instance.space:
                    continue
                theirs = other.data.get(key)
                if theirs is not None and tuple(theirs.get(p) for p in props) == mine:
                    raise bad_request(
                        f"{where}: uniqueness constraint {name} of {key[0]}:{key[1]} is violated"
                    )


def apply(
    part: InstancesPart, models: ModelsPart, items: list[Any], flags: Flags, now: int
) -> tuple[list[dict[str, Any]], list[Instance]]:
    """Apply the items; returns the answer's items and the instances written."""
    writes = [parse_write(item, f"items[{i}]", models) for i, item in enumerate(items)]
    seen: set[InstanceKey] = set()
    for i, write in enumerate(writes):
        if write.key in seen:
            raise bad_request(
                f"items[{i}]: Duplicate instance {write.space}:{write.external_id} in the request"
            )
        seen.add(write.key)
        if write.space in cdm.SYSTEM_SPACES or models.space(write.space) is None:
            if models.space(write.space) is None:
                raise bad_request(f"One or more spaces do not exist: {write.space}")
            raise bad_request(f"items[{i}]: space {write.space!r} is a system space and cannot be written to")
    with part.lock:
        planned: list[tuple[Write, Instance | None, dict[ContainerKey, dict[str, Any]]]] = []
        for i, write in enumerate(writes):
            where = f"items[{i}]"
            old = part.items.get(write.key)
            # existingVersion 0 means "create only": every stored instance has version >= 1.
            if (
                write.existing_version is not None
                and old is not None
                and old.version > write.existing_version
            ):
                if flags.skip_conflicts:
                    continue
                raise CogniteAPIError(409, "A version conflict caused the ingest to fail.")
            if (
                old is not None
                and write.kind == "edge"
                and (old.start != write.start or old.end != write.end)
            ):
                raise bad_request(f"{where}: the start and end nodes of an edge cannot be changed")
            data = _new_data(write, old, flags, where)
            _complete(data, models, where)
            planned.append((write, old, data))
        auto_nodes = _check_references(part, planned, flags)
        answer: list[dict[str, Any]] = []
        written: list[Instance] = []
        for ref in auto_nodes:
            node = Instance("node", ref["space"], ref["externalId"], 1, now, now, part.next_seq())
            part.put(node)
        for write, old, data in planned:
            new_type = write.type if write.type is not None else (old.type if old else None)
            modified = old is None or data != old.data or new_type != old.type
            if old is None:
                instance = Instance(
                    write.kind,
                    write.space,
                    write.external_id,
                    1,
                    now,
                    now,
                    0,
                    new_type,
                    write.start,
                    write.end,
                    data,
                )
            else:
                instance = copy.copy(old)
                instance.data, instance.type = data, new_type
                if modified:
                    instance.version, instance.updated = old.version + 1, now
            if modified:
                instance.seq = part.next_seq()
                _check_unique(part, models, instance, f"{write.space}:{write.external_id}")
                part.put(instance)
                written.append(instance)
            answer.append(
                {
                    "instanceType": instance.kind,
                    "space": instance.space,
                    "externalId": instance.external_id,
                    "version": instance.version,
                    "wasModified": modified,
                    "createdTime": instance.created,
                    "lastUpdatedTime": instance.updated,
                }
            )
        return answer, written


def _check_references(
    part: InstancesPart,
    planned: list[tuple[Write, Instance | None, dict[ContainerKey, dict[str, Any]]]],
    flags: Flags,
) -> list[dict[str, str]]:
    """Start/end nodes and direct-relation targets: the nodes to create, or a 400 for missing ones."""
    coming = {(w.space, w.external_id) for w, _, _ in planned if w.kind == "node"}
    create: dict[tuple[str, str], dict[str, str]] = {}

    def need(ref: dict[str, str] | None, allowed: bool, what: str) -> None:
        if ref is None:
            return
        pair = (ref["space"], ref["externalId"])
        if pair in coming or ("node", *pair) in part.items:
            return
        if not allowed:
            raise bad_request(f"Cannot auto-create {what} {pair[0]}:{pair[1]}: the node does not exist")
        create.setdefault(pair, ref)

    for write, _, data in planned:
        need(write.start, flags.auto_start, "start node")
        need(write.end, flags.auto_end, "end node")
        for source, properties in write.sources:
            for name in properties:
                mapped = source.properties[name]
                stored = data.get(mapped.container, {}).get(mapped.identifier)
                for target in direct_targets(mapped.definition, stored):
                    need(target, flags.auto_direct, "direct relation target")
    return list(create.values())
