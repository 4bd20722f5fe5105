"""A year of a minutely schedule (525,600 runs, no-op handler) through clock.advance vs a plain
Python loop over the same instants that calls the handler and appends a dict (target <= 20x).
Also reports peak traced memory and how many call records the store keeps (max_calls_kept)."""

from __future__ import annotations

import time
import tracemalloc
from typing import Any

from common import report, result

from emulator import FunctionsEmulator

START = "2026-01-01T00:00:00Z"
START_MS = 1767225600000
YEAR_MINUTES = 525_600


def handle():
    return None


def _baseline() -> float:
    started = time.perf_counter()
    records = []
    for i in range(1, YEAR_MINUTES + 1):
        response = handle()
        records.append({"scheduled_time": START_MS + i * 60_000, "response": response})
    return time.perf_counter() - started


def _emulated(kept: int) -> tuple[float, int, int]:
    emu = FunctionsEmulator(start=START, max_calls_kept=kept)
    fn = emu.deploy(function_handle=handle)
    emu.client().functions.schedules.create(name="m", cron_expression="* * * * *", function_id=fn.id)
    started = time.perf_counter()
    calls = emu.clock.advance(days=365)
    elapsed = time.perf_counter() - started
    count, stored = calls.total, len(emu.backend.store(emu.project).calls)  # the list keeps the newest
    emu.close()
    return elapsed, count, stored


def _memory(kept: int, days: int = 30) -> int:
    """Peak traced memory of a month of minutely runs whose returned list is dropped at once."""
    emu = FunctionsEmulator(start=START, max_calls_kept=kept)
    fn = emu.deploy(function_handle=handle)
    emu.client().functions.schedules.create(name="m", cron_expression="* * * * *", function_id=fn.id)
    tracemalloc.start()
    emu.clock.advance(days=days)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    emu.close()
    return peak


def run() -> dict[str, Any]:
    baseline = min(_baseline() for _ in range(3))
    elapsed, count, stored = _emulated(kept=100_000)
    assert count == YEAR_MINUTES, count
    return result(
        "year of minutely runs vs plain loop",
        elapsed,
        baseline,
        20.0,
        runs=count,
        records_kept=stored,
        peak_mb_month_kept_1000=round(_memory(1000) / 2**20, 1),
        peak_mb_month_kept_100000=round(_memory(100_000) / 2**20, 1),
    )


if __name__ == "__main__":
    report(run())
