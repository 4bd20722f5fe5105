"""Starting function calls: the one code path for API calls and scheduled runs.

A call gets a record (Running), then its handler runs on a thread of its own so that a timeout can
abandon it. In "sync" mode the caller waits for the end (the POST answers with the final status); in
"background" mode a supervisor thread waits and the caller gets Running back at once.

A handler that outlives its timeout cannot be killed inside this process: its thread is left to
finish in the background (it is a daemon thread, so it never blocks interpreter exit) and whatever
it does later is discarded. Use ``isolation="process"`` when that matters.
"""

from __future__ import annotations

import json
import threading
from typing import TYPE_CHECKING, Any

from emulator.errors import CogniteAPIError, bad_request
from emulator.runtime import CallLog, Outcome, run_handle
from emulator.state import CallRecord, FunctionRecord

if TYPE_CHECKING:
    from emulator.emulator import FunctionsEmulator


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

    def start(
        self,
        project: str,
        function: FunctionRecord,
        data: Any,
        *,
        session_id: int | None = None,
        schedule_id: int | None = None,
        scheduled_time: int | None = None,
        background: bool | None = None,
    ) -> CallRecord:
        """Create a call of ``function`` and run it; returns the record (final unless background)."""
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
        if background is None:
            background = emu.call_mode == "background"
        self._run(project, function, record, arguments, background)
        return record

    def _run(
        self,
        project: str,
        function: FunctionRecord,
        record: CallRecord,
        arguments: dict[str, Any],
        background: bool,
    ) -> None:
        emu = self._emu
        log = CallLog(emu.clock.now_ms, emu.limits.max_log_lines)
        result: list[Outcome] = []
        pinned = emu.clock.now_ms() if record.scheduled_time is not None else None

        def target() -> None:
            if pinned is not None:
                emu.clock._pin(pinned)
            try:
                result.append(
                    run_handle(function.code, arguments, function.env_vars, log, emu.limits.response_bytes)
                )
            finally:
                emu.clock._pin(None)

        worker = threading.Thread(target=target, name=f"cdf-call-{record.id}", daemon=True)

        def supervise() -> None:
            worker.join(emu.timeout_seconds)
            if result:
                outcome = result[0]
            else:
                outcome = Outcome("Timeout", error={
                    "message": f"Function call timed out after {emu.timeout_seconds:g} seconds", "trace": None,
                }, logs=log.finish())  # fmt: skip
            self._finish(project, record, outcome)

        worker.start()
        if background:
            threading.Thread(target=supervise, name=f"cdf-call-{record.id}-supervisor", daemon=True).start()
        else:
            supervise()

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
