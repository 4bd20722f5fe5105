"""How a call ended: Completed (with its response), Failed or Timeout."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

from emulator.execution.code import user_trace
from emulator.execution.guards import ContainedError, SignalRefused


@dataclass
class Outcome:
    """How a call ended. ``status`` is Completed, Failed or Timeout."""

    status: str
    response: Any = None
    has_response: bool = False
    error: dict[str, Any] | None = None
    logs: list[tuple[int, str]] = field(default_factory=list)


def failed_outcome(exc: BaseException, logs: list[tuple[int, str]]) -> Outcome:
    """The Failed outcome of a handler that raised (SystemExit and KeyboardInterrupt included)."""
    if isinstance(exc, (ContainedError, SignalRefused)):
        message = str(exc)
    elif isinstance(exc, SystemExit):
        message = f"Function called sys.exit({exc.code!r})"
    else:
        message = f"{type(exc).__name__}: {exc}"
    if isinstance(exc, NameError) and not isinstance(exc, UnboundLocalError):
        message += f" ({NAME_ERROR_HINT})"
    return Outcome("Failed", error={"message": message, "trace": user_trace(exc)}, logs=logs)


NAME_ERROR_HINT = (
    "a function deployed with function_handle= gets only the source of handle(): module globals, "
    "helpers and imports outside it do not exist in CDF; import or define them inside handle()"
)


def returned_outcome(result: Any, logs: list[tuple[int, str]], max_response_bytes: int) -> Outcome:
    """Completed with the response, or Failed if it is not JSON or is over the size limit."""
    if result is None:
        return Outcome("Completed", response=None, has_response=True, logs=logs)
    plain = _plain_copy(result, max_response_bytes)
    if plain is not _NOT_PLAIN:
        return Outcome("Completed", response=plain, has_response=True, logs=logs)
    try:
        encoded = json.dumps(result, allow_nan=False)
    except (TypeError, ValueError, RecursionError) as exc:
        return Outcome(
            "Failed",
            error={"message": f"Function response is not JSON serializable: {exc}", "trace": None},
            logs=logs,
        )
    size = len(encoded.encode())
    if size > max_response_bytes:
        limit_mb = max_response_bytes / (1024 * 1024)
        message = f"Function response is {size} bytes, over the limit of {limit_mb:g} MB"
        return Outcome("Failed", error={"message": message, "trace": None}, logs=logs)
    return Outcome("Completed", response=json.loads(encoded), has_response=True, logs=logs)


def timeout_outcome(seconds: float, logs: list[tuple[int, str]] | None = None) -> Outcome:
    """The Timeout outcome of a call that ran longer than ``seconds``."""
    message = f"Function call timed out after {seconds:g} seconds"
    return Outcome("Timeout", error={"message": message, "trace": None}, logs=logs or [])


def not_run_outcome(message: str) -> Outcome:
    """The Failed outcome of a call that could not start (its handler never ran)."""
    return Outcome("Failed", error={"message": message, "trace": None})


_NOT_PLAIN = object()
_FLAT_KEYS = 64  # a flat dict up to this size is checked entry by entry, larger ones are encoded


def _scalar_bytes(value: Any) -> int:
    """An upper bound on the JSON size of a plain scalar, or -1 if it is not one (exact types only:
    ``json.dumps`` writes an ``IntEnum`` or a ``str`` subclass differently from what it holds)."""
    kind = type(value)
    if kind is str:
        return 12 * len(value) + 2  # ASCII output: at most a surrogate pair of \uXXXX per character
    if kind is bool or value is None:
        return 5
    if kind is int:
        bits: int = value.bit_length()
        return bits // 3 + 2  # decimal digits and a sign
    if kind is float:
        return 32 if math.isfinite(value) else -1  # NaN and infinities are not JSON
    return -1


def _plain_copy(result: Any, max_bytes: int) -> Any:
    """What ``json.loads(json.dumps(result))`` gives, without either, for what most handlers return
    (a scalar, or a small dict of str keys to scalars) when its size is surely within ``max_bytes``;
    ``_NOT_PLAIN`` for anything else (then encoded, size-checked and decoded as before)."""
    if type(result) is dict:
        if len(result) > _FLAT_KEYS:
            return _NOT_PLAIN
        total = 2
        for key, value in result.items():
            size = _scalar_bytes(value)
            if type(key) is not str or size < 0:
                return _NOT_PLAIN
            total += 12 * len(key) + 4 + size
        return dict(result) if total <= max_bytes else _NOT_PLAIN
    size = _scalar_bytes(result)
    return result if 0 <= size <= max_bytes else _NOT_PLAIN
