"""Aggregates of numeric points over intervals, following CDF's documented definitions.

Notation, for one interval [t0, t1): the *good* points (Bad ones, and Uncertain ones unless
``treatUncertainAsBad`` is false, are left out) define a function f: linear between consecutive
points, or constant from each point to the next for step series. f is known from the series'
first to its last good point, so an interval's *domain* is D = [max(t0, first), min(t1, last)].

- count, sum, min, max, minDatapoint, maxDatapoint: over the good points in [t0, t1).
- discreteVariance: population variance (divide by n) of those points' values.
- average: time-weighted, the integral of f over D divided by |D| (f's value when |D| is 0).
- continuousVariance: time-weighted variance of f over D (mean of f² minus the square of the mean).
- totalVariation: the total variation of f over D (sum of absolute changes, jumps of a step series included).
- interpolation: f(t0); stepInterpolation: the value of the last good point at or before t0
  (for step series interpolation equals stepInterpolation); omitted when f(t0) is unknown.
- countGood/countUncertain/countBad: all points in [t0, t1) by status category.
- durationGood/Uncertain/Bad: milliseconds of D during which the most recent point (any status)
  had that category.

An interval is returned when it holds at least one point (of any status).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from emulator.resources.datapoints.calendar import Intervals

AGGREGATES = (
    "average", "max", "maxDatapoint", "min", "minDatapoint", "count", "sum", "interpolation",
    "stepInterpolation", "totalVariation", "continuousVariance", "discreteVariance", "countGood",
    "countUncertain", "countBad", "durationGood", "durationUncertain", "durationBad",
)  # fmt: skip
INT_AGGREGATES = frozenset(
    {"count", "countGood", "countUncertain", "countBad", "durationGood", "durationUncertain", "durationBad"}
)
_TIME_WEIGHTED = frozenset({"average", "continuousVariance", "totalVariation"})
_BY_STATUS = frozenset(
    {"countGood", "countUncertain", "countBad", "durationGood", "durationUncertain", "durationBad"}
)


class Curve:
    """The good points of a series as Python lists, and f evaluated on them."""

    def __init__(self, ts: npt.NDArray[np.int64], values: npt.NDArray[np.float64], is_step: bool) -> None:
        self.ts: list[int] = ts.tolist()
        self.v: list[float] = values.tolist()
        self.ts_array = ts
        self.step = is_step

    def last_at_or_before(self, t: int) -> int:
        return int(np.searchsorted(self.ts_array, t, side="right")) - 1

    def at(self, t: int, *, before: bool = False) -> float | None:
        """f(t) (the left limit f(t-) when ``before``), or None outside the known range."""
        j = int(np.searchsorted(self.ts_array, t, side="left" if before else "right")) - 1
        if j < 0:
            return None
        if self.ts[j] == t or self.step:
            return self.v[j]
        if j + 1 >= len(self.ts):
            return None
        t_a, t_b = self.ts[j], self.ts[j + 1]
        return self.v[j] + (self.v[j + 1] - self.v[j]) * (t - t_a) / (t_b - t_a)

    def breakpoints(self, t0: int, t1: int) -> tuple[list[int], list[float]]:
        """The points of f on D: its ends and every point strictly inside."""
        if not self.ts:
            return [], []
        lo, hi = max(t0, self.ts[0]), min(t1, self.ts[-1])
        if hi < lo:
            return [], []
        i = int(np.searchsorted(self.ts_array, lo, side="right"))
        j = int(np.searchsorted(self.ts_array, hi, side="left"))
        xs = [lo, *self.ts[i:j]]
        ys = [self.at(lo), *self.v[i:j]]
        if hi > lo:
            xs.append(hi)
            ys.append(self.at(hi, before=hi == t1))
        return xs, [float(y) for y in ys if y is not None] if None not in ys else []

    def weighted(self, t0: int, t1: int) -> dict[str, float]:
        xs, ys = self.breakpoints(t0, t1)
        if not xs:
            return {}
        if len(xs) == 1:
            return {"average": ys[0], "continuousVariance": 0.0, "totalVariation": 0.0}
        area = square = 0.0
        for k in range(len(xs) - 1):
            width = xs[k + 1] - xs[k]
            a, b = ys[k], ys[k + 1]
            if self.step:
                area += width * a
                square += width * a * a
            else:
                area += width * (a + b) / 2
                square += width * (a * a + a * b + b * b) / 3
        span = xs[-1] - xs[0]
        mean = area / span
        variation = sum(abs(ys[k + 1] - ys[k]) for k in range(len(ys) - 1))
        return {
            "average": mean,
            "continuousVariance": max(square / span - mean * mean, 0.0),
            "totalVariation": variation,
        }


def compute(
    *,
    good_ts: npt.NDArray[np.int64],
    good_values: npt.NDArray[np.float64],
    all_ts: npt.NDArray[np.int64],
    all_categories: npt.NDArray[np.int64] | None,
    is_step: bool,
    intervals: Intervals,
    start: int,
    end: int,
    limit: int,
    wanted: list[str],
) -> tuple[list[dict[str, Any]], int | None]:
    """The first ``limit`` non-empty intervals from the one holding ``start`` up to ``end``, and
    the start of the next non-empty one (the cursor), if any."""
    first_start = intervals.start_of(intervals.index_of(start))
    lo = int(np.searchsorted(all_ts, first_start, side="left"))
    hi = int(np.searchsorted(all_ts, end, side="left"))
    if hi <= lo:
        return [], None
    window = all_ts[lo:hi]
    ks = intervals.indices(window)
    cuts = np.flatnonzero(np.diff(ks)) + 1
    group_starts = np.concatenate(([0], cuts)).tolist()
    group_ks = ks[np.asarray(group_starts, dtype=np.int64)].tolist() if group_starts else []
    next_cursor = None
    if len(group_ks) > limit:
        next_cursor = intervals.start_of(int(group_ks[limit]))
        group_ks = group_ks[:limit]
    curve = Curve(good_ts, good_values, is_step)
    need_weighted = bool(_TIME_WEIGHTED.intersection(wanted))
    need_status = bool(_BY_STATUS.intersection(wanted))
    categories = all_categories if all_categories is not None else np.zeros(all_ts.size, dtype=np.int64)
    out: list[dict[str, Any]] = []
    for k in group_ks:
        t0, t1 = intervals.start_of(int(k)), intervals.start_of(int(k) + 1)
        row: dict[str, Any] = {"timestamp": t0}
        a = int(np.searchsorted(good_ts, t0, side="left"))
        b = int(np.searchsorted(good_ts, t1, side="left"))
        values = curve.v[a:b]
        if values:
            row["count"] = len(values)
            row["sum"] = float(sum(values))
            i_min, i_max = int(np.argmin(good_values[a:b])), int(np.argmax(good_values[a:b]))
            row["min"], row["max"] = values[i_min], values[i_max]
            row["minDatapoint"] = {"timestamp": curve.ts[a + i_min], "value": values[i_min]}
            row["maxDatapoint"] = {"timestamp": curve.ts[a + i_max], "value": values[i_max]}
            mean = row["sum"] / len(values)
            row["discreteVariance"] = float(sum((v - mean) ** 2 for v in values) / len(values))
        else:
            row["count"] = 0
        if need_weighted:
            row.update(curve.weighted(t0, t1))
        j = curve.last_at_or_before(t0)
        if j >= 0:
            row["stepInterpolation"] = curve.v[j]
        interpolated = curve.at(t0)  # for step series f(t0) is the step interpolation
        if interpolated is not None:
            row["interpolation"] = interpolated
        if need_status:
            row.update(_by_status(all_ts, categories, t0, t1))
        out.append({name: row[name] for name in ["timestamp", *wanted] if name in row})
    return out, next_cursor


def _by_status(
    ts: npt.NDArray[np.int64], categories: npt.NDArray[np.int64], t0: int, t1: int
) -> dict[str, int]:
    a = int(np.searchsorted(ts, t0, side="left"))
    b = int(np.searchsorted(ts, t1, side="left"))
    cats = categories[a:b]
    counts = np.bincount(cats, minlength=3) if cats.size else np.zeros(3, dtype=np.int64)
    durations = [0, 0, 0]
    last = int(ts[-1]) if ts.size else t0
    edges = ts[a:b].tolist()
    owners = cats.tolist()
    if a > 0 and (not edges or edges[0] > t0):
        edges.insert(0, t0)  # the point before t0 holds until the first point in the interval
        owners.insert(0, int(categories[a - 1]))
    stop = min(t1, last)
    for i, edge in enumerate(edges):
        until = min(edges[i + 1] if i + 1 < len(edges) else stop, stop)
        if until > edge:
            durations[owners[i] if owners[i] < 3 else 2] += until - edge
    names = ("Good", "Uncertain", "Bad")
    result = {f"count{names[i]}": int(counts[i]) for i in range(3)}
    result.update({f"duration{names[i]}": durations[i] for i in range(3)})
    return result
