"""Wiring a real cognite-sdk client to an emulator in-process, with no socket.

cognite-sdk has no public seam for its transport (see shared/reference/SDK-NOTES.md): every API object
holds two ``AsyncHTTPClientWithRetry`` instances whose ``_httpx_async_client`` is None, in which case
the SDK falls back to a process-global httpx2 client. We set that attribute, on this client's API
objects only, to an ``httpx2.AsyncClient`` whose transport is ``httpx2.ASGITransport(app)``. Nothing
global is patched: other CogniteClients in the process are untouched.

This is the only module that touches SDK internals. ``check_sdk_seam`` verifies the assumptions and
fails loudly with a clear message if a new SDK release breaks them; the test suite calls it.
"""

from __future__ import annotations

from typing import Any

import httpx2
from cognite.client import AsyncCogniteClient, ClientConfig, CogniteClient, global_config
from cognite.client.credentials import Token

SEAM_BROKEN = (
    "cognite-sdk {version} changed its internals: the emulator's in-process transport could not be "
    "installed ({detail}). Use a loopback server instead (FunctionsEmulator.serve(), then "
    "CogniteClient with base_url=server.base_url) and report this against the emulator."
)

# The in-process clients talk to this made-up origin; the ASGI transport never resolves it.
IN_PROCESS_BASE_URL = "http://functions-emulator.local"


def _sdk_version() -> str:
    from cognite.client import __version__

    return __version__


def make_config(
    project: str, base_url: str, token: str = "emulator-token", client_name: str = "functions-emulator"
) -> ClientConfig:
    """A ClientConfig for an emulator: Token credentials; the PyPI version check is switched off."""
    global_config.disable_pypi_version_check = True
    return ClientConfig(client_name=client_name, project=project, credentials=Token(token), base_url=base_url)


def _api_objects(async_client: AsyncCogniteClient) -> list[Any]:
    """Every API object reachable from the client (the SDK nests them: functions.calls, ...)."""
    from cognite.client._basic_api_client import BasicAsyncAPIClient

    seen: set[int] = set()
    found: list[Any] = []
    stack: list[Any] = [async_client]
    while stack:
        obj = stack.pop()
        for value in vars(obj).values():
            if isinstance(value, BasicAsyncAPIClient) and id(value) not in seen:
                seen.add(id(value))
                found.append(value)
                stack.append(value)
    return found


def wire(async_client: AsyncCogniteClient, httpx_client: httpx2.AsyncClient) -> None:
    """Point every API object of ``async_client`` at ``httpx_client``."""
    try:
        from cognite.client._http_client import AsyncHTTPClientWithRetry
    except ImportError as exc:
        raise RuntimeError(SEAM_BROKEN.format(version=_sdk_version(), detail=exc)) from exc
    apis = _api_objects(async_client)
    wired = 0
    for api in apis:
        for attr in ("_http_client", "_http_client_with_retry"):
            http = getattr(api, attr, None)
            if isinstance(http, AsyncHTTPClientWithRetry) and hasattr(http, "_httpx_async_client"):
                http._httpx_async_client = httpx_client  # noqa: SLF001 - the one SDK seam (test_transport guards it)
                wired += 1
    if wired == 0 or not hasattr(async_client, "functions"):
        raise RuntimeError(
            SEAM_BROKEN.format(version=_sdk_version(), detail="no HTTP clients found on API objects")
        )


def asgi_httpx_client(app: Any) -> httpx2.AsyncClient:
    """An httpx2 client that sends every request straight into ``app`` (no socket, any event loop)."""
    return httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app), base_url=IN_PROCESS_BASE_URL)


def in_process_async_client(
    app: Any, project: str, httpx_client: httpx2.AsyncClient | None = None, *, token: str = "emulator-token"
) -> AsyncCogniteClient:
    client = AsyncCogniteClient(make_config(project, IN_PROCESS_BASE_URL, token=token))
    wire(client, httpx_client or asgi_httpx_client(app))
    return client


def in_process_client(
    app: Any, project: str, httpx_client: httpx2.AsyncClient | None = None, *, token: str = "emulator-token"
) -> CogniteClient:
    client = CogniteClient(make_config(project, IN_PROCESS_BASE_URL, token=token))
    wire(async_of(client), httpx_client or asgi_httpx_client(app))
    return client


def async_of(client: CogniteClient) -> AsyncCogniteClient:
    inner = getattr(client, "_CogniteClient__async_client", None)
    if not isinstance(inner, AsyncCogniteClient):
        raise RuntimeError(
            SEAM_BROKEN.format(
                version=_sdk_version(), detail="CogniteClient no longer wraps an AsyncCogniteClient"
            )
        )
    return inner


def check_sdk_seam() -> None:
    """Raise RuntimeError with a clear message if the SDK internals we rely on have changed."""
    from cognite.client._http_client import AsyncHTTPClientWithRetry

    if not isinstance(getattr(AsyncHTTPClientWithRetry, "httpx_async_client", None), property):
        raise RuntimeError(
            SEAM_BROKEN.format(version=_sdk_version(), detail="httpx_async_client is not a property")
        )
    client = CogniteClient(make_config("seam-check", IN_PROCESS_BASE_URL))
    sentinel = httpx2.AsyncClient()
    wire(async_of(client), sentinel)
    async_client = async_of(client)
    for api in (async_client.functions, async_client.functions.calls, async_client.functions.schedules,
                async_client.files, async_client.iam.sessions):  # fmt: skip
        for attr in ("_http_client", "_http_client_with_retry"):
            if getattr(api, attr).httpx_async_client is not sentinel:
                raise RuntimeError(
                    SEAM_BROKEN.format(
                        version=_sdk_version(), detail=f"{type(api).__name__}.{attr} not wired"
                    )
                )
