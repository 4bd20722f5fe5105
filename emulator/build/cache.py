"""Built environments on disk: one folder per hash of what went into it, safe across processes.

The key hashes the flattened requirements, the interpreter's version, the index URLs, the
installer and the emulator's version, so a test suite builds an environment once and every later
deployment (in this run or the next) reuses it. A build runs under a lock file (two processes
building the same environment wait for each other) into a temporary folder that is renamed into
place when complete, so a reader never sees half an environment.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
import shutil
import sys
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

ENV_VAR = "CDF_FUNCTIONS_EMULATOR_CACHE"
APP_DIR = "cognite-functions-emulator"
READY = "emulator-env.json"  # written last: a folder with it is a complete environment


def emulator_version() -> str:
    try:
        return importlib.metadata.version("cdf-functions-emulator")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def cache_root(option: str | os.PathLike[str] | None = None) -> Path:
    """Where environments are kept: the ``build_cache`` option, else $CDF_FUNCTIONS_EMULATOR_CACHE,
    else the user cache folder ($XDG_CACHE_HOME or ~/.cache, ~/Library/Caches on macOS)."""
    if option is not None:
        return Path(option)
    if os.environ.get(ENV_VAR):
        return Path(os.environ[ENV_VAR])
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / APP_DIR
    if sys.platform == "win32":
        return Path(os.environ.get("LOCALAPPDATA") or Path.home()) / APP_DIR / "Cache"
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / APP_DIR


def env_key(parts: dict[str, object]) -> str:
    """A stable short hash of what an environment is built from (plus the emulator's version)."""
    payload = json.dumps({**parts, "emulator": emulator_version()}, sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()[:24]


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+b") as handle:
        if sys.platform == "win32":  # pragma: no cover - the emulator's CI is POSIX
            import msvcrt

            msvcrt.locking(handle.fileno(), msvcrt.LK_LOCK, 1)
            try:
                yield
            finally:
                msvcrt.locking(handle.fileno(), msvcrt.LK_UNLCK, 1)
        else:
            import fcntl

            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)  # blocks while another process builds it
            try:
                yield
            finally:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def cached_build(root: Path, key: str, build: Callable[[Path], dict[str, object]]) -> tuple[Path, bool]:
    """The folder of environment ``key``, built by ``build(folder)`` when not there yet.

    ``build`` gets an empty temporary folder and returns what to record in the ready marker.
    Returns (folder, whether it was built now). A failing ``build`` leaves nothing behind."""
    final = root / key
    if (final / READY).is_file():
        return final, False
    with _locked(root / f"{key}.lock"):
        if (final / READY).is_file():  # another process built it while this one waited
            return final, False
        shutil.rmtree(final, ignore_errors=True)  # an incomplete folder left by a killed build
        scratch = root / f".{key}.{uuid.uuid4().hex[:8]}.tmp"
        try:
            record = build(scratch)
            (scratch / READY).write_text(json.dumps(record, indent=1))
            os.replace(scratch, final)  # atomic: readers see nothing, or a complete environment
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
    return final, True
