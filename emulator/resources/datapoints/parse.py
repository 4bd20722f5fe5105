"""Reading datapoint requests: inserted points (JSON and protobuf), times, status codes.

Hot path: an insert of 100,000 points is checked in one Python loop per point with no schema
validator (emulator/spec.py is ~100 µs per body, far too slow here); the rules are CDF's:
timestamps in years 1900..2099, numeric values in (-1e100, 1e100), 'NaN'/'Infinity'/'-Infinity'
and missing values only on points whose status is Bad, strings at most 1023 UTF-8 bytes.
"""

from __future__ import annotations

import math
import re
from typing import Any

import numpy as np

import emulator.validation as validation
from emulator.errors import bad_request
from emulator.resources.timeseries.series import BAD_BIT, UNCERTAIN_BIT

MIN_TIMESTAMP = -2208988800000  # 1900-01-01T00:00:00Z
MAX_TIMESTAMP = 4102444799999  # 2099-12-31T23:59:59.999Z
MAX_ABS_VALUE = 1e100
MAX_STRING_BYTES = 1023
MAX_POINTS_PER_REQUEST = 100_000
MAX_ITEMS_PER_INSERT = 10_000
NON_FINITE = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}

# Status symbols the emulator knows (CDF accepts the OPC UA names; these are the common ones).
STATUS_SYMBOLS: dict[str, int] = {
    "Good": 0,
    "GoodClamped": 0x00300000,
    "Uncertain": UNCERTAIN_BIT,
    "UncertainLastUsableValue": 0x40900000,
    "UncertainSensorNotAccurate": 0x40930000,
    "UncertainEngineeringUnitsExceeded": 0x40940000,
    "UncertainSubNormal": 0x40950000,
    "Bad": BAD_BIT,
    "BadConfigurationError": 0x80890000,
    "BadNotConnected": 0x808A0000,
    "BadDeviceFailure": 0x808B0000,
    "BadSensorFailure": 0x808C0000,
    "BadOutOfService": 0x808D0000,
    "BadNoCommunication": 0x80310000,
    "BadOutOfRange": 0x803C0000,
    "BadWaitingForInitialData": 0x80320000,
}
SYMBOL_OF_CODE = {code: symbol for symbol, code in STATUS_SYMBOLS.items()}


def symbol_of(code: int) -> str:
    found = SYMBOL_OF_CODE.get(code)
    if found is not None:
        return found
    return ("Good", "Uncertain", "Bad", "Bad")[(code >> 30) & 3]


def loads_strict(raw: bytes) -> Any:
    """JSON without what Python accepts and CDF refuses: NaN, Infinity, numbers that overflow a
    double (1e400), nesting too deep to parse (emulator.validation.loads_strict)."""
    if not raw.strip():
        raise bad_request("Request body is empty: expected a JSON object")
    try:
        return validation.loads_strict(raw)
    except ValueError as exc:
        raise bad_request(f"Request body is not valid JSON: {exc}") from None


def parse_status(raw: Any, where: str) -> int:
    if not isinstance(raw, dict) or set(raw) - {"code", "symbol"} or not raw:
        raise bad_request(f"{where}.status must be an object with code and/or symbol")
    code = raw.get("code")
    symbol = raw.get("symbol")
    if code is not None and (isinstance(code, bool) or not isinstance(code, int) or not 0 <= code < 2**32):
        raise bad_request(f"{where}.status.code must be a 32-bit status code")
    if symbol is not None:
        if not isinstance(symbol, str) or symbol not in STATUS_SYMBOLS:
            raise bad_request(f"{where}.status.symbol {str(symbol)[:60]!r} is not a known status symbol")
        if code is not None and STATUS_SYMBOLS[symbol] != code:
            raise bad_request(f"{where}.status: code {code} and symbol {symbol} do not match")
        return STATUS_SYMBOLS[symbol]
    if code is None:
        raise bad_request(f"{where}.status must have a code or a symbol")
    return int(code)


class Points:
    """Inserted points of one time series, checked, as arrays ready for ``Series.insert``."""

    __slots__ = ("is_string", "nulls", "status", "ts", "values")

    def __init__(self, is_string: bool, ts: list[int], values: list[Any], status: list[int] | None,
                 nulls: list[bool] | None) -> None:  # fmt: skip
        self.is_string = is_string
        self.ts = np.asarray(ts, dtype=np.int64)
        self.values = np.asarray(values, dtype=object if is_string else np.float64)
        if is_string and self.values.ndim != 1:  # numpy would make a 2-D array of equal strings
            self.values = np.empty(len(values), dtype=object)
            self.values[:] = values
        self.status = np.asarray(status, dtype=np.int64) if status is not None else None
        self.nulls = np.asarray(nulls, dtype=bool) if nulls is not None else None


