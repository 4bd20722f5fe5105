"""One warm worker process of one function version: start it, run a call in it, kill it.

The worker (emulator/execution/worker_child.py) runs in a session and process group of its own, so
a kill at the timeout takes every process the handler started with it. The emulator's side never
trusts the worker: a frame that does not parse, a result for another call, bytes after the result,
a pipe closed or a process gone mid-call all end the call Failed and the worker killed (the next
call starts a new one). A call ends when its result frame arrives, never when the log pipe closes
(processes the handler started keep that pipe open).

A worker is not thread-safe: one call at a time (emulator/execution/process.py hands each worker to
one call at a time).
"""

from __future__ import annotations

import os
import select
import signal
import subprocess
import time
import weakref
from codecs import getincrementaldecoder
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from emulator.execution import worker_child
from emulator.execution.capture import CallLog
from emulator.execution.outcomes import Outcome, returned_outcome

CHILD_SCRIPT = str(Path(worker_child.__file__).resolve())
_READ = 1 << 16
_EXIT_GRACE_SECONDS = 0.5  # how long a worker that closed its pipe may take to exit before the kill


@dataclass(frozen=True)
class WorkerSpec:
    """What a worker runs: the interpreter, the function's folder and module, its limits."""

    python: str
    root: str
    module: str
    params: tuple[str, ...]
    memory_gb: float | None
    max_response_bytes: int

    @property
    def max_frame_bytes(self) -> int:
        # a response at the limit (the worker refuses larger ones), or an error message and trace
        # (each capped by the worker at 100,000 characters, up to 6 bytes each as JSON escapes)
        return 2 * self.max_response_bytes + (4 << 20)


class _Broken(Exception):
    """The worker broke the protocol or went away; ``message`` says how."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _kill(proc: subprocess.Popen[bytes], fds: list[int]) -> None:
    """Kill the worker's whole process group and close the emulator's ends of its pipes."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:  # pragma: no cover - SIGKILL does not wait for anything
        pass
    for fd in fds:
        try:
            os.close(fd)
        except OSError:
            pass
    fds.clear()


