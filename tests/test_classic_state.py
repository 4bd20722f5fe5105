"""Files, assets, events and labels are shared with handlers and survive a state file round trip."""

from __future__ import annotations

from pathlib import Path

from cognite.client.data_classes import AssetWrite, EventWrite, LabelDefinitionWrite

from emulator import FunctionsEmulator
from emulator.persistence import load, save


def handle(client, data):  # type: ignore[no-untyped-def]
    (pump,) = client.assets.list(external_id_prefix="pump")
    content = client.files.download_bytes(external_id="config").decode()
    client.events.create(
        [
            {"externalId": f"alarm-{i}", "startTime": i, "assetIds": [pump.id], "description": content}
            for i in range(data["n"])
        ]
    )
    return {"events": len(client.events.list(asset_ids=[pump.id], limit=None))}


def test_a_handler_reads_assets_and_files_and_writes_events(emu: FunctionsEmulator) -> None:
    client = emu.client()
    client.assets.create(AssetWrite(external_id="pump-1", name="Pump"))
    client.files.upload_bytes(b"threshold=3", name="config.txt", external_id="config")
    fn = emu.deploy(function_handle=handle, external_id="alarms")
    call = client.functions.call(id=fn.id, data={"n": 3})
    assert call.status == "Completed", call.error
    assert call.get_response() == {"events": 3}
    assert client.events.retrieve(external_id="alarm-2").description == "threshold=3"  # type: ignore[union-attr]


def test_state_file_round_trip(emu: FunctionsEmulator, tmp_path: Path) -> None:
    client = emu.client()
    client.labels.create(LabelDefinitionWrite(external_id="PUMP", name="Pump"))
    root = client.assets.create(AssetWrite(external_id="root", name="Root"))
    client.assets.create(AssetWrite(external_id="kid", name="Kid", parent_id=root.id))
    client.events.create(EventWrite(external_id="ev", start_time=5, asset_ids=[root.id]))
    client.files.upload_bytes(b"bytes", name="f.bin", external_id="f")
    path = tmp_path / "state.json"
    save(emu, path)
    with FunctionsEmulator(project="test-project") as other:
        load(other, path)
        again = other.client()
        assert sorted(again.assets.retrieve_subtree(external_id="root").as_external_ids()) == ["kid", "root"]
        assert again.events.retrieve(external_id="ev").asset_ids == [root.id]  # type: ignore[union-attr]
        assert again.files.download_bytes(external_id="f") == b"bytes"
        assert [d.external_id for d in again.labels.list()] == ["PUMP"]
