"""Assets through the real SDK: hierarchies, filters, search, aggregates, updates, recursive delete."""

from __future__ import annotations

import json

import pytest
from cognite.client import CogniteClient
from cognite.client.data_classes import (
    AssetFilter,
    AssetUpdate,
    AssetWrite,
    Label,
    LabelDefinitionWrite,
    LabelFilter,
    filters,
)
from cognite.client.data_classes.assets import AssetProperty
from cognite.client.exceptions import CogniteAPIError, CogniteNotFoundError
from starlette.testclient import TestClient

from emulator import FunctionsEmulator


def _plant(client: CogniteClient) -> None:
    client.labels.create(LabelDefinitionWrite(external_id="PUMP", name="Pump"))
    client.assets.create(
        AssetWrite(external_id="plant", name="Plant", description="the whole site", source="sap")
    )
    # Children before their parents in one request: the emulator links them by parentExternalId.
    client.assets.create(
        [
            AssetWrite(
                external_id="pump-1", name="Pump 1", parent_external_id="area", labels=[Label("PUMP")]
            ),
            AssetWrite(
                external_id="area", name="Area", parent_external_id="plant", metadata={"zone": "north"}
            ),
            AssetWrite(
                external_id="valve", name="Valve", parent_external_id="area", metadata={"zone": "south"}
            ),
        ]
    )
    client.assets.create(AssetWrite(external_id="other", name="Other root", data_set_id=None))


def test_hierarchy_root_and_parents(sdk: CogniteClient) -> None:
    _plant(sdk)
    plant, area, pump = sdk.assets.retrieve_multiple(external_ids=["plant", "area", "pump-1"])
    assert plant.root_id == plant.id and plant.parent_id is None
    assert area.parent_id == plant.id and area.root_id == plant.id
    assert pump.parent_id == area.id and pump.root_id == plant.id
    assert pump.id > 2**40  # CDF-looking ids, not counters from 1


def test_retrieve_subtree_and_aggregated_properties(sdk: CogniteClient) -> None:
    _plant(sdk)
    subtree = sdk.assets.retrieve_subtree(external_id="plant")
    assert sorted(subtree.as_external_ids()) == ["area", "plant", "pump-1", "valve"]
    assert sdk.assets.retrieve_subtree(external_id="plant", depth=1).as_external_ids() == ["plant", "area"]
    (area,) = sdk.assets.list(
        external_id_prefix="area", aggregated_properties=["child_count", "depth", "path"]
    )
    assert area.aggregates.child_count == 2 and area.aggregates.depth == 1
    assert len(area.aggregates.path) == 2
    assert sdk.assets.retrieve(id=42) is None


def test_list_filters(sdk: CogniteClient) -> None:
    _plant(sdk)
    area = sdk.assets.retrieve(external_id="area")
    assert area is not None
    names = lambda found: sorted(found.as_external_ids())  # noqa: E731
    assert names(sdk.assets.list(parent_ids=[area.id])) == ["pump-1", "valve"]
    assert names(sdk.assets.list(parent_external_ids=["area"])) == ["pump-1", "valve"]
    assert names(sdk.assets.list(asset_subtree_external_ids=["area"])) == ["area", "pump-1", "valve"]
    assert names(sdk.assets.list(root=True)) == ["other", "plant"]
    assert names(sdk.assets.list(metadata={"zone": "north"})) == ["area"]
    assert names(sdk.assets.list(labels=LabelFilter(contains_any=["PUMP"]))) == ["pump-1"]
    assert names(sdk.assets.list(source="sap")) == ["plant"]
    assert names(sdk.assets.list(name="Valve")) == ["valve"]
    assert names(sdk.assets.list(created_time={"min": 0, "max": 1})) == []
    assert len(sdk.assets.list(limit=None, partitions=4)) == 5
    assert [len(page) for page in sdk.assets(chunk_size=2)] == [2, 2, 1]


def test_advanced_filter_sort_and_aggregates(sdk: CogniteClient) -> None:
    _plant(sdk)
    found = sdk.assets.list(advanced_filter=filters.Prefix("name", "P"), sort=("name", "desc"))
    assert found.as_external_ids() == ["pump-1", "plant"]
    assert sdk.assets.aggregate_count() == 5
    assert sdk.assets.aggregate_count(filter=AssetFilter(root=True)) == 2
    assert sdk.assets.aggregate_count(advanced_filter=filters.ContainsAny("labels", ["PUMP"])) == 1
    zones = sdk.assets.aggregate_unique_values(AssetProperty.metadata_key("zone"))
    assert sorted(v for r in zones for v in r.values) == ["north", "south"]
    assert sdk.assets.aggregate_cardinality_values(AssetProperty.source) == 1


def test_search(sdk: CogniteClient) -> None:
    _plant(sdk)
    assert sdk.assets.search(name="pump").as_external_ids() == ["pump-1"]
    assert sdk.assets.search(description="site").as_external_ids() == ["plant"]
    assert sdk.assets.search(query="whole")[0].external_id == "plant"
    assert sdk.assets.search(name="pump", filter=AssetFilter(root=True)).as_external_ids() == []


