"""Refusals made before routing (strict auth, the dev server's guard), in the shape of the API the
request was for: CDF's ``{"error": {"code", "message"}}``, ROMA's ``{"code", "reason": {"error_code",
"error_msg"}}`` under ``/v2/``, the Timer service's ``{"error": {"code", "detail", "status"}}`` under
``/globus-timer``. A client of a facade then reads a 401 or 415 as it reads the facade's own errors.

These middlewares run before any route, so they cannot raise the facades' own exceptions (nor
import the facades: they sit below them); the shapes are the ones emulator/roma/errors.py and
emulator/globus/errors.py answer.
"""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import Any

ROMA_PREFIX = "/v2/"
GLOBUS_PREFIX = "/globus-timer"
# Huawei's API gateway answers authentication and authorisation failures with its own APIG codes.
_ROMA_CODES = {401: "APIG.0301", 403: "APIG.0302", 404: "APIG.0101"}


def _status_name(status: int) -> str:
    try:
        return HTTPStatus(status).name
    except ValueError:
        return "ERROR"


def refusal_body(path: str, status: int, message: str) -> dict[str, Any]:
    """The error body of a refused request to ``path``."""
    if path.startswith(ROMA_PREFIX):
        code = _ROMA_CODES.get(status, "FDI.3149")  # FDI's code for every invalid request
        return {"code": status, "reason": {"error_code": code, "error_msg": message}}
    if path == GLOBUS_PREFIX or path.startswith(GLOBUS_PREFIX + "/"):
        return {"error": {"code": _status_name(status), "detail": message, "status": status}}
    return {"error": {"code": status, "message": message}}


async def send_refusal(send: Any, path: str, status: int, message: str) -> None:
    """Answer a raw ASGI request with ``refusal_body`` (for pure-ASGI middleware)."""
    body = json.dumps(refusal_body(path, status, message)).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
