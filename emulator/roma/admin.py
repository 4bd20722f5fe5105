"""The ROMA facade's admin routes, mounted under /_emulator/roma (not part of ROMA Connect)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from emulator.errors import bad_request
from emulator.resources.common import context_of
from emulator.roma.wiring import roma_of
from emulator.validation import expect_object, read_json, reject_unknown


async def roma_register_task(request: Request) -> Response:
    """Register a ROMA Connect FDI task (the Python API is ``emu.roma.register_task``)."""
    body = expect_object(await read_json(request), "")
    reject_unknown(body, ("project_id", "instance_id", "task_id"), "")
    ids = {}
    for key in ("instance_id", "task_id", "project_id"):
        value = body.get(key, "roma-project" if key == "project_id" else None)
        if not isinstance(value, str) or not value or len(value) > 256 or "/" in value:
            raise bad_request(f"{key} must be a non-empty string without '/'")
        ids[key] = value
    task = roma_of(context_of(request)).register_task(
        ids["instance_id"], ids["task_id"], project_id=ids["project_id"]
    )
    return JSONResponse({**ids, "runs": len(task.runs)}, status_code=201)


async def roma_tasks(request: Request) -> Response:
    """Every registered ROMA task with its dispatch and its recorded runs."""
    tasks = roma_of(context_of(request)).tasks.values()
    return JSONResponse({"items": [
        {"project_id": t.project_id, "instance_id": t.instance_id, "task_id": t.task_id,
         "dispatch": t.dispatch.document() if t.dispatch else None, "runs": t.runs}
        for t in tasks
    ]})  # fmt: skip


routes = [
    Route("/roma/tasks", roma_register_task, methods=["POST"]),
    Route("/roma/tasks", roma_tasks, methods=["GET"]),
]
