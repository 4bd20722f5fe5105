"""A count of the changes that decide how a scheduled run is made, for the hot loop of time travel.

A clock move makes its runs from a plan per schedule (emulator/execution/scheduled.py): whether
the run can be made inline depends on the function's status and code, the session's status and
the emulator's isolation and timeout, and any of them may change while the clock moves (a handler
deletes a function, a test thread revokes a session). Rather than reading all of them at every
run, the loop reads this one count, and makes its plans afresh when it moved. Whatever sets one of
those fields bumps it *after* the field is set, so a loop that sees the new count also sees the
new value (the schedules domain, the functions and sessions domains, ``Settings``).

Process-wide, as the loop's check must cost one read: a change in one emulator only makes the
others' loops look their plans up again.
"""

from __future__ import annotations


class Changes:
    """How many changes there were; compare two readings, the value itself means nothing."""

    __slots__ = ("count",)

    def __init__(self) -> None:
        self.count = 0

    def bump(self) -> None:
        # Not atomic across threads (a bump may be lost when two race), but the count still
        # moves: a reader only ever asks whether it differs from what it read before.
        self.count += 1


CHANGES = Changes()
