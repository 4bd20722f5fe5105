"""The Quartz cron evaluator: syntax, time zones and the DST rule."""

from __future__ import annotations

from datetime import datetime, timezone
from itertools import islice
from zoneinfo import ZoneInfo

import pytest

from emulator.roma.quartz import QuartzError, parse, parse_timezone

UTC = timezone.utc  # datetime.UTC is new in Python 3.11


def ms(text: str) -> int:
    return int(datetime.fromisoformat(text).timestamp() * 1000)


def runs(expr: str, after: str, n: int, tz: str | None = None) -> list[str]:
    zone = parse_timezone(tz)
    out = islice(parse(expr).iter_after(ms(after), zone), n)
    return [datetime.fromtimestamp(t / 1000, zone).isoformat() for t in out]


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("0 * * * * ?", ["2026-01-01T00:01:00+00:00", "2026-01-01T00:02:00+00:00"]),
        ("*/20 * * * * ?", ["2026-01-01T00:00:20+00:00", "2026-01-01T00:00:40+00:00"]),
        (
            "0 30 9 ? * MON-FRI",
            ["2026-01-01T09:30:00+00:00", "2026-01-02T09:30:00+00:00", "2026-01-05T09:30:00+00:00"],
        ),
        ("0 0 12 ? * 1", ["2026-01-04T12:00:00+00:00"]),  # 1 = Sunday
        ("0 0 0 L * ?", ["2026-01-31T00:00:00+00:00", "2026-02-28T00:00:00+00:00"]),
        ("0 0 0 L-2 * ?", ["2026-01-29T00:00:00+00:00", "2026-02-26T00:00:00+00:00"]),
        ("0 0 0 LW * ?", ["2026-01-30T00:00:00+00:00", "2026-02-27T00:00:00+00:00"]),
        (
            "0 0 0 15W * ?",
            ["2026-01-15T00:00:00+00:00", "2026-02-16T00:00:00+00:00", "2026-03-16T00:00:00+00:00"],
        ),
        ("0 0 0 1W * ?", ["2026-02-02T00:00:00+00:00", "2026-03-02T00:00:00+00:00"]),  # Sundays: Monday after
        ("0 0 0 ? * 6L", ["2026-01-30T00:00:00+00:00", "2026-02-27T00:00:00+00:00"]),  # last Friday
        ("0 0 0 ? * 2#1", ["2026-01-05T00:00:00+00:00", "2026-02-02T00:00:00+00:00"]),  # first Monday
        ("0 0 0 ? * L", ["2026-01-03T00:00:00+00:00"]),  # L alone: Saturday
        ("0 0 0 29 FEB ? 2026-2030", ["2028-02-29T00:00:00+00:00"]),
        (
            "0 15,45 8-9 1,15 JAN,JUL ?",
            ["2026-01-01T08:15:00+00:00", "2026-01-01T08:45:00+00:00", "2026-01-01T09:15:00+00:00"],
        ),
    ],
)
def test_syntax(expr: str, expected: list[str]) -> None:
    assert runs(expr, "2026-01-01T00:00:00+00:00", len(expected)) == expected


@pytest.mark.parametrize(
    ("expr", "message"),
    [
        ("* * * * *", "6 or 7 fields"),
        ("0 0 0 * * *", "exactly one of day-of-month and day-of-week"),
        ("0 0 0 ? * ?", "exactly one of day-of-month and day-of-week"),
        ("60 0 0 * * ?", "out of range"),
        ("0 0 24 * * ?", "out of range"),
        ("0 0 0 32 * ?", "out of range"),
        ("0 0 0 ? * 8", "out of range"),
        ("0 0 0 ? * 2#6", "followed by 1-5"),
        ("0 0 0 * 13 ?", "out of range"),
        ("garbage 0 0 * * ?", "invalid"),
        ("0/60 * * * * ?", "too large"),
        ("0 0 0 1,L * ?", "cannot be combined"),
        ("0 0 0 L-31 * ?", "<= 30"),
        ("", "non-empty"),
    ],
)
def test_invalid_expressions(expr: str, message: str) -> None:
    with pytest.raises(QuartzError, match=message):
        parse(expr)


