"""Loading a function's zip and running its ``handle()`` in this process.

Deployment unpacks the zip safely (no absolute or ``..`` paths, a size cap), imports ``functionPath``
with the zip root on ``sys.path`` and checks that ``handle`` is callable with only the arguments CDF
passes. The modules the function loads from its own folder are kept private to it: they are swapped
into ``sys.modules`` only while its code runs, so two functions with a ``handler.py`` and a
``helper.py`` each run their own code, and a redeploy runs the new code.

Running a call captures what the handler prints (stdout, stderr and logging) line by line, applies
the function's env vars for the duration of the call, and turns every outcome into a status:
Completed, Failed (exception, bad return value, ``sys.exit``) or Timeout.
"""

from __future__ import annotations

import inspect
import io
import json
import logging
import os
import stat
import sys
import threading
import traceback
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from types import ModuleType
from typing import Any

ALLOWED_HANDLE_ARGS = ("client", "data", "secrets", "function_call_info")
MAX_UNPACKED_BYTES = 500 * 1024 * 1024
MAX_ZIP_ENTRIES = 20_000
MAX_LOG_LINES = 10_000
MAX_LOG_LINE_CHARS = 10_000

# sys.modules, sys.path and os.environ are process-wide: swaps of them are serialised here.
_PROCESS_LOCK = threading.RLock()


