"""The DMS filter language, compiled once per request into a predicate over instances.

Properties are named as the API names them: ``["node", "externalId"]`` (built-ins of nodes and
edges: space, externalId, type, version, createdTime, lastUpdatedTime, startNode, endNode),
``[space, "view/version", property]`` (view properties) or ``[space, container, property]``.
Values may be ``{"parameter": name}`` (query parameters). Timestamps compare as instants.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from emulator.errors import bad_request
from emulator.resources.instances.domain import Instance, InstancesPart
from emulator.resources.instances.sources import Mapped, Source, instance_ref, parse_source_ref, resolve
from emulator.resources.instances.values import timestamp_ms
from emulator.resources.models.domain import ModelsPart

Predicate = Callable[[Instance], bool]
Getter = Callable[[Instance], Any]
BUILTIN = {"space", "externalId", "type", "version", "createdTime", "lastUpdatedTime", "startNode", "endNode"}
MAX_DEPTH = 32


class Context:
    """What compiling a filter needs: the schema, the instances (for nested) and parameters."""

    def __init__(
        self, models: ModelsPart, part: InstancesPart, parameters: dict[str, Any] | None = None
    ) -> None:
        self.models = models
        self.part = part
        self.parameters = parameters or {}
        self._sources: dict[tuple[str, ...], Source] = {}
        self._filters: dict[tuple[str, ...], Predicate] = {}

    def source(self, ref: dict[str, Any]) -> Source:
        key = tuple(str(v) for v in ref.values())
        if key not in self._sources:
            self._sources[key] = resolve(self.models, ref)
        return self._sources[key]

    def view_filter(self, source: Source) -> Predicate:
        """A view's own filter, compiled once per request."""
        key = ("filter", *(str(v) for v in source.ref.values()))
        found = self._filters.get(key)
        if found is None:
            found = self._filters[key] = compile_filter(self, source.filter)
        return found

    def value(self, raw: Any, where: str) -> Any:
        if isinstance(raw, dict) and set(raw) == {"parameter"}:
            name = raw["parameter"]
            if name not in self.parameters:
                raise bad_request(f"{where}: unknown parameter {str(name)[:40]!r}")
            return self.parameters[name]
        return raw


def _builtin(name: str) -> Getter:
    if name == "space":
        return lambda i: i.space
    if name == "externalId":
        return lambda i: i.external_id
    if name == "type":
        return lambda i: i.type
    if name == "version":
        return lambda i: i.version
    if name == "createdTime":
        return lambda i: i.created
    if name == "lastUpdatedTime":
        return lambda i: i.updated
    if name == "startNode":
        return lambda i: i.start
    return lambda i: i.end


def resolve_property(ctx: Context, prop: Any, where: str) -> tuple[Getter, Mapped | None]:
    """A getter of the property's value on an instance, and its definition (None: built-in)."""
    if not isinstance(prop, list) or not all(isinstance(p, str) for p in prop) or not 2 <= len(prop) <= 3:
        raise bad_request(f"{where}: property must be a list of 2 or 3 strings")
    if len(prop) == 2:
        if prop[0] not in ("node", "edge", "instance") or prop[1] not in BUILTIN:
            raise bad_request(f"{where}: unknown property {prop!r}")
        return _builtin(prop[1]), None
    space, owner, name = prop
    if "/" in owner:
        xid, _, version = owner.partition("/")
        ref = parse_source_ref({"type": "view", "space": space, "externalId": xid, "version": version}, where)
    else:
        ref = parse_source_ref({"type": "container", "space": space, "externalId": owner}, where)
    source = ctx.source(ref)
    mapped = source.properties.get(name)
    if mapped is None:
        raise bad_request(f"{where}: property {name!r} does not exist in {source.kind} {source.label}")
    container, identifier = mapped.container, mapped.identifier

    def get(instance: Instance) -> Any:
        values = instance.data.get(container)
        return values.get(identifier) if values is not None else None

    return get, mapped


def _comparable(mapped: Mapped | None, value: Any) -> Any:
    if mapped is not None and mapped.definition["type"].get("type") == "timestamp" and isinstance(value, str):
        try:
            return timestamp_ms(value)
        except ValueError:
            raise bad_request(f"Invalid timestamp {value[:40]!r}") from None
    return value


def _key_getter(getter: Getter, mapped: Mapped | None) -> Getter:
    if mapped is not None and mapped.definition["type"].get("type") == "timestamp":
        return lambda i: None if (v := getter(i)) is None else timestamp_ms(v)
    return getter


def _range_test(
    bounds: dict[str, Any], ctx: Context, mapped: Mapped | None, where: str
) -> Callable[[Any], bool]:
    unknown = set(bounds) - {"gt", "gte", "lt", "lte"}
    if unknown or not bounds:
        raise bad_request(f"{where}: range takes gt, gte, lt and lte")
    limits = {k: _comparable(mapped, ctx.value(v, where)) for k, v in bounds.items()}

    def test(value: Any) -> bool:
        if value is None:
            return False
        try:
            return (
                ("gt" not in limits or value > limits["gt"])
                and ("gte" not in limits or value >= limits["gte"])
                and ("lt" not in limits or value < limits["lt"])
                and ("lte" not in limits or value <= limits["lte"])
            )
        except TypeError:
            return False

    return test


