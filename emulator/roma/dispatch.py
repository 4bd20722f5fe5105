"""A ROMA Connect FDI schedule ("dispatch"): its document, its validation and its run times.

A dispatch is a period (``start_datetime + n * dispatch_interval * unit``, unit MIN/HOUR/DAY/WEEK/MON,
months by calendar: the day of month of the start is kept and clamped to shorter months, so Jan 31 +
1 MON is Feb 28 (29 in leap years) and + 2 MON is Mar 31) or a Quartz cron in a time zone. ROMA's
schedules are minute-level (its documentation fixes the seconds field at 0), so a cron whose seconds
field is not ``0`` is refused.
"""

from __future__ import annotations

import calendar
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import emulator.roma.quartz as quartz
from emulator.clock import MAX_EPOCH_MS, to_epoch_ms
from emulator.roma.errors import RomaError

UTC = timezone.utc  # datetime.UTC is new in Python 3.11

PERIOD_MS = {"MIN": 60_000, "HOUR": 3_600_000, "DAY": 86_400_000, "WEEK": 7 * 86_400_000}
START_RANGE = (946684800000, 2147512447000)  # from the API's documentation
_PAST_RANGE = "the next run would fall after 9999-12-31, the end of the emulator's clock"


@dataclass
class Dispatch:
    dispatch_id: str
    task_id: str
    start_datetime: int
    period: str | None
    dispatch_interval: int | None
    use_quartz_cron: bool
    cron: str | None
    cron_timezone: str | None
    remark: str | None
    created_date: int
    last_modified_date: int

    def document(self) -> dict[str, Any]:
        return {
            "dispatch_id": self.dispatch_id,
            "task_id": self.task_id,
            "start_datetime": self.start_datetime,
            "period": self.period,
            "dispatch_interval": self.dispatch_interval,
            "created_date": self.created_date,
            "last_modified_date": self.last_modified_date,
            "remark": self.remark,
            "use_quartz_cron": self.use_quartz_cron,
            "cron": self.cron,
            "cron_timezone": self.cron_timezone,
        }

    def runs_after(self, after_ms: int) -> Iterator[int]:
        if self.use_quartz_cron:
            expression = quartz.parse(self.cron)
            tz = quartz.parse_timezone(self.cron_timezone)
            for due in expression.iter_after(max(after_ms, self.start_datetime - 1), tz):
                if due > MAX_EPOCH_MS:
                    raise ValueError(_PAST_RANGE)
                yield due
            return
        assert self.period is not None and self.dispatch_interval is not None
        if self.period == "MON":
            first = datetime.fromtimestamp(self.start_datetime / 1000, UTC)
            n = 0
            while True:
                if (first.year * 12 + first.month - 1) + n * self.dispatch_interval > 9999 * 12 + 11:
                    raise ValueError(_PAST_RANGE)
                due_ms = int(_add_months(first, n * self.dispatch_interval).timestamp() * 1000)
                if due_ms > after_ms:
                    yield due_ms
                n += 1
        step = PERIOD_MS[self.period] * self.dispatch_interval
        n = 0 if after_ms < self.start_datetime else (after_ms - self.start_datetime) // step + 1
        while True:
            if self.start_datetime + n * step > MAX_EPOCH_MS:
                raise ValueError(_PAST_RANGE)
            yield self.start_datetime + n * step
            n += 1


def _add_months(start: datetime, months: int) -> datetime:
    total = start.month - 1 + months
    year, month = start.year + total // 12, total % 12 + 1
    day = min(start.day, calendar.monthrange(year, month)[1])
    return start.replace(year=year, month=month, day=day)


def dispatch_from_body(body: Any, task_id: str, now_ms: int, existing: Dispatch | None = None) -> Dispatch:
    """Validate a TaskDispatch body (create, or update over ``existing``); RomaError 400 otherwise."""
    if not isinstance(body, dict):
        raise RomaError(400, "FDI.3149", "The request body must be a JSON object")
    known = {
        "start_datetime",
        "period",
        "dispatch_interval",
        "remark",
        "use_quartz_cron",
        "cron",
        "cron_timezone",
    }
    unknown = sorted(set(body) - known)
    if unknown:
        raise RomaError(400, "FDI.3149", f"Unknown parameter(s): {', '.join(unknown)}")
    merged = existing.document() if existing is not None else {}
    merged.update({k: v for k, v in body.items() if v is not None})
    start = merged.get("start_datetime", now_ms)
    if isinstance(start, str):
        try:  # the emulator's one reading of ISO 8601 (Z or an offset; without one, UTC)
            start = to_epoch_ms(start)
        except ValueError:
            raise RomaError(
                400, "FDI.3149", f"start_datetime {start!r} is not epoch ms or ISO 8601"
            ) from None
    if isinstance(start, bool) or not isinstance(start, int) or not START_RANGE[0] <= start <= START_RANGE[1]:
        raise RomaError(
            400, "FDI.3149", f"start_datetime must be epoch ms in {START_RANGE[0]}-{START_RANGE[1]}"
        )
    use_cron = merged.get("use_quartz_cron", False)
    if not isinstance(use_cron, bool):
        raise RomaError(400, "FDI.3149", "use_quartz_cron must be a boolean")
    remark = merged.get("remark")
    if remark is not None and (not isinstance(remark, str) or len(remark) > 1024):
        raise RomaError(400, "FDI.3149", "remark must be a string of at most 1024 characters")
    period, interval, cron_text, tz_name = None, None, None, None
    if use_cron:
        cron_text, tz_name = merged.get("cron"), merged.get("cron_timezone")
        if not cron_text or not isinstance(cron_text, str):
            raise RomaError(400, "FDI.3149", "cron is required when use_quartz_cron is true")
        if tz_name is not None and (not isinstance(tz_name, str) or len(tz_name) > 64):
            raise RomaError(400, "FDI.3149", "cron_timezone must be a string (an IANA name or UTC+8)")
        try:
            quartz.parse(cron_text)
            quartz.parse_timezone(tz_name)
        except quartz.QuartzError as exc:
            raise RomaError(400, "FDI.3149", f"Invalid cron: {exc}") from None
        if cron_text.split()[0] != "0":
            raise RomaError(
                400, "FDI.3149", "Invalid cron: ROMA schedules are minute-level, the seconds field must be 0"
            )
    else:
        period, interval = merged.get("period"), merged.get("dispatch_interval")
        if period not in (*PERIOD_MS, "MON"):
            raise RomaError(400, "FDI.3149", "period must be one of MIN, HOUR, DAY, WEEK, MON")
        if isinstance(interval, bool) or not isinstance(interval, int) or not 1 <= interval <= 100_000:
            raise RomaError(400, "FDI.3149", "dispatch_interval must be a positive integer")
    return Dispatch(
        dispatch_id=existing.dispatch_id if existing else uuid.uuid4().hex,
        task_id=task_id,
        start_datetime=start,
        period=period,
        dispatch_interval=interval,
        use_quartz_cron=use_cron,
        cron=cron_text,
        cron_timezone=tz_name,
        remark=remark,
        created_date=existing.created_date if existing else now_ms,
        last_modified_date=now_ms,
    )


def earliest(dispatch: Dispatch, after_ms: int, count: int) -> list[int]:
    """The next ``count`` run times (for docs, dashboards and tests)."""
    runs = dispatch.runs_after(after_ms)
    return [next(runs) for _ in range(count)]
