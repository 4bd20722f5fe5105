"""Query (result-set expressions, traversals, select, cursors) and sync on the emulator's clock."""

from __future__ import annotations

from cognite.client import CogniteClient
from cognite.client import data_modeling as dm
from cognite.client.data_classes import filters as f
from cognite.client.data_classes.data_modeling.query import (
    EdgeResultSetExpression,
    NodeResultSetExpression,
    NodeResultSetExpressionSync,
    Query,
    QuerySync,
    Select,
    SelectSync,
    SourceSelector,
)

from emulator import FunctionsEmulator
from tests.dm_helpers import PUMP, SITE, SPACE, dm_env, feeds, make_schema, pump

__all__ = ["dm_env"]
Env = tuple[FunctionsEmulator, CogniteClient]
XID = ["node", "externalId"]


def chain(client: CogniteClient, n: int = 6) -> None:
    """p0 -> p1 -> ... -> p{n-1}, all at site north."""
    make_schema(client)
    north = {"space": SPACE, "externalId": "north"}
    client.data_modeling.instances.apply(
        [dm.NodeApply(SPACE, "north", sources=[dm.NodeOrEdgeData(SITE, {"name": "North"})])]
        + [pump(f"p{i}", flow=float(i), site=north) for i in range(n)],
        [feeds(f"p{i}", f"p{i + 1}") for i in range(n - 1)],
    )


def ids(result, name: str) -> list[str]:
    return [i.external_id for i in result[name]]


def test_query_traversals_and_select(dm_env: Env) -> None:
    _, client = dm_env
    chain(client)
    query = Query(
        with_={
            "start": NodeResultSetExpression(filter=f.Equals(XID, "p0")),
            "every": NodeResultSetExpression(limit=1000),
            "hops": EdgeResultSetExpression(from_="start", max_distance=2, direction="outwards"),
            "reached": NodeResultSetExpression(from_="hops"),
            "far": EdgeResultSetExpression(
                from_="start", node_filter=f.Range(PUMP.as_property_ref("flow"), lte=4), limit=10
            ),
            "stop": EdgeResultSetExpression(from_="start", termination_filter=f.Equals(XID, "p2")),
            "site": NodeResultSetExpression(from_="start", through=PUMP.as_property_ref("site")),
            "pumps": NodeResultSetExpression(
                from_="site", through=PUMP.as_property_ref("site"), direction="inwards", limit=3
            ),
        },
        select={
            "reached": Select([SourceSelector(PUMP, ["flow"])]),
            "site": Select([SourceSelector(SITE, ["*"])]),
        },
    )
    result = client.data_modeling.instances.query(query)
    assert ids(result, "start") == ["p0"]
    # every node: six pumps and the site (and the unit nodes of cdf_cdm_units, where vendored)
    assert len([n for n in result["every"] if n.space == SPACE]) == 7
    assert ids(result, "hops") == ["p0->p1", "p1->p2"]
    assert ids(result, "reached") == ["p1", "p2"]
    assert result["reached"][0].properties[PUMP] == {"flow": 1.0}
    assert ids(result, "far") == ["p0->p1", "p1->p2", "p2->p3", "p3->p4"]
    assert ids(result, "stop") == ["p0->p1", "p1->p2"]
    assert ids(result, "site") == ["north"]
    assert result["site"][0].properties[SITE]["name"] == "North"
    assert ids(result, "pumps") == ["p0", "p1", "p2"]
    assert result.cursors["pumps"] is not None and result.cursors["start"] is None


def test_query_sort_limit_and_cursor(dm_env: Env) -> None:
    _, client = dm_env
    chain(client, 8)
    flow = PUMP.as_property_ref("flow")
    query = Query(
        with_={
            "pumps": NodeResultSetExpression(
                filter=f.HasData(views=[PUMP]), sort=[dm.InstanceSort(flow, "descending")], limit=3
            )
        },
        select={"pumps": Select([SourceSelector(PUMP, ["flow"])])},
    )
    first = client.data_modeling.instances.query(query)
    assert ids(first, "pumps") == ["p7", "p6", "p5"]
    query.cursors = first.cursors
    second = client.data_modeling.instances.query(query)
    assert ids(second, "pumps") == ["p4", "p3", "p2"]


def test_sync_returns_only_changes_after_time_travel(dm_env: Env) -> None:
    emu, client = dm_env
    chain(client, 3)
    query = QuerySync(
        with_={"pumps": NodeResultSetExpressionSync(filter=f.HasData(views=[PUMP]))},
        select={"pumps": SelectSync([SourceSelector(PUMP, ["*"])])},
    )
    first = client.data_modeling.instances.sync(query)
    assert ids(first, "pumps") == ["p0", "p1", "p2"]
    query.cursors = first.cursors
    assert ids(client.data_modeling.instances.sync(query), "pumps") == []  # nothing changed

    emu.clock.advance(hours=1)
    client.data_modeling.instances.apply([pump("p1", flow=99.0), pump("p9")])
    client.data_modeling.instances.delete((SPACE, "p2"))
    changed = client.data_modeling.instances.sync(query)
    assert ids(changed, "pumps") == ["p1", "p9", "p2"]
    p1, p9, p2 = changed["pumps"]
    assert p1.properties[PUMP]["flow"] == 99.0 and p1.last_updated_time == p9.created_time
    assert p2.deleted_time is not None and p9.created_time > first["pumps"][0].created_time
    query.cursors = changed.cursors
    assert ids(client.data_modeling.instances.sync(query), "pumps") == []


def test_sync_pages_through_many_changes(dm_env: Env) -> None:
    _, client = dm_env
    make_schema(client)
    client.data_modeling.instances.apply([pump(f"n{i:03d}") for i in range(250)])
    query = QuerySync(
        with_={"all": NodeResultSetExpressionSync(filter=f.HasData(views=[PUMP]), limit=100)},
        select={"all": SelectSync([SourceSelector(PUMP, ["name"])])},
    )
    seen: list[str] = []
    for _ in range(4):
        result = client.data_modeling.instances.sync(query)
        seen += ids(result, "all")
        query.cursors = result.cursors
    assert len(seen) == 250 and len(set(seen)) == 250