def compile_filter(ctx: Context, spec: Any, where: str = "filter", depth: int = 0) -> Predicate:
    if depth > MAX_DEPTH:
        raise bad_request(f"{where}: filter is nested too deeply")
    if not isinstance(spec, dict) or len(spec) != 1:
        raise bad_request(f"{where}: a filter is an object with exactly one operator")
    ((op, arg),) = spec.items()
    at = f"{where}.{op}"
    if op in ("and", "or"):
        if not isinstance(arg, list) or not arg:
            raise bad_request(f"{at} must be a non-empty list of filters")
        parts = [compile_filter(ctx, f, f"{at}[{i}]", depth + 1) for i, f in enumerate(arg)]
        if op == "and":
            return lambda i: all(p(i) for p in parts)
        return lambda i: any(p(i) for p in parts)
    if op == "not":
        inner = compile_filter(ctx, arg, at, depth + 1)
        return lambda i: not inner(i)
    if op == "matchAll":
        if arg != {}:
            raise bad_request(f"{at} must be an empty object")
        return lambda i: True
    if op == "hasData":
        return _has_data(ctx, arg, at)
    if op == "instanceReferences":
        if not isinstance(arg, list):
            raise bad_request(f"{at} must be a list of {{space, externalId}}")
        refs = [instance_ref(r, f"{at}[{n}]") for n, r in enumerate(arg)]
        wanted = {(r["space"], r["externalId"]) for r in refs}
        return lambda i: (i.space, i.external_id) in wanted
    if not isinstance(arg, dict):
        raise bad_request(f"{at} must be an object")
    if op == "nested":
        return _nested(ctx, arg, at, depth)
    if op == "overlaps":
        return _overlaps(ctx, arg, at)
    getter, mapped = resolve_property(ctx, arg.get("property"), at)
    if op == "equals":
        value = _comparable(mapped, ctx.value(arg.get("value"), at))
        key = _key_getter(getter, mapped)
        return lambda i: key(i) == value
    if op == "in":
        values = ctx.value(arg.get("values"), at)
        if not isinstance(values, list):
            raise bad_request(f"{at}.values must be a list")
        options = [_comparable(mapped, v) for v in values]
        key = _key_getter(getter, mapped)
        return lambda i: key(i) in options
    if op == "range":
        test = _range_test({k: v for k, v in arg.items() if k != "property"}, ctx, mapped, at)
        key = _key_getter(getter, mapped)
        return lambda i: test(key(i))
    if op == "prefix":
        prefix = ctx.value(arg.get("value"), at)
        return lambda i: _has_prefix(getter(i), prefix)
    if op == "exists":
        return lambda i: getter(i) is not None
    if op in ("containsAny", "containsAll"):
        values = ctx.value(arg.get("values"), at)
        if not isinstance(values, list):
            raise bad_request(f"{at}.values must be a list")
        if op == "containsAny":
            return lambda i: isinstance(v := getter(i), list) and any(x in v for x in values)
        return lambda i: isinstance(v := getter(i), list) and all(x in v for x in values)
    raise bad_request(f"{where}: unknown filter {op!r}")


def _has_prefix(value: Any, prefix: Any) -> bool:
    if isinstance(value, str) and isinstance(prefix, str):
        return value.startswith(prefix)
    if isinstance(value, list) and isinstance(prefix, list):
        return value[: len(prefix)] == prefix
    return False


def has_data(instance: Instance, source: Source, ctx: Context) -> bool:
    """An instance has data in a container when it holds values there; in a view when it has data
    in every container the view maps (or matches the view's own filter, when it has one)."""
    if source.kind == "view" and source.filter is not None:
        return ctx.view_filter(source)(instance)
    containers = source.mapped if source.kind == "view" else ((source.space, source.ref["externalId"]),)
    data = instance.data
    if not containers:
        return False
    return all(key in data for key in containers)


def _has_data(ctx: Context, arg: Any, at: str) -> Predicate:
    if not isinstance(arg, list) or not arg:
        raise bad_request(f"{at} must be a non-empty list of views or containers")
    sources = [ctx.source(parse_source_ref(r, f"{at}[{n}]")) for n, r in enumerate(arg)]
    return lambda i: all(has_data(i, s, ctx) for s in sources)


def _nested(ctx: Context, arg: dict[str, Any], at: str, depth: int) -> Predicate:
    getter, mapped = resolve_property(ctx, arg.get("scope"), f"{at}.scope")
    if mapped is not None and mapped.definition["type"].get("type") != "direct":
        raise bad_request(f"{at}.scope must be a direct relation property")
    inner = compile_filter(ctx, arg.get("filter"), f"{at}.filter", depth + 1)
    items = ctx.part.items

    def test(instance: Instance) -> bool:
        target = getter(instance)
        targets = target if isinstance(target, list) else [target]
        for ref in targets:
            if isinstance(ref, dict):
                node = items.get(("node", ref["space"], ref["externalId"]))
                if node is not None and inner(node):
                    return True
        return False

    return test


def _overlaps(ctx: Context, arg: dict[str, Any], at: str) -> Predicate:
    start, start_mapped = resolve_property(ctx, arg.get("startProperty"), f"{at}.startProperty")
    end, end_mapped = resolve_property(ctx, arg.get("endProperty"), f"{at}.endProperty")
    bounds = {k: v for k, v in arg.items() if k not in ("startProperty", "endProperty")}
    start_key, end_key = _key_getter(start, start_mapped), _key_getter(end, end_mapped)
    limits = {k: _comparable(start_mapped, ctx.value(v, at)) for k, v in bounds.items()}

    def test(instance: Instance) -> bool:
        lo, hi = start_key(instance), end_key(instance)
        if lo is None and hi is None:
            return False  # one missing end is an open range; both missing is no range at all
        try:
            if "gt" in limits and hi is not None and not hi > limits["gt"]:
                return False
            if "gte" in limits and hi is not None and not hi >= limits["gte"]:
                return False
            if "lt" in limits and lo is not None and not lo < limits["lt"]:
                return False
            if "lte" in limits and lo is not None and not lo <= limits["lte"]:
                return False
        except TypeError:
            return False
        return True

    return test
