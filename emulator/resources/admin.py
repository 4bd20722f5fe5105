"""The admin API under /_emulator/ (not part of CDF): clock, reset, state dump, fault injection.

The Python API mirrors it: ``emu.clock``, ``emu.reset()``, ``emu.state()``, ``emu.faults``.
"""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from emulator.auth import bearer
from emulator.clock import to_epoch_ms
from emulator.errors import CogniteAPIError, bad_request
from emulator.persistence import dump
from emulator.resources.common import context_of
from emulator.validation import expect_object, read_json, reject_unknown

MAX_ADVANCE_SECONDS = 400 * 366 * 86_400  # centuries; further would leave the clock's range anyway


def _clock_json(request: Request) -> dict[str, Any]:
    clock = context_of(request).clock
    return {"now": clock.now_ms(), "iso": clock.now().isoformat(), "mode": clock.mode}


async def get_clock(request: Request) -> Response:
    return JSONResponse(_clock_json(request))


async def advance(request: Request) -> Response:
    ctx = context_of(request)
    body = expect_object(await read_json(request), "")
    reject_unknown(body, ("seconds", "to"), "")
    if ("seconds" in body) == ("to" in body):
        raise bad_request("Give exactly one of seconds (a positive number) or to (epoch ms or ISO 8601)")
    try:
        if "seconds" in body:
            seconds = body["seconds"]
            if (
                isinstance(seconds, bool)
                or not isinstance(seconds, int | float)
                or not 0 <= seconds <= MAX_ADVANCE_SECONDS  # also rejects NaN and infinity
            ):
                raise ValueError(f"seconds must be a number from 0 to {MAX_ADVANCE_SECONDS}")
            fired = await run_in_threadpool(ctx.clock.advance, seconds=seconds)
        else:
            target = to_epoch_ms(body["to"])
            fired = await run_in_threadpool(ctx.clock.advance_to, target)
    except (TypeError, ValueError, OverflowError) as exc:
        raise bad_request(str(exc)) from None
    out = _clock_json(request)
    out["calls"] = [call.dump(camel_case=True) for call in fired]
    return JSONResponse(out)


async def reset(request: Request) -> Response:
    context_of(request).reset()
    return JSONResponse({"reset": True})


async def state(request: Request) -> Response:
    """The state dump; secrets unmasked only for ``?secrets=true`` with the admin token."""
    ctx = context_of(request)
    wanted = request.query_params.get("secrets", "").lower() in ("1", "true", "yes")
    reveal = wanted and ctx.auth.is_admin(bearer(request.headers.get("authorization")))
    if wanted and not reveal:
        raise CogniteAPIError(403, "Forbidden: secrets=true needs the admin token (Bearer)")
    return JSONResponse(dump(ctx, secrets=reveal))


async def list_faults(request: Request) -> Response:
    return JSONResponse({"items": context_of(request).faults.list()})


async def add_fault(request: Request) -> Response:
    ctx = context_of(request)
    body = expect_object(await read_json(request), "")
    reject_unknown(
        body,
        ("status", "method", "path", "pattern", "count", "latency", "latencyMs", "latency_ms", "message"),
        "",
    )
    if sum(k in body for k in ("latency", "latencyMs", "latency_ms")) > 1:
        raise bad_request("Give one of latency (seconds), latencyMs or latency_ms")
    if "pattern" in body:  # an alias of path
        if "path" in body:
            raise bad_request("Give path or pattern, not both")
        body["path"] = body.pop("pattern")
    if "latency" in body:
        seconds = body.pop("latency")
        if isinstance(seconds, bool) or not isinstance(seconds, int | float):
            raise bad_request(f"latency must be a number of seconds, got {seconds!r}")
        body["latencyMs"] = seconds * 1000
    latency_ms = body.get("latencyMs", body.get("latency_ms", 0))
    try:
        if isinstance(latency_ms, bool) or not isinstance(latency_ms, int | float):
            raise ValueError(f"latencyMs must be a number of milliseconds, got {latency_ms!r}")
        fault = ctx.faults.add(
            status=body.get("status", 503),
            method=body.get("method", "*"),
            path=body.get("path", "*"),
            count=body.get("count", 1),
            latency=latency_ms / 1000,
            message=body.get("message"),
        )
    except (TypeError, ValueError) as exc:
        raise bad_request(f"Invalid fault: {exc}") from None
    return JSONResponse({"id": fault.id, "items": ctx.faults.list()}, status_code=201)


async def clear_faults(request: Request) -> Response:
    context_of(request).faults.clear()
    return JSONResponse({"items": []})


routes = [
    Route("/clock", get_clock, methods=["GET"]),
    Route("/clock/advance", advance, methods=["POST"]),
    Route("/reset", reset, methods=["POST"]),
    Route("/state", state, methods=["GET"]),
    Route("/faults", list_faults, methods=["GET"]),
    Route("/faults", add_fault, methods=["POST"]),
    Route("/faults", clear_faults, methods=["DELETE"]),
]
