"""What one clock move fired: the bounded log the runs go to, and the list ``advance`` answers.

A year of a minutely schedule is 525,600 calls in one move, so neither holds a Python object per
call beyond its record: the scheduler's hot loop hands its records over a batch at a time, with
their project once (``FiredLog.add``), and ``FiredCalls`` builds the SDK's ``FunctionCall`` of a
call only when the test looks at it.
"""

from __future__ import annotations

import bisect
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from itertools import chain
from typing import Any

from cognite.client.data_classes import FunctionCall

from emulator.context import Context
from emulator.resources.calls.wire import call_json
from emulator.state import CallRecord


class FiredLog:
    """What one move of the clock fired: the newest ``maxlen`` CDF calls and facade runs, and how
    many CDF calls in all (a Timeline ``Collector``).

    Ten years of a minutely schedule are 5.3 million runs; keeping each record alive until the
    caller drops the answer of ``advance`` would outgrow any memory, so only as many as the store
    keeps (``max_calls_kept``) are held here too; ``total`` still counts every call. Calls are
    held in chunks of one project's records, in order; a chunk goes once all it holds is older than
    the newest ``maxlen``.
    """

    def __init__(self, maxlen: int | None) -> None:
        self.maxlen = maxlen
        self.chunks: deque[tuple[str, Sequence[CallRecord]]] = deque()
        self.held = 0  # records in chunks
        self.facade_runs: deque[Any] = deque(maxlen=maxlen)
        self.total = 0

    def add(self, project: str, records: Sequence[CallRecord]) -> None:
        """``project``'s calls, in order, after those already here (the scheduler's hot path: the
        sequence is the log's from now on)."""
        chunks = self.chunks
        chunks.append((project, records))
        self.held += len(records)
        self.total += len(records)
        maxlen = self.maxlen
        if maxlen is not None:
            while chunks and self.held - len(chunks[0][1]) >= maxlen:
                self.held -= len(chunks.popleft()[1])

    def append(self, item: tuple[str, CallRecord]) -> None:
        """A CDF call, as ``(project, record)``."""
        self.add(item[0], (item[1],))

    def extend(self, items: Iterable[Any]) -> None:
        """What one source fired at one instant: CDF calls are ``(project, record)`` tuples."""
        for item in items:
            if isinstance(item, tuple):
                self.append(item)
            else:
                self.facade_runs.append(item)

    def newest(self) -> Iterator[tuple[str, Sequence[CallRecord]]]:
        """The chunks of the newest ``maxlen`` calls, in order (the first one cut to fit)."""
        excess = self.held - self.maxlen if self.maxlen is not None else 0
        for project, records in self.chunks:
            if excess > 0:
                records, excess = records[excess:], 0
            yield project, records


class FiredCalls(list):  # type: ignore[type-arg]
    """The calls an ``advance`` started, in order: a list of the SDK's ``FunctionCall``.

    Items are built from the call records on first access, so a year of runs does not pay for
    525,600 SDK objects unless the test looks at them. When one move fires more calls than
    ``max_calls_kept``, the list holds the newest ``max_calls_kept`` of them (the ones the store
    still keeps); ``total`` is how many fired, ``dropped`` how many of them are not in the list.
    The runs of facade timers (Globus jobs, ROMA dispatches) fired by the same move are in
    ``facade_runs``, in time order.
    """

    def __init__(
        self,
        context: Context,
        chunks: Iterable[tuple[str, Sequence[CallRecord]]],
        facade_runs: list[Any] | None = None,
        total: int | None = None,
    ) -> None:
        chunks = list(chunks)
        super().__init__(chain.from_iterable(records for _, records in chunks))
        # Where each project's calls start in the list (consecutive chunks of one project merged).
        self._starts: list[int] = []
        self._projects: list[str] = []
        start = 0
        for project, records in chunks:
            if records and (not self._projects or self._projects[-1] != project):
                self._starts.append(start)
                self._projects.append(project)
            start += len(records)
        self._context = context
        self.facade_runs: list[Any] = facade_runs or []
        self.total = len(self) if total is None else total
        self.dropped = self.total - len(self)

    def _materialise(self, index: int) -> FunctionCall:
        item = list.__getitem__(self, index)
        if isinstance(item, FunctionCall):
            return item
        project = self._projects[bisect.bisect_right(self._starts, index) - 1]
        call = FunctionCall.load(call_json(item)).set_client_ref(self._context.clients.sdk_ref(project))
        list.__setitem__(self, index, call)
        return call

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return [self._materialise(i) for i in range(*index.indices(len(self)))]
        return self._materialise(index if index >= 0 else len(self) + index)

    def __iter__(self) -> Iterator[FunctionCall]:
        for i in range(len(self)):
            yield self._materialise(i)

    def __reversed__(self) -> Iterator[FunctionCall]:
        for i in range(len(self) - 1, -1, -1):
            yield self._materialise(i)

    def __eq__(self, other: object) -> bool:
        return list(self.__iter__()) == (list(other) if isinstance(other, list) else other)

    __hash__ = None

    def __repr__(self) -> str:
        if self.dropped:
            return f"FiredCalls({len(self)} of {self.total} calls: the newest, as max_calls_kept)"
        return f"FiredCalls({len(self)} calls)"
