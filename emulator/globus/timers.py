"""The Globus Timer API on the emulator's clock: jobs (``/jobs/``) and v2 timers (``/v2/timer``).

The service is a timer source of the shared Timeline (emulator/timeline.py), so runs and the
progress of the actions they start interleave with CDF schedule runs in time order as the clock
moves. A run happens at ``start + n * interval``; ``stop_after.date`` and ``stop_after.n_runs`` end
the timer; a paused timer does not run, and the ticks it missed while paused are skipped (the
service's documented behaviour): it runs again at the next tick after it resumes. Each run starts an
action (emulator/globus/actions.py) that completes after a configurable duration.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from emulator.clock import Clock, ms_to_datetime
from emulator.globus.actions import DEFAULT_DURATION_S, OUTCOMES, Action, consent_reason, new_action
from emulator.globus.errors import TimerError, validation_error
from emulator.globus.job import Job
from emulator.globus.parsing import job_from_v1, job_from_v2
from emulator.timeline import Timeline

__all__ = ["GlobusTimers", "Job", "TimerError", "job_from_v1", "job_from_v2", "validation_error"]

MAX_RESULTS_KEPT = 1000
UPDATABLE = (
    "name",
    "callback_url",
    "callback_body",
    "interval",
    "stop_after",
    "stop_after_n",
    "scope",
    "start",
)


class GlobusTimers:
    """The Globus Timer service of one emulator; ``emu.globus``."""

    def __init__(self, clock: Clock, timeline: Timeline) -> None:
        self._clock = clock
        self._lock = threading.RLock()
        self.jobs: dict[str, Job] = {}
        self._callbacks: dict[str, Callable[[dict[str, Any]], Any]] = {}
        self._actions: list[tuple[Job, Action]] = []
        self.action_duration_s = DEFAULT_DURATION_S  # how long an action takes unless scripted
        timeline.add_source(self)

    def now_ms(self) -> int:
        return self._clock.now_ms()

    # --- test hooks -----------------------------------------------------------------------------
    def register_callback(self, url: str, callback: Callable[[dict[str, Any]], Any]) -> None:
        """Run ``callback(callback_body)`` when a run of a timer whose callback_url is ``url`` starts
        its action: its return value becomes the action's details, a raise makes the action FAIL."""
        self._callbacks[url] = callback

    def script(self, job_id: str, *outcomes: str, duration_s: float | None = None) -> None:
        """Script the outcomes of the timer's next runs, in order: ``"success"``, ``"failure"`` (the
        action FAILS) or ``"consent_required"`` (the action cannot start: the timer becomes inactive
        until ``resume_job(update_credentials=True)``); later runs succeed. ``duration_s`` sets how
        long its actions stay ACTIVE (default ``action_duration_s``)."""
        unknown = [o for o in outcomes if o not in OUTCOMES]
        if unknown:
            raise ValueError(f"unknown outcome(s) {unknown}: use {', '.join(OUTCOMES)}")
        with self._lock:
            job = self.get(job_id)
            job.script.extend(outcomes)
            if duration_s is not None:
                job.duration_s = duration_s

    def reset(self) -> None:
        with self._lock:
            self.jobs.clear()
            self._actions.clear()

    # --- jobs ------------------------------------------------------------------------------------
    def create(self, job: Job) -> Job:
        with self._lock:
            job.submitted_at_ms = self.now_ms()
            job.next_run_ms = job.occurrence_after(job.submitted_at_ms - 1)
            if job.next_run_ms is None:
                job.status = "ended"
            self.jobs[job.job_id] = job
        return job

    def get(self, job_id: str) -> Job:
        job = self.jobs.get(job_id)
        if job is None:
            raise TimerError(404, "NOT_FOUND", f"A job with id '{job_id}' was not found.")
        return job

    def listed(self, order: str | None) -> list[Job]:
        """The jobs, ordered by ``order``: a field (submitted_at, start, name, last_ran_at,
        next_run), optionally followed by ``asc`` or ``desc``; default submitted_at asc."""
        text = (order or "submitted_at").strip()
        name, _, direction = text.partition(" ")
        keys: dict[str, Callable[[Job], Any]] = {
            "submitted_at": lambda j: j.submitted_at_ms,
            "start": lambda j: j.start_ms,
            "name": lambda j: j.name,
            "last_ran_at": lambda j: j.last_ran_at_ms or 0,
            "next_run": lambda j: j.next_run_ms or 0,
        }
        if name not in keys or direction.strip().lower() not in ("", "asc", "desc"):
            raise TimerError(
                422, "VALIDATION_ERROR",
                [{"loc": ["query", "order"], "msg": f"invalid order {text[:60]!r}", "type": "value_error"}],
            )  # fmt: skip
        with self._lock:
            jobs = list(self.jobs.values())
        return sorted(jobs, key=keys[name], reverse=direction.strip().lower() == "desc")

    def update(self, job_id: str, changes: Any) -> Job:
        with self._lock:
            job = self.get(job_id)
            if not isinstance(changes, dict):
                raise validation_error("__root__", "the body must be a JSON object", "type_error.dict")
            unknown = sorted(set(changes) - set(UPDATABLE))
            if unknown:
                raise validation_error(unknown[0], "extra fields not permitted", "value_error.extra")
            current = {
                "name": job.name, "callback_url": job.callback_url, "callback_body": job.callback_body,
                "interval": job.interval_s, "scope": job.scope, "start": ms_to_datetime(job.start_ms).isoformat(),
                "stop_after": ms_to_datetime(job.stop_after_ms).isoformat() if job.stop_after_ms else None,
                "stop_after_n": job.stop_after_n if job.interval_s is not None else None,
            }  # fmt: skip
            merged = {k: v for k, v in {**current, **changes}.items() if v is not None or k == "interval"}
            updated = job_from_v1(merged)
            job.name, job.callback_url, job.callback_body = (
                updated.name,
                updated.callback_url,
                updated.callback_body,
            )
            job.start_ms, job.interval_s, job.scope = updated.start_ms, updated.interval_s, updated.scope
            job.stop_after_ms, job.stop_after_n = updated.stop_after_ms, updated.stop_after_n
            if job.status in ("new", "loaded"):
                job.next_run_ms = job.occurrence_after(max(self.now_ms() - 1, job.last_ran_at_ms or 0))
        return job

    def delete(self, job_id: str) -> Job:
        with self._lock:
            job = self.get(job_id)
            del self.jobs[job_id]
            self._actions = [(j, a) for j, a in self._actions if j is not job]
            job.status, job.next_run_ms, job.running = "delete_pending", None, 0
        return job

    def pause(self, job_id: str) -> Job:
        with self._lock:
            job = self.get(job_id)
            if job.status in ("new", "loaded"):
                job.status, job.inactive_reason = "inactive", {"cause": "user", "detail": None}
        return job

    def resume(self, job_id: str, update_credentials: bool | None = None) -> Job:
        """Resume an inactive timer. Without ``update_credentials`` the service decides from the
        inactive reason: new credentials when the old ones lacked a consent."""
        with self._lock:
            job = self.get(job_id)
            if job.status != "inactive":
                return job
            reason = (job.inactive_reason or {}).get("cause")
            if update_credentials is None:
                update_credentials = reason == "globus_auth_requirements"
            if update_credentials:
                job.needs_consent = False
            job.status = "loaded" if job.n_runs else "new"
            job.inactive_reason = None
            job.next_run_ms = job.occurrence_after(self.now_ms())  # ticks missed while inactive are skipped
            if job.next_run_ms is None:
                job.status = "ended"
        return job

    # --- TimerSource -------------------------------------------------------------------------------
    def next_due_ms(self) -> int | None:
        with self._lock:
            dues = [
                j.next_run_ms for j in self.jobs.values() if j.status in ("new", "loaded") and j.next_run_ms
            ]
            dues += [a.completes_ms for _, a in self._actions]
        return min(dues) if dues else None

    def fire(self, due_ms: int) -> list[Any]:
        with self._lock:
            finishing = [(j, a) for j, a in self._actions if a.completes_ms <= due_ms]
            self._actions = [(j, a) for j, a in self._actions if a.completes_ms > due_ms]
            due_jobs = [
                j for j in self.jobs.values() if j.status in ("new", "loaded") and j.next_run_ms == due_ms
            ]
        for job, action in finishing:
            self._complete(job, action)
        return [self._run(job, due_ms) for job in due_jobs]

    def _run(self, job: Job, due_ms: int) -> dict[str, Any]:
        with self._lock:
            outcome = job.script.pop(0) if job.script else None
            if outcome == "consent_required":
                job.needs_consent = True
            duration = job.duration_s if job.duration_s is not None else self.action_duration_s
        entry: dict[str, Any] = {"ran_at": ms_to_datetime(due_ms).replace(tzinfo=None).isoformat()}
        if job.needs_consent:
            reason = consent_reason(job.scope)
            entry.update(status=403, data=None, errors=[{**reason["detail"], "detail": "ConsentRequired"}])
        else:
            action = new_action(job.kind, due_ms, duration, outcome or "success", job.callback_body)
            callback = self._callbacks.get(job.callback_url)
            if callback is not None and outcome is None:
                try:
                    action.details = callback(dict(job.callback_body))
                except Exception as exc:  # the callback's failure is the action's failure
                    action.outcome, action.details = "failure", f"{type(exc).__name__}: {exc}"
            entry.update(status=202, data=action.document("ACTIVE", due_ms), errors=None)
            action.entry = entry
        with self._lock:
            job.n_runs += 1
            job.last_ran_at_ms = due_ms
            job.results.append(entry)
            del job.results[:-MAX_RESULTS_KEPT]
            if entry["status"] == 403:
                job.n_errors += 1
                job.status, job.inactive_reason = "inactive", consent_reason(job.scope)
            else:
                job.running += 1
                self._actions.append((job, action))
                job.status = "loaded"
            job.next_run_ms = job.occurrence_after(due_ms)
            if job.next_run_ms is None and job.status == "loaded":
                job.status = "ended"
        return entry

    def _complete(self, job: Job, action: Action) -> None:
        status = "SUCCEEDED" if action.outcome == "success" else "FAILED"
        with self._lock:
            action.entry["data"] = action.document(status, action.completes_ms)
            job.running = max(0, job.running - 1)
            if status == "FAILED":
                job.n_errors += 1
