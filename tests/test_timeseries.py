"""Time series metadata and the units catalog through the real SDK, in-process and over loopback."""

from __future__ import annotations

import pytest
from cognite.client.data_classes import TimeSeriesFilter, TimeSeriesUpdate, TimeSeriesWrite
from cognite.client.exceptions import CogniteAPIError, CogniteDuplicatedError, CogniteNotFoundError

from tests import ts_kit
from tests.ts_kit import make_series

sdk = ts_kit.sdk  # the fixture: every test runs in-process and over loopback


def test_create_retrieve_and_duplicates(sdk) -> None:
    _emu, client = sdk
    made = client.time_series.create(
        [
            TimeSeriesWrite(
                external_id="t1", name="Temp 1", unit_external_id="temperature:deg_c", metadata={"site": "a"}
            ),
            TimeSeriesWrite(external_id="t2", name="Text", is_string=True, description="words"),
        ]
    )
    assert [t.external_id for t in made] == ["t1", "t2"]
    assert made[0].is_string is False and made[1].is_string is True and made[0].is_step is False
    assert client.time_series.retrieve(external_id="t1").metadata == {"site": "a"}
    assert client.time_series.retrieve(id=made[1].id).name == "Text"
    assert client.time_series.retrieve(external_id="nope") is None
    with pytest.raises(CogniteDuplicatedError):
        client.time_series.create(TimeSeriesWrite(external_id="t1"))
    with pytest.raises(CogniteAPIError) as err:  # a unit the catalog does not have
        client.time_series.create(TimeSeriesWrite(external_id="u", unit_external_id="temperature:nope"))
    assert err.value.code == 400


def test_retrieve_multiple_with_ignore_unknown_ids(sdk) -> None:
    _emu, client = sdk
    a = make_series(client, "r1")
    make_series(client, "r2")
    got = client.time_series.retrieve_multiple(external_ids=["r1", "r2", "zz"], ignore_unknown_ids=True)
    assert [t.external_id for t in got] == ["r1", "r2"]
    with pytest.raises(CogniteNotFoundError) as err:
        client.time_series.retrieve_multiple(ids=[a.id, 123])
    assert err.value.not_found == [{"id": 123}]


def test_list_and_filters(sdk) -> None:
    _emu, client = sdk
    for i in range(7):
        make_series(
            client, f"pre-{i}", name=f"n{i}", is_step=i % 2 == 0, metadata={"k": str(i % 3)},
            unit_external_id="pressure:bar" if i < 3 else None, asset_id=100 + i % 2, data_set_id=9 if i == 6 else None,
        )  # fmt: skip
    make_series(client, "other", is_string=True)
    assert len(client.time_series.list(limit=None)) == 8
    assert len(client.time_series.list(external_id_prefix="pre-", limit=None)) == 7
    assert len(client.time_series.list(is_step=True, limit=None)) == 4
    assert len(client.time_series.list(is_string=True, limit=None)) == 1
    assert {t.external_id for t in client.time_series.list(metadata={"k": "0"})} == {
        "pre-0",
        "pre-3",
        "pre-6",
    }
    assert len(client.time_series.list(unit_quantity="Pressure")) == 3
    assert len(client.time_series.list(unit_external_id="pressure:bar")) == 3
    assert len(client.time_series.list(asset_ids=[101])) == 3
    assert [t.external_id for t in client.time_series.list(data_set_ids=[9])] == ["pre-6"]
    assert len(client.time_series.list(created_time={"min": 0}, limit=None)) == 8
    assert client.time_series.aggregate_count(filter=TimeSeriesFilter(is_step=True)) == 4
    assert client.time_series.aggregate_count() == 8
    # paging: the SDK follows cursors
    pages = list(client.time_series(chunk_size=3))
    assert sum(len(p) for p in pages) == 8 and len(pages) == 3
    parts = client.time_series.list(limit=None, partitions=3)
    assert len(parts) == 8


def test_search(sdk) -> None:
    _emu, client = sdk
    make_series(client, "s1", name="Pump pressure", description="inlet")
    make_series(client, "s2", name="Tank level", description="pressure vessel")
    make_series(client, "s3", name="Valve", description="state")
    assert {t.external_id for t in client.time_series.search(name="pump")} == {"s1"}
    assert {t.external_id for t in client.time_series.search(description="pressure")} == {"s2"}
    assert [t.external_id for t in client.time_series.search(query="pressure")][:2] in (
        ["s1", "s2"],
        ["s2", "s1"],
    )
    assert client.time_series.search(query="nothing-here") == []


def test_update_and_delete(sdk) -> None:
    _emu, client = sdk
    made = make_series(client, "up", name="before", metadata={"a": "1", "b": "2"})
    updated = client.time_series.update(
        TimeSeriesUpdate(external_id="up")
        .name.set("after")
        .metadata.add({"c": "3"})
        .metadata.remove(["a"])
        .unit.set("bar")
    )
    assert updated.name == "after" and updated.metadata == {"b": "2", "c": "3"} and updated.unit == "bar"
    assert updated.last_updated_time >= made.last_updated_time
    again = client.time_series.update(TimeSeriesUpdate(id=made.id).unit.set(None).external_id.set("up2"))
    assert again.unit is None and again.external_id == "up2"
    client.time_series.delete(external_id="up2")
    assert client.time_series.retrieve(id=made.id) is None
    with pytest.raises(CogniteNotFoundError):
        client.time_series.delete(id=made.id)
    client.time_series.delete(id=made.id, ignore_unknown_ids=True)


def test_units_catalog(sdk) -> None:
    _emu, client = sdk
    units = client.units.list()
    assert len(units) > 300
    celsius = client.units.retrieve("temperature:deg_c")
    assert celsius.symbol == "°C" and celsius.conversion.offset == 273.15
    both = client.units.retrieve(["temperature:k", "pressure:bar", "x:nope"], ignore_unknown_ids=True)
    assert [u.external_id for u in both] == ["temperature:k", "pressure:bar"]
    with pytest.raises(CogniteAPIError):
        client.units.retrieve(["x:nope"])
    systems = client.units.systems.list()
    assert {s.name for s in systems} >= {"Default", "SI", "Imperial"}
