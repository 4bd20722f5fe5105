"""CDF function schedules as a timer source: a heap of next run times, fired in time order.

The heap holds one entry per schedule: ``(due_ms, schedule_id, project)``. Ties at one instant fire
in schedule-id order. A deleted schedule's entry is dropped when it reaches the top (lazy deletion);
a schedule created during time travel (say by a handler) is pushed with its first run after the
current instant, so it fires later in the same ``advance``.

Scheduled runs during time travel take a fast path: they run inline in the thread that moves the
clock, inside one log-capture / environment context kept open for consecutive runs of the same
function. That is what makes a year of minutely runs cost seconds rather than minutes. The price: a
scheduled run cannot be interrupted at its timeout; it is marked Timeout when it returns late, and
a handler that never returns blocks ``advance``. Use ``isolation="process"`` for hard kills, or the
API's ``functions.call`` (threaded, with a real timeout) for handlers that may hang.
"""

from __future__ import annotations

import heapq
import json
import threading
import time
from collections import deque
from collections.abc import Iterable, Iterator
from contextlib import ExitStack, contextmanager
from typing import TYPE_CHECKING, Any

from cognite.client.data_classes import FunctionCall

from emulator import cron
from emulator.runtime import (
    CAPTURE,
    CallLog,
    Outcome,
    _environment,
    code_context,
    failed_outcome,
    returned_outcome,
)
from emulator.state import CallRecord, FunctionRecord, ScheduleRecord, Store
from emulator.workers import Workers

if TYPE_CHECKING:
    from emulator.emulator import FunctionsEmulator


class FiredLog:
    """What one move of the clock fired: the newest ``maxlen`` entries, and how many in all.

    Ten years of a minutely schedule are 5.3 million runs; keeping each record alive until the
    caller drops the answer of ``advance`` would outgrow any memory, so only as many as the store
    keeps (``max_calls_kept``) are held here too; ``total`` still counts every run.
    """

    def __init__(self, maxlen: int | None) -> None:
        self.entries: deque[Any] = deque(maxlen=maxlen)
        self.total = 0
        self.calls = 0  # of them, CDF calls: (project, CallRecord) entries

    def append(self, item: Any) -> None:
        self.entries.append(item)
        self.total += 1
        self.calls += isinstance(item, tuple)

    def extend(self, items: Iterable[Any]) -> None:
        for item in items:
            self.append(item)


class FiredCalls(list):  # type: ignore[type-arg]
    """The calls an ``advance`` started, in order: a list of the SDK's ``FunctionCall``.

    Items are built from the call records on first access, so a year of runs does not pay for
    525,600 SDK objects unless the test looks at them. When one move fires more calls than
    ``max_calls_kept``, the list holds the newest ``max_calls_kept`` of them (the ones the store
    still keeps); ``total`` is how many fired, ``dropped`` how many of them are not in the list.
    """

    def __init__(
        self, emu: FunctionsEmulator, entries: Iterable[tuple[str, CallRecord]], total: int | None = None
    ) -> None:
        super().__init__(entries)
        self._emu = emu
        self.total = len(self) if total is None else total
        self.dropped = self.total - len(self)

    def _materialise(self, index: int) -> FunctionCall:
        item = list.__getitem__(self, index)
        if isinstance(item, FunctionCall):
            return item
        project, record = item
        from emulator.resources.calls import call_json

        call = FunctionCall._load(call_json(record)).set_client_ref(self._emu.sdk_ref(project))
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

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        if self.dropped:
            return f"FiredCalls({len(self)} of {self.total} calls: the newest, as max_calls_kept)"
        return f"FiredCalls({len(self)} calls)"


