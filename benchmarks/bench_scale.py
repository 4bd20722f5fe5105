"""Time travel at project scale (issue 19), each against a baseline measured in the same run.

- per scheduled run, 10 functions with a minutely schedule each vs 1 function (target <= 1.5x);
- 1,000 schedules (10 functions x 100, hourly) over 30 days (720,000 runs) vs a plain loop making
  the same handler calls and records (target <= 4x; BENCH_SCALE_DAYS=1 for a quick look);
- a year of one minutely schedule vs a plain loop making the same handler calls and records
  (target <= 2.5x);
- peak RSS growth over that year, advanced a day at a time, each returned list dropped (<= 100 MB;
  run this module alone for a clean figure: earlier benchmarks in the same process raise the peak).

The plain loop (``_PlainLoop``) and the emulator alternate a day at a time, so a busy machine slows
both alike, and both are timed in process CPU time; the row's ratio is total against total, and the
median of the daily ratios is shown too.

Both pause the cyclic garbage collector while they run (the emulator does so for a clock move), so
the objects each made wait, young, for the collector. Each side's time includes that young
collection (``gc.collect(1)``, what a test pays right after ``advance``); the automatic collector
stays off during the measure, so neither pays for the other's objects, and the full collections,
which scan both sides' records alike, run between rounds, untimed.
"""

from __future__ import annotations

import gc
import itertools
import os
import resource
import statistics
import subprocess
import sys
import time
import types
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from common import report, result

from emulator import FunctionsEmulator
from emulator.ids import IdGenerator

START = "2026-01-01T00:00:00Z"
START_MS = 1767225600000
HELPER = "def helper(data):\n    return None\n"
HANDLER = "from helper import helper\n\n\ndef handle(data):\n    return helper(data)\n"


@dataclass(slots=True)
class _Record:
    """What the plain loop keeps per run: the fields of the emulator's call record."""

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


def _same_handler() -> Callable[..., Any]:
    """The deployed handler's own code (``handle`` calling ``helper``), compiled for the loop."""
    helper = types.ModuleType("helper")
    exec(compile(HELPER, "helper.py", "exec"), helper.__dict__)
    saved = sys.modules.get("helper")
    sys.modules["helper"] = helper
    try:
        namespace: dict[str, Any] = {}
        exec(compile(HANDLER, "handler.py", "exec"), namespace)
    finally:
        if saved is None:
            del sys.modules["helper"]
        else:
            sys.modules["helper"] = saved
    handle: Callable[..., Any] = namespace["handle"]
    return handle


class _PlainLoop:
    """The floor the emulator is measured against, doing per run what a scheduled run must do at
    least: call the same handler with a fresh copy of the schedule's data, and keep an equivalent
    call record (an id, Running then Completed with the response, end time, schedule, session),
    the newest 100,000 kept (the emulator's ``max_calls_kept``), oldest dropped first. Its state
    persists across chunks as the emulator's does. It reads the run instants from a list made
    beforehand, so it pays nothing for knowing when runs are due (the emulator's heap and cron do),
    and its records' ids too: CDF-shaped ids, as the emulator's must be (emulator/ids.py: code
    written for CDF takes 1 or 42 for ids that do not exist), so it pays nothing for making them,
    only for keeping records by them (large, scattered keys make a dict's inserts miss the cache
    more than 1, 2, 3 do: ``sequential_ids=True`` measures the loop keyed so, for comparison)."""

    def __init__(self, sequential_ids: bool = False) -> None:
        self._handle = _same_handler()
        self._ids: Callable[[int], list[int]]
        if sequential_ids:
            counter = itertools.count(1)
            self._ids = lambda n: list(itertools.islice(counter, n))
        else:
            self._ids = IdGenerator(seed=19).take
        self._kept: dict[int, _Record] = {}
        self._order: deque[int] = deque()

    def run(self, instants: list[tuple[int, int]]) -> float:
        """CPU seconds to run the handler once for each (time, schedule) pair."""
        ids = self._ids(len(instants))  # made beforehand, as the instants are
        handle, kept, order = self._handle, self._kept, self._order
        paused = gc.isenabled()
        gc.disable()  # as the emulator pauses the cyclic GC during a clock move
        started = time.process_time()
        for (at, schedule), call_id in zip(instants, ids, strict=True):
            record = _Record(call_id, schedule, "Running", at, None, None, schedule, at, schedule)
            kept[record.id] = record
            order.append(record.id)
            response = handle({"n": schedule})
            record.end_time, record.response, record.has_response = at, response, True
            record.status = "Completed"
            if len(kept) > 100_000:
                del kept[order.popleft()]
        took = time.process_time() - started
        if paused:
            gc.enable()
        return took


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


def _interleaved(
    emu: FunctionsEmulator, days: int, instants_of_day: Callable[[int], list[tuple[int, int]]]
) -> tuple[float, float, int, list[float], float]:
    """Advance ``days`` a day at a time, each day followed by the plain loop over the same runs, so
    that the load of a shared machine weighs on both alike; both are timed in this process's CPU
    time (``time.process_time``: the time other processes take from a busy machine is not counted,
    and every run here executes in this process). Returns the emulator's and the plain
    loop's seconds, the runs, the ratio of each day, and the seconds of the plain loop keyed by
    1, 2, 3 (``_PlainLoop(sequential_ids=True)``, run after it the same way)."""
    plain, keyed = _PlainLoop(), _PlainLoop(sequential_ids=True)
    sequential = 0.0
    measured = baseline = 0.0
    count = 0
    ratios = []
    automatic = gc.isenabled()
    gc.disable()
    try:
        for day in range(days):
            gc.collect(1)  # what came before: nobody's
            started = time.process_time()
            runs = len(emu.clock.advance(days=1))  # each returned list dropped as made
            gc.collect(1)
            took = time.process_time() - started
            instants = instants_of_day(day)
            assert len(instants) == runs, (len(instants), runs)
            floor = _timed(plain, instants)
            sequential += _timed(keyed, instants)
            measured, baseline, count = measured + took, baseline + floor, count + runs
            ratios.append(took / floor)
            if day % 30 == 29:
                gc.collect()  # both sides' records alike, untimed
    finally:
        if automatic:
            gc.enable()
    return measured, baseline, count, ratios, sequential


