"""Function calls: starting one (nonce bound only once the call can start), lookups, filters.

The call itself runs through the one call pipeline (emulator/execution/pipeline.py).
"""

from __future__ import annotations

from typing import Any

from emulator.context import Context
from emulator.errors import CogniteAPIError, bad_request, not_found
from emulator.execution.pipeline import check_capacity, run_api_call
from emulator.resources.functions.domain import get_function, settle_one
from emulator.resources.sessions.domain import bind_nonce, release_nonce
from emulator.state import CallRecord, Store
from emulator.validation import in_range

CALL_STATUSES = ("Running", "Completed", "Failed", "Timeout")


async def call_function(ctx: Context, project: str, function_id: int, data: Any, nonce: Any) -> CallRecord:
    """Start a call of a Ready function, binding the request's session nonce."""
    store = ctx.backend.store(project)
    fn = get_function(store, function_id)
    settle_one(fn, ctx.clock.now_ms())
    if fn.status != "Ready":
        raise bad_request(f"Function {fn.id} is not ready to be called (status: {fn.status})")
    check_capacity(ctx, store, fn)  # a 429 must not spend the nonce: the SDK retries with it
    session = bind_nonce(ctx, store, nonce)
    try:
        return await run_api_call(ctx, project, fn, data, session_id=session.id)
    except CogniteAPIError:
        release_nonce(ctx, session)
        raise


def get_call(store: Store, function_id: int, call_id: int) -> CallRecord:
    call = store.calls.get(call_id)
    if call is None or call.function_id != function_id:
        raise not_found([{"id": call_id}], f"Call {call_id} of function {function_id} not found")
    return call


def calls_of(store: Store, function_id: int) -> list[CallRecord]:
    get_function(store, function_id)
    return [c for c in list(store.calls.values()) if c.function_id == function_id]


def matches(call: CallRecord, flt: dict[str, Any]) -> bool:
    return (
        ("status" not in flt or call.status == flt["status"])
        and ("scheduleId" not in flt or call.schedule_id == flt["scheduleId"])
        and in_range(call.start_time, flt.get("startTime"))
        and in_range(call.end_time, flt.get("endTime"))
    )


def by_ids(store: Store, function_id: int, ids: list[int], *, ignore_unknown: bool) -> list[CallRecord]:
    get_function(store, function_id)
    found, missing = [], []
    for call_id in dict.fromkeys(ids):
        call = store.calls.get(call_id)
        if call is None or call.function_id != function_id:
            missing.append({"id": call_id})
        else:
            found.append(call)
    if missing and not ignore_unknown:
        raise not_found(missing, "Function calls not found")
    return found
