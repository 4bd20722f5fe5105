"""The datapoints of one time series: sorted numpy arrays, binary search for every range.

Timestamps are an ``int64`` array kept sorted and unique; values are ``float64`` (numeric series)
or an object array of ``str`` (string series); status codes and "null value" flags exist only once
a point carries them (most series never do, and then cost nothing). Ranges are found with
``searchsorted`` (binary search), so a read of a window is O(log n + k) whatever the series' size,
and memory stays at ~16 bytes per numeric point. numpy earns its place here: the protobuf encoder
(emulator/resources/datapoints/encode.py) and the aggregates work on slices of these arrays
without ever making a Python object per point.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

Int64Array = npt.NDArray[np.int64]

# The two top bits of a CDF (OPC UA) status code give its category.
UNCERTAIN_BIT = 0x40000000
BAD_BIT = 0x80000000


def category_of(codes: Int64Array) -> Int64Array:
    """0 Good, 1 Uncertain, 2 Bad, per status code."""
    return ((codes >> 30) & 3).astype(np.int64)


class Series:
    """The points of one time series (numeric or string)."""

    __slots__ = ("is_string", "nulls", "status", "ts", "values")

    def __init__(self, is_string: bool) -> None:
        self.is_string = is_string
        self.ts: Int64Array = np.empty(0, dtype=np.int64)
        self.values: npt.NDArray[Any] = np.empty(0, dtype=object if is_string else np.float64)
        self.status: Int64Array | None = None  # status codes, when any point is not Good
        self.nulls: npt.NDArray[np.bool_] | None = None  # numeric points without a value (bad only)

    def __len__(self) -> int:
        return int(self.ts.size)

    # --- writing ------------------------------------------------------------------------------
    def insert(
        self,
        ts: Int64Array,
        values: npt.NDArray[Any],
        status: Int64Array | None = None,
        nulls: npt.NDArray[np.bool_] | None = None,
    ) -> None:
        """Add points (any order); a point at an existing timestamp replaces it, and within one
        call the last point given for a timestamp wins."""
        if ts.size == 0:
            return
        if ts.size > 1 and not bool(np.all(ts[1:] > ts[:-1])):
            # Sort, keeping the last of duplicated timestamps (stable sort of the reversed input).
            rev = np.argsort(ts[::-1], kind="stable")
            order = (ts.size - 1) - rev
            keep = np.ones(order.size, dtype=bool)
            sorted_ts = ts[order]
            keep[1:] = sorted_ts[1:] != sorted_ts[:-1]
            order = order[keep]
            ts, values = ts[order], values[order]
            status = status[order] if status is not None else None
            nulls = nulls[order] if nulls is not None else None
        if status is not None and self.status is None:
            self.status = np.zeros(self.ts.size, dtype=np.int64)
        if nulls is not None and self.nulls is None:
            self.nulls = np.zeros(self.ts.size, dtype=bool)
        if self.status is not None and status is None:
            status = np.zeros(ts.size, dtype=np.int64)
        if self.nulls is not None and nulls is None:
            nulls = np.zeros(ts.size, dtype=bool)
        if self.ts.size == 0 or ts[0] > self.ts[-1]:
            keep_old: slice | npt.NDArray[np.bool_] = slice(None)  # the common case: appending
            self._concat(keep_old, ts, values, status, nulls, sort=False)
            return
        self._concat(~np.isin(self.ts, ts, assume_unique=True), ts, values, status, nulls, sort=True)

    def _concat(
        self,
        keep_old: Any,
        ts: Int64Array,
        values: npt.NDArray[Any],
        status: Int64Array | None,
        nulls: npt.NDArray[np.bool_] | None,
        *,
        sort: bool,
    ) -> None:
        new_ts = np.concatenate((self.ts[keep_old], ts))
        order = np.argsort(new_ts, kind="stable") if sort else None

        def merged(old: npt.NDArray[Any], new: npt.NDArray[Any]) -> npt.NDArray[Any]:
            joined = np.concatenate((old[keep_old], new))
            return joined[order] if order is not None else joined

        self.values = merged(self.values, values)
        if self.status is not None and status is not None:
            self.status = merged(self.status, status)
        if self.nulls is not None and nulls is not None:
            self.nulls = merged(self.nulls, nulls)
        self.ts = new_ts[order] if order is not None else new_ts

    def delete_range(self, begin: int, end: int) -> int:
        """Remove the points with ``begin <= timestamp < end``; returns how many."""
        lo, hi = self.bounds(begin, end)
        if hi <= lo:
            return 0
        keep = np.r_[0:lo, hi : self.ts.size]
        self.ts = self.ts[keep]
        self.values = self.values[keep]
        if self.status is not None:
            self.status = self.status[keep]
        if self.nulls is not None:
            self.nulls = self.nulls[keep]
        return hi - lo

    # --- reading ------------------------------------------------------------------------------
    def bounds(self, start: int, end: int) -> tuple[int, int]:
        """Indices ``lo, hi`` of the points with ``start <= timestamp < end`` (binary search)."""
        lo = int(np.searchsorted(self.ts, start, side="left"))
        hi = int(np.searchsorted(self.ts, end, side="left"))
        return lo, max(lo, hi)

    def selected(self, lo: int, hi: int, *, ignore_bad: bool, uncertain_is_bad: bool) -> Int64Array:
        """Indices in ``[lo, hi)`` of the points a query sees (bad, and maybe uncertain, left out)."""
        if self.status is None or not ignore_bad:
            return np.arange(lo, hi, dtype=np.int64)
        category = category_of(self.status[lo:hi])
        visible = category == 0 if uncertain_is_bad else category != 2
        return (np.flatnonzero(visible) + lo).astype(np.int64)

    def last_visible_before(self, index: int, *, ignore_bad: bool, uncertain_is_bad: bool) -> Int64Array:
        """The index of the last visible point before ``index`` (empty array if none), in O(1)
        without status codes (a latest query must not scan a million points)."""
        if self.status is None or not ignore_bad:
            return np.arange(index - 1, index, dtype=np.int64) if index > 0 else np.empty(0, dtype=np.int64)
        return self.selected(0, index, ignore_bad=ignore_bad, uncertain_is_bad=uncertain_is_bad)[-1:]

    def first_visible_from(self, index: int, *, ignore_bad: bool, uncertain_is_bad: bool) -> Int64Array:
        if self.status is None or not ignore_bad:
            return np.arange(index, min(index + 1, len(self)), dtype=np.int64)
        return self.selected(index, len(self), ignore_bad=ignore_bad, uncertain_is_bad=uncertain_is_bad)[:1]

    def good_mask(self, *, uncertain_is_bad: bool) -> npt.NDArray[np.bool_] | None:
        """Which points aggregates use (None: all of them)."""
        if self.status is None:
            return None
        category = category_of(self.status)
        return category == 0 if uncertain_is_bad else category != 2  # type: ignore[no-any-return]

    # --- state files ----------------------------------------------------------------------------
    def dump(self) -> dict[str, Any]:
        values = self.values.tolist()
        if not self.is_string:
            values = [None if v != v else v for v in values]  # JSON has no NaN: null marks it
        out: dict[str, Any] = {"timestamps": self.ts.tolist(), "values": values}
        if self.status is not None:
            out["status"] = self.status.tolist()
        if self.nulls is not None:
            out["nulls"] = self.nulls.tolist()
        return out

    @classmethod
    def load(cls, is_string: bool, data: dict[str, Any]) -> Series:
        series = cls(is_string)
        series.ts = np.asarray(data.get("timestamps", []), dtype=np.int64)
        raw = data.get("values", [])
        if is_string:
            series.values = np.asarray(raw, dtype=object)
        else:
            series.values = np.asarray([np.nan if v is None else v for v in raw], dtype=np.float64)
        if "status" in data:
            series.status = np.asarray(data["status"], dtype=np.int64)
        if "nulls" in data:
            series.nulls = np.asarray(data["nulls"], dtype=bool)
        if series.values.size != series.ts.size:
            raise ValueError("time series points: timestamps and values differ in length")
        return series
