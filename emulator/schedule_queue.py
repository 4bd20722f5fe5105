"""The next run times of every project's CDF schedules, in time order, then schedule-id order.

A calendar: a heap orders the distinct instants that have runs due, and each holds a bucket of
*carriers*: the schedules due then. Schedules with the same cron expression and the same next run
fire at the same instants from then on, so they share one carrier, a cohort: one run-time
iterator and a sorted list of members. A thousand hourly schedules are then one heap entry, one
bucket and one cron step per hour, and a run costs the same whatever the number of schedules: take
the next id of the instant's sorted list. A carrier without an iterator is a one-off: runs that a
taker gave back (``put_back``). A deleted schedule leaves its cohort at once; in a one-off or the
instant being drained it is skipped when its turn comes. The schedules domain adds and removes
schedules; the scheduler (emulator/scheduler.py) takes the runs.
"""

from __future__ import annotations

import bisect
import heapq
import threading
from collections.abc import Callable, Hashable, Iterator
from itertools import chain

from emulator.changes import CHANGES

_heappush, _heappop = heapq.heappush, heapq.heappop


class _Carrier:
    """Schedules due together at ``due``: a cohort (``runs`` yields its instants after ``due``;
    ``key`` is what its members' run times are computed from) or a one-off (``runs`` None)."""

    __slots__ = ("due", "key", "members", "runs")

    def __init__(
        self, due: int, key: Hashable | None, members: list[int], runs: Iterator[int] | None
    ) -> None:
        self.due = due
        self.key = key
        self.members = members  # sorted schedule ids
        self.runs = runs


