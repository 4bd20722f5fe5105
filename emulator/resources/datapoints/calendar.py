"""Aggregate intervals: granularity, alignment and time zones as CDF defines them.

A granularity is ``<n><unit>`` with unit s/second, m/minute, h/hour, d/day, mo/month (CDF's),
plus w/week (7d), q/quarter (3mo) and y/year (12mo) as the SDK spells them. The first interval
starts at ``start`` rounded down to the *unit* (not to n units), in the query's time zone; the
next ones follow every n units. Seconds, minutes and hours are fixed lengths; days and months
follow the time zone's calendar (a day across a DST change lasts 23 or 25 hours).
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import numpy.typing as npt

from emulator.errors import bad_request

UTC = timezone.utc  # datetime.UTC is new in Python 3.11

UNITS = {
    "s": ("s", 1), "sec": ("s", 1), "second": ("s", 1), "seconds": ("s", 1),
    "m": ("m", 1), "min": ("m", 1), "minute": ("m", 1), "minutes": ("m", 1),
    "h": ("h", 1), "hour": ("h", 1), "hours": ("h", 1),
    "d": ("d", 1), "day": ("d", 1), "days": ("d", 1),
    "w": ("d", 7), "week": ("d", 7), "weeks": ("d", 7),
    "mo": ("mo", 1), "month": ("mo", 1), "months": ("mo", 1),
    "q": ("mo", 3), "quarter": ("mo", 3), "quarters": ("mo", 3),
    "y": ("mo", 12), "year": ("mo", 12), "years": ("mo", 12),
}  # fmt: skip
UNIT_MS = {"s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000}
MAX_MULTIPLE = {"s": 120, "m": 120, "h": 100_000, "d": 100_000, "mo": 100_000}
_GRANULARITY = re.compile(r"^(\d*)([a-z]+)$")
_OFFSET = re.compile(r"^(?:UTC)?([+-])(\d{1,2}):?(\d{2})?$")
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def parse_granularity(text: object) -> tuple[int, str]:
    """``(n, unit)`` with unit one of s, m, h, d, mo."""
    if not isinstance(text, str):
        raise bad_request("granularity must be a string such as '1h'")
    match = _GRANULARITY.match(text.strip().lower())
    if not match or match.group(2) not in UNITS:
        raise bad_request(f"Invalid granularity {text[:40]!r}: use <n><unit>, unit one of s, m, h, d, mo")
    unit, factor = UNITS[match.group(2)]
    n = int(match.group(1) or "1") * factor
    if not 1 <= n <= MAX_MULTIPLE[unit]:
        raise bad_request(f"Invalid granularity {text!r}: the multiple must be 1 to {MAX_MULTIPLE[unit]}")
    return n, unit


def parse_time_zone(text: object) -> tzinfo:
    if not isinstance(text, str) or not text:
        raise bad_request("timeZone must be a string such as 'Europe/Oslo' or 'UTC+05:30'")
    if text in ("UTC", "Z", "GMT"):
        return UTC
    match = _OFFSET.match(text)
    if match:
        minutes = int(match.group(2)) * 60 + int(match.group(3) or 0)
        if minutes % 15 or minutes > 14 * 60:
            raise bad_request(f"timeZone {text!r}: offsets must be whole quarters of an hour, at most 14:00")
        return timezone(timedelta(minutes=minutes if match.group(1) == "+" else -minutes))
    try:
        return ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError):
        raise bad_request(f"Unknown timeZone {text[:60]!r}") from None


def _to_local(ms: int, tz: tzinfo) -> datetime:
    return (EPOCH + timedelta(milliseconds=ms)).astimezone(tz)


def _to_ms(local: datetime) -> int:
    return (local - EPOCH) // timedelta(milliseconds=1)


class Intervals:
    """The aggregate intervals of one query: interval k starts at ``start_of(k)``."""

    def __init__(self, start: int, n: int, unit: str, tz: tzinfo) -> None:
        self.n, self.unit, self.tz = n, unit, tz
        local = _to_local(start, tz)
        if unit in ("s", "m", "h") or (unit == "d" and isinstance(tz, timezone)):
            # Fixed-length intervals: round down in local time, step in real time.
            self.fixed = UNIT_MS[unit] * n
            offset = int(tz.utcoffset(local).total_seconds() * 1000)  # type: ignore[union-attr]
            unit_ms = UNIT_MS[unit]
            self.origin = (start + offset) // unit_ms * unit_ms - offset
            return
        self.fixed = 0
        self.origin_date = local.date() if unit == "d" else local.date().replace(day=1)
        self.origin = self.start_of(0)

    def start_of(self, k: int) -> int:
        if self.fixed:
            return self.origin + k * self.fixed
        if self.unit == "d":
            day = self.origin_date + timedelta(days=k * self.n)
        else:
            months = self.origin_date.year * 12 + self.origin_date.month - 1 + k * self.n
            day = self.origin_date.replace(year=months // 12, month=months % 12 + 1)
        return _to_ms(datetime(day.year, day.month, day.day, tzinfo=self.tz))

    def index_of(self, ms: int) -> int:
        """The interval holding ``ms``."""
        if self.fixed:
            return (ms - self.origin) // self.fixed
        local = _to_local(ms, self.tz).date()
        if self.unit == "d":
            k = (local - self.origin_date).days // self.n
        else:
            k = ((local.year - self.origin_date.year) * 12 + local.month - self.origin_date.month) // self.n
        # A local midnight that does not exist (DST at 00:00) moves the boundary; settle it exactly.
        while self.start_of(k) > ms:
            k -= 1
        while self.start_of(k + 1) <= ms:
            k += 1
        return k

    def indices(self, ts: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
        """The interval of every timestamp of a sorted array."""
        if ts.size == 0:
            return np.empty(0, dtype=np.int64)
        if self.fixed:
            return (ts - self.origin) // self.fixed
        first, last = self.index_of(int(ts[0])), self.index_of(int(ts[-1]))
        bounds = np.asarray([self.start_of(k) for k in range(first, last + 2)], dtype=np.int64)
        return (np.searchsorted(bounds, ts, side="right") - 1 + first).astype(np.int64)
