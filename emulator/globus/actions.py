"""What a timer run starts: an action (a Transfer task, a Flow run, or whatever the callback URL's
action provider runs), progressing on the emulator's clock.

A run asks the action provider to start an action. The provider answers 202 with the action's
status document, ``ACTIVE``; after the action's duration it becomes ``SUCCEEDED`` or ``FAILED``, and
the run entry's ``data`` follows it. A consent error is the provider refusing to start: the run entry
has ``status`` 403, ``data`` null and the error in ``errors``, and the timer becomes inactive with
``inactive_reason.cause == "globus_auth_requirements"`` until ``resume_job(update_credentials=True)``.
Outcomes are scripted per timer (``emu.globus.script(job_id, ...)``); unscripted runs succeed, or
follow a Python callback registered for the callback URL (returns: success; raises: failure).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from emulator.clock import ms_to_datetime

OUTCOMES = ("success", "failure", "consent_required")
DEFAULT_DURATION_S = 60.0
CREATOR = "urn:globus:auth:identity:00000000-0000-4000-8000-000000000000"  # the emulator's user


@dataclass
class Action:
    """One started action; ``entry`` is the timer's run entry, updated in place as it progresses."""

    action_id: str
    kind: str  # "transfer", "flow" or "action"
    started_ms: int
    completes_ms: int
    outcome: str  # "success" or "failure"
    body: dict[str, Any]
    details: Any = None
    entry: dict[str, Any] = field(default_factory=dict)

    def document(self, status: str, now_ms: int) -> dict[str, Any]:
        """The action provider's status document (what the run entry's ``data`` holds)."""
        done = status in ("SUCCEEDED", "FAILED")
        return {
            "action_id": self.action_id,
            "completion_time": ms_to_datetime(now_ms).isoformat() if done else None,
            "creator_id": CREATOR,
            "details": self._details(status),
            "display_status": status,
            "label": self.body.get("label"),
            "manage_by": [],
            "monitor_by": [],
            "release_after": "P30D",
            "start_time": ms_to_datetime(self.started_ms).isoformat(),
            "status": status,
        }

    def _details(self, status: str) -> Any:
        if self.kind == "transfer":
            nice = {"ACTIVE": "Queued", "SUCCEEDED": "OK", "FAILED": "FAILED"}[status]
            return {
                "DATA_TYPE": "task",
                "task_id": self.action_id,
                "type": "TRANSFER",
                "status": status,
                "nice_status": nice,
                "label": self.body.get("label"),
                "source_endpoint_id": self.body.get("source_endpoint"),
                "destination_endpoint_id": self.body.get("destination_endpoint"),
                "is_ok": status != "FAILED",
                "fatal_error": {"code": "FAILED", "description": "the task failed"}
                if status == "FAILED"
                else None,
            }
        if self.kind == "flow":
            return {"run_id": self.action_id, "status": status, "output": self.details}
        return self.details


def new_action(kind: str, now_ms: int, duration_s: float, outcome: str, body: dict[str, Any]) -> Action:
    return Action(str(uuid.uuid4()), kind, now_ms, now_ms + int(duration_s * 1000), outcome, body)


def consent_reason(scope: str | None) -> dict[str, Any]:
    """The ``inactive_reason`` of a timer whose credentials lack a consent (a GARE in ``detail``)."""
    return {
        "cause": "globus_auth_requirements",
        "detail": {
            "code": "ConsentRequired",
            "authorization_parameters": {
                "session_message": "Missing required data_access consent",
                "required_scopes": [
                    scope or "https://auth.globus.org/scopes/actions.globus.org/transfer/transfer"
                ],
            },
        },
    }
