"""Function calls on the wire: CDF's JSON of a call, its response and its logs."""

from __future__ import annotations

from typing import Any

from emulator.state import CallRecord


def call_json(call: CallRecord) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": call.id,
        "functionId": call.function_id,
        "status": call.status,
        "startTime": call.start_time,
    }
    if call.end_time is not None:
        out["endTime"] = call.end_time
    if call.error is not None:
        out["error"] = call.error
    if call.schedule_id is not None:
        out["scheduleId"] = call.schedule_id
    if call.scheduled_time is not None:
        out["scheduledTime"] = call.scheduled_time
    return out


def response_json(call: CallRecord) -> dict[str, Any]:
    return {"response": call.response, "functionId": call.function_id, "callId": call.id}


def logs_json(call: CallRecord) -> dict[str, Any]:
    return {"items": [{"timestamp": ts, "message": msg} for ts, msg in call.logs]}
