"""The baseline every HTTP benchmark is measured against, in the same run on the same machine:
a bare Starlette app answering a canned Function JSON body, driven by the same SDK client over the
same in-process transport (and over a uvicorn loopback server)."""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

CANNED = {
    "id": 1, "name": "canned", "fileId": 1, "functionPath": "handler.py", "createdTime": 0, "status": "Ready",
    "cpu": 0.25, "memory": 1.0, "runtime": "py313", "envVars": {},
}  # fmt: skip


async def _byids(request: Any) -> JSONResponse:
    await request.body()
    return JSONResponse({"items": [CANNED]})


def canned_app() -> Starlette:
    return Starlette(routes=[Route("/api/v1/projects/{project}/functions/byids", _byids, methods=["POST"])])


def canned_client(project: str = "bench") -> Any:
    """A real CogniteClient wired in-process to the canned app (the same transport the emulator uses)."""
    from emulator import transport

    return transport.in_process_client(canned_app(), project)
