"""A year of `0 * * * * ?` Quartz fire times (525,600) in Europe/Oslo vs a plain loop producing the
same instants by addition (target <= 20x, the time-travel budget of CDF schedules)."""

from __future__ import annotations

import time
from typing import Any
from zoneinfo import ZoneInfo

from common import report, result

from emulator.roma.quartz import parse

START_MS = 1767225600000
YEAR_MINUTES = 525_600


def _baseline() -> float:
    started = time.perf_counter()
    out = []
    for i in range(1, YEAR_MINUTES + 1):
        out.append(START_MS + i * 60_000)
    return time.perf_counter() - started


def _quartz() -> float:
    expression, zone = parse("0 * * * * ?"), ZoneInfo("Europe/Oslo")
    started = time.perf_counter()
    out = []
    for due in expression.iter_after(START_MS, zone):
        out.append(due)
        if len(out) == YEAR_MINUTES:
            break
    return time.perf_counter() - started


def run() -> dict[str, Any]:
    return result(
        "quartz year of minutes vs plain loop",
        min(_quartz() for _ in range(3)),
        min(_baseline() for _ in range(3)),
        20.0,
    )


if __name__ == "__main__":
    report(run())
