"""The pooled-thread runner: a handler runs on a reused daemon worker thread.

The caller waits with the call's timeout (emulator/execution/pipeline.py). A handler that outlives
its timeout cannot be killed inside this process: the call is recorded as Timeout, its worker thread
is left to finish in the background (a daemon thread: it never blocks interpreter exit) and whatever
it does later is discarded. Use ``isolation="process"`` for hard kills.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

from emulator.execution.capture import CAPTURE, CallLog
from emulator.execution.code import LoadedCode
from emulator.execution.environment import environment
from emulator.execution.outcomes import Outcome, failed_outcome, returned_outcome
from emulator.execution.workdir import DIRECTORIES


class DaemonPool:
    """Daemon worker threads, reused across calls; a new one starts only when none is idle.

    One pool serves every emulator in the process (``WORKERS``): it holds no emulator state, only
    idle threads, and one pool per emulator would leave idle threads behind every test.
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


WORKERS = DaemonPool()


def run_handle(
    code: LoadedCode,
    kwargs: dict[str, Any],
    env_vars: dict[str, str],
    log: CallLog,
    max_response_bytes: int,
) -> Outcome:
    """Run ``handle(**kwargs)`` in the current thread, captured, in its env and its function's
    folder; never raises."""
    try:
        with CAPTURE.capture(log), environment(env_vars), DIRECTORIES.inside(code.root):
            result = code.handle(**kwargs)
    except BaseException as exc:  # KeyboardInterrupt and SystemExit must not reach the test process
        return failed_outcome(exc, log.finish())
    return returned_outcome(result, log.finish(), max_response_bytes)
