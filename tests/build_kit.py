"""Helpers of the build-step tests: function folders, the package index check (the session's build
cache is tests/conftest.py ``build_cache``)."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from emulator.build.runtimes import uv_binary

# A tiny pure-Python package with no dependencies, not installed in the test environment.
PACKAGE, VERSION = "toolz", "1.0.0"


def folder(files: dict[str, str]) -> str:
    """A function folder with these files (path -> text)."""
    root = Path(tempfile.mkdtemp(prefix="build-test-"))
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return str(root)


@pytest.fixture(scope="session")
def package_index() -> None:
    """Skip when the package index cannot be reached (the installer resolves one tiny package)."""
    uv = uv_binary()
    if uv is None:
        pytest.skip("uv is not installed (pip install uv, or the project's [test] extra)")
    try:
        done = subprocess.run([uv, "pip", "compile", "--quiet", "--no-header", "-"], input=f"{PACKAGE}=={VERSION}\n",
                              capture_output=True, text=True, timeout=60, check=False)  # fmt: skip
    except subprocess.TimeoutExpired:
        pytest.skip("the package index did not answer within 60 s")
    if done.returncode != 0:
        pytest.skip(f"the package index cannot be reached: {done.stderr.strip()[-300:]}")


def python_of(runtime: str) -> str | None:
    """Whether this machine has an interpreter of ``runtime`` (for skips)."""
    from emulator.build.runtimes import InterpreterNotFound, Interpreters

    try:
        return Interpreters().find(runtime).path
    except InterpreterNotFound:
        return None


HOST_RUNTIME = f"py3{sys.version_info.minor}"
