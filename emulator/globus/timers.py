"""The Globus Timer API on the emulator's clock: jobs (``/jobs/``) and v2 timers (``/v2/timer``).

Jobs are a timer source of the shared Timeline (emulator/timeline.py), so their runs interleave with
CDF schedule runs in time order as the clock moves. A run happens at ``start + n * interval``;
``stop_after`` (a time) and ``stop_after_n`` (a count) end the job; a paused job does not run, and the
runs it missed while paused collapse into one run when it resumes. What a run does: it is recorded
with its callback body, and a Python callable registered for the callback URL decides success
(returns) or failure (raises); failures count into ``n_errors``.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from emulator.clock import MAX_EPOCH_MS, ms_to_datetime, to_epoch_ms

if TYPE_CHECKING:
    from emulator.emulator import FunctionsEmulator

TRANSFER_ACTION_URL = "https://actions.globus.org/transfer/transfer/run"
MAX_RESULTS_KEPT = 1000


class TimerError(Exception):
    """An error answered in the Timer service's shape."""

    def __init__(self, status: int, code: str, detail: Any) -> None:
        super().__init__(str(detail))
        self.status, self.code, self.detail = status, code, detail

    def body(self) -> dict[str, Any]:
        if self.status == 422:
            return {"detail": self.detail}
        return {"error": {"code": self.code, "detail": self.detail, "status": self.status}}


def validation_error(field_name: str, message: str, kind: str = "value_error") -> TimerError:
    return TimerError(422, "VALIDATION_ERROR", [{"loc": ["body", field_name], "msg": message, "type": kind}])


