"""The next run times of every project's CDF schedules, in time order, then schedule-id order.

A calendar: each instant that has runs due holds a bucket of the schedule ids due then, and a heap
orders the distinct instants. A thousand hourly schedules due at the same minute are one heap
entry and one bucket, drained in schedule-id order (sorted once when the instant comes), so a run
costs the same whatever the number of schedules: take the next id of the bucket, step that
schedule's run-time iterator, append the id to the bucket of its next instant. A deleted schedule's
id is skipped when its turn comes (lazy deletion). The schedules domain adds and removes schedules;
the scheduler (emulator/scheduler.py) pops the runs.
"""

from __future__ import annotations

import bisect
import heapq
import itertools
import threading
from collections.abc import Iterator

_heappush, _heappop = heapq.heappush, heapq.heappop


class ScheduleQueue:
    """Pending CDF schedule runs of one emulator. Thread-safe."""

    def __init__(self) -> None:
        self._times: list[int] = []  # a heap of the instants that have a bucket
        self._buckets: dict[int, list[int]] = {}  # instant -> ids due then (sorted when drained)
        self._runs: dict[int, tuple[Iterator[int], str]] = {}  # id -> (its future run times, project)
        # The instant being drained: its ids in order, and how many were taken.
        self._draining: list[int] = []
        self._draining_at = -1
        self._taken = 0
        self._lock = threading.Lock()  # never re-entered: run-time iterators are pure cron arithmetic
        # Counts additions (and resets): a taker of runs stops when it changes, since a schedule
        # added meanwhile may be due before the runs it still holds.
        self.version = 0
        # Counts removals (and resets): a taker that remembers schedules looks them up again.
        self.removals = 0

    def add(self, project: str, schedule_id: int, runs: Iterator[int]) -> None:
        """Start firing a schedule at the times ``runs`` yields (in increasing order)."""
        with self._lock:
            self.version += 1
            self._runs[schedule_id] = (runs, project)
            due = next(runs, None)
            if due is None:
                del self._runs[schedule_id]
            else:
                self._file(schedule_id, due)

    def _file(self, schedule_id: int, due: int) -> None:
        if due == self._draining_at:  # due at the instant being drained: its turn by id
            bisect.insort(self._draining, schedule_id, lo=self._taken)
            return
        bucket = self._buckets.get(due)
        if bucket is None:
            self._buckets[due] = [schedule_id]
            _heappush(self._times, due)
        else:
            bucket.append(schedule_id)

    def remove(self, schedule_id: int) -> None:
        with self._lock:
            self.removals += 1
            self._runs.pop(schedule_id, None)  # its id is skipped when its turn comes

    def reset(self) -> None:
        with self._lock:
            self.version += 1
            self.removals += 1
            self._times.clear()
            self._buckets.clear()
            self._runs.clear()
            self._draining, self._draining_at, self._taken = [], -1, 0

    def next_due_ms(self) -> int | None:
        """The earliest pending run time, or None."""
        with self._lock:
            runs, draining = self._runs, self._draining
            first = None
            while self._taken < len(draining):
                if draining[self._taken] in runs:
                    first = self._draining_at
                    break
                self._taken += 1
            times, buckets = self._times, self._buckets
            while times:
                due = times[0]
                if any(schedule_id in runs for schedule_id in buckets[due]):
                    return due if first is None or due < first else first
                _heappop(times)
                del buckets[due]
            return first

    def pop_due(self, until_ms: int) -> tuple[int, int, str] | None:
        """Take the earliest run due at or before ``until_ms`` (and queue that schedule's next run):
        ``(due_ms, schedule_id, project)``, or None when nothing is due."""
        taken = self.take_due(until_ms, 1)
        return taken[0] if taken else None

    def take_due(self, until_ms: int, limit: int) -> list[tuple[int, int, str]]:
        """Take up to ``limit`` of the earliest runs due at or before ``until_ms``, in order, as
        that many ``pop_due`` would (each schedule's next run queued): one lock for the lot, the
        hot path of time travel. A taker that must stop early (the queue changed: ``version``)
        hands the runs it did not make back with ``put_back``."""
        out: list[tuple[int, int, str]] = []
        append = out.append
        left = limit
        with self._lock:
            runs, times, buckets = self._runs, self._times, self._buckets
            while left:
                draining = self._draining
                taken = self._taken
                if taken < len(draining):
                    due = self._draining_at
                    if times and times[0] < due:  # filed meanwhile, earlier: put the rest back
                        buckets[due] = draining[taken:]
                        _heappush(times, due)
                        self._draining, self._draining_at, self._taken = [], -1, 0
                        continue
                    if due > until_ms:
                        break
                    schedule_id = draining[taken]
                    self._taken = taken + 1
                    entry = runs.get(schedule_id)
                    if entry is None:  # deleted
                        continue
                    following = next(entry[0], None)
                    if following is None:  # the schedule can never fire again
                        del runs[schedule_id]
                    elif taken + 1 == len(draining) and (not times or following < times[0]):
                        # The last of its instant and alone at the next one (a lone minutely
                        # schedule): that instant is drained next, without a bucket or heap step.
                        if len(draining) == 1:  # the same one-id list, drained again
                            # A lone schedule: its next runs in a tight loop while they stay
                            # alone (before any other instant) and due.
                            runs_of, project = entry
                            append((due, schedule_id, project))
                            left -= 1
                            alone_until = until_ms if not times or times[0] > until_ms else times[0] - 1
                            while left and following <= alone_until:
                                append((following, schedule_id, project))
                                left -= 1
                                following = next(runs_of, None)
                                if following is None:  # it can never fire again
                                    del runs[schedule_id]
                                    self._taken = 1  # its one-id list is drained
                                    break
                            else:
                                if not times or following < times[0]:  # still alone: drained next
                                    self._draining_at, self._taken = following, 0
                                else:  # due with others: its bucket, as any schedule's
                                    self._taken = 1
                                    self._file(schedule_id, following)
                            continue
                        self._draining, self._draining_at, self._taken = [schedule_id], following, 0
                    else:  # _file, inline: the hot path of time travel
                        bucket = buckets.get(following)
                        if bucket is None:
                            buckets[following] = [schedule_id]
                            _heappush(times, following)
                        else:
                            bucket.append(schedule_id)
                    append((due, schedule_id, entry[1]))
                    left -= 1
                    continue
                if not times or times[0] > until_ms:
                    break
                due = _heappop(times)
                bucket = buckets.pop(due)
                bucket.sort()
                self._draining, self._draining_at, self._taken = bucket, due, 0
        return out

    def put_back(self, taken: list[tuple[int, int, str]]) -> None:
        """Queue again runs that ``take_due`` gave and that were not made, as if never taken: each
        schedule's next queued run is unqueued and its runs continue from the earliest given back.
        Rare (a schedule was added while taken runs were being made), so it may search."""
        with self._lock:
            given: dict[int, list[int]] = {}
            projects: dict[int, str] = {}
            for due, schedule_id, project in taken:
                given.setdefault(schedule_id, []).append(due)
                projects[schedule_id] = project
            for schedule_id, instants in given.items():
                entry = self._runs.get(schedule_id)
                queued = self._unfile(schedule_id) if entry is not None else None
                later = iter(()) if entry is None else entry[0]
                instants.sort()
                rest = instants[1:] + ([queued] if queued is not None else [])
                self._runs[schedule_id] = (itertools.chain(rest, later), projects[schedule_id])
                self._file(schedule_id, instants[0])
            self.version += 1

    def _unfile(self, schedule_id: int) -> int | None:
        """Take a schedule's queued instant out of the draining list or its bucket; answers it."""
        draining = self._draining
        if schedule_id in draining[self._taken :]:
            draining.remove(schedule_id)  # ids are unique in a list, and not among the taken
            return self._draining_at
        for due, bucket in self._buckets.items():
            if schedule_id in bucket:
                bucket.remove(schedule_id)  # an empty bucket is dropped when its instant comes
                return due
        return None
