"""The inline runner of time travel: scheduled runs execute in the thread that moves the clock.

Inside one clock move, the log capture stays installed and the environment and private modules of
the function that ran last stay in place, so consecutive runs of one function pay for neither. That
is what makes a year of minutely runs cost seconds rather than minutes. The price: an inline run
cannot be interrupted at its timeout; it is marked Timeout when it returns late, and a handler that
never returns blocks ``advance``. Use ``isolation="process"`` for hard kills, or the API's
``functions.call`` (threaded, with a real timeout) for handlers that may hang.
"""

from __future__ import annotations

import threading
import time
from contextlib import ExitStack
from typing import Any

from emulator.execution.capture import CAPTURE, CallLog
from emulator.execution.code import LoadedCode
from emulator.execution.environment import environment
from emulator.execution.outcomes import Outcome, failed_outcome, returned_outcome, timeout_outcome
from emulator.state import FunctionRecord


class InlineBatch:
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
        self._stack.enter_context(environment(function.env_vars))
        self._function = function

    def run(
        self,
        function: FunctionRecord,
        kwargs: dict[str, Any],
        log: CallLog,
        timeout_seconds: float,
        max_response_bytes: int,
    ) -> Outcome:
        """Run one handler inline with the batch's context; never raises."""
        self.enter(function)
        code: LoadedCode = function.code
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
        if time.monotonic() - started > timeout_seconds:
            return timeout_outcome(timeout_seconds, logs)
        return returned_outcome(result, logs, max_response_bytes)

    def close(self) -> None:
        try:
            self._stack.close()
        finally:
            self._capture.close()
