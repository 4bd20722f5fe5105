"""The inline runner of time travel: scheduled runs execute in the thread that moves the clock.

Inside one clock move, the log capture and the environment routing stay installed, with one
environment overlay per function (its modules are its own anyway: emulator/execution/modules.py),
so a run pays for neither, whichever function ran before it. That
is what makes a year of minutely runs cost seconds rather than minutes. The price: an inline run
cannot be interrupted at its timeout; it is marked Timeout when it returns late, and a handler that
never returns blocks ``advance``. Use ``isolation="process"`` for hard kills, or the API's
``functions.call`` (threaded, with a real timeout) for handlers that may hang.
"""

from __future__ import annotations

import sys
import threading
import time
from contextlib import ExitStack
from typing import Any

from emulator.execution.capture import CAPTURE, CallLog
from emulator.execution.code import LoadedCode
from emulator.execution.environment import ROUTING, environment
from emulator.execution.outcomes import Outcome, failed_outcome, returned_outcome, timeout_outcome
from emulator.execution.workdir import DIRECTORIES
from emulator.state import FunctionRecord


class InlineBatch:
    """The log capture and the environment routing, kept open for one clock move, with one
    environment overlay per function (made on its first run in the move)."""

    def __init__(self) -> None:
        self._overlays: dict[int, dict[str, str]] = {}
        self._capture = ExitStack()
        self._capture.enter_context(CAPTURE.capture(CallLog(lambda: 0)))
        CAPTURE.sinks.pop(threading.get_ident(), None)  # only handler runs are captured
        self._capture.enter_context(environment({}))
        # What the clock's thread sees between runs (facade callbacks, the test's own code).
        self._between = ROUTING.fresh({})
        ROUTING.use(self._between)
        # The clock's thread gets its own working directory (workdir.py) on its first run; it moves
        # to a function's folder when the function changes, and back where it was when the move ends.
        self._folder: object = None
        self._home: str | None = None

    def enter(self, function: FunctionRecord) -> None:
        overlay = self._overlays.get(function.id)
        if overlay is None:
            overlay = self._overlays[function.id] = ROUTING.fresh(function.env_vars)
        ROUTING.use(overlay)
        root = function.code.root
        if root is not self._folder:
            if self._folder is None:
                self._home = DIRECTORIES.current()
            DIRECTORIES.enter(root)
            self._folder = root

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
        CAPTURE.enter_call(ident, log)
        streams = (sys.stdout, sys.stderr)
        started = time.monotonic()
        try:
            result = code.handle(**kwargs)
        except BaseException as exc:  # SystemExit and KeyboardInterrupt must not reach the test process
            return failed_outcome(exc, log.finish())
        finally:
            CAPTURE.check_streams(log, streams)
            CAPTURE.leave_call(ident)
            ROUTING.use(self._between)
        logs = log.finish()
        if time.monotonic() - started > timeout_seconds:
            return timeout_outcome(timeout_seconds, logs)
        return returned_outcome(result, logs, max_response_bytes)

    def close(self) -> None:
        if self._folder is not None:
            DIRECTORIES.restore(self._home)
        self._capture.close()
