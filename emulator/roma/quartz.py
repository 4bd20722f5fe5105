"""Quartz cron expressions evaluated in a time zone as Java Quartz 2.3.2 does, fast enough for long
time travel. The grammar (and Quartz's quirks in it) is in emulator/roma/quartz_syntax.py.

Evaluation works like emulator/cron.py: each local day is checked once, then its sorted times of day
are converted to instants. Time zones are IANA names or fixed offsets (see ``parse_timezone``).

Daylight saving, as Quartz (checked against tests/data/quartz-2.3.2.json.gz, generated with the real
jar): a wall time that does not exist (the spring-forward gap) does not fire that day; a wall time
that exists twice (the fall-back overlap) fires once, at its *second* occurrence. The next fire time
after an instant inside the first occurrence is found by wall time, as Quartz does (the calendar
fields of that instant plus one second).
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from emulator.roma.quartz_syntax import (
    HOURS,
    MINUTES,
    MONTHS,
    SECONDS,
    YEARS,
    DayOfMonth,
    DayOfWeek,
    QuartzError,
    parse_day_of_month,
    parse_day_of_week,
    parse_values,
)

UTC = timezone.utc  # datetime.UTC is new in Python 3.11

__all__ = ["QuartzError", "QuartzExpression", "parse", "parse_timezone"]

_MAX_EMPTY_MONTHS = 12 * 30  # a valid expression that never fires (e.g. 30 FEB) stops searching here
_OFFSET = re.compile(r"^(?:UTC|GMT|UT)?([+-])(\d{1,2}|\d\d:\d\d|\d{4}|\d\d:\d\d:\d\d|\d{6})$")


def parse_timezone(name: str | None) -> tzinfo:
    """A time zone as Java's ``java.time.ZoneId.of`` reads it (ROMA's servers are Java): an IANA
    region (case-sensitive), ``Z``, ``UTC``/``GMT``/``UT``, or a fixed offset, bare or after one of
    those prefixes, as ``±h``, ``±hh``, ``±hh:mm``, ``±hhmm``, ``±hh:mm:ss`` or ``±hhmmss``, at most
    18 hours: ``UTC+8``, ``GMT+08:00``, ``+0530``. None or empty means UTC. Anything else (``utc+8``,
    ``UTC+8:00``, ``GMT+19``) is refused."""
    if not name or name in ("Z", "UTC", "GMT", "UT"):
        return UTC
    match = _OFFSET.match(name)
    if match:
        sign, digits = match.group(1), match.group(2).replace(":", "")
        short = len(digits) <= 2
        hours, minutes, seconds = (digits, "", "") if short else (digits[:2], digits[2:4], digits[4:6])
        delta = timedelta(hours=int(hours), minutes=int(minutes or 0), seconds=int(seconds or 0))
        if delta > timedelta(hours=18) or int(minutes or 0) > 59 or int(seconds or 0) > 59:
            raise QuartzError(f"time zone offset out of range: {name!r}")
        return timezone(delta if sign == "+" else -delta)
    if name.startswith(("+", "-", "UTC", "GMT", "UT")) and "/" not in name:
        raise QuartzError(f"invalid time zone offset {name!r}: use e.g. UTC+8, GMT+08:00 or +0800")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise QuartzError(f"unknown time zone {name!r}: use an IANA name or an offset like UTC+8") from None


@dataclass(frozen=True)
class QuartzExpression:
    """A compiled expression: ``iter_after(ms, tz)`` yields its fire times."""

    text: str
    seconds_of_day: tuple[int, ...]
    months: frozenset[int]
    years: frozenset[int] | None
    dom: DayOfMonth | None  # None when the field is "?"
    dow: DayOfWeek | None  # None when the field is "?"

    def iter_after(self, after_ms: int, tz: tzinfo) -> Iterator[int]:
        """Every fire time strictly after ``after_ms`` (epoch ms), in order, under the DST rule above."""
        local = datetime.fromtimestamp(after_ms // 1000 + 1, tz)  # Quartz: the next whole second
        first_day = local.date()
        from_second = local.hour * 3600 + local.minute * 60 + local.second  # on the first day only
        if from_second > self.seconds_of_day[-1]:
            first_day, from_second = first_day + timedelta(days=1), 0
        for day in self._days(first_day):
            midnight = datetime(day.year, day.month, day.day)
            start = midnight.replace(tzinfo=tz)
            times = self.seconds_of_day
            if day == first_day and from_second:
                times = tuple(s for s in times if s >= from_second)
            if start.utcoffset() == (midnight + timedelta(days=1)).replace(tzinfo=tz).utcoffset():
                # No offset change today (almost every day): each run is one addition.
                base = int(start.timestamp())
                for seconds in times:
                    yield (base + seconds) * 1000
            else:
                for seconds in times:
                    due = _wall_instant(midnight + timedelta(seconds=seconds), tz)
                    if due is not None:
                        yield due

    def _days(self, first: date) -> Iterator[date]:
        """The matching local days from ``first`` on, month by month."""
        if self.dom is not None and self.dom.day is not None:
            yield from _nearest_weekday_days(self, self.dom.day, first)
            return
        last_year = max(self.years) if self.years is not None else None
        year, month, empty = first.year, first.month, 0
        while empty < _MAX_EMPTY_MONTHS and (last_year is None or year <= last_year):
            if month in self.months and (self.years is None or year in self.years):
                days = self._month_days(year, month)
                empty = 0 if days else empty + 1
                for number in days:
                    if year != first.year or month != first.month or number >= first.day:
                        yield date(year, month, number)
            else:
                empty += 1
            year, month = (year, month + 1) if month < 12 else (year + 1, 1)

    def _month_days(self, year: int, month: int) -> list[int]:
        last = calendar.monthrange(year, month)[1]
        if self.dom is not None:
            rule = self.dom
            if rule.last_offset is None:
                return [d for d in sorted(rule.values) if d <= last]
            target = last - rule.last_offset
            if target < 1:
                return []
            return [_nearest_weekday(target, year, month, last) if rule.nearest_weekday else target]
        assert self.dow is not None
        first_dow = date(year, month, 1).isoweekday() % 7 + 1  # 1 = Sunday ... 7 = Saturday
        days = [d for d in range(1, last + 1) if (first_dow + d - 2) % 7 + 1 in self.dow.values]
        if self.dow.last:
            return days[-1:]
        if self.dow.nth is not None:
            return days[self.dow.nth - 1 : self.dow.nth]
        return days

    def in_month_and_year(self, year: int, month: int) -> bool:
        return month in self.months and (self.years is None or year in self.years)


def _lenient(year: int, month: int, day: int) -> date:
    """A date as java.util.Calendar computes it from fields: April 31 is May 1, month 13 is January."""
    year, month = year + (month - 1) // 12, (month - 1) % 12 + 1
    return date(year, month, 1) + timedelta(days=day - 1)


def _nearest_weekday_days(expr: QuartzExpression, n: int, first: date) -> Iterator[date]:
    """The days ``nW`` fires on, walked the way Quartz walks them. Quartz moves to the next month by
    setting day n in it, so a month shorter than n pushes the walk into the month after (a month is
    skipped after a fire that was not on its month's last day); a Saturday spill from a missing day
    lands on the last day of the month."""
    current, empty = first, 0  # the walk's position; Quartz compares fire days with `first`
    last_year = max(expr.years) if expr.years is not None else None
    while empty < _MAX_EMPTY_MONTHS * 31 and (last_year is None or current.year <= last_year):
        year, month = current.year, current.month
        last = calendar.monthrange(year, month)[1]
        weekday = _lenient(year, month, n).weekday()
        if weekday == 5:
            target = n + 2 if n == 1 else n - 1
        elif weekday == 6:
            target = n - 2 if n == last else n + 1
        else:
            target = n
        if _lenient(year, month, target) < first:
            current, empty = _lenient(year, month + 1, n), empty + 1
        elif target != current.day:
            current, empty = _lenient(year, month, target), empty + 1
        elif not expr.in_month_and_year(year, month):
            current, empty = _lenient(year, month + 1, 1), empty + 1
        else:
            yield current  # the next search starts after this day's last fire time
            first = current = current + timedelta(days=1)
            empty = 0


def _wall_instant(wall: datetime, tz: tzinfo) -> int | None:
    """The instant (ms) of a wall time: its second occurrence if doubled, None if it does not exist."""
    aware = wall.replace(tzinfo=tz, fold=1)
    if aware.astimezone(UTC).astimezone(tz).replace(tzinfo=None) != wall:
        return None  # in the spring-forward gap
    return int(aware.timestamp()) * 1000


def _nearest_weekday(day: int, year: int, month: int, last: int) -> int:
    """Quartz's W: Saturday moves to Friday (or Monday the 3rd from the 1st); Sunday to Monday
    (or Friday from the month's last day)."""
    weekday = date(year, month, day).weekday()
    if weekday == 5:
        return day - 1 if day > 1 else day + 2
    if weekday == 6:
        return day + 1 if day < last else day - 2
    return day


def parse(expression: object) -> QuartzExpression:
    """Compile a Quartz expression; raises QuartzError with a message saying what is wrong."""
    if not isinstance(expression, str) or not expression.strip():
        raise QuartzError("cron must be a non-empty string")
    fields = expression.upper().split()
    if len(fields) < 6:
        raise QuartzError(
            "a Quartz expression has 6 or 7 fields (seconds minutes hours day-of-month month "
            f"day-of-week [year]), got {len(fields)}"
        )
    sec, minute, hour, dom_text, month, dow_text = fields[:6]
    seconds = parse_values(sec, SECONDS)
    minutes = parse_values(minute, MINUTES)
    hours = parse_values(hour, HOURS)
    months = parse_values(month, MONTHS)
    years = parse_values(fields[6], YEARS) if len(fields) > 6 and fields[6] != "*" else None
    if (dom_text == "?") == (dow_text == "?"):
        raise QuartzError("exactly one of day-of-month and day-of-week must be '?'")
    dom = parse_day_of_month(dom_text) if dom_text != "?" else None
    dow = parse_day_of_week(dow_text) if dow_text != "?" else None
    offsets = tuple(sorted(h * 3600 + m * 60 + s for h in hours for m in minutes for s in seconds))
    return QuartzExpression(expression.strip(), offsets, months, years, dom, dow)
