"""The grammar of Quartz cron expressions, as Java Quartz 2.3.2's ``CronExpression`` reads it.

Fields: seconds, minutes, hours, day-of-month, month, day-of-week, optional year (tokens after the
seventh are ignored, as Quartz does). Case does not matter. Each field is a list of parts: ``*``,
``n``, ``a-b``, ``a/n`` (a, a+n, ... up to the field's maximum), ``a-b/n`` and ``*/n``. Ranges may wrap
(``22-2`` in hours is 22, 23, 0, 1, 2; ``FRI-MON`` is Friday to Monday). Quartz's own quirks are kept,
because the point is to fire when Quartz fires (each checked against tests/data/quartz-2.3.2.json.gz):

- a step of 0 means no step (``5/0`` is 5, ``*/0`` is ``*``); a step at least the field's size
  (60 for seconds and minutes, 24 for hours) or above it (31 days, 12 months, 7 weekdays) is refused;
- a step after a month or weekday *name* is ignored (``MON/2`` is Monday, ``JAN-DEC/3`` every month);
- in day-of-month, ``nW`` (the weekday nearest day n; months without day n are skipped) ignores any
  parts after it (``1W,15`` is ``1W``), and ``L`` / ``LW`` cannot be combined with other days;
  ``L-n`` (n <= 30) and ``L-nW`` (the weekday nearest the n-th last day) are supported;
- in day-of-week, ``n#k`` (the k-th weekday n, 1 <= k <= 5) and ``nL`` (the last weekday n) ignore
  any parts after them; ``L`` alone is Saturday (7); days are 1 = Sunday ... 7 = Saturday;
- exactly one of day-of-month and day-of-week must be ``?``; years are not range-checked.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_MONTHS = {
    m: i
    for i, m in enumerate(
        ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"], 1
    )
}
_DAYS = {d: i for i, d in enumerate(["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"], 1)}
_PART = re.compile(r"^(\*|[0-9]+|[A-Z]{3})(?:-([0-9]+|[A-Z]{3}))?(?:/([0-9]+))?$")


class QuartzError(ValueError):
    """An invalid expression or time zone; the message says what is wrong."""


@dataclass(frozen=True)
class Field:
    """How one numeric field is bounded: its range, the step limit Quartz applies, its names."""

    what: str
    low: int
    high: int
    max_step: int  # the largest step Quartz accepts
    names: tuple[tuple[str, int], ...] = ()
    wraps_to_high: bool = False  # a wrapped value of 0 means the field's maximum (days, months)


SECONDS = Field("seconds", 0, 59, 59)
MINUTES = Field("minutes", 0, 59, 59)
HOURS = Field("hours", 0, 23, 23)
DAYS_OF_MONTH = Field("day-of-month", 1, 31, 31, wraps_to_high=True)
MONTHS = Field("month", 1, 12, 12, tuple(_MONTHS.items()), wraps_to_high=True)
DAYS_OF_WEEK = Field("day-of-week", 1, 7, 7, tuple(_DAYS.items()), wraps_to_high=True)
YEARS = Field("year", 0, 9999, 10**9)


@dataclass(frozen=True)
class DayOfMonth:
    """A day-of-month rule: a set of days, or ``L-offset`` / ``nW`` / ``LW`` / ``L-nW``."""

    values: frozenset[int] = frozenset()
    last_offset: int | None = None  # L, L-n: counted from the month's last day
    nearest_weekday: bool = False  # W: the weekday nearest the day (``day`` or the L day)
    day: int | None = None  # nW: the day n


@dataclass(frozen=True)
class DayOfWeek:
    """A day-of-week rule: a set of weekdays (1 = Sunday), or ``nL`` / ``n#k`` for one weekday."""

    values: frozenset[int] = frozenset()
    last: bool = False  # nL: the last such weekday of the month
    nth: int | None = None  # n#k: the k-th such weekday of the month


def _value(token: str, field: Field) -> int:
    names = dict(field.names)
    if token.isdigit():
        value = int(token)
    elif token in names:
        value = names[token]
    else:
        raise QuartzError(f"invalid {field.what} value {token!r}")
    if not field.low <= value <= field.high:
        raise QuartzError(f"{field.what} value {value} is out of range {field.low}-{field.high}")
    return value


def parse_values(text: str, field: Field) -> frozenset[int]:
    """The values of a plain field (lists, ranges, wrap-around ranges, steps) as Quartz reads them."""
    values: set[int] = set()
    for part in text.split(","):
        match = _PART.match(part)
        if match is None:
            raise QuartzError(f"invalid {field.what} field part {part!r}")
        first_text, last_text, step_text = match.groups()
        step = int(step_text) if step_text else 0
        if step > field.max_step:
            raise QuartzError(f"step {step} is too large for the {field.what} field")
        named = first_text.isalpha() or bool(last_text and last_text.isalpha())
        if named:
            step = 0  # Quartz ignores a step after a name
        if first_text == "*":
            if last_text:
                raise QuartzError(f"invalid {field.what} field part {part!r}")
            first, last = field.low, field.high
        else:
            first = _value(first_text, field)
            last = _value(last_text, field) if last_text else (field.high if step else first)
        values.update(_expand(first, last, step or 1, field))
    return frozenset(values)


def _expand(first: int, last: int, step: int, field: Field) -> list[int]:
    if last >= first:
        return list(range(first, last + 1, step))
    size = field.high + 1 if field.low == 0 else field.high  # a wrapped range goes round once
    out = []
    for value in range(first, last + size + 1, step):
        wrapped = value % size
        out.append(field.high if wrapped == 0 and field.wraps_to_high else wrapped)
    return out


def parse_day_of_month(text: str) -> DayOfMonth:
    parts = text.split(",")
    first = parts[0]
    if len(parts) > 1 and any(p.startswith("L") for p in parts):
        raise QuartzError("'L' and 'LW' cannot be combined with other days of the month")
    if first == "L" or first == "LW" or re.fullmatch(r"L-\d+W?", first):
        if "," in text:
            raise QuartzError("'L' and 'LW' cannot be combined with other days of the month")
        offset = int(first[2:].rstrip("W")) if first.startswith("L-") else 0
        if offset > 30:
            raise QuartzError(f"the offset from the last day must be <= 30, got {offset}")
        return DayOfMonth(last_offset=offset, nearest_weekday=first.endswith("W"))
    if re.fullmatch(r"\d+W", first):
        return DayOfMonth(day=_value(first[:-1], DAYS_OF_MONTH), nearest_weekday=True)
    return DayOfMonth(values=parse_values(text, DAYS_OF_MONTH))


def parse_day_of_week(text: str) -> DayOfWeek:
    first = text.split(",")[0]
    if first == "L":
        return DayOfWeek(values=frozenset([7]))
    match = re.fullmatch(r"([0-9]+|[A-Z]{3})(?:(L)|#([0-9]+))", first)
    if match is None:
        return DayOfWeek(values=parse_values(text, DAYS_OF_WEEK))
    weekday = frozenset([_value(match.group(1), DAYS_OF_WEEK)])
    if match.group(2):
        return DayOfWeek(values=weekday, last=True)
    nth = int(match.group(3))
    if not 1 <= nth <= 5:
        raise QuartzError(f"the # in {first!r} must be followed by 1-5")
    return DayOfWeek(values=weekday, nth=nth)
