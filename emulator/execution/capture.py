"""What a call writes: its stdout, stderr, logging records and warnings, line by line, into its
``CallLog`` (each line stamped with the emulator time), also from threads it starts.

While at least one call runs, ``sys.stdout`` and ``sys.stderr`` are proxies that route by thread (a
call's thread writes to its log, any other thread to the stream the proxy wraps), ``logging`` has
a root handler that writes records of a call's thread to its log unless one of the user's own
``StreamHandler``s on the record's way to the root already prints them (so a handler's own formatter
is kept, and nothing is printed twice), and ``warnings.showwarning`` routes by thread too.
Deployment installs the proxies as well, so a ``StreamHandler(sys.stdout)`` made when the function's
module is imported writes through them. The same first call in installs the guards (guards.py)
and the inheritance of threads (threads.py); the last call out removes all of it.
"""

from __future__ import annotations

import io
import logging
import sys
import threading
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from emulator.execution.guards import ProcessGuards
from emulator.execution.process_lock import PROCESS_LOCK as _PROCESS_LOCK
from emulator.execution.threads import ThreadInheritance

MAX_LOG_LINES = 10_000
MAX_LOG_LINE_CHARS = 10_000


class CallLog:
    """Lines written by one call, each stamped with the emulator time when it started.

    Linear in what is written: an unfinished line is kept as a list of pieces (a progress bar
    writing a character at a time costs one append per write), and only its first
    ``MAX_LOG_LINE_CHARS`` characters are kept, as for complete lines.
    """

    def __init__(self, now_ms: Callable[[], int], max_lines: int = MAX_LOG_LINES) -> None:
        self._now_ms = now_ms
        self._max_lines = max_lines
        self.lines: list[tuple[int, str]] = []
        self.dropped = 0
        self._pieces: list[str] = []
        self._piece_chars = 0
        self._partial_ts = 0
        self.closed = False
        self.written = False  # anything written yet: False means finish() would answer []

    def write(self, text: str) -> None:
        if not text or self.closed:  # a thread of the call writing after the call ended
            return
        self.written = True
        if not self._pieces:
            self._partial_ts = self._now_ms()
        if "\n" not in text:
            if self._piece_chars < MAX_LOG_LINE_CHARS:
                self._pieces.append(text)
                self._piece_chars += len(text)
            return
        first, *rest = text.split("\n")
        self._pieces.append(first)
        self._add(self._partial_ts, "".join(self._pieces))
        *complete, tail = rest
        for line in complete:
            self._add(self._now_ms(), line)
        self._pieces = [tail] if tail else []
        self._piece_chars = len(tail)
        self._partial_ts = self._now_ms()

    def _add(self, ts: int, line: str) -> None:
        if len(self.lines) >= self._max_lines:
            self.dropped += 1
            return
        self.lines.append((ts, line[:MAX_LOG_LINE_CHARS]))

    def finish(self) -> list[tuple[int, str]]:
        """The call's lines; later writes are dropped (the call has ended)."""
        self.closed = True
        if self._pieces:
            self._add(self._partial_ts, "".join(self._pieces))
            self._pieces, self._piece_chars = [], 0
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
        self.wrapped = fallback
        self._sinks = sinks

    def write(self, text: str) -> int:
        sink = self._sinks.get(threading.get_ident())
        if sink is not None:
            sink.write(str(text))
            return len(text)
        return self.wrapped.write(text)  # type: ignore[no-any-return]

    def flush(self) -> None:
        # Not the wrapped stream's owner: when the proxy is collected (IOBase closes and flushes
        # it), the stream it wrapped may be closed already (pytest's capture, at a test's end).
        if threading.get_ident() not in self._sinks and not getattr(self.wrapped, "closed", False):
            self.wrapped.flush()

    def writable(self) -> bool:
        return True

    def isatty(self) -> bool:
        return False

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return getattr(self.wrapped, "encoding", "utf-8")