class Worker:
    """One worker process; started by the first call, dead after a kill, a crash or a broken frame."""

    def __init__(self, spec: WorkerSpec, env: dict[str, str]) -> None:
        self.spec = spec
        self.stopped_by: str | None = None  # why the emulator stopped it (delete, redeploy, close)
        request_r, self._request = os.pipe()
        self._result, result_w = os.pipe()
        self._output, output_w = os.pipe()
        try:
            self._proc = subprocess.Popen(
                [spec.python, CHILD_SCRIPT, str(request_r), str(result_w)],
                pass_fds=(request_r, result_w),
                stdin=subprocess.DEVNULL,
                stdout=output_w,
                stderr=output_w,
                cwd=spec.root,
                env=env,
                start_new_session=True,
            )
        finally:
            for fd in (request_r, result_w, output_w):
                os.close(fd)
        self._fds = [self._request, self._result, self._output]
        os.set_blocking(self._request, False)
        os.set_blocking(self._output, False)
        self._finalizer = weakref.finalize(self, _kill, self._proc, self._fds)  # atexit too
        self._ready = False
        self._calls = 0

    @property
    def pid(self) -> int:
        return self._proc.pid

    @property
    def alive(self) -> bool:
        return self._finalizer.alive

    def exited(self) -> bool:
        """True if the process is gone (a thread the handler left running ended it, say)."""
        return self._proc.poll() is not None

    def kill(self) -> None:
        """Kill the worker and everything it started, and close its pipes (idempotent). Only the
        thread that owns the worker (the one running its call, or any when it is idle) may."""
        self._finalizer()

    def interrupt(self, reason: str) -> None:
        """Kill the process group of a worker busy in another thread; that thread's call then ends
        Failed, saying ``reason``, and closes the pipes (closing them here could hand their numbers
        to another file while that thread still reads them)."""
        if self.stopped_by is None:
            self.stopped_by = reason
        try:
            os.killpg(self._proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass

    # --- one call --------------------------------------------------------------------------------

    def call(
        self, arguments: dict[str, Any], env: dict[str, str], client: dict[str, str] | None,
        timeout: float, log: CallLog,
    ) -> Outcome:  # fmt: skip
        """Run one call; never raises. The worker is dead afterwards unless the call ended in a
        result frame (Completed, or Failed by the handler)."""
        decoder = getincrementaldecoder("utf-8")("replace")
        try:
            return self._call(arguments, env, client, timeout, log, decoder)
        except OSError as exc:  # a pipe the emulator could not use: the worker is no use either
            self.kill()
            message = f"The function's worker process could not be reached: {exc}"
            return Outcome("Failed", error={"message": message, "trace": None}, logs=_finish(log, decoder))
        except Exception as exc:  # arguments that are not JSON (NaN), say: never a 500 or a lost slot
            self.kill()
            message = (
                f"The call could not be run in the function's worker process: {type(exc).__name__}: {exc}"
            )
            return Outcome("Failed", error={"message": message, "trace": None}, logs=_finish(log, decoder))

    def _call(
        self, arguments: dict[str, Any], env: dict[str, str], client: dict[str, str] | None,
        timeout: float, log: CallLog, decoder: Any,
    ) -> Outcome:  # fmt: skip
        deadline = time.monotonic() + timeout
        try:
            if not self._ready:
                self._send({"kind": "init", "root": self.spec.root, "module": self.spec.module,
                            "params": list(self.spec.params), "memory_gb": self.spec.memory_gb,
                            "max_response_bytes": self.spec.max_response_bytes}, deadline)  # fmt: skip
                ready = self._receive(deadline, log, decoder, None)
                if ready.get("error") is not None:
                    self.kill()
                    return Outcome("Failed", error=_error_of(ready["error"]), logs=_finish(log, decoder))
                self._ready = True
            else:
                self._drain(None, decoder)  # what processes left running wrote between calls
            self._calls += 1
            call_id = f"{self._proc.pid}-{self._calls}"
            self._send({"kind": "call", "call": call_id, "env": env, "arguments": arguments,
                        "client": client}, deadline)  # fmt: skip
            result = self._receive(deadline, log, decoder, call_id)
        except TimeoutError:
            self.kill()
            message = f"Function call timed out after {timeout:g} seconds (process killed, with every process it started)"
            return Outcome("Timeout", error={"message": message, "trace": None}, logs=_finish(log, decoder))
        except _Broken as exc:
            self.kill()
            return Outcome(
                "Failed", error={"message": exc.message, "trace": None}, logs=_finish(log, decoder)
            )
        logs = _finish(log, decoder)
        if result.get("status") == "Completed":
            return returned_outcome(result.get("response"), logs, self.spec.max_response_bytes)
        return Outcome("Failed", error=_error_of(result.get("error")), logs=logs)

    def _send(self, message: dict[str, Any], deadline: float) -> None:
        data = memoryview(worker_child.encode_frame(message))
        poller = select.poll()
        poller.register(self._request, select.POLLOUT)
        while data:
            try:
                data = data[os.write(self._request, data) :]
                continue
            except BlockingIOError:
                pass
            except OSError:  # BrokenPipeError: the worker is gone
                raise _Broken(self._gone()) from None
            if not poller.poll(_remaining_ms(deadline)) and time.monotonic() >= deadline:
                raise TimeoutError

    def _receive(self, deadline: float, log: CallLog, decoder: Any, call_id: str | None) -> dict[str, Any]:
        """Read the log and the one frame the worker answers, until ``deadline``."""
        buffer = bytearray()
        poller = select.poll()
        poller.register(self._result, select.POLLIN)
        poller.register(self._output, select.POLLIN)
        output_open = True
        while True:
            events = poller.poll(_remaining_ms(deadline))
            if not events and time.monotonic() >= deadline:
                raise TimeoutError
            for fd, _ in events:
                if fd == self._output:
                    if not self._drain(log, decoder):
                        poller.unregister(self._output)  # every writer closed it
                        output_open = False
                    continue
                chunk = os.read(self._result, _READ)
                if not chunk:
                    if output_open:
                        self._drain(log, decoder)
                    raise _Broken(self._gone())
                buffer += chunk
                frame = self._frame(buffer, call_id)
                if frame is not None:
                    self._drain(log, decoder)
                    return frame

    def _frame(self, buffer: bytearray, call_id: str | None) -> dict[str, Any] | None:
        header = worker_child.HEADER.size
        if len(buffer) < header:
            return None
        (size,) = worker_child.HEADER.unpack_from(buffer)
        if size > self.spec.max_frame_bytes:
            raise _Broken(
                _protocol(f"a frame of {size} bytes announced (the limit is {self.spec.max_frame_bytes})")
            )
        if len(buffer) < header + size:
            return None
        if len(buffer) > header + size:
            raise _Broken(_protocol("more bytes after its answer"))
        try:
            frame = worker_child.decode_body(bytes(buffer[header:]))
        except worker_child.FrameError as exc:
            raise _Broken(_protocol(f"a frame that is {exc}")) from None
        expected = "ready" if call_id is None else "result"
        if frame["kind"] != expected or (call_id is not None and frame.get("call") != call_id):
            raise _Broken(
                _protocol(f"a {frame['kind']!r} frame where a {expected!r} frame for this call was due")
            )
        return frame

    def _drain(self, log: CallLog | None, decoder: Any) -> bool:
        """Read what the log pipe holds now into ``log`` (None: discard); False once it is closed."""
        while True:
            try:
                chunk = os.read(self._output, _READ)
            except BlockingIOError:
                return True
            except OSError:
                return False
            if not chunk:
                return False
            if log is not None:
                log.write(decoder.decode(chunk))

    def _gone(self) -> str:
        if self.stopped_by is not None:
            return f"The function's worker process was stopped: {self.stopped_by}"
        try:
            code = self._proc.wait(timeout=_EXIT_GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            return "The function's worker process closed its result pipe during the call (it was killed)"
        if code < 0:
            try:
                how = f"was killed by signal {signal.Signals(-code).name}"
            except ValueError:
                how = f"was killed by signal {-code}"
        else:
            how = f"exited with code {code}"
        message = f"The function's worker process {how} during the call"
        if self.spec.memory_gb is not None and code in (-signal.SIGKILL, -signal.SIGSEGV, -signal.SIGABRT):
            message += (
                f"; a process killed or aborted like this has often run out of memory "
                f"(the function's memory is {self.spec.memory_gb:g} GB)"
            )
        return message


def _protocol(what: str) -> str:
    return (
        f"The function's worker process broke the emulator's protocol: {what}. Something in the call "
        "wrote to the worker's result pipe; the worker was stopped and the next call starts a new one"
    )


def _error_of(error: Any) -> dict[str, Any]:
    if isinstance(error, dict) and isinstance(error.get("message"), str):
        trace = error.get("trace")
        return {"message": error["message"], "trace": trace if isinstance(trace, str) else None}
    return {"message": _protocol("a result without an error message"), "trace": None}


def _finish(log: CallLog, decoder: Any) -> list[tuple[int, str]]:
    log.write(decoder.decode(b"", final=True))
    return log.finish()


def _remaining_ms(deadline: float) -> int:
    return max(0, int((deadline - time.monotonic()) * 1000) + 1)
