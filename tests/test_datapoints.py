"""Datapoints through the real SDK (protobuf reads, JSON inserts), in-process and over loopback."""

from __future__ import annotations

import math

import pytest
from cognite.client.data_classes import DatapointsQuery, LatestDatapointQuery
from cognite.client.data_classes.data_modeling import NodeId
from cognite.client.exceptions import CogniteAPIError, CogniteNotFoundError

from emulator.resources.timeseries.domain import TimeSeriesPart, ensure_instance_series
from tests import ts_kit
from tests.ts_kit import T0, make_series

sdk = ts_kit.sdk  # the fixture: every test runs in-process and over loopback
SEC = 1000


def test_insert_and_retrieve_raw_by_id_and_external_id(sdk) -> None:
    _emu, client = sdk
    ts = make_series(client, "raw")
    client.time_series.data.insert([(T0 + i * SEC, float(i)) for i in range(10)], external_id="raw")
    client.time_series.data.insert([{"timestamp": T0 + 20 * SEC, "value": 20}], id=ts.id)
    got = client.time_series.data.retrieve(id=ts.id, start=T0, end=T0 + 21 * SEC)
    assert got.timestamp == [T0 + i * SEC for i in range(10)] + [T0 + 20 * SEC]
    assert got.value == [float(i) for i in range(10)] + [20.0]
    # start inclusive, end exclusive
    window = client.time_series.data.retrieve(external_id="raw", start=T0 + 2 * SEC, end=T0 + 5 * SEC)
    assert window.value == [2.0, 3.0, 4.0]


def test_overwrite_same_timestamp_and_unsorted_insert(sdk) -> None:
    _emu, client = sdk
    make_series(client, "ow")
    client.time_series.data.insert(
        [(T0 + 3 * SEC, 3.0), (T0 + 1 * SEC, 1.0), (T0 + 2 * SEC, 2.0)], external_id="ow"
    )
    client.time_series.data.insert([(T0 + 2 * SEC, 22.0), (T0, 0.0)], external_id="ow")
    got = client.time_series.data.retrieve(external_id="ow", start=T0, end=T0 + 10 * SEC)
    assert got.timestamp == [T0, T0 + SEC, T0 + 2 * SEC, T0 + 3 * SEC]
    assert got.value == [0.0, 1.0, 22.0, 3.0]


def test_string_series(sdk) -> None:
    _emu, client = sdk
    make_series(client, "s", is_string=True)
    client.time_series.data.insert([(T0, "a"), (T0 + SEC, "b"), (T0 + 2 * SEC, "ø€")], external_id="s")
    got = client.time_series.data.retrieve(external_id="s", start=T0, end=T0 + 10 * SEC)
    assert got.value == ["a", "b", "ø€"]
    assert got.is_string
    arrays = client.time_series.data.retrieve_arrays(external_id="s", start=T0, end=T0 + 10 * SEC)
    assert list(arrays.value) == ["a", "b", "ø€"]
    with pytest.raises(CogniteAPIError) as err:  # a number into a string series
        client.time_series.data.insert([(T0, 1.0)], external_id="s")
    assert err.value.code == 400
    with pytest.raises(CogniteAPIError):  # aggregates of a string series
        client.time_series.data.retrieve(
            external_id="s", start=T0, end=T0 + 10 * SEC, aggregates="count", granularity="1s"
        )


def test_limit_and_paging_by_the_sdk_over_many_requests(sdk) -> None:
    _emu, client = sdk
    make_series(client, "many")
    n = 250_000  # more than the 100,000 points of one request: the SDK pages
    client.time_series.data.insert([(T0 + i, float(i)) for i in range(n)], external_id="many")
    arr = client.time_series.data.retrieve_arrays(external_id="many", start=T0, end=T0 + n)
    assert len(arr) == n
    assert arr.value[0] == 0.0 and arr.value[-1] == n - 1
    assert (arr.timestamp.astype("int64")[1:] > arr.timestamp.astype("int64")[:-1]).all()
    limited = client.time_series.data.retrieve(external_id="many", start=T0, end=T0 + n, limit=123_456)
    assert len(limited) == 123_456


