"""Emulator import plus the first in-process call, in a fresh interpreter, vs importing cognite-sdk
alone (target <= 2x)."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from common import report, result

ROOT = Path(__file__).resolve().parent.parent
SDK_ONLY = "import cognite.client"
EMULATOR_FIRST_CALL = """
from emulator import FunctionsEmulator
emu = FunctionsEmulator()
fn = emu.deploy(folder="fixtures/hello")
assert emu.client().functions.call(id=fn.id).status == "Completed"
"""


def _time(code: str, repeat: int = 5) -> float:
    runs = []
    for _ in range(repeat):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)
        runs.append(time.perf_counter() - started)
    return min(runs)


def run() -> dict[str, Any]:
    return result(
        "import + first call vs import cognite-sdk", _time(EMULATOR_FIRST_CALL), _time(SDK_ONLY), 2.0
    )


if __name__ == "__main__":
    report(run())
