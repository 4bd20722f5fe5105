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
from emulator.state import CallRecord


class ScheduledRuns:
    """Runs the due scheduled calls of one clock move (made by the scheduler with its inline batch)."""

    def __init__(self, context: Context, batch: InlineBatch) -> None:
        self._context = context
        self._batch = batch
        self._new_id = context.ids.new
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
        there are (a queue step, dict lookups, one record).
        """
        context, batch = self._context, self._batch
        pop, step_to, store_of = context.schedules.pop_due, self._clock.step_to, context.backend.store
        new_id, lock, clock, limits = self._new_id, self._lock, self._clock, self._limits
        at = None
        count = 0
        while True:
            entry = pop(target_ms)
            if entry is None:
                return count
            due_ms, schedule_id, project = entry
            if due_ms != at:  # a thousand schedules due at one instant move the clock once
                step_to(due_ms)
                at = due_ms
            store = store_of(project)
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
                append((project, run_scheduled(context, store, schedule, function, due_ms, batch)))
                continue
            with lock:
                # positional: id, function_id, status, start_time, end_time, error, schedule_id,
                # scheduled_time, session_id; data_json is the schedule's own string (the dashboard's)
                record = CallRecord(
                    new_id(),
                    function.id,
                    "Running",
                    due_ms,
                    None,
                    None,
                    schedule_id,
                    due_ms,
                    schedule.session_id,
                    data_json=schedule.data_json,
                )
                store.calls[record.id] = record  # Store.add_call, inline
                store.call_order.append(record.id)
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
                        "call_id": record.id,
                        "schedule_id": schedule_id,
                        "scheduled_time": due_ms,
                    }
            outcome = batch.run(function, kwargs, settings.timeout_seconds, limits)
            record.wall_ms = batch.wall_ms
            if outcome is not None:
                close(context, store, record, outcome, due_ms, False)
                continue
            # Completed with no response and no logs: every field before the status, as close() does.
            record.end_time = due_ms
            record.has_response = True
            record.status = "Completed"
            kept = settings.max_calls_kept
            if kept is not None and len(store.calls) > kept:
                with lock:
                    trim(store, kept)