def test_cursor_paging_with_time_zone_aggregates(sdk) -> None:
    _emu, client = sdk
    make_series(client, "cur")
    day = 86_400_000
    client.time_series.data.insert([(T0 + i * 3_600_000, 1.0) for i in range(24 * 30)], external_id="cur")
    # time zones make the SDK page with cursors
    got = client.time_series.data.retrieve(
        external_id="cur",
        start=T0 - day,
        end=T0 + 31 * day,
        aggregates="count",
        granularity="1d",
        timezone="Europe/Oslo",
    )
    # Oslo is UTC+1 in January: the local 1 January runs from 23:00 UTC on 31 December to 23:00
    # UTC on 1 January, so it holds the points of 00:00..22:00 UTC.
    assert got.count[0] == 23 and got.count[1] == 24
    assert got.timestamp[0] == T0 - 3_600_000
    assert sum(got.count) == 24 * 30


def test_raw_cursor_is_used_by_manual_pages(sdk) -> None:
    _emu, client = sdk
    ts = make_series(client, "man")
    client.time_series.data.insert([(T0 + i, float(i)) for i in range(10)], external_id="man")
    body = {"items": [{"id": ts.id, "start": T0, "end": T0 + 100, "limit": 4}]}
    first = client.post(f"/api/v1/projects/{client.config.project}/timeseries/data/list", json=body).json()
    assert [d["value"] for d in first["items"][0]["datapoints"]] == [0, 1, 2, 3]
    body["items"][0]["cursor"] = first["items"][0]["nextCursor"]
    second = client.post(f"/api/v1/projects/{client.config.project}/timeseries/data/list", json=body).json()
    assert [d["value"] for d in second["items"][0]["datapoints"]] == [4, 5, 6, 7]


def test_include_outside_points(sdk) -> None:
    _emu, client = sdk
    make_series(client, "out")
    client.time_series.data.insert([(T0 + i * SEC, float(i)) for i in range(10)], external_id="out")
    got = client.time_series.data.retrieve(
        external_id="out", start=T0 + 3 * SEC, end=T0 + 6 * SEC, include_outside_points=True
    )
    assert got.value == [2.0, 3.0, 4.0, 5.0, 6.0]


def test_many_series_in_one_call_and_ignore_unknown_ids(sdk) -> None:
    _emu, client = sdk
    for i in range(5):
        make_series(client, f"m{i}")
        client.time_series.data.insert([(T0 + j, float(i * 100 + j)) for j in range(3)], external_id=f"m{i}")
    got = client.time_series.data.retrieve(
        external_id=[f"m{i}" for i in range(5)] + ["nope"], start=T0, end=T0 + 10, ignore_unknown_ids=True
    )
    assert [d.external_id for d in got] == [f"m{i}" for i in range(5)]
    assert got[4].value == [400.0, 401.0, 402.0]
    with pytest.raises(CogniteNotFoundError):
        client.time_series.data.retrieve(external_id=["m0", "nope"], start=T0, end=T0 + 10)
    queries = [DatapointsQuery(external_id="m1", limit=1), DatapointsQuery(external_id="m2", start=T0 + 1)]
    q = client.time_series.data.retrieve(external_id=queries, start=T0, end=T0 + 10)
    assert q[0].value == [100.0] and q[1].value == [201.0, 202.0]


def test_insert_multiple_and_unknown_series(sdk) -> None:
    _emu, client = sdk
    a, b = make_series(client, "ia"), make_series(client, "ib", is_string=True)
    client.time_series.data.insert_multiple([
        {"id": a.id, "datapoints": [(T0, 1.0), (T0 + 1, 2.0)]},
        {"external_id": "ib", "datapoints": [{"timestamp": T0, "value": "x"}]},
    ])  # fmt: skip
    assert client.time_series.data.retrieve(id=a.id, start=T0, end=T0 + 5).value == [1.0, 2.0]
    assert client.time_series.data.retrieve(id=b.id, start=T0, end=T0 + 5).value == ["x"]
    with pytest.raises(CogniteAPIError) as err:
        client.time_series.data.insert_multiple([
            {"id": a.id, "datapoints": [(T0 + 2, 3.0)]}, {"external_id": "missing", "datapoints": [(T0, 1.0)]},
        ])  # fmt: skip
    assert err.value.code == 400
    assert client.time_series.data.retrieve(id=a.id, start=T0, end=T0 + 5).value == [1.0, 2.0]  # unchanged


