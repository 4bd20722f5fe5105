"""Aggregates through the real SDK against values computed by hand (docs/coverage.md has the
definitions): a series with a gap, the same points as a step series, statuses, calendars."""

from __future__ import annotations

import pytest

from tests import ts_kit
from tests.ts_kit import T0, make_series

S = 1000
# (seconds after T0, value): a ramp up and down, a gap of 17 s, then two more points.
POINTS = [(0, 0.0), (4, 4.0), (8, 0.0), (25, 10.0), (28, 4.0)]
ALL = [
    "average", "max", "min", "count", "sum", "interpolation", "step_interpolation", "total_variation",
    "continuous_variance", "discrete_variance",
]  # fmt: skip

sdk = ts_kit.sdk  # the fixture: every test runs in-process and over loopback


def _fetch(client, xid: str, **kwargs):
    return client.time_series.data.retrieve(
        external_id=xid, start=T0, end=T0 + 30 * S, aggregates=ALL, granularity="10s", **kwargs
    )


def _insert(client, xid: str, **fields) -> None:
    make_series(client, xid, **fields)
    client.time_series.data.insert([(T0 + t * S, v) for t, v in POINTS], external_id=xid)


def test_linear_series_with_a_gap(sdk) -> None:
    _emu, client = sdk
    _insert(client, "lin")
    got = _fetch(client, "lin")
    # The interval [10 s, 20 s) holds no point: it is not returned.
    assert got.timestamp == [T0, T0 + 20 * S]
    assert got.count == [3, 2]
    assert got.sum == [4.0, 14.0]
    assert got.min == [0.0, 4.0] and got.max == [4.0, 10.0]
    # f at 10 s and at 20 s, on the line from (8 s, 0) to (25 s, 10):
    f10, f20 = 10 * 2 / 17, 10 * 12 / 17
    # [0, 10): area 8 + 8 + (0 + f10) / 2 * 2 over 10 s. [20, 28] (the series ends at 28 s):
    # (f20 + 10) / 2 * 5 + (10 + 4) / 2 * 3 over 8 s.
    area0, area2 = 16 + f10, (f20 + 10) / 2 * 5 + 21
    assert got.average == [pytest.approx(area0 / 10), pytest.approx(area2 / 8)]
    assert got.interpolation == [0.0, pytest.approx(f20)]
    assert got.step_interpolation == [0.0, 0.0]
    assert got.total_variation == [pytest.approx(4 + 4 + f10), pytest.approx((10 - f20) + 6)]
    # Mean of f² on linear pieces: L (a² + ab + b²) / 3.
    square0 = (4 * 16 / 3 + 4 * 16 / 3 + 2 * f10**2 / 3) / 10
    square2 = (5 * (f20**2 + f20 * 10 + 100) / 3 + 3 * (100 + 40 + 16) / 3) / 8
    assert got.continuous_variance == [
        pytest.approx(square0 - (area0 / 10) ** 2),
        pytest.approx(square2 - (area2 / 8) ** 2),
    ]
    # Population variance: {0, 4, 0} -> mean 4/3, variance 32/9; {10, 4} -> 9.
    assert got.discrete_variance == [pytest.approx(32 / 9), pytest.approx(9.0)]


def test_step_series(sdk) -> None:
    _emu, client = sdk
    _insert(client, "step", is_step=True)
    got = _fetch(client, "step")
    assert got.count == [3, 2]
    # [0, 10): 0 for 4 s, 4 for 4 s, 0 for 2 s. [20, 28]: 0 (held from 8 s) for 5 s, 10 for 3 s.
    assert got.average == [pytest.approx(16 / 10), pytest.approx(30 / 8)]
    assert got.interpolation == [0.0, 0.0]  # for step series, the step interpolation
    assert got.step_interpolation == [0.0, 0.0]
    assert got.total_variation == [pytest.approx(8.0), pytest.approx(16.0)]
    assert got.continuous_variance == [pytest.approx(64 / 10 - 1.6**2), pytest.approx(300 / 8 - 3.75**2)]


