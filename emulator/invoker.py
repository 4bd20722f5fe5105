"""Starting function calls from the API: record, run on a worker thread, finish.

A call gets a record (Running); its handler then runs on a worker thread (a shared pool of daemon
threads, so no call pays for a new thread) and the caller waits with the call's timeout:

- the API route awaits the worker without blocking the event loop, so a handler whose own client
  calls back into the emulator is served meanwhile (no deadlock, whichever client made the call);
- in "background" mode the POST answers Running at once and the call finishes on its own.

A handler that outlives its timeout cannot be killed inside this process: the call is recorded as
Timeout, its worker thread is left to finish in the background (a daemon thread: it never blocks
interpreter exit) and whatever it does later is discarded. Use ``isolation="process"`` for hard kills.
Scheduled runs during time travel take the scheduler's inline fast path instead (scheduler.py).
"""

from __future__ import annotations

import asyncio
import json
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from typing import TYPE_CHECKING, Any

from emulator.errors import CogniteAPIError, bad_request
from emulator.runtime import CallLog, Outcome, run_handle
from emulator.state import CallRecord, FunctionRecord

if TYPE_CHECKING:
    from emulator.emulator import FunctionsEmulator


class _DaemonPool:
    """Daemon worker threads, reused across calls; a new one starts only when none is idle.

    Shared by every emulator in the process: it holds no emulator state, only idle threads.
    """

    def __init__(self) -> None:
        self._jobs: queue.SimpleQueue[tuple[Callable[[], Any], Future[Any]]] = queue.SimpleQueue()
        self._idle = 0
        self._lock = threading.Lock()

    def submit(self, job: Callable[[], Any]) -> Future[Any]:
        future: Future[Any] = Future()
        with self._lock:
            spawn = self._idle == 0
            if not spawn:
                self._idle -= 1
        self._jobs.put((job, future))
        if spawn:
            threading.Thread(target=self._work, name="cdf-call-worker", daemon=True).start()
        return future

    def _work(self) -> None:
        while True:
            job, future = self._jobs.get()
            if future.set_running_or_notify_cancel():
                try:
                    future.set_result(job())
                except BaseException as exc:  # run_handle never raises; belt and braces
                    future.set_exception(exc)
            with self._lock:
                self._idle += 1


WORKERS = _DaemonPool()


