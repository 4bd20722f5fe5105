"""Optional strict auth: requests need a Bearer token; tokens may be bound to projects.

Default (``auth="any"``): every request is accepted, with or without a token. With
``auth="strict"``: no Bearer token → 401; a token bound to projects (``emu.auth.bind(token,
["a"])``) used on another project → 403. Unbound tokens may use every project.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable

from starlette.types import ASGIApp, Receive, Scope, Send

from emulator.errors import send_error

_PREFIX = "/api/v1/projects/"


class AuthPolicy:
    def __init__(self, mode: str = "any") -> None:
        if mode not in ("any", "strict"):
            raise ValueError(f"auth must be 'any' or 'strict', not {mode!r}")
        self.mode = mode
        self._bindings: dict[str, frozenset[str]] = {}
        self._lock = threading.Lock()

    def bind(self, token: str, projects: Iterable[str]) -> None:
        """Allow ``token`` on ``projects`` only."""
        with self._lock:
            self._bindings[token] = frozenset(projects)

    def check(self, authorization: str | None, project: str | None) -> tuple[int, str] | None:
        """None if allowed, else (status, message)."""
        if self.mode != "strict":
            return None
        if (
            not authorization
            or not authorization.lower().startswith("bearer ")
            or not authorization[7:].strip()
        ):
            return 401, "Unauthorized: a Bearer token is required"
        allowed = self._bindings.get(authorization[7:].strip())
        if project is not None and allowed is not None and project not in allowed:
            return 403, f"Forbidden: this token has no access to project {project!r}"
        return None


class AuthMiddleware:
    def __init__(self, app: ASGIApp, policy: AuthPolicy) -> None:
        self.app = app
        self.policy = policy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and self.policy.mode == "strict" and scope["path"].startswith(_PREFIX):
            project = scope["path"][len(_PREFIX) :].split("/", 1)[0]
            header = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"authorization"), None)
            denied = self.policy.check(header, project)
            if denied is not None:
                status, message = denied
                await send_error(send, status, message)
                return
        await self.app(scope, receive, send)
