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

import os
import sys
import threading
from collections.abc import Callable
from contextlib import ExitStack
from time import perf_counter
from typing import Any

from emulator.execution.capture import CAPTURE, MAX_LOG_LINES, CallLog
from emulator.execution.code import LoadedCode
from emulator.execution.data_copies import DataCopies
from emulator.execution.environment import ROUTING, environment
from emulator.execution.outcomes import Outcome, failed_outcome, returned_outcome, timeout_outcome
from emulator.execution.workdir import DIRECTORIES
from emulator.limits import Limits
from emulator.state import FunctionRecord


class InlineBatch:
    """The log capture and the environment routing, kept open for one clock move, with one
    environment overlay per function (made on its first run in the move). Used by the thread that
    made it (the one moving the clock).

    Per run it pays only for what the run needs: the function's overlay is switched in only when
    the function changes (between runs only the emulator's own code runs in this thread; ``between``
    puts the neutral overlay back when the batch hands control elsewhere), and a quiet run (it
    returned in time, whatever it returned, wrote no log line, started no thread) leaves its call
    entered in the log capture with its ``CallLog`` open and empty, for the next run: ``leave``
    ends it.
    """

    def __init__(self, now_ms: Callable[[], int], max_log_lines: int = MAX_LOG_LINES) -> None:
        self._now_ms = now_ms
        self._max_log_lines = max_log_lines
        self._ident = threading.get_ident()
        # Each function's (folder, environment overlay, folder descriptor), made on its first run.
        self._seats: dict[int, tuple[Any, dict[str, str], int]] = {}
        self._descriptors: list[int] = []
        self._overlays_by_thread = ROUTING.overlays
        self._function: FunctionRecord | None = None  # whose seat this thread is in
        self._quiet: dict[int, QuietRun] = {}  # each function's handler as last set up to run
        # The log of the call entered in the capture; not None exactly while a call is entered
        # (a quiet run leaves it so for the next run; ``leave`` ends it).
        self._spare_log: CallLog | None = None
        self.data = DataCopies()  # fresh copies of schedules' data for the runs of this move
        self._capture = ExitStack()
        self._capture.enter_context(CAPTURE.capture(CallLog(lambda: 0)))
        CAPTURE.sinks.pop(self._ident, None)  # only handler runs are captured
        # The process's variables as the move starts, the base of every overlay it makes.
        self._process = ROUTING.process_now()
        self._capture.enter_context(environment({}, self._process))
        # What the clock's thread sees between runs (facade callbacks, the test's own code).
        self._between = ROUTING.fresh({}, self._process)
        self._current: dict[str, str] | None = self._between
        ROUTING.use(self._between)
        # The clock's thread gets its own working directory (workdir.py) on its first run; it moves
        # to a function's folder when the function changes, and back where it was when the move ends.
        self._folder: object = None
        self._home: str | None = None
        self._detached = False
        self.wall_ms = 0.0  # what the last run took, real milliseconds

    def _seat_of(self, function: FunctionRecord) -> tuple[Any, dict[str, str], int]:
        seat = self._seats.get(function.id)
        if seat is None or seat[0] is not function.code.root:
            seat = self._seats[function.id] = self._seat(function)
        return seat

    def _move(self, root: Any, folder: int) -> None:
        """Move this thread to a function's folder (by descriptor, else by path), detaching its
        working directory from the process's on the first move (workdir.py)."""
        if self._folder is None:
            self._home = DIRECTORIES.current()
            self._detached = DIRECTORIES.detach()
        if self._detached:  # DIRECTORIES.enter, without its per-call checks (one thread)
            if folder >= 0:
                os.fchdir(folder)
            else:
                os.chdir(root)
        self._folder = root

    def _seat(self, function: FunctionRecord) -> tuple[Any, dict[str, str], int]:
        """A function's place in this move: its folder, its environment overlay, and a descriptor
        of the folder. A path lookup per switch costs more than the rest of a run; a descriptor,
        opened once per function in the move (a bounded number: each holds a file descriptor),
        makes the switch one fchdir (-1: by path)."""
        root = function.code.root
        overlay = ROUTING.fresh(function.env_vars, self._process)
        folder = -1
        if len(self._descriptors) < 64:
            try:
                folder = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
                self._descriptors.append(folder)
            except OSError:
                folder = -1
        return root, overlay, folder

    def quiet_run(self, function: FunctionRecord, timeout_seconds: float) -> QuietRun:
        """Set this thread up to run ``function``'s handler (its seat, a call entered in the log
        capture) and answer what a caller's loop needs to run it and tell a quiet run; valid until
        ``settle``, ``leave`` or ``between``, or another function's run."""
        log = self._spare_log
        if log is None:  # the previous run wrote lines or started threads: a new call log
            log = self._spare_log = CallLog(self._now_ms, self._max_log_lines)
            CAPTURE.enter_call(self._ident, log)
        # Kept per function (runs of many schedules alternate between functions): one lookup and
        # a few identity checks when nothing changed but the function.
        quiet = self._quiet.get(function.id)
        if (
            quiet is None
            or quiet.function is not function
            or quiet.log is not log
            or quiet.stdout is not sys.stdout
            or quiet.stderr is not sys.stderr
            or quiet.timeout_seconds != timeout_seconds
        ):
            quiet = self._quiet[function.id] = QuietRun(
                function,
                self._seat_of(function),
                log,
                CAPTURE.threads,
                sys.stdout,
                sys.stderr,
                timeout_seconds,
            )
        if function is not self._function:
            self.seat(quiet)
        return quiet

    def seat(self, quiet: QuietRun) -> None:
        """Put this thread in the seat of ``quiet``'s function: its environment overlay, its
        folder. What ``quiet_run`` does when only the function changed since it made ``quiet``
        (a caller that alternates between functions, their calls still quiet, keeps their QuietRun)."""
        root, overlay, folder = quiet.seat
        if overlay is not self._current:
            self._overlays_by_thread[self._ident] = overlay  # ROUTING.use, for this one thread
            self._current = overlay
        if root is not self._folder:
            if folder >= 0 and self._detached:  # the common switch: one fchdir
                os.fchdir(folder)
                self._folder = root
            else:
                self._move(root, folder)
        self._function = quiet.function

    def settle(
        self,
        quiet: QuietRun,
        result: Any,
        failure: BaseException | None,
        wall_ms: float,
        threads_before: int,
        limits: Limits,
    ) -> Outcome | None:
        """How a run made with ``quiet`` ended: None if it returned None quietly, else its outcome.
        A quiet run (no failure, in time, nothing written, no thread started) leaves its call
        entered for the next run; any other ends it. Invalidates ``quiet``."""
        log = quiet.log
        streams = (quiet.stdout, quiet.stderr)
        if sys.stdout is not streams[0] or sys.stderr is not streams[1]:
            CAPTURE.check_streams(log, streams)
        late = wall_ms > quiet.timeout_ms
        calm = failure is None and not late and quiet.threads.started == threads_before
        if calm and not log.written:  # quiet: its call stays entered, its log open and empty
            return None if result is None else returned_outcome(result, [], limits.response_bytes)
        # The call ends here: leaving detaches every thread this run started, so nothing of it
        # writes into the log once its lines are read.
        self._spare_log = None
        CAPTURE.leave_call(self._ident)
        logs = log.finish()
        if failure is not None:
            return failed_outcome(failure, logs)
        if late:
            return timeout_outcome(quiet.timeout_seconds, logs)
        return returned_outcome(result, logs, limits.response_bytes)

    def run(
        self, function: FunctionRecord, kwargs: dict[str, Any], timeout_seconds: float, limits: Limits
    ) -> Outcome | None:
        """Run one handler inline with the batch's context; never raises. ``None`` is the common
        case, spelled out so that it costs no objects: it returned None, in time, writing nothing.
        ``wall_ms`` is then what the run took (real milliseconds, the dashboard's wall time).
        The hot loop of time travel makes the same steps itself (``quiet_run``, the handler, the
        quiet test, ``settle``), without a call per run."""
        quiet = self.quiet_run(function, timeout_seconds)
        threads_before = quiet.threads.started
        started = perf_counter()
        failure: BaseException | None = None
        result = None
        try:
            result = quiet.handle(**kwargs)
        except BaseException as exc:  # SystemExit and KeyboardInterrupt must not reach the test process
            failure = exc
        # Unrounded: the dashboard rounds what it shows.
        self.wall_ms = wall_ms = (perf_counter() - started) * 1000
        return self.settle(quiet, result, failure, wall_ms, threads_before, limits)

    def leave(self) -> None:
        """End the call a quiet run kept entered: the emulator's own code runs next in this thread
        (a scheduled run outside the fast path), and what it writes is no handler's output."""
        if self._spare_log is not None:
            self._spare_log = None
            CAPTURE.leave_call(self._ident)

    def between(self) -> None:
        """Make this thread see the neutral overlay again, with no call entered (control leaves
        the batch's runs: what runs next in this thread is not a handler)."""
        self.leave()
        self._function = None
        if self._current is not self._between:
            ROUTING.use(self._between)
            self._current = self._between

    def close(self) -> None:
        self.between()
        if self._folder is not None:
            DIRECTORIES.restore(self._home)
        for folder in self._descriptors:
            os.close(folder)
        self._descriptors.clear()
        self._seats.clear()
        self._capture.close()


