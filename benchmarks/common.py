"""Helpers shared by the benchmarks: timing and the result shape run_all.py prints."""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def per_op(fn: Callable[[], Any], *, number: int, repeat: int = 5, warmup: int = 3) -> float:
    """Median seconds per call of ``fn`` over ``repeat`` rounds of ``number`` calls."""
    for _ in range(warmup):
        fn()
    rounds = []
    for _ in range(repeat):
        started = time.perf_counter()
        for _ in range(number):
            fn()
        rounds.append((time.perf_counter() - started) / number)
    return statistics.median(rounds)


def per_op_pair(
    fn: Callable[[], Any], base: Callable[[], Any], *, number: int, repeat: int = 7, warmup: int = 3
) -> tuple[float, float]:
    """Median seconds per call of ``fn`` and of ``base``, their rounds alternating, so that a
    machine slowing down or speeding up meanwhile weighs on both alike."""
    for _ in range(warmup):
        fn()
        base()
    measured, baseline = [], []
    for _ in range(repeat):
        for f, rounds in ((fn, measured), (base, baseline)):
            started = time.perf_counter()
            for _ in range(number):
                f()
            rounds.append((time.perf_counter() - started) / number)
    return statistics.median(measured), statistics.median(baseline)


def result(name: str, measured: float, baseline: float, target: float, **details: Any) -> dict[str, Any]:
    ratio = measured / baseline
    return {
        "name": name,
        "measured_s": measured,
        "baseline_s": baseline,
        "ratio": ratio,
        "target": target,
        "met": ratio <= target,
        **details,
    }


def report(res: dict[str, Any]) -> None:
    verdict = "met" if res["met"] else "NOT met"
    unit = res.get("unit")  # rows measuring something else than time carry their unit
    scale, suffix = (1.0, unit) if unit else (1e3, "ms")
    print(
        f"{res['name']}: {res['measured_s'] * scale:.3f} {suffix} vs baseline {res['baseline_s'] * scale:.3f} {suffix} "
        f"-> ratio {res['ratio']:.2f} (target <= {res['target']}: {verdict})"
    )
    extra = {
        k: v
        for k, v in res.items()
        if k not in ("name", "measured_s", "baseline_s", "ratio", "target", "met", "unit")
    }
    if extra:
        print("   ", ", ".join(f"{k}={v}" for k, v in extra.items()))
