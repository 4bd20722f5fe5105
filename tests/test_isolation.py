"""isolation="process": each call in a fresh subprocess, through the real SDK."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
from cognite.client import CogniteClient

from emulator import FunctionsEmulator
from tests.conftest import fixture_folder

pytestmark = pytest.mark.functions_emulator(isolation="process", timeout=5)


def _folder(source: str) -> str:
    folder = Path(tempfile.mkdtemp())
    (folder / "handler.py").write_text(source)
    return str(folder)


def test_call_runs_in_another_process_with_its_own_environment(emu: FunctionsEmulator) -> None:
    source = (
        "import os\n"
        "def handle(data, secrets, function_call_info):\n"
        "    print('from the child')\n"
        "    os.environ['LEAK'] = '1'\n"
        "    return [os.getpid(), os.environ.get('MODE'), data, secrets, sorted(function_call_info)]\n"
    )
    fn = emu.deploy(folder=_folder(source), env_vars={"MODE": "isolated"}, secrets={"k": "v"})
    call = emu.client().functions.call(id=fn.id, data={"x": 1})
    assert call.status == "Completed", call.error
    pid, mode, data, secrets, info = call.get_response()
    assert pid != os.getpid() and mode == "isolated" and data == {"x": 1} and secrets == {"k": "v"}
    assert info == ["call_id", "function_id"]
    assert [e.message for e in call.get_logs()] == ["from the child"]
    assert "LEAK" not in os.environ


@pytest.mark.functions_emulator(isolation="process", timeout=60)  # the child imports cognite-sdk
def test_the_childs_client_reaches_the_emulator(emu: FunctionsEmulator) -> None:
    emu.deploy(folder=fixture_folder("hello"), external_id="hello")
    caller = emu.deploy(folder=fixture_folder("uses_client"), external_id="caller")
    call = emu.client().functions.call(id=caller.id, data={"call": "hello", "payload": {"name": "p"}})
    assert call.status == "Completed", call.error
    assert call.get_response()["inner"] == {"status": "Completed", "response": {"greeting": "Hello, p!"}}


@pytest.mark.functions_emulator(isolation="process", timeout=1)
def test_timeout_kills_the_process(emu: FunctionsEmulator) -> None:
    fn = emu.deploy(folder=fixture_folder("slow"))
    call = emu.client().functions.call(id=fn.id, data={"seconds": 30})
    assert call.status == "Timeout" and "process killed" in call.error["message"]


def test_failures_in_the_child(emu: FunctionsEmulator) -> None:
    fn = emu.deploy(folder=fixture_folder("failing"))
    call = emu.client().functions.call(id=fn.id, data={"reason": "child"})
    assert call.status == "Failed" and call.error["message"] == "ValueError: boom: child"
    assert "_explode" in call.error["trace"]
    exits = emu.deploy(folder=_folder("import sys\ndef handle():\n    sys.exit(4)\n"))
    assert "sys.exit(4)" in emu.client().functions.call(id=exits.id).error["message"]


def test_scheduled_runs_run_in_a_child_process(emu: FunctionsEmulator, any_client: CogniteClient) -> None:
    source = (
        "import os\n"
        "def handle(data, function_call_info):\n"
        "    os.environ['SCHEDULED_LEAK'] = '1'\n"
        "    return {'pid': os.getpid(), 'mode': os.environ.get('MODE'), 'data': data,\n"
        "            'scheduled': function_call_info.get('scheduled_time')}\n"
    )
    fn = emu.deploy(folder=_folder(source), env_vars={"MODE": "isolated"})
    any_client.functions.schedules.create(
        name="hourly", cron_expression="0 * * * *", function_id=fn.id, data={"n": 1}
    )
    fired = emu.clock.advance(hours=2)
    assert [call.status for call in fired] == ["Completed", "Completed"]
    responses = [call.get_response() for call in fired]
    assert all(
        r["pid"] != os.getpid() and r["mode"] == "isolated" and r["data"] == {"n": 1} for r in responses
    )
    assert [r["scheduled"] for r in responses] == [call.scheduled_time for call in fired]
    assert "SCHEDULED_LEAK" not in os.environ