@pytest.mark.parametrize(
    "point",
    [
        {"timestamp": -2208988800001, "value": 1},  # before 1900
        {"timestamp": 4102444800000, "value": 1},  # after 2099
        {"timestamp": T0, "value": 1e100},
        {"timestamp": T0, "value": "NaN"},  # only allowed on bad points
        {"timestamp": T0, "value": "Infinity"},
        {"timestamp": T0},
        {"timestamp": "soon", "value": 1},
        {"timestamp": T0, "value": "1.5"},
        {"timestamp": T0, "value": 1, "status": {"symbol": "NoSuchStatus"}},
        {"timestamp": T0, "value": 1, "status": {"code": 0, "symbol": "Bad"}},
    ],
)
def test_insert_refusals(sdk, point) -> None:
    _emu, client = sdk
    ts = make_series(client, "bad")
    url = f"/api/v1/projects/{client.config.project}/timeseries/data"
    with pytest.raises(CogniteAPIError) as err:
        client.post(url, json={"items": [{"id": ts.id, "datapoints": [point]}]})
    assert err.value.code == 400
    assert len(client.time_series.data.retrieve(id=ts.id, start=0, end=T0 * 2)) == 0


def test_nan_literal_and_long_string_refused(sdk) -> None:
    emu, client = sdk
    ts = make_series(client, "nan")
    s = make_series(client, "long", is_string=True)
    url = f"/api/v1/projects/{client.config.project}/timeseries/data"
    from starlette.testclient import TestClient

    raw = b'{"items": [{"id": %d, "datapoints": [{"timestamp": %d, "value": NaN}]}]}' % (ts.id, T0)
    answer = TestClient(emu.app).post(
        url, content=raw, headers={"Authorization": "Bearer t", "content-type": "application/json"}
    )
    assert answer.status_code == 400 and answer.json()["error"]["code"] == 400
    with pytest.raises(CogniteAPIError):
        client.post(
            url, json={"items": [{"id": s.id, "datapoints": [{"timestamp": T0, "value": "é" * 512}]}]}
        )
    client.post(url, json={"items": [{"id": s.id, "datapoints": [{"timestamp": T0, "value": "é" * 511}]}]})


def test_status_codes_bad_and_uncertain_points(sdk) -> None:
    _emu, client = sdk
    make_series(client, "st")
    client.time_series.data.insert(
        [
            {"timestamp": T0, "value": 1.0},
            {"timestamp": T0 + 1, "value": 2.0, "status": {"symbol": "Uncertain"}},
            {"timestamp": T0 + 2, "value": "NaN", "status": {"code": 2147483648}},
            {"timestamp": T0 + 3, "value": None, "status": {"symbol": "BadSensorFailure"}},
            {"timestamp": T0 + 4, "value": 5.0},
        ],
        external_id="st",
    )
    default = client.time_series.data.retrieve(external_id="st", start=T0, end=T0 + 10)
    assert default.value == [1.0, 5.0]  # bad, and uncertain (treated as bad), left out
    lenient = client.time_series.data.retrieve(
        external_id="st", start=T0, end=T0 + 10, treat_uncertain_as_bad=False
    )
    assert lenient.value == [1.0, 2.0, 5.0]
    everything = client.time_series.data.retrieve(
        external_id="st", start=T0, end=T0 + 10, ignore_bad_datapoints=False, include_status=True
    )
    assert everything.status_symbol == ["Good", "Uncertain", "Bad", "BadSensorFailure", "Good"]
    assert math.isnan(everything.value[2]) and everything.value[3] is None
    counts = client.time_series.data.retrieve(
        external_id="st",
        start=T0,
        end=T0 + 10,
        aggregates=["count_good", "count_uncertain", "count_bad", "count"],
        granularity="1s",
    )
    assert (counts.count_good, counts.count_uncertain, counts.count_bad, counts.count) == ([2], [1], [2], [2])


def test_latest_with_before_and_units(sdk) -> None:
    _emu, client = sdk
    make_series(client, "lat", unit_external_id="temperature:deg_c")
    client.time_series.data.insert([(T0 + i * SEC, float(i * 10)) for i in range(5)], external_id="lat")
    assert client.time_series.data.retrieve_latest(external_id="lat").value == 40.0
    assert client.time_series.data.retrieve_latest(external_id="lat", before=T0 + 2 * SEC).value == 10.0
    make_series(client, "lat2")
    client.time_series.data.insert([(T0, 7.0)], external_id="lat2")
    both = client.time_series.data.retrieve_latest(
        external_id=[LatestDatapointQuery(external_id="lat", before=T0 + SEC), "lat2", "nope"],
        ignore_unknown_ids=True,
    )
    assert [d.value for d in both] == [0.0, 7.0]
    kelvin = client.time_series.data.retrieve_latest(external_id="lat", target_unit="temperature:k")
    assert kelvin.value == pytest.approx(313.15)
    assert kelvin.unit_external_id == "temperature:k"
    empty = make_series(client, "empty")
    assert client.time_series.data.retrieve_latest(id=empty.id).value is None


