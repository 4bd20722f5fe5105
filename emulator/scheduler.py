"""CDF function schedules as a timer source of the Timeline: fires due runs through the pipeline.

The pending runs are in the context's ``ScheduleQueue`` (emulator/schedule_queue.py), kept in step
by the schedules domain. Each run goes through the one call pipeline (``ScheduledRuns``, its hot path); during
time travel it runs inline, inside one log-capture / environment context kept open for consecutive
runs of the same function (emulator/execution/inline.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from cognite.client.data_classes import FunctionCall

from emulator.context import Context
from emulator.execution.inline import InlineBatch
from emulator.execution.scheduled import ScheduledRuns
from emulator.resources.calls.wire import call_json
from emulator.state import CallRecord


class FiredCalls(list):  # type: ignore[type-arg]
    """The calls an ``advance`` started, in order: a list of the SDK's ``FunctionCall``.

    Items are built from the call records on first access, so a year of runs does not pay for
    525,600 SDK objects unless the test looks at them. The runs of facade timers (Globus jobs,
    ROMA dispatches) fired by the same move are in ``facade_runs``, in time order.
    """

    def __init__(
        self, context: Context, entries: list[tuple[str, CallRecord]], facade_runs: list[Any] | None = None
    ) -> None:
        super().__init__(entries)
        self._context = context
        self.facade_runs: list[Any] = facade_runs or []

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
        return f"FiredCalls({len(self)} calls)"


class Scheduler:
    """Fires the runs of every project's schedules. Registered as the first Timeline source."""

    def __init__(self, context: Context) -> None:
        self._context = context
        self._queue = context.schedules
        self._batch: InlineBatch | None = None

    # --- the TimerSource protocol --------------------------------------------------------------------
    def next_due_ms(self) -> int | None:
        return self._queue.next_due_ms()

    def fire(self, due_ms: int) -> list[Any]:
        """Run every schedule due at exactly ``due_ms``, in schedule-id order."""
        return self.fire_until(due_ms)

    def fire_until(self, target_ms: int) -> list[Any]:
        """Fire every run due at or before ``target_ms`` (the Timeline's shortcut when this is its
        only source): one heap step per run, the clock moved to each run's instant.

        The hot loop of time travel: what a run costs must not depend on how many schedules,
        functions or past calls there are (one O(log n) heap step, dict lookups, one record).
        """
        if self._batch is None:  # fired outside Timeline.fire_due: a one-off batch
            with self.batch():
                return self.fire_until(target_ms)
        fired: list[Any] = []
        append = fired.append
        context, batch = self._context, self._batch
        pop, step_to, backend = self._queue.pop_due, context.clock.step_to, context.backend
        run = ScheduledRuns(context, batch).run
        at = None
        try:
            while True:
                entry = pop(target_ms)
                if entry is None:
                    return fired
                due, schedule_id, project = entry
                if due != at:  # a thousand schedules due at one instant move the clock once
                    step_to(due)
                    at = due
                store = backend.store(project)
                schedule = store.schedules.get(schedule_id)
                if schedule is None:
                    continue
                function = store.functions.get(schedule.function_id)
                if function is None:
                    continue
                append((project, run(store, schedule, function, due)))
        finally:
            batch.between()  # what runs next in this thread is not a handler

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Keep one capture/environment context open across the runs of one clock move."""
        if self._batch is not None:
            yield
            return
        self._batch = InlineBatch(self._context.clock.now_ms, self._context.limits.max_log_lines)
        try:
            yield
        finally:
            batch, self._batch = self._batch, None
            batch.close()

    def wrap(self, fired: list[Any]) -> FiredCalls:
        calls = [f for f in fired if isinstance(f, tuple)]
        return FiredCalls(self._context, calls, [f for f in fired if not isinstance(f, tuple)])
