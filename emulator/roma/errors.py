"""ROMA Connect's error answer: ``{"code": 404, "reason": {"error_code", "error_msg"}}``."""

from __future__ import annotations

from typing import Any

EMPTY_TASK_ID = "FDI.3149"  # also every other invalid parameter
TASK_NOT_IN_PROJECT = "FDI.3180"


class RomaError(Exception):
    """An answer in ROMA's error shape, which the SDK raises as ClientRequestException."""

    def __init__(self, status: int, error_code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.error_code, self.message = status, error_code, message

    def body(self) -> dict[str, Any]:
        return {"code": self.status, "reason": {"error_code": self.error_code, "error_msg": self.message}}


def bad_parameter(message: str) -> RomaError:
    return RomaError(400, "FDI.3149", message)
