"""Starlette routes of the Globus Timer facade, mounted at /globus-timer."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from emulator.errors import CogniteAPIError, answering
from emulator.globus.timers import GlobusTimers, Job, TimerError, job_from_v1, job_from_v2, validation_error
from emulator.globus.wiring import globus_of
from emulator.resources.common import context_of
from emulator.validation import loads_strict
from emulator.validation import read_body as read_cdf_body

PAGE_SIZE = 100
Endpoint = Callable[[Request], Awaitable[Response]]


def _timers(request: Request) -> GlobusTimers:
    return globus_of(context_of(request))


async def _body(request: Request) -> Any:
    raw = await read_body(request)
    if not raw:
        return {}
    try:
        return loads_strict(raw)  # NaN, Infinity, 1e400 and deep nesting are decode errors too
    except ValueError as exc:
        raise validation_error("__root__", f"JSON decode error: {exc}", "value_error.jsondecode") from None


async def read_body(request: Request) -> bytes:
    """The raw body with the CDF API's size, gzip and disconnect rules, answered in Globus' shape."""
    try:
        return await read_cdf_body(request)
    except CogniteAPIError as exc:
        raise TimerError(exc.code, "BAD_REQUEST", exc.message) from None


def _answer(endpoint: Endpoint) -> Endpoint:
    """A TimerError raised by the endpoint becomes its answer, in the Timer service's shape."""
    return answering(TimerError)(endpoint)


def _results(job: Job, marker: str | None) -> dict[str, Any]:
    start = 0
    if marker:
        try:
            start = int(marker)
        except ValueError:
            raise TimerError(400, "BAD_REQUEST", f"Invalid page marker {marker[:40]!r}") from None
    newest_first = list(reversed(job.results))
    chunk = newest_first[start : start + PAGE_SIZE]
    return {
        "data": chunk,
        "page_next": str(start + PAGE_SIZE) if start + PAGE_SIZE < len(newest_first) else None,
    }


@_answer
async def list_jobs(request: Request) -> Response:
    jobs = _timers(request).listed(request.query_params.get("order"))
    return JSONResponse({"jobs": [j.document() for j in jobs]})


@_answer
async def create_job(request: Request) -> Response:
    job = _timers(request).create(job_from_v1(await _body(request)))
    return JSONResponse(job.document(), status_code=201)


@_answer
async def create_timer(request: Request) -> Response:
    timers = _timers(request)
    job = timers.create(job_from_v2(await _body(request), timers.now_ms()))
    return JSONResponse({"timer": job.timer_document()}, status_code=201)


@_answer
async def get_job(request: Request) -> Response:
    job = _timers(request).get(request.path_params["job_id"])
    return JSONResponse(job.document(_results(job, request.query_params.get("results_page_marker"))))


@_answer
async def update_job(request: Request) -> Response:
    job = _timers(request).update(request.path_params["job_id"], await _body(request))
    return JSONResponse(job.document())


@_answer
async def delete_job(request: Request) -> Response:
    return JSONResponse(_timers(request).delete(request.path_params["job_id"]).document())


@_answer
async def pause_job(request: Request) -> Response:
    job = _timers(request).pause(request.path_params["job_id"])
    return JSONResponse({"message": f"Successfully paused job {job.job_id}."})


@_answer
async def resume_job(request: Request) -> Response:
    body = await _body(request)
    flag = body.get("update_credentials") if isinstance(body, dict) else None
    if flag is None and "update_credentials" in request.query_params:
        flag = request.query_params["update_credentials"].lower() in ("1", "true", "yes")
    if flag is not None and not isinstance(flag, bool):
        raise validation_error(
            "update_credentials", "value could not be parsed to a boolean", "type_error.bool"
        )
    job = _timers(request).resume(request.path_params["job_id"], flag)
    return JSONResponse({"message": f"Successfully resumed job {job.job_id}."})


@_answer
async def not_served(request: Request) -> Response:
    raise TimerError(404, "NOT_FOUND", f"No such route: {request.method} {request.url.path}")


ALL_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]

routes = [
    Route("/jobs/", list_jobs, methods=["GET"]),
    Route("/jobs/", create_job, methods=["POST"]),
    Route("/v2/timer", create_timer, methods=["POST"]),
    Route("/jobs/{job_id}", get_job, methods=["GET"]),
    Route("/jobs/{job_id}", update_job, methods=["PATCH"]),
    Route("/jobs/{job_id}", delete_job, methods=["DELETE"]),
    Route("/jobs/{job_id}/pause", pause_job, methods=["POST"]),
    Route("/jobs/{job_id}/resume", resume_job, methods=["POST"]),
    Route("/{rest:path}", not_served, methods=ALL_METHODS),  # every other answer in the service's shape
]
