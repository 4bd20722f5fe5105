"""Data sets through the real SDK, in-process and over loopback."""

from __future__ import annotations

import pytest
from cognite.client import CogniteClient
from cognite.client.data_classes import DataSetUpdate, DataSetWrite
from cognite.client.exceptions import CogniteAPIError, CogniteDuplicatedError, CogniteNotFoundError

from emulator import FunctionsEmulator


def test_create_retrieve_list(sdk: CogniteClient) -> None:
    made = sdk.data_sets.create(
        [
            DataSetWrite(external_id=f"ds-{i}", name=f"Data set {i}", metadata={"n": str(i % 2)})
            for i in range(25)
        ]
    )
    assert len(made) == 25 and all(d.id > 10**6 for d in made)
    one = sdk.data_sets.retrieve(external_id="ds-3")
    assert one is not None and one.name == "Data set 3" and one.write_protected is False
    assert sdk.data_sets.retrieve(id=made[0].id).external_id == "ds-0"  # type: ignore[union-attr]
    assert sdk.data_sets.retrieve(id=123) is None  # small ids never exist
    both = sdk.data_sets.retrieve_multiple(external_ids=["ds-1", "ds-2"])
    assert [d.external_id for d in both] == ["ds-1", "ds-2"]
    with pytest.raises(CogniteNotFoundError) as caught:
        sdk.data_sets.retrieve_multiple(external_ids=["ds-1", "nope"])
    assert caught.value.not_found == [{"externalId": "nope"}]
    assert len(sdk.data_sets.retrieve_multiple(external_ids=["ds-1", "nope"], ignore_unknown_ids=True)) == 1
    assert len(sdk.data_sets.list(limit=None)) == 25
    assert len(sdk.data_sets.list(limit=7)) == 7
    assert len(sdk.data_sets.list(metadata={"n": "1"}, limit=None)) == 12
    assert len(sdk.data_sets.list(external_id_prefix="ds-1", limit=None)) == 11
    assert sum(len(chunk) for chunk in sdk.data_sets(chunk_size=10)) == 25


def test_aggregate_count_and_filters(sdk: CogniteClient) -> None:
    sdk.data_sets.create([DataSetWrite(external_id="a", write_protected=True), DataSetWrite(name="b")])
    assert sdk.data_sets.aggregate_count() == 2
    assert sdk.data_sets.aggregate_count(filter={"writeProtected": True}) == 1
    assert len(sdk.data_sets.list(write_protected=False)) == 1
    assert len(sdk.data_sets.list(external_id_prefix="")) == 1  # the one without an externalId is left out


def test_update(sdk: CogniteClient) -> None:
    ds = sdk.data_sets.create(DataSetWrite(external_id="u", name="old", metadata={"a": "1", "b": "2"}))
    sdk.data_sets.update(
        DataSetUpdate(external_id="u").name.set("new").metadata.add({"c": "3"}).metadata.remove(["a"])
    )
    got = sdk.data_sets.retrieve(id=ds.id)
    assert got is not None and got.name == "new" and got.metadata == {"b": "2", "c": "3"}
    assert got.last_updated_time >= ds.last_updated_time
    sdk.data_sets.update(DataSetUpdate(id=ds.id).description.set("d").write_protected.set(True))
    got = sdk.data_sets.retrieve(id=ds.id)
    assert got is not None and got.description == "d" and got.write_protected is True
    updated = sdk.data_sets.update(DataSetWrite(external_id="u", name="replaced"), mode="replace")
    assert updated.name == "replaced" and updated.metadata == {}


def test_duplicates_and_bad_input_leave_state_unchanged(sdk: CogniteClient) -> None:
    sdk.data_sets.create(DataSetWrite(external_id="x"))
    with pytest.raises(CogniteDuplicatedError) as caught:
        sdk.data_sets.create(DataSetWrite(external_id="x"))
    assert caught.value.duplicated == [{"externalId": "x"}]
    with pytest.raises(CogniteAPIError) as bad:
        sdk.data_sets.create(DataSetWrite(external_id="y", name="n" * 51))
    assert bad.value.code == 400
    with pytest.raises(CogniteNotFoundError):
        sdk.data_sets.update(DataSetUpdate(external_id="missing").name.set("n"))
    assert sdk.data_sets.aggregate_count() == 1


def test_a_handler_sees_the_same_data_sets(emu: FunctionsEmulator, client: CogniteClient) -> None:
    client.data_sets.create(DataSetWrite(external_id="shared", name="Shared"))

    def handle(client, data):  # type: ignore[no-untyped-def]
        return client.data_sets.retrieve(external_id="shared").name

    assert emu.deploy(function_handle=handle).call().get_response() == "Shared"
