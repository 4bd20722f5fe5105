"""Per-run cost of time travel with 10 functions scheduled every minute vs one (target <= 1.5x).
Each function has its own helper module of the same name (issue 14: no module swap per switch)."""

from __future__ import annotations

import io
import time
import zipfile
from typing import Any

from common import report, result

from emulator import FunctionsEmulator

HANDLER = "import helper\ndef handle():\n    return helper.X\n"


def _zip(n: int) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("handler.py", HANDLER)
        zf.writestr("helper.py", f"X = {n}\n")
    return buffer.getvalue()


def _per_run(functions: int, days: float) -> float:
    emu = FunctionsEmulator(start="2026-01-01T00:00:00Z")
    client = emu.client()
    for n in range(functions):
        file = client.files.upload_bytes(_zip(n), name=f"f{n}.zip")
        fn = client.functions.create(name=f"f{n}", file_id=file.id, env_vars={"N": str(n)})
        client.functions.schedules.create(name="m", cron_expression="* * * * *", function_id=fn.id)
    started = time.perf_counter()
    runs = len(emu.clock.advance(days=days))
    elapsed = time.perf_counter() - started
    emu.close()
    return elapsed / runs


def run() -> dict[str, Any]:
    one = min(_per_run(1, 10) for _ in range(3))
    ten = min(_per_run(10, 1) for _ in range(3))
    return result("10 scheduled functions vs 1, per run", ten, one, 1.5, runs_each=14400)


if __name__ == "__main__":
    report(run())
