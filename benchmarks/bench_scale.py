"""Time travel at project scale (issue 19), each against a baseline measured in the same run.

- per scheduled run, 10 functions with a minutely schedule each vs 1 function (target <= 1.5x);
- 1,000 schedules (10 functions x 100, hourly) vs a plain loop making the same handler calls and
  records (target <= 4x); 1 day (24,000 runs) by default, BENCH_SCALE_DAYS=30 for the full 720,000;
- a year of one minutely schedule vs a plain loop making the same handler calls and records
  (target <= 2.5x);
- peak RSS growth over that year, advanced a day at a time, each returned list dropped (<= 100 MB;
  run this module alone for a clean figure: earlier benchmarks in the same process raise the peak).
"""

from __future__ import annotations

import os
import resource
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from common import report, result

from emulator import FunctionsEmulator

START = "2026-01-01T00:00:00Z"
START_MS = 1767225600000
HELPER = "def helper(data):\n    return None\n"
HANDLER = "from helper import helper\n\n\ndef handle(data):\n    return helper(data)\n"


@dataclass(slots=True)
class _Record:
    """What the plain loop keeps per run: the fields of a call record."""

    id: int
    function_id: int
    status: str
    start_time: int
    end_time: int | None = None
    error: Any = None
    schedule_id: int | None = None
    scheduled_time: int | None = None
    session_id: int | None = None
    response: Any = None
    has_response: bool = False
    logs: list[Any] = field(default_factory=list)


def _handle(data: Any) -> None:
    return None


def _plain_loop(instants: list[tuple[int, int]]) -> float:
    """The floor: for each (time, function) pair, call the handler and keep a record."""
    started = time.perf_counter()
    kept: dict[int, _Record] = {}
    order: deque[int] = deque()
    for i, (at, fn) in enumerate(instants):
        record = _Record(i, fn, "Running", at, schedule_id=fn, scheduled_time=at)
        response = _handle({"n": 1})
        record.response, record.has_response, record.status, record.end_time = response, True, "Completed", at
        kept[i] = record
        order.append(i)
        if len(kept) > 100_000:
            del kept[order.popleft()]
    return time.perf_counter() - started


def _project(tmp: str, functions: int, schedules_each: int, cron: str) -> FunctionsEmulator:
    emu = FunctionsEmulator(start=START, max_calls_kept=100_000)
    client = emu.client()
    for f in range(functions):
        folder = os.path.join(tmp, f"fn{f}")
        os.makedirs(folder, exist_ok=True)
        with open(os.path.join(folder, "handler.py"), "w") as out:
            out.write(HANDLER)
        with open(os.path.join(folder, "helper.py"), "w") as out:  # same-named helper in every function
            out.write(HELPER)
        fn = emu.deploy(folder, external_id=f"fn{f}")
        for s in range(schedules_each):
            client.functions.schedules.create(
                name=f"s{s}", cron_expression=cron, function_id=fn.id, data={"n": s}
            )
    return emu


def _advance(emu: FunctionsEmulator, days: int) -> tuple[float, int]:
    started = time.perf_counter()
    count = len(emu.clock.advance(days=days))
    return time.perf_counter() - started, count


def per_run_many_functions(tmp: str, days: int = 2) -> dict[str, Any]:
    one = _project(os.path.join(tmp, "one"), 1, 1, "* * * * *")
    ten = _project(os.path.join(tmp, "ten"), 10, 1, "* * * * *")
    t1, n1 = _advance(one, days)
    t10, n10 = _advance(ten, days)
    one.close()
    ten.close()
    return result("per run: 10 minutely functions vs 1", t10 / n10, t1 / n1, 1.5, runs_1=n1, runs_10=n10)


def thousand_schedules(tmp: str) -> dict[str, Any]:
    days = int(os.environ.get("BENCH_SCALE_DAYS", "1"))
    emu = _project(os.path.join(tmp, "k"), 10, 100, "0 * * * *")
    elapsed, count = _advance(emu, days)
    emu.close()
    instants = [(START_MS + h * 3_600_000, f) for h in range(1, days * 24 + 1) for f in range(1000)]
    baseline = min(_plain_loop(instants) for _ in range(2))
    return result("1,000 hourly schedules vs plain loop", elapsed, baseline, 4.0, runs=count, days=days)


def year_one_minutely(tmp: str) -> dict[str, Any]:
    emu = _project(os.path.join(tmp, "y"), 1, 1, "* * * * *")
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    count = 0
    for _ in range(365):  # a year in daily moves, each returned list dropped as made
        count += len(emu.clock.advance(days=1))
    elapsed = time.perf_counter() - started
    growth_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    emu.close()
    baseline = min(_plain_loop([(START_MS + i * 60_000, 0) for i in range(count)]) for _ in range(2))
    return result(
        "year of one minutely schedule vs plain loop",
        elapsed,
        baseline,
        2.5,
        runs=count,
        peak_rss_growth_mb=round(growth_kb / 1024, 1),
    )


def run() -> list[dict[str, Any]]:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        return [per_run_many_functions(tmp), thousand_schedules(tmp), year_one_minutely(tmp)]


if __name__ == "__main__":
    for row in run():
        report(row)
