"""A Globus timer ("job"): its schedule, state and run entries, and its documents as the service
returns them (checked against the canned real-API payloads globus-sdk ships in
``globus_sdk/testing/data/timer``).

Statuses: ``new`` (created, has not run), ``loaded`` (scheduled, has run), ``inactive`` (paused by
the user, or missing a consent: see ``inactive_reason``), ``ended`` (no runs left) and
``delete_pending`` (what a delete answers). ``activity`` (emulator-defined, not checked against the
service) says what the timer is doing now: ``awaiting_next_run``, ``run_in_progress``, ``paused``,
``ended``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

from emulator.clock import MAX_EPOCH_MS, ms_to_datetime

TRANSFER_ACTION_URL = "https://actions.automate.globus.org/transfer/transfer/run"


def flow_url(flow_id: str) -> str:
    return f"https://flows.automate.globus.org/flows/{flow_id}/run"


def flow_scope(flow_id: str) -> str:
    """The flow's user scope, which a flow timer runs under."""
    return f"https://auth.globus.org/scopes/{flow_id}/flow_{flow_id.replace('-', '_')}_user"


def _iso(ms: int | None) -> str | None:
    return ms_to_datetime(ms).isoformat() if ms is not None else None


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
    status: str = "new"
    inactive_reason: dict[str, Any] | None = None
    n_runs: int = 0
    n_errors: int = 0
    submitted_at_ms: int = 0
    last_ran_at_ms: int | None = None
    next_run_ms: int | None = None
    results: list[dict[str, Any]] = field(default_factory=list)  # run entries, oldest first
    script: list[str] = field(default_factory=list)  # outcomes of the next runs
    duration_s: float | None = None  # how long its actions take (None: the service default)
    needs_consent: bool = False  # its credentials lack a consent until resumed with new ones
    running: int = 0  # actions still ACTIVE

    @property
    def kind(self) -> str:
        """What its runs start: a "transfer" task, a "flow" run or another provider's "action"."""
        url = urlparse(self.callback_url)
        if self.timer_type == "flow" or url.netloc.endswith("flows.automate.globus.org"):
            return "flow"
        if self.timer_type == "transfer" or url.path == "/transfer/transfer/run":
            return "transfer"
        return "action"

    def occurrence_after(self, after_ms: int) -> int | None:
        """The first scheduled run time strictly after ``after_ms`` that the stop conditions allow."""
        if self.stop_after_n is not None and self.n_runs >= self.stop_after_n:
            return None
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

    def activity(self) -> dict[str, Any]:
        if self.running:
            code = "run_in_progress"
        elif self.status == "inactive":
            code = "paused"
        elif self.status in ("ended", "delete_pending"):
            code = "ended"
        else:
            code = "awaiting_next_run"
        return {"code": code}

    def schedule(self) -> dict[str, Any]:
        if self.interval_s is None:
            return {"type": "once", "datetime": _iso(self.start_ms)}
        out: dict[str, Any] = {
            "type": "recurring",
            "interval_seconds": self.interval_s,
            "start": _iso(self.start_ms),
        }
        if self.stop_after_ms is not None:
            out["end"] = {"datetime": _iso(self.stop_after_ms)}
        elif self.stop_after_n is not None:
            out["end"] = {"count": self.stop_after_n}
        return out

    def document(self, results: dict[str, Any] | None = None) -> dict[str, Any]:
        """The job document of the ``/jobs/`` API (V1_TIMER's fields)."""
        doc: dict[str, Any] = {
            "name": self.name,
            "start": _iso(self.start_ms),
            "stop_after": {"date": _iso(self.stop_after_ms), "n_runs": self.stop_after_n},
            "interval": self.interval_s,
            "callback_url": self.callback_url,
            "callback_body": self.callback_body,
            "inactive_reason": self.inactive_reason,
            "scope": self.scope,
            "job_id": self.job_id,
            "status": self.status,
            "submitted_at": _iso(self.submitted_at_ms),
            "last_ran_at": _iso(self.last_ran_at_ms),
            "next_run": _iso(self.next_run_ms),
            "n_runs": self.n_runs,
            "n_errors": self.n_errors,
            "activity": self.activity(),
            "results": results if results is not None else {"data": self.newest_results(), "page_next": None},
        }
        if self.timer_type is not None:
            doc["timer_type"] = self.timer_type
            doc["schedule"] = self.schedule()
        return doc

    def timer_document(self) -> dict[str, Any]:
        """The ``timer`` of a ``POST /v2/timer`` answer: V2_TRANSFER_TIMER's fields for a transfer
        timer, V2_FLOW_TIMER's for a flow timer."""
        if self.timer_type == "flow":
            doc = self.document()
            del doc["start"]
            doc["results"] = self.newest_results()
            return doc
        return {
            "body": self.callback_body,
            "inactive_reason": self.inactive_reason,
            "job_id": self.job_id,
            "last_ran_at": _iso(self.last_ran_at_ms),
            "name": self.name,
            "next_run": _iso(self.next_run_ms),
            "number_of_errors": self.n_errors,
            "number_of_runs": self.n_runs,
            "schedule": self.schedule(),
            "status": self.status,
            "submitted_at": _iso(self.submitted_at_ms),
            "timer_type": self.timer_type,
            "activity": self.activity(),
        }

    def newest_results(self, limit: int = 100) -> list[dict[str, Any]]:
        return list(reversed(self.results[-limit:]))
