"""requirements="install": build a virtual environment for a function with uv (or pip).

The environment is made from the runtime's interpreter and gets the function's requirements plus,
when they do not name it, the cognite-sdk of the emulator's own version (CDF installs cognite-sdk
in every function; the child process needs it to hand ``handle()`` its ``client``). ``indexUrl``
and ``extraIndexUrls`` go to the installer. A failing install raises a DeployError with the
installer's output as the trace.
"""

from __future__ import annotations

import importlib.metadata
import os
import subprocess
import sys
from pathlib import Path

from emulator.build.requirements import Requirements
from emulator.build.runtimes import Interpreter, uv_binary
from emulator.execution.code import DeployError

INSTALL_TIMEOUT = 600.0
MAX_TRACE = 8000
SDK = "cognite-sdk"


def installer() -> str:
    """ "uv" when uv can be found (the ``uv`` package ships it), else "pip"."""
    return "uv" if uv_binary() is not None else "pip"


def sdk_requirement(requirements: Requirements) -> list[str]:
    """cognite-sdk at the emulator's own version, unless the function's requirements name it."""
    if SDK in requirements.names():
        return []
    try:
        return [f"{SDK}=={importlib.metadata.version(SDK)}"]
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover - the emulator needs it
        return [SDK]


def site_packages(venv: Path, version: tuple[int, int, int]) -> Path:
    if sys.platform == "win32":  # pragma: no cover
        return venv / "Lib" / "site-packages"
    return venv / "lib" / f"python{version[0]}.{version[1]}" / "site-packages"


def venv_python(venv: Path) -> Path:
    if sys.platform == "win32":  # pragma: no cover
        return venv / "Scripts" / "python.exe"
    return venv / "bin" / "python"


def build_venv(
    dest: Path,
    interpreter: Interpreter,
    requirements: Requirements,
    *,
    index_url: str | None,
    extra_index_urls: list[str] | None,
    extras: list[str],
) -> None:
    """Create the virtual environment ``dest`` and install the requirements (and ``extras``, the
    cognite-sdk a process-isolated call needs) into it."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    req_file = dest / "emulator-requirements.txt"
    index_args: list[str] = ["--index-url", index_url] if index_url else []
    for url in extra_index_urls or []:
        index_args += ["--extra-index-url", url]
    uv = uv_binary()
    env = {**os.environ, "UV_PYTHON_DOWNLOADS": "never", "UV_NO_PROGRESS": "1", "PIP_NO_INPUT": "1",
           "PIP_DISABLE_PIP_VERSION_CHECK": "1"}  # fmt: skip
    env.pop("VIRTUAL_ENV", None)  # the installer must target dest, not the emulator's own venv
    python = str(venv_python(dest))
    if uv is not None:
        steps = [
            [uv, "venv", "--quiet", "--no-project", "--python", interpreter.path, str(dest)],
            # --compile-bytecode: compiled once at build time, not at every call's import (the
            # process may not write __pycache__, e.g. under PYTHONDONTWRITEBYTECODE).
            [
                uv,
                "pip",
                "install",
                "--compile-bytecode",
                "--python",
                python,
                "-r",
                str(req_file),
                *index_args,
            ],
        ]
    else:
        steps = [
            [interpreter.path, "-m", "venv", str(dest)],
            [python, "-m", "pip", "install", "-r", str(req_file), *index_args],
        ]
    tool = "uv" if uv is not None else "pip"
    _run(steps[0], env, cwd=dest.parent, tool=tool)
    req_file.write_text(requirements.text() + "".join(f"{r}\n" for r in extras))
    _run(steps[1], env, cwd=dest, tool=tool)


def _run(command: list[str], env: dict[str, str], *, cwd: Path, tool: str) -> None:
    try:
        done = subprocess.run(command, capture_output=True, text=True, env=env, cwd=cwd,
                              timeout=INSTALL_TIMEOUT, check=False)  # fmt: skip
    except subprocess.TimeoutExpired:
        raise DeployError(f"Installing the requirements took longer than {INSTALL_TIMEOUT:g} s") from None
    except OSError as exc:
        raise DeployError(f"Could not run the installer ({tool}): {exc}") from None
    if done.returncode != 0:
        output = (done.stdout + done.stderr).strip()
        raise DeployError(
            f"Failed to install the requirements ({tool} exited with {done.returncode}): {_gist(output)}",
            output[-MAX_TRACE:] or None,
        )


def _gist(output: str) -> str:
    """The installer's error line and its last cause (uv: ``error: ...`` then ``cause: ...``)."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    error = next((line for line in lines if line.lower().startswith("error")), None)
    last = lines[-1] if lines else ""
    return last if error is None or error == last else f"{error}; {last}"
