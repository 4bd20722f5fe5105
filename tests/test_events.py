"""Events through the real SDK: create, list/filter, search, aggregates, update, delete."""

from __future__ import annotations

import json

import pytest
from cognite.client import CogniteClient
from cognite.client.data_classes import (
    AssetWrite,
    EndTimeFilter,
    EventFilter,
    EventUpdate,
    EventWrite,
    filters,
)
from cognite.client.data_classes.events import EventProperty
from cognite.client.exceptions import CogniteAPIError, CogniteNotFoundError
from starlette.testclient import TestClient

from emulator import FunctionsEmulator


def _events(client: CogniteClient) -> tuple[int, int]:
    root = client.assets.create(AssetWrite(external_id="root", name="Root"))
    pump = client.assets.create(AssetWrite(external_id="pump", name="Pump", parent_id=root.id))
    client.events.create(
        [
            EventWrite(
                external_id=f"e{i}",
                start_time=1000 * i,
                end_time=1000 * i + 500 if i < 8 else None,
                type="alarm" if i % 2 else "info",
                subtype="pressure" if i < 5 else "flow",
                asset_ids=[pump.id] if i < 3 else [root.id],
                description=f"pump failure number {i}",
                metadata={"n": str(i)},
                source="scada",
            )
            for i in range(10)
        ]
    )
    return root.id, pump.id


def test_create_retrieve_and_unknown_ids(sdk: CogniteClient) -> None:
    _events(sdk)
    got = sdk.events.retrieve(external_id="e3")
    assert got is not None and got.start_time == 3000 and got.metadata == {"n": "3"} and got.id > 2**40
    assert sdk.events.retrieve(id=42) is None
    assert len(sdk.events.retrieve_multiple(external_ids=["e1", "e2"])) == 2
    with pytest.raises(CogniteNotFoundError) as err:
        sdk.events.retrieve_multiple(external_ids=["e1", "nope"])
    assert err.value.not_found == [{"externalId": "nope"}]
    assert len(sdk.events.retrieve_multiple(external_ids=["e1", "nope"], ignore_unknown_ids=True)) == 1


def test_list_filters(sdk: CogniteClient) -> None:
    root, pump = _events(sdk)
    xids = lambda found: sorted(found.as_external_ids())  # noqa: E731
    assert len(sdk.events.list(limit=None)) == 10
    assert xids(sdk.events.list(type="alarm", subtype="pressure")) == ["e1", "e3"]
    assert xids(sdk.events.list(start_time={"min": 2000, "max": 4000})) == ["e2", "e3", "e4"]
    assert xids(sdk.events.list(end_time=EndTimeFilter(is_null=True))) == ["e8", "e9"]
    assert xids(sdk.events.list(end_time={"max": 1500})) == ["e0", "e1"]
    assert xids(sdk.events.list(active_at_time={"min": 9200, "max": 9300})) == ["e8", "e9"]
    assert xids(sdk.events.list(asset_ids=[pump])) == ["e0", "e1", "e2"]
    assert xids(sdk.events.list(asset_external_ids=["pump"])) == ["e0", "e1", "e2"]
    assert len(sdk.events.list(asset_subtree_ids=[root])) == 10
    assert xids(sdk.events.list(metadata={"n": "7"})) == ["e7"]
    assert xids(sdk.events.list(external_id_prefix="e1")) == ["e1"]
    assert len(sdk.events.list(source="scada", limit=None, partitions=3)) == 10
    assert sdk.events.list(sort=("startTime", "desc"), limit=2).as_external_ids() == ["e9", "e8"]
    assert [len(p) for p in sdk.events(chunk_size=4)] == [4, 4, 2]
    found = sdk.events.list(advanced_filter=filters.Range("startTime", gte=8000))
    assert xids(found) == ["e8", "e9"]


