"""Standard 5-field cron, as CDF schedules accept it, evaluated in UTC.

Why our own evaluator: CDF cron is UTC, so there is no DST to get wrong, and time travel must cost
per run, not per minute. The expression is compiled once into the sets each field allows plus the
sorted minute-of-day offsets; the next run inside a matching day is then one integer addition, and
non-matching days are skipped a day at a time (``0 0 29 2 *`` looks at ~1,461 days for four years,
never at 2 million minutes). A year of ``* * * * *`` is 525,600 additions.

``describe`` makes the human-readable ``when`` text; for shapes it does not know it asks cronsim
(a dependency chosen for its DST-correct evaluation and its ``explain()``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

UTC = timezone.utc  # datetime.UTC is new in Python 3.11

MAX_EXPRESSION_LENGTH = 1024
DAY_MS = 86_400_000
_EPOCH = date(1970, 1, 1)
# If nothing matches in 8 years (two leap cycles) the expression can never fire (e.g. "0 0 31 2 *").
_MAX_EMPTY_DAYS = 366 * 8

_MONTHS = {m: i for i, m in enumerate("jan feb mar apr may jun jul aug sep oct nov dec".split(), 1)}
_WEEKDAYS = {d: i for i, d in enumerate("sun mon tue wed thu fri sat".split())}
_FIELDS: tuple[tuple[str, int, int, dict[str, int]], ...] = (
    ("minute", 0, 59, {}),
    ("hour", 0, 23, {}),
    ("day of month", 1, 31, {}),
    ("month", 1, 12, _MONTHS),
    ("day of week", 0, 7, _WEEKDAYS),
)
_PART = re.compile(r"^(?:(\*)|([a-z0-9]+)(?:-([a-z0-9]+))?)(?:/(\d+))?$")


class CronError(ValueError):
    """An expression CDF would not accept; the message says what is wrong."""


def _value(token: str, name: str, low: int, high: int, names: dict[str, int]) -> int:
    if token.isdigit():
        value = int(token)
    elif token in names:
        value = names[token]
    else:
        raise CronError(f"invalid {name} value {token!r}")
    if not low <= value <= high:
        raise CronError(f"{name} value {value} is out of range {low}-{high}")
    return value


def _parse_field(text: str, name: str, low: int, high: int, names: dict[str, int]) -> frozenset[int]:
    values: set[int] = set()
    for part in text.lower().split(","):
        match = _PART.match(part)
        if not match:
            raise CronError(f"invalid {name} field {text!r}")
        star, start, end, step = match.groups()
        if step is not None and int(step) < 1:
            raise CronError(f"step in {name} field must be at least 1")
        stride = int(step) if step else 1
        if star:
            first, last = low, high
        else:
            first = _value(start, name, low, high, names)
            last = _value(end, name, low, high, names) if end else (high if step else first)
            if last < first:
                raise CronError(f"range {part!r} in {name} field runs backwards")
        values.update(range(first, last + 1, stride))
    return frozenset(values)


@dataclass(frozen=True)
class CronExpression:
    """A compiled 5-field cron expression (UTC)."""

    text: str
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]  # 0 = Sunday .. 6 = Saturday
    day_restricted: bool
    weekday_restricted: bool
    offsets_ms: tuple[int, ...]  # sorted minute-of-day offsets

    def day_matches(self, day: date) -> bool:
        if day.month not in self.months:
            return False
        dom = day.day in self.days
        dow = (day.isoweekday() % 7) in self.weekdays
        if self.day_restricted and self.weekday_restricted:
            return dom or dow  # Vixie cron: either restricted day field may match
        return dom and dow

    def iter_after(self, after_ms: int) -> Iterator[int]:
        """Every run time strictly after ``after_ms``, in order, as epoch ms."""
        day_index = after_ms // DAY_MS
        empty = 0
        offsets = self.offsets_ms
        while empty < _MAX_EMPTY_DAYS:
            day = _EPOCH + timedelta(days=day_index)
            if self.day_matches(day):
                empty = 0
                base = day_index * DAY_MS
                for offset in offsets:
                    due = base + offset
                    if due > after_ms:
                        yield due
            else:
                empty += 1
            day_index += 1


_ALL_DAYS = frozenset(range(1, 32))
_ALL_WEEKDAYS = frozenset(range(7))


def _restricts(field: str, names_every_day: bool, other: str) -> bool:
    """Whether a day field restricts (so that, both restricting, either may match).

    croniter's reading, the Python reference: "*" does not; a field that names every day ("0-6",
    "1-31", "*/1") does not when the other day field is written with a "*" ("*/2"), and does
    otherwise. So "0 0 */2 * 0-6" runs on odd days and "0 0 1,15 * 0-6" every day.
    """
    return field != "*" and not (names_every_day and "*" in other)


def parse(expression: object) -> CronExpression:
    """Compile and validate; raises CronError with a message saying what is wrong."""
    if not isinstance(expression, str):
        raise CronError("cronExpression must be a string")
    if len(expression) > MAX_EXPRESSION_LENGTH:
        raise CronError(f"cronExpression is longer than {MAX_EXPRESSION_LENGTH} characters")
    text = expression.strip()
    if not text:
        raise CronError("cronExpression is empty")
    if text.startswith("@"):
        raise CronError(
            f"{text.split()[0]!r} is not supported: use five fields (minute hour day month weekday)"
        )
    fields = text.split()
    if len(fields) != 5:
        raise CronError(
            f"cronExpression must have exactly 5 fields (minute hour day month weekday), got {len(fields)}"
        )
    parsed = [_parse_field(f, *spec) for f, spec in zip(fields, _FIELDS, strict=True)]
    minutes, hours, days, months, weekdays = parsed
    weekdays = frozenset(d % 7 for d in weekdays)  # 7 is Sunday too
    offsets = tuple(sorted(h * 3_600_000 + m * 60_000 for h in hours for m in minutes))
    return CronExpression(
        text=text,
        minutes=minutes,
        hours=hours,
        days=days,
        months=months,
        weekdays=weekdays,
        day_restricted=_restricts(fields[2], days == _ALL_DAYS, fields[4]),
        weekday_restricted=_restricts(fields[4], weekdays == _ALL_WEEKDAYS, fields[2]),
        offsets_ms=offsets,
    )


def describe(expression: str) -> str:
    """Human-readable text for a valid expression, e.g. "Every 5 minutes"."""
    fields = expression.split()
    minute, hour, dom, month, dow = fields
    rest_any = dom == "*" and month == "*" and dow == "*"
    if rest_any and hour == "*":
        if minute == "*":
            return "Every minute"
        if minute.startswith("*/") and minute[2:].isdigit():
            n = int(minute[2:])
            return "Every minute" if n == 1 else f"Every {n} minutes"
        if minute.isdigit():
            return "Every hour" if minute == "0" else f"Every hour at minute {int(minute)}"
    if rest_any and minute == "0" and hour.startswith("*/") and hour[2:].isdigit():
        n = int(hour[2:])
        return "Every hour" if n == 1 else f"Every {n} hours"
    if rest_any and minute.isdigit() and hour.isdigit():
        return f"Every day at {int(hour):02d}:{int(minute):02d}"
    try:
        from cronsim import CronSim

        return str(CronSim(expression, datetime(2000, 1, 1, tzinfo=UTC)).explain())
    except Exception:  # cronsim missing or unable to explain: the expression itself is honest
        return f"Cron: {expression}"
