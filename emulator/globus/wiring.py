"""The Globus Timer facade of one emulator: made on first use, on the context's clock and timeline."""

from __future__ import annotations

from emulator.context import Context
from emulator.globus.timers import GlobusTimers


def globus_of(context: Context) -> GlobusTimers:
    """The emulator's Globus Timer facade (``emu.globus``), made and registered on first use."""
    return context.facades.ensure(GlobusTimers, lambda: GlobusTimers(context.clock, context.timeline))
