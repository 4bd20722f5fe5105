"""Daemon worker threads for scheduled handlers under a wall or system clock.

A thread per run would cost a thread start each; a ``ThreadPoolExecutor``'s threads are joined at
interpreter exit, which a hung handler would block for ever. :class:`Workers` keeps one idle daemon
thread for reuse and starts another whenever the last one is still busy (a slow or hung handler),
so a hung handler holds its own thread and nothing else.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable

Job = Callable[[], None]


class _Worker:
    def __init__(self) -> None:
        self._jobs: queue.SimpleQueue[tuple[Job | None, threading.Event]] = queue.SimpleQueue()
        self.busy = False
        threading.Thread(target=self._loop, name="emulator-scheduled-calls", daemon=True).start()

    def _loop(self) -> None:
        while True:
            job, done = self._jobs.get()
            if job is None:
                return
            try:
                job()
            finally:
                self.busy = False
                done.set()

    def submit(self, job: Job | None) -> threading.Event:
        done = threading.Event()
        if job is not None:
            self.busy = True
        self._jobs.put((job, done))  # None: end the thread after the jobs before it
        return done


class Workers:
    """Runs jobs on daemon threads; :meth:`submit` never waits for a busy one."""

    def __init__(self) -> None:
        self._idle: _Worker | None = None
        self._lock = threading.Lock()

    def submit(self, job: Job) -> threading.Event:
        """Start ``job``; the returned event is set when it has returned (or raised)."""
        with self._lock:
            worker = self._idle
            if worker is None or worker.busy:
                if worker is not None:
                    worker.submit(None)  # retire it: its thread ends when its slow job does
                worker = self._idle = _Worker()
            return worker.submit(job)

    def stop(self) -> None:
        """End the idle thread (a busy one ends when its handler returns; it takes no new job)."""
        with self._lock:
            worker, self._idle = self._idle, None
        if worker is not None:
            worker.submit(None)