@dataclass
class Job:
    job_id: str
    name: str
    callback_url: str
    callback_body: dict[str, Any]
    start_ms: int
    interval_s: int | None
    stop_after_ms: int | None = None
    stop_after_n: int | None = None
    scope: str | None = None
    timer_type: str | None = None  # "transfer" / "flow" for /v2/timer, None for /jobs/
    status: str = "active"  # active | inactive | ended
    inactive_reason: dict[str, Any] | None = None
    n_runs: int = 0
    n_errors: int = 0
    last_ran_at_ms: int | None = None
    next_run_ms: int | None = None
    paused_at_ms: int | None = None
    results: list[dict[str, Any]] = field(default_factory=list)

    def occurrence_after(self, after_ms: int) -> int | None:
        """The first scheduled run time strictly after ``after_ms`` that the stop conditions allow."""
        if self.interval_s is None:
            due = self.start_ms if self.start_ms > after_ms else None
        elif after_ms < self.start_ms:
            due = self.start_ms
        else:
            step = self.interval_s * 1000
            due = self.start_ms + ((after_ms - self.start_ms) // step + 1) * step
        if due is None or (self.stop_after_ms is not None and due > self.stop_after_ms):
            return None
        if due > MAX_EPOCH_MS:  # past the clock's range (a huge interval): no run will ever come
            return None
        return due

    def document(self) -> dict[str, Any]:
        iso = lambda ms: ms_to_datetime(ms).isoformat() if ms is not None else None  # noqa: E731
        doc: dict[str, Any] = {
            "job_id": self.job_id,
            "name": self.name,
            "callback_url": self.callback_url,
            "callback_body": self.callback_body,
            "start": iso(self.start_ms),
            "interval": self.interval_s,
            "stop_after": iso(self.stop_after_ms),
            "stop_after_n": self.stop_after_n,
            "scope": self.scope,
            "status": self.status,
            "inactive_reason": self.inactive_reason,
            "n_runs": self.n_runs,
            "n_errors": self.n_errors,
            "number_of_runs": self.n_runs,
            "number_of_errors": self.n_errors,
            "last_ran_at": iso(self.last_ran_at_ms),
            "next_run": iso(self.next_run_ms),
        }
        if self.timer_type is not None:
            doc["timer_type"] = self.timer_type
            doc["schedule"] = self.schedule()
            doc["body"] = self.callback_body
        return doc

    def schedule(self) -> dict[str, Any]:
        if self.interval_s is None:
            return {"type": "once", "datetime": ms_to_datetime(self.start_ms).isoformat()}
        out: dict[str, Any] = {
            "type": "recurring",
            "interval_seconds": self.interval_s,
            "start": ms_to_datetime(self.start_ms).isoformat(),
        }
        if self.stop_after_ms is not None:
            out["end"] = {"condition": "time", "datetime": ms_to_datetime(self.stop_after_ms).isoformat()}
        elif self.stop_after_n is not None:
            out["end"] = {"condition": "iterations", "count": self.stop_after_n}
        return out


class GlobusTimers:
    """The Globus Timer service of one emulator; ``emu.globus``."""

    def __init__(self, emu: FunctionsEmulator) -> None:
        self._emu = emu
        self._lock = threading.RLock()
        self.jobs: dict[str, Job] = {}
        self._callbacks: dict[str, Callable[[dict[str, Any]], Any]] = {}
        emu.scheduler.add_source(self)

    # --- test hooks -----------------------------------------------------------------------------
    def register_callback(self, url: str, callback: Callable[[dict[str, Any]], Any]) -> None:
        """Run ``callback(callback_body)`` for each run of a job whose callback_url is ``url``;
        a raise marks the run failed (and counts into n_errors)."""
        self._callbacks[url] = callback

    def reset(self) -> None:
        with self._lock:
            self.jobs.clear()

    # --- jobs ------------------------------------------------------------------------------------
    def create(self, job: Job) -> Job:
        with self._lock:
            job.next_run_ms = job.occurrence_after(self._emu.clock.now_ms() - 1)
            if job.next_run_ms is None:
                job.status, job.inactive_reason = "ended", {"cause": "no_remaining_runs", "detail": {}}
            self.jobs[job.job_id] = job
        return job

    def get(self, job_id: str) -> Job:
        job = self.jobs.get(job_id)
        if job is None:
            raise TimerError(404, "NOT_FOUND", f"No job with id {job_id}")
        return job

    def delete(self, job_id: str) -> Job:
        with self._lock:
            job = self.get(job_id)
            del self.jobs[job_id]
        job.status, job.next_run_ms = "deleted", None
        return job

    def pause(self, job_id: str) -> Job:
        with self._lock:
            job = self.get(job_id)
            if job.status == "active":
                job.status = "inactive"
                job.inactive_reason = {"cause": "user", "detail": {}}
                job.paused_at_ms = self._emu.clock.now_ms()
        return job

    def resume(self, job_id: str) -> Job:
        with self._lock:
            job = self.get(job_id)
            if job.status != "inactive":
                return job
            now = self._emu.clock.now_ms()
            missed = job.next_run_ms is not None and job.next_run_ms <= now
            job.status, job.inactive_reason, job.paused_at_ms = "active", None, None
            # Runs missed while paused collapse into one run, now; then the schedule goes on.
            job.next_run_ms = now if missed else job.occurrence_after(now - 1)
            if job.next_run_ms is None:
                self._end(job, "no_remaining_runs")
        return job

    def _end(self, job: Job, cause: str) -> None:
        job.status, job.next_run_ms = "ended", None
        job.inactive_reason = {"cause": cause, "detail": {}}

    # --- TimerSource -------------------------------------------------------------------------------
    def next_due_ms(self) -> int | None:
        dues = [
            j.next_run_ms
            for j in list(self.jobs.values())
            if j.status == "active" and j.next_run_ms is not None
        ]
        return min(dues) if dues else None

    def fire(self, due_ms: int) -> list[Any]:
        with self._lock:
            due_jobs = [j for j in self.jobs.values() if j.status == "active" and j.next_run_ms == due_ms]
        return [self._run(job, due_ms) for job in due_jobs]

    def _run(self, job: Job, due_ms: int) -> dict[str, Any]:
        callback = self._callbacks.get(job.callback_url)
        status, details = "SUCCEEDED", None
        if callback is not None:
            try:
                details = callback(dict(job.callback_body))
            except Exception as exc:  # the callback's failure is the run's failure
                status, details = "FAILED", f"{type(exc).__name__}: {exc}"
        result = {
            "job_id": job.job_id,
            "ran_at": ms_to_datetime(due_ms).isoformat(),
            "status": status,
            "data": {"callback_body": job.callback_body, "details": details},
        }
        with self._lock:
            job.n_runs += 1
            job.n_errors += status == "FAILED"
            job.last_ran_at_ms = due_ms
            job.results.append(result)
            del job.results[:-MAX_RESULTS_KEPT]
            if job.stop_after_n is not None and job.n_runs >= job.stop_after_n:
                self._end(job, "stop_after_n")
            else:
                job.next_run_ms = job.occurrence_after(due_ms)
                if job.next_run_ms is None:
                    self._end(job, "stop_after" if job.interval_s else "completed")
        return result


# --- parsing request documents ----------------------------------------------------------------------


def _time(value: Any, field_name: str) -> int:
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        raise validation_error(field_name, "invalid datetime format", "type_error.datetime")
    try:
        return to_epoch_ms(value if not isinstance(value, int | float) else value * 1000)
    except (TypeError, ValueError) as exc:
        raise validation_error(field_name, f"invalid datetime format: {exc}", "type_error.datetime") from None


def _positive_int(value: Any, field_name: str) -> int:
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
                stop_n = _positive_int(end.get("count"), "timer.schedule.end.count")
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
        if not isinstance(flow_id, str):
            raise validation_error("timer.flow_id", "field required", "value_error.missing")
        url = f"https://{flow_id}.flows.automate.globus.org/run"
    else:
        url = TRANSFER_ACTION_URL
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
        timer_type=timer_type,
    )
