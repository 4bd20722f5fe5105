"""A local emulator of Cognite Data Fusion Functions.

from emulator import FunctionsEmulator
emu = FunctionsEmulator(project="my-project", start="2026-01-01T00:00:00Z")
client = emu.client()            # a real CogniteClient, wired in-process
emu.clock.advance(hours=24)      # fires every scheduled run that falls due
"""

from emulator.clock import Clock, VirtualClock, to_epoch_ms
from emulator.deploy_timing import DeployTiming
from emulator.emulator import FunctionsEmulator
from emulator.errors import CogniteAPIError
from emulator.limits import Limits

__all__ = [
    "Clock",
    "CogniteAPIError",
    "DeployTiming",
    "FunctionsEmulator",
    "Limits",
    "VirtualClock",
    "to_epoch_ms",
]
__version__ = "0.1.0"
