"""What a call writes: its stdout, stderr and logging records, line by line, into its ``CallLog``
(each line stamped with the emulator time)."""

from __future__ import annotations

import io
import logging
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from emulator.execution.process_lock import PROCESS_LOCK as _PROCESS_LOCK

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

    def write(self, text: str) -> None:
        if not text:
            return
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
        if threading.get_ident() not in self._sinks:
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
                        sys.stdout = sys.stdout.wrapped
                    if isinstance(sys.stderr, _ThreadRoutedStream):
                        sys.stderr = sys.stderr.wrapped
                    logging.getLogger().removeHandler(self._log_handler)


CAPTURE = _Capture()
