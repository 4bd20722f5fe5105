"""``isolation="process"``: calls run in warm worker processes, a small pool per function version.

What it buys over the default threads: a real kill at the timeout (of the worker's whole process
group), the function's ``memory`` enforced, a separate ``os.environ``, working directory and
``sys.modules``, and no way for a handler to disturb the test process. Arguments and the response
must be JSON. The handler's ``client`` talks to the emulator over HTTP (the emulator's loopback
server).

As in CDF, one instance runs one call at a time and stays warm for the next: the first call of a
function version starts a worker (the interpreter, cognite-sdk when ``handle`` takes a ``client``,
the function's module), later calls reuse it, and a call that arrives while every worker of the
version is busy starts another (the emulator's per-function concurrency limit bounds how many).
Up to ``MAX_IDLE`` workers per version stay warm. A worker that crashed, timed out or broke the
protocol is killed; the next call starts a fresh one. Deleting or redeploying the function, or
resetting or closing the emulator, stops its workers; so does the end of the interpreter.
"""

from __future__ import annotations

import sys
import threading
from dataclasses import dataclass
from typing import Any

from emulator.execution.capture import CallLog
from emulator.execution.code import LoadedCode
from emulator.execution.environment import ROUTING
from emulator.execution.outcomes import Outcome
from emulator.execution.worker import Worker, WorkerSpec

MAX_IDLE = 4
STOPPED = "the function was deleted or redeployed, or the emulator was reset or closed"
DEFAULT_TOKEN = "emulator-token"


@dataclass(frozen=True)
class HandlerAccess:
    """How the worker builds the handler's ``client``: the project, the emulator's URL, a token."""

    project: str
    base_url: str
    token: str = DEFAULT_TOKEN

    def as_json(self) -> dict[str, str]:
        return {"project": self.project, "base_url": self.base_url, "token": self.token}


class WorkerPool:
    """The warm workers of one function version; each runs one call at a time."""

    def __init__(self, spec: WorkerSpec) -> None:
        self.spec = spec
        self._lock = threading.Lock()
        self._idle: list[Worker] = []
        self._busy: set[Worker] = set()
        self._closed = False

    def run(
        self, arguments: dict[str, Any], env: dict[str, str], client: HandlerAccess | None,
        timeout: float, log: CallLog,
    ) -> Outcome:  # fmt: skip
        """Run one call on an idle worker, or a new one; never raises."""
        try:
            worker = self._take(env)
        except OSError as exc:  # the interpreter could not be started
            message = f"Could not start the function's worker process ({self.spec.python}): {exc}"
            return Outcome("Failed", error={"message": message, "trace": None}, logs=log.finish())
        try:
            return worker.call(arguments, env, client.as_json() if client else None, timeout, log)
        finally:
            self._give_back(worker)

    def _take(self, env: dict[str, str]) -> Worker:
        with self._lock:
            while self._idle:
                worker = self._idle.pop()
                if worker.exited():  # ended between calls (a thread the handler left behind)
                    worker.kill()
                    continue
                self._busy.add(worker)
                return worker
        worker = Worker(self.spec, env)
        with self._lock:
            self._busy.add(worker)
        return worker

    def _give_back(self, worker: Worker) -> None:
        with self._lock:
            self._busy.discard(worker)
            keep = worker.alive and not self._closed and len(self._idle) < MAX_IDLE
            if keep:
                self._idle.append(worker)
        if not keep:
            worker.kill()

    def pids(self) -> list[int]:
        """The process ids of the live workers (idle and busy)."""
        with self._lock:
            return [w.pid for w in [*self._idle, *self._busy] if w.alive]

    def close(self, reason: str = STOPPED) -> None:
        """Stop every worker: idle ones at once, busy ones by killing their process group (their
        calls end Failed, saying ``reason``)."""
        with self._lock:
            self._closed = True
            idle, busy = self._idle, list(self._busy)
            self._idle = []
        for worker in idle:
            worker.kill()
        for worker in busy:
            worker.interrupt(reason)


def pool_of(code: LoadedCode, spec: WorkerSpec) -> WorkerPool:
    """The worker pool of a function version, made on its first call (kept on its code, so that
    ``code.release()`` stops it)."""
    with code.lock:
        pool = code.workers
        if not isinstance(pool, WorkerPool):
            pool = WorkerPool(spec)
            if code.released:  # a call that raced a delete: its worker stops when it ends
                pool.close()
            else:
                code.workers = pool
        return pool


def run_in_worker(
    code: LoadedCode,
    arguments: dict[str, Any],
    env_vars: dict[str, str],
    *,
    client: HandlerAccess | None,
    timeout: float,
    log: CallLog,
    memory_gb: float | None,
    max_response_bytes: int,
    python: str = sys.executable,
) -> Outcome:
    """Run one call in a warm worker of ``code``; never raises.

    ``arguments`` are the JSON arguments ``handle`` declares (not ``client``: the worker builds it
    from ``client``); the call's environment is the emulator process's variables plus
    ``env_vars``; ``python`` is the interpreter the worker runs on.
    """
    spec = WorkerSpec(
        python=python,
        root=str(code.root),
        module=code.module_name,
        params=tuple(code.params),
        memory_gb=memory_gb,
        max_response_bytes=max_response_bytes,
    )
    kwargs = {k: v for k, v in arguments.items() if k != "client"}
    return pool_of(code, spec).run(kwargs, ROUTING.fresh(env_vars), client, timeout, log)
