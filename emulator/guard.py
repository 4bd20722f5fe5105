"""The dev server's guard against web pages: cross-site requests and DNS rebinding.

A page on any site can make the browser send requests to ``http://127.0.0.1:8700``: "simple"
cross-site requests (a form POST, a ``fetch`` with ``mode: "no-cors"``) need no CORS preflight,
and a DNS rebinding attack even reads the answers, by serving its page from a name that later
resolves to 127.0.0.1. So the served app (``EmulatorServer``, ``emulator serve``) refuses, in the
error shape of the API asked (emulator/refusals.py):

- a ``Host`` that is not a loopback name (``localhost``, ``*.localhost``, ``127.x.x.x``, ``::1``),
  the address the server is bound to, or one allowed with ``allow_hosts`` (``--allow-host``):
  **421** (a rebound name never matches);
- a POST, PUT or PATCH with a body but without a JSON content type (CDF's API requires one; a
  browser cannot send it cross-site without a preflight, which the emulator never grants): **415**.
  Datapoint insertion's ``application/protobuf`` passes too (it needs a preflight as well).
  File content uploads (``PUT .../files/<id>/content`` and its multipart ``/parts/``) carry the file's own type and are exempt;
  bodiless requests (Globus' pause and resume, ``/_emulator/reset``) are covered by the Origin rule;
- a POST, PUT, PATCH or DELETE whose ``Origin`` is neither the server's own origin nor one allowed
  with ``allow_origins`` (``--allow-origin``), or that the browser marks ``Sec-Fetch-Site:
  cross-site``: **403**.

Requests without a browser's headers (the SDKs, curl) send no Origin and pass. The in-process
transport (``emu.client()``) does not go through this guard: no browser can reach it.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable

from starlette.types import ASGIApp, Receive, Scope, Send

from emulator.refusals import send_refusal

_UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_NEEDS_JSON = frozenset({"POST", "PUT", "PATCH"})
_FILE_CONTENT = re.compile(r"^/api/v1/projects/[^/]+/files/\d+/content(?:/parts/[^/]+/\d+)?$")
_WILDCARD_BINDS = frozenset({"0.0.0.0", "::", ""})
# What CDF's API reads (datapoints also take protobuf); none is a type a page may send cross-site
# without a preflight (text/plain, form and multipart bodies are).
_BODY_TYPES = frozenset({"application/json", "application/protobuf"})


def host_name(host_header: str) -> str:
    """The name part of a Host header (no port, no IPv6 brackets), lower case."""
    host = host_header.strip().lower()
    if host.startswith("["):
        return host[1 : host.find("]")] if "]" in host else host
    if host.count(":") == 1:
        host = host.split(":", 1)[0]
    return host.rstrip(".")


def is_loopback_name(name: str) -> bool:
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


class HostOriginGuard:
    """ASGI middleware applying the rules of the module docstring."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        bound_host: str = "127.0.0.1",
        allow_hosts: Iterable[str] = (),
        allow_origins: Iterable[str] = (),
    ) -> None:
        self.app = app
        self.allow_hosts = {host_name(h) for h in allow_hosts}
        if bound_host not in _WILDCARD_BINDS:  # an address the server listens on is no rebound name
            self.allow_hosts.add(host_name(bound_host))
        self.allow_origins = {o.strip().rstrip("/").lower() for o in allow_origins}

    def host_allowed(self, host_header: str | None) -> bool:
        if host_header is None:  # HTTP/1.0 without Host: no browser sends that
            return True
        name = host_name(host_header)
        return "*" in self.allow_hosts or name in self.allow_hosts or is_loopback_name(name)

    def refusal(self, scope: Scope) -> tuple[int, str] | None:
        """(status, message) for a request to refuse, or None."""
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        host = headers.get("host")
        if not self.host_allowed(host):
            return 421, (
                f"Host {host!r} is not served: the emulator answers loopback names only "
                "(allow others with --allow-host)"
            )
        method = scope["method"]
        if method not in _UNSAFE:
            return None
        origin = headers.get("origin")
        if origin is not None:
            own = {f"http://{host}".lower(), f"https://{host}".lower()} if host else set()
            normalised = origin.strip().rstrip("/").lower()
            if (
                normalised not in own
                and normalised not in self.allow_origins
                and "*" not in self.allow_origins
            ):
                return 403, f"Cross-site request refused (Origin {origin!r}; allow it with --allow-origin)"
        elif headers.get("sec-fetch-site") == "cross-site":
            return 403, "Cross-site request refused (Sec-Fetch-Site: cross-site)"
        has_body = headers.get("content-length", "0") != "0" or "transfer-encoding" in headers
        if method in _NEEDS_JSON and has_body and not _FILE_CONTENT.match(scope["path"]):
            content_type = headers.get("content-type", "").split(";", 1)[0].strip().lower()
            if not (content_type in _BODY_TYPES or content_type.endswith("+json")):
                shown = content_type or "none"
                return 415, f"A {method} needs Content-Type: application/json (got {shown})"
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            refused = self.refusal(scope)
            if refused is not None:
                await send_refusal(send, scope["path"], *refused)
                return
        await self.app(scope, receive, send)