def _timed(plain: _PlainLoop, instants: list[tuple[int, int]]) -> float:
    """CPU seconds of the plain loop over ``instants``, with the young collection it leaves."""
    gc.collect(1)
    took = plain.run(instants)
    started = time.process_time()
    gc.collect(1)
    return took + time.process_time() - started


def _advance(emu: FunctionsEmulator, days: int) -> tuple[float, int]:
    """CPU seconds and runs of advancing ``days`` a day at a time, each with the young collection
    it leaves behind (the automatic collector off, as in ``_interleaved``)."""
    automatic = gc.isenabled()
    gc.disable()
    try:
        gc.collect(1)
        started = time.process_time()
        count = 0
        for _ in range(days):
            count += len(emu.clock.advance(days=1))
            gc.collect(1)
        return time.process_time() - started, count
    finally:
        if automatic:
            gc.enable()


def per_run_many_functions(tmp: str, days: int = 2) -> dict[str, Any]:
    """Per run, 10 minutely functions vs 1; the two alternate a day at a time, best of 3 rounds."""
    one = _project(os.path.join(tmp, "one"), 1, 1, "* * * * *")
    ten = _project(os.path.join(tmp, "ten"), 10, 1, "* * * * *")
    per_one, per_ten = [], []
    for _ in range(3):
        t1, n1 = _advance(one, days)
        t10, n10 = _advance(ten, days)
        per_one.append(t1 / n1)
        per_ten.append(t10 / n10)
    one.close()
    ten.close()
    return result(
        "per run: 10 minutely functions vs 1", min(per_ten), min(per_one), 1.5, runs_1=n1, runs_10=n10
    )


def thousand_schedules(tmp: str) -> dict[str, Any]:
    days = int(os.environ.get("BENCH_SCALE_DAYS", "30"))
    emu = _project(os.path.join(tmp, "k"), 10, 100, "0 * * * *")
    day_ms = 86_400_000

    def instants(day: int) -> list[tuple[int, int]]:
        first = START_MS + day * day_ms
        return [(first + h * 3_600_000, s) for h in range(1, 25) for s in range(1000)]

    measured, baseline, count, ratios, sequential = _interleaved(emu, days, instants)
    emu.close()
    return result(
        "1,000 hourly schedules vs plain loop",
        measured,
        baseline,
        4.0,
        runs=count,
        days=days,
        median_daily_ratio=round(statistics.median(ratios), 2),
        ratio_vs_ids_1_2_3=round(measured / sequential, 2),
    )


def year_one_minutely(tmp: str) -> dict[str, Any]:
    emu = _project(os.path.join(tmp, "y"), 1, 1, "* * * * *")
    day_ms = 86_400_000

    def instants(day: int) -> list[tuple[int, int]]:
        first = START_MS + day * day_ms
        return [(first + m * 60_000, 0) for m in range(1, 1441)]

    measured, baseline, count, ratios, sequential = _interleaved(emu, 365, instants)
    emu.close()
    return result(
        "year of one minutely schedule vs plain loop",
        measured,
        baseline,
        2.5,
        runs=count,
        median_daily_ratio=round(statistics.median(ratios), 2),
        ratio_vs_ids_1_2_3=round(measured / sequential, 2),
    )


def _peak_rss_kb() -> int:
    """This process's peak RSS: VmHWM (per address space, so a child started by a big process
    does not inherit its parent's peak, as ``ru_maxrss`` does across fork and exec)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _year_rss_growth_mb() -> float:
    """In this (fresh) process: peak RSS growth over a year of minutely runs, a day at a time,
    each returned list dropped as made."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        emu = _project(os.path.join(tmp, "m"), 1, 1, "* * * * *")
        before = _peak_rss_kb()
        for _ in range(365):
            emu.clock.advance(days=1)
        growth_kb = _peak_rss_kb() - before
        emu.close()
    return growth_kb / 1024


def year_memory() -> dict[str, Any]:
    """Peak RSS growth over a year of minutely runs, measured in a fresh interpreter (other
    benchmarks in this process would already have raised the peak) against a 100 MB budget."""
    out = subprocess.run(
        [sys.executable, __file__, "--rss"], check=True, capture_output=True, text=True
    ).stdout
    growth = float(out.split()[-1])
    res = result("peak RSS growth, year of minutely runs", growth, 100.0, 1.0, unit="MB")
    return res


def run() -> list[dict[str, Any]]:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        return [
            per_run_many_functions(tmp),
            thousand_schedules(tmp),
            year_one_minutely(tmp),
            year_memory(),
        ]


if __name__ == "__main__":
    if sys.argv[1:] == ["--rss"]:
        print(f"{_year_rss_growth_mb():.1f}")
        sys.exit(0)
    for row in run():
        report(row)