class DeployError(Exception):
    """A deployment failure, recorded on the function as ``error: {message, trace}``."""

    def __init__(self, message: str, trace: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.trace = trace

    def as_error(self) -> dict[str, Any]:
        return {"message": self.message, "trace": self.trace}


@dataclass
class LoadedCode:
    root: Path
    module_name: str
    handle: Callable[..., Any]
    params: tuple[str, ...]
    private_modules: dict[str, ModuleType] = field(default_factory=dict)
    top_names: frozenset[str] = frozenset()


# --- unpacking --------------------------------------------------------------------------------------


def unpack_zip(data: bytes, dest: Path, *, max_bytes: int = MAX_UNPACKED_BYTES) -> None:
    """Extract ``data`` into ``dest``, refusing anything that could write outside it."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise DeployError("The function file is not a zip archive") from None
    with archive:
        infos = archive.infolist()
        if len(infos) > MAX_ZIP_ENTRIES:
            raise DeployError(f"The zip has {len(infos)} entries; the limit is {MAX_ZIP_ENTRIES}")
        total = sum(max(info.file_size, 0) for info in infos)
        if total > max_bytes:
            raise DeployError(f"The zip unpacks to {total} bytes; the limit is {max_bytes}")
        dest_resolved = dest.resolve()
        for info in infos:
            name = info.filename.replace("\\", "/")
            pure = PurePosixPath(name)
            if name.startswith("/") or (len(name) > 1 and name[1] == ":") or ".." in pure.parts:
                raise DeployError(f"Unsafe path in zip: {info.filename!r}")
            if stat.S_ISLNK(info.external_attr >> 16):
                raise DeployError(f"Symbolic links are not allowed in the zip: {info.filename!r}")
            target = (dest / pure).resolve()
            if target != dest_resolved and dest_resolved not in target.parents:
                raise DeployError(f"Unsafe path in zip: {info.filename!r}")
        written = 0
        for info in infos:
            target = dest / PurePosixPath(info.filename.replace("\\", "/"))
            if info.is_dir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            with archive.open(info) as src, open(target, "wb") as out:
                while chunk := src.read(1 << 16):
                    written += len(chunk)
                    if written > max_bytes:  # the header lied about sizes
                        raise DeployError(f"The zip unpacks to more than {max_bytes} bytes")
                    out.write(chunk)


# --- private module namespaces ---------------------------------------------------------------------


def _top_level_names(root: Path) -> frozenset[str]:
    names = set()
    for entry in root.iterdir():
        if entry.is_dir() and entry.name.isidentifier():
            names.add(entry.name)
        elif entry.suffix in (".py", ".pyc", ".so") and entry.stem.split(".")[0].isidentifier():
            names.add(entry.stem.split(".")[0])
    return frozenset(names)


def _owned(name: str, names: frozenset[str]) -> bool:
    return name.split(".", 1)[0] in names


def _is_under(module: ModuleType, root: Path) -> bool:
    file = getattr(module, "__file__", None)
    if file:
        return str(Path(file).resolve()).startswith(str(root))
    paths = getattr(module, "__path__", None)
    return bool(paths) and any(str(Path(p).resolve()).startswith(str(root)) for p in paths)


@contextmanager
def code_context(code: LoadedCode) -> Iterator[None]:
    """Swap the function's own modules and folder into sys.modules / sys.path while it runs."""
    root = str(code.root)
    with _PROCESS_LOCK:
        shadowed = {n: m for n, m in sys.modules.items() if _owned(n, code.top_names)}
        for name in shadowed:
            del sys.modules[name]
        sys.modules.update(code.private_modules)
        sys.path.insert(0, root)
    try:
        yield
    finally:
        with _PROCESS_LOCK:
            for name, module in list(sys.modules.items()):
                if _owned(name, code.top_names) and _is_under(module, code.root):
                    code.private_modules[name] = module  # keep lazy imports for the next call
                    del sys.modules[name]
            for name, module in shadowed.items():
                sys.modules.setdefault(name, module)
            try:
                sys.path.remove(root)
            except ValueError:
                pass


def load_code(root: Path, function_path: str) -> LoadedCode:
    """Import ``function_path`` from an unpacked function folder and check its ``handle``."""
    root = root.resolve()
    rel = PurePosixPath(function_path)
    if rel.is_absolute() or ".." in rel.parts or rel.suffix != ".py":
        raise DeployError(f"functionPath must be a relative path to a .py file, got {function_path!r}")
    if not (root / rel).is_file():
        raise DeployError(f"No file at functionPath {function_path!r} in the function's zip")
    module_name = ".".join(rel.with_suffix("").parts)
    if not all(part.isidentifier() for part in rel.with_suffix("").parts):
        raise DeployError(f"functionPath {function_path!r} is not importable as a Python module")
    code = LoadedCode(root, module_name, handle=lambda: None, params=(), top_names=_top_level_names(root))
    with code_context(code):
        try:
            module = _import_fresh(module_name)
        except BaseException as exc:  # user code: SyntaxError, ImportError, SystemExit, ...
            raise DeployError(
                f"Failed to import {function_path}: {type(exc).__name__}: {exc}", _user_trace(exc)
            ) from None
    handle = getattr(module, "handle", None)
    if handle is None:
        raise DeployError(f"{function_path} must define a function named 'handle'")
    if not callable(handle):
        raise DeployError(f"'handle' in {function_path} is not callable")
    try:
        parameters = inspect.signature(handle).parameters
    except (TypeError, ValueError):
        raise DeployError(f"Cannot read the signature of 'handle' in {function_path}") from None
    names = tuple(parameters)
    unknown = [n for n in names if n not in ALLOWED_HANDLE_ARGS]
    if unknown:
        raise DeployError(
            f"handle() has argument(s) {', '.join(unknown)}; allowed arguments are "
            f"{', '.join(ALLOWED_HANDLE_ARGS)}"
        )
    code.handle, code.params = handle, names
    return code


def _import_fresh(module_name: str) -> ModuleType:
    import importlib

    importlib.invalidate_caches()
    return importlib.import_module(module_name)


def _user_trace(exc: BaseException) -> str:
    """The traceback from the first frame of user code (emulator frames dropped)."""
    tb = exc.__traceback__
    here = os.path.dirname(os.path.abspath(__file__))
    while tb is not None and os.path.abspath(tb.tb_frame.f_code.co_filename).startswith(here):
        tb = tb.tb_next
    return "".join(traceback.format_exception(type(exc), exc, tb))


# --- log capture ------------------------------------------------------------------------------------


class CallLog:
    """Lines written by one call, each stamped with the emulator time when it started."""

    def __init__(self, now_ms: Callable[[], int], max_lines: int = MAX_LOG_LINES) -> None:
        self._now_ms = now_ms
        self._max_lines = max_lines
        self.lines: list[tuple[int, str]] = []
        self.dropped = 0
        self._partial = ""
        self._partial_ts = 0

    def write(self, text: str) -> None:
        if not text:
            return
        if not self._partial:
            self._partial_ts = self._now_ms()
        self._partial += text
        if "\n" in self._partial:
            *complete, self._partial = self._partial.split("\n")
            for line in complete:
                self._add(self._partial_ts, line)
                self._partial_ts = self._now_ms()

    def _add(self, ts: int, line: str) -> None:
        if len(self.lines) >= self._max_lines:
            self.dropped += 1
            return
        self.lines.append((ts, line[:MAX_LOG_LINE_CHARS]))

    def finish(self) -> list[tuple[int, str]]:
        if self._partial:
            self._add(self._partial_ts, self._partial)
            self._partial = ""
        if self.dropped:
            self.lines.append(
                (
                    self._now_ms(),
                    f"[emulator] log truncated: {self.dropped} more line(s) over the "
                    f"limit of {self._max_lines} were dropped",
                )
            )
            self.dropped = 0
        return self.lines


class _ThreadRoutedStream(io.TextIOBase):
    """Stands in for sys.stdout/sys.stderr: writes from a call's thread go to its CallLog."""

    def __init__(self, fallback: Any, sinks: dict[int, CallLog]) -> None:
        self._fallback = fallback
        self._sinks = sinks

    def write(self, text: str) -> int:
        sink = self._sinks.get(threading.get_ident())
        if sink is not None:
            sink.write(str(text))
            return len(text)
        return self._fallback.write(text)  # type: ignore[no-any-return]

    def flush(self) -> None:
        if threading.get_ident() not in self._sinks:
            self._fallback.flush()

    def writable(self) -> bool:
        return True

    def isatty(self) -> bool:
        return False

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return getattr(self._fallback, "encoding", "utf-8")


class _CallLogHandler(logging.Handler):
    """Captures logging records emitted in a call's thread when no handler prints them already."""

    def __init__(self, sinks: dict[int, CallLog]) -> None:
        super().__init__(logging.NOTSET)
        self._sinks = sinks
        self.setFormatter(logging.Formatter("%(levelname)s:%(name)s:%(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        sink = self._sinks.get(record.thread or 0)
        if sink is None:
            return
        for handler in logging.getLogger().handlers:
            if isinstance(handler, logging.StreamHandler) and isinstance(handler.stream, _ThreadRoutedStream):
                return  # the user's own StreamHandler already writes it into the log
        try:
            sink.write(self.format(record) + "\n")
        except Exception:
            self.handleError(record)


class _Capture:
    """Routes sys.stdout/sys.stderr through thread-aware proxies while at least one call runs.

    Each call re-installs the proxies if something (pytest's capture, between tests) replaced them
    while an abandoned call kept the count above zero; the last call out restores what it wrapped.
    """

    def __init__(self) -> None:
        self.sinks: dict[int, CallLog] = {}
        self._active = 0
        self._log_handler = _CallLogHandler(self.sinks)

    @contextmanager
    def capture(self, log: CallLog) -> Iterator[None]:
        ident = threading.get_ident()
        with _PROCESS_LOCK:
            if not isinstance(sys.stdout, _ThreadRoutedStream):
                sys.stdout = _ThreadRoutedStream(sys.stdout, self.sinks)
            if not isinstance(sys.stderr, _ThreadRoutedStream):
                sys.stderr = _ThreadRoutedStream(sys.stderr, self.sinks)
            root = logging.getLogger()
            if self._log_handler not in root.handlers:
                root.addHandler(self._log_handler)
            self._active += 1
            self.sinks[ident] = log
        try:
            yield
        finally:
            with _PROCESS_LOCK:
                self.sinks.pop(ident, None)
                self._active -= 1
                if self._active == 0:
                    if isinstance(sys.stdout, _ThreadRoutedStream):
                        sys.stdout = sys.stdout._fallback
                    if isinstance(sys.stderr, _ThreadRoutedStream):
                        sys.stderr = sys.stderr._fallback
                    logging.getLogger().removeHandler(self._log_handler)


CAPTURE = _Capture()


# --- running a call ---------------------------------------------------------------------------------


@dataclass
class Outcome:
    """How a call ended. ``status`` is Completed, Failed or Timeout."""

    status: str
    response: Any = None
    has_response: bool = False
    error: dict[str, Any] | None = None
    logs: list[tuple[int, str]] = field(default_factory=list)


@contextmanager
def _environment(env_vars: dict[str, str]) -> Iterator[None]:
    """Apply the function's env vars; afterwards restore os.environ and the working directory."""
    with _PROCESS_LOCK:
        saved_env = dict(os.environ)
        saved_cwd = os.getcwd()
        os.environ.update(env_vars)
    try:
        yield
    finally:
        with _PROCESS_LOCK:
            if dict(os.environ) != saved_env:
                os.environ.clear()
                os.environ.update(saved_env)
            try:
                if os.getcwd() != saved_cwd:
                    os.chdir(saved_cwd)
            except OSError:
                os.chdir(saved_cwd)


def failed_outcome(exc: BaseException, logs: list[tuple[int, str]]) -> Outcome:
    """The Failed outcome of a handler that raised (SystemExit and KeyboardInterrupt included)."""
    if isinstance(exc, SystemExit):
        message = f"Function called sys.exit({exc.code!r})"
    else:
        message = f"{type(exc).__name__}: {exc}"
    return Outcome("Failed", error={"message": message, "trace": _user_trace(exc)}, logs=logs)


def returned_outcome(result: Any, logs: list[tuple[int, str]], max_response_bytes: int) -> Outcome:
    """Completed with the response, or Failed if it is not JSON or is over the size limit."""
    if result is None:
        return Outcome("Completed", response=None, has_response=True, logs=logs)
    try:
        encoded = json.dumps(result, allow_nan=False)
    except (TypeError, ValueError, RecursionError) as exc:
        return Outcome(
            "Failed",
            error={"message": f"Function response is not JSON serializable: {exc}", "trace": None},
            logs=logs,
        )
    size = len(encoded.encode())
    if size > max_response_bytes:
        limit_mb = max_response_bytes / (1024 * 1024)
        message = f"Function response is {size} bytes, over the limit of {limit_mb:g} MB"
        return Outcome("Failed", error={"message": message, "trace": None}, logs=logs)
    return Outcome("Completed", response=json.loads(encoded), has_response=True, logs=logs)


def run_handle(
    code: LoadedCode,
    arguments: dict[str, Any],
    env_vars: dict[str, str],
    log: CallLog,
    max_response_bytes: int,
) -> Outcome:
    """Run ``handle`` in the current thread with the arguments it declares; never raises."""
    kwargs = {name: arguments[name] for name in code.params}
    try:
        with CAPTURE.capture(log), _environment(env_vars), code_context(code):
            result = code.handle(**kwargs)
    except BaseException as exc:  # KeyboardInterrupt and SystemExit must not reach the test process
        return failed_outcome(exc, log.finish())
    return returned_outcome(result, log.finish(), max_response_bytes)
