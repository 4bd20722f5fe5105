"""Run every benchmark and print a table of ratios: python benchmarks/run_all.py"""

from __future__ import annotations

import importlib
import os
import platform
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

MODULES = [
    "bench_retrieve", "bench_call", "bench_fixture", "bench_schedules", "bench_import", "bench_quartz",
    "bench_datapoints", "bench_instances", "bench_process_call",
]  # fmt: skip


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} cores, {cpu}, Python {platform.python_version()}"


def main() -> int:
    rows = []
    for name in MODULES + sorted(p.stem for p in HERE.glob("bench_*.py") if p.stem not in MODULES):
        module = importlib.import_module(name)
        if not hasattr(module, "run"):
            continue
        out = module.run()
        rows.extend(out if isinstance(out, list) else [out])
    print(f"machine: {machine()}")
    print(f"{'benchmark':45} {'measured':>12} {'baseline':>12} {'ratio':>7} {'target':>7}  met")
    for r in rows:
        unit = r.get("unit")  # a row measuring something else than time (e.g. MB against a budget)
        scale, suffix = (1.0, unit) if unit else (1e3, "ms")
        print(
            f"{r['name']:45} {r['measured_s'] * scale:10.3f}{suffix:2} {r['baseline_s'] * scale:10.3f}"
            f"{suffix:2} {r['ratio']:7.2f} {r['target']:7.1f}  {'yes' if r['met'] else 'NO'}"
        )
        extra = {
            k: v
            for k, v in r.items()
            if k not in ("name", "measured_s", "baseline_s", "ratio", "target", "met", "unit")
        }
        if extra:
            print(" " * 4 + ", ".join(f"{k}={v}" for k, v in extra.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
