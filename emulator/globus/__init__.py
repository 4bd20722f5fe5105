"""The Globus Timer facade (``emu.globus``, ``emu.globus_timer_client()``)."""

from emulator.globus.timers import GlobusTimers, Job, TimerError

__all__ = ["GlobusTimers", "Job", "TimerError"]
