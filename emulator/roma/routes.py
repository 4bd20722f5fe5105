"""Starlette routes of the ROMA Connect FDI API served here (paths start with /v2/).

Every answer under ``/v2/{project_id}/fdi/`` that is not a success is in ROMA's error shape: an
empty task id is 400 FDI.3149, a task not in the project 404 FDI.3180, a path or method the API
does not have 404 APIG.0101 (what Huawei's API gateway answers for an unknown API).
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from emulator.errors import CogniteAPIError, answering
from emulator.resources.common import context_of
from emulator.roma.errors import EMPTY_TASK_ID, RomaError, bad_parameter
from emulator.roma.service import RomaService, Task, dispatch_from_body
from emulator.roma.wiring import roma_of
from emulator.validation import loads_strict, read_body

INSTANCE = "/v2/{project_id}/fdi/instances/{instance_id}"
TASK = INSTANCE + "/tasks/{task_id}"
_EMPTY_TASK = re.compile(r"/instances/[^/]+/tasks/(?:/|$)")
MAX_LIST_LIMIT = 999
DEFAULT_LIST_LIMIT = 10


def _service(request: Request) -> RomaService:
    return roma_of(context_of(request))


async def _body(request: Request) -> Any:
    try:
        raw = await read_body(request)
    except CogniteAPIError as exc:  # size, gzip and disconnect rules of the CDF API, in ROMA's shape
        raise RomaError(exc.code, "FDI.3149", exc.message) from None
    try:
        return loads_strict(raw or b"{}")  # NaN, Infinity, 1e400 and deep nesting are refused too
    except ValueError as exc:
        raise bad_parameter(f"The request body is not valid JSON: {exc}") from None


Endpoint = Callable[[Request], Awaitable[Response]]


def _answer(endpoint: Endpoint) -> Endpoint:
    """A RomaError raised by the endpoint becomes its answer, in ROMA's shape."""
    return answering(RomaError)(endpoint)


def _task(request: Request) -> Task:
    p = request.path_params
    if not p["task_id"].strip():
        raise RomaError(400, EMPTY_TASK_ID, "The task ID is empty.")
    return _service(request).task(p["project_id"], p["instance_id"], p["task_id"])


@_answer
async def create(request: Request) -> Response:
    service, task = _service(request), _task(request)
    if task.dispatch is not None:
        raise RomaError(400, "FDI.3150", f"The task {task.task_id} already has a schedule: update it instead")
    dispatch = dispatch_from_body(await _body(request), task.task_id, service.now_ms())
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
    dispatch = dispatch_from_body(await _body(request), task.task_id, service.now_ms(), task.dispatch)
    service.set_dispatch(task, dispatch)
    return JSONResponse(dispatch.document())


@_answer
async def show_task(request: Request) -> Response:
    task = _task(request)
    return JSONResponse({"task": task.basic(), "task_detail": json.dumps({"task_id": task.task_id})})


def _int_param(request: Request, name: str, default: int) -> int:
    text = request.query_params.get(name)
    if text is None or text == "":
        return default
    try:
        return int(text)
    except ValueError:
        raise bad_parameter(f"{name} must be an integer, got {text!r}") from None


@_answer
async def list_tasks(request: Request) -> Response:
    p, q = request.path_params, request.query_params
    limit = min(max(_int_param(request, "limit", DEFAULT_LIST_LIMIT), 1), MAX_LIST_LIMIT)
    offset = max(_int_param(request, "offset", 0), 0)  # documented: below 0 counts as 0
    status = _int_param(request, "status", -1)
    tasks = _service(request).tasks_of(p["project_id"], p["instance_id"])
    if q.get("task_id"):
        tasks = [t for t in tasks if t.task_id == q["task_id"]]
    if q.get("name"):
        tasks = [t for t in tasks if q["name"].lower() in t.task_name.lower()]  # fuzzy, as documented
    if status in (0, 1):
        tasks = [t for t in tasks if t.started == (status == 1)]
    elif status != -1:
        raise bad_parameter("status must be 0 (stopped) or 1 (running)")
    if q.get("task_type") and q["task_type"].lower() != "timing":
        tasks = []  # every emulated task is a timing (scheduled) task
    if q.get("execute_status"):
        tasks = [t for t in tasks if t.execute_status == q["execute_status"].upper()]
    sort_type = (q.get("sort_type") or "DESC").upper()
    if sort_type not in ("ASC", "DESC"):
        raise bad_parameter("sort_type must be ASC or DESC")
    field = q.get("sort_field") or "created_date"
    keys = {"created_date": lambda t: t.created_date, "task_name": lambda t: t.task_name.lower()}
    if field not in keys:
        raise bad_parameter(f"sort_field must be one of {', '.join(keys)}")
    tasks.sort(key=keys[field], reverse=sort_type == "DESC")
    page = tasks[offset : offset + limit]
    return JSONResponse({"total": len(tasks), "size": len(page), "entities": [t.brief() for t in page]})


@_answer
async def run_task(request: Request) -> Response:
    service, task = _service(request), _task(request)
    service.run_now(task)
    return JSONResponse({})


@_answer
async def terminate_task(request: Request) -> Response:
    task = _task(request)  # runs finish at once here, so there is never a run left to terminate
    return JSONResponse({"message": f"The task {task.task_id} has no execution in progress."})


@_answer
async def batch_start_or_stop(request: Request) -> Response:
    service, p = _service(request), request.path_params
    body = await _body(request)
    if not isinstance(body, dict) or body.get("action_id") not in ("start", "stop"):
        raise bad_parameter("action_id must be 'start' or 'stop'")
    entries = body.get("list")
    if not isinstance(entries, list) or not entries or not all(isinstance(e, dict) for e in entries):
        raise bad_parameter("list must be a non-empty list of {task_id}")
    success: list[dict[str, Any]] = []
    failure: list[dict[str, Any]] = []
    for entry in entries:
        task_id = entry.get("task_id")
        if not isinstance(task_id, str) or not task_id.strip():
            failure.append(
                {"task_id": task_id, "error_code": EMPTY_TASK_ID, "error_msg": "The task ID is empty."}
            )
            continue
        try:
            task = service.task(p["project_id"], p["instance_id"], task_id)
        except RomaError as exc:
            failure.append({"task_id": task_id, "error_code": exc.error_code, "error_msg": exc.message})
            continue
        service.set_started(task, body["action_id"] == "start")
        success.append({"task_id": task.task_id, "task_name": task.task_name})
    return JSONResponse(
        {"success_count": len(success), "failure_count": len(failure), "success": success, "failure": failure}
    )


@_answer
async def not_served(request: Request) -> Response:
    if _EMPTY_TASK.search(request.url.path):
        raise RomaError(400, EMPTY_TASK_ID, "The task ID is empty.")
    raise RomaError(404, "APIG.0101", "The API does not exist or has not been published in the environment.")


ALL_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]

routes = [
    Route(INSTANCE + "/batch-operation/tasks", batch_start_or_stop, methods=["POST"]),
    Route(INSTANCE + "/tasks", list_tasks, methods=["GET"]),
    Route(TASK + "/dispatches", create, methods=["POST"]),
    Route(TASK + "/dispatches", show, methods=["GET"]),
    Route(TASK + "/dispatches/{dispatch_id}", update, methods=["PUT"]),
    Route(TASK + "/run", run_task, methods=["POST"]),
    Route(TASK + "/terminate", terminate_task, methods=["POST"]),
    Route(TASK, show_task, methods=["GET"]),
    Route("/v2/{project_id}/fdi/{rest:path}", not_served, methods=ALL_METHODS),
]
