"""ROMA Connect FDI tasks and their schedules ("dispatches") on the emulator's clock.

Tasks are registered by the test (``emu.roma.register_task(...)``), each optionally with a Python
callable run on each dispatch; every run is recorded with its scheduled time. A task is started
(``status`` 1) or stopped (0): a stopped task's dispatch ticks pass without a run, as ROMA only runs
the schedules of started tasks. The service is a timer source of the shared Timeline, so its runs
interleave with CDF schedules and Globus timers in time order.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from emulator.clock import Clock
from emulator.roma.dispatch import Dispatch, dispatch_from_body, earliest
from emulator.roma.errors import TASK_NOT_IN_PROJECT, RomaError
from emulator.timeline import Timeline

__all__ = ["Dispatch", "RomaError", "RomaService", "Task", "dispatch_from_body", "earliest"]

UTC = timezone.utc  # datetime.UTC is new in Python 3.11

MAX_RUNS_KEPT = 10_000


@dataclass
class Task:
    """One FDI task: identity, state (started or stopped), its dispatch and the runs it made."""

    project_id: str
    instance_id: str
    task_id: str
    callback: Callable[[dict[str, Any]], Any] | None = None
    dispatch: Dispatch | None = None
    runs: list[dict[str, Any]] = field(default_factory=list)
    next_run_ms: int | None = None
    task_name: str = ""
    started: bool = True
    execute_status: str = "UNSTARTED"  # UNSTARTED, SUCCESS or ERROR after a run (runs are instant)
    created_date: int = 0
    last_modified_date: int = 0
    description: str = ""
    iterator: Iterator[int] | None = None

    def brief(self) -> dict[str, Any]:
        """The task as ``list_tasks`` answers it (BriefTaskRespBean)."""
        return {
            "task_id": self.task_id,
            "task_name": self.task_name,
            "task_type": "TIMING",
            "status": 1 if self.started else 0,
            "created_date": datetime.fromtimestamp(self.created_date / 1000, UTC).strftime(
                "%Y-%m-%dT%H:%M:%SZ"
            ),
            "version": "1",
            "last_modified_time": self.last_modified_date,
            "execute_status": self.execute_status,
            "source_instance_id": self.instance_id,
            "target_instance_id": self.instance_id,
        }

    def basic(self) -> dict[str, Any]:
        """The task as ``show_task`` answers it (TaskBasicRsp)."""
        return {
            "task_id": self.task_id,
            "task_name": self.task_name,
            "task_type": "timing",
            "status": "running" if self.started else "stop",
            "project_id": self.project_id,
            "created_date": self.created_date,
            "last_modified_date": self.last_modified_date,
            "description": self.description,
        }


class RomaService:
    """ROMA Connect FDI schedules on one emulator: ``emu.roma``."""

    def __init__(self, clock: Clock, timeline: Timeline) -> None:
        self._clock = clock
        self._lock = threading.RLock()
        self.tasks: dict[tuple[str, str, str], Task] = {}
        timeline.add_source(self)

    def now_ms(self) -> int:
        return self._clock.now_ms()

    def register_task(
        self,
        instance_id: str,
        task_id: str,
        callback: Callable[[dict[str, Any]], Any] | None = None,
        *,
        project_id: str = "roma-project",
        task_name: str | None = None,
        started: bool = True,
    ) -> Task:
        """Make a data integration task known; ``callback(run)`` runs on each dispatch (a raise fails
        it). Tasks are registered started, so that their schedule runs; ``started=False`` registers
        one as ROMA creates it, stopped until ``batch_start_or_stop_tasks`` starts it."""
        now = self.now_ms()
        with self._lock:
            task = self.tasks.setdefault(
                (project_id, instance_id, task_id),
                Task(project_id, instance_id, task_id, created_date=now, last_modified_date=now),
            )
            task.callback, task.started = callback, started
            task.task_name = task_name or task.task_name or task_id
        return task

    def task(self, project_id: str, instance_id: str, task_id: str) -> Task:
        task = self.tasks.get((project_id, instance_id, task_id))
        if task is None:
            raise RomaError(404, TASK_NOT_IN_PROJECT, "This task is not in the project.")
        return task

    def tasks_of(self, project_id: str, instance_id: str) -> list[Task]:
        with self._lock:
            return [
                t for t in self.tasks.values() if (t.project_id, t.instance_id) == (project_id, instance_id)
            ]

    def reset(self) -> None:
        with self._lock:
            self.tasks.clear()

    def set_dispatch(self, task: Task, dispatch: Dispatch) -> None:
        with self._lock:
            task.dispatch = dispatch
            task.iterator = dispatch.runs_after(self.now_ms())
            task.next_run_ms = self._next_run(task, None)

    def set_started(self, task: Task, started: bool) -> None:
        with self._lock:
            task.started = started
            task.last_modified_date = self.now_ms()

    def run_now(self, task: Task) -> dict[str, Any]:
        """A manual run (``run_task``): now, whatever the task's state and schedule."""
        return self._run(task, self.now_ms(), "MANUAL")

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
            running = [t for t in due if t.started]  # a stopped task's tick passes without a run
        runs = [self._run(task, due_ms, "SCHEDULE") for task in running]
        with self._lock:  # recorded after the run that came before it
            for task, failure in ended:
                task.runs.append(failure)
        return runs

    def _next_run(
        self, task: Task, after_ms: int | None, ended: list[tuple[Task, dict[str, Any]]] | None = None
    ) -> int | None:
        """The task's next run time, or None; a dispatch whose next run cannot be computed ends with a
        recorded error rather than failing every later move of the clock (which all sources share)."""
        if task.iterator is None:
            return None
        try:
            return next(task.iterator, None)
        except (ArithmeticError, ValueError) as exc:  # QuartzError is a ValueError
            task.iterator = None
            failure = {
                "task_id": task.task_id,
                "dispatch_id": task.dispatch.dispatch_id if task.dispatch else None,
                "scheduled_time": after_ms,
                "trigger": "SCHEDULE",
                "status": "FAILED",
                "error": f"The dispatch ended: its next run cannot be computed ({type(exc).__name__}: {exc})",
            }
            if ended is None:
                task.runs.append(failure)
            else:
                ended.append((task, failure))
            return None

    def _run(self, task: Task, due_ms: int, trigger: str) -> dict[str, Any]:
        run = {
            "task_id": task.task_id,
            "dispatch_id": task.dispatch.dispatch_id if task.dispatch else None,
            "scheduled_time": due_ms,
            "scheduled_iso": datetime.fromtimestamp(due_ms / 1000, UTC).isoformat(),
            "trigger": trigger,
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
            task.execute_status = "SUCCESS" if run["status"] == "SUCCESS" else "ERROR"
        return run
