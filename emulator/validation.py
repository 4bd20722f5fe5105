"""Request parsing and field validation, answering 4xx in CDF's shape for anything malformed.

Every route reads its body through :func:`read_json` and its fields through the ``get_*`` helpers,
so the rules (limits from the OpenAPI subset, error wording) live in one place.
"""

from __future__ import annotations

import json
import math
import re
import zlib
from collections.abc import Iterable
from typing import Any

from starlette.requests import ClientDisconnect, Request

from emulator.errors import CogniteAPIError, bad_request
from emulator.state import MAX_ID

MAX_BODY_BYTES = 20 * 1024 * 1024  # what the emulator accepts on the wire (compressed)
MAX_JSON_BYTES = 50 * 1024 * 1024  # what a gzip body may inflate to


def _inflate(raw: bytes) -> bytes:
    decoder = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        out = decoder.decompress(raw, MAX_JSON_BYTES + 1)
    except zlib.error as exc:
        raise bad_request(f"Request body is not valid gzip: {exc}") from None
    if len(out) > MAX_JSON_BYTES or decoder.unconsumed_tail:
        raise CogniteAPIError(413, f"Request body inflates to more than {MAX_JSON_BYTES} bytes")
    if not decoder.eof:
        raise bad_request("Request body is not valid gzip: truncated stream")
    return out


