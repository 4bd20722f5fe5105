"""The worker process of ``isolation="process"``, and the frames it speaks (standard library only).

The emulator runs this file as a script (``python worker_child.py REQUEST_FD RESULT_FD``) in the
function's interpreter, which may not have the emulator installed: so it imports nothing but the
standard library (and cognite-sdk, for the handler's ``client``). The emulator's side
(emulator/execution/worker.py) imports the frame helpers from here, so both sides share one codec.

The protocol: length-prefixed frames (a 4-byte big-endian length, then that many bytes of UTF-8
JSON holding one object) on two pipes of their own, never on stdout or stderr:

- emulator -> worker, on REQUEST_FD: ``init`` (the function's folder, module, parameters, memory),
  then one ``call`` frame per call (its id, env vars, arguments, how to build the client);
- worker -> emulator, on RESULT_FD: ``ready`` after init (or the import error), then one ``result``
  frame per call.

Everything a call writes (print, sys.stdout/sys.stderr, logging, warnings, a C extension or a
child process writing to fd 1 or 2) goes to the worker's stdout and stderr, one pipe that the
emulator reads as the call's log. Both protocol fds are closed on exec, so processes the handler
starts cannot write frames.
"""

from __future__ import annotations

import os
import sys

# Run as a script, this file's folder (emulator/execution) would come first on sys.path, and its
# modules (code.py, pool.py, ...) would shadow the standard library's for the handler.
if sys.path and os.path.abspath(sys.path[0] or ".") == os.path.dirname(os.path.abspath(__file__)):
    del sys.path[0]

import importlib
import json
import logging
import struct
import threading
import time
import traceback
from typing import Any

HEADER = struct.Struct(">I")
MAX_TEXT = 100_000  # characters kept of an error message or trace


class FrameError(Exception):
    """A frame that is not one UTF-8 JSON object (the other side is not speaking the protocol)."""


def encode_frame(message: dict[str, Any]) -> bytes:
    """One frame: the length, then the UTF-8 JSON of ``message`` (NaN and Infinity refused)."""
    body = json.dumps(message, allow_nan=False, separators=(",", ":")).encode("utf-8")
    return HEADER.pack(len(body)) + body


def _no_constant(name: str) -> Any:
    raise FrameError(f"{name} is not JSON")


def decode_body(body: bytes) -> dict[str, Any]:
    """The object in a frame's body; FrameError if it is not UTF-8 JSON holding an object."""
    try:
        value = json.loads(body.decode("utf-8"), parse_constant=_no_constant)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise FrameError(f"not UTF-8 JSON ({exc})") from None
    if not isinstance(value, dict) or not isinstance(value.get("kind"), str):
        raise FrameError("not a JSON object with a 'kind'")
    return value


# --- the worker --------------------------------------------------------------------------------------


def _read_exact(fd: int, size: int) -> bytes | None:
    chunks, left = [], size
    while left:
        chunk = os.read(fd, left)
        if not chunk:
            return None
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _read_frame(fd: int) -> dict[str, Any] | None:
    header = _read_exact(fd, HEADER.size)
    if header is None:
        return None
    body = _read_exact(fd, HEADER.unpack(header)[0])
    return decode_body(body) if body is not None else None


def _write(fd: int, message: dict[str, Any]) -> None:
    data = encode_frame(message)
    while data:
        data = data[os.write(fd, data) :]


def _user_trace(exc: BaseException) -> str:
    here = os.path.abspath(__file__)
    machinery = os.path.dirname(os.path.abspath(importlib.__file__)) + os.sep
    frames = [
        f
        for f in traceback.extract_tb(exc.__traceback__)
        if os.path.abspath(f.filename) != here
        and not f.filename.startswith("<frozen ")
        and not os.path.abspath(f.filename).startswith(machinery)
    ]
    head = "Traceback (most recent call last):\n" if frames else ""
    text = head + "".join(traceback.format_list(frames))
    return (text + "".join(traceback.format_exception_only(type(exc), exc)))[-MAX_TEXT:]


def _error(exc: BaseException, memory_gb: float | None) -> dict[str, Any]:
    if isinstance(exc, SystemExit):
        message = f"Function called sys.exit({exc.code!r})"
    else:
        try:
            message = f"{type(exc).__name__}: {exc}"
        except Exception:  # a hostile __str__
            message = type(exc).__name__
    if isinstance(exc, MemoryError) and memory_gb is not None:
        message += f" (the function ran out of its memory: memory={memory_gb:g} GB)"
    return {"message": message[:MAX_TEXT], "trace": _user_trace(exc)}


def _apply_memory_limit(memory_gb: float | None) -> None:
    """Give the handler ``memory`` GB of data segment on top of what the worker uses now."""
    if memory_gb is None:
        return
    try:
        import resource

        with open("/proc/self/status") as status:
            used = next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmData:"))
        limit = used + int(memory_gb * 1024**3)
        resource.setrlimit(resource.RLIMIT_DATA, (limit, limit))
    except (ImportError, OSError, StopIteration, ValueError):
        pass  # not Linux: no limit (docs/calls.md)


