"""Seeding from fixtures: emu.load(file or dict) and POST /_emulator/seed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cognite.client.exceptions import CogniteAPIError, CogniteNotFoundError
from starlette.testclient import TestClient

from emulator import FunctionsEmulator
from emulator.seeding import FixtureError

FIXTURE = {
    "datasets": [{"externalId": "sensors", "name": "Sensors"}],
    "raw": {"config": {"settings": {"threshold": {"value": 42}}, "empty": {}}, "landing": {}},
    "extpipes": [
        {
            "externalId": "sensor-sync",
            "name": "Sensor sync",
            "dataSetExternalId": "sensors",
            "config": "threshold: 42\n",
            "runs": [{"status": "success"}],
        }
    ],
    "groups": [{"name": "readers", "sourceId": "aad-readers", "capabilities": []}],
    "projects": {"other": {"datasets": [{"externalId": "elsewhere"}]}},
}

YAML = """
datasets:
  - {externalId: sensors, name: Sensors}
raw:
  config:
    settings:
      threshold: {value: 42}
extpipes:
  - externalId: sensor-sync
    name: Sensor sync
    dataSetExternalId: sensors
    config: "threshold: 42"
"""


def _check(emu: FunctionsEmulator) -> None:
    client = emu.client()
    assert client.data_sets.retrieve(external_id="sensors").name == "Sensors"  # type: ignore[union-attr]
    assert client.raw.rows.retrieve("config", "settings", "threshold").columns == {"value": 42}  # type: ignore[union-attr]
    assert client.extraction_pipelines.config.retrieve("sensor-sync").config.startswith("threshold: 42")  # type: ignore[union-attr]


def test_load_a_dict(emu: FunctionsEmulator) -> None:
    counts = emu.load(FIXTURE)
    assert counts == {"groups": 1, "datasets": 2, "raw rows": 1, "extpipes": 1, "extpipe runs": 1}
    _check(emu)
    client = emu.client()
    assert sorted(t.name for t in client.raw.tables.list("config")) == ["empty", "settings"]
    assert [d.name for d in client.raw.databases.list()] == ["config", "landing"]
    pipe = client.extraction_pipelines.retrieve(external_id="sensor-sync")
    assert pipe is not None and pipe.last_success == emu.clock.now_ms()
    assert [g.name for g in client.iam.groups.list()] == ["readers"]
    assert emu.client("other").data_sets.retrieve(external_id="elsewhere") is not None


def test_load_json_and_yaml_files(emu: FunctionsEmulator, tmp_path: Path) -> None:
    path = tmp_path / "seed.json"
    path.write_text(json.dumps(FIXTURE))
    emu.load(path)
    _check(emu)
    pytest.importorskip("yaml")
    other = FunctionsEmulator(project="y")
    try:
        yaml_path = tmp_path / "seed.yaml"
        yaml_path.write_text(YAML)
        other.load(str(yaml_path))
        _check(other)
    finally:
        other.close()


def test_loaded_state_is_in_the_dump(emu: FunctionsEmulator) -> None:
    emu.load(FIXTURE)
    parts = emu.state()["projects"]["test-project"]["parts"]
    assert {"datasets", "raw", "extpipes", "groups"} <= set(parts)
    assert parts["raw"]["databases"]["config"]["tables"]["settings"]["rows"][0]["key"] == "threshold"


def test_bad_fixtures_raise(emu: FunctionsEmulator) -> None:
    with pytest.raises(FixtureError):
        emu.load({"assetz": []})
    with pytest.raises(FixtureError):
        emu.load({"datasets": {"not": "a list"}})
    with pytest.raises(CogniteNotFoundError):
        emu.load({"extpipes": [{"externalId": "p", "name": "p", "dataSetId": 123456789}]})
    with pytest.raises(CogniteAPIError):
        emu.load({"datasets": [{"externalId": "x", "name": "n" * 51}]})


def test_admin_seed_route(emu: FunctionsEmulator) -> None:
    http = TestClient(emu.app)
    answer = http.post("/_emulator/seed", json=FIXTURE)
    assert answer.status_code == 200, answer.text
    assert answer.json()["loaded"]["extpipes"] == 1
    _check(emu)
    again = http.post("/_emulator/seed", json={"datasets": [{"externalId": "sensors"}]})
    assert again.status_code == 409 and again.json()["error"]["duplicated"] == [{"externalId": "sensors"}]
    bad = http.post("/_emulator/seed", json={"nonsense": 1})
    assert bad.status_code == 400 and "unknown fixture section" in bad.json()["error"]["message"]
    into = http.post("/_emulator/seed?project=p2", json={"datasets": [{"externalId": "d"}]})
    assert into.status_code == 200
    assert emu.client("p2").data_sets.retrieve(external_id="d") is not None


def test_admin_seed_over_a_real_server(emu: FunctionsEmulator) -> None:
    import httpx

    with emu.serve(port=0) as server:
        answer = httpx.post(f"{server.base_url}/_emulator/seed", json=FIXTURE)
        assert answer.status_code == 200
        assert server.client().raw.rows.retrieve("config", "settings", "threshold") is not None


def test_a_state_file_keeps_every_new_resource(emu: FunctionsEmulator, tmp_path: Path) -> None:
    from emulator.persistence import load, save

    emu.load(FIXTURE)
    path = tmp_path / "state.json"
    save(emu, path)
    restored = FunctionsEmulator(project="test-project")
    try:
        load(restored, path)
        _check(restored)
        client = restored.client()
        pipe = client.extraction_pipelines.retrieve(external_id="sensor-sync")
        assert pipe is not None and pipe.last_success is not None
        assert len(client.extraction_pipelines.runs.list(external_id="sensor-sync")) == 1
        assert [g.name for g in client.iam.groups.list()] == ["readers"]
        fresh = client.data_sets.create({"externalId": "after-restore"}).id  # type: ignore[arg-type]
        assert fresh not in {d.id for d in emu.client().data_sets.list(limit=None)}
    finally:
        restored.close()
