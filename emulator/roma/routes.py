"""Starlette routes of the ROMA Connect FDI dispatch API (paths start with /v2/)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from emulator.errors import CogniteAPIError, answering
from emulator.roma.service import RomaError, RomaService, dispatch_from_body
from emulator.validation import loads_strict, read_body

BASE = "/v2/{project_id}/fdi/instances/{instance_id}/tasks/{task_id}/dispatches"


def _service(request: Request) -> RomaService:
    return request.app.state.emulator.roma  # type: ignore[no-any-return]


async def _body(request: Request) -> Any:
    try:
        raw = await read_body(request)
    except CogniteAPIError as exc:  # size, gzip and disconnect rules of the CDF API, in ROMA's shape
        raise RomaError(exc.code, "FDI.3149", exc.message) from None
    try:
        return loads_strict(raw or b"{}")  # NaN, Infinity, 1e400 and deep nesting are refused too
    except ValueError as exc:
        raise RomaError(400, "FDI.3149", f"The request body is not valid JSON: {exc}") from None


_answer = answering(RomaError)


def _task(request: Request) -> Any:
    p = request.path_params
    return _service(request).task(p["project_id"], p["instance_id"], p["task_id"])


@_answer
async def create(request: Request) -> Response:
    service, task = _service(request), _task(request)
    if task.dispatch is not None:
        raise RomaError(400, "FDI.3150", f"The task {task.task_id} already has a schedule: update it instead")
    dispatch = dispatch_from_body(await _body(request), task.task_id, service._emu.clock.now_ms())
    service.set_dispatch(task, dispatch)
    return JSONResponse(dispatch.document())


@_answer
async def show(request: Request) -> Response:
    task = _task(request)
    if task.dispatch is None:
        raise RomaError(404, "FDI.3151", f"The task {task.task_id} has no schedule")
    return JSONResponse(task.dispatch.document())


@_answer
async def update(request: Request) -> Response:
    service, task = _service(request), _task(request)
    if task.dispatch is None or task.dispatch.dispatch_id != request.path_params["dispatch_id"]:
        raise RomaError(
            404, "FDI.3151", f"No schedule {request.path_params['dispatch_id']} on task {task.task_id}"
        )
    dispatch = dispatch_from_body(
        await _body(request), task.task_id, service._emu.clock.now_ms(), task.dispatch
    )
    service.set_dispatch(task, dispatch)
    return JSONResponse(dispatch.document())


routes = [
    Route(BASE, create, methods=["POST"]),
    Route(BASE, show, methods=["GET"]),
    Route(BASE + "/{dispatch_id}", update, methods=["PUT"]),
]
