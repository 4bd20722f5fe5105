"""The HTTP server: emu.serve(), the CLI in a subprocess, the state file and signals."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from cognite.client import ClientConfig, CogniteClient, global_config
from cognite.client.credentials import Token

from emulator import FunctionsEmulator
from emulator.cli import DEMO_FUNCTIONS
from tests.conftest import fixture_folder

ROOT = Path(__file__).resolve().parent.parent


def hand_built_client(base_url: str, project: str) -> CogniteClient:
    global_config.disable_pypi_version_check = True
    return CogniteClient(
        ClientConfig(client_name="t", project=project, credentials=Token("x"), base_url=base_url)
    )


def test_serve_shares_state_with_the_in_process_client(emu: FunctionsEmulator) -> None:
    fn = emu.deploy(folder=fixture_folder("hello"), external_id="hello")
    with emu.serve(host="127.0.0.1", port=0) as server:
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+", server.base_url)
        remote = hand_built_client(server.base_url, emu.project)
        assert remote.functions.retrieve(external_id="hello").id == fn.id
        call = remote.functions.call(id=fn.id, data={"name": "net"})
        assert call.get_response() == {"greeting": "Hello, net!"}
        assert emu.client().functions.calls.retrieve(call_id=call.id, function_id=fn.id).status == "Completed"
        created = server.client().functions.create(name="over-http", folder=fixture_folder("echo"))
        assert created.status == "Ready"
        assert emu.client().functions.retrieve(id=created.id) is not None
    with pytest.raises(ConnectionRefusedError):  # the server is gone after the block
        socket.create_connection(("127.0.0.1", server.port), timeout=5)


def test_a_handler_using_its_client_over_the_server_does_not_deadlock(emu: FunctionsEmulator) -> None:
    emu.deploy(folder=fixture_folder("hello"), external_id="hello")
    caller = emu.deploy(folder=fixture_folder("uses_client"), external_id="caller")
    with emu.serve() as server:
        call = server.client().functions.call(id=caller.id, data={"call": "hello", "payload": {"name": "x"}})
        assert call.status == "Completed"
        assert call.get_response()["inner"] == {"status": "Completed", "response": {"greeting": "Hello, x!"}}


def _start_cli(*args: str) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "emulator", "serve", "--port", "0", *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    deadline = time.monotonic() + 30
    assert proc.stdout is not None
    lines = []
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        lines.append(line)
        match = re.search(r"listening on (http://127\.0\.0\.1:\d+)", line)
        if match:
            return proc, match.group(1)
        if proc.poll() is not None:
            break
    proc.kill()
    raise AssertionError("the CLI did not print its URL:\n" + "".join(lines))


def _stop(proc: subprocess.Popen[str], sig: int = signal.SIGTERM) -> str:
    proc.send_signal(sig)
    proc.wait(timeout=30)
    assert proc.stdout is not None
    return proc.stdout.read()  # through the text buffer: communicate() would skip what readline read ahead


def test_cli_demo_server_is_usable_by_a_hand_built_client() -> None:
    proc, url = _start_cli("--project", "demo", "--demo")
    try:
        client = hand_built_client(url, "demo")
        names = sorted(f.external_id for f in client.functions.list())
        assert names == sorted(DEMO_FUNCTIONS)  # from the package data (emulator/demo/), not fixtures/
        assert [s.cron_expression for s in client.functions.schedules.list()] == ["* * * * *"]
        hello = client.functions.retrieve(external_id="hello")
        assert client.functions.call(id=hello.id, data={"name": "cli"}).get_response() == {
            "greeting": "Hello, cli!"
        }
    finally:
        out = _stop(proc)
    assert "from cognite.client import" in out  # the ready-to-paste snippet
    assert '"POST /api/v1/projects/demo/functions/' in out  # one line per request
    assert proc.returncode == 0 and "Emulator stopped." in out


def test_state_file_round_trip_through_sigterm(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    proc, url = _start_cli(
        "--project", "p", "--state", str(state), "--clock", "virtual", "--start", "2026-01-01T00:00:00Z"
    )
    try:
        client = hand_built_client(url, "p")
        fn = client.functions.create(name="kept", folder=fixture_folder("hello"), external_id="kept")
        call = fn.call(data={"name": "before"})
        schedule = client.functions.schedules.create(name="s", cron_expression="0 * * * *", function_id=fn.id)
    finally:
        out = _stop(proc, signal.SIGTERM)
    assert "State saved" in out, out
    assert json.loads(state.read_text())["format"] == "cdf-functions-emulator/1"
    proc, url = _start_cli("--project", "p", "--state", str(state), "--clock", "virtual")
    try:
        client = hand_built_client(url, "p")
        again = client.functions.retrieve(external_id="kept")
        assert again.id == fn.id and again.status == "Ready"
        assert client.functions.calls.retrieve(call_id=call.id, function_id=fn.id).get_response() == {
            "greeting": "Hello, before!"
        }
        assert client.functions.schedules.retrieve(id=schedule.id).name == "s"
        assert again.call(data={"name": "after"}).get_response() == {"greeting": "Hello, after!"}
        new = client.functions.create(name="new", folder=fixture_folder("echo"))
        assert new.id > schedule.id  # ids are not reused
    finally:
        _stop(proc, signal.SIGINT)


def test_corrupt_state_file_is_a_clear_error_and_is_not_overwritten(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    state.write_text("{not json")
    proc = subprocess.run(
        [sys.executable, "-m", "emulator", "serve", "--port", "0", "--state", str(state)],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 2
    assert "Cannot read state file" in proc.stderr
    assert state.read_text() == "{not json"
    state.write_text(json.dumps({"format": "something-else"}))
    proc = subprocess.run(
        [sys.executable, "-m", "emulator", "serve", "--port", "0", "--state", str(state)],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 2 and "not a cdf-functions-emulator/1 state file" in proc.stderr


def test_console_script_is_installed() -> None:
    exe = Path(sys.executable).parent / "emulator"
    assert exe.exists(), "pip install -e . installs the `emulator` console script"
    out = subprocess.run(
        [str(exe), "serve", "--help"], capture_output=True, text=True, timeout=60, env=os.environ
    )
    assert "--demo" in out.stdout


def test_due_schedules_fire_on_time_while_the_server_runs_with_no_requests() -> None:
    # a wall clock a few seconds before a minute boundary: the ticker alone must fire the run at hh:mm:00
    boundary = 1767225660000  # 2026-01-01T00:01:00Z
    emu = FunctionsEmulator(project="tick", start=boundary - 4000, clock="wall")
    try:
        fn = emu.deploy(folder=fixture_folder("hello"), external_id="hello")
        emu.client().functions.schedules.create(name="m", cron_expression="* * * * *", function_id=fn.id)
        assert emu.clock.now_ms() < boundary, "setup took too long for this test's premise"
        calls = emu.backend.store("tick").calls
        while emu.clock.now_ms() < boundary + 300:
            time.sleep(0.05)
        assert not calls, "nothing fires without the server's ticker (no request was made)"
        with emu.serve():
            deadline = time.monotonic() + 10
            while not calls and time.monotonic() < deadline:
                time.sleep(0.05)  # no request: only the ticker can fire the run
            assert len(calls) == 1
            (call,) = calls.values()
            assert call.scheduled_time == boundary
    finally:
        emu.close()


@pytest.mark.parametrize(
    "content",
    [
        {"format": "cdf-functions-emulator/1", "clock_ms": 1, "projects": []},
        {"format": "cdf-functions-emulator/1", "projects": {}},
        {"format": "cdf-functions-emulator/1", "clock_ms": 1, "projects": {"p": None}},
        {"format": "cdf-functions-emulator/1", "clock_ms": 1, "projects": {"p": {"files": [{"id": 1}]}}},
        {"format": "cdf-functions-emulator/2", "clock_ms": 1, "projects": {}},
        [1, 2],
        "text",
    ],
)
def test_malformed_state_files_are_state_file_errors(tmp_path: Path, content: object) -> None:
    from emulator.persistence import StateFileError, load

    path = tmp_path / "state.json"
    path.write_text(json.dumps(content))
    emu = FunctionsEmulator(project="p")
    try:
        with pytest.raises(StateFileError, match=re.escape(str(path))):
            load(emu, path)
        assert emu.backend.projects() == [] or emu.client("p").functions.list() == []
    finally:
        emu.close()
    assert json.loads(path.read_text()) == content


def test_save_and_load_in_process_keeps_functions_schedules_sessions_and_calls(tmp_path: Path) -> None:
    from emulator.persistence import load, save

    first = FunctionsEmulator(project="p", start="2026-01-01T00:00:00Z")
    fn = first.deploy(folder=fixture_folder("with_helper"), external_id="helper")
    client = first.client()
    session = client.iam.sessions.create(session_type="TOKEN_EXCHANGE")
    schedule = client.functions.schedules.create(
        name="s", cron_expression="0 * * * *", function_id=fn.id, data={"text": "tick"}
    )
    first.clock.advance(hours=2)
    save(first, tmp_path / "s.json")
    before = first.state()
    first.close()

    second = FunctionsEmulator(project="p")
    try:
        load(second, tmp_path / "s.json")
        assert second.state() == before
        assert session.id in {s["id"] for s in before["projects"]["p"]["sessions"]}
        assert second.clock.now_ms() == first_ms(before)
        client = second.client()
        assert [c.scheduled_time for c in client.functions.calls.list(function_id=fn.id)] != []
        assert client.functions.schedules.retrieve(id=schedule.id).cron_expression == "0 * * * *"
        assert len(second.clock.advance(hours=1)) == 1  # the schedule keeps firing after a load
        call = client.functions.call(id=fn.id, data={"text": "again"})  # the code was redeployed
        assert call.get_response() == {"shout": "AGAIN!"}
    finally:
        second.close()


def first_ms(state: dict) -> int:
    return state["clock_ms"]


def test_the_root_of_the_server_leads_to_the_dashboard() -> None:
    import httpx

    emu = FunctionsEmulator(project="root")
    with emu.serve(host="127.0.0.1", port=0) as server:
        answer = httpx.get(f"{server.base_url}/", timeout=30)
        assert answer.status_code == 307 and answer.headers["location"] == "/_emulator/ui"
        page = httpx.get(f"{server.base_url}/", timeout=30, follow_redirects=True)
        assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    emu.close()
