"""Schedules on the wire: never ``nonce`` or ``data`` (data is only at ``/{id}/input_data``)."""

from __future__ import annotations

from typing import Any

from emulator.state import ScheduleRecord


def schedule_json(schedule: ScheduleRecord) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": schedule.id,
        "name": schedule.name,
        "functionId": schedule.function_id,
        "createdTime": schedule.created_time,
        "cronExpression": schedule.cron_expression,
        "sessionId": schedule.session_id,
        "when": schedule.when,
    }
    if schedule.function_external_id is not None:
        out["functionExternalId"] = schedule.function_external_id
    if schedule.description is not None:
        out["description"] = schedule.description
    return out
