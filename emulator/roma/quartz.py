"""Quartz cron expressions, evaluated in a time zone, fast enough for long time travel.

Fields: seconds, minutes, hours, day-of-month, month, day-of-week, optional year. Supported:
numbers, ranges ``a-b``, steps ``*/n`` and ``a/n``, lists, month names (JAN-DEC), weekday names
(SUN-SAT, with 1 = Sunday ... 7 = Saturday), ``?`` (no specific value; exactly one of the day fields
must be ``?``), ``L`` (last day of month; in day-of-week: Saturday, or ``nL`` the last weekday n of
the month), ``L-n`` (n days before the last), ``nW`` (weekday nearest day n, within the month),
``LW`` (last weekday of the month), ``n#k`` (the k-th weekday n of the month).

Evaluation works like emulator/cron.py: each local day is checked once, then its sorted times of day
are converted to instants. Time zones are IANA names or fixed offsets ("UTC+8", "GMT-05:30").

DST rule (defined here, tested in tests/test_roma.py): a wall time that does not exist (the spring-
forward gap) fires once, shifted forward by the gap (02:30 becomes 03:30), unless that instant has
fired already; a wall time that exists twice (the fall-back overlap) fires once, at its first
occurrence. So across DST a run never doubles, and only gap times that land on an existing run merge.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

UTC = timezone.utc  # datetime.UTC is new in Python 3.11

_MONTHS = {
    m: i
    for i, m in enumerate(
        ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"], 1
    )
}
_DAYS = {d: i for i, d in enumerate(["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"], 1)}
_MAX_EMPTY_DAYS = 366 * 30  # a valid expression that never fires (e.g. 30 FEB) stops searching here
_OFFSET = re.compile(r"^(?:UTC|GMT)?\s*([+-])(\d{1,2})(?::?(\d{2}))?$")


class QuartzError(ValueError):
    """An invalid expression or time zone; the message says what is wrong."""


def parse_timezone(name: str | None) -> tzinfo:
    if not name or name.upper() in ("UTC", "GMT", "Z"):
        return UTC
    match = _OFFSET.match(name.strip().upper())
    if match:
        sign, hours, minutes = match.groups()
        delta = timedelta(hours=int(hours), minutes=int(minutes or 0))
        if delta > timedelta(hours=14):
            raise QuartzError(f"time zone offset out of range: {name!r}")
        return timezone(delta if sign == "+" else -delta)
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise QuartzError(f"unknown time zone {name!r}: use an IANA name or an offset like UTC+8") from None


def _number(token: str, names: dict[str, int], low: int, high: int, what: str) -> int:
    value = names.get(token.upper()) if not token.isdigit() else int(token)
    if value is None:
        raise QuartzError(f"invalid {what} value {token!r}")
    if not low <= value <= high:
        raise QuartzError(f"{what} value {value} is out of range {low}-{high}")
    return value


def _simple(text: str, low: int, high: int, what: str, names: dict[str, int] | None = None) -> frozenset[int]:
    names = names or {}
    values: set[int] = set()
    for part in text.split(","):
        base, _, step_text = part.partition("/")
        if step_text and (not step_text.isdigit() or int(step_text) < 1):
            raise QuartzError(f"invalid step in {what} field: {part!r}")
        step = int(step_text) if step_text else 1
        if base == "*":
            first, last = low, high
        elif "-" in base:
            a, b = base.split("-", 1)
            first, last = _number(a, names, low, high, what), _number(b, names, low, high, what)
            if last < first:
                raise QuartzError(f"range {part!r} in {what} field runs backwards")
        else:
            first = _number(base, names, low, high, what)
            last = high if step_text else first
        values.update(range(first, last + 1, step))
    return frozenset(values)


@dataclass(frozen=True)
class QuartzExpression:
    text: str
    seconds_of_day: tuple[int, ...]
    months: frozenset[int]
    years: frozenset[int] | None
    dom: str  # the raw day-of-month field ("?" when unused)
    dow: str  # the raw day-of-week field ("?" when unused)
    dom_values: frozenset[int]
    dow_values: frozenset[int]

    def day_matches(self, day: date) -> bool:
        if day.month not in self.months or (self.years is not None and day.year not in self.years):
            return False
        last = calendar.monthrange(day.year, day.month)[1]
        if self.dom != "?":
            return _dom_matches(self.dom, self.dom_values, day, last)
        return _dow_matches(self.dow, self.dow_values, day, last)

    def iter_after(self, after_ms: int, tz: tzinfo) -> Iterator[int]:
        """Every fire time strictly after ``after_ms`` (epoch ms), in order, under the DST rule above."""
        local = datetime.fromtimestamp(after_ms / 1000, tz)
        day = local.date()
        last_ms = after_ms
        empty = 0
        while empty < _MAX_EMPTY_DAYS:
            if self.years is not None and day.year > max(self.years):
                return
            if self.day_matches(day):
                empty = 0
                midnight = datetime(day.year, day.month, day.day)
                start = midnight.replace(tzinfo=tz)
                if start.utcoffset() == (midnight + timedelta(days=1)).replace(tzinfo=tz).utcoffset():
                    # No offset change today (almost every day): each run is one addition.
                    base = int(start.timestamp()) * 1000
                    for seconds in self.seconds_of_day:
                        due = base + seconds * 1000
                        if due > last_ms:
                            last_ms = due
                            yield due
                    day += timedelta(days=1)
                    continue
                for seconds in self.seconds_of_day:
                    wall = (midnight + timedelta(seconds=seconds)).replace(
                        tzinfo=tz
                    )  # fold=0: first / shifted
                    due = int(wall.timestamp() * 1000)
                    if due > last_ms:
                        last_ms = due
                        yield due
            else:
                empty += 1
            day += timedelta(days=1)


def _dom_matches(field: str, values: frozenset[int], day: date, last: int) -> bool:
    if field == "L":
        return day.day == last
    if field.startswith("L-"):
        return day.day == last - int(field[2:])
    if field == "LW":
        target = last
        while date(day.year, day.month, target).weekday() >= 5:
            target -= 1
        return day.day == target
    if field.endswith("W"):
        wanted = min(int(field[:-1]), last)
        weekday = date(day.year, day.month, wanted).weekday()
        if weekday == 5:  # Saturday: Friday before, or Monday after if that leaves the month
            target = wanted - 1 if wanted > 1 else wanted + 2
        elif weekday == 6:  # Sunday: Monday after, or Friday before at the end of the month
            target = wanted + 1 if wanted < last else wanted - 2
        else:
            target = wanted
        return day.day == target
    return day.day in values


def _dow_matches(field: str, values: frozenset[int], day: date, last: int) -> bool:
    quartz_dow = day.isoweekday() % 7 + 1  # 1 = Sunday ... 7 = Saturday
    if field == "L":
        return quartz_dow == 7
    if field.endswith("L"):
        return quartz_dow == values_first(values) and day.day + 7 > last
    if "#" in field:
        return quartz_dow == values_first(values) and (day.day - 1) // 7 + 1 == int(field.split("#")[1])
    return quartz_dow in values


def values_first(values: frozenset[int]) -> int:
    return next(iter(values))


def parse(expression: object) -> QuartzExpression:
    """Compile a Quartz expression; raises QuartzError with a message saying what is wrong."""
    if not isinstance(expression, str) or not expression.strip():
        raise QuartzError("cron must be a non-empty string")
    fields = expression.split()
    if len(fields) not in (6, 7):
        raise QuartzError(
            f"a Quartz expression has 6 or 7 fields (seconds minutes hours day-of-month month day-of-week [year]), got {len(fields)}"
        )
    sec, minute, hour, dom, month, dow = fields[:6]
    seconds = _simple(sec, 0, 59, "seconds")
    minutes = _simple(minute, 0, 59, "minutes")
    hours = _simple(hour, 0, 23, "hours")
    months = _simple(month, 1, 12, "month", _MONTHS)
    years = _simple(fields[6], 1970, 2099, "year") if len(fields) == 7 and fields[6] != "*" else None
    if (dom == "?") == (dow == "?"):
        raise QuartzError("exactly one of day-of-month and day-of-week must be '?'")
    dom_values: frozenset[int] = frozenset()
    dow_values: frozenset[int] = frozenset()
    if dom != "?":
        dom = dom.upper()
        if dom in ("L", "LW") or re.fullmatch(r"L-\d{1,2}", dom):
            if dom.startswith("L-") and not 0 <= int(dom[2:]) <= 30:
                raise QuartzError(f"invalid day-of-month offset {dom!r}")
        elif re.fullmatch(r"\d{1,2}W", dom):
            _number(dom[:-1], {}, 1, 31, "day-of-month")
        else:
            dom_values = _simple(dom, 1, 31, "day-of-month")
    else:
        dow = dow.upper()
        if dow == "L":
            pass
        elif re.fullmatch(r"[A-Z0-9]+L", dow):
            dow_values = frozenset([_number(dow[:-1], _DAYS, 1, 7, "day-of-week")])
        elif "#" in dow:
            weekday, _, nth = dow.partition("#")
            dow_values = frozenset([_number(weekday, _DAYS, 1, 7, "day-of-week")])
            if not nth.isdigit() or not 1 <= int(nth) <= 5:
                raise QuartzError(f"the # in {dow!r} must be followed by 1-5")
        else:
            dow_values = _simple(dow, 1, 7, "day-of-week", _DAYS)
    offsets = tuple(sorted(h * 3600 + m * 60 + s for h in hours for m in minutes for s in seconds))
    return QuartzExpression(expression.strip(), offsets, months, years, dom, dow, dom_values, dow_values)