async def read_body(request: Request, limit: int = MAX_BODY_BYTES) -> bytes:
    """The raw body (inflated if gzip), refusing bodies over ``limit`` bytes with 413."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise CogniteAPIError(413, f"Request body is larger than the limit of {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise CogniteAPIError(413, f"Request body is larger than the limit of {limit} bytes")
            chunks.append(chunk)
    except ClientDisconnect:
        # The client went away mid-body: nobody reads the answer, and it is not the emulator's error
        # (499 is nginx's "client closed request"; the server discards it).
        raise CogniteAPIError(499, "The client closed the connection before sending the body") from None
    raw = b"".join(chunks)
    encoding = request.headers.get("content-encoding", "").strip().lower()
    if encoding == "gzip":
        return _inflate(raw)
    if encoding not in ("", "identity"):
        raise CogniteAPIError(415, f"Unsupported Content-Encoding: {encoding}")
    return raw


# A float literal can only overflow to infinity with a 3-digit exponent or hundreds of digits; bodies
# without either (nearly all) are parsed by the C decoder with no per-number hook.
_MAYBE_HUGE = re.compile(rb"[eE]\+?0*[1-9][0-9]{2,}|[0-9]{300,}")


class JSONValueError(ValueError):
    """A body that is valid JSON to Python but not to CDF: NaN, Infinity, or a number out of range."""


def _refuse_constant(name: str) -> Any:
    raise JSONValueError(f"{name} is not a JSON number")


def _finite_float(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise JSONValueError(f"the number {text[:40]} is out of range for a 64-bit float")
    return value


def _bounded_int(text: str) -> int:
    if len(text.lstrip("-")) > 309:  # beyond any double: no CDF field can hold it
        raise JSONValueError(f"the number {text[:40]}... is out of range")
    return int(text)


# json.loads with a keyword builds a decoder per call; this one is made once.
_STRICT = json.JSONDecoder(parse_constant=_refuse_constant)


def loads_strict(raw: bytes | str) -> Any:
    """``json.loads`` as the JSON standard has it: NaN, Infinity and numbers that overflow a double
    are refused (``ValueError``), as is nesting too deep to parse (``RecursionError`` becomes
    ``ValueError``). Python's own ``json`` accepts all three, and they poison stored state: a NaN
    stored once makes every later answer that contains it invalid JSON."""
    data = raw.encode() if isinstance(raw, str) else raw
    huge = _MAYBE_HUGE.search(data) is not None
    try:
        if huge:
            return json.loads(
                data, parse_constant=_refuse_constant, parse_float=_finite_float, parse_int=_bounded_int
            )
        return _STRICT.decode(data.decode(json.detect_encoding(data), "surrogatepass"))
    except RecursionError:
        raise ValueError("the JSON is nested too deeply") from None


async def read_json(request: Request, *, allow_empty: bool = False) -> Any:
    """Parse a JSON request body; 400 for malformed JSON, 415 for a non-JSON content type."""
    content_type = request.headers.get("content-type", "")
    if content_type and "json" not in content_type.lower():
        raise CogniteAPIError(415, f"Unsupported Content-Type {content_type!r}: send application/json")
    raw = await read_body(request)
    if not raw and allow_empty:
        return {}
    if not raw.strip():
        raise bad_request("Request body is empty: expected a JSON object")
    try:
        return loads_strict(raw)
    except ValueError as exc:
        raise bad_request(f"Request body is not valid JSON: {exc}") from None


# --- field helpers --------------------------------------------------------------------------------


def expect_object(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise bad_request(f"{where or 'Request body'} must be a JSON object")
    return value


def reject_unknown(obj: dict[str, Any], allowed: Iterable[str], where: str) -> None:
    unknown = sorted(set(obj) - set(allowed))
    if unknown:
        prefix = f"{where}: " if where else ""
        raise bad_request(f"{prefix}Unrecognized field(s): {', '.join(unknown)}")


def _name(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def _value_or_none(obj: dict[str, Any], key: str, where: str) -> Any:
    """The field's value, or None when absent; an explicit JSON null is refused (the spec has no
    nullable fields, and the SDK never sends null)."""
    if key not in obj:
        return None
    value = obj[key]
    if value is None:
        raise bad_request(f"{_name(where, key)} must not be null")
    return value


def get_items(
    body: Any, *, min_items: int = 1, max_items: int | None = None, key: str = "items"
) -> list[Any]:
    obj = expect_object(body, "")
    items = obj.get(key)
    if items is None:
        raise bad_request(f"Missing required field: {key}")
    if not isinstance(items, list):
        raise bad_request(f"{key} must be an array")
    if len(items) < min_items:
        raise bad_request(f"{key} must contain at least {min_items} item(s)")
    if max_items is not None and len(items) > max_items:
        raise bad_request(f"{key} must contain at most {max_items} item(s), got {len(items)}")
    return items


def get_str(
    obj: dict[str, Any],
    key: str,
    where: str = "",
    *,
    required: bool = False,
    min_len: int = 0,
    max_len: int | None = None,
) -> str | None:
    value = _value_or_none(obj, key, where)
    if value is None:
        if required:
            raise bad_request(f"Missing required field: {_name(where, key)}")
        return None
    if not isinstance(value, str):
        raise bad_request(f"{_name(where, key)} must be a string")
    if len(value) < min_len or (max_len is not None and len(value) > max_len):
        bound = f"between {min_len} and {max_len}" if max_len is not None else f"at least {min_len}"
        raise bad_request(f"{_name(where, key)}: length must be {bound} characters, got {len(value)}")
    return value


def check_id(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise bad_request(f"{name} must be an integer")
    if not 1 <= value <= MAX_ID:
        raise bad_request(f"{name} must be between 1 and {MAX_ID}, got {value}")
    return value


def get_id(obj: dict[str, Any], key: str, where: str = "", *, required: bool = False) -> int | None:
    value = _value_or_none(obj, key, where)
    if value is None:
        if required:
            raise bad_request(f"Missing required field: {_name(where, key)}")
        return None
    return check_id(value, _name(where, key))


def get_bool(obj: dict[str, Any], key: str, where: str = "", *, default: bool = False) -> bool:
    value = _value_or_none(obj, key, where)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise bad_request(f"{_name(where, key)} must be a boolean")
    return value


def get_number(obj: dict[str, Any], key: str, where: str = "") -> float | None:
    value = _value_or_none(obj, key, where)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise bad_request(f"{_name(where, key)} must be a number")
    return float(value)


INT32_MAX = 2**31 - 1  # limits are int32 in the official spec
INT64_MAX = 2**63 - 1  # timestamps are int64


def get_limit(obj: dict[str, Any], *, default: int = 100, maximum: int | None = None) -> int:
    maximum = INT32_MAX if maximum is None else maximum
    value = _value_or_none(obj, "limit", "")
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise bad_request("limit must be a positive integer")
    if value > maximum:
        raise bad_request(f"limit must be at most {maximum}, got {value}")
    return value


def query_limit(request: Request, *, default: int = 100, maximum: int | None = None) -> int:
    """``?limit=`` (the spec gives most query limits no maximum: then any positive integer)."""
    raw = request.query_params.get("limit")
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise bad_request(f"limit must be an integer, got {raw[:40]!r}") from None
    if value < 1:
        raise bad_request("limit must be a positive integer")
    if maximum is not None and value > maximum:
        raise bad_request(f"limit must be at most {maximum}, got {value}")
    return value


def get_str_dict(
    obj: dict[str, Any],
    key: str,
    where: str = "",
    *,
    max_items: int | None = None,
    key_max: int | None = None,
    value_max: int | None = None,
    total_max: int | None = None,
) -> dict[str, str] | None:
    value = _value_or_none(obj, key, where)
    if value is None:
        return None
    name = _name(where, key)
    if not isinstance(value, dict):
        raise bad_request(f"{name} must be an object of string keys and string values")
    if max_items is not None and len(value) > max_items:
        raise bad_request(f"{name} may have at most {max_items} entries, got {len(value)}")
    total = 0
    for k, v in value.items():
        if not isinstance(v, str):
            raise bad_request(f"{name}.{k} must be a string")
        if key_max is not None and len(k) > key_max:
            raise bad_request(f"{name}: key {k[:40]!r} is longer than {key_max} characters")
        if value_max is not None and len(v) > value_max:
            raise bad_request(f"{name}.{k} is longer than {value_max} characters")
        total += len(k.encode()) + len(v.encode())
    if total_max is not None and total > total_max:
        raise bad_request(f"{name} is larger than {total_max} bytes")
    return dict(value)


def get_time_range(obj: dict[str, Any], key: str, where: str = "") -> tuple[int | None, int | None] | None:
    value = _value_or_none(obj, key, where)
    if value is None:
        return None
    name = _name(where, key)
    if not isinstance(value, dict):
        raise bad_request(f"{name} must be an object with min and/or max")
    reject_unknown(value, ("min", "max"), name)
    bounds: list[int | None] = []
    for bound in ("min", "max"):
        v = _value_or_none(value, bound, name)
        if v is not None and (isinstance(v, bool) or not isinstance(v, int) or not 0 <= v <= INT64_MAX):
            raise bad_request(f"{name}.{bound} must be a non-negative 64-bit integer (epoch ms)")
        bounds.append(v)
    return bounds[0], bounds[1]


def in_range(value: int | None, time_range: tuple[int | None, int | None] | None) -> bool:
    if time_range is None:
        return True
    if value is None:
        return False
    low, high = time_range
    return (low is None or value >= low) and (high is None or value <= high)


def parse_identifier(item: Any, where: str, *, allow_external: bool = True) -> tuple[str, Any]:
    """An ``{"id": n}`` or ``{"externalId": s}`` lookup object -> ("id", n) / ("externalId", s)."""
    obj = expect_object(item, where)
    allowed = ("id", "externalId") if allow_external else ("id",)
    reject_unknown(obj, allowed, where)
    has_id, has_xid = "id" in obj, "externalId" in obj
    if has_id == has_xid:
        want = "exactly one of id or externalId" if allow_external else "id"
        raise bad_request(f"{where} must have {want}")
    if has_id:
        return "id", check_id(obj["id"], f"{where}.id")
    value = get_str(obj, "externalId", where, required=True, min_len=1, max_len=255)
    return "externalId", value


def path_id(raw: str, name: str) -> int:
    """An id taken from the URL path."""
    try:
        value = int(raw)
    except ValueError:
        raise bad_request(f"{name} must be an integer, got {raw[:40]!r}") from None
    return check_id(value, name)


def reject_duplicates(keys: list[tuple[str, Any]]) -> None:
    seen: set[tuple[str, Any]] = set()
    dupes: list[dict[str, Any]] = []
    for key in keys:
        if key in seen:
            dupes.append({key[0]: key[1]})
        seen.add(key)
    if dupes:
        raise CogniteAPIError(400, "Duplicate identifiers in request", duplicated=dupes)
