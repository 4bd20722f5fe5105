"""RAW through the real SDK, in-process and over loopback."""

from __future__ import annotations

import pytest
from cognite.client import CogniteClient
from cognite.client.data_classes import RowWrite
from cognite.client.exceptions import CogniteAPIError, CogniteNotFoundError

from emulator import FunctionsEmulator


def test_databases_and_tables(sdk: CogniteClient) -> None:
    sdk.raw.databases.create(["db1", "db2"])
    assert [d.name for d in sdk.raw.databases.list(limit=None)] == ["db1", "db2"]
    sdk.raw.tables.create("db1", ["t1", "t2"])
    assert [t.name for t in sdk.raw.tables.list("db1", limit=None)] == ["t1", "t2"]
    with pytest.raises(CogniteAPIError) as taken:
        sdk.raw.databases.create("db1")
    assert taken.value.code == 400
    sdk.raw.tables.delete("db1", "t2")
    assert [t.name for t in sdk.raw.tables.list("db1")] == ["t1"]
    with pytest.raises(CogniteAPIError):
        sdk.raw.databases.delete("db1")  # not empty
    sdk.raw.databases.delete("db1", recursive=True)
    assert [d.name for d in sdk.raw.databases.list()] == ["db2"]
    with pytest.raises(CogniteNotFoundError):
        sdk.raw.tables.list("db1")


def test_many_databases_page(sdk: CogniteClient) -> None:
    sdk.raw.databases.create([f"db{i:03}" for i in range(60)])
    assert len(sdk.raw.databases.list(limit=None)) == 60
    assert len(sdk.raw.databases.list(limit=30)) == 30


def test_rows_insert_retrieve_list_delete(sdk: CogniteClient) -> None:
    sdk.raw.rows.insert("db", "t", {"r1": {"a": 1, "b": "x"}, "r2": {"a": 2}}, ensure_parent=True)
    sdk.raw.rows.insert("db", "t", [RowWrite(key="r3", columns={"nested": {"list": [1, 2.5, None]}})])
    row = sdk.raw.rows.retrieve("db", "t", "r1")
    assert row is not None and row.columns == {"a": 1, "b": "x"}
    assert row.last_updated_time == 1767225600000
    assert sdk.raw.rows.retrieve("db", "t", "nope") is None
    assert [r.key for r in sdk.raw.rows.list("db", "t", limit=1000)] == ["r1", "r2", "r3"]
    only_a = sdk.raw.rows.list("db", "t", columns=["a"], limit=1000)
    assert [r.columns for r in only_a] == [{"a": 1}, {"a": 2}, {}]
    assert [r.columns for r in sdk.raw.rows.list("db", "t", columns=[], limit=1000)] == [{}, {}, {}]
    sdk.raw.rows.insert("db", "t", {"r1": {"c": True}})  # a row's columns are replaced whole
    assert sdk.raw.rows.retrieve("db", "t", "r1").columns == {"c": True}  # type: ignore[union-attr]
    sdk.raw.rows.delete("db", "t", ["r2", "never-there"])
    assert [r.key for r in sdk.raw.rows.list("db", "t", limit=1000)] == ["r1", "r3"]


def test_rows_need_their_table_unless_ensure_parent(sdk: CogniteClient) -> None:
    with pytest.raises(CogniteNotFoundError):
        sdk.raw.rows.insert("nodb", "t", {"k": {"a": 1}})
    assert sdk.raw.databases.list() == []
    sdk.raw.databases.create("db")
    with pytest.raises(CogniteNotFoundError):
        sdk.raw.rows.insert("db", "missing-table", {"k": {"a": 1}})


def test_last_updated_time_filters_follow_the_clock(emu: FunctionsEmulator, sdk: CogniteClient) -> None:
    sdk.raw.rows.insert("db", "t", {"old": {"v": 1}}, ensure_parent=True)
    t0 = emu.clock.now_ms()
    emu.clock.advance(seconds=60)
    sdk.raw.rows.insert("db", "t", {"new": {"v": 2}})
    newer = sdk.raw.rows.list("db", "t", min_last_updated_time=t0, limit=1000)  # exclusive
    assert [r.key for r in newer] == ["new"]
    older = sdk.raw.rows.list("db", "t", max_last_updated_time=t0, limit=1000)
    assert [r.key for r in older] == ["old"]


def test_many_rows_page_and_partition(sdk: CogniteClient) -> None:
    # limit=None makes the SDK read in parallel through /cursors; its reader polls a queue every
    # 0.5 s, so tests that need no parallelism pass a finite limit instead.
    rows = {f"k{i:05}": {"i": i} for i in range(2500)}
    sdk.raw.rows.insert("db", "big", rows, ensure_parent=True)
    assert len(sdk.raw.rows.list("db", "big", limit=10_000)) == 2500
    parallel = sdk.raw.rows.list("db", "big", limit=None)  # the SDK reads in parallel
    assert sorted(r.key for r in parallel) == sorted(rows)
    assert len(sdk.raw.rows.list("db", "big", limit=1200)) == 1200
    chunks = list(sdk.raw.rows("db", "big", chunk_size=1000))
    assert [len(c) for c in chunks] == [1000, 1000, 500]


def test_retrieve_dataframe(sdk: CogniteClient) -> None:
    pytest.importorskip("pandas")
    sdk.raw.rows.insert("db", "t", {"a": {"x": 1, "y": "p"}, "b": {"x": 2, "y": "q"}}, ensure_parent=True)
    frame = sdk.raw.rows.retrieve_dataframe("db", "t", limit=1000)
    assert list(frame.index) == ["a", "b"] and list(frame["x"]) == [1, 2]
    frame = sdk.raw.rows.retrieve_dataframe("db", "t", limit=None, partitions=2)
    assert sorted(frame.index) == ["a", "b"]


def test_bad_input_is_refused_and_changes_nothing(sdk: CogniteClient) -> None:
    project = sdk.config.project
    sdk.raw.databases.create("db")
    for body in ({"items": [{"key": "k"}]}, {"items": [{"key": 5, "columns": {}}]}, {"items": "x"}):
        with pytest.raises(CogniteAPIError) as caught:
            sdk.post(f"/api/v1/projects/{project}/raw/dbs/db/tables/t/rows?ensureParent=true", json=body)
        assert caught.value.code == 400
    with pytest.raises(CogniteAPIError):
        sdk.raw.databases.create("x" * 33)
    with pytest.raises(CogniteAPIError) as caught:
        sdk.get(f"/api/v1/projects/{project}/raw/dbs/db/tables/t/rows", params={"cursor": "garbage"})
    assert caught.value.code in (400, 404)
    assert [d.name for d in sdk.raw.databases.list()] == ["db"]
    assert sdk.raw.tables.list("db") == []


def test_a_handler_reads_the_rows_the_test_wrote(emu: FunctionsEmulator, client: CogniteClient) -> None:
    client.raw.rows.insert("config", "settings", {"threshold": {"value": 42}}, ensure_parent=True)

    def handle(client, data):  # type: ignore[no-untyped-def]
        value = client.raw.rows.retrieve("config", "settings", "threshold").columns["value"]
        client.raw.rows.insert("out", "results", {"doubled": {"value": value * 2}}, ensure_parent=True)
        return value

    assert emu.deploy(function_handle=handle).call().get_response() == 42
    assert client.raw.rows.retrieve("out", "results", "doubled").columns == {"value": 84}  # type: ignore[union-attr]
