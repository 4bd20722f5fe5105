"""Datapoint answers on the wire: protobuf (what cognite-sdk asks for) and JSON.

The protobuf messages are the SDK's own generated ones (cognite.client._proto). Building one
message object per point costs ~2.4 µs (0.24 s per 100,000 points, more than the SDK then needs to
parse them), so raw numeric points without status or null are encoded directly with numpy into
the same bytes: each ``NumericDatapoint`` is ``0x08 varint(timestamp) 0x11 double(value)``,
embedded as field 1 of ``NumericDatapoints``, which is field 3 of ``DataPointListItem``. Protobuf
readers accept fields in any order, so the item's other fields come from the generated message.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt
from cognite.client._proto.data_point_list_response_pb2 import (
    TIMESERIES_TYPE_NUMERIC,
    TIMESERIES_TYPE_STRING,
    DataPointListItem,
)
from cognite.client._proto.data_points_pb2 import (
    AggregateDatapoint,
    NumericDatapoint,
    Status,
    StringDatapoint,
)

from emulator.resources.datapoints.parse import symbol_of

_SHIFTS = (np.arange(10, dtype=np.uint64) * np.uint64(7)).reshape(1, 10)


def varint(value: int) -> bytes:
    out = bytearray()
    value &= (1 << 64) - 1
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def numeric_points_bytes(ts: npt.NDArray[np.int64], values: npt.NDArray[np.float64]) -> bytes:
    """The serialized ``NumericDatapoints`` message of good points with values (no status)."""
    n = int(ts.size)
    if n == 0:
        return b""
    lo, hi = int(ts[0]), int(ts[-1])  # sorted
    if lo >= 0 and len(varint(lo)) == len(varint(hi)):
        return _fixed_width(ts, values, len(varint(lo)))
    unsigned = ts.astype(np.int64).view(np.uint64).reshape(n, 1)
    groups = (unsigned >> _SHIFTS) & np.uint64(0x7F)  # (n, 10) 7-bit groups, least significant first
    # Number of varint bytes: 1 + the index of the highest non-zero group.
    nonzero = groups != 0
    length = np.where(nonzero.any(axis=1), 10 - np.argmax(nonzero[:, ::-1], axis=1), 1).reshape(n, 1)
    columns = np.arange(10).reshape(1, 10)
    rows = np.zeros((n, 22), dtype=np.uint8)
    rows[:, 0] = 0x0A  # NumericDatapoints.datapoints, length-delimited
    rows[:, 1] = (length[:, 0] + 10).astype(np.uint8)  # 0x08 + varint + 0x11 + 8 bytes (< 128)
    rows[:, 2] = 0x08  # NumericDatapoint.timestamp, varint
    rows[:, 3:13] = groups.astype(np.uint8) | ((columns < length - 1) * 0x80).astype(np.uint8)
    rows[:, 13] = 0x11  # NumericDatapoint.value, 64-bit
    rows[:, 14:22] = np.ascontiguousarray(values, dtype="<f8").view(np.uint8).reshape(n, 8)
    keep = np.ones((n, 22), dtype=bool)
    keep[:, 3:13] = columns < length
    return rows[keep].tobytes()


def _fixed_width(ts: npt.NDArray[np.int64], values: npt.NDArray[np.float64], width: int) -> bytes:
    """The common case: every timestamp's varint has the same length, so every row does too."""
    n = int(ts.size)
    rows = np.empty((n, 12 + width), dtype=np.uint8)
    rows[:, 0] = 0x0A
    rows[:, 1] = 10 + width
    rows[:, 2] = 0x08
    unsigned = ts.view(np.uint64)
    for k in range(width):
        group = ((unsigned >> np.uint64(7 * k)) & np.uint64(0x7F)).astype(np.uint8)
        rows[:, 3 + k] = group | 0x80 if k < width - 1 else group
    rows[:, 3 + width] = 0x11
    rows[:, 4 + width :] = np.ascontiguousarray(values, dtype="<f8").view(np.uint8).reshape(n, 8)
    return rows.tobytes()


