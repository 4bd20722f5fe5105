"""Timer request documents (``POST /jobs/``'s TimerJob, ``POST /v2/timer``'s TransferTimer and
FlowTimer) parsed into Jobs; a 422 in the service's shape otherwise."""

from __future__ import annotations

import uuid
from typing import Any

from emulator.clock import to_epoch_ms
from emulator.globus.errors import TimerError, validation_error
from emulator.globus.job import TRANSFER_ACTION_URL, Job, flow_scope, flow_url


def _time(value: Any, field_name: str) -> int:
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        raise validation_error(field_name, "invalid datetime format", "type_error.datetime")
    try:
        return to_epoch_ms(value if not isinstance(value, int | float) else value * 1000)
    except (TypeError, ValueError) as exc:
        raise validation_error(field_name, f"invalid datetime format: {exc}", "type_error.datetime") from None


def _positive_int(value: Any, field_name: str) -> int:
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # the service itself answers intervals as floats (864000.0)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise validation_error(field_name, "ensure this value is a positive integer", "value_error.number")
    return value


def job_from_v1(doc: Any) -> Job:
    """A job from the ``POST /jobs/`` (TimerJob) document."""
    if not isinstance(doc, dict):
        raise validation_error("__root__", "the body must be a JSON object", "type_error.dict")
    missing = [f for f in ("callback_url", "callback_body", "start") if f not in doc]
    if missing:
        raise TimerError(
            422,
            "VALIDATION_ERROR",
            [{"loc": ["body", f], "msg": "field required", "type": "value_error.missing"} for f in missing],
        )
    if not isinstance(doc["callback_url"], str) or not doc["callback_url"]:
        raise validation_error("callback_url", "callback_url must be a non-empty string")
    if not isinstance(doc["callback_body"], dict):
        raise validation_error("callback_body", "value is not a valid dict", "type_error.dict")
    interval = doc.get("interval")
    interval = None if interval is None else _positive_int(interval, "interval")
    stop_after_n = doc.get("stop_after_n")
    stop_after_n = None if stop_after_n is None else _positive_int(stop_after_n, "stop_after_n")
    if stop_after_n == 1 and interval is not None:
        raise validation_error("interval", "interval must be null when the job runs once (stop_after_n == 1)")
    stop_after = doc.get("stop_after")
    start = _time(doc["start"], "start")
    stop_ms = None if stop_after is None else _time(stop_after, "stop_after")
    if stop_ms is not None and stop_ms < start:
        raise validation_error("stop_after", "stop_after must not be before start")
    name = doc.get("name") or ""
    if not isinstance(name, str):
        raise validation_error("name", "str type expected", "type_error.str")
    return Job(
        job_id=str(uuid.uuid4()),
        name=name,
        callback_url=doc["callback_url"],
        callback_body=doc["callback_body"],
        start_ms=start,
        interval_s=interval,
        stop_after_ms=stop_ms,
        stop_after_n=stop_after_n if interval is not None else 1,
        scope=doc.get("scope"),
    )


def job_from_v2(doc: Any, now_ms: int) -> Job:
    """A job from the ``POST /v2/timer`` document (``{"timer": {timer_type, schedule, body, ...}}``)."""
    if not isinstance(doc, dict) or not isinstance(doc.get("timer"), dict):
        raise validation_error("timer", "field required", "value_error.missing")
    timer = doc["timer"]
    timer_type = timer.get("timer_type")
    if timer_type not in ("transfer", "flow"):
        raise validation_error("timer.timer_type", "timer_type must be 'transfer' or 'flow'")
    schedule = timer.get("schedule")
    body = timer.get("body")
    if not isinstance(schedule, dict):
        raise validation_error("timer.schedule", "field required", "value_error.missing")
    if not isinstance(body, dict):
        raise validation_error("timer.body", "value is not a valid dict", "type_error.dict")
    stop_ms, stop_n, interval = None, None, None
    if schedule.get("type") == "once":
        start = _time(schedule.get("datetime", now_ms / 1000), "timer.schedule.datetime")
        stop_n = 1
    elif schedule.get("type") == "recurring":
        interval = _positive_int(schedule.get("interval_seconds"), "timer.schedule.interval_seconds")
        start = _time(schedule.get("start", now_ms / 1000), "timer.schedule.start")
        end = schedule.get("end")
        if isinstance(end, dict):
            if end.get("condition") == "time":
                stop_ms = _time(end.get("datetime"), "timer.schedule.end.datetime")
            elif end.get("condition") == "iterations":
                count = end.get("iterations", end.get("count"))  # the SDK sends iterations
                stop_n = _positive_int(count, "timer.schedule.end.iterations")
            else:
                raise validation_error(
                    "timer.schedule.end.condition", "condition must be 'time' or 'iterations'"
                )
        elif end is not None:
            raise validation_error("timer.schedule.end", "value is not a valid dict", "type_error.dict")
    else:
        raise validation_error("timer.schedule.type", "schedule type must be 'once' or 'recurring'")
    if timer_type == "flow":
        flow_id = timer.get("flow_id")
        if not isinstance(flow_id, str) or not flow_id:
            raise validation_error("timer.flow_id", "field required", "value_error.missing")
        url, scope = flow_url(flow_id), flow_scope(flow_id)
    else:
        url, scope = TRANSFER_ACTION_URL, None
    name = timer.get("name") or ""
    return Job(
        job_id=str(uuid.uuid4()),
        name=name if isinstance(name, str) else "",
        callback_url=url,
        callback_body=body,
        start_ms=start,
        interval_s=interval,
        stop_after_ms=stop_ms,
        stop_after_n=stop_n,
        scope=scope,
        timer_type=timer_type,
    )
