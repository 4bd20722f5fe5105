"""Nodes and edges through the real SDK (in-process and loopback): apply rules, filters, reads."""

from __future__ import annotations

import pytest
from cognite.client import CogniteClient
from cognite.client import data_modeling as dm
from cognite.client.data_classes import filters as f
from cognite.client.data_classes.data_modeling.cdm.v1 import CogniteAssetApply, CogniteTimeSeriesApply
from cognite.client.exceptions import CogniteAPIError

from emulator import FunctionsEmulator, persistence
from tests.dm_helpers import PUMP, SITE, SPACE, dm_env, feeds, make_schema, pump

__all__ = ["dm_env"]
Env = tuple[FunctionsEmulator, CogniteClient]


@pytest.fixture
def plant(dm_env: Env) -> Env:
    emu, client = dm_env
    make_schema(client)
    client.data_modeling.instances.apply(
        [
            dm.NodeApply(SPACE, "north", sources=[dm.NodeOrEdgeData(SITE, {"name": "North"})]),
            pump(
                "p1",
                flow=1.5,
                tags=["a", "b"],
                site={"space": SPACE, "externalId": "north"},
                installed="2024-01-01T00:00:00Z",
            ),
            pump("p2", flow=2.5, tags=["b"], running=False, installed="2025-06-01T12:00:00+02:00"),
            pump("p3", flow=10.0, tags=["c", "a"], site={"space": SPACE, "externalId": "north"}),
            pump("q4"),
        ],
        [feeds("p1", "p2"), feeds("p2", "p3")],
    )
    return emu, client


def names(nodes) -> list[str]:
    return [n.external_id for n in nodes]


def listed(client: CogniteClient, flt=None, **kwargs) -> list[str]:
    return names(client.data_modeling.instances.list(sources=PUMP, filter=flt, limit=-1, **kwargs))


def test_apply_update_and_versions(plant: Env) -> None:
    emu, client = plant
    node = client.data_modeling.instances.retrieve((SPACE, "p1"), sources=PUMP).nodes[0]
    props = node.properties[PUMP]
    assert props["flow"] == 1.5 and props["running"] is True  # the container's default
    assert props["installed"] == "2024-01-01T00:00:00.000+00:00"
    assert props["site"] == {"space": SPACE, "externalId": "north"}
    assert node.version == 1
    emu.clock.advance(minutes=5)
    res = client.data_modeling.instances.apply(pump("p1", flow=3.0))
    assert res.nodes[0].version == 2 and res.nodes[0].was_modified
    again = client.data_modeling.instances.apply(pump("p1", flow=3.0))
    assert again.nodes[0].version == 2 and not again.nodes[0].was_modified
    merged = client.data_modeling.instances.retrieve((SPACE, "p1"), sources=PUMP).nodes[0].properties[PUMP]
    assert merged["tags"] == ["a", "b"] and merged["flow"] == 3.0  # merge keeps what was not sent
    client.data_modeling.instances.apply(pump("p1", flow=4.0), replace=True)
    replaced = client.data_modeling.instances.retrieve((SPACE, "p1"), sources=PUMP).nodes[0].properties[PUMP]
    assert "tags" not in replaced and replaced["running"] is True


def test_existing_version_and_skip_on_conflict(plant: Env) -> None:
    emu, client = plant
    stale = dm.NodeApply(SPACE, "p2", existing_version=0, sources=[dm.NodeOrEdgeData(PUMP, {"name": "x"})])
    before = emu.state()
    with pytest.raises(CogniteAPIError) as err:
        client.data_modeling.instances.apply(stale)
    assert err.value.code == 409 and "version conflict" in err.value.message
    assert emu.state() == before
    res = client.data_modeling.instances.apply([stale, pump("p9")], skip_on_version_conflict=True)
    assert names(res.nodes) == ["p9"]


def test_edges_and_auto_create(plant: Env) -> None:
    _, client = plant
    with pytest.raises(CogniteAPIError) as err:
        client.data_modeling.instances.apply(edges=feeds("p3", "ghost"))
    assert err.value.code == 400 and "ghost" in err.value.message
    client.data_modeling.instances.apply(edges=feeds("p3", "ghost"), auto_create_end_nodes=True)
    assert client.data_modeling.instances.retrieve((SPACE, "ghost")).nodes[0].properties.data == {}
    with pytest.raises(CogniteAPIError):
        client.data_modeling.instances.apply(
            pump("p5", site={"space": SPACE, "externalId": "south"}), auto_create_direct_relations=False
        )
    client.data_modeling.instances.apply(pump("p5", site={"space": SPACE, "externalId": "south"}))
    assert client.data_modeling.instances.retrieve((SPACE, "south")).nodes
    edges = client.data_modeling.instances.list(instance_type="edge", limit=-1)
    assert sorted(e.external_id for e in edges) == ["p1->p2", "p2->p3", "p3->ghost"]
    assert edges[0].type == dm.DirectRelationReference(SPACE, "feeds")
    # Deleting a node deletes its edges.
    client.data_modeling.instances.delete(nodes=[(SPACE, "p2")])
    assert [e.external_id for e in client.data_modeling.instances.list(instance_type="edge", limit=-1)] == [
        "p3->ghost"
    ]


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"flow": "fast"}, "expected a finite number"),
        ({"tags": "a"}, "expected a list of text"),
        ({"running": 1}, "expected a boolean"),
        ({"installed": "yesterday"}, "expected a timestamp"),
        ({"site": "north"}, "expected a direct relation"),
        ({"name": None}, "not nullable"),
        ({"colour": "red"}, "does not exist in view"),
    ],
)
def test_type_checks_answer_400_and_change_nothing(plant: Env, values: dict, message: str) -> None:
    emu, client = plant
    before = emu.state()
    with pytest.raises(CogniteAPIError) as err:
        client.data_modeling.instances.apply([pump("p7"), pump("p8", **values)])
    assert err.value.code == 400 and message in err.value.message, err.value.message
    assert emu.state() == before