def check_timestamp(ts: Any, where: str) -> int:
    if isinstance(ts, bool) or not isinstance(ts, int):
        if isinstance(ts, float) and ts.is_integer():
            ts = int(ts)
        else:
            raise bad_request(f"{where}.timestamp must be an integer (epoch milliseconds)")
    if not MIN_TIMESTAMP <= ts <= MAX_TIMESTAMP:
        raise bad_request(
            f"{where}.timestamp {ts} is outside the years 1900 to 2099 ({MIN_TIMESTAMP}..{MAX_TIMESTAMP})"
        )
    return int(ts)


def parse_points(raw: Any, is_string: bool, where: str) -> Points:
    """Check the JSON ``datapoints`` of one insert item against its time series' type."""
    if not isinstance(raw, list):
        raise bad_request(f"{where}.datapoints must be an array")
    ts_out: list[int] = []
    values: list[Any] = []
    status: list[int] | None = None
    nulls: list[bool] | None = None
    for i, dp in enumerate(raw):
        if type(dp) is not dict:
            raise bad_request(f"{where}.datapoints[{i}] must be an object")
        ts = dp.get("timestamp")
        if type(ts) is not int or not MIN_TIMESTAMP <= ts <= MAX_TIMESTAMP:
            ts = check_timestamp(ts, f"{where}.datapoints[{i}]")
        value = dp.get("value")
        code = 0
        if len(dp) > 2 or "status" in dp:
            extra = set(dp) - {"timestamp", "value", "status"}
            if extra:
                raise bad_request(f"{where}.datapoints[{i}]: unknown field(s) {', '.join(sorted(extra))}")
            if "status" in dp:
                code = parse_status(dp["status"], f"{where}.datapoints[{i}]")
                if code and status is None:
                    status = [0] * len(ts_out)
        bad = code & BAD_BIT != 0
        is_null = False
        if value is None:
            if not bad:
                raise bad_request(f"{where}.datapoints[{i}].value is required unless the status is Bad")
            is_null = True
            value = "" if is_string else math.nan
        elif is_string:
            if type(value) is not str:
                raise bad_request(f"{where}.datapoints[{i}].value must be a string (string time series)")
            if len(value) > MAX_STRING_BYTES // 4 and len(value.encode()) > MAX_STRING_BYTES:
                raise bad_request(f"{where}.datapoints[{i}].value is longer than {MAX_STRING_BYTES} bytes")
        else:
            kind = type(value)
            if kind is float or kind is int:
                if not -MAX_ABS_VALUE < value < MAX_ABS_VALUE:
                    raise bad_request(f"{where}.datapoints[{i}].value {value} is outside (-1e100, 1e100)")
            elif kind is str and value in NON_FINITE:
                if not bad:
                    raise bad_request(
                        f"{where}.datapoints[{i}].value {value!r} is only allowed on points with a Bad status"
                    )
                value = NON_FINITE[value]
            else:
                raise bad_request(f"{where}.datapoints[{i}].value must be a number (numeric time series)")
        ts_out.append(ts)
        values.append(value)
        if status is not None:
            status.append(code)
        if is_null or nulls is not None:
            if nulls is None:
                nulls = [False] * (len(ts_out) - 1)
            nulls.append(is_null)
    return Points(is_string, ts_out, values, status, nulls)


_RELATIVE = re.compile(r"^(\d+)(s|m|h|d|w)-(ago|ahead)$")
_UNIT_MS = {"s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000, "w": 604_800_000}


def parse_time(value: Any, now: int, where: str) -> int:
    """A timestamp: epoch ms, ``now``, or ``N[s|m|h|d|w]-ago`` (and ``-ahead``) as CDF accepts."""
    if isinstance(value, bool):
        raise bad_request(f"{where} must be epoch milliseconds or a time string like '2d-ago'")
    if isinstance(value, int):
        if not MIN_TIMESTAMP <= value <= MAX_TIMESTAMP + 1:
            raise bad_request(f"{where} {value} is outside the years 1900 to 2099")
        return value
    if isinstance(value, str):
        if value == "now":
            return now
        match = _RELATIVE.match(value)
        if match:
            offset = int(match.group(1)) * _UNIT_MS[match.group(2)]
            moved = now - offset if match.group(3) == "ago" else now + offset
            return min(max(moved, MIN_TIMESTAMP), MAX_TIMESTAMP + 1)
        if value.lstrip("-").isdigit():
            return parse_time(int(value), now, where)
    raise bad_request(
        f"{where} must be epoch milliseconds or a time string like '2d-ago', got {str(value)[:40]!r}"
    )
