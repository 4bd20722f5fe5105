"""The next run times of every project's CDF schedules: a heap, in time order.

The heap holds one entry per schedule: ``(due_ms, schedule_id, project)``. Ties at one instant pop
in schedule-id order. A deleted schedule's entry is dropped when it reaches the top (lazy deletion).
The schedules domain adds and removes entries; the scheduler (emulator/scheduler.py) pops them.
"""

from __future__ import annotations

import heapq
import threading
from collections.abc import Iterator


class ScheduleQueue:
    """Pending CDF schedule runs of one emulator. Thread-safe."""

    def __init__(self) -> None:
        self._heap: list[tuple[int, int, str]] = []
        self._runs: dict[int, Iterator[int]] = {}  # schedule id -> its future run times
        self._lock = threading.RLock()

    def add(self, project: str, schedule_id: int, runs: Iterator[int]) -> None:
        """Start firing a schedule at the times ``runs`` yields (in increasing order)."""
        with self._lock:
            self._runs[schedule_id] = runs
            self._push(schedule_id, project)

    def _push(self, schedule_id: int, project: str) -> None:
        runs = self._runs.get(schedule_id)
        due = next(runs, None) if runs is not None else None
        if due is None:
            self._runs.pop(schedule_id, None)
        else:
            heapq.heappush(self._heap, (due, schedule_id, project))

    def remove(self, schedule_id: int) -> None:
        with self._lock:
            self._runs.pop(schedule_id, None)  # its heap entry is dropped when it surfaces

    def reset(self) -> None:
        with self._lock:
            self._heap.clear()
            self._runs.clear()

    def next_due_ms(self) -> int | None:
        """The earliest pending run time, or None."""
        with self._lock:
            heap, runs = self._heap, self._runs
            while heap and heap[0][1] not in runs:
                heapq.heappop(heap)
            return heap[0][0] if heap else None

    def pop_due(self, until_ms: int) -> tuple[int, int, str] | None:
        """Take the earliest run due at or before ``until_ms`` (and queue that schedule's next run):
        ``(due_ms, schedule_id, project)``, or None when nothing is due."""
        with self._lock:
            heap, runs = self._heap, self._runs
            while heap and heap[0][1] not in runs:
                heapq.heappop(heap)
            if not heap or heap[0][0] > until_ms:
                return None
            entry = heapq.heappop(heap)
            self._push(entry[1], entry[2])
            return entry