def item_header(
    record: dict[str, Any], unit_xid: str | None, converted: bool, cursor: str | None
) -> DataPointListItem:
    item = DataPointListItem(
        id=record["id"],
        isString=bool(record["isString"]),
        isStep=bool(record["isStep"]),
        type=TIMESERIES_TYPE_STRING if record["isString"] else TIMESERIES_TYPE_NUMERIC,
    )
    if record.get("externalId") is not None:
        item.externalId = record["externalId"]
    instance = record.get("instanceId")
    if instance is not None:
        item.instanceId.space = instance["space"]
        item.instanceId.externalId = instance["externalId"]
    if record.get("unit") is not None and not converted:
        item.unit = record["unit"]
    if unit_xid is not None:
        item.unitExternalId = unit_xid
    if cursor:
        item.nextCursor = cursor
    return item


def _status(code: int) -> Status:
    return Status(code=code, symbol=symbol_of(code))


def raw_item_bytes(header: DataPointListItem, points: RawPoints) -> bytes:
    """One serialized ``DataPointListItem`` with raw points."""
    if not points.is_string and points.status is None and points.nulls is None:
        head = header.SerializeToString()
        body = numeric_points_bytes(points.ts, points.values)
        if not body and points.ts.size == 0:
            header.numericDatapoints.SetInParent()
            return bytes(header.SerializeToString())
        return bytes(head) + b"\x1a" + varint(len(body)) + body
    ts_list = points.ts.tolist()
    values = points.values.tolist()
    codes = points.status.tolist() if points.status is not None else None
    nulls = points.nulls.tolist() if points.nulls is not None else None
    made: list[Any] = []
    kind = StringDatapoint if points.is_string else NumericDatapoint
    for i, t in enumerate(ts_list):
        dp = kind(timestamp=t)
        if nulls is not None and nulls[i]:
            dp.nullValue = True
        else:
            dp.value = values[i]
        if codes is not None and codes[i]:
            dp.status.CopyFrom(_status(codes[i]))
        made.append(dp)
    target = header.stringDatapoints if points.is_string else header.numericDatapoints
    target.SetInParent()
    target.datapoints.extend(made)
    return bytes(header.SerializeToString())


def aggregate_item_bytes(
    header: DataPointListItem, rows: list[dict[str, Any]], include_status: bool
) -> bytes:
    header.aggregateDatapoints.SetInParent()
    made = []
    for row in rows:
        fields = {k: v for k, v in row.items() if k not in ("minDatapoint", "maxDatapoint")}
        dp = AggregateDatapoint(**fields)
        for name in ("minDatapoint", "maxDatapoint"):
            if name in row:
                getattr(dp, name).CopyFrom(NumericDatapoint(**row[name]))
        made.append(dp)
    header.aggregateDatapoints.datapoints.extend(made)
    return bytes(header.SerializeToString())


def response_bytes(items: list[bytes]) -> bytes:
    """``DataPointListResponse`` from serialized items (field 1, repeated)."""
    return b"".join(b"\x0a" + varint(len(item)) + item for item in items)


class RawPoints:
    """The raw points of one answer (arrays sliced from a Series, units already converted)."""

    __slots__ = ("is_string", "nulls", "status", "ts", "values")

    def __init__(self, is_string: bool, ts: npt.NDArray[np.int64], values: npt.NDArray[Any],
                 status: npt.NDArray[np.int64] | None, nulls: npt.NDArray[np.bool_] | None) -> None:  # fmt: skip
        self.is_string, self.ts, self.values, self.status, self.nulls = is_string, ts, values, status, nulls


def json_value(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if value != value else ("Infinity" if value > 0 else "-Infinity")
    return value


def raw_points_json(points: RawPoints) -> list[dict[str, Any]]:
    ts_list = points.ts.tolist()
    values = points.values.tolist()
    codes = points.status.tolist() if points.status is not None else None
    nulls = points.nulls.tolist() if points.nulls is not None else None
    out = []
    for i, t in enumerate(ts_list):
        dp: dict[str, Any] = {"timestamp": t}
        if nulls is None or not nulls[i]:
            dp["value"] = json_value(values[i])
        if codes is not None and codes[i]:
            dp["status"] = {"code": codes[i], "symbol": symbol_of(codes[i])}
        out.append(dp)
    return out


def item_json(record: dict[str, Any], unit_xid: str | None, converted: bool) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": record["id"],
        "isString": bool(record["isString"]),
        "isStep": bool(record["isStep"]),
        "type": "string" if record["isString"] else "numeric",
    }
    for name in ("externalId", "instanceId"):
        if record.get(name) is not None:
            out[name] = record[name]
    if record.get("unit") is not None and not converted:
        out["unit"] = record["unit"]
    if unit_xid is not None:
        out["unitExternalId"] = unit_xid
    return out
