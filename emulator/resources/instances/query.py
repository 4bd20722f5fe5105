"""``/models/instances/query`` and ``/models/instances/sync``: result-set expressions.

Implemented: ``nodes`` (all nodes matching ``filter``; or reached ``from`` another set
``through`` a direct relation, ``outwards`` or ``inwards``; or the nodes at the ends of an edge
set, ``chainTo`` choosing which end), ``edges`` (from a node set, ``outwards``/``inwards``, up to
``maxDistance`` hops, with ``filter`` on edges, ``nodeFilter`` on the nodes reached,
``terminationFilter`` to stop at nodes, ``limitEach``), ``limit``, ``sort``, ``select`` (sources
and properties per set), ``parameters`` and per-set cursors (offsets). Dependent sets are
computed from the page of the set they start from, as CDF does.

Sync runs the same expressions over the current state and answers, per set, only instances
changed after the set's cursor (deletions as tombstones with ``deletedTime``); a cursor is the
change sequence reached, so nothing changed between two syncs is ever returned twice or missed.
"""

from __future__ import annotations

from typing import Any

from emulator.errors import bad_request
from emulator.resources.instances.domain import Instance, InstancesPart
from emulator.resources.instances.filters import Context, compile_filter, resolve_property
from emulator.resources.instances.read import offset_page, sorter
from emulator.resources.instances.wire import instance_wire, parse_sources, typing_of
from emulator.resources.paging import decode_cursor, encode_cursor
from emulator.spec import check_schema
from emulator.validation import expect_object, reject_unknown

DEFAULT_LIMIT = 100
MAX_LIMIT = 10_000
MAX_SETS = 50
MAX_HOPS = 100


def parameters(body: dict[str, Any]) -> dict[str, Any]:
    """Query parameters, each checked against the official schema of a raw property value."""
    found = expect_object(body.get("parameters", {}), "parameters")
    for name, value in found.items():
        check_schema("RawPropertyValueV3", value, f"parameters.{name}")
    return found


def _order(expressions: dict[str, Any]) -> list[str]:
    """Result sets in dependency order (a set after the set it starts ``from``)."""
    done: list[str] = []
    visiting: set[str] = set()

    def visit(name: str) -> None:
        if name in done:
            return
        if name in visiting:
            raise bad_request(f"with.{name}: result sets depend on each other in a cycle")
        visiting.add(name)
        expr = expect_object(expressions[name], f"with.{name}")
        body = expect_object(expr.get("nodes", expr.get("edges", {})), f"with.{name}")
        for part_of_expr in (expr, body):
            for key, value in part_of_expr.items():
                if value is None:
                    raise bad_request(f"with.{name}.{key} must not be null")
        source = body.get("from")
        if source is not None:
            if not isinstance(source, str) or source not in expressions:
                raise bad_request(f"with.{name}.from: unknown result set {str(source)[:40]!r}")
            visit(source)
        visiting.discard(name)
        done.append(name)

    for name in expressions:
        visit(name)
    return done


def _limit(expr: dict[str, Any], where: str) -> int:
    limit = expr.get("limit", DEFAULT_LIMIT)
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
        raise bad_request(f"{where}.limit must be an integer between 1 and {MAX_LIMIT}")
    return limit