def test_update_and_move_within_the_hierarchy(sdk: CogniteClient) -> None:
    _plant(sdk)
    plant = sdk.assets.retrieve(external_id="plant")
    assert plant is not None
    moved = sdk.assets.update(
        AssetUpdate(external_id="valve").parent_id.set(plant.id).metadata.add({"x": "1"})
    )
    assert moved.parent_id == plant.id and moved.metadata == {"zone": "south", "x": "1"}
    moved = sdk.assets.update(AssetUpdate(external_id="valve").parent_external_id.set("area"))
    assert moved.parent_id == sdk.assets.retrieve(external_id="area").id  # type: ignore[union-attr]
    sdk.assets.update(AssetUpdate(external_id="area").external_id.set("area-2"))
    assert sdk.assets.retrieve(external_id="pump-1").parent_external_id == "area-2"  # type: ignore[union-attr]
    renamed = sdk.assets.update(AssetUpdate(external_id="pump-1").labels.remove(["PUMP"]).name.set("P1"))
    assert renamed.name == "P1" and not renamed.labels
    with pytest.raises(CogniteAPIError) as err:  # to another hierarchy
        sdk.assets.update(AssetUpdate(external_id="valve").parent_external_id.set("other"))
    assert err.value.code == 400
    with pytest.raises(CogniteAPIError):  # into its own subtree
        sdk.assets.update(AssetUpdate(external_id="area-2").parent_external_id.set("pump-1"))


def test_delete_needs_recursive_for_a_subtree(sdk: CogniteClient) -> None:
    _plant(sdk)
    with pytest.raises(CogniteAPIError) as err:
        sdk.assets.delete(external_id="area")
    assert err.value.code == 400 and len(sdk.assets.list(limit=None)) == 5
    sdk.assets.delete(external_id="area", recursive=True)
    assert sorted(sdk.assets.list(limit=None).as_external_ids()) == ["other", "plant"]
    sdk.assets.delete(external_id="nope", ignore_unknown_ids=True)
    with pytest.raises(CogniteNotFoundError):
        sdk.assets.delete(external_id="nope")


def test_create_hierarchy_and_upsert(sdk: CogniteClient) -> None:
    tree = [
        AssetWrite(external_id="r", name="R"),
        AssetWrite(external_id="c", name="C", parent_external_id="r"),
    ]
    created = sdk.assets.create_hierarchy(tree)
    assert sorted(created.as_external_ids()) == ["c", "r"]
    sdk.assets.upsert(AssetWrite(external_id="c", name="C2", parent_external_id="r"), mode="replace")
    assert sdk.assets.retrieve(external_id="c").name == "C2"  # type: ignore[union-attr]


def test_duplicated_and_unknown(sdk: CogniteClient) -> None:
    sdk.assets.create(AssetWrite(external_id="a", name="A"))
    with pytest.raises(CogniteAPIError) as err:
        sdk.assets.create(AssetWrite(external_id="a", name="again"))
    assert err.value.code == 409 and err.value.duplicated == [{"externalId": "a"}]
    with pytest.raises(CogniteAPIError) as err:
        sdk.assets.create(AssetWrite(external_id="b", name="B", parent_external_id="missing"))
    assert err.value.code == 400
    with pytest.raises(CogniteAPIError):
        sdk.assets.create(AssetWrite(external_id="b", name="B", labels=[Label("UNDEFINED")]))
    assert sdk.assets.list(limit=None).as_external_ids() == ["a"]


BAD = [
    ("/assets", {"items": [{"name": "x", "metadata": {"k": float("inf")}}]}),
    ("/assets", {"items": [{"name": 3}]}),
    ("/assets", {"items": [{"name": "x", "parentId": 42}]}),
    ("/assets", {"items": [{"name": "x", "externalId": "d"}, {"name": "y", "externalId": "d"}]}),
    ("/assets", {"items": [{"name": "x", "id": 5}]}),
    ("/assets/list", {"filter": {"parentIds": ["a"]}}),
    ("/assets/list", {"filter": {"assetSubtreeIds": [{"id": 42}]}}),
    ("/assets/list", {"advancedFilter": {"nonsense": {}}}),
    ("/assets/byids", {"items": [{"id": 42}]}),
    ("/assets/update", {"items": [{"externalId": "keep", "update": {"name": {"set": 5}}}]}),
    ("/assets/update", {"items": [{"externalId": "keep", "update": {"parentId": {"set": 42}}}]}),
    ("/assets/delete", {"items": [{"id": 42}]}),
    ("/assets/aggregate", {"aggregate": "uniqueValues"}),
    ("/assets/search", {"search": {"name": 5}}),
]


@pytest.mark.parametrize(("path", "body"), BAD, ids=[f"{p} {json.dumps(b)[:50]}" for p, b in BAD])
def test_bad_input_is_a_4xx_and_changes_nothing(emu: FunctionsEmulator, path: str, body: object) -> None:
    emu.client().assets.create(AssetWrite(external_id="keep", name="Keep"))
    before = json.dumps(emu.state(), sort_keys=True)
    answer = TestClient(emu.app).post(
        f"/api/v1/projects/test-project{path}",
        content=json.dumps(body).encode(),
        headers={"content-type": "application/json"},
    )
    assert 400 <= answer.status_code < 500, answer.text
    assert answer.json()["error"]["code"] == answer.status_code
    assert json.dumps(emu.state(), sort_keys=True) == before
