"""ROMA Connect FDI tasks and their schedules ("dispatches") on the emulator's clock.

A dispatch is a period (``start_datetime + n * dispatch_interval * unit``, unit MIN/HOUR/DAY/WEEK/MON,
months by calendar: the day of month of the start is kept and clamped to shorter months, so Jan 31 +
1 MON is Feb 28 (29 in leap years) and + 2 MON is Mar 31) or a Quartz cron in a time zone. Tasks are
registered by the test (``emu.roma.register_task(...)``), each optionally with a Python callable run on
each dispatch; every run is recorded with its scheduled time. The service is a timer source of the
shared Timeline, so its runs interleave with CDF schedules and Globus timers in time order.
"""

from __future__ import annotations

import calendar
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from emulator.clock import MAX_EPOCH_MS
from emulator.roma import quartz

if TYPE_CHECKING:
    from emulator.emulator import FunctionsEmulator

PERIOD_MS = {"MIN": 60_000, "HOUR": 3_600_000, "DAY": 86_400_000, "WEEK": 7 * 86_400_000}
START_RANGE = (946684800000, 2147512447000)  # from the API's documentation
MAX_RUNS_KEPT = 10_000
_PAST_RANGE = "the next run would fall after 9999-12-31, the end of the emulator's clock"


class RomaError(Exception):
    def __init__(self, status: int, error_code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.error_code, self.message = status, error_code, message

    def body(self) -> dict[str, Any]:
        return {"code": self.status, "reason": {"error_code": self.error_code, "error_msg": self.message}}


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
            start = datetime.fromtimestamp(self.start_datetime / 1000, UTC)
            n = 0
            while True:
                if (start.year * 12 + start.month - 1) + n * self.dispatch_interval > 9999 * 12 + 11:
                    raise ValueError(_PAST_RANGE)
                due = _add_months(start, n * self.dispatch_interval)
                due_ms = int(due.timestamp() * 1000)
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


@dataclass
class Task:
    project_id: str
    instance_id: str
    task_id: str
    callback: Callable[[dict[str, Any]], Any] | None = None
    dispatch: Dispatch | None = None
    runs: list[dict[str, Any]] = field(default_factory=list)
    next_run_ms: int | None = None
    _iterator: Iterator[int] | None = None


class RomaService:
    """ROMA Connect FDI schedules on one emulator: ``emu.roma``."""

    def __init__(self, emu: FunctionsEmulator) -> None:
        self._emu = emu
        self._lock = threading.RLock()
        self.tasks: dict[tuple[str, str, str], Task] = {}
        emu.scheduler.add_source(self)

    def register_task(
        self,
        instance_id: str,
        task_id: str,
        callback: Callable[[dict[str, Any]], Any] | None = None,
        *,
        project_id: str = "roma-project",
    ) -> Task:
        """Make a data integration task known; ``callback(run)`` runs on each dispatch (a raise fails it)."""
        with self._lock:
            task = self.tasks.setdefault(
                (project_id, instance_id, task_id), Task(project_id, instance_id, task_id)
            )
            task.callback = callback
        return task

    def task(self, project_id: str, instance_id: str, task_id: str) -> Task:
        task = self.tasks.get((project_id, instance_id, task_id))
        if task is None:
            raise RomaError(404, "FDI.3144", f"The task {task_id} does not exist in instance {instance_id}")
        return task

    def reset(self) -> None:
        with self._lock:
            self.tasks.clear()

    def set_dispatch(self, task: Task, dispatch: Dispatch) -> None:
        with self._lock:
            task.dispatch = dispatch
            task._iterator = dispatch.runs_after(self._emu.clock.now_ms())
            task.next_run_ms = self._next_run(task, None)

    # --- TimerSource ------------------------------------------------------------------------------
    def next_due_ms(self) -> int | None:
        dues = [t.next_run_ms for t in list(self.tasks.values()) if t.next_run_ms is not None]
        return min(dues) if dues else None

    def fire(self, due_ms: int) -> list[Any]:
        ended: list[tuple[Task, dict[str, Any]]] = []
        with self._lock:
            due = [t for t in self.tasks.values() if t.next_run_ms == due_ms]
            for task in due:
                task.next_run_ms = self._next_run(task, due_ms, ended)
        runs = [self._run(task, due_ms) for task in due]
        with self._lock:  # recorded after the run that came before it
            for task, failure in ended:
                task.runs.append(failure)
        return runs

    def _next_run(
        self, task: Task, after_ms: int | None, ended: list[tuple[Task, dict[str, Any]]] | None = None
    ) -> int | None:
        """The task's next run time, or None; a dispatch whose next run cannot be computed ends with a
        recorded error rather than failing every later move of the clock (which all sources share)."""
        if task._iterator is None:
            return None
        try:
            return next(task._iterator, None)
        except (ArithmeticError, ValueError) as exc:  # QuartzError is a ValueError
            task._iterator = None
            failure = {
                "task_id": task.task_id,
                "dispatch_id": task.dispatch.dispatch_id if task.dispatch else None,
                "scheduled_time": after_ms,
                "status": "FAILED",
                "error": f"The dispatch ended: its next run cannot be computed ({type(exc).__name__}: {exc})",
            }
            if ended is None:
                task.runs.append(failure)
            else:
                ended.append((task, failure))
            return None

    def _run(self, task: Task, due_ms: int) -> dict[str, Any]:
        run = {
            "task_id": task.task_id,
            "dispatch_id": task.dispatch.dispatch_id if task.dispatch else None,
            "scheduled_time": due_ms,
            "scheduled_iso": datetime.fromtimestamp(due_ms / 1000, UTC).isoformat(),
            "status": "SUCCESS",
        }
        if task.callback is not None:
            try:
                run["result"] = task.callback(dict(run))
            except Exception as exc:  # the task's failure is the run's failure
                run["status"], run["error"] = "FAILED", f"{type(exc).__name__}: {exc}"
        with self._lock:
            task.runs.append(run)
            del task.runs[:-MAX_RUNS_KEPT]
        return run


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
        try:
            start = int(datetime.fromisoformat(start.replace("Z", "+00:00")).timestamp() * 1000)
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
            raise RomaError(
                400, "FDI.3149", "cron is required when use_quartz_cron is true (a Quartz expression string)"
            )
        if tz_name is not None and (not isinstance(tz_name, str) or len(tz_name) > 64):
            raise RomaError(400, "FDI.3149", "cron_timezone must be a string (an IANA name or UTC+8)")
        try:
            quartz.parse(cron_text)
            quartz.parse_timezone(tz_name)
        except quartz.QuartzError as exc:
            raise RomaError(400, "FDI.3149", f"Invalid cron: {exc}") from None
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
