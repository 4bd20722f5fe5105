"""Ids as CDF's look: large integers (up to 2^53-1), unique across every resource type, reproducible.

Code written for CDF treats small ids such as 1 or 42 as ids that do not exist, and passes an id
of one resource type to another's API expecting "not found"; per-type counters from 1 would make
both silently succeed. Each id is a bijection of a counter (an affine map modulo 2^53 with an odd
multiplier), so ids never repeat without any set of issued ids being kept, and the same seed gives
the same ids in the same order.
"""

from __future__ import annotations

import itertools

MAX_ID = 2**53 - 1
_MODULUS = 2**53
_FLOOR = 10**6  # no id below this: small numbers stay "ids that do not exist"


class IdGenerator:
    """Issues ids; thread-safe (``itertools.count`` is atomic under the GIL)."""

    def __init__(self, seed: int = 0) -> None:
        self.seed = seed
        # Odd multiplier near 2^53 / golden ratio, varied by the seed; the offset too.
        self._mul = (0x13C6EF372FE95 + 2 * (seed % 2**20)) | 1
        self._add = (0x9E3779B97F4A7 * (seed + 1)) % _MODULUS
        self._counter = itertools.count(1)
        self._issued = 0

    def new(self) -> int:
        n = next(self._counter)
        self._issued = n
        value = (self._mul * n + self._add) % _MODULUS
        while not _FLOOR <= value <= MAX_ID:  # rare: the value falls outside CDF's id range
            n = next(self._counter)
            self._issued = n
            value = (self._mul * n + self._add) % _MODULUS
        return value

    def take(self, n: int) -> list[int]:
        """``n`` new ids at once, as ``n`` calls of :meth:`new` give (a batch of call records)."""
        counter = self._counter
        steps = [next(counter) for _ in range(n)]
        if not steps:
            return []
        self._issued = steps[-1]
        mul, add = self._mul, self._add
        values = [(mul * step + add) % _MODULUS for step in steps]
        if min(values) < _FLOOR:  # rare: below CDF's id range (never above: modulo 2^53); skipped
            values = [value for value in values if value >= _FLOOR]  # as new() skips it
            values.extend(self.new() for _ in range(n - len(values)))
        return values

    def step_of(self, value: int) -> int:
        """The counter step at which this generator issues ``value`` (the inverse of :meth:`new`):
        a loaded id with a step beyond ``issued`` would be issued again later."""
        return ((value - self._add) * pow(self._mul, -1, _MODULUS)) % _MODULUS

    @property
    def issued(self) -> int:
        """How many counter steps were taken: what a state file saves to continue the sequence."""
        return self._issued

    def restore(self, issued: int) -> None:
        """Continue after ``issued`` steps (a loaded state file), never re-issuing an id."""
        if issued > self._issued:
            self._counter = itertools.count(issued + 1)
            self._issued = issued
