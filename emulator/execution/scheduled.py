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

import sys
from collections.abc import Callable, Sequence
from operator import itemgetter
from time import perf_counter
from typing import Any

from emulator.changes import CHANGES
from emulator.context import Context
from emulator.execution.data_copies import DataCopies
from emulator.execution.inline import InlineBatch, QuietRun
from emulator.execution.outcomes import returned_outcome
from emulator.execution.pipeline import run_scheduled, trim
from emulator.state import CallRecord, FunctionRecord, ScheduleRecord, SessionRecord, Store

# Runs taken from the queue at a time: one lock and one id step each; small enough that a batch
# given back (a schedule added meanwhile) costs little.
_BATCH = 256
_ID = itemgetter(0)  # a CallRecord's id (emulator/state.py)


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

    def fire_until(self, target_ms: int, emit: Callable[[str, Sequence[CallRecord]], None]) -> None:
        """Run every schedule run due at or before ``target_ms``, in time then schedule-id order,
        each as ``pipeline.run_scheduled`` makes it, moving the clock to each run's instant; the
        records go to ``emit`` with their project, in order, a batch at a time (``FiredLog.add``:
        the sequence is the receiver's, which counts them).

        The hot loop of time travel, one function so that a run pays for no calls but the
        handler's: what a run costs must not depend on how many schedules, functions or past calls
        there are. Runs are taken from the queue ``_BATCH`` at a time with their ids (one lock and
        one id step for the lot); when the queue changes meanwhile (a schedule added: it may be due
        before the runs still held), the runs not made go back and the rest is taken afresh. What
        a schedule's runs share (its function, session, code, how its arguments are made) is
        looked up once per move (``_plan``), again whenever something it depends on changes (one
        count read per run: emulator/changes.py), and set up in locals while its runs follow each
        other. A quiet run's record is made once it returned, already ended: nobody can read it
        before (records are published a batch at a time), so it is never the Running one that
        pipeline.close fills.
        """
        context, batch = self._context, self._batch
        queue = context.schedules
        take, step_to, store_of = queue.take_due, self._clock.step_to, context.backend.store
        take_ids, limits, settings = self._take_ids, self._limits, self._settings
        plan_of = self._plan
        at = None
        project_of_store, store = "", Store("")  # no project yet: replaced before a first run
        made: list[CallRecord] = []  # this batch's records of quiet runs, not yet in the store
        quiet: QuietRun | None = None  # the handler set up to run, while runs stay quiet
        quiet_function: FunctionRecord | None = None  # its function, whose seat the thread is in
        modules = sys  # a local: sys.stdout is read twice a run
        # The schedule whose run is set up in the locals unpacked from ``ready`` (None: the next
        # run takes the lookup path, which sets them before any run uses them).
        current: int | None = None
        # Schedule id -> those locals (its QuietRun, what it holds, what the plan holds), while
        # valid: since it was set up, every run was quiet and nothing a plan depends on changed
        # (each place that sets quiet to None clears it).
        ready: dict[int, _Ready] = {}
        plans: dict[int, _Plan | None] = {}  # schedule id -> what its runs share (None: none run)
        changes = CHANGES
        # Read once: a change made by the last run of a batch is seen by the next batch's first.
        seen = changes.count
        # When the last run ended (or the loop's own work before the next one did): a run's wall
        # time is read once, from then, so it also holds the loop's own step (a microsecond).
        last = 0.0

        def publish() -> None:
            self._publish(store, made)
            emit(project_of_store, made.copy())
            made.clear()

        while True:
            # Read before taking: a schedule added between the two must not go unseen (one added
            # just before the take only makes the batch be given back once, needlessly).
            version = queue.version
            runs = take(target_ms, _BATCH)
            if not runs:
                return
            ids = take_ids(len(runs))
            last = perf_counter()  # the take was the loop's own work
            try:
                for (due_ms, schedule_id, project), call_id in zip(runs, ids, strict=True):
                    # The clock first, then the check (ScheduleQueue.add_after_now): a schedule
                    # another thread adds now is either seen here or reads this instant or later.
                    if due_ms != at:  # a thousand schedules due at one instant move the clock once
                        step_to(due_ms)
                        at = due_ms
                    if changes.count != seen:  # something a plan depends on changed (changes.py)
                        seen = changes.count
                        if queue.version != version:  # a schedule added: it may be due first
                            # Where this run is (ids are unique): no position kept per run.
                            queue.put_back(runs[ids.index(call_id) :])
                            break
                        plans.clear()
                        quiet = current = None
                        ready.clear()
                    if schedule_id != current:  # another schedule's run, or the first since a change
                        if project != project_of_store:
                            if made:
                                publish()
                            store, project_of_store = store_of(project), project
                            last = perf_counter()
                        entry = ready.get(schedule_id)
                        if entry is None:
                            try:
                                found = plans[schedule_id]
                            except KeyError:
                                found = plans[schedule_id] = plan_of(store, schedule_id)
                            if found is None:  # deleted
                                continue
                            if not found.quick:
                                if made:  # the handler may read the calls before it
                                    publish()
                                quiet = current = None  # run_scheduled ends the call a quiet run left
                                ready.clear()
                                record = run_scheduled(
                                    context, store, found.schedule, found.function, due_ms, batch
                                )
                                emit(project, (record,))
                                last = perf_counter()
                                continue
                            # batch.run, inline (InlineBatch.run has the same steps): a quiet run
                            # costs the handler, a clock read and the checks that it was quiet,
                            # made on what the QuietRun and the plan hold, kept in locals while
                            # the schedule's runs follow each other (a lone schedule: a year of them).
                            quiet = batch.quiet_run(found.function, settings.timeout_seconds)
                            entry = ready[schedule_id] = (quiet, *quiet.hot, *found.hot)
                            last = perf_counter()  # the set-up was the loop's own work
                        elif entry[1] is not quiet_function:  # runs of many functions alternate
                            batch.seat(entry[0])
                        (
                            quiet,
                            function,
                            handle,
                            log,
                            threads,
                            stdout,
                            stderr,
                            timeout_ms,
                            make_data,
                            only_data,
                            kwargs_of,
                            function_id,
                            session_id,
                            data_json,
                        ) = entry
                        quiet_function = function
                        current = schedule_id
                    function.last_called = due_ms
                    threads_before = threads.started
                    failure = result = None
                    try:
                        if only_data:  # the common signature: no argument dict to build
                            result = handle(data=make_data())
                        else:
                            result = handle(**kwargs_of(call_id, schedule_id, due_ms))
                    except BaseException as exc:  # nothing a handler raises reaches the test process
                        failure = exc
                    ended = perf_counter()
                    wall_ms = (ended - last) * 1000
                    last = ended
                    if (
                        failure is None
                        and wall_ms <= timeout_ms
                        and threads.started == threads_before
                        and not log.written
                        and modules.stdout is stdout
                        and modules.stderr is stderr
                    ):
                        # Quiet: no logs, no thread, in time; its call stays entered for the next run.
                        if result is None:
                            # positional, every field: id, function_id, status, start_time,
                            # end_time, error, schedule_id, scheduled_time, session_id, response,
                            # has_response, logs, data_json (the schedule's own string: the
                            # dashboard's), wall_ms
                            made.append(
                                CallRecord(
                                    (
                                        call_id,
                                        function_id,
                                        "Completed",
                                        due_ms,
                                        due_ms,
                                        None,
                                        schedule_id,
                                        due_ms,
                                        session_id,
                                        None,
                                        True,
                                        (),
                                        data_json,
                                        wall_ms,
                                    )
                                )
                            )
                            continue
                        outcome = returned_outcome(result, [], limits.response_bytes)
                    else:
                        assert quiet is not None  # current is set only once a quiet run is
                        settled = batch.settle(quiet, result, failure, wall_ms, threads_before, limits)
                        quiet = current = None
                        ready.clear()
                        outcome = settled or returned_outcome(None, [], limits.response_bytes)
                    made.append(
                        CallRecord(
                            (
                                call_id,
                                function_id,
                                outcome.status,
                                due_ms,
                                due_ms,
                                outcome.error,
                                schedule_id,
                                due_ms,
                                session_id,
                                outcome.response,
                                outcome.has_response,
                                outcome.logs or (),
                                data_json,
                                wall_ms,
                            )
                        )
                    )
            finally:
                if made:
                    publish()

    def _plan(self, store: Store, schedule_id: int) -> _Plan | None:
        """What the runs of a schedule share in this move, or None when it (or its function) is gone."""
        schedule = store.schedules.get(schedule_id)
        if schedule is None:
            return None
        function = store.functions.get(schedule.function_id)
        if function is None:
            return None
        session = store.sessions.get(schedule.session_id)
        inline_now = self._settings.isolation != "process" and self._clock.mode == "virtual"
        return _Plan(schedule, function, session, self._batch.data, inline_now)

    def _publish(self, store: Store, made: list[CallRecord]) -> None:
        """Put ``made`` (records of runs already made, in order) into ``store`` under one lock, and
        trim the project's old calls (``Store.add_call`` for the lot). Quiet runs are published a
        batch at a time: another thread reading the calls meanwhile sees them a batch late, as a
        listing of calls made while CDF runs them may lag; the runs' own handlers cannot tell."""
        calls, order = store.calls, store.call_order
        kept = self._settings.max_calls_kept
        with self._lock:
            calls.update(zip(map(_ID, made), made, strict=True))
            order.extend(map(_ID, made))
            if kept is not None and len(calls) > kept:
                trim(store, kept)


