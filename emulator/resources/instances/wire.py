"""Nodes and edges as the API answers them, with the properties of the requested sources."""

from __future__ import annotations

from typing import Any

from emulator.errors import bad_request
from emulator.resources.instances.domain import Instance
from emulator.resources.instances.filters import Context, has_data
from emulator.resources.instances.sources import Source, parse_source_ref
from emulator.validation import expect_object, reject_unknown

Selection = list[tuple[Source, list[str] | None]]  # None: every property


def parse_sources(ctx: Context, value: Any, where: str = "sources") -> Selection:
    """``sources: [{source: ref, properties?: [...]}]`` of list, byids, query selects."""
    if value is None:
        return []
    if not isinstance(value, list) or len(value) > 10:
        raise bad_request(f"{where} must be a list of at most 10 sources")
    out: Selection = []
    for i, entry in enumerate(value):
        at = f"{where}[{i}]"
        entry = expect_object(entry, at)
        reject_unknown(entry, ("source", "properties"), at)
        source = ctx.source(parse_source_ref(entry.get("source"), f"{at}.source"))
        names = entry.get("properties")
        if names is not None and (not isinstance(names, list) or not all(isinstance(n, str) for n in names)):
            raise bad_request(f"{at}.properties must be a list of property names")
        out.append((source, None if names is None or "*" in names else names))
    return out


def properties_of(instance: Instance, selection: Selection, ctx: Context) -> dict[str, Any]:
    out: dict[str, dict[str, Any]] = {}
    data = instance.data
    for source, names in selection:
        if not has_data(instance, source, ctx):
            continue
        values: dict[str, Any] = {}
        for name, mapped in source.properties.items():
            if names is not None and name not in names:
                continue
            held = data.get(mapped.container)
            if held is not None:
                value = held.get(mapped.identifier, _ABSENT)
                if value is not _ABSENT:
                    values[name] = value
        out.setdefault(source.space, {})[source.label] = values
    return out


_ABSENT = object()


def instance_wire(instance: Instance, selection: Selection, ctx: Context) -> dict[str, Any]:
    out: dict[str, Any] = {
        "instanceType": instance.kind,
        "space": instance.space,
        "externalId": instance.external_id,
        "version": instance.version,
        "createdTime": instance.created,
        "lastUpdatedTime": instance.updated,
    }
    if instance.type is not None:
        out["type"] = instance.type
    if instance.kind == "edge":
        out["startNode"], out["endNode"] = instance.start, instance.end
    if instance.deleted is not None:
        out["deletedTime"] = instance.deleted
    out["properties"] = properties_of(instance, selection, ctx) if instance.deleted is None else {}
    return out


def typing_of(selection: Selection, ctx: Context) -> dict[str, Any]:
    """``typing``: the definitions of the selected properties (``includeTyping``)."""
    out: dict[str, dict[str, Any]] = {}
    for source, names in selection:
        props = {}
        for name, mapped in source.properties.items():
            if names is None or name in names:
                props[name] = {k: v for k, v in mapped.definition.items() if k != "constraintState"}
        out.setdefault(source.space, {})[source.label] = props
    return out
