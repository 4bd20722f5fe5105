"""Type checks of instance property values against their container property definitions.

A value that does not fit its property is a 400 naming the instance, the property and the
expected type; values are stored as they will be answered (timestamps normalised to CDF's
``YYYY-MM-DDTHH:MM:SS.sss+00:00``).
"""

from __future__ import annotations

import math
import re
from datetime import date, datetime, timezone
from typing import Any

from emulator.errors import bad_request

UTC = timezone.utc  # datetime.UTC is new in Python 3.11

INT_RANGES = {"int32": (-(2**31), 2**31 - 1), "int64": (-(2**63), 2**63 - 1)}
FLOAT32_MAX = 3.4028234663852886e38
TEXT_MAX_BYTES = 128_000
DEFAULT_LIST_SIZE = {"direct": 100}  # CDF's defaults without maxListSize; others below
DEFAULT_MAX_LIST = 1000
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class ValueProblem(Exception):
    """A value that does not fit; turned into a 400 by ``check_value``'s caller."""


def _fail(expected: str, value: Any) -> ValueProblem:
    shown = repr(value)
    return ValueProblem(f"expected {expected}, got {shown[:60]}")


def _scalar(kind: str, definition_type: dict[str, Any], value: Any) -> Any:
    if kind == "text":
        if not isinstance(value, str):
            raise _fail("a string", value)
        if len(value.encode()) > TEXT_MAX_BYTES:
            raise ValueProblem(f"text is longer than {TEXT_MAX_BYTES} bytes")
        return value
    if kind == "boolean":
        if not isinstance(value, bool):
            raise _fail("a boolean", value)
        return value
    if kind in INT_RANGES:
        if isinstance(value, bool) or not isinstance(value, int):
            raise _fail(f"an integer ({kind})", value)
        low, high = INT_RANGES[kind]
        if not low <= value <= high:
            raise ValueProblem(f"{value} is out of range for {kind}")
        return value
    if kind in ("float32", "float64"):
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise _fail(f"a finite number ({kind})", value)
        if kind == "float32" and abs(value) > FLOAT32_MAX:
            raise ValueProblem(f"{value} is out of range for float32")
        return value
    if kind == "timestamp":
        return normalise_timestamp(value)
    if kind == "date":
        if not isinstance(value, str) or not DATE_RE.match(value):
            raise _fail("a date (YYYY-MM-DD)", value)
        try:
            date.fromisoformat(value)
        except ValueError:
            raise _fail("a date (YYYY-MM-DD)", value) from None
        return value
    if kind == "json":
        _check_json(value)
        return value
    if kind == "direct":
        if not isinstance(value, dict) or set(value) != {"space", "externalId"}:
            raise _fail("a direct relation {space, externalId}", value)
        if not all(isinstance(v, str) and v for v in value.values()):
            raise _fail("a direct relation {space, externalId}", value)
        return {"space": value["space"], "externalId": value["externalId"]}
    if kind == "enum":
        values = definition_type.get("values", {})
        if not isinstance(value, str) or value not in values:
            unknown = definition_type.get("unknownValue")
            if isinstance(value, str) and unknown is not None:
                return unknown
            raise _fail(f"one of {', '.join(values)}", value)
        return value
    if kind in ("timeseries", "file", "sequence"):
        if not isinstance(value, str) or not 1 <= len(value) <= 255:
            raise _fail(f"the external id of a {kind}", value)
        return value
    raise ValueProblem(f"unsupported property type {kind}")


def _check_json(value: Any, depth: int = 0) -> None:
    if depth > 64:
        raise ValueProblem("json value is nested too deeply")
    if isinstance(value, float) and not math.isfinite(value):
        raise _fail("a JSON value (no NaN or Infinity)", value)
    if isinstance(value, dict):
        for item in value.values():
            _check_json(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            _check_json(item, depth + 1)


def _from_iso(value: str) -> datetime:
    """``datetime.fromisoformat``, with the ``Z`` suffix Python 3.10's version does not read."""
    if value.endswith(("Z", "z")):
        value = value[:-1] + "+00:00"
    return datetime.fromisoformat(value)


def normalise_timestamp(value: Any) -> str:
    if not isinstance(value, str):
        raise _fail("a timestamp (ISO 8601 with a time zone)", value)
    try:
        parsed = _from_iso(value)
    except ValueError:
        raise _fail("a timestamp (ISO 8601 with a time zone)", value) from None
    if parsed.tzinfo is None:
        raise _fail("a timestamp with a time zone", value)
    utc = parsed.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}+00:00"


def timestamp_ms(value: str) -> int:
    return int(_from_iso(value).timestamp() * 1000)


def check_value(definition: dict[str, Any], value: Any) -> Any:
    """The value to store for one property (raises ValueProblem when it does not fit)."""
    prop_type = definition["type"]
    kind = prop_type.get("type")
    if value is None:
        if not definition.get("nullable", True):
            raise ValueProblem("the property is not nullable")
        return None
    if prop_type.get("list"):
        if not isinstance(value, list):
            raise _fail(f"a list of {kind}", value)
        limit = prop_type.get("maxListSize") or DEFAULT_LIST_SIZE.get(kind, DEFAULT_MAX_LIST)
        if len(value) > limit:
            raise ValueProblem(f"the list has {len(value)} elements, more than the limit of {limit}")
        return [_scalar(kind, prop_type, v) for v in value]
    return _scalar(kind, prop_type, value)


def direct_targets(definition: dict[str, Any], value: Any) -> list[dict[str, str]]:
    """The nodes a stored direct-relation value points to."""
    if definition["type"].get("type") != "direct" or value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def invalid(where: str, name: str, container: tuple[str, str], problem: ValueProblem) -> Exception:
    return bad_request(
        f"{where}: Invalid value for property '{name}' (container {container[0]}:{container[1]}): {problem}"
    )
