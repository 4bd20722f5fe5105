"""The handler fault matrix entries not covered in test_calls.py: recursion, cwd, a flood of logs."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from emulator import FunctionsEmulator


def _folder(source: str) -> str:
    folder = Path(tempfile.mkdtemp())
    (folder / "handler.py").write_text(source)
    return str(folder)


def test_recursion_to_the_limit_is_a_failed_call(emu: FunctionsEmulator) -> None:
    fn = emu.deploy(folder=_folder("def f(n):\n    return f(n + 1)\n\ndef handle():\n    return f(0)\n"))
    call = emu.client().functions.call(id=fn.id)
    assert call.status == "Failed" and call.error["message"].startswith("RecursionError")
    ok = emu.deploy(folder=_folder("def handle():\n    return 'fine'\n"))
    assert emu.client().functions.call(id=ok.id).get_response() == "fine"


def test_working_directory_is_restored(emu: FunctionsEmulator) -> None:
    before = os.getcwd()
    fn = emu.deploy(folder=_folder("import os\ndef handle():\n    os.chdir('/')\n    return os.getcwd()\n"))
    assert emu.client().functions.call(id=fn.id).get_response() == "/"
    assert os.getcwd() == before


def test_a_flood_of_logs_is_capped_and_the_call_completes() -> None:
    emu = FunctionsEmulator()
    fn = emu.deploy(
        folder=_folder(
            "def handle():\n    for i in range(50_000):\n        print('x' * 20, i)\n    return 'done'\n"
        )
    )
    call = emu.client().functions.call(id=fn.id)
    assert call.status == "Completed" and call.get_response() == "done"
    logs = call.get_logs()
    assert len(logs) == emu.limits.max_log_lines + 1
    assert "40000 more line(s)" in logs[-1].message
    emu.close()
