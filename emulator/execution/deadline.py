"""The runner of scheduled runs under a wall or system clock: a hung handler is given up on time.

Real time passes while a handler runs, so the thread that fires schedules (the server's ticker, or a
test's ``advance``) must not wait for a handler that hangs: the other schedules would fire late,
and the hung run would stay Running past its timeout. So the handler runs on a pooled daemon worker
(emulator/execution/pool.py), with the clock pinned to its scheduled instant in that thread:

- done within ``inline_seconds`` (``Settings.inline_seconds``, 1 s by default): its outcome, as if
  it had run inline;
- otherwise the firing thread goes on with the other schedules, and a watcher thread closes the
  record when the handler returns, or as Timeout at the timeout. A hung handler's thread is
  abandoned (a daemon thread: it never blocks interpreter exit); what it does later is discarded.

Virtual-clock time travel keeps the inline runner (emulator/execution/inline.py): no real time
passes there that other schedules could miss.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

from emulator.clock import Clock
from emulator.execution.capture import CallLog
from emulator.execution.outcomes import Outcome, timeout_outcome
from emulator.execution.pool import WORKERS, run_handle
from emulator.state import FunctionRecord


def run_with_deadline(
    clock: Clock,
    function: FunctionRecord,
    kwargs: dict[str, Any],
    log: CallLog,
    due_ms: int,
    *,
    timeout_seconds: float,
    inline_seconds: float,
    max_response_bytes: int,
    finish_later: Callable[[Outcome], None],
) -> Outcome | None:
    """The run's outcome, or None when it goes on in the background: then ``finish_later(outcome)``
    is called once, from a watcher thread, when it returns or times out."""

    def job() -> Outcome:
        clock.pin_thread(due_ms)
        try:
            return run_handle(function.code, kwargs, function.env_vars, log, max_response_bytes)
        finally:
            clock.unpin_thread()

    future = WORKERS.submit(job)
    inline = min(inline_seconds, timeout_seconds)
    try:
        outcome: Outcome = future.result(timeout=inline)
        return outcome
    except FutureTimeout:
        pass
    if inline >= timeout_seconds:
        return _timed_out(timeout_seconds, log)

    def watch() -> None:
        try:
            late: Outcome = future.result(timeout=timeout_seconds - inline)
        except FutureTimeout:
            late = _timed_out(timeout_seconds, log)
        finish_later(late)

    threading.Thread(target=watch, name="emulator-scheduled-watch", daemon=True).start()
    return None


def _timed_out(timeout_seconds: float, log: CallLog) -> Outcome:
    # A copy of the lines so far: the abandoned handler may go on writing to its log.
    return timeout_outcome(timeout_seconds, list(log.finish()))
