"""The Timer service's error answers: 422 ``{"detail": [...]}``, others ``{"error": {code, detail, status}}``."""

from __future__ import annotations

from typing import Any


class TimerError(Exception):
    """An error answered in the Timer service's shape."""

    def __init__(self, status: int, code: str, detail: Any) -> None:
        super().__init__(str(detail))
        self.status, self.code, self.detail = status, code, detail

    def body(self) -> dict[str, Any]:
        if self.status == 422:
            return {"detail": self.detail}
        return {"error": {"code": self.code, "detail": self.detail, "status": self.status}}


def validation_error(field_name: str, message: str, kind: str = "value_error") -> TimerError:
    return TimerError(
        422, "VALIDATION_ERROR", [{"loc": ["body", *field_name.split(".")], "msg": message, "type": kind}]
    )
