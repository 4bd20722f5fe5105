"""Label definitions through the real SDK, and their use on assets and files."""

from __future__ import annotations

import pytest
from cognite.client import CogniteClient
from cognite.client.data_classes import AssetWrite, Label, LabelDefinitionWrite, LabelFilter
from cognite.client.exceptions import CogniteAPIError
from starlette.testclient import TestClient

from emulator import FunctionsEmulator


def test_create_list_filter_and_delete(sdk: CogniteClient) -> None:
    sdk.labels.create(
        [
            LabelDefinitionWrite(external_id="PUMP", name="Pump", description="rotating"),
            LabelDefinitionWrite(external_id="PIPE", name="Pipe"),
            LabelDefinitionWrite(external_id="VALVE", name="Valve"),
        ]
    )
    assert sorted(d.external_id for d in sdk.labels.list(limit=None)) == ["PIPE", "PUMP", "VALVE"]
    assert sorted(d.external_id for d in sdk.labels.list(external_id_prefix="P")) == ["PIPE", "PUMP"]
    assert [d.external_id for d in sdk.labels.list(name="Valve")] == ["VALVE"]
    got = sdk.labels.retrieve(external_id="PUMP")
    assert got is not None and got.description == "rotating" and got.created_time is not None
    assert sdk.labels.retrieve(external_id="NOPE", ignore_unknown_ids=True) is None
    sdk.labels.delete(external_id="PIPE")
    assert sorted(d.external_id for d in sdk.labels.list()) == ["PUMP", "VALVE"]


def test_duplicated_label_is_409_and_changes_nothing(emu: FunctionsEmulator) -> None:
    # Through the HTTP API: the SDK (8.x) itself fails with a KeyError while it reports a failed
    # label create, whatever the server answers.
    emu.client().labels.create(LabelDefinitionWrite(external_id="PUMP", name="Pump"))
    answer = TestClient(emu.app).post(
        "/api/v1/projects/test-project/labels",
        json={"items": [{"externalId": "NEW", "name": "New"}, {"externalId": "PUMP", "name": "Again"}]},
    )
    assert answer.status_code == 409
    assert answer.json()["error"]["duplicated"] == [{"externalId": "PUMP"}]
    assert [d.external_id for d in emu.client().labels.list()] == ["PUMP"]


def test_assets_carry_only_defined_labels_and_filter_by_them(sdk: CogniteClient) -> None:
    sdk.labels.create(
        [LabelDefinitionWrite(external_id="PUMP", name="Pump"), LabelDefinitionWrite("HOT", "Hot")]
    )
    sdk.assets.create(
        [
            AssetWrite(external_id="p1", name="P1", labels=[Label("PUMP"), Label("HOT")]),
            AssetWrite(external_id="p2", name="P2", labels=[Label("PUMP")]),
        ]
    )
    assert sorted(sdk.assets.list(labels=LabelFilter(contains_any=["HOT", "PUMP"])).as_external_ids()) == [
        "p1",
        "p2",
    ]
    assert sdk.assets.list(labels=LabelFilter(contains_all=["HOT", "PUMP"])).as_external_ids() == ["p1"]
    with pytest.raises(CogniteAPIError) as err:
        sdk.assets.create(AssetWrite(external_id="p3", name="P3", labels=[Label("COLD")]))
    assert err.value.code == 400 and "COLD" in err.value.message
