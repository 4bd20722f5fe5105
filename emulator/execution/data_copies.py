"""Fresh copies of a schedule's ``data`` for each of its runs, without parsing JSON every time.

Every run must receive its own ``data`` object (a handler that mutates it must not change what the
next run gets), which ``json.loads(schedule.data_json)`` guarantees at ~1 µs a run. Most schedule
data is a flat object of strings, numbers, booleans and nulls; a shallow ``dict`` copy of it, parsed
once, is then an equal, independent object (its values are immutable) at a fraction of the cost.
Anything nested is still parsed each time.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import partial
from typing import Any

_IMMUTABLE = (str, int, float, bool, type(None))


class DataCopies:
    """Fresh ``data`` objects from schedules' JSON text; remembers what it parsed (keyed by the text)."""

    def __init__(self) -> None:
        self._flat: dict[str, dict[str, Any] | None] = {}  # JSON text -> parsed flat dict, or None

    def fresh(self, data_json: str) -> Any:
        """An object equal to ``json.loads(data_json)`` that no earlier call returned."""
        try:
            flat = self._flat[data_json]
        except KeyError:  # first sight of this text
            parsed = json.loads(data_json)
            flat = None
            if isinstance(parsed, dict) and all(type(v) in _IMMUTABLE for v in parsed.values()):
                flat = parsed
            self._flat[data_json] = flat
            return dict(parsed) if flat is not None else parsed
        return dict(flat) if flat is not None else json.loads(data_json)

    def maker(self, data_json: str | None) -> Callable[[], Any]:
        """What makes a fresh ``data`` for each run of a schedule with this JSON text (``{}`` for
        none): a C-level copy of the parsed dict when it is flat, a parse each time otherwise."""
        if not data_json:
            return dict
        self.fresh(data_json)  # parses it once, and learns whether it is flat
        flat = self._flat[data_json]
        if flat is not None:
            return flat.copy  # a C method: no wrapper to call through (flat is never handed out)
        return partial(json.loads, data_json)
