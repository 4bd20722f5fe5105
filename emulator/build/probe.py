"""Deployment's import check in the interpreter that will run the function (process isolation
with a built environment): import ``functionPath`` there and read ``handle``'s parameters.

The host cannot import such code (its packages are in the function's environment, its syntax may be
a newer Python's), so a short child process does what ``execution.code.load_code`` does in-process.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from emulator.execution.code import DeployError

PROBE_TIMEOUT = 120.0
_CHILD = r"""
import inspect, json, sys, traceback
root, module_name, function_path = sys.argv[1:4]
sys.path.insert(0, root)
out = {}
try:
    import importlib
    module = importlib.import_module(module_name)
except BaseException as exc:
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if not f.filename.startswith("<frozen ")
              and "importlib" not in f.filename]
    trace = ("Traceback (most recent call last):\n" if frames else "") + "".join(traceback.format_list(frames))
    trace += "".join(traceback.format_exception_only(type(exc), exc))
    out["error"] = {"message": f"Failed to import {function_path}: {type(exc).__name__}: {exc}", "trace": trace}
else:
    handle = getattr(module, "handle", None)
    if handle is None:
        out["error"] = {"message": f"{function_path} must define a function named 'handle'", "trace": None}
    elif not callable(handle):
        out["error"] = {"message": f"'handle' in {function_path} is not callable", "trace": None}
    else:
        try:
            out["params"] = list(inspect.signature(handle).parameters)
        except (TypeError, ValueError):
            out["error"] = {"message": f"Cannot read the signature of 'handle' in {function_path}", "trace": None}
sys.__stdout__.write("\n@@EMULATOR-PROBE@@" + json.dumps(out))
"""
_MARKER = "\n@@EMULATOR-PROBE@@"


def probe_handle(python: str, root: Path, module_name: str, function_path: str) -> tuple[str, ...]:
    """``handle``'s parameter names, as imported by ``python``; raises DeployError as load_code does."""
    try:
        done = subprocess.run([python, "-c", _CHILD, str(root), module_name, function_path], cwd=str(root),
                              capture_output=True, text=True, errors="replace", timeout=PROBE_TIMEOUT,
                              check=False)  # fmt: skip
    except subprocess.TimeoutExpired:
        raise DeployError(f"Importing {function_path} took longer than {PROBE_TIMEOUT:g} s") from None
    except OSError as exc:
        raise DeployError(f"Could not start the function's interpreter {python}: {exc}") from None
    if _MARKER not in done.stdout:
        raise DeployError(f"Importing {function_path} ended the process (exit code {done.returncode})",
                          done.stderr[-4000:] or None)  # fmt: skip
    try:
        out = json.loads(done.stdout.rsplit(_MARKER, 1)[1])
    except ValueError:
        raise DeployError(f"Importing {function_path} printed a malformed result") from None
    if "error" in out:
        raise DeployError(out["error"]["message"], out["error"]["trace"])
    return tuple(str(p) for p in out["params"])
