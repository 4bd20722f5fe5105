"""Checking apply requests of spaces, containers, views and data models against CDF's rules.

Each ``*_item`` function checks one item of an apply request and returns it normalised (defaults
filled in as CDF answers them); anything malformed is a 400 in CDF's shape naming the item.
"""

from __future__ import annotations

import re
from typing import Any

from emulator.errors import bad_request
from emulator.validation import expect_object, get_bool, get_str, reject_unknown

SPACE_RE = re.compile(r"^[a-zA-Z][a-zA-Z0-9_-]{0,41}[a-zA-Z0-9]?$")
XID_RE = re.compile(r"^[a-zA-Z]([a-zA-Z0-9_]{0,253}[a-zA-Z0-9])?$")
VERSION_RE = re.compile(r"^[a-zA-Z0-9]([.a-zA-Z0-9_-]{0,41}[a-zA-Z0-9])?$")
PROPERTY_RE = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_-]{0,253}[a-zA-Z0-9]?$")
# The official spec's reserved words: spaces that cannot be created, and property identifiers
# that collide with an instance's built-in fields.
RESERVED_SPACES = frozenset({"space", "cdf", "dms", "pg3", "shared", "system", "node", "edge"})
RESERVED_PROPERTIES = frozenset(
    {
        "space",
        "externalId",
        "createdTime",
        "lastUpdatedTime",
        "deletedTime",
        "edge_id",
        "node_id",
        "project_id",
        "property_group",
        "seq",
        "tg_table_name",
        "extensions",
    }
)
PRIMITIVES = frozenset({"boolean", "float32", "float64", "int32", "int64", "timestamp", "date", "json"})
CDF_REFERENCES = frozenset({"timeseries", "file", "sequence"})
LIST_TYPES = PRIMITIVES | CDF_REFERENCES | {"text", "direct"}
MAX_LIST_SIZE = 2000  # CDF's default list size limit (1000 for direct relations)
NAME_MAX, DESCRIPTION_MAX = 255, 1024


def check_space(value: Any, where: str, *, creating: bool = False) -> str:
    if not isinstance(value, str) or not SPACE_RE.match(value):
        raise bad_request(f"{where}: space must match {SPACE_RE.pattern}, got {str(value)[:60]!r}")
    if creating and (value in RESERVED_SPACES or value.startswith("cdf_")):
        raise bad_request(f"{where}: space {value!r} is reserved")
    return value


def check_xid(value: Any, where: str) -> str:
    if not isinstance(value, str) or not XID_RE.match(value):
        raise bad_request(f"{where}: externalId must match {XID_RE.pattern}, got {str(value)[:60]!r}")
    return value


def check_version(value: Any, where: str) -> str:
    if not isinstance(value, str) or not VERSION_RE.match(value):
        raise bad_request(f"{where}: version must match {VERSION_RE.pattern}, got {str(value)[:60]!r}")
    return value


def _texts(item: dict[str, Any], where: str) -> dict[str, Any]:
    """``name`` and ``description`` when given (an explicit null is refused, as the schema does)."""
    out: dict[str, Any] = {}
    for key, limit in (("name", NAME_MAX), ("description", DESCRIPTION_MAX)):
        value = get_str(item, key, where, max_len=limit)
        if value is not None:
            out[key] = value
    return out


def space_item(item: Any, where: str) -> dict[str, Any]:
    obj = expect_object(item, where)
    reject_unknown(obj, ("space", "name", "description"), where)
    return {"space": check_space(obj.get("space"), where, creating=True), **_texts(obj, where)}


def space_id(item: Any, where: str) -> str:
    obj = expect_object(item, where)
    reject_unknown(obj, ("space",), where)
    return check_space(obj.get("space"), where)


def container_ref(value: Any, where: str, *, typed: bool = False) -> tuple[str, str]:
    obj = expect_object(value, where)
    reject_unknown(obj, ("space", "externalId", "type"), where)
    if (typed and obj.get("type") != "container") or obj.get("type", "container") != "container":
        raise bad_request(f"{where}.type must be 'container'")
    return check_space(obj.get("space"), where), check_xid(obj.get("externalId"), where)


