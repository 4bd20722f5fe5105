"""The declared runtime (``py310`` .. ``py313``): find an interpreter of that Python version.

Looked for in this order: the emulator's ``interpreters`` option (``{"py312": "/path/python"}``),
the host when it is that version, ``python3.X`` on PATH, pyenv's versions folder, then
``uv python find`` (never downloading). Every candidate is run once to read its version (a pyenv
shim that is not enabled fails there and is skipped). Results are kept per emulator.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

RUNTIMES = {"py310": (3, 10), "py311": (3, 11), "py312": (3, 12), "py313": (3, 13)}
_VERSION = "import sys; print('%d.%d.%d' % sys.version_info[:3])"
PROBE_TIMEOUT = 20.0


@dataclass(frozen=True)
class Interpreter:
    """A Python interpreter: its path and its version."""

    path: str
    version: tuple[int, int, int]

    @property
    def runtime_version(self) -> str:
        return "Python {}.{}.{}".format(*self.version)


class InterpreterNotFound(Exception):
    """No interpreter of the runtime's version (the message says where the search looked)."""


def minor_of(runtime: str) -> tuple[int, int]:
    return RUNTIMES[runtime]


def host_runtime() -> str:
    return f"py3{sys.version_info.minor}"


def host_interpreter() -> Interpreter:
    major, minor, micro = sys.version_info[:3]
    return Interpreter(sys.executable, (major, minor, micro))


def probe(path: str) -> tuple[int, int, int] | None:
    """The version of the interpreter at ``path``, or None when it does not run."""
    try:
        done = subprocess.run(
            [path, "-c", _VERSION], capture_output=True, text=True, timeout=PROBE_TIMEOUT, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    parts = done.stdout.strip().split(".")
    if done.returncode != 0 or len(parts) != 3 or not all(p.isdigit() for p in parts):
        return None
    return int(parts[0]), int(parts[1]), int(parts[2])


class Interpreters:
    """One emulator's interpreter search, cached (the emulator's ``interpreters`` option first)."""

    def __init__(self, explicit: Mapping[str, str] | None = None) -> None:
        unknown = sorted(set(explicit or {}) - set(RUNTIMES))
        if unknown:
            raise ValueError(f"interpreters: unknown runtime(s) {unknown}; use {', '.join(RUNTIMES)}")
        self.explicit = dict(explicit or {})
        self._found: dict[str, Interpreter | str] = {}
        self._lock = threading.Lock()

    def find(self, runtime: str) -> Interpreter:
        """The interpreter for ``runtime``; raises ``InterpreterNotFound`` saying where it looked."""
        with self._lock:
            if runtime not in self._found:
                self._found[runtime] = self._search(runtime)
            found = self._found[runtime]
        if isinstance(found, str):
            raise InterpreterNotFound(found)
        return found

    def _search(self, runtime: str) -> Interpreter | str:
        wanted = minor_of(runtime)
        label = "Python {}.{}".format(*wanted)
        if runtime in self.explicit:
            path = self.explicit[runtime]
            version = probe(path)
            if version is None or version[:2] != wanted:
                got = "does not run" if version is None else "is Python {}.{}.{}".format(*version)
                return f"interpreters[{runtime!r}] = {path!r} {got}, not {label}"
            return Interpreter(path, version)
        if sys.version_info[:2] == wanted:
            return host_interpreter()
        for path in _candidates(wanted):
            version = probe(path)
            if version is not None and version[:2] == wanted:
                return Interpreter(path, version)
        return (
            f"No {label} interpreter was found for runtime {runtime!r} (looked at python{wanted[0]}."
            f"{wanted[1]} on PATH, pyenv's versions and uv's Python discovery)"
        )


def _candidates(wanted: tuple[int, int]) -> Iterator[str]:
    """Candidate paths, cheapest first (uv's discovery takes a second or two: asked last)."""
    name = f"python{wanted[0]}.{wanted[1]}"
    on_path = shutil.which(name)
    if on_path:
        yield on_path
    pyenv = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv") / "versions"
    if pyenv.is_dir():
        prefix = f"{wanted[0]}.{wanted[1]}."
        versions = sorted((p for p in pyenv.iterdir() if p.name.startswith(prefix)), reverse=True)
        yield from (str(p / "bin" / name) for p in versions if (p / "bin" / name).exists())
    uv_found = _uv_find(f"{wanted[0]}.{wanted[1]}")
    if uv_found:
        yield uv_found


def uv_binary() -> str | None:
    """The uv executable: the one the ``uv`` package ships, else ``uv`` on PATH."""
    try:
        import uv

        return str(uv.find_uv_bin())
    except (ImportError, FileNotFoundError):
        return shutil.which("uv")


def _uv_find(version: str) -> str | None:
    binary = uv_binary()
    if binary is None:
        return None
    env = {**os.environ, "UV_PYTHON_DOWNLOADS": "never"}
    try:
        done = subprocess.run([binary, "python", "find", "--no-project", version], capture_output=True,
                              text=True, timeout=PROBE_TIMEOUT, env=env, check=False)  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return None
    path = done.stdout.strip().splitlines()[-1] if done.returncode == 0 and done.stdout.strip() else ""
    return path or None
