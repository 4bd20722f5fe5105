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

from typing import Any

from emulator.context import Context
from emulator.execution.inline import InlineBatch
from emulator.execution.pipeline import close, run_scheduled, trim
from emulator.state import CallRecord, FunctionRecord, ScheduleRecord, Store


class ScheduledRuns:
    """Runs scheduled calls for one clock move (made by the scheduler with its inline batch)."""

    def __init__(self, context: Context, batch: InlineBatch) -> None:
        self._context = context
        self._batch = batch
        self._new_id = context.ids.new
        self._lock = context.backend.lock
        self._settings = context.settings  # read at each run: a test may change them
        self._clock = context.clock
        self._limits = context.limits

    def run(
        self, store: Store, schedule: ScheduleRecord, function: FunctionRecord, due_ms: int
    ) -> CallRecord:
        """One scheduled run at ``due_ms``, as ``pipeline.run_scheduled`` makes it."""
        session = store.sessions.get(schedule.session_id)
        settings = self._settings
        code = function.code
        if (
            code is None
            or session is None
            or session.status != "ACTIVE"
            or function.status != "Ready"
            or settings.isolation == "process"
            or self._clock.mode != "virtual"
            or "client" in code.params
        ):
            return run_scheduled(self._context, store, schedule, function, due_ms, self._batch)
        batch = self._batch
        with self._lock:
            # positional: id, function_id, status, start_time, end_time, error, schedule_id,
            # scheduled_time, session_id; data_json is the schedule's own string (the dashboard's)
            record = CallRecord(
                self._new_id(),
                function.id,
                "Running",
                due_ms,
                None,
                None,
                schedule.id,
                due_ms,
                schedule.session_id,
                data_json=schedule.data_json,
            )
            store.calls[record.id] = record  # Store.add_call, inline
            store.call_order.append(record.id)
            function.last_called = due_ms
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
                    "schedule_id": schedule.id,
                    "scheduled_time": due_ms,
                }
        outcome = batch.run(function, kwargs, settings.timeout_seconds, self._limits)
        record.wall_ms = batch.wall_ms
        if outcome is not None:
            close(self._context, store, record, outcome, due_ms, False)
            return record
        # Completed with no response and no logs: every field before the status, as close() does.
        record.end_time = due_ms
        record.has_response = True
        record.status = "Completed"
        kept = settings.max_calls_kept
        if kept is not None and len(store.calls) > kept:
            with self._lock:
                trim(store, kept)
        return record