def test_search_and_aggregates(sdk: CogniteClient) -> None:
    _events(sdk)
    assert sdk.events.search(description="number 4")[0].external_id == "e4"
    assert xids_of(sdk.events.search(description="failure", filter=EventFilter(type="info"))) == [
        "e0", "e2", "e4", "e6", "e8",
    ]  # fmt: skip
    assert sdk.events.aggregate_count() == 10
    assert sdk.events.aggregate_count(filter=EventFilter(subtype="flow")) == 5
    types = sdk.events.aggregate_unique_values(property=EventProperty.type)
    assert sorted((r.values[0], r.count) for r in types) == [("alarm", 5), ("info", 5)]
    assert sdk.events.aggregate_cardinality_values(EventProperty.subtype) == 2


def xids_of(found: object) -> list[str]:
    return sorted(found.as_external_ids())  # type: ignore[attr-defined]


def test_update_and_delete(sdk: CogniteClient) -> None:
    _events(sdk)
    got = sdk.events.update(EventUpdate(external_id="e1").metadata.add({"z": "1"}).type.set("fixed"))
    assert got.type == "fixed" and got.metadata == {"n": "1", "z": "1"}
    got = sdk.events.update(EventUpdate(external_id="e1").description.set(None).asset_ids.set([]))
    assert got.description is None and not got.asset_ids
    with pytest.raises(CogniteAPIError) as err:  # ending before it starts
        sdk.events.update(EventUpdate(external_id="e2").end_time.set(1))
    assert err.value.code == 400 and sdk.events.retrieve(external_id="e2").end_time == 2500  # type: ignore[union-attr]
    sdk.events.delete(external_id=["e1", "e2"])
    assert len(sdk.events.list(limit=None)) == 8
    with pytest.raises(CogniteNotFoundError):
        sdk.events.delete(external_id="e1")
    sdk.events.delete(external_id="e1", ignore_unknown_ids=True)


def test_duplicated_external_id_is_409_and_creates_nothing(sdk: CogniteClient) -> None:
    sdk.events.create(EventWrite(external_id="a"))
    with pytest.raises(CogniteAPIError) as err:
        sdk.events.create([EventWrite(external_id="b"), EventWrite(external_id="a")])
    assert err.value.code == 409 and err.value.duplicated == [{"externalId": "a"}]
    assert sdk.events.list().as_external_ids() == ["a"]


BAD = [
    ("/events", {"items": [{"startTime": float("nan")}]}),
    ("/events", {"items": [{"startTime": "yesterday"}]}),
    ("/events", {"items": [{"startTime": 10, "endTime": 5}]}),
    ("/events", {"items": [{"externalId": "d"}, {"externalId": "d"}]}),
    ("/events", {"items": [{"externalId": "keep"}]}),
    ("/events", {"items": [{"id": 7}]}),
    ("/events/list", {"filter": {"startTime": {"min": "a"}}}),
    ("/events/list", {"filter": {"assetSubtreeIds": [{"id": 42}]}}),
    ("/events/byids", {"items": [{"id": 42}]}),
    ("/events/update", {"items": [{"id": 42, "update": {"type": {"set": "x"}}}]}),
    ("/events/update", {"items": [{"externalId": "keep", "update": {"type": {"set": 5}}}]}),
    ("/events/delete", {"items": [{"externalId": "nope"}]}),
    ("/events/aggregate", {"aggregate": "uniqueValues"}),
]


@pytest.mark.parametrize(("path", "body"), BAD, ids=[f"{p} {json.dumps(b)[:50]}" for p, b in BAD])
def test_bad_input_is_a_4xx_and_changes_nothing(emu: FunctionsEmulator, path: str, body: object) -> None:
    emu.client().events.create(EventWrite(external_id="keep", start_time=1))
    emu.client().assets.list()  # the assets part exists before (an empty part appears on first use)
    before = json.dumps(emu.state(), sort_keys=True)
    answer = TestClient(emu.app).post(
        f"/api/v1/projects/test-project{path}",
        content=json.dumps(body).encode(),
        headers={"content-type": "application/json"},
    )
    assert 400 <= answer.status_code < 500, answer.text
    assert answer.json()["error"]["code"] == answer.status_code
    assert json.dumps(emu.state(), sort_keys=True) == before