class Scheduler:
    """Fires the runs of every project's schedules. Registered as the first Timeline source."""

    def __init__(self, emu: FunctionsEmulator) -> None:
        self._emu = emu
        self._heap: list[tuple[int, int, str]] = []
        self._runs: dict[int, Iterator[int]] = {}  # schedule id -> its future run times
        self._lock = threading.RLock()
        self._batch: _Batch | None = None
        self._workers = Workers()  # wall/system clock: where scheduled handlers run
        self.inline_seconds = 1.0  # then a slow scheduled run goes on in the background

    # --- keeping the heap in step with the stores -------------------------------------------------
    def add(self, project: str, schedule: ScheduleRecord, compiled: cron.CronExpression) -> None:
        """Start firing ``schedule`` after the current instant."""
        runs = compiled.iter_after(self._emu.clock.now_ms())
        with self._lock:
            self._runs[schedule.id] = runs
            self._push(schedule.id, project)

    def _push(self, schedule_id: int, project: str) -> None:
        runs = self._runs.get(schedule_id)
        due = next(runs, None) if runs is not None else None
        if due is None:
            self._runs.pop(schedule_id, None)
        else:
            heapq.heappush(self._heap, (due, schedule_id, project))

    def remove(self, schedule_id: int) -> None:
        with self._lock:
            self._runs.pop(schedule_id, None)  # its heap entry is dropped when it surfaces

    def changed(self, project: str) -> None:
        """Drop the heap entries of schedules that no longer exist in ``project``."""
        store = self._emu.backend.store(project)
        with self._lock:
            for sid in [s for s in self._runs if s not in store.schedules]:
                self._runs.pop(sid, None)

    def add_source(self, source: Any) -> None:
        """Register another timer source (Globus timers, ROMA dispatches) on the same clock."""
        self._emu.timeline.add_source(source)

    def reset(self) -> None:
        with self._lock:
            self._heap.clear()
            self._runs.clear()
        self._workers.stop()

    def next_runs(self, schedule: ScheduleRecord, after_ms: int, count: int) -> list[int]:
        """The next ``count`` run times of a schedule after ``after_ms`` (for dashboards)."""
        runs = cron.parse(schedule.cron_expression).iter_after(after_ms)
        return [t for _, t in zip(range(count), runs, strict=False)]

    # --- the TimerSource protocol --------------------------------------------------------------------
    def next_due_ms(self) -> int | None:
        with self._lock:
            heap = self._heap
            while heap and heap[0][1] not in self._runs:
                heapq.heappop(heap)
            return heap[0][0] if heap else None

    def fire(self, due_ms: int) -> list[Any]:
        """Run every schedule due at exactly ``due_ms``, in schedule-id order."""
        fired: list[Any] = []
        while True:
            with self._lock:
                if self.next_due_ms() != due_ms:
                    return fired
                _, schedule_id, project = heapq.heappop(self._heap)
                self._push(schedule_id, project)
            record = self._run(project, schedule_id, due_ms)
            if record is not None:
                fired.append((project, record))

    def fire_until(self, target_ms: int) -> FiredLog:
        """Fire every run due at or before ``target_ms`` (the Timeline's shortcut when this is its
        only source): one heap pop per run, the clock moved to each run's instant."""
        fired = FiredLog(self._emu.max_calls_kept)
        heap, runs, lock = self._heap, self._runs, self._lock
        move = self._emu.clock._move_to
        while True:
            with lock:
                while heap and heap[0][1] not in runs:
                    heapq.heappop(heap)
                if not heap or heap[0][0] > target_ms:
                    return fired
                due, schedule_id, project = heapq.heappop(heap)
                self._push(schedule_id, project)
            move(due)
            record = self._run(project, schedule_id, due)
            if record is not None:
                fired.append((project, record))

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Keep one capture/environment context open across the runs of one clock move."""
        if self._batch is not None:
            yield
            return
        self._batch = _Batch()
        try:
            yield
        finally:
            batch, self._batch = self._batch, None
            batch.close()

    def wrap(self, fired: list[Any] | FiredLog) -> FiredCalls:
        if isinstance(fired, FiredLog):
            calls = [f for f in fired.entries if isinstance(f, tuple)]
            return FiredCalls(self._emu, calls, fired.calls)
        return FiredCalls(self._emu, [f for f in fired if isinstance(f, tuple)])

    # --- one scheduled run -----------------------------------------------------------------------------
    def _run(self, project: str, schedule_id: int, due_ms: int) -> CallRecord | None:
        emu = self._emu
        backend = emu.backend
        store = backend._stores.get(project) or backend.store(project)
        schedule = store.schedules.get(schedule_id)
        function = store.functions.get(schedule.function_id) if schedule is not None else None
        if schedule is None or function is None:
            return None
        session = store.sessions.get(schedule.session_id)
        blocked = None
        if session is None or session.status != "ACTIVE":
            state = session.status if session is not None else "deleted"
            blocked = f"Could not run scheduled call: the schedule's session {schedule.session_id} is {state}"
        elif function.status != "Ready":
            blocked = f"Could not run scheduled call: function {function.id} is {function.status}"
        with backend.lock:
            # positional: id, function_id, status, start_time, end_time, error, schedule_id, scheduled_time, session_id
            record = CallRecord(
                backend.new_id(),
                function.id,
                "Running",
                due_ms,
                None,
                None,
                schedule_id,
                due_ms,
                schedule.session_id,
            )
            store.add_call(record)
            function.last_called = due_ms
        if blocked is not None:
            outcome: Outcome | None = Outcome("Failed", error={"message": blocked, "trace": None})
        else:
            outcome = self._execute(project, function, record, schedule, store)
        if outcome is not None:  # None: still running in the background (wall/system clock)
            self._finish(store, record, outcome, due_ms)
        return record

    def _finish(self, store: Store, record: CallRecord, outcome: Outcome, end_ms: int) -> None:
        # Readers never see a half-finished record: every field is set before the status.
        record.end_time = end_ms
        record.error = outcome.error
        record.response = outcome.response
        record.has_response = outcome.has_response
        record.logs = outcome.logs
        record.status = outcome.status
        emu = self._emu
        kept = emu.max_calls_kept
        if kept is not None and len(store.calls) > kept:
            with emu.backend.lock:
                emu._trim_calls(store.project)

    def _execute(
        self,
        project: str,
        function: FunctionRecord,
        record: CallRecord,
        schedule: ScheduleRecord,
        store: Store,
    ) -> Outcome | None:
        emu = self._emu
        code = function.code
        params = code.params
        kwargs: dict[str, Any] = {}
        if "data" in params:
            kwargs["data"] = json.loads(schedule.data_json) if schedule.data_json else {}
        if "secrets" in params:
            kwargs["secrets"] = dict(function.secrets)
        if "function_call_info" in params:
            kwargs["function_call_info"] = {
                "function_id": function.id,
                "call_id": record.id,
                "schedule_id": schedule.id,
                "scheduled_time": record.scheduled_time,
            }
        if "client" in params:
            kwargs["client"] = emu.handler_client(project)
        log = CallLog(emu.clock.now_ms, emu.limits.max_log_lines)
        batch = self._batch
        if batch is None:  # fired outside Timeline.fire_due: a one-off batch
            with self.batch():
                return self._execute(project, function, record, schedule, store)
        batch.enter(function)
        pinned = emu.clock.mode != "virtual"
        if pinned:
            # Real time passes: a hung handler must not stall the other schedules for ever, nor stay
            # Running past its timeout. It runs in a worker that is given up at the timeout.
            return self._execute_with_deadline(code, kwargs, log, record, store)
        ident = threading.get_ident()
        CAPTURE.sinks[ident] = log
        started = time.monotonic()
        try:
            result = code.handle(**kwargs)
        except BaseException as exc:  # SystemExit and KeyboardInterrupt must not reach the test process
            return failed_outcome(exc, log.finish())
        finally:
            CAPTURE.sinks.pop(ident, None)
        logs = log.finish()
        if time.monotonic() - started > emu.timeout_seconds:
            seconds = emu.timeout_seconds
            return Outcome(
                "Timeout",
                error={"message": f"Function call timed out after {seconds:g} seconds", "trace": None},
                logs=logs,
            )
        return returned_outcome(result, logs, emu.limits.response_bytes)

    def _execute_with_deadline(
        self, code: Any, kwargs: dict[str, Any], log: CallLog, record: CallRecord, store: Store
    ) -> Outcome | None:
        """Wall/system clock: the handler runs on a worker thread. Done within ``inline_seconds``:
        its outcome, as inline. Otherwise the run goes on in the background (None: the record stays
        Running) and a watcher finishes it when it returns, or as Timeout at the timeout, so the
        other schedules keep firing meanwhile; a hung handler's thread is abandoned."""
        emu = self._emu
        box: dict[str, Any] = {}

        def work() -> None:
            ident = threading.get_ident()
            emu.clock._pin(record.scheduled_time)
            CAPTURE.sinks[ident] = log
            try:
                box["result"] = code.handle(**kwargs)
            except BaseException as exc:  # the handler's failure is the call's failure
                box["error"] = exc
            finally:
                CAPTURE.sinks.pop(ident, None)
                emu.clock._pin(None)

        def outcome(finished: bool) -> Outcome:
            if not finished:
                seconds = emu.timeout_seconds
                message = f"Function call timed out after {seconds:g} seconds"
                return Outcome("Timeout", error={"message": message, "trace": None}, logs=log.finish())
            if "error" in box:
                return failed_outcome(box["error"], log.finish())
            return returned_outcome(box.get("result"), log.finish(), emu.limits.response_bytes)

        timeout = emu.timeout_seconds
        done = self._workers.submit(work)
        inline = min(self.inline_seconds, timeout)
        if done.wait(inline) or inline >= timeout:
            return outcome(done.is_set())

        def watch() -> None:
            self._finish(store, record, outcome(done.wait(timeout - inline)), emu.clock.now_ms())

        threading.Thread(target=watch, name=f"emulator-watch-{record.id}", daemon=True).start()
        return None


class _Batch:
    """The capture, env vars and private modules of the function that ran last, kept open."""

    def __init__(self) -> None:
        self._stack = ExitStack()
        self._function: FunctionRecord | None = None
        self._capture = ExitStack()
        self._capture.enter_context(CAPTURE.capture(CallLog(lambda: 0)))
        CAPTURE.sinks.pop(threading.get_ident(), None)  # only handler runs are captured

    def enter(self, function: FunctionRecord) -> None:
        if self._function is function and function.code is not None:
            return
        self._stack.close()
        self._stack = ExitStack()
        self._stack.enter_context(_environment(function.env_vars))
        self._stack.enter_context(code_context(function.code))
        self._function = function

    def close(self) -> None:
        try:
            self._stack.close()
        finally:
            self._capture.close()
