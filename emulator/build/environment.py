"""What the build step produced for one function version: the interpreter and import path it runs on.

A leaf module: the execution runners read it from ``LoadedCode.environment`` (process isolation runs
``python``; thread isolation puts ``site_packages`` on the function's private import path).
"""

from __future__ import annotations

import platform
import sys
from dataclasses import dataclass


@dataclass(frozen=True)
class BuiltEnvironment:
    """The environment one deployed function version runs in.

    ``python``: the interpreter of a process-isolated call (the host's ``sys.executable`` unless
    requirements="install" built a virtual environment). ``site_packages``: the environment's own
    import path, empty for the host. ``runtime_version``: what ``runtimeVersion`` answers, the
    version of ``python`` (``Python 3.12.1``). ``installed``: whether the build installed packages.
    """

    python: str
    site_packages: tuple[str, ...]
    runtime_version: str
    installed: bool = False


def host_environment() -> BuiltEnvironment:
    """The emulator's own interpreter and packages (requirements="check" or "ignore")."""
    return BuiltEnvironment(sys.executable, (), f"Python {platform.python_version()}")
