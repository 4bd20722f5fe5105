"""The dashboard's call list: filtered by function and status, newest first, paged with a cursor.

Calls are listed in the order they were made (a project's calls dict keeps it; start times tie on a
virtual clock). A cursor is the id of the last call of a page, so the next page holds the calls made
before it: calls that arrive meanwhile do not shift the older pages. A cursor whose call was trimmed
(only the oldest are) or reset away gives an empty page.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from emulator.errors import bad_request
from emulator.state import CallRecord

STATUSES = ("Running", "Completed", "Failed", "Timeout")
DEFAULT_LIMIT = 25
MAX_LIMIT = 1000
MAX_LOG_LINES = 200  # the newest lines of a call's logs; the page says how many are hidden
MAX_DATA_CHARS = 100_000  # of a call's input data; CDF caps it well below this anyway


@dataclass(frozen=True)
class CallQuery:
    """What the page asks for: ``function`` (an id) and ``status`` narrow the list; ``cursor``
    (the ``nextCursor`` of the page before) continues it."""

    function: int | None = None
    status: str | None = None
    limit: int = DEFAULT_LIMIT
    cursor: int | None = None


def _int(params: Mapping[str, str], name: str) -> int | None:
    text = params.get(name)
    if text is None or text == "":
        return None
    try:
        return int(text)
    except ValueError:
        raise bad_request(f"{name} must be an integer, got {text[:40]!r}") from None


def parse_query(params: Mapping[str, str]) -> CallQuery:
    """The query string of ``GET /_emulator/ui/api/calls``; 400 in CDF's error shape when malformed."""
    status = params.get("status") or None
    if status is not None and status not in STATUSES:
        raise bad_request(f"status must be one of {', '.join(STATUSES)}, got {status[:40]!r}")
    limit = _int(params, "limit")
    if limit is None:
        limit = DEFAULT_LIMIT
    if not 1 <= limit <= MAX_LIMIT:
        raise bad_request(f"limit must be from 1 to {MAX_LIMIT}, got {limit}")
    return CallQuery(_int(params, "function"), status, limit, _int(params, "cursor"))


def call_json(call: CallRecord, function_names: Mapping[int, str]) -> dict[str, Any]:
    """One call with what the page shows when it is expanded: input data, response, logs, error."""
    logs = list(call.logs)
    data: Any = None
    data_truncated = False
    if call.data_json is not None:
        if len(call.data_json) > MAX_DATA_CHARS:
            data, data_truncated = call.data_json[:MAX_DATA_CHARS], True
        else:
            data = json.loads(call.data_json)
    return {
        "id": call.id,
        "functionId": call.function_id,
        "functionName": function_names.get(call.function_id),
        "status": call.status,
        "startTime": call.start_time,
        "endTime": call.end_time,
        "wallMs": None if call.wall_ms is None else round(call.wall_ms, 3),
        "scheduleId": call.schedule_id,
        "scheduledTime": call.scheduled_time,
        "sessionId": call.session_id,
        "hasData": call.data_json is not None,
        "data": data,
        "dataTruncated": data_truncated,
        "hasResponse": call.has_response,
        "response": call.response if call.has_response else None,
        "error": call.error,
        "logs": [{"timestamp": ts, "message": msg} for ts, msg in logs[-MAX_LOG_LINES:]],
        "logsTruncated": max(0, len(logs) - MAX_LOG_LINES),
    }


def calls_page(
    calls: list[CallRecord], query: CallQuery, function_names: Mapping[int, str]
) -> dict[str, Any]:
    """One page of ``calls`` (a snapshot in the order they were made), newest first: ``items``,
    ``total`` (matching the filter), ``before`` (how many newer ones the earlier pages hold) and
    ``nextCursor`` (None on the last page)."""
    matching = [
        (i, c)
        for i, c in enumerate(calls)
        if (query.function is None or c.function_id == query.function)
        and (query.status is None or c.status == query.status)
    ]
    older = matching
    if query.cursor is not None:
        end = next((i for i, c in enumerate(calls) if c.id == query.cursor), None)
        older = [] if end is None else [(i, c) for i, c in matching if i < end]
    page = [c for _, c in reversed(older[-(query.limit + 1) :])]
    more = len(page) > query.limit
    page = page[: query.limit]
    return {
        "items": [call_json(c, function_names) for c in page],
        "total": len(matching),
        "before": len(matching) - len(older),
        "nextCursor": str(page[-1].id) if more else None,
    }
