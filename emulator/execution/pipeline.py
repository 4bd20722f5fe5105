"""The one call pipeline: open record -> arguments -> runner -> close -> trim.

API calls (``POST /functions/{id}/call``) and scheduled runs fired by the clock take the same
steps; only the runner differs:

- API calls run on a pooled worker thread (``pool``), and the route awaits it without blocking the
  event loop, so a handler whose own client calls back into the emulator is served meanwhile; in
  "background" mode the POST answers Running at once and the call finishes on its own;
- scheduled runs during time travel run inline in the thread that moves the clock (``inline``);
- with ``isolation="process"`` both run in a child process (``process``).
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from concurrent.futures import Future
from typing import Any

from emulator.context import Context
from emulator.errors import CogniteAPIError, bad_request
from emulator.execution.capture import CallLog
from emulator.execution.code import user_trace
from emulator.execution.data_copies import DataCopies
from emulator.execution.deadline import run_with_deadline
from emulator.execution.inline import InlineBatch
from emulator.execution.outcomes import Outcome, not_run_outcome, timeout_outcome
from emulator.execution.pool import WORKERS, run_handle
from emulator.execution.process import HandlerAccess, run_in_worker
from emulator.state import CallRecord, FunctionRecord, ScheduleRecord, Store

# --- open ---------------------------------------------------------------------------------------


def check_capacity(ctx: Context, store: Store, function: FunctionRecord) -> int:
    """Raise 429 if the function or project has as many Running calls as allowed; return the
    function's running count."""
    limits = ctx.limits
    running_fn = store.running_calls.get(function.id, 0)
    if running_fn >= limits.max_running_calls_per_function:
        raise CogniteAPIError(
            429,
            f"Too many concurrent calls of function {function.id} "
            f"(limit {limits.max_running_calls_per_function})",
        )
    if sum(store.running_calls.values()) >= limits.max_running_calls_per_project:
        raise CogniteAPIError(
            429,
            f"Too many concurrent calls in project {store.project} "
            f"(limit {limits.max_running_calls_per_project})",
        )
    return running_fn


def open_api_call(ctx: Context, store: Store, function: FunctionRecord, session_id: int | None) -> CallRecord:
    """A Running call record, counted against the concurrency limits (400 if not Ready, 429 if full)."""
    if function.status != "Ready":
        raise bad_request(f"Function {function.id} is not ready to be called (status: {function.status})")
    with ctx.backend.lock:
        running_fn = check_capacity(ctx, store, function)
        now = ctx.clock.now_ms()
        record = CallRecord.of(
            id=ctx.ids.new(), function_id=function.id, status="Running", start_time=now, session_id=session_id
        )
        store.add_call(record)
        store.running_calls[function.id] = running_fn + 1
        function.last_called = now
    return record


def open_scheduled(
    ctx: Context, store: Store, schedule: ScheduleRecord, function: FunctionRecord, due_ms: int
) -> CallRecord:
    """A Running record of one scheduled run at ``due_ms`` (not counted: it runs inline)."""
    with ctx.backend.lock:
        record = CallRecord.of(
            ctx.ids.new(),
            function.id,
            "Running",
            due_ms,
            schedule_id=schedule.id,
            scheduled_time=due_ms,
            session_id=schedule.session_id,
        )
        store.add_call(record)
        function.last_called = due_ms
    return record


# --- arguments ------------------------------------------------------------------------------------


def arguments(
    ctx: Context,
    project: str,
    function: FunctionRecord,
    record: CallRecord,
    data_json: str | None,
    copies: DataCopies | None = None,
) -> dict[str, Any]:
    """The keyword arguments ``handle()`` declares, each a fresh object (``copies`` makes the fresh
    ``data`` of scheduled runs cheaply). May raise: the user's ``handler_client`` factory runs here
    (the caller turns that into a Failed call)."""
    params = function.code.params
    kwargs: dict[str, Any] = {}
    if "data" in params:
        if not data_json:
            kwargs["data"] = {}
        else:
            kwargs["data"] = copies.fresh(data_json) if copies is not None else json.loads(data_json)
    if "secrets" in params:
        kwargs["secrets"] = dict(function.secrets)
    if "function_call_info" in params:
        info: dict[str, Any] = {"function_id": function.id, "call_id": record.id}
        if record.schedule_id is not None:
            info["schedule_id"] = record.schedule_id
            info["scheduled_time"] = record.scheduled_time
        kwargs["function_call_info"] = info
    if "client" in params and ctx.settings.isolation != "process":  # the child builds its own
        kwargs["client"] = ctx.clients.handler_client(project)
    return kwargs


