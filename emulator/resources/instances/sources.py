"""Sources of instance properties: a view or a container, resolved to container properties.

A ``Source`` says, for each property name a request may use with it, which container property
holds the value and how that property is defined (its type, nullability, default).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from emulator.errors import bad_request
from emulator.resources.models.domain import ModelsPart, container_key, fmt_container, fmt_view, view_key
from emulator.resources.models.parse import check_space, check_version, check_xid
from emulator.validation import expect_object, reject_unknown

ContainerKey = tuple[str, str]
XID_MAX = 256  # instance external ids


@dataclass(frozen=True, slots=True)
class Mapped:
    container: ContainerKey
    identifier: str
    definition: dict[str, Any]
    source: dict[str, Any] | None = None  # the view a direct relation points to


@dataclass(slots=True)
class Source:
    kind: str  # "view" or "container"
    ref: dict[str, Any]  # as the API names it
    properties: dict[str, Mapped]
    connections: dict[str, dict[str, Any]]  # edge connections and reverse direct relations
    filter: dict[str, Any] | None = None
    used_for: str = "node"
    mapped: frozenset[ContainerKey] = field(init=False)
    label: str = field(init=False)  # its key under properties[space]: "xid/version" or "xid"

    def __post_init__(self) -> None:
        # Computed once: has_data and the wire ask for them for every instance of a listing.
        self.mapped = frozenset(m.container for m in self.properties.values())
        version = f"/{self.ref['version']}" if self.kind == "view" else ""
        self.label = f"{self.ref['externalId']}{version}"

    @property
    def space(self) -> str:
        return str(self.ref["space"])

    def containers(self) -> frozenset[ContainerKey]:
        return self.mapped


def instance_ref(value: Any, where: str) -> dict[str, str]:
    obj = expect_object(value, where)
    reject_unknown(obj, ("space", "externalId"), where)
    xid = obj.get("externalId")
    if not isinstance(xid, str) or not 1 <= len(xid) <= XID_MAX or "\x00" in xid:
        raise bad_request(f"{where}.externalId must be a string of 1 to {XID_MAX} characters")
    return {"space": check_space(obj.get("space"), where), "externalId": xid}


def parse_source_ref(value: Any, where: str) -> dict[str, Any]:
    obj = expect_object(value, where)
    reject_unknown(obj, ("type", "space", "externalId", "version"), where)
    kind = obj.get("type", "view" if "version" in obj else None)
    if kind == "container":
        return {
            "type": "container",
            "space": check_space(obj.get("space"), where),
            "externalId": check_xid(obj.get("externalId"), where),
        }
    if kind == "view":
        return {
            "type": "view",
            "space": check_space(obj.get("space"), where),
            "externalId": check_xid(obj.get("externalId"), where),
            "version": check_version(obj.get("version"), where),
        }
    raise bad_request(f"{where}.type must be 'view' or 'container'")


def resolve(models: ModelsPart, ref: dict[str, Any]) -> Source:
    """The Source a parsed ref names; 400 when the view or container does not exist."""
    if ref["type"] == "container":
        key = container_key(ref)
        container = models.container(key)
        if container is None:
            raise bad_request(f"One or more containers do not exist: {fmt_container(key)}")
        direct = {name: Mapped(key, name, d) for name, d in container["properties"].items()}
        return Source("container", ref, direct, {}, used_for=container.get("usedFor", "node"))
    vkey = view_key(ref)
    view = models.view(vkey)
    if view is None:
        raise bad_request(f"One or more views do not exist: {fmt_view(vkey)}")
    props: dict[str, Mapped] = {}
    connections: dict[str, dict[str, Any]] = {}
    used: set[str] = set()
    for name, prop in models.view_properties(vkey).items():
        if "container" not in prop:
            connections[name] = prop
            continue
        ckey = container_key(prop["container"])
        container = models.container(ckey)
        definition = (container or {}).get("properties", {}).get(prop["containerPropertyIdentifier"])
        if container is None or definition is None:
            continue  # the container (or property) was deleted after the view was made
        used.add(container.get("usedFor", "node"))
        source = prop.get("source") or definition["type"].get("source")
        props[name] = Mapped(ckey, prop["containerPropertyIdentifier"], definition, source)
    used_for = view.get("usedFor") or (used.pop() if len(used) == 1 else "all" if used else "node")
    return Source("view", ref, props, connections, view.get("filter"), used_for)
