"""The emulator's clock: every timestamp the emulator writes comes from here.

Three modes:

- ``"virtual"`` (default): time stands still until a test moves it with :meth:`Clock.advance`,
  :meth:`Clock.advance_to` or :meth:`Clock.set`. Moving it fires every schedule run that falls due.
- ``"wall"``: follows real elapsed time from ``start`` (measured with a monotonic clock, so a handler
  that freezes or travels time cannot move it) and can be pushed ahead. The dev server's default.
- ``"system"``: reads ``time.time()`` on every use, so freezegun / time-machine drive it.
"""

from __future__ import annotations

import math
import numbers
import sys
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any, Literal

UTC = timezone.utc  # datetime.UTC is new in Python 3.11

ClockMode = Literal["virtual", "wall", "system"]
CLOCK_MODES: tuple[str, ...] = ("virtual", "wall", "system")

# freezegun replaces module attributes that *are* the real time functions; keeping them in a dict
# hides them from it, so "wall" mode keeps measuring real elapsed time under freeze_time.
_REAL = {"monotonic": time.monotonic, "time": time.time}

MAX_EPOCH_MS = 253402300799999  # 9999-12-31T23:59:59.999Z


def to_epoch_ms(value: datetime | str | int | float) -> int:
    """Normalise a point in time to integer epoch milliseconds.

    Accepts an aware ``datetime``, an ISO 8601 string (``Z`` or an offset; a bare date is UTC
    midnight), or a number of epoch milliseconds. Naive datetimes are rejected: the emulator cannot
    guess their time zone.
    """
    if isinstance(value, bool):
        raise TypeError("A point in time cannot be a bool")
    if isinstance(value, int | float):
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError(f"Time {value!r} is not a finite number of epoch milliseconds")
        ms = int(value)
    elif isinstance(value, datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(
                f"Naive datetime {value!r}: give a time zone, e.g. datetime(..., tzinfo=timezone.utc)"
            )
        ms = _datetime_to_ms(value)
    elif isinstance(value, str):
        text = value.strip()
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            raise ValueError(f"Not an ISO 8601 time: {value!r}") from None
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        ms = _datetime_to_ms(parsed)
    else:
        raise TypeError(f"Cannot read a point in time from {type(value).__name__}: {value!r}")
    if not 0 <= ms <= MAX_EPOCH_MS:
        raise ValueError(f"Time {value!r} is outside 1970-01-01 .. 9999-12-31")
    return ms


def _datetime_to_ms(value: datetime) -> int:
    delta = value - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1000 + delta.microseconds // 1000


def ms_to_datetime(ms: int) -> datetime:
    """Epoch milliseconds to an aware UTC datetime."""
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=ms)


def to_duration_ms(
    delta: timedelta | float | None = None,
    *,
    seconds: float = 0,
    minutes: float = 0,
    hours: float = 0,
    days: float = 0,
    weeks: float = 0,
) -> int:
    """A duration as integer milliseconds; a bare number is seconds.

    ValueError for NaN, infinities and amounts beyond the clock's whole range (about 8000 years):
    ``timedelta`` would raise OverflowError, which callers do not expect from a bad argument.
    """
    parts = {"seconds": seconds, "minutes": minutes, "hours": hours, "days": days, "weeks": weeks}
    if delta is not None and not isinstance(delta, timedelta):
        parts["delta"] = delta
    for name, amount in parts.items():
        if isinstance(amount, bool) or not isinstance(amount, numbers.Real):
            raise TypeError(f"{name} must be a number, not {type(amount).__name__}")
        if not math.isfinite(amount):
            raise ValueError(f"{name} must be a finite number, got {amount!r}")
    try:
        total = timedelta(seconds=seconds, minutes=minutes, hours=hours, days=days, weeks=weeks)
        if isinstance(delta, timedelta):
            total += delta
        elif delta is not None:
            total += timedelta(seconds=delta)
    except OverflowError:
        raise ValueError("The duration is beyond the clock's range (1970-01-01 .. 9999-12-31)") from None
    ms = total // timedelta(milliseconds=1)
    if abs(ms) > MAX_EPOCH_MS:
        raise ValueError("The duration is beyond the clock's range (1970-01-01 .. 9999-12-31)")
    return ms


FireDue = Callable[[int], list[Any]]


def _system_time_ms() -> int:
    """time.time() as the test sees it, in every thread.

    freezegun answers real time to code whose nearby stack frames are in ``threading`` (so worker
    threads would see real time while the test sees frozen time); asking its active factory instead
    gives every thread the frozen time. time-machine patches at the C level and needs nothing.
    """
    api = sys.modules.get("freezegun.api")
    factories = getattr(api, "freeze_factories", None) if api is not None else None
    if factories:
        frozen = factories[-1]()
        if frozen.tzinfo is None:
            frozen = frozen.replace(tzinfo=UTC)
        return _datetime_to_ms(frozen)
    return int(time.time() * 1000)