def view_ref(value: Any, where: str) -> tuple[str, str, str]:
    obj = expect_object(value, where)
    reject_unknown(obj, ("space", "externalId", "version", "type"), where)
    if obj.get("type", "view") != "view":
        raise bad_request(f"{where}.type must be 'view'")
    return (
        check_space(obj.get("space"), where),
        check_xid(obj.get("externalId"), where),
        check_version(obj.get("version"), where),
    )


def versioned_id(item: Any, where: str) -> tuple[str, str, str | None]:
    """``{space, externalId, version?}`` of a view or data model (byids, delete)."""
    obj = expect_object(item, where)
    reject_unknown(obj, ("space", "externalId", "version", "type"), where)
    if "version" in obj and obj["version"] is None:
        raise bad_request(f"{where}.version must not be null")
    version = obj.get("version")
    return (
        check_space(obj.get("space"), where),
        check_xid(obj.get("externalId"), where),
        None if version is None else check_version(version, where),
    )


# --- containers ---------------------------------------------------------------------------------


def property_type(value: Any, where: str) -> dict[str, Any]:
    obj = expect_object(value, where)
    kind = obj.get("type")
    out: dict[str, Any] = {"type": kind}
    if kind == "enum":
        reject_unknown(obj, ("type", "values", "unknownValue"), where)
        values = expect_object(obj.get("values"), f"{where}.values")
        if not values or len(values) > 32:
            raise bad_request(f"{where}.values must have between 1 and 32 entries")
        out["values"] = {k: expect_object(v, f"{where}.values.{k}") for k, v in values.items()}
        if obj.get("unknownValue") is not None:
            if obj["unknownValue"] not in values:
                raise bad_request(f"{where}.unknownValue must be one of the enum's values")
            out["unknownValue"] = obj["unknownValue"]
        return out
    if kind not in LIST_TYPES:
        raise bad_request(f"{where}.type: unknown property type {str(kind)[:40]!r}")
    allowed = ["type", "list", "maxListSize"]
    if kind == "text":
        allowed.append("collation")
        out["collation"] = get_str(obj, "collation", where) or "ucs_basic"
    if kind == "direct":
        allowed.append("container")
        if obj.get("container") is not None:
            space, xid = container_ref(obj["container"], f"{where}.container")
            out["container"] = {"space": space, "externalId": xid, "type": "container"}
    reject_unknown(obj, allowed, where)
    out["list"] = get_bool(obj, "list", where)
    if obj.get("maxListSize") is not None:
        size = obj["maxListSize"]
        if not out["list"]:
            raise bad_request(f"{where}.maxListSize is only allowed on list properties")
        if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= MAX_LIST_SIZE:
            raise bad_request(f"{where}.maxListSize must be an integer between 1 and {MAX_LIST_SIZE}")
        out["maxListSize"] = size
    return out


def container_property(value: Any, where: str) -> dict[str, Any]:
    obj = expect_object(value, where)
    reject_unknown(
        obj,
        (
            "type",
            "nullable",
            "immutable",
            "autoIncrement",
            "defaultValue",
            "name",
            "description",
            "constraintState",
        ),
        where,
    )
    prop: dict[str, Any] = {
        "type": property_type(obj.get("type"), f"{where}.type"),
        "nullable": get_bool(obj, "nullable", where, default=True),
        "immutable": get_bool(obj, "immutable", where),
        "autoIncrement": get_bool(obj, "autoIncrement", where),
        **_texts(obj, where),
    }
    if prop["autoIncrement"] and prop["type"]["type"] not in ("int32", "int64"):
        raise bad_request(f"{where}: autoIncrement is only allowed on int32 and int64 properties")
    if obj.get("defaultValue") is not None:
        prop["defaultValue"] = obj["defaultValue"]
    return prop


def _constraint(value: Any, where: str, properties: dict[str, Any]) -> dict[str, Any]:
    obj = expect_object(value, where)
    kind = obj.get("constraintType")
    if kind == "requires":
        reject_unknown(obj, ("constraintType", "require", "state"), where)
        space, xid = container_ref(obj.get("require"), f"{where}.require")
        return {
            "constraintType": "requires",
            "require": {"space": space, "externalId": xid, "type": "container"},
        }
    if kind == "uniqueness":
        reject_unknown(obj, ("constraintType", "properties", "bySpace", "state"), where)
        return {
            "constraintType": "uniqueness",
            "properties": _property_list(obj.get("properties"), f"{where}.properties", properties),
            "bySpace": get_bool(obj, "bySpace", where),
        }
    raise bad_request(f"{where}.constraintType must be 'requires' or 'uniqueness'")


