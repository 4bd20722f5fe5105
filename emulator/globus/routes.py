"""Starlette routes of the Globus Timer facade, mounted at /globus-timer."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from emulator.errors import CogniteAPIError, answering
from emulator.globus.timers import GlobusTimers, Job, TimerError, job_from_v1, job_from_v2, validation_error
from emulator.validation import loads_strict
from emulator.validation import read_body as read_cdf_body

PAGE_SIZE = 100


def _timers(request: Request) -> GlobusTimers:
    return request.app.state.emulator.globus  # type: ignore[no-any-return]


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


_answer = answering(TimerError)


def _page(items: list[Any], marker: str | None) -> tuple[list[Any], str | None]:
    start = 0
    if marker:
        try:
            start = int(marker)
        except ValueError:
            raise TimerError(400, "BAD_REQUEST", f"Invalid page marker {marker[:40]!r}") from None
    chunk = items[start : start + PAGE_SIZE]
    return chunk, (str(start + PAGE_SIZE) if start + PAGE_SIZE < len(items) else None)


def _job_with_results(job: Job, marker: str | None) -> dict[str, Any]:
    doc = job.document()
    results, page_next = _page(list(reversed(job.results)), marker)
    doc["results"] = {"data": results, "page_next": page_next}
    return doc


@_answer
async def list_jobs(request: Request) -> Response:
    jobs = sorted(_timers(request).jobs.values(), key=lambda j: j.start_ms)
    chunk, page_next = _page(jobs, request.query_params.get("page_marker"))
    return JSONResponse({"jobs": [j.document() for j in chunk], "page_next": page_next})


@_answer
async def create_job(request: Request) -> Response:
    job = _timers(request).create(job_from_v1(await _body(request)))
    return JSONResponse(job.document(), status_code=201)


@_answer
async def create_timer(request: Request) -> Response:
    timers = _timers(request)
    job = timers.create(job_from_v2(await _body(request), timers._emu.clock.now_ms()))
    return JSONResponse({"timer": job.document()}, status_code=201)


@_answer
async def get_job(request: Request) -> Response:
    job = _timers(request).get(request.path_params["job_id"])
    return JSONResponse(_job_with_results(job, request.query_params.get("results_page_marker")))


@_answer
async def update_job(request: Request) -> Response:
    timers = _timers(request)
    job = timers.get(request.path_params["job_id"])
    changes = await _body(request)
    if not isinstance(changes, dict):
        raise validation_error("__root__", "the body must be a JSON object", "type_error.dict")
    allowed = {
        "name",
        "callback_url",
        "callback_body",
        "interval",
        "stop_after",
        "stop_after_n",
        "scope",
        "start",
    }
    unknown = sorted(set(changes) - allowed)
    if unknown:
        raise validation_error(unknown[0], "extra fields not permitted", "value_error.extra")
    merged = {**job.document(), **changes}
    merged["interval"] = changes.get("interval", job.interval_s)
    updated = job_from_v1({k: merged.get(k) for k in allowed if merged.get(k) is not None or k == "interval"})
    with timers._lock:
        job.name, job.callback_url, job.callback_body = (
            updated.name,
            updated.callback_url,
            updated.callback_body,
        )
        job.start_ms, job.interval_s, job.scope = updated.start_ms, updated.interval_s, updated.scope
        job.stop_after_ms, job.stop_after_n = updated.stop_after_ms, updated.stop_after_n
        if job.status == "active":
            job.next_run_ms = job.occurrence_after(
                max(timers._emu.clock.now_ms() - 1, job.last_ran_at_ms or 0)
            )
    return JSONResponse(job.document())


@_answer
async def delete_job(request: Request) -> Response:
    return JSONResponse(_timers(request).delete(request.path_params["job_id"]).document())


@_answer
async def pause_job(request: Request) -> Response:
    job = _timers(request).pause(request.path_params["job_id"])
    return JSONResponse({"message": f"Successfully paused job {job.job_id}.", "job_id": job.job_id})


@_answer
async def resume_job(request: Request) -> Response:
    body = await _body(request)
    flag = (
        body.get("update_credentials", request.query_params.get("update_credentials"))
        if isinstance(body, dict)
        else None
    )
    job = _timers(request).resume(request.path_params["job_id"])
    return JSONResponse(
        {
            "message": f"Successfully resumed job {job.job_id}.",
            "job_id": job.job_id,
            "update_credentials": bool(flag),
        }
    )


routes = [
    Route("/jobs/", list_jobs, methods=["GET"]),
    Route("/jobs/", create_job, methods=["POST"]),
    Route("/v2/timer", create_timer, methods=["POST"]),
    Route("/jobs/{job_id}", get_job, methods=["GET"]),
    Route("/jobs/{job_id}", update_job, methods=["PATCH"]),
    Route("/jobs/{job_id}", delete_job, methods=["DELETE"]),
    Route("/jobs/{job_id}/pause", pause_job, methods=["POST"]),
    Route("/jobs/{job_id}/resume", resume_job, methods=["POST"]),
]