def _client_failed(exc: BaseException) -> Outcome:
    message = f"Could not build the handler's client: {type(exc).__name__}: {exc}"
    return Outcome("Failed", error={"message": message, "trace": user_trace(exc)})


# --- runners -----------------------------------------------------------------------------------------


def _in_process(
    ctx: Context, project: str, function: FunctionRecord, kwargs: dict[str, Any], log: CallLog
) -> Outcome:
    code = function.code
    access = None
    if "client" in code.params:  # the worker's client reaches the emulator over loopback
        access = HandlerAccess(project, ctx.clients.loopback_url(), ctx.auth.client_token)
    return run_in_worker(
        code, kwargs, function.env_vars, client=access, timeout=ctx.settings.timeout_seconds, log=log,
        memory_gb=function.memory, max_response_bytes=ctx.limits.response_bytes,
        python=code.environment.python,  # the build step's interpreter (the host's unless installed)
    )  # fmt: skip


def _wait_seconds(ctx: Context) -> float:
    # In process isolation the child is killed at the timeout and reports Timeout itself.
    settings = ctx.settings
    return settings.timeout_seconds + (30.0 if settings.isolation == "process" else 0.0)


def _start_worker(
    ctx: Context, project: str, function: FunctionRecord, kwargs: dict[str, Any], log: CallLog
) -> Future[Outcome]:
    if ctx.settings.isolation == "process":
        if "client" in function.code.params:
            ctx.clients.loopback_url()  # start the server here, not on the worker thread
        return WORKERS.submit(lambda: _in_process(ctx, project, function, kwargs, log))
    limits = ctx.limits
    return WORKERS.submit(
        lambda: run_handle(function.code, kwargs, function.env_vars, log, limits.response_bytes)
    )


# --- close -----------------------------------------------------------------------------------------


def close(
    ctx: Context, store: Store, record: CallRecord, outcome: Outcome, end_ms: int, counted: bool
) -> None:
    """Record how the call ended (every field before the status, so readers never see it half
    done), release its concurrency slot, and trim the project's old calls."""
    if counted:
        with ctx.backend.lock:
            left = store.running_calls.get(record.function_id, 1) - 1
            if left > 0:
                store.running_calls[record.function_id] = left
            else:
                store.running_calls.pop(record.function_id, None)
    record.end_time = end_ms
    record.error = outcome.error
    record.response = outcome.response
    record.has_response = outcome.has_response
    record.logs = outcome.logs
    record.status = outcome.status
    kept = ctx.settings.max_calls_kept
    if kept is not None and len(store.calls) > kept:
        with ctx.backend.lock:
            trim(store, kept)


def trim(store: Store, kept: int) -> None:
    """Keep at most ``kept`` calls in ``store``; the oldest finished ones go first. Under the lock."""
    calls, order = store.calls, store.call_order
    budget = len(order)  # never loop forever when every old call is still Running
    while len(calls) > kept and order and budget > 0:
        budget -= 1
        call_id = order.popleft()
        call = calls.get(call_id)
        if call is None:
            continue
        if call.status == "Running":
            order.append(call_id)
            continue
        del calls[call_id]


# --- the two entry points ------------------------------------------------------------------------------


async def run_api_call(
    ctx: Context,
    project: str,
    function: FunctionRecord,
    data: Any,
    *,
    session_id: int | None = None,
    background: bool | None = None,
) -> CallRecord:
    """An API call: open, arguments, a worker (thread or process), close. Raises only before the
    record exists (400 not Ready, 429 over the limits)."""
    store = ctx.backend.store(project)
    record = open_api_call(ctx, store, function, session_id)
    record.data_json = json.dumps(data if data is not None else {})
    try:
        kwargs = arguments(ctx, project, function, record, record.data_json)
    except BaseException as exc:  # the user's handler_client factory
        close(ctx, store, record, _client_failed(exc), _end_ms(ctx, record), True)
        return record
    log = CallLog(ctx.clock.now_ms, ctx.limits.max_log_lines)
    started = time.perf_counter()
    future = _start_worker(ctx, project, function, kwargs, log)
    if background is None:
        background = ctx.settings.call_mode == "background"
    if background:
        _finish_later(ctx, store, record, future, log, started)
        return record
    try:
        outcome = await asyncio.wait_for(asyncio.wrap_future(future), _wait_seconds(ctx))
    except (TimeoutError, asyncio.TimeoutError):  # two classes before Python 3.11
        outcome = timeout_outcome(ctx.settings.timeout_seconds, log.finish())
    record.wall_ms = _wall_ms(started)
    close(ctx, store, record, outcome, _end_ms(ctx, record), True)
    return record


