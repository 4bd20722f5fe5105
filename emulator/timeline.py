"""The scheduling core shared by every facade: timer sources merged in time order on one clock.

A *timer source* is anything that knows its next run time and can fire the runs due at an instant:
CDF function schedules, Globus timers, ROMA dispatches. As the clock moves to a target, the
Timeline repeatedly takes the earliest due instant over all sources, moves the clock there, and
fires that source's runs, so runs of different platforms interleave exactly in time order. Cost is
per run fired (plus one ``next_due_ms`` per source per run), never per unit of virtual time.
"""

from __future__ import annotations

import gc
from collections.abc import Iterable
from contextlib import ExitStack
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from emulator.clock import Clock


class TimerSource(Protocol):
    def next_due_ms(self) -> int | None:
        """The earliest pending run time of this source (epoch ms), or None."""

    def fire(self, due_ms: int) -> list[Any]:
        """Run everything of this source due at exactly ``due_ms`` and return what ran."""


class Collector(Protocol):
    """Where one move's runs go (a list, or the scheduler's bounded ``FiredLog``)."""

    def append(self, item: Any) -> None: ...

    def extend(self, items: Iterable[Any]) -> None: ...


class Timeline:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._sources: list[TimerSource] = []

    def add_source(self, source: TimerSource) -> None:
        """Register a source; ties at one instant fire in registration order."""
        if source not in self._sources:
            self._sources.append(source)

    def remove_source(self, source: TimerSource) -> None:
        if source in self._sources:
            self._sources.remove(source)

    def next_due_ms(self) -> int | None:
        dues = [d for d in (s.next_due_ms() for s in self._sources) if d is not None]
        return min(dues) if dues else None

    def fire_due(self, target_ms: int, into: Collector | None = None) -> Collector:
        """Fire every run due at or before ``target_ms``, in time order; the clock reads each run's
        instant while it runs. Sources may change while firing (a handler creating a schedule).

        What ran goes to ``into`` (a new list by default), which is returned: the emulator passes a
        bounded log, so that years of runs are not all kept alive by the answer of ``advance``."""
        fired: Collector = [] if into is None else into
        with ExitStack() as batches:
            # A long time travel creates records by the hundred thousand and no reference cycles;
            # the cyclic GC rescanning them all, again and again, would make it quadratic.
            if gc.isenabled():
                gc.disable()
                batches.callback(gc.enable)
            # Sources may keep per-move state open (the CDF scheduler keeps its log capture open).
            for source in self._sources:
                batch = getattr(source, "batch", None)
                if batch is not None:
                    batches.enter_context(batch())
            fire_until = getattr(self._sources[0], "fire_until", None) if len(self._sources) == 1 else None
            if fire_until is not None:
                # One source needs no merging: let it run its own loop (the hot path of long travel).
                fire_until(target_ms, fired)
                return fired
            while True:
                best: tuple[int, TimerSource] | None = None
                for source in self._sources:
                    due = source.next_due_ms()
                    if due is not None and due <= target_ms and (best is None or due < best[0]):
                        best = (due, source)
                if best is None:
                    return fired
                due, source = best
                self._clock.step_to(due)
                fired.extend(source.fire(due))