def _index(value: Any, where: str, properties: dict[str, Any]) -> dict[str, Any]:
    obj = expect_object(value, where)
    kind = obj.get("indexType", "btree")
    names = _property_list(obj.get("properties"), f"{where}.properties", properties)
    if kind == "btree":
        reject_unknown(obj, ("indexType", "properties", "cursorable", "bySpace", "state"), where)
        return {
            "indexType": "btree",
            "properties": names,
            "cursorable": get_bool(obj, "cursorable", where),
            "bySpace": get_bool(obj, "bySpace", where),
        }
    if kind == "inverted":
        reject_unknown(obj, ("indexType", "properties", "state"), where)
        return {"indexType": "inverted", "properties": names}
    raise bad_request(f"{where}.indexType must be 'btree' or 'inverted'")


def _property_list(value: Any, where: str, properties: dict[str, Any]) -> list[str]:
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise bad_request(f"{where} must be a non-empty list of property identifiers")
    unknown = [v for v in value if v not in properties]
    if unknown:
        raise bad_request(f"{where}: properties not in the container: {', '.join(unknown)}")
    return list(value)


def container_item(item: Any, where: str) -> dict[str, Any]:
    obj = expect_object(item, where)
    reject_unknown(
        obj,
        ("space", "externalId", "name", "description", "usedFor", "properties", "constraints", "indexes"),
        where,
    )
    used_for = obj.get("usedFor", "node")
    if used_for not in ("node", "edge", "all"):
        raise bad_request(f"{where}.usedFor must be one of node, edge, all")
    raw = expect_object(obj.get("properties"), f"{where}.properties")
    if not raw or len(raw) > 100:
        raise bad_request(f"{where}.properties must have between 1 and 100 properties")
    properties = {}
    for key, value in raw.items():
        _check_property_id(key, f"{where}.properties")
        properties[key] = container_property(value, f"{where}.properties.{key}")
    constraints = expect_object(obj.get("constraints") or {}, f"{where}.constraints")
    indexes = expect_object(obj.get("indexes") or {}, f"{where}.indexes")
    return {
        "space": check_space(obj.get("space"), where),
        "externalId": check_xid(obj.get("externalId"), where),
        **_texts(obj, where),
        "usedFor": used_for,
        "properties": properties,
        "constraints": {
            k: _constraint(v, f"{where}.constraints.{k}", properties) for k, v in constraints.items()
        },
        "indexes": {k: _index(v, f"{where}.indexes.{k}", properties) for k, v in indexes.items()},
    }


def _check_property_id(key: str, where: str) -> None:
    if not PROPERTY_RE.match(key) or key in RESERVED_PROPERTIES:
        raise bad_request(f"{where}: invalid or reserved property identifier {key[:60]!r}")


# --- views and data models ------------------------------------------------------------------------


def _view_ref_out(ref: tuple[str, str, str]) -> dict[str, Any]:
    return {"space": ref[0], "externalId": ref[1], "version": ref[2], "type": "view"}


