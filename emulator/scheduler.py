"""CDF function schedules as a timer source of the Timeline: fires due runs through the pipeline.

The pending runs are in the context's ``ScheduleQueue`` (emulator/schedule_queue.py), kept in step
by the schedules domain. Each run goes through the one call pipeline (``ScheduledRuns``, its hot path); during
time travel it runs inline, inside one log-capture / environment context kept open for consecutive
runs of the same function (emulator/execution/inline.py). What a move fired is in emulator/fired.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from emulator.context import Context
from emulator.execution.inline import InlineBatch
from emulator.execution.scheduled import ScheduledRuns
from emulator.fired import FiredCalls, FiredLog
from emulator.timeline import Collector, Timeline


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
            if isinstance(fired, FiredLog):  # the common collector: chunks of records
                runs.fire_until(target_ms, fired.add)
            else:
                runs.fire_until(
                    target_ms, lambda project, records: fired.extend((project, r) for r in records)
                )
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
        return FiredCalls(self._context, log.newest(), list(log.facade_runs), total=log.total)