def _nodes(
    part: InstancesPart, ctx: Context, spec: dict[str, Any], sets: dict[str, Any], where: str
) -> list[Instance]:
    reject_unknown(spec, ("from", "through", "direction", "chainTo", "filter"), where)
    predicate = (
        compile_filter(ctx, spec["filter"], f"{where}.filter") if spec.get("filter") is not None else None
    )
    direction = spec.get("direction", "outwards")
    if direction not in ("outwards", "inwards"):
        raise bad_request(f"{where}.direction must be 'outwards' or 'inwards'")
    source = spec.get("from")
    items = part.items
    if source is None:
        found = [i for i in list(items.values()) if i.kind == "node"]
    elif sets[source]["kind"] == "edge":
        chain = spec.get("chainTo", "destination")
        forward = sets[source]["direction"] == "outwards"
        use_end = forward == (chain == "destination")
        refs = [e.end if use_end else e.start for e in sets[source]["page"]]
        found = _unique(items.get(("node", r["space"], r["externalId"])) for r in refs if r is not None)
    elif spec.get("through") is not None:
        through = expect_object(spec["through"], f"{where}.through")
        reject_unknown(through, ("source", "identifier", "view", "container"), f"{where}.through")
        ref = through.get("source") or through.get("view") or through.get("container")
        ref = expect_object(ref, f"{where}.through.source")
        owner = (
            f"{ref.get('externalId')}/{ref.get('version')}"
            if ref.get("type", "view") == "view"
            else ref.get("externalId")
        )
        getter, _ = resolve_property(
            ctx, [ref.get("space"), owner, through.get("identifier")], f"{where}.through"
        )
        start = sets[source]["page"]
        if direction == "outwards":
            refs = [r for n in start for r in _targets(getter(n))]
            found = _unique(items.get(("node", r["space"], r["externalId"])) for r in refs)
        else:
            wanted = {(n.space, n.external_id) for n in start}
            found = [
                i
                for i in list(items.values())
                if i.kind == "node"
                and any((r["space"], r["externalId"]) in wanted for r in _targets(getter(i)))
            ]
    else:
        found = list(sets[source]["page"])
    return [i for i in found if predicate is None or predicate(i)]


def _targets(value: Any) -> list[dict[str, str]]:
    values = value if isinstance(value, list) else [value]
    return [v for v in values if isinstance(v, dict)]


def _unique(instances: Any) -> list[Instance]:
    seen: dict[tuple[str, str, str], Instance] = {}
    for instance in instances:
        if instance is not None:
            seen.setdefault(instance.key, instance)
    return list(seen.values())


def _edges(
    part: InstancesPart, ctx: Context, spec: dict[str, Any], sets: dict[str, Any], where: str
) -> list[Instance]:
    reject_unknown(
        spec,
        (
            "from",
            "direction",
            "filter",
            "nodeFilter",
            "terminationFilter",
            "maxDistance",
            "limitEach",
            "chainTo",
        ),
        where,
    )
    edge_ok = compile_filter(ctx, spec["filter"], f"{where}.filter") if spec.get("filter") else None
    node_ok = (
        compile_filter(ctx, spec["nodeFilter"], f"{where}.nodeFilter") if spec.get("nodeFilter") else None
    )
    stop = (
        compile_filter(ctx, spec["terminationFilter"], f"{where}.terminationFilter")
        if spec.get("terminationFilter")
        else None
    )
    direction = spec.get("direction", "outwards")
    if direction not in ("outwards", "inwards"):
        raise bad_request(f"{where}.direction must be 'outwards' or 'inwards'")
    max_distance = spec.get("maxDistance", MAX_HOPS)
    if (
        isinstance(max_distance, bool)
        or not isinstance(max_distance, int)
        or not 1 <= max_distance <= MAX_HOPS
    ):
        raise bad_request(f"{where}.maxDistance must be an integer between 1 and {MAX_HOPS}")
    limit_each = spec.get("limitEach")
    edges = [e for e in list(part.items.values()) if e.kind == "edge" and (edge_ok is None or edge_ok(e))]
    if spec.get("from") is None:
        return edges
    outwards = direction == "outwards"
    by_node: dict[tuple[str, str], list[Instance]] = {}
    for edge in edges:
        ref = edge.start if outwards else edge.end
        assert ref is not None
        by_node.setdefault((ref["space"], ref["externalId"]), []).append(edge)
    frontier = [(n.space, n.external_id) for n in sets[spec["from"]]["page"] if n.kind == "node"]
    visited = set(frontier)
    found: dict[tuple[str, str, str], Instance] = {}
    for _ in range(max_distance):
        following: list[tuple[str, str]] = []
        for origin in frontier:
            taken = 0
            for edge in by_node.get(origin, []):
                far = edge.end if outwards else edge.start
                assert far is not None
                node = part.items.get(("node", far["space"], far["externalId"]))
                if node_ok is not None and (node is None or not node_ok(node)):
                    continue
                if limit_each is not None and taken >= limit_each:
                    break
                taken += 1
                found.setdefault(edge.key, edge)
                pair = (far["space"], far["externalId"])
                if pair not in visited and not (stop is not None and node is not None and stop(node)):
                    visited.add(pair)
                    following.append(pair)
        if not following:
            break
        frontier = following
    return list(found.values())