def view_property(value: Any, where: str) -> dict[str, Any]:
    obj = expect_object(value, where)
    connection = obj.get("connectionType")
    if connection is None and "container" in obj:
        reject_unknown(
            obj, ("container", "containerPropertyIdentifier", "name", "description", "source"), where
        )
        space, xid = container_ref(obj["container"], f"{where}.container")
        prop: dict[str, Any] = {
            "container": {"space": space, "externalId": xid, "type": "container"},
            "containerPropertyIdentifier": get_str(obj, "containerPropertyIdentifier", where, required=True),
            **_texts(obj, where),
        }
        if obj.get("source") is not None:
            prop["source"] = _view_ref_out(view_ref(obj["source"], f"{where}.source"))
        return prop
    if connection in ("single_edge_connection", "multi_edge_connection") or (
        connection is None and "type" in obj
    ):
        reject_unknown(
            obj, ("connectionType", "type", "source", "edgeSource", "direction", "name", "description"), where
        )
        edge_type = expect_object(obj.get("type"), f"{where}.type")
        direction = obj.get("direction", "outwards")
        if direction not in ("outwards", "inwards"):
            raise bad_request(f"{where}.direction must be 'outwards' or 'inwards'")
        prop = {
            "connectionType": connection or "multi_edge_connection",
            "type": {
                "space": check_space(edge_type.get("space"), f"{where}.type"),
                "externalId": _instance_xid(edge_type.get("externalId"), f"{where}.type"),
            },
            "source": _view_ref_out(view_ref(obj.get("source"), f"{where}.source")),
            "direction": direction,
            **_texts(obj, where),
        }
        if obj.get("edgeSource") is not None:
            prop["edgeSource"] = _view_ref_out(view_ref(obj["edgeSource"], f"{where}.edgeSource"))
        return prop
    if connection in ("single_reverse_direct_relation", "multi_reverse_direct_relation"):
        reject_unknown(obj, ("connectionType", "source", "through", "name", "description"), where)
        through = expect_object(obj.get("through"), f"{where}.through")
        reject_unknown(through, ("source", "identifier"), f"{where}.through")
        source = expect_object(through.get("source"), f"{where}.through.source")
        if source.get("type") == "container":
            space, xid = container_ref(source, f"{where}.through.source")
            through_source: dict[str, Any] = {"space": space, "externalId": xid, "type": "container"}
        else:
            through_source = _view_ref_out(view_ref(source, f"{where}.through.source"))
        return {
            "connectionType": connection,
            "source": _view_ref_out(view_ref(obj.get("source"), f"{where}.source")),
            "through": {
                "source": through_source,
                "identifier": get_str(through, "identifier", f"{where}.through", required=True),
            },
            **_texts(obj, where),
        }
    raise bad_request(f"{where}: a view property maps a container property or declares a connection")


def _instance_xid(value: Any, where: str) -> str:
    if not isinstance(value, str) or not 1 <= len(value) <= 256:
        raise bad_request(f"{where}.externalId must be a string of 1 to 256 characters")
    return value


def view_item(item: Any, where: str) -> dict[str, Any]:
    obj = expect_object(item, where)
    reject_unknown(
        obj,
        ("space", "externalId", "version", "name", "description", "filter", "implements", "properties"),
        where,
    )
    raw = expect_object(obj.get("properties") or {}, f"{where}.properties")
    if len(raw) > 300:
        raise bad_request(f"{where}.properties may have at most 300 properties")
    properties = {}
    for key, value in raw.items():
        _check_property_id(key, f"{where}.properties")
        properties[key] = view_property(value, f"{where}.properties.{key}")
    implements = obj.get("implements") or []
    if not isinstance(implements, list) or len(implements) > 10:
        raise bad_request(f"{where}.implements must be a list of at most 10 views")
    view: dict[str, Any] = {
        "space": check_space(obj.get("space"), where),
        "externalId": check_xid(obj.get("externalId"), where),
        "version": check_version(obj.get("version"), where),
        **_texts(obj, where),
        "implements": [
            _view_ref_out(view_ref(v, f"{where}.implements[{i}]")) for i, v in enumerate(implements)
        ],
        "properties": properties,
    }
    if obj.get("filter") is not None:
        view["filter"] = expect_object(obj["filter"], f"{where}.filter")
    return view


def data_model_item(item: Any, where: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The data model (views by reference) and the views it declares inline."""
    obj = expect_object(item, where)
    reject_unknown(obj, ("space", "externalId", "version", "name", "description", "views"), where)
    views = obj.get("views") or []
    if not isinstance(views, list) or len(views) > 1000:
        raise bad_request(f"{where}.views must be a list of at most 1000 views")
    refs: list[dict[str, Any]] = []
    inline: list[dict[str, Any]] = []
    for i, view in enumerate(views):
        at = f"{where}.views[{i}]"
        if isinstance(view, dict) and ("properties" in view or "implements" in view or "filter" in view):
            full = view_item(view, at)
            inline.append(full)
            refs.append(_view_ref_out((full["space"], full["externalId"], full["version"])))
        else:
            refs.append(_view_ref_out(view_ref(view, at)))
    model = {
        "space": check_space(obj.get("space"), where),
        "externalId": check_xid(obj.get("externalId"), where),
        "version": check_version(obj.get("version"), where),
        **_texts(obj, where),
        "views": refs,
    }
    return model, inline
