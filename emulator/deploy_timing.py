"""DeployTiming: how long a new function stays Queued, then Deploying, on the emulator's clock.

CDF builds a function for a while after ``functions.create`` answers; deploy scripts poll until it
is Ready. By default the emulator deploys at once (tests never wait); with a DeployTiming a new
function answers Queued, then Deploying, then Ready or Failed as the clock moves
(``emu.clock.advance(seconds=...)``), so that polling code can be tested in virtual time.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class DeployTiming:
    """Seconds spent Queued, then Deploying, before a function is Ready or Failed."""

    queued: float = 5.0
    deploying: float = 30.0

    def __post_init__(self) -> None:
        for name in ("queued", "deploying"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or not math.isfinite(value) or not 0 <= value <= 86_400:
                raise ValueError(f"DeployTiming.{name} must be between 0 and 86400 seconds, got {value!r}")