class QuietRun:
    """A function's handler set up to run inline (``InlineBatch.quiet_run``), with what tells a
    quiet run: one that returned (anything) within ``timeout_ms``, wrote nothing to ``log``,
    started no thread (``threads.started`` unchanged) and left ``sys.stdout``/``sys.stderr`` in
    place. Its call stays entered for the next run; any other run goes to ``InlineBatch.settle``."""

    __slots__ = (
        "function",
        "handle",
        "hot",
        "log",
        "seat",
        "stderr",
        "stdout",
        "threads",
        "timeout_ms",
        "timeout_seconds",
    )

    def __init__(
        self,
        function: FunctionRecord,
        seat: tuple[Any, dict[str, str], int],
        log: CallLog,
        threads: Any,
        stdout: Any,
        stderr: Any,
        timeout_seconds: float,
    ) -> None:
        self.function = function
        code: LoadedCode = function.code
        self.handle = code.handle
        self.log = log
        self.threads = threads
        self.stdout = stdout
        self.stderr = stderr
        self.timeout_seconds = timeout_seconds
        self.timeout_ms = timeout_seconds * 1000
        self.seat = seat  # the function's folder and environment in the batch (InlineBatch.quiet_run)
        # What a caller's loop keeps in locals while it runs this function, in one load.
        self.hot = (function, self.handle, log, threads, stdout, stderr, self.timeout_ms)