class Clock:
    """The time source of one emulator. Thread-safe.

    ``advance``/``advance_to`` return the calls that the move fired (the SDK's ``FunctionCall``
    objects), in the order they ran.
    """

    def __init__(
        self, mode: ClockMode = "virtual", start: datetime | str | int | float | None = None
    ) -> None:
        if mode not in CLOCK_MODES:
            raise ValueError(f"clock must be one of {', '.join(CLOCK_MODES)}, not {mode!r}")
        self.mode: ClockMode = mode
        self._lock = threading.RLock()
        start_ms = to_epoch_ms(start) if start is not None else int(_REAL["time"]() * 1000)
        self._virtual_ms = start_ms
        self._wall_base_ms = start_ms
        self._wall_mono0 = _REAL["monotonic"]()
        self._offset_ms = 0
        # While a scheduled run executes in wall/system mode, now() reports its scheduled instant.
        self._pinned_ms: dict[int, int] = {}
        self._fire_due: FireDue = lambda _target_ms: []
        self._advancing = threading.local()

    # --- reading -------------------------------------------------------------------------
    def now_ms(self) -> int:
        """The current emulator time in epoch milliseconds."""
        pinned = self._pinned_ms.get(threading.get_ident())
        if pinned is not None:
            return pinned
        return self._base_now_ms()

    def _base_now_ms(self) -> int:
        if self.mode == "virtual":
            return self._virtual_ms
        if self.mode == "wall":
            elapsed = (_REAL["monotonic"]() - self._wall_mono0) * 1000
            return self._wall_base_ms + int(elapsed) + self._offset_ms
        return _system_time_ms() + self._offset_ms

    def now(self) -> datetime:
        """The current emulator time as an aware UTC datetime."""
        return ms_to_datetime(self.now_ms())

    # --- moving ---------------------------------------------------------------------------
    def advance(
        self,
        delta: timedelta | float | None = None,
        *,
        seconds: float = 0,
        minutes: float = 0,
        hours: float = 0,
        days: float = 0,
        weeks: float = 0,
    ) -> list[Any]:
        """Move the clock forward and fire every schedule run due in (now, now + delta].

        ``delta`` is a ``timedelta`` or a number of seconds; keyword units add up.
        """
        step = to_duration_ms(delta, seconds=seconds, minutes=minutes, hours=hours, days=days, weeks=weeks)
        if step < 0:
            raise ValueError("The clock cannot move backwards: advance() needs a positive duration")
        with self._lock:
            target = self._base_now_ms() + step
            if target > MAX_EPOCH_MS:
                raise ValueError(
                    f"advance() would move the clock past 9999-12-31 (by {step // 86_400_000} days from "
                    f"{self.now().date().isoformat()})"
                )
            return self.advance_to(target)

    def advance_to(self, target: datetime | str | int | float) -> list[Any]:
        """Move the clock to ``target`` and fire every schedule run due until then, in time order."""
        target_ms = to_epoch_ms(target)
        with self._lock:
            now = self._base_now_ms()
            if target_ms < now:
                raise ValueError(
                    f"The clock cannot move backwards: {ms_to_datetime(target_ms).isoformat()} is before "
                    f"{ms_to_datetime(now).isoformat()}"
                )
            if getattr(self._advancing, "active", False):
                # A handler moving the clock during time travel: just move it, the outer loop fires.
                self._push_to(target_ms)
                return []
            self._advancing.active = True
            try:
                return self._fire_due(target_ms)
            finally:
                self._advancing.active = False
                if self._base_now_ms() < target_ms:
                    self._push_to(target_ms)

    def set(self, target: datetime | str | int | float) -> list[Any]:
        """Alias of :meth:`advance_to` (time-machine's ``move_to``)."""
        return self.advance_to(target)

    def run_due(self, now_ms: int | None = None) -> list[Any]:
        """Fire the runs that are due at the current time (for "wall" and "system" modes).

        Opportunistic: if the clock is already firing runs (in any thread), this returns [] at once
        rather than wait, so a handler's own requests can never deadlock against the run that made them.
        """
        if not self._lock.acquire(blocking=False):
            return []
        try:
            if getattr(self._advancing, "active", False):
                return []
            self._advancing.active = True
            try:
                return self._fire_due(self._base_now_ms() if now_ms is None else now_ms)
            finally:
                self._advancing.active = False
        finally:
            self._lock.release()

    # --- seams for the timeline, the call pipeline and persistence --------------------------------
    def step_to(self, target_ms: int) -> None:
        """Virtual mode: set the time to a run's instant (never backwards). Wall/system time is not
        moved by runs firing (a handler sees its scheduled instant through :meth:`pin_thread`)."""
        if self.mode == "virtual" and target_ms > self._virtual_ms:
            self._virtual_ms = target_ms

    def push_to(self, target_ms: int) -> None:
        """Make now() read at least ``target_ms``: virtual time is set, wall/system get an offset."""
        with self._lock:
            self._push_to(target_ms)

    def _push_to(self, target_ms: int) -> None:
        if self.mode == "virtual":
            self._virtual_ms = max(self._virtual_ms, target_ms)
        else:
            behind = target_ms - self._base_now_ms()
            if behind > 0:
                self._offset_ms += behind

    def restore(self, target_ms: int) -> None:
        """Virtual mode: set the time to a saved instant, even an earlier one (a state file loaded
        into a fresh emulator, where nothing has happened yet). Other modes: as :meth:`push_to`."""
        with self._lock:
            if self.mode == "virtual":
                self._virtual_ms = target_ms
            else:
                self._push_to(target_ms)

    def pin_thread(self, ms: int) -> None:
        """Make now() read ``ms`` in this thread while a scheduled run executes (wall/system)."""
        self._pinned_ms[threading.get_ident()] = ms

    def unpin_thread(self) -> None:
        self._pinned_ms.pop(threading.get_ident(), None)

    def on_move(self, fire_due: FireDue) -> None:
        """Set what fires the runs due as the clock moves (the emulator's timeline)."""
        self._fire_due = fire_due

    def __repr__(self) -> str:
        return f"<Clock mode={self.mode} now={self.now().isoformat()}>"


# The issue text and docs call it VirtualClock; both names work.
VirtualClock = Clock