def _wall_ms(started: float) -> float:
    """Real milliseconds since ``started`` (perf_counter): what a handler took, on any clock."""
    return round((time.perf_counter() - started) * 1000, 3)


def _end_ms(ctx: Context, record: CallRecord) -> int:
    return max(ctx.clock.now_ms(), record.start_time)


def _finish_later(
    ctx: Context, store: Store, record: CallRecord, future: Future[Outcome], log: CallLog, started: float
) -> None:
    done = threading.Event()
    lock = threading.Lock()

    def finish(outcome: Outcome) -> None:
        with lock:
            if done.is_set():
                return
            done.set()
        record.wall_ms = _wall_ms(started)
        close(ctx, store, record, outcome, _end_ms(ctx, record), True)

    timer = threading.Timer(
        _wait_seconds(ctx), lambda: finish(timeout_outcome(ctx.settings.timeout_seconds, log.finish()))
    )
    timer.daemon = True

    def on_done(fut: Future[Outcome]) -> None:
        timer.cancel()
        finish(fut.result())

    future.add_done_callback(on_done)
    timer.start()


def run_scheduled(
    ctx: Context,
    store: Store,
    schedule: ScheduleRecord,
    function: FunctionRecord,
    due_ms: int,
    batch: InlineBatch,
) -> CallRecord:
    """A scheduled run at ``due_ms``: open, arguments, inline (or a child process), close.

    The clock reads ``due_ms`` while it runs: virtual time stands there; wall and system time are
    pinned for the handler's thread, which is given up at the timeout (emulator/execution/deadline.py:
    the record may then still be Running when this returns, and is closed by a watcher). On the
    virtual clock a run that returns None and writes nothing (``batch.run`` answers None) is closed
    without an ``Outcome``.
    """
    batch.leave()  # a quiet run before may have left its call open: this is not the handler yet
    session = store.sessions.get(schedule.session_id)
    blocked = None
    if session is None or session.status != "ACTIVE":
        state = session.status if session is not None else "deleted"
        blocked = f"Could not run scheduled call: the schedule's session {schedule.session_id} is {state}"
    elif function.status != "Ready":
        blocked = f"Could not run scheduled call: function {function.id} is {function.status}"
    record = open_scheduled(ctx, store, schedule, function, due_ms)
    record.data_json = schedule.data_json
    outcome: Outcome | None
    if blocked is not None:
        outcome = not_run_outcome(blocked)
    else:
        project = store.project
        if "client" in function.code.params:
            batch.between()  # the user's handler_client factory sees the test process's environment
        try:
            kwargs = arguments(ctx, project, function, record, schedule.data_json, batch.data)
        except BaseException as exc:  # the user's handler_client factory
            outcome = _client_failed(exc)
        else:
            settings, clock = ctx.settings, ctx.clock
            started = time.perf_counter()
            if settings.isolation == "process":
                batch.between()
                log = CallLog(clock.now_ms, ctx.limits.max_log_lines)
                pinned = clock.mode != "virtual"
                if pinned:
                    clock.pin_thread(due_ms)
                try:
                    outcome = _in_process(ctx, project, function, kwargs, log)
                finally:
                    if pinned:
                        clock.unpin_thread()
                record.wall_ms = _wall_ms(started)
            elif clock.mode != "virtual":
                batch.between()

                def finish_later(done: Outcome) -> None:
                    record.wall_ms = _wall_ms(started)
                    close(ctx, store, record, done, clock.now_ms(), False)

                late = run_with_deadline(
                    clock, function, kwargs, CallLog(clock.now_ms, ctx.limits.max_log_lines), due_ms,
                    timeout_seconds=settings.timeout_seconds, inline_seconds=settings.inline_seconds,
                    max_response_bytes=ctx.limits.response_bytes, finish_later=finish_later,
                )  # fmt: skip
                if late is None:  # still running in the background
                    return record
                outcome = late
                record.wall_ms = _wall_ms(started)
            else:
                outcome = batch.run(function, kwargs, settings.timeout_seconds, ctx.limits)
                record.wall_ms = batch.wall_ms
    if outcome is None:  # Completed, returned None, wrote nothing: status last, as close() does
        record.end_time = due_ms
        record.has_response = True
        record.status = "Completed"
        kept = ctx.settings.max_calls_kept
        if kept is not None and len(store.calls) > kept:
            with ctx.backend.lock:
                trim(store, kept)
    else:
        close(ctx, store, record, outcome, due_ms, False)
    return record


__all__ = [
    "arguments",
    "check_capacity",
    "close",
    "open_api_call",
    "open_scheduled",
    "run_api_call",
    "run_scheduled",
    "trim",
]
