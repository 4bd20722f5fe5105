"""Who may call what: optional strict auth over every route the emulator serves.

Default (``auth="any"``): every request is accepted, with or without a token. With
``auth="strict"`` a request needs a token the emulator knows, and what it may reach depends on it:

- a *project token* (``emu.auth.bind(token, ["a"])``, or ``emu.auth.allow(token)`` for every
  project) reaches the CDF API of its projects (``/api/v1/projects/<p>/...``, the served OpenAPI
  document included) and the facades (Globus Timer, ROMA Connect);
- the *admin token* (``FunctionsEmulator(admin_token=...)``, ``--admin-token``; random when not
  given: ``emu.auth.admin_token``) reaches everything, and is the only one for ``/_emulator/``
  (admin API, state dump, dashboard and its JSON);
- the emulator's own clients (``emu.client()``, handler clients, the facade clients it builds) use
  ``emu.auth.client_token``, a random project token for every project.

No token is 401, an unknown one 401, a known one used outside its reach 403, each in the error shape
of the API asked (emulator/refusals.py: CDF's, ROMA's or the Timer service's).
File upload and download URLs are capability URLs, as CDF's are (the SDK sends no token to them):
in strict mode they carry an HMAC signature of the project and file (``?sig=``). The browser cannot
send a Bearer header when it opens the dashboard, so ``/_emulator/ui`` also takes
``?token=<admin token>``.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import threading
from collections.abc import Iterable
from urllib.parse import parse_qs

from starlette.types import ASGIApp, Receive, Scope, Send

from emulator.refusals import send_refusal

_PREFIX = "/api/v1/projects/"
_ADMIN = "/_emulator"
_UI = "/_emulator/ui"
# A file's content URL, and the URLs of a multipart upload's parts under it.
_CONTENT = re.compile(r"^/api/v1/projects/([^/]+)/files/(\d+)/content(?:/parts/[^/]+/\d+)?$")
_ROMA_ACCESS = re.compile(r"Access=([^,\s]+)")
_EVERY_PROJECT: frozenset[str] = frozenset({"*"})


class AuthPolicy:
    """The tokens of one emulator and what each may reach (see the module docstring)."""

    def __init__(self, mode: str = "any", *, admin_token: str | None = None) -> None:
        if mode not in ("any", "strict"):
            raise ValueError(f"auth must be 'any' or 'strict', not {mode!r}")
        if admin_token is not None and (not isinstance(admin_token, str) or not admin_token.strip()):
            raise ValueError("admin_token must be a non-empty string")
        self.mode = mode
        strict = mode == "strict"
        self.admin_token: str | None = admin_token or (secrets.token_urlsafe(24) if strict else None)
        self.client_token: str = secrets.token_urlsafe(24) if strict else "emulator-token"
        self._bindings: dict[str, frozenset[str]] = {self.client_token: _EVERY_PROJECT}
        self._signing_key = secrets.token_bytes(32)
        self._lock = threading.Lock()

    # --- tokens ---------------------------------------------------------------------------------
    def bind(self, token: str, projects: Iterable[str]) -> None:
        """Allow ``token`` on ``projects`` only (and on the facades)."""
        self._register(token, frozenset(projects))

    def allow(self, token: str) -> None:
        """Allow ``token`` on every project (not on ``/_emulator/``)."""
        self._register(token, _EVERY_PROJECT)

    def _register(self, token: str, projects: frozenset[str]) -> None:
        if not isinstance(token, str) or not token.strip() or token != token.strip():
            raise ValueError("a token is a non-empty string without surrounding spaces")
        if token == self.admin_token:
            raise ValueError("a project token must differ from the admin token")
        with self._lock:
            self._bindings[token] = projects

    def is_admin(self, token: str | None) -> bool:
        """Whether ``token`` is the admin token (compared in constant time)."""
        return (
            token is not None
            and self.admin_token is not None
            and hmac.compare_digest(token.encode(), self.admin_token.encode())
        )

    # --- decisions ------------------------------------------------------------------------------
    def check(self, authorization: str | None, project: str | None) -> tuple[int, str] | None:
        """None if a request with this Authorization header may use ``project`` (None: any
        project-token route, such as the facades), else (status, message)."""
        if self.mode != "strict":
            return None
        token = bearer(authorization)
        if token is None:
            return 401, "Unauthorized: a Bearer token is required"
        return self._check_token(token, project)

    def _check_token(self, token: str, project: str | None) -> tuple[int, str] | None:
        if self.is_admin(token):
            return None
        allowed = self._bindings.get(token)
        if allowed is None:
            return 401, "Unauthorized: unknown token"
        if project is not None and allowed is not _EVERY_PROJECT and project not in allowed:
            return 403, f"Forbidden: this token has no access to project {project!r}"
        return None

    def check_admin(self, token: str | None) -> tuple[int, str] | None:
        """None if ``token`` may use ``/_emulator/``, else (status, message)."""
        if self.mode != "strict" or self.is_admin(token):
            return None
        if token is None:
            return 401, "Unauthorized: the admin API needs the admin token (Bearer)"
        if token in self._bindings:
            return 403, "Forbidden: the admin API needs the admin token, not a project token"
        return 401, "Unauthorized: unknown token"

    def decide(self, path: str, headers: dict[bytes, bytes], query: bytes) -> tuple[int, str] | None:
        """The answer to a request that may not pass (None: it may), by route family."""
        if self.mode != "strict":
            return None
        authorization = headers.get(b"authorization", b"").decode("latin-1") or None
        if path == _ADMIN or path.startswith(_ADMIN + "/"):
            token = bearer(authorization)
            if token is None and (path == _UI or path.startswith(_UI + "/")):
                token = _query_value(query, "token")
            return self.check_admin(token)
        if path.startswith(_PREFIX):
            project = path[len(_PREFIX) :].split("/", 1)[0]
            content = _CONTENT.match(path)
            signature = _query_value(query, "sig") if content else None
            if (
                content
                and signature
                and self._signature_ok(content.group(1), int(content.group(2)), signature)
            ):
                return None  # a capability URL handed out by files create / downloadlink
            return self.check(authorization, project)
        if path.startswith("/v2/"):  # ROMA Connect: AK/SK request signing; the AK is the token
            access = _ROMA_ACCESS.search(authorization or "")
            if access is None:
                return 401, "Unauthorized: a signed request (Access=<AK>) is required"
            return self._check_token(access.group(1), None)
        return self.check(authorization, None)  # the Globus Timer facade and any other path

    # --- capability URLs ------------------------------------------------------------------------
    def signed(self, url: str, project: str, file_id: int) -> str:
        """``url`` (a file's content URL) with a signature that lets it be used without a token."""
        if self.mode != "strict":
            return url
        return f"{url}?sig={self._signature(project, file_id)}"

    def _signature(self, project: str, file_id: int) -> str:
        message = f"{project}/{file_id}".encode()
        return hmac.new(self._signing_key, message, hashlib.sha256).hexdigest()[:32]

    def _signature_ok(self, project: str, file_id: int, signature: str) -> bool:
        return hmac.compare_digest(self._signature(project, file_id).encode(), signature.encode())


def bearer(authorization: str | None) -> str | None:
    """The token of a ``Bearer`` Authorization header, or None."""
    if not authorization or not authorization.lower().startswith("bearer "):
        return None
    return authorization[7:].strip() or None


def _query_value(query: bytes, name: str) -> str | None:
    values = parse_qs(query.decode("latin-1")).get(name)
    return values[0] if values else None


class AuthMiddleware:
    """Answers 401/403 before routing for every request the policy refuses."""

    def __init__(self, app: ASGIApp, policy: AuthPolicy) -> None:
        self.app = app
        self.policy = policy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and self.policy.mode == "strict":
            headers = dict(scope["headers"])
            denied = self.policy.decide(scope["path"], headers, scope.get("query_string", b""))
            if denied is not None:
                status, message = denied
                await send_refusal(send, scope["path"], status, message)
                return
        await self.app(scope, receive, send)