def test_required_and_immutable_properties(plant: Env) -> None:
    _, client = plant
    with pytest.raises(CogniteAPIError) as err:
        client.data_modeling.instances.apply(
            dm.NodeApply(SPACE, "x", sources=[dm.NodeOrEdgeData(PUMP, {"flow": 1.0})])
        )
    assert "Missing required properties" in err.value.message and "name" in err.value.message
    client.data_modeling.instances.apply(pump("p1", serial="S-1"))
    with pytest.raises(CogniteAPIError) as err:
        client.data_modeling.instances.apply(pump("p1", serial="S-2"))
    assert "immutable" in err.value.message
    with pytest.raises(CogniteAPIError) as err:
        client.data_modeling.instances.apply(dm.NodeApply("nowhere", "x"))
    assert "One or more spaces do not exist: nowhere" in err.value.message


def test_each_filter_kind(plant: Env) -> None:
    _, client = plant
    flow, tags, site = (
        PUMP.as_property_ref("flow"),
        PUMP.as_property_ref("tags"),
        PUMP.as_property_ref("site"),
    )
    north = {"space": SPACE, "externalId": "north"}
    assert listed(client, f.Equals(flow, 2.5)) == ["p2"]
    assert listed(client, f.In(flow, [1.5, 10.0])) == ["p1", "p3"]
    assert listed(client, f.Range(flow, gt=1.5, lte=10)) == ["p2", "p3"]
    assert listed(client, f.Prefix(["node", "externalId"], "q")) == ["q4"]
    assert listed(client, f.Exists(flow)) == ["p1", "p2", "p3"]
    assert listed(client, f.ContainsAny(tags, ["a"])) == ["p1", "p3"]
    assert listed(client, f.ContainsAll(tags, ["a", "b"])) == ["p1"]
    assert listed(client, f.MatchAll()) == ["p1", "p2", "p3", "q4"]
    assert listed(client, f.Nested(site, f.Equals(SITE.as_property_ref("name"), "North"))) == ["p1", "p3"]
    assert listed(client, f.Equals(site, north)) == ["p1", "p3"]
    assert listed(client, f.Range(PUMP.as_property_ref("installed"), gte="2025-01-01T00:00:00Z")) == ["p2"]
    assert listed(
        client,
        f.Overlaps(
            PUMP.as_property_ref("installed"),
            PUMP.as_property_ref("installed"),
            gt="2023-12-31T00:00:00Z",
            lt="2024-01-02T00:00:00Z",
        ),
    ) == ["p1"]
    has_site = names(client.data_modeling.instances.list(filter=f.HasData(views=[SITE]), limit=-1))
    assert has_site == ["north"]
    refs = f.InstanceReferences([dm.NodeId(SPACE, "p2"), dm.NodeId(SPACE, "q4")])
    assert listed(client, refs) == ["p2", "q4"]
    assert listed(client, f.And(f.Exists(flow), f.Not(f.Equals(flow, 1.5)))) == ["p2", "p3"]
    assert listed(client, f.Or(f.Equals(flow, 1.5), f.Equals(["node", "externalId"], "q4"))) == ["p1", "q4"]
    assert listed(client, f.Equals(["node", "space"], SPACE)) == ["p1", "p2", "p3", "q4"]
    assert listed(client, f.Range(["node", "createdTime"], gt=0)) == ["p1", "p2", "p3", "q4"]
    assert names(client.data_modeling.instances.list(space=SPACE, limit=-1)) == [
        "north",
        "p1",
        "p2",
        "p3",
        "q4",
    ]
    with pytest.raises(CogniteAPIError) as err:
        listed(client, f.Equals(PUMP.as_property_ref("colour"), 1))
    assert err.value.code == 400