class _CallLogHandler(logging.Handler):
    """Captures logging records emitted in a call's thread when no handler prints them already."""

    def __init__(self, sinks: dict[int, CallLog]) -> None:
        super().__init__(logging.NOTSET)
        self._sinks = sinks
        self.setFormatter(logging.Formatter("%(levelname)s:%(name)s:%(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        sink = self._sinks.get(record.thread or 0)
        if sink is None or _printed_by_user(record):
            return
        try:
            sink.write(self.format(record) + "\n")
        except Exception:
            self.handleError(record)


def _printed_by_user(record: logging.LogRecord) -> bool:
    """Whether a StreamHandler writing through the proxies handles ``record`` on its way up."""
    logger: logging.Logger | None = logging.getLogger(record.name)
    while logger is not None:
        for handler in logger.handlers:
            if (
                isinstance(handler, logging.StreamHandler)
                and isinstance(handler.stream, _ThreadRoutedStream)
                and record.levelno >= handler.level
            ):
                return True
        if not logger.propagate:
            return False
        logger = logger.parent
    return False


class _Capture:
    """Routes output by thread while at least one call runs (see the module's docstring).

    Each call re-installs the proxies if something (pytest's capture, between tests) replaced them
    while an abandoned call kept the count above zero; the last call out restores what it wrapped.
    """

    def __init__(self) -> None:
        self.sinks: dict[int, CallLog] = {}
        self._active = 0
        self._log_handler = _CallLogHandler(self.sinks)
        self._showwarning: Any = None
        self._previous_showwarning: Any = None
        self.guards = ProcessGuards(lambda: threading.get_ident() in self.sinks)
        self.threads = ThreadInheritance()
        self.threads.add(self)

    def enter_call(self, ident: int, log: CallLog) -> None:
        """Thread ``ident`` runs a call now: its output (and its threads') goes to ``log``."""
        self.sinks[ident] = log
        self.threads.begin(ident)

    def leave_call(self, ident: int) -> None:
        self.threads.end(ident)
        self.sinks.pop(ident, None)

    # --- Carrier (threads.py): a thread a call starts writes into the call's log ---
    def snapshot(self, parent: int) -> CallLog | None:
        return self.sinks.get(parent)

    def adopt(self, child: int, taken: CallLog | None) -> None:
        if taken is not None:
            self.sinks[child] = taken

    def release(self, child: int, taken: CallLog | None) -> None:
        if taken is not None and self.sinks.get(child) is taken:
            del self.sinks[child]

    @contextmanager
    def capture(self, log: CallLog) -> Iterator[None]:
        ident = threading.get_ident()
        with _PROCESS_LOCK:
            self._install()
            self.enter_call(ident, log)
            streams = (sys.stdout, sys.stderr)
        try:
            yield
        finally:
            self.check_streams(log, streams)
            self.leave_call(ident)
            with _PROCESS_LOCK:
                self._uninstall()

    @contextmanager
    def installed(self) -> Iterator[None]:
        """The proxies without a sink: deployment imports the function's modules under them."""
        with _PROCESS_LOCK:
            self._install()
        try:
            yield
        finally:
            with _PROCESS_LOCK:
                self._uninstall()

    def check_streams(self, log: CallLog, streams: tuple[Any, Any]) -> None:
        """Put the proxies back if the call replaced ``sys.stdout``/``sys.stderr`` for good (it is
        process-wide: every thread's output went there meanwhile), and say so in its log."""
        if sys.stdout is streams[0] and sys.stderr is streams[1]:
            return
        with _PROCESS_LOCK:
            for name, proxy in (("stdout", streams[0]), ("stderr", streams[1])):
                if getattr(sys, name) is not proxy and isinstance(proxy, _ThreadRoutedStream):
                    setattr(sys, name, proxy)
                    log.write(
                        f"[emulator] the call replaced sys.{name} and did not put it back; the "
                        f"emulator did (sys.{name} is the process's: use isolation='process')\n"
                    )

    def _install(self) -> None:
        if not isinstance(sys.stdout, _ThreadRoutedStream):
            sys.stdout = _ThreadRoutedStream(sys.stdout, self.sinks)
        if not isinstance(sys.stderr, _ThreadRoutedStream):
            sys.stderr = _ThreadRoutedStream(sys.stderr, self.sinks)
        root = logging.getLogger()
        if self._log_handler not in root.handlers:
            root.addHandler(self._log_handler)
        if self._showwarning is None or warnings.showwarning is not self._showwarning:
            self._previous_showwarning = warnings.showwarning
            self._showwarning = self._routed_showwarning(warnings.showwarning)
            warnings.showwarning = self._showwarning
        self.guards.install()
        self.threads.install()
        self._active += 1

    def _uninstall(self) -> None:
        self._active -= 1
        if self._active > 0:
            return
        if isinstance(sys.stdout, _ThreadRoutedStream):
            sys.stdout = sys.stdout.wrapped
        if isinstance(sys.stderr, _ThreadRoutedStream):
            sys.stderr = sys.stderr.wrapped
        logging.getLogger().removeHandler(self._log_handler)
        if warnings.showwarning is self._showwarning:
            warnings.showwarning = self._previous_showwarning
        self._showwarning = self._previous_showwarning = None
        self.guards.uninstall()
        self.threads.uninstall()

    def _routed_showwarning(self, previous: Any) -> Any:
        sinks = self.sinks

        def showwarning(
            message: Warning | str,
            category: type[Warning],
            filename: str,
            lineno: int,
            file: Any = None,
            line: str | None = None,
        ) -> None:
            sink = sinks.get(threading.get_ident())
            if sink is not None and file is None:
                sink.write(warnings.formatwarning(message, category, filename, lineno, line))
                return
            previous(message, category, filename, lineno, file, line)

        return showwarning


CAPTURE = _Capture()