def _watch_parent() -> None:
    """End the worker (and every process it started) when the emulator's process is gone."""
    parent = os.getppid()
    while True:
        time.sleep(0.5)
        if os.getppid() != parent:
            os.killpg(0, 9)


class _Worker:
    def __init__(self, init: dict[str, Any]) -> None:
        self.root: str = init["root"]
        self.params: list[str] = list(init["params"])
        self.memory_gb: float | None = init.get("memory_gb")
        self.clients: dict[tuple[str, str, str], Any] = {}
        self.module: Any = None

    def start(self, module_name: str) -> dict[str, Any]:
        sys.path.insert(0, self.root)
        os.chdir(self.root)
        if "client" in self.params:
            try:  # before the memory limit: the SDK is the runtime's, not the handler's
                import cognite.client  # noqa: F401
            except BaseException:
                pass  # reported when a call builds its client
        _apply_memory_limit(self.memory_gb)
        try:
            self.module = importlib.import_module(module_name)
        except BaseException as exc:
            error = _error(exc, self.memory_gb)
            error["message"] = f"Failed to import {module_name}: {error['message']}"
            return {"kind": "ready", "error": error}
        return {"kind": "ready", "error": None}

    def client(self, spec: dict[str, str]) -> Any:
        key = (spec["project"], spec["base_url"], spec["token"])
        found = self.clients.get(key)
        if found is None:
            from cognite.client import ClientConfig, CogniteClient, global_config
            from cognite.client.credentials import Token

            global_config.disable_pypi_version_check = True
            config = ClientConfig(
                client_name="emulator-call",
                project=spec["project"],
                credentials=Token(spec["token"]),
                base_url=spec["base_url"],
            )
            found = self.clients[key] = CogniteClient(config)
        return found

    def call(self, request: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": "result", "call": request["call"], "status": "Failed", "error": None}
        os.environ.clear()
        os.environ.update(request["env"])
        try:
            os.chdir(self.root)
        except OSError:
            pass
        kwargs = dict(request["arguments"])
        if request.get("client") is not None:
            try:
                kwargs["client"] = self.client(request["client"])
            except BaseException as exc:
                error = _error(exc, self.memory_gb)
                error["message"] = f"Could not build the handler's client: {error['message']}"
                out["error"] = error
                return out
        try:
            result = self.module.handle(**kwargs)
        except BaseException as exc:  # SystemExit and KeyboardInterrupt end the call, not the worker
            out["error"] = _error(exc, self.memory_gb)
            return out
        out["status"], out["response"] = "Completed", result
        return out


def _encoded(answer: dict[str, Any], max_response_bytes: int) -> bytes:
    """The answer's frame; Failed instead if the response is not JSON or is over the limit (so an
    honest response never makes a frame the emulator refuses as too large)."""
    try:
        data = encode_frame(answer)
    except (TypeError, ValueError, RecursionError) as exc:  # the handler's response is not JSON
        return _failed(answer, f"Function response is not JSON serializable: {exc}")
    if len(data) > max_response_bytes + 4 * MAX_TEXT:
        size = len(json.dumps(answer.get("response")).encode())
        if size > max_response_bytes:
            limit_mb = max_response_bytes / (1024 * 1024)
            return _failed(answer, f"Function response is {size} bytes, over the limit of {limit_mb:g} MB")
    return data


def _failed(answer: dict[str, Any], message: str) -> bytes:
    failed = {**answer, "status": "Failed", "response": None}
    failed["error"] = {"message": message, "trace": None}
    return encode_frame(failed)


def _flush() -> None:
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BaseException:
            pass


def main(argv: list[str]) -> int:
    request_fd, result_fd = int(argv[1]), int(argv[2])
    os.set_inheritable(request_fd, False)
    os.set_inheritable(result_fd, False)
    sys.stdin = open(os.devnull)  # noqa: SIM115 - the process's whole life
    for stream in (sys.stdout, sys.stderr):
        stream.reconfigure(line_buffering=True, errors="backslashreplace")  # type: ignore[union-attr]
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s:%(name)s:%(message)s"))
    logging.getLogger().addHandler(handler)
    threading.Thread(target=_watch_parent, name="parent-watch", daemon=True).start()
    init = _read_frame(request_fd)
    if init is None or init["kind"] != "init":
        return 2
    worker = _Worker(init)
    ready = worker.start(init["module"])
    _flush()
    _write(result_fd, ready)
    if ready["error"] is not None:
        return 1
    while True:
        request = _read_frame(request_fd)
        if request is None or request["kind"] != "call":  # the emulator is gone, or done with us
            _flush()
            os.killpg(0, 9)  # with every process the handler left running
            return 0
        try:
            answer = _encoded(worker.call(request), int(init["max_response_bytes"]))
        finally:
            _flush()
        while answer:
            answer = answer[os.write(result_fd, answer) :]


if __name__ == "__main__":
    sys.exit(main(sys.argv))
