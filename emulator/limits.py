"""Service limits: what GET /functions/limits answers, and the caps the emulator enforces."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass
class Limits:
    timeout_minutes: int = 9
    cpu: tuple[float, float, float] = (0.1, 0.6, 0.25)  # min, max, default
    memory: tuple[float, float, float] = (0.1, 2.5, 1.0)  # GB: min, max, default
    runtimes: tuple[str, ...] = ("py310", "py311", "py312", "py313")
    response_size_mb: int = 1
    # Not in /functions/limits, but enforced as CDF documents them:
    max_running_calls_per_function: int = 100
    max_running_calls_per_project: int = 1000
    max_schedules_per_function: int = 100
    max_schedule_data_bytes: int = 100 * 1024
    max_log_lines: int = 10_000
    max_unpacked_bytes: int = 500 * 1024 * 1024

    @property
    def response_bytes(self) -> int:
        return self.response_size_mb * 1024 * 1024

    def as_json(self) -> dict[str, Any]:
        def rng(r: tuple[float, float, float]) -> dict[str, float]:
            return {"min": r[0], "max": r[1], "default": r[2]}

        return {
            "timeoutMinutes": self.timeout_minutes,
            "cpuCores": rng(self.cpu),
            "memoryGb": rng(self.memory),
            "runtimes": list(self.runtimes),
            "responseSizeMb": self.response_size_mb,
        }