def test_min_max_datapoints_and_granularity_alignment(sdk) -> None:
    _emu, client = sdk
    _insert(client, "mm")
    got = client.time_series.data.retrieve(
        external_id="mm",
        start=T0 + 3 * S,
        end=T0 + 30 * S,
        aggregates=["max_datapoint", "min_datapoint"],
        granularity="1m",
    )
    # start rounds down to the minute: one interval holding every point
    assert got.timestamp == [T0]
    assert got.max_datapoint[0].timestamp == T0 + 25 * S and got.max_datapoint[0].value == 10.0
    assert got.min_datapoint[0].timestamp == T0 and got.min_datapoint[0].value == 0.0


def test_status_counts_and_durations(sdk) -> None:
    _emu, client = sdk
    make_series(client, "dur")
    client.time_series.data.insert(
        [
            {"timestamp": T0, "value": 1.0},
            {"timestamp": T0 + 4 * S, "value": 2.0, "status": {"symbol": "Uncertain"}},
            {"timestamp": T0 + 8 * S, "value": 3.0, "status": {"symbol": "Bad"}},
            {"timestamp": T0 + 12 * S, "value": 4.0},
        ],
        external_id="dur",
    )
    got = client.time_series.data.retrieve(
        external_id="dur", start=T0, end=T0 + 20 * S, granularity="10s",
        aggregates=["count_good", "count_uncertain", "count_bad", "duration_good", "duration_uncertain", "duration_bad", "average"],
    )  # fmt: skip
    assert got.count_good == [1, 1] and got.count_uncertain == [1, 0] and got.count_bad == [1, 0]
    assert got.duration_good == [4 * S, 0]
    assert got.duration_uncertain == [4 * S, 0]
    assert got.duration_bad == [2 * S, 2 * S]  # the bad point at 8 s holds until the good one at 12 s
    # Bad and uncertain points are left out of the curve: [0, 10) is the line from 1 (0 s) to 4 (12 s).
    assert got.average[0] == pytest.approx((1 + (1 + 3 * 10 / 12)) / 2)


def test_month_granularity_and_time_zone(sdk) -> None:
    _emu, client = sdk
    make_series(client, "mo")
    day = 86_400_000
    client.time_series.data.insert(
        [(T0 + 14 * day, 1.0), (T0 + 40 * day, 2.0), (T0 + 50 * day, 3.0)], external_id="mo"
    )
    got = client.time_series.data.retrieve(
        external_id="mo", start=T0, end=T0 + 90 * day, aggregates=["count", "sum"], granularity="1mo"
    )
    assert got.timestamp == [T0, T0 + 31 * day] and got.count == [1, 2] and got.sum == [1.0, 5.0]
    # In UTC+05:30, local midnight of 1 January is 18:30 UTC the day before.
    shifted = client.time_series.data.retrieve(
        external_id="mo",
        start=T0,
        end=T0 + 90 * day,
        aggregates="count",
        granularity="1d",
        timezone="UTC+05:30",
    )
    assert shifted.timestamp[0] == T0 + 14 * day - 5 * 3_600_000 - 30 * 60_000


def test_many_intervals_are_paged_by_the_sdk(sdk) -> None:
    _emu, client = sdk
    make_series(client, "pages")
    n = 25_000  # more than the 10,000 aggregates of one request
    client.time_series.data.insert([(T0 + i * S, float(i % 7)) for i in range(n)], external_id="pages")
    got = client.time_series.data.retrieve_arrays(
        external_id="pages", start=T0, end=T0 + n * S, aggregates=["count", "max"], granularity="1s"
    )
    assert len(got) == n and int(got.count.sum()) == n
    assert got.max.tolist()[:8] == [0, 1, 2, 3, 4, 5, 6, 0]
