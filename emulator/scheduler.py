"""CDF function schedules as a timer source of the Timeline: fires due runs through the pipeline.

The pending runs are in the context's ``ScheduleQueue`` (emulator/schedule_queue.py), kept in step
by the schedules domain. Each run goes through the one call pipeline (``ScheduledRuns``, its hot path); during
time travel it runs inline, inside one log-capture / environment context kept open for consecutive
runs of the same function (emulator/execution/inline.py).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from cognite.client.data_classes import FunctionCall

from emulator.context import Context
from emulator.execution.inline import InlineBatch
from emulator.execution.scheduled import ScheduledRuns
from emulator.resources.calls.wire import call_json
from emulator.state import CallRecord
from emulator.timeline import Collector, Timeline


class FiredLog:
    """What one move of the clock fired: the newest ``maxlen`` CDF calls and facade runs, and how
    many CDF calls in all (a Timeline ``Collector``).

    Ten years of a minutely schedule are 5.3 million runs; keeping each record alive until the
    caller drops the answer of ``advance`` would outgrow any memory, so only as many as the store
    keeps (``max_calls_kept``) are held here too; ``total`` still counts every call.
    """

    def __init__(self, maxlen: int | None) -> None:
        self.entries: deque[tuple[str, CallRecord]] = deque(maxlen=maxlen)
        self.facade_runs: deque[Any] = deque(maxlen=maxlen)
        self.total = 0

    def append(self, item: tuple[str, CallRecord]) -> None:
        """A CDF call (the scheduler's hot path)."""
        self.entries.append(item)
        self.total += 1

    def extend(self, items: Iterable[Any]) -> None:
        """What one source fired at one instant: CDF calls are ``(project, record)`` tuples."""
        for item in items:
            if isinstance(item, tuple):
                self.append(item)
            else:
                self.facade_runs.append(item)


class FiredCalls(list):  # type: ignore[type-arg]
    """The calls an ``advance`` started, in order: a list of the SDK's ``FunctionCall``.

    Items are built from the call records on first access, so a year of runs does not pay for
    525,600 SDK objects unless the test looks at them. When one move fires more calls than
    ``max_calls_kept``, the list holds the newest ``max_calls_kept`` of them (the ones the store
    still keeps); ``total`` is how many fired, ``dropped`` how many of them are not in the list.
    The runs of facade timers (Globus jobs, ROMA dispatches) fired by the same move are in
    ``facade_runs``, in time order.
    """

    def __init__(
        self,
        context: Context,
        entries: Iterable[tuple[str, CallRecord]],
        facade_runs: list[Any] | None = None,
        total: int | None = None,
    ) -> None:
        super().__init__(entries)
        self._context = context
        self.facade_runs: list[Any] = facade_runs or []
        self.total = len(self) if total is None else total
        self.dropped = self.total - len(self)

    def _materialise(self, index: int) -> FunctionCall:
        item = list.__getitem__(self, index)
        if isinstance(item, FunctionCall):
            return item
        project, record = item
        call = FunctionCall.load(call_json(record)).set_client_ref(self._context.clients.sdk_ref(project))
        list.__setitem__(self, index, call)
        return call

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return [self._materialise(i) for i in range(*index.indices(len(self)))]
        return self._materialise(index if index >= 0 else len(self) + index)

    def __iter__(self) -> Iterator[FunctionCall]:
        for i in range(len(self)):
            yield self._materialise(i)

    def __reversed__(self) -> Iterator[FunctionCall]:
        for i in range(len(self) - 1, -1, -1):
            yield self._materialise(i)

    def __eq__(self, other: object) -> bool:
        return list(self.__iter__()) == (list(other) if isinstance(other, list) else other)

    __hash__ = None

    def __repr__(self) -> str:
        if self.dropped:
            return f"FiredCalls({len(self)} of {self.total} calls: the newest, as max_calls_kept)"
        return f"FiredCalls({len(self)} calls)"


class Scheduler:
    """Fires the runs of every project's schedules. Registered as the first Timeline source."""

    def __init__(self, context: Context) -> None:
        self._context = context
        self._queue = context.schedules
        self._batch: InlineBatch | None = None
        self._batching = False  # inside batch(): the InlineBatch is made at the first run

    # --- the TimerSource protocol --------------------------------------------------------------------
    def next_due_ms(self) -> int | None:
        return self._queue.next_due_ms()

    def fire(self, due_ms: int) -> list[Any]:
        """Run every schedule due at exactly ``due_ms``, in schedule-id order."""
        fired: list[Any] = []
        self.fire_until(due_ms, fired)
        return fired

    def fire_until(self, target_ms: int, fired: Collector) -> None:
        """Fire every run due at or before ``target_ms`` into ``fired`` (the Timeline's shortcut
        when this is its only source), the clock moved to each run's instant: the hot loop of time
        travel is ``ScheduledRuns.fire_until`` (emulator/execution/scheduled.py)."""
        if self._batch is None:
            if not self._batching:  # fired outside Timeline.fire_due: a one-off batch
                with self.batch():
                    self.fire_until(target_ms, fired)
                return
            due = self._queue.next_due_ms()
            if due is None or due > target_ms:
                return  # nothing due: a move with no runs opens no capture
            self._batch = InlineBatch(self._context.clock.now_ms, self._context.limits.max_log_lines)
        runs = ScheduledRuns(self._context, self._batch)
        try:
            if isinstance(fired, FiredLog):  # the common collector: its deque, counted once
                fired.total += runs.fire_until(target_ms, fired.entries.extend)
            else:
                runs.fire_until(target_ms, fired.extend)
        finally:
            self._batch.between()  # what runs next in this thread is not a handler

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Keep one capture/environment context open across the runs of one clock move; it is
        opened at the move's first run (a move with none, the common test step, pays nothing)."""
        if self._batching:
            yield
            return
        self._batching = True
        try:
            yield
        finally:
            self._batching = False
            batch, self._batch = self._batch, None
            if batch is not None:
                batch.close()

    def fire_due(self, timeline: Timeline, target_ms: int) -> FiredCalls:
        """Move ``timeline`` to ``target_ms`` (every source's runs, in time order) and answer the
        CDF calls it fired, bounded by ``max_calls_kept`` (what ``clock.advance`` returns)."""
        log = FiredLog(self._context.settings.max_calls_kept)
        timeline.fire_due(target_ms, log)
        return FiredCalls(self._context, log.entries, list(log.facade_runs), total=log.total)
