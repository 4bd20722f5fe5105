"""The CDF error shape, and the one place that turns exceptions into responses.

Every error the emulator answers looks like CDF's::

    {"error": {"code": 400, "message": "...", "missing": [...], "duplicated": [...]}}
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

logger = logging.getLogger("emulator")


class CogniteAPIError(Exception):
    """An error answered to the client in CDF's error shape."""

    def __init__(
        self,
        code: int,
        message: str,
        *,
        missing: list[dict[str, Any]] | None = None,
        duplicated: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.missing = missing
        self.duplicated = duplicated
        self.headers = headers

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.missing:
            error["missing"] = self.missing
        if self.duplicated:
            error["duplicated"] = self.duplicated
        return {"error": error}

    def response(self) -> JSONResponse:
        return JSONResponse(self.body(), status_code=self.code, headers=self.headers)


async def send_error(send: Any, status: int, message: str) -> None:
    """Answer a raw ASGI request with CDF's error shape (for pure-ASGI middleware)."""
    body = json.dumps({"error": {"code": status, "message": message}}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


Endpoint = Callable[[Request], Awaitable[Response]]


def answering(error_type: type[Exception]) -> Callable[[Endpoint], Endpoint]:
    """Decorate an endpoint so that ``error_type`` (with ``.status`` and ``.body()``) becomes a JSON
    answer in its own service's shape (the facades: Globus Timer, ROMA Connect)."""

    def wrap(endpoint: Endpoint) -> Endpoint:
        async def answered(request: Request) -> Response:
            try:
                return await endpoint(request)
            except error_type as exc:
                return JSONResponse(exc.body(), status_code=exc.status)  # type: ignore[attr-defined]

        return answered

    return wrap


def bad_request(message: str) -> CogniteAPIError:
    return CogniteAPIError(400, message)


def not_found(missing: list[dict[str, Any]], message: str = "Not found") -> CogniteAPIError:
    """CDF answers unknown ids with 400 and the lookup objects in `missing`."""
    return CogniteAPIError(400, message, missing=missing)


async def _handle_api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, CogniteAPIError)
    return exc.response()


async def _handle_http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    message = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
    if exc.status_code == 404:
        bad_id = _non_integer_id(request.app.routes, request.url.path)
        if bad_id is not None:  # the route exists; only the id in it is malformed
            return JSONResponse(
                {"error": {"code": 400, "message": f"{bad_id} in the path must be an integer"}},
                status_code=400,
            )
        message = f"No such route: {request.method} {request.url.path}"
    headers = dict(getattr(exc, "headers", None) or {})
    if exc.status_code == 405:
        message = f"Method {request.method} is not allowed on {request.url.path}"
        allowed = _allowed_methods(request.app.routes, request.url.path)
        if allowed:
            headers["Allow"] = ", ".join(sorted(allowed))
    return JSONResponse(
        {"error": {"code": exc.status_code, "message": message}},
        status_code=exc.status_code,
        headers=headers or None,
    )


def _non_integer_id(routes: Any, path: str) -> str | None:
    """The name of the integer path parameter that made ``path`` miss a route, if that is why."""
    import re

    from starlette.routing import Mount, Route

    for route in routes:
        if isinstance(route, Mount):
            match = route.path_regex.match(path)
            if match:
                found = _non_integer_id(route.routes, "/" + match.groupdict().get("path", ""))
                if found:
                    return found
        elif isinstance(route, Route) and ":int}" in route.path:
            names = re.findall(r"\{(\w+):int\}", route.path)
            loose = "^" + re.sub(r"\{\w+(:\w+)?\}", "[^/]+", route.path) + "$"
            if re.match(loose, path):
                return names[0] if names else "id"
    return None


def _allowed_methods(routes: Any, path: str) -> set[str]:
    """The methods served at ``path``: those of every Route with the same template as the first
    one that matches (one path may be split over several Routes, one per method)."""
    from starlette.routing import Mount, Route

    template: str | None = None
    allowed: set[str] = set()
    for route in routes:
        if isinstance(route, Mount):
            match = route.path_regex.match(path)
            if match and template is None:
                found = _allowed_methods(route.routes, "/" + match.groupdict().get("path", ""))
                if found:
                    return found
        elif isinstance(route, Route) and route.methods:
            if template is None and route.path_regex.match(path):
                template = route.path
            if template is not None and route.path == template:
                allowed |= set(route.methods)
    return allowed


async def _handle_unexpected(request: Request, exc: Exception) -> Response:
    # A 500 is always a bug in the emulator; keep the CDF shape so the SDK reports it sensibly.
    logger.exception("Unhandled error in %s %s", request.method, request.url.path)
    return JSONResponse(
        {"error": {"code": 500, "message": f"Internal emulator error: {type(exc).__name__}: {exc}"}},
        status_code=500,
    )


EXCEPTION_HANDLERS: dict[Any, Any] = {
    CogniteAPIError: _handle_api_error,
    HTTPException: _handle_http_exception,
    Exception: _handle_unexpected,
}
