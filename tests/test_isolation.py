"""isolation="process": each call in a fresh subprocess, through the real SDK."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

from emulator import FunctionsEmulator
from tests.conftest import fixture_folder


@pytest.fixture
def pemu():
    emulator = FunctionsEmulator(isolation="process", timeout=5)
    yield emulator
    emulator.close()


def _folder(source: str) -> str:
    folder = Path(tempfile.mkdtemp())
    (folder / "handler.py").write_text(source)
    return str(folder)


def test_call_runs_in_another_process_with_its_own_environment(pemu: FunctionsEmulator) -> None:
    source = (
        "import os\n"
        "def handle(data, secrets, function_call_info):\n"
        "    print('from the child')\n"
        "    os.environ['LEAK'] = '1'\n"
        "    return [os.getpid(), os.environ.get('MODE'), data, secrets, sorted(function_call_info)]\n"
    )
    fn = pemu.deploy(folder=_folder(source), env_vars={"MODE": "isolated"}, secrets={"k": "v"})
    call = pemu.client().functions.call(id=fn.id, data={"x": 1})
    assert call.status == "Completed", call.error
    pid, mode, data, secrets, info = call.get_response()
    assert pid != os.getpid() and mode == "isolated" and data == {"x": 1} and secrets == {"k": "v"}
    assert info == ["call_id", "function_id"]
    assert [e.message for e in call.get_logs()] == ["from the child"]
    assert "LEAK" not in os.environ


def test_the_childs_client_reaches_the_emulator(pemu: FunctionsEmulator) -> None:
    pemu.deploy(folder=fixture_folder("hello"), external_id="hello")
    caller = pemu.deploy(folder=fixture_folder("uses_client"), external_id="caller")
    call = pemu.client().functions.call(id=caller.id, data={"call": "hello", "payload": {"name": "p"}})
    assert call.status == "Completed", call.error
    assert call.get_response()["inner"] == {"status": "Completed", "response": {"greeting": "Hello, p!"}}


def test_timeout_kills_the_process() -> None:
    emu = FunctionsEmulator(isolation="process", timeout=1)
    fn = emu.deploy(folder=fixture_folder("slow"))
    call = emu.client().functions.call(id=fn.id, data={"seconds": 30})
    assert call.status == "Timeout" and "process killed" in call.error["message"]
    emu.close()


def test_failures_in_the_child(pemu: FunctionsEmulator) -> None:
    fn = pemu.deploy(folder=fixture_folder("failing"))
    call = pemu.client().functions.call(id=fn.id, data={"reason": "child"})
    assert call.status == "Failed" and call.error["message"] == "ValueError: boom: child"
    assert "_explode" in call.error["trace"]
    exits = pemu.deploy(folder=_folder("import sys\ndef handle():\n    sys.exit(4)\n"))
    assert "sys.exit(4)" in pemu.client().functions.call(id=exits.id).error["message"]