class ScheduleQueue:
    """Pending CDF schedule runs of one emulator. Thread-safe."""

    def __init__(self, now_ms: Callable[[], int] = lambda: 0) -> None:
        self._now_ms = now_ms  # the emulator's clock (add_after_now)
        self._times: list[int] = []  # a heap of the instants that have a bucket
        self._buckets: dict[int, list[_Carrier]] = {}  # instant -> the carriers due then
        # id -> (its cohort, None once its run times are over; its project)
        self._schedules: dict[int, tuple[_Carrier | None, str]] = {}
        self._cohorts: dict[Hashable, list[_Carrier]] = {}  # key -> its cohorts with members
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
        # Both also bump CHANGES (emulator/changes.py), after the change: the hot loop reads that
        # one count at each run, and these two only when it moved.

    def add(self, project: str, schedule_id: int, runs: Iterator[int], key: Hashable | None = None) -> None:
        """Start firing a schedule at the times ``runs`` yields (in increasing order). Schedules
        given the same ``key`` (their cron expression) and due at the same next instant share a
        cohort: ``key`` must then determine every later run time."""
        with self._lock:
            self.version += 1
            CHANGES.bump()
            self._add(project, schedule_id, runs, key)

    def add_after_now(
        self,
        project: str,
        schedule_id: int,
        runs_after: Callable[[int], Iterator[int]],
        key: Hashable | None = None,
    ) -> None:
        """``add`` with the run times ``runs_after(now)`` yields, ``now`` read from the clock only
        once this addition is announced (``version``). A taker moves the clock to a run's instant
        before it checks ``version`` and makes the run, so a schedule created by another thread
        while the clock moves either is seen before that run or reads a time at or after it: it
        never gets a run at or before one already made."""
        with self._lock:
            self.version += 1
            CHANGES.bump()
            self._add(project, schedule_id, runs_after(self._now_ms()), key)

    def _add(self, project: str, schedule_id: int, runs: Iterator[int], key: Hashable | None) -> None:
        first = next(runs, None)
        if first is None:
            return
        if first == self._draining_at:  # due at the instant being drained: its turn by id
            bisect.insort(self._draining, schedule_id, lo=self._taken)
            first = next(runs, None)
            if first is None:
                self._schedules[schedule_id] = (None, project)
                return
        cohort = None
        if key is not None:
            cohort = next((c for c in self._cohorts.get(key, ()) if c.due == first), None)
        if cohort is None:
            cohort = _Carrier(first, key, [schedule_id], runs)
            if key is not None:
                self._cohorts.setdefault(key, []).append(cohort)
            self._file(cohort)
        else:
            bisect.insort(cohort.members, schedule_id)
        self._schedules[schedule_id] = (cohort, project)

    def _file(self, carrier: _Carrier) -> None:
        bucket = self._buckets.get(carrier.due)
        if bucket is None:
            self._buckets[carrier.due] = [carrier]
            _heappush(self._times, carrier.due)
        else:
            bucket.append(carrier)

    def _retire(self, cohort: _Carrier) -> None:
        """A cohort that will not be filed again (no members, or no more run times)."""
        if cohort.key is not None:
            cohorts = self._cohorts.get(cohort.key, [])
            if cohort in cohorts:
                cohorts.remove(cohort)
            if not cohorts:
                self._cohorts.pop(cohort.key, None)
        for schedule_id in cohort.members:  # over: still drained at this instant, never again
            entry = self._schedules.get(schedule_id)
            if entry is not None and entry[0] is cohort:
                self._schedules[schedule_id] = (None, entry[1])
        cohort.runs = None

    def remove(self, schedule_id: int) -> None:
        with self._lock:
            self.removals += 1
            CHANGES.bump()
            entry = self._schedules.pop(schedule_id, None)
            cohort = entry[0] if entry is not None else None
            if cohort is not None:
                members = cohort.members
                at = bisect.bisect_left(members, schedule_id)
                if at < len(members) and members[at] == schedule_id:
                    del members[at]
                if not members:
                    self._retire(cohort)

    def reset(self) -> None:
        with self._lock:
            self.version += 1
            self.removals += 1
            CHANGES.bump()
            self._times.clear()
            self._buckets.clear()
            self._schedules.clear()
            self._cohorts.clear()
            self._draining, self._draining_at, self._taken = [], -1, 0

    def next_due_ms(self) -> int | None:
        """The earliest pending run time, or None."""
        with self._lock:
            schedules, draining = self._schedules, self._draining
            first = None
            while self._taken < len(draining):
                if draining[self._taken] in schedules:
                    first = self._draining_at
                    break
                self._taken += 1
            times, buckets = self._times, self._buckets
            while times:
                due = times[0]
                if any(m in schedules for c in buckets[due] for m in c.members):
                    return due if first is None or due < first else first
                _heappop(times)
                for carrier in buckets.pop(due):
                    if carrier.runs is not None:
                        self._retire(carrier)
            return first

    def pop_due(self, until_ms: int) -> tuple[int, int, str] | None:
        """Take the earliest run due at or before ``until_ms``: ``(due_ms, schedule_id,
        project)``, or None when nothing is due."""
        taken = self.take_due(until_ms, 1)
        return taken[0] if taken else None

    def take_due(self, until_ms: int, limit: int) -> list[tuple[int, int, str]]:
        """Take up to ``limit`` of the earliest runs due at or before ``until_ms``, in order, as
        that many ``pop_due`` would: one lock for the lot, the hot path of time travel. A taker
        that must stop early (the queue changed: ``version``) hands the runs it did not make back
        with ``put_back``."""
        out: list[tuple[int, int, str]] = []
        append = out.append
        left = limit
        with self._lock:
            schedules, times, buckets = self._schedules, self._times, self._buckets
            while left:
                draining = self._draining
                taken = self._taken
                if taken < len(draining):
                    due = self._draining_at
                    if times and times[0] < due:  # filed meanwhile, earlier: the rest waits
                        self._draining, self._draining_at, self._taken = [], -1, 0
                        self._file(_Carrier(due, None, draining[taken:], None))
                        continue
                    if due > until_ms:
                        break
                    # The instant's next ids, as many as may be taken (a deleted one is skipped
                    # and not counted: the loop comes back for more).
                    end = min(len(draining), taken + left)
                    self._taken = end
                    for schedule_id in draining[taken:end]:
                        entry = schedules.get(schedule_id)
                        if entry is not None:  # else deleted
                            append((due, schedule_id, entry[1]))
                            left -= 1
                    continue
                if not times or times[0] > until_ms:
                    break
                due = _heappop(times)
                carriers = buckets.pop(due)
                if len(carriers) == 1 and len(carriers[0].members) == 1 and carriers[0].runs is not None:
                    left = self._take_lone(carriers[0], due, until_ms, left, append)
                    continue
                lists = []
                for carrier in carriers:
                    if carrier.members:
                        lists.append(carrier.members[:] if carrier.runs is not None else carrier.members)
                    self._step(carrier)
                draining = lists[0] if len(lists) == 1 else sorted(chain.from_iterable(lists))
                self._draining, self._draining_at, self._taken = draining, due, 0
        return out

    def _step(self, carrier: _Carrier) -> None:
        """A cohort whose instant came: file it at its next one (a one-off is done)."""
        if carrier.runs is None:
            return
        following = next(carrier.runs, None) if carrier.members else None
        if following is None:
            self._retire(carrier)
        else:
            carrier.due = following
            self._file(carrier)

    def _take_lone(
        self,
        cohort: _Carrier,
        due: int,
        until_ms: int,
        left: int,
        append: Callable[[tuple[int, int, str]], None],
    ) -> int:
        """A cohort of one schedule due alone at ``due``: its runs in a tight loop while they stay
        alone (before any other instant) and due; answers how many more may be taken."""
        schedule_id = cohort.members[0]
        entry = self._schedules.get(schedule_id)
        project = entry[1] if entry is not None else ""
        times = self._times
        alone_until = until_ms if not times or times[0] > until_ms else times[0] - 1
        runs = cohort.runs
        assert runs is not None
        at = due
        while True:
            append((at, schedule_id, project))
            left -= 1
            following = next(runs, None)
            if following is None:
                self._retire(cohort)
                break
            if not left or following > alone_until:
                cohort.due = following
                self._file(cohort)
                break
            at = following
        # The instant last taken is the one being drained (a schedule added due then joins it).
        self._draining, self._draining_at, self._taken = [schedule_id], at, 1
        return left

    def put_back(self, taken: list[tuple[int, int, str]]) -> None:
        """Queue again runs that ``take_due`` gave and that were not made, as if never taken: each
        is a one-off at its instant (its schedule's later runs are queued as they were), or joins
        the instant being drained."""
        with self._lock:
            by_instant: dict[int, list[int]] = {}
            for due, schedule_id, _ in taken:
                if schedule_id in self._schedules:
                    by_instant.setdefault(due, []).append(schedule_id)
            for due, ids in by_instant.items():
                if due == self._draining_at:
                    for schedule_id in ids:
                        bisect.insort(self._draining, schedule_id, lo=self._taken)
                else:
                    self._file(_Carrier(due, None, sorted(ids), None))
            self.version += 1
            CHANGES.bump()