def test_time_zones_iana_and_offsets() -> None:
    assert runs("0 0 9 * * ?", "2026-06-01T00:00:00+00:00", 1, "Asia/Shanghai") == [
        "2026-06-01T09:00:00+08:00"
    ]
    assert runs("0 0 9 * * ?", "2026-06-01T00:00:00+00:00", 1, "UTC+8") == ["2026-06-01T09:00:00+08:00"]
    assert runs("0 0 9 * * ?", "2026-06-01T00:00:00+00:00", 1, "GMT-05:30") == ["2026-06-01T09:00:00-05:30"]
    assert runs("0 0 9 * * ?", "2026-06-01T00:00:00+00:00", 1, "America/New_York") == [
        "2026-06-01T09:00:00-04:00"
    ]
    with pytest.raises(QuartzError, match="unknown time zone"):
        parse_timezone("Mars/Olympus_Mons")


def test_spring_forward_gap_is_skipped() -> None:
    # Europe/Oslo: 2026-03-29 02:00 -> 03:00. A 02:30 run does not exist: Quartz skips that day.
    got = runs("0 30 2 * * ?", "2026-03-28T00:00:00+00:00", 3, "Europe/Oslo")
    assert got == ["2026-03-28T02:30:00+01:00", "2026-03-30T02:30:00+02:00", "2026-03-31T02:30:00+02:00"]
    got = runs("0 0/30 * * * ?", "2026-03-29T00:00:00+01:00", 5, "Europe/Oslo")
    assert got == [
        "2026-03-29T00:30:00+01:00",
        "2026-03-29T01:00:00+01:00",
        "2026-03-29T01:30:00+01:00",
        "2026-03-29T03:00:00+02:00",
        "2026-03-29T03:30:00+02:00",
    ]


def test_fall_back_overlap_fires_at_the_second_occurrence() -> None:
    # Europe/Oslo: 2026-10-25 03:00 -> 02:00. The 02:30 wall time exists twice: it fires once, in CET.
    zone = ZoneInfo("Europe/Oslo")
    got = list(islice(parse("0 30 2 * * ?").iter_after(ms("2026-10-24T12:00:00+00:00"), zone), 2))
    assert [datetime.fromtimestamp(t / 1000, UTC).isoformat() for t in got] == [
        "2026-10-25T01:30:00+00:00",  # 02:30 CET, the second occurrence
        "2026-10-26T01:30:00+00:00",
    ]
    hourly = runs("0 0 * * * ?", "2026-10-24T23:30:00+00:00", 3, "Europe/Oslo")
    assert hourly == [
        "2026-10-25T02:00:00+01:00",  # 02:00 CEST is skipped: it fires at 02:00 CET
        "2026-10-25T03:00:00+01:00",
        "2026-10-25T04:00:00+01:00",
    ]


def test_wrap_around_ranges_and_nearest_weekday_of_a_missing_day() -> None:
    assert runs("0 0 22-2 * * ?", "2026-01-01T21:00:00+00:00", 6)[:5] == [
        "2026-01-01T22:00:00+00:00",
        "2026-01-01T23:00:00+00:00",
        "2026-01-02T00:00:00+00:00",
        "2026-01-02T01:00:00+00:00",
        "2026-01-02T02:00:00+00:00",
    ]
    # 31W: months without a 31st are skipped (April 2026), except a Saturday spill (May 1 2027).
    got = runs("0 0 0 31W * ?", "2026-03-01T00:00:00+00:00", 2)
    assert got == ["2026-03-31T00:00:00+00:00", "2026-05-29T00:00:00+00:00"]
    assert runs("0 0 0 31W * ?", "2027-04-01T00:00:00+00:00", 1) == ["2027-04-30T00:00:00+00:00"]
    assert runs("0 0 0 L-3W * ?", "2026-01-01T00:00:00+00:00", 1) == ["2026-01-28T00:00:00+00:00"]


def test_never_firing_expression_ends() -> None:
    assert list(parse("0 0 0 30 FEB ?").iter_after(0, UTC)) == []
