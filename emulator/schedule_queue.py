"""The next run times of every project's CDF schedules: a heap, in time order.

The heap holds one entry per schedule, packed into one integer, ``due_ms << 53 | schedule_id``:
ids are below 2**53 (emulator/ids.py), so integer order is time order, then schedule-id order for
ties at one instant, and comparing two ints is much cheaper than comparing two tuples (a thousand
schedules firing at the same instant made tuple comparisons the heap's whole cost). A deleted
schedule's entry is dropped when it reaches the top (lazy deletion). Each run costs one
``heapreplace`` (O(log n)) and one step of that schedule's run-time iterator. The schedules domain
adds and removes entries; the scheduler (emulator/scheduler.py) pops them.
"""

from __future__ import annotations

import heapq
import threading
from collections.abc import Iterator

_ID_BITS = 53
_ID_MASK = (1 << _ID_BITS) - 1


class ScheduleQueue:
    """Pending CDF schedule runs of one emulator. Thread-safe."""

    def __init__(self) -> None:
        self._heap: list[int] = []  # due_ms << 53 | schedule_id
        # schedule id -> (its future run times, its project)
        self._runs: dict[int, tuple[Iterator[int], str]] = {}
        self._lock = threading.RLock()

    def add(self, project: str, schedule_id: int, runs: Iterator[int]) -> None:
        """Start firing a schedule at the times ``runs`` yields (in increasing order)."""
        if not 0 <= schedule_id <= _ID_MASK:
            raise ValueError(f"schedule id {schedule_id} is outside 0 .. 2**53-1")
        with self._lock:
            self._runs[schedule_id] = (runs, project)
            due = next(runs, None)
            if due is None:
                del self._runs[schedule_id]
            else:
                heapq.heappush(self._heap, due << _ID_BITS | schedule_id)

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
            while heap and heap[0] & _ID_MASK not in runs:
                heapq.heappop(heap)
            return heap[0] >> _ID_BITS if heap else None

    def pop_due(self, until_ms: int) -> tuple[int, int, str] | None:
        """Take the earliest run due at or before ``until_ms`` (and queue that schedule's next run):
        ``(due_ms, schedule_id, project)``, or None when nothing is due."""
        with self._lock:
            heap, runs = self._heap, self._runs
            while heap:
                top = heap[0]
                schedule_id = top & _ID_MASK
                entry = runs.get(schedule_id)
                if entry is None:  # deleted: drop its stale entry
                    heapq.heappop(heap)
                    continue
                due = top >> _ID_BITS
                if due > until_ms:
                    return None
                following = next(entry[0], None)
                if following is None:  # the schedule can never fire again
                    heapq.heappop(heap)
                    del runs[schedule_id]
                else:  # one sift instead of a pop and a push
                    heapq.heapreplace(heap, following << _ID_BITS | schedule_id)
                return due, schedule_id, entry[1]
            return None
