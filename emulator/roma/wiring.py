"""The ROMA Connect facade of one emulator: made on first use, on the context's clock and timeline."""

from __future__ import annotations

from emulator.context import Context
from emulator.roma.service import RomaService


def roma_of(context: Context) -> RomaService:
    """The emulator's ROMA Connect FDI facade (``emu.roma``), made and registered on first use."""
    return context.facades.ensure(RomaService, lambda: RomaService(context.clock, context.timeline))