def run(part: InstancesPart, ctx: Context, body: dict[str, Any], *, sync: bool) -> dict[str, Any]:
    expressions = expect_object(body.get("with"), "with")
    if not expressions or len(expressions) > MAX_SETS:
        raise bad_request(f"with must have between 1 and {MAX_SETS} result set expressions")
    if body.get("select") is None:
        raise bad_request("Missing required field: select")
    selects = expect_object(body["select"], "select")
    if not selects:
        raise bad_request("select must name at least one result set")
    cursors = expect_object(body.get("cursors", {}), "cursors")
    unknown = sorted((set(selects) | set(cursors)) - set(expressions))
    if unknown:
        raise bad_request(f"select/cursors name unknown result sets: {', '.join(unknown)}")
    sets: dict[str, Any] = {}
    items: dict[str, list[Any]] = {}
    next_cursors: dict[str, str | None] = {}
    typing: dict[str, Any] = {}
    with part.lock:
        reached = part.seq
        for name in _order(expressions):
            where = f"with.{name}"
            expr = expect_object(expressions[name], where)
            reject_unknown(
                expr,
                (
                    "nodes",
                    "edges",
                    "limit",
                    "sort",
                    "postSort",
                    "mode",
                    "backfillSort",
                    "skipAlreadyEmittedResults",
                ),
                where,
            )
            if ("nodes" in expr) == ("edges" in expr):
                raise bad_request(f"{where} must have exactly one of nodes or edges")
            kind = "node" if "nodes" in expr else "edge"
            spec = expect_object(expr["nodes"] if kind == "node" else expr["edges"], f"{where}.{kind}s")
            found = (_nodes if kind == "node" else _edges)(part, ctx, spec, sets, f"{where}.{kind}s")
            limit = _limit(expr, where)
            select = expect_object(selects.get(name, {}), f"select.{name}")
            reject_unknown(select, ("sources", "sort", "limit"), f"select.{name}")
            selection = parse_sources(ctx, select.get("sources"), f"select.{name}.sources")
            cursor: str | None
            if sync:
                page, cursor = _changes(part, found, kind, cursors.get(name), limit, reached)
            else:
                found = sorter(ctx, expr.get("sort"), f"{where}.sort")(found)
                page, cursor = offset_page(found, limit, cursors.get(name))
                if select.get("sort") is not None:
                    page = sorter(ctx, select["sort"], f"select.{name}.sort")(page)
            sets[name] = {
                "kind": kind,
                "page": [i for i in page if i.deleted is None],
                "direction": spec.get("direction", "outwards"),
            }
            items[name] = [instance_wire(i, selection, ctx) for i in page]
            next_cursors[name] = cursor
            if body.get("includeTyping"):
                typing[name] = typing_of(selection, ctx)
    out: dict[str, Any] = {
        "items": items,
        "nextCursor": {k: v for k, v in next_cursors.items() if v is not None},
    }
    if typing:
        out["typing"] = typing
    return out


def _changes(
    part: InstancesPart, found: list[Instance], kind: str, cursor: Any, limit: int, reached: int
) -> tuple[list[Instance], str]:
    """Instances of ``found`` (and deleted ones) changed after the cursor, oldest change first."""
    after = decode_sync_cursor(cursor) if cursor is not None else None
    if after is None:
        changed = sorted(found, key=lambda i: i.seq)
    else:
        wanted = {i.key for i in found}
        deleted = [t for t in part.tombstones.values() if t.kind == kind and t.seq > after]
        changed = sorted(
            [i for i in found if i.seq > after and i.key in wanted] + deleted, key=lambda i: i.seq
        )
    page = changed[:limit]
    more = len(changed) > limit
    return page, encode_sync_cursor(page[-1].seq if more else reached)


def encode_sync_cursor(seq: int) -> str:
    return "sync-" + encode_cursor(seq)


def decode_sync_cursor(cursor: Any) -> int:
    if not isinstance(cursor, str) or not cursor.startswith("sync-"):
        raise bad_request("cursors: not a sync cursor")
    return decode_cursor(cursor[len("sync-") :])