# What the loop keeps in locals for a schedule's runs: its QuietRun, QuietRun.hot, _Plan.hot.
_Ready = tuple[
    QuietRun,
    FunctionRecord,
    Callable[..., Any],
    Any,
    Any,
    Any,
    Any,
    float,
    Callable[[], Any],
    bool,
    Callable[[int, int, int], dict[str, Any]],
    int,
    int,
    str | None,
]


class _Plan:
    """A schedule's runs in one move, until CHANGES moves: its function and session, how its
    arguments are made, and whether its runs are ``quick`` (made inline, quietly, by the loop).
    ``inline`` is False when its runs take the general path (no session, no code yet, or a
    ``client`` argument to build); ``only_data`` is True when ``handle`` takes just ``data``, the
    common signature, called without a dict."""

    __slots__ = (
        "code",
        "data",
        "data_json",
        "function",
        "function_id",
        "hot",
        "info",
        "inline",
        "only_data",
        "quick",
        "schedule",
        "secrets",
        "session_id",
    )

    def __init__(
        self,
        schedule: ScheduleRecord,
        function: FunctionRecord,
        session: SessionRecord | None,
        data: DataCopies,
        inline_now: bool,
    ) -> None:
        self.schedule = schedule
        self.function = function
        self.function_id = function.id
        self.session_id = schedule.session_id
        self.data_json = schedule.data_json
        code = self.code = function.code
        params: tuple[str, ...] = () if code is None else code.params
        self.inline = code is not None and session is not None and "client" not in params
        self.data: Callable[[], Any] = data.maker(schedule.data_json) if "data" in params else dict
        self.only_data = params == ("data",)
        # The run can be made inline, quietly, as long as CHANGES does not move (``inline_now``:
        # the emulator's isolation and clock allow it).
        self.quick = (
            self.inline
            and inline_now
            and function.status == "Ready"
            and session is not None
            and session.status == "ACTIVE"
        )
        # What the loop keeps in locals while the schedule's runs follow each other, in one load.
        self.hot: tuple[
            Callable[[], Any], bool, Callable[[int, int, int], dict[str, Any]], int, int, str | None
        ]
        self.hot = (self.data, self.only_data, self.kwargs, self.function_id, self.session_id, self.data_json)
        self.secrets = "secrets" in params
        self.info = "function_call_info" in params

    def kwargs(self, call_id: int, schedule_id: int, due_ms: int) -> dict[str, Any]:
        """The arguments of one run, for a ``handle`` taking more (or less) than ``data``."""
        kwargs: dict[str, Any] = {}
        if self.code is not None and "data" in self.code.params:
            kwargs["data"] = self.data()
        if self.secrets:
            kwargs["secrets"] = dict(self.function.secrets)
        if self.info:
            kwargs["function_call_info"] = {
                "function_id": self.function_id,
                "call_id": call_id,
                "schedule_id": schedule_id,
                "scheduled_time": due_ms,
            }
        return kwargs