class Invoker:
    def __init__(self, emu: FunctionsEmulator) -> None:
        self._emu = emu

    def check_capacity(self, project: str, function: FunctionRecord) -> int:
        """Raise 429 if the function or project has as many Running calls as allowed; return the
        function's running count."""
        emu = self._emu
        store = emu.backend.store(project)
        running_fn = store.running_calls.get(function.id, 0)
        if running_fn >= emu.limits.max_running_calls_per_function:
            raise CogniteAPIError(
                429,
                f"Too many concurrent calls of function {function.id} "
                f"(limit {emu.limits.max_running_calls_per_function})",
            )
        if sum(store.running_calls.values()) >= emu.limits.max_running_calls_per_project:
            raise CogniteAPIError(
                429,
                f"Too many concurrent calls in project {project} (limit {emu.limits.max_running_calls_per_project})",
            )
        return running_fn

    def submit(
        self,
        project: str,
        function: FunctionRecord,
        data: Any,
        *,
        session_id: int | None = None,
        schedule_id: int | None = None,
        scheduled_time: int | None = None,
        background: bool | None = None,
    ) -> tuple[CallRecord, Future[Outcome], CallLog]:
        """Create a Running call of ``function`` and hand its handler to a worker thread."""
        emu = self._emu
        store = emu.backend.store(project)
        if function.status != "Ready":
            raise bad_request(f"Function {function.id} is not ready to be called (status: {function.status})")
        with emu.backend.lock:
            running_fn = self.check_capacity(project, function)
            now = emu.clock.now_ms()
            record = CallRecord(
                id=emu.backend.new_id(), function_id=function.id, status="Running", start_time=now,
                schedule_id=schedule_id, scheduled_time=scheduled_time, session_id=session_id,
            )  # fmt: skip
            store.add_call(record)
            store.running_calls[function.id] = running_fn + 1
            function.last_called = now
        info: dict[str, Any] = {"function_id": function.id, "call_id": record.id}
        if schedule_id is not None:
            info["schedule_id"] = schedule_id
            info["scheduled_time"] = scheduled_time
        arguments = {
            "data": json.loads(json.dumps(data if data is not None else {})),
            "secrets": dict(function.secrets),
            "function_call_info": info,
        }
        if "client" in function.code.params:
            arguments["client"] = emu.handler_client(project)
        log = CallLog(emu.clock.now_ms, emu.limits.max_log_lines)
        pinned = scheduled_time if (scheduled_time is not None and emu.clock.mode != "virtual") else None

        if emu.isolation == "process":
            from emulator.isolation import run_in_subprocess

            base_url = emu._loopback_url()
            now = emu.clock.now_ms()

            def job() -> Outcome:
                return run_in_subprocess(
                    function.code, arguments, function.env_vars, project=project, base_url=base_url, token=emu.auth.client_token,
                    timeout=emu.timeout_seconds, now_ms=now, max_response_bytes=emu.limits.response_bytes,
                    max_log_lines=emu.limits.max_log_lines,
                )  # fmt: skip
        else:

            def job() -> Outcome:
                if pinned is not None:
                    emu.clock._pin(pinned)
                try:
                    return run_handle(
                        function.code, arguments, function.env_vars, log, emu.limits.response_bytes
                    )
                finally:
                    emu.clock._pin(None)

        future = WORKERS.submit(job)
        if background is None:
            background = emu.call_mode == "background"
        if background:
            self._finish_later(project, record, future, log)
        return record, future, log

    def start(self, project: str, function: FunctionRecord, data: Any, **kwargs: Any) -> CallRecord:
        """Run a call and wait for its end (or its timeout) in this thread; returns the record."""
        record, future, log = self.submit(project, function, data, **kwargs)
        if kwargs.get("background", self._emu.call_mode == "background"):
            return record
        try:
            outcome = future.result(self._wait_seconds())
        except FutureTimeout:
            outcome = self._timeout(log)
        self._finish(project, record, outcome)
        return record

    async def run(self, project: str, function: FunctionRecord, data: Any, **kwargs: Any) -> CallRecord:
        """The API's path: like :meth:`start`, but awaits the worker so the event loop keeps serving."""
        record, future, log = self.submit(project, function, data, **kwargs)
        if kwargs.get("background", self._emu.call_mode == "background"):
            return record
        try:
            outcome = await asyncio.wait_for(asyncio.wrap_future(future), self._wait_seconds())
        except TimeoutError:
            outcome = self._timeout(log)
        self._finish(project, record, outcome)
        return record

    def _wait_seconds(self) -> float:
        # In process isolation the child is killed at the timeout and reports Timeout itself.
        return self._emu.timeout_seconds + (30.0 if self._emu.isolation == "process" else 0.0)

    def _timeout(self, log: CallLog) -> Outcome:
        seconds = self._emu.timeout_seconds
        return Outcome(
            "Timeout",
            error={"message": f"Function call timed out after {seconds:g} seconds", "trace": None},
            logs=log.finish(),
        )

    def _finish_later(self, project: str, record: CallRecord, future: Future[Any], log: CallLog) -> None:
        done = threading.Event()

        def on_done(fut: Future[Any]) -> None:
            if not done.is_set():
                done.set()
                self._finish(project, record, fut.result())

        def on_timeout() -> None:
            if not done.is_set():
                done.set()
                self._finish(project, record, self._timeout(log))

        timer = threading.Timer(self._wait_seconds(), on_timeout)
        timer.daemon = True
        future.add_done_callback(lambda fut: (timer.cancel(), on_done(fut)))
        timer.start()

    def _finish(self, project: str, record: CallRecord, outcome: Outcome) -> None:
        emu = self._emu
        store = emu.backend.store(project)
        with emu.backend.lock:
            left = store.running_calls.get(record.function_id, 1) - 1
            if left > 0:
                store.running_calls[record.function_id] = left
            else:
                store.running_calls.pop(record.function_id, None)
            record.status = outcome.status
            record.end_time = max(emu.clock.now_ms(), record.start_time)
            record.error = outcome.error
            record.response = outcome.response
            record.has_response = outcome.has_response
            record.logs = list(outcome.logs)
            emu._trim_calls(project)
