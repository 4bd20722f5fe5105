"""Scheduled runs during time travel: the hot path of the call pipeline, one clock move at a time.

A year of a minutely schedule is 525,600 runs, a thousand hourly schedules 24,000 a day, so what a
run costs beyond its handler is what time travel costs. ``ScheduledRuns`` takes the same steps as
``pipeline.run_scheduled`` (open a Running record, build the arguments, run the handler inline,
close the record, trim old calls) with the per-move invariants looked up once and no helper calls
for the common case: an active session, a Ready function, thread isolation, the virtual clock,
no ``client`` argument. Anything else (a blocked run, process isolation, a pinned wall clock, a
handler client to build) goes through ``pipeline.run_scheduled`` itself, so there is one meaning
of a scheduled run; tests/test_schedules_fast_path.py checks both give the same records.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from emulator.context import Context
from emulator.execution.inline import InlineBatch
from emulator.execution.pipeline import close, run_scheduled, trim
from emulator.state import CallRecord, Store

# Runs taken from the queue at a time: one lock and one id step each; small enough that a batch
# given back (a schedule added meanwhile) costs little.
_BATCH = 256


class ScheduledRuns:
    """Runs the due scheduled calls of one clock move (made by the scheduler with its inline batch)."""

    def __init__(self, context: Context, batch: InlineBatch) -> None:
        self._context = context
        self._batch = batch
        self._take_ids = context.ids.take
        self._lock = context.backend.lock
        self._settings = context.settings  # read at each run: a test may change them
        self._clock = context.clock
        self._limits = context.limits

    def fire_until(self, target_ms: int, append: Callable[[tuple[str, CallRecord]], None]) -> int:
        """Run every schedule run due at or before ``target_ms``, in time then schedule-id order,
        each as ``pipeline.run_scheduled`` makes it, moving the clock to each run's instant; each
        ``(project, record)`` goes to ``append``. Answers how many.

        The hot loop of time travel, one function so that a run pays for no calls but the
        handler's: what a run costs must not depend on how many schedules, functions or past calls
        there are. Runs are taken from the queue ``_BATCH`` at a time with their ids (one lock and
        one id step for the lot); when the queue changes meanwhile (a schedule added: it may be due
        before the runs still held), the runs not made go back and the rest is taken afresh.
        """
        context, batch = self._context, self._batch
        queue = context.schedules
        take, step_to, store_of = queue.take_due, self._clock.step_to, context.backend.store
        take_ids, clock, limits = self._take_ids, self._clock, self._limits
        publish = self._publish
        at = None
        count = 0
        project_of_store, store = None, Store("")  # no project yet: replaced before a first run
        made: list[CallRecord] = []  # this batch's records of quiet runs, not yet in the store
        while True:
            runs = take(target_ms, _BATCH)
            if not runs:
                return count
            version = queue.version
            position = -1
            try:
                for (due_ms, schedule_id, project), call_id in zip(runs, take_ids(len(runs)), strict=True):
                    position += 1
                    if queue.version != version:
                        queue.put_back(runs[position:])
                        break
                    if due_ms != at:  # a thousand schedules due at one instant move the clock once
                        step_to(due_ms)
                        at = due_ms
                    if project != project_of_store:
                        if made:
                            publish(store, made)
                        store, project_of_store = store_of(project), project
                    schedule = store.schedules.get(schedule_id)
                    if schedule is None:
                        continue
                    function = store.functions.get(schedule.function_id)
                    if function is None:
                        continue
                    count += 1
                    session = store.sessions.get(schedule.session_id)
                    settings = self._settings
                    code = function.code
                    if (
                        code is None
                        or session is None
                        or session.status != "ACTIVE"
                        or function.status != "Ready"
                        or settings.isolation == "process"
                        or clock.mode != "virtual"
                        or "client" in code.params
                    ):
                        if made:  # the handler may read the calls before it
                            publish(store, made)
                        append((project, run_scheduled(context, store, schedule, function, due_ms, batch)))
                        continue
                    # positional, every field: id, function_id, status, start_time, end_time, error,
                    # schedule_id, scheduled_time, session_id, response, has_response, logs,
                    # data_json (the schedule's own string: the dashboard's)
                    record = CallRecord(
                        call_id,
                        function.id,
                        "Running",
                        due_ms,
                        None,
                        None,
                        schedule_id,
                        due_ms,
                        schedule.session_id,
                        None,
                        False,
                        (),
                        schedule.data_json,
                    )
                    made.append(record)
                    function.last_called = due_ms
                    append((project, record))
                    kwargs: dict[str, Any] = {}
                    params = code.params
                    if params:
                        if "data" in params:
                            data_json = schedule.data_json
                            kwargs["data"] = batch.data.fresh(data_json) if data_json else {}
                        if "secrets" in params:
                            kwargs["secrets"] = dict(function.secrets)
                        if "function_call_info" in params:
                            kwargs["function_call_info"] = {
                                "function_id": function.id,
                                "call_id": call_id,
                                "schedule_id": schedule_id,
                                "scheduled_time": due_ms,
                            }
                    outcome = batch.run(function, kwargs, settings.timeout_seconds, limits)
                    record.wall_ms = batch.wall_ms
                    if outcome is not None:
                        publish(store, made)
                        close(context, store, record, outcome, due_ms, False)
                        continue
                    # Completed with no response and no logs: every field before the status, as
                    # close() does.
                    record.end_time = due_ms
                    record.has_response = True
                    record.status = "Completed"
            finally:
                if made:
                    publish(store, made)

    def _publish(self, store: Store, made: list[CallRecord]) -> None:
        """Put ``made`` (records of runs already made, in order) into ``store`` under one lock, and
        trim the project's old calls (``Store.add_call`` for the lot). Quiet runs are published a
        batch at a time: another thread reading the calls meanwhile sees them a batch late, as a
        listing of calls made while CDF runs them may lag; the runs' own handlers cannot tell."""
        calls, order = store.calls, store.call_order
        kept = self._settings.max_calls_kept
        with self._lock:
            for record in made:
                calls[record.id] = record
            order.extend(record.id for record in made)
            if kept is not None and len(calls) > kept:
                trim(store, kept)
        made.clear()
