"""The ROMA Connect FDI schedules facade (``emu.roma``, ``emu.roma_client()``)."""

from emulator.roma.service import Dispatch, RomaError, RomaService, Task

__all__ = ["Dispatch", "RomaError", "RomaService", "Task"]