def test_sort_and_cursors(plant: Env) -> None:
    _, client = plant
    client.data_modeling.instances.apply([pump(f"z{i:03d}", flow=float(i)) for i in range(150)])
    flow = PUMP.as_property_ref("flow")
    ordered = client.data_modeling.instances.list(
        sources=PUMP, sort=dm.InstanceSort(flow, "descending", nulls_first=False), limit=-1
    )
    flows = [n.properties[PUMP].get("flow") for n in ordered]
    assert flows[0] == 149.0 and flows[-1] is None and len(flows) == 154
    pages = []
    for chunk in client.data_modeling.instances(chunk_size=40, instance_type="node", sources=PUMP):
        pages.append(len(chunk))
    assert pages == [40, 40, 40, 34]


def test_byids_search_and_aggregate(plant: Env) -> None:
    _, client = plant
    found = client.data_modeling.instances.retrieve(
        [(SPACE, "p1"), (SPACE, "missing"), (SPACE, "p2")], sources=PUMP
    )
    assert names(found.nodes) == ["p1", "p2"]
    assert names(client.data_modeling.instances.search(PUMP, "p3")) == ["p3"]
    assert names(
        client.data_modeling.instances.search(PUMP, "p", filter=f.Range(PUMP.as_property_ref("flow"), gt=2))
    ) == ["p2", "p3"]
    count = client.data_modeling.instances.aggregate(PUMP, dm.aggregations.Count("externalId"))
    assert count.value == 4
    avg = client.data_modeling.instances.aggregate(PUMP, dm.aggregations.Avg("flow"))
    assert avg.value == pytest.approx((1.5 + 2.5 + 10.0) / 3)
    grouped = client.data_modeling.instances.aggregate(
        PUMP, dm.aggregations.Count("externalId"), group_by="running"
    )
    assert sorted((g.group["running"], g.aggregates[0].value) for g in grouped) == [(False, 1), (True, 3)]


def test_core_data_model_asset(dm_env: Env) -> None:
    _, client = dm_env
    client.data_modeling.spaces.apply(dm.SpaceApply("site"))
    client.data_modeling.instances.apply(
        [
            CogniteAssetApply("site", "root", name="Root"),
            CogniteAssetApply("site", "pump", name="Pump 1", parent=("site", "root"), tags=["rotating"]),
        ]
    )
    asset = dm.ViewId("cdf_cdm", "CogniteAsset", "v1")
    children = client.data_modeling.instances.list(
        sources=asset,
        filter=f.Equals(asset.as_property_ref("parent"), {"space": "site", "externalId": "root"}),
        limit=-1,
    )
    assert names(children) == ["pump"]
    assert children[0].properties[asset]["name"] == "Pump 1"
    described = dm.ViewId("cdf_cdm", "CogniteDescribable", "v1")
    assert names(client.data_modeling.instances.search(described, "pump")) == ["pump"]


def test_instances_survive_a_state_file(plant: Env, tmp_path) -> None:
    emu, _ = plant
    path = tmp_path / "state.json"
    persistence.save(emu, path)
    other = FunctionsEmulator(project="dm-project")
    try:
        persistence.load(other, path)
        again = other.client().data_modeling.instances.retrieve((SPACE, "p1"), sources=PUMP).nodes[0]
        assert again.properties[PUMP]["flow"] == 1.5
    finally:
        other.close()


def test_core_data_model_time_series_with_datapoints(dm_env: Env) -> None:
    pytest.importorskip(
        "emulator.resources.timeseries.domain", reason="the time-series family is not on this branch"
    )
    _, client = dm_env
    client.data_modeling.spaces.apply(dm.SpaceApply("site"))
    unit = ("cdf_cdm_units", "temperature:deg_c")
    client.data_modeling.instances.apply(
        CogniteTimeSeriesApply(
            "site", "temp", name="Temperature", is_step=False, time_series_type="numeric", unit=unit
        )
    )
    node = dm.NodeId("site", "temp")
    client.time_series.data.insert([(1_000, 20.5), (2_000, 21.0)], instance_id=node)
    points = client.time_series.data.retrieve(instance_id=node, start=0, end=10_000)
    assert list(points.value) == [20.5, 21.0]
    ts_view = dm.ViewId("cdf_cdm", "CogniteTimeSeries", "v1")
    listed = client.data_modeling.instances.list(sources=ts_view, space="site", limit=-1)
    assert names(listed) == ["temp"] and listed[0].properties[ts_view]["type"] == "numeric"


def test_unit_nodes_of_the_units_catalog(dm_env: Env) -> None:
    from emulator.resources.instances.units import CATALOG

    if not CATALOG.exists():
        pytest.skip("the units catalog is not vendored on this branch")
    _, client = dm_env
    unit_view = dm.ViewId("cdf_cdm", "CogniteUnit", "v1")
    found = client.data_modeling.instances.retrieve(
        ("cdf_cdm_units", "temperature:deg_c"), sources=unit_view
    ).nodes
    assert found[0].properties[unit_view]["quantity"] == "Temperature"
    with pytest.raises(CogniteAPIError):
        client.data_modeling.instances.apply(dm.NodeApply("cdf_cdm_units", "mine"))
