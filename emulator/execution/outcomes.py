"""How a call ended: Completed (with its response), Failed or Timeout."""

from __future__ import annotations

import json
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
