"""The ROMA Connect FDI schedules facade (``emu.roma``, ``emu.roma_client()``)."""

from emulator.roma.dispatch import Dispatch
from emulator.roma.errors import RomaError
from emulator.roma.service import RomaService, Task

__all__ = ["Dispatch", "RomaError", "RomaService", "Task"]