def test_target_unit_and_unit_system_on_retrieve(sdk) -> None:
    _emu, client = sdk
    make_series(client, "press", unit_external_id="pressure:bar")
    client.time_series.data.insert([(T0, 1.0), (T0 + 1, 2.0)], external_id="press")
    psi = client.time_series.data.retrieve(
        external_id="press", start=T0, end=T0 + 5, target_unit="pressure:psi"
    )
    assert psi.value == [pytest.approx(14.503773773), pytest.approx(29.007547546)]
    si = client.time_series.data.retrieve(external_id="press", start=T0, end=T0 + 5, target_unit_system="SI")
    assert (
        si.value == [pytest.approx(100000.0), pytest.approx(200000.0)]
        and si.unit_external_id == "pressure:pa"
    )
    avg = client.time_series.data.retrieve(
        external_id="press",
        start=T0,
        end=T0 + 5,
        aggregates="max",
        granularity="1s",
        target_unit="pressure:psi",
    )
    assert avg.max == [pytest.approx(29.007547546)]
    with pytest.raises(CogniteAPIError):  # another quantity
        client.time_series.data.retrieve(
            external_id="press", start=T0, end=T0 + 5, target_unit="temperature:k"
        )


def test_delete_range(sdk) -> None:
    _emu, client = sdk
    ts = make_series(client, "del")
    client.time_series.data.insert([(T0 + i, float(i)) for i in range(10)], external_id="del")
    client.time_series.data.delete_range(start=T0 + 2, end=T0 + 5, external_id="del")
    assert client.time_series.data.retrieve(id=ts.id, start=T0, end=T0 + 20).value == [
        0.0,
        1.0,
        5.0,
        6.0,
        7.0,
        8.0,
        9.0,
    ]
    client.time_series.data.delete_ranges([{"id": ts.id, "start": T0 + 9, "end": T0 + 100}])
    assert client.time_series.data.retrieve(id=ts.id, start=T0, end=T0 + 20).value == [
        0.0,
        1.0,
        5.0,
        6.0,
        7.0,
        8.0,
    ]
    with pytest.raises(CogniteAPIError):
        client.time_series.data.delete_range(start=T0, end=T0 + 1, external_id="unknown")


def test_instance_id_series_from_data_modeling(sdk) -> None:
    emu, client = sdk
    part = emu.backend.store(client.config.project).part(TimeSeriesPart)
    record = ensure_instance_series(
        part, ("sp", "node"), is_string=False, is_step=True, now=T0, ids=emu.backend.ids
    )
    node = NodeId("sp", "node")
    client.time_series.data.insert([(T0, 1.0), (T0 + 10, 3.0)], instance_id=node)
    got = client.time_series.data.retrieve(instance_id=node, start=T0, end=T0 + 20)
    assert got.value == [1.0, 3.0] and got.instance_id == node and got.is_step
    assert client.time_series.retrieve(instance_id=node).id == record["id"]
    assert client.time_series.data.retrieve_latest(instance_id=node).value == 3.0
    again = ensure_instance_series(
        part, ("sp", "node"), is_string=False, is_step=False, now=T0, ids=emu.backend.ids
    )
    assert again["id"] == record["id"] and not again["isStep"]
    assert len(client.time_series.data.retrieve(instance_id=node, start=T0, end=T0 + 20)) == 2


def test_state_dump_and_load_keep_points(sdk) -> None:
    emu, client = sdk
    make_series(client, "dump")
    client.time_series.data.insert([(T0, 1.5), (T0 + 1, 2.5)], external_id="dump")
    dumped = emu.backend.store(client.config.project).part(TimeSeriesPart).dump()
    fresh = TimeSeriesPart()
    fresh.load(dumped)
    record = fresh.find(("externalId", "dump"))
    assert record is not None and fresh.series_of(record).values.tolist() == [1.5, 2.5]


def test_dataframes(sdk) -> None:
    pd = pytest.importorskip("pandas")
    _emu, client = sdk
    make_series(client, "df1")
    make_series(client, "df2")
    index = pd.to_datetime([T0, T0 + SEC, T0 + 2 * SEC], unit="ms")
    client.time_series.data.insert_dataframe(
        pd.DataFrame({"df1": [1.0, 2.0, 3.0], "df2": [4.0, 5.0, 6.0]}, index=index)
    )
    frame = client.time_series.data.retrieve_dataframe(
        external_id=["df1", "df2"], start=T0, end=T0 + 10 * SEC
    )
    assert frame["df1"].tolist() == [1.0, 2.0, 3.0] and frame["df2"].tolist() == [4.0, 5.0, 6.0]
