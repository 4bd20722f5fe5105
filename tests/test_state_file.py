"""The dev server's state file survives: kept current while running, SIGHUP, writability at start,
a full disk, and crafted files refused before anything of them is used."""

from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from cognite.client.data_classes import AssetWrite, FileMetadataWrite, TimeSeriesWrite

from emulator import FunctionsEmulator
from emulator.deploy_timing import DeployTiming
from emulator.persistence import StateFileError, load, save
from tests.test_cli import ROOT, Cli, client_for


def handle():
    return "kept"


def _wait_for(predicate, seconds: float = 20.0) -> bool:
    """Poll (not a timed assertion): the condition must come true within a generous bound."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def _saved_names(path: Path) -> set[str]:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return set()
    return {f["name"] for p in data["projects"].values() for f in p["files"]}


def test_kill_9_during_a_burst_loses_only_the_last_moment(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    cli = Cli("--project", "p", "--state", str(state), "--clock", "virtual")
    client = client_for(cli.url, "p")
    for i in range(40):
        client.files.create(FileMetadataWrite(name=f"burst-{i}"))
    assert _wait_for(lambda: "burst-39" in _saved_names(state)), "the state file never caught up"
    for i in range(40, 60):  # a second burst, killed in the middle of
        client.files.create(FileMetadataWrite(name=f"burst-{i}"))
    cli.proc.kill()
    cli.proc.wait(timeout=30)
    assert not list(tmp_path.glob(".state-*")), "no temporary file is left behind"
    names = _saved_names(state)  # a whole file (atomic writes), with the first burst complete
    assert {f"burst-{i}" for i in range(40)} <= names

    with Cli("--project", "p", "--state", str(state), "--clock", "virtual") as again:
        dump = httpx.get(f"{again.url}/_emulator/state", timeout=30).json()
        restored = {f["name"]: f["id"] for f in dump["projects"]["p"]["files"]}
        assert names <= set(restored)
        new = client_for(again.url, "p").files.create(FileMetadataWrite(name="after-restart"))[0]
        assert new.id not in restored.values()  # the id counter continued
        again.stop()


def test_sighup_saves_and_exits_like_sigterm(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    cli = Cli("--project", "p", "--state", str(state))
    client_for(cli.url, "p").files.create(FileMetadataWrite(name="before-hangup"))
    out = cli.stop(signal.SIGHUP)
    assert cli.proc.returncode == 0, out
    assert "State saved" in out and "Emulator stopped." in out
    assert "before-hangup" in _saved_names(state)


def _run(*args: str, **kwargs) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "emulator", "serve", "--port", "0", *args],
        cwd=ROOT, capture_output=True, text=True, timeout=60, **kwargs,
    )  # fmt: skip


def test_an_unwritable_state_folder_is_refused_at_start(tmp_path: Path) -> None:
    proc = _run("--state", "/proc/emulator-state.json")  # not writable, even for root
    assert proc.returncode == 2 and "not writable" in proc.stderr, proc.stderr
    if os.geteuid() != 0:  # root writes through permission bits
        folder = tmp_path / "ro"
        folder.mkdir()
        folder.chmod(0o555)
        proc = _run("--state", str(folder / "state.json"))
        assert proc.returncode == 2 and "not writable" in proc.stderr


def _limit_file_size() -> None:
    # A "full disk" for this process only: writes past 64 KiB fail with EFBIG instead of a signal.
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (64 * 1024, 64 * 1024))


def test_a_full_disk_is_an_error_message_and_leaves_no_stray_file(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    proc = subprocess.Popen(
        [sys.executable, "-m", "emulator", "serve", "--port", "0", "--project", "p", "--state", str(state)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=_limit_file_size,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        line = ""
        while "listening on" not in line:
            line = proc.stdout.readline()
            assert line, proc.stderr.read() if proc.stderr else ""
        url = line.split("listening on ")[1].strip()
        client = client_for(url, "p")
        client.files.upload_bytes(os.urandom(200 * 1024), name="big.bin")  # base64 in the file: > 64 KiB
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    assert proc.returncode == 1
    assert "could not save the state" in err and "File too large" in err, err
    assert not list(tmp_path.glob(".state-*")), "no temporary file is left behind"
    assert not state.exists()


# --- crafted files --------------------------------------------------------------------------------


def _saved(tmp_path: Path) -> dict:
    emu = FunctionsEmulator(project="p")
    emu.deploy(function_handle=handle, external_id="fn", secrets={"k": "v"})
    emu.client().functions.schedules.create(
        name="s", cron_expression="0 * * * *", function_id=emu.client().functions.list()[0].id
    )
    path = tmp_path / "good.json"
    save(emu, path)
    emu.close()
    return json.loads(path.read_text())


def _refused(tmp_path: Path, data: dict, message: str) -> None:
    path = tmp_path / "crafted.json"
    path.write_text(json.dumps(data))
    emu = FunctionsEmulator(project="p")
    try:
        with pytest.raises(StateFileError, match=message):
            load(emu, path)
        assert emu.backend.projects() == [] or emu.client("p").functions.list() == []
        assert not (emu.workdir / "functions").exists() or not any((emu.workdir / "functions").iterdir())
    finally:
        emu.close()


def test_a_good_file_loads(tmp_path: Path) -> None:
    path = tmp_path / "good.json"
    path.write_text(json.dumps(_saved(tmp_path)))
    emu = FunctionsEmulator(project="p")
    load(emu, path)
    assert emu.client().functions.retrieve(external_id="fn").call().get_response() == "kept"
    assert emu.state(secrets=True)["projects"]["p"]["functions"][0]["secrets"] == {"k": "v"}
    emu.close()


def test_a_function_id_outside_the_work_directory_touches_nothing(tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "precious.txt").write_text("keep me")
    data = _saved(tmp_path)
    data["projects"]["p"]["functions"][0]["id"] = "../../../../../../" + str(victim).lstrip("/")
    _refused(tmp_path, data, r"functions\[0\]\.id is not valid")
    assert (victim / "precious.txt").read_text() == "keep me"
    assert sorted(p.name for p in victim.iterdir()) == ["precious.txt"]
    # and through the CLI: a clear error, exit 2, the file untouched
    path = tmp_path / "crafted.json"
    proc = _run("--state", str(path))
    assert proc.returncode == 2 and "is not valid" in proc.stderr
    assert (victim / "precious.txt").read_text() == "keep me"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.pop("ids_issued"), "no ids_issued"),
        (lambda d: d.update(ids_issued=1), "beyond ids_issued"),
        (lambda d: d.update(ids_issued="many"), "ids_issued must be"),
        (lambda d: d.update(id_seed=7), "id_seed"),
        (lambda d: d["projects"]["p"]["functions"][0].update(function_path="../../evil.py"), "function_path"),
        (lambda d: d["projects"]["p"]["functions"][0].update(function_path="/etc/evil.py"), "function_path"),
        (lambda d: d["projects"]["p"]["functions"][0].update(id=True), r"\.id is not valid"),
        (lambda d: d["projects"]["p"]["functions"][0].update(id=2**60), r"\.id is not valid"),
        (lambda d: d["projects"]["p"]["functions"][0].update(secrets={"k": 1}), "secrets"),
        (lambda d: d["projects"]["p"]["functions"][0].update(status="Hacked"), "status"),
        (lambda d: d["projects"]["p"]["functions"][0].update(code_dir="/tmp"), "unknown field"),
        (lambda d: d["projects"]["p"]["functions"].append(dict(d["projects"]["p"]["functions"][0])), "twice"),
        (lambda d: d["projects"]["p"]["files"][0].update(content_b64="!!not base64!!"), "content_b64"),
        (lambda d: d["projects"]["p"]["schedules"][0].update(data_json='{"x": NaN}'), "data_json"),
        (lambda d: d["projects"]["p"]["calls"].append({"id": 5}), "lacks the field"),
        (lambda d: d["projects"].update({"a/b": {}}), "project name"),
        (lambda d: d["projects"]["p"].update(extra=[]), "unknown key"),
    ],
)
def test_crafted_fields_are_refused(tmp_path: Path, change, message: str) -> None:
    data = _saved(tmp_path)
    change(data)
    _refused(tmp_path, data, message)


def _rich(tmp_path: Path) -> Path:
    """A state file with the newer parts of the state: a deployment still settling (DeployTiming)
    and records of the families after Functions (assets, RAW rows, time series and datapoints)."""
    emu = FunctionsEmulator(project="p", start="2026-01-01T00:00:00Z", id_seed=3)
    emu.deploy(function_handle=handle, external_id="fn", deploy_timing=DeployTiming(queued=5, deploying=30))
    client = emu.client()
    client.assets.create(AssetWrite(external_id="pump", name="Pump"))
    client.raw.rows.insert("db", "t", {"r1": {"x": 1}}, ensure_parent=True)
    client.time_series.create(TimeSeriesWrite(external_id="ts"))
    client.time_series.data.insert([(1767225600000, 1.5)], external_id="ts")
    path = tmp_path / "rich.json"
    save(emu, path)
    emu.close()
    return path


def test_a_file_with_a_settling_deployment_and_family_parts_loads(tmp_path: Path) -> None:
    path = _rich(tmp_path)
    data = json.loads(path.read_text())
    assert data["id_seed"] == 3 and data["projects"]["p"]["functions"][0]["staged"] is not None
    emu = FunctionsEmulator(project="p", id_seed=3)
    load(emu, path)
    client = emu.client()
    assert client.functions.retrieve(external_id="fn").status in ("Queued", "Deploying")
    emu.clock.advance(seconds=40)
    assert client.functions.retrieve(external_id="fn").status == "Ready"
    assert client.assets.retrieve(external_id="pump").name == "Pump"
    assert client.raw.rows.retrieve("db", "t", "r1").columns == {"x": 1}
    assert client.time_series.data.retrieve(external_id="ts", start=0, end="now").value == [1.5]
    new = client.assets.create(AssetWrite(external_id="valve", name="Valve"))
    assert new.id not in set(_ids(data))  # the id counter continues: no restored id is issued again
    emu.close()


def _ids(value: object) -> list[int]:
    if isinstance(value, dict):
        own = [v for k, v in value.items() if k == "id" and isinstance(v, int)]
        return own + [i for v in value.values() for i in _ids(v)]
    if isinstance(value, list):
        return [i for v in value for i in _ids(v)]
    return []


def test_a_part_record_beyond_the_id_counter_is_refused(tmp_path: Path) -> None:
    data = json.loads(_rich(tmp_path).read_text())
    data["ids_issued"] = 1  # the assets' ids came later: a new object would take one of them
    _refused_seeded(tmp_path, data, "beyond ids_issued")
    data = json.loads(_rich(tmp_path).read_text())
    data["projects"]["p"]["functions"][0]["staged"] = [0, 0, "Hacked", None]
    _refused_seeded(tmp_path, data, "staged")


def _refused_seeded(tmp_path: Path, data: dict, message: str) -> None:
    path = tmp_path / "crafted.json"
    path.write_text(json.dumps(data))
    emu = FunctionsEmulator(project="p", id_seed=3)
    try:
        with pytest.raises(StateFileError, match=message):
            load(emu, path)
        assert emu.backend.projects() == []
    finally:
        emu.close()
