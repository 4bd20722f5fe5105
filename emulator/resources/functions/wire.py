"""Functions on the wire: CDF's JSON of a function (secrets masked, index URLs write-only)."""

from __future__ import annotations

import sys
from typing import Any

from emulator.state import FunctionRecord


def function_json(fn: FunctionRecord) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": fn.id,
        "name": fn.name,
        "fileId": fn.file_id,
        "functionPath": fn.function_path,
        "createdTime": fn.created_time,
        "status": fn.status,
        "cpu": fn.cpu,
        "memory": fn.memory,
        "runtime": fn.runtime,
        "runtimeVersion": _runtime_version(fn),
    }
    if fn.env_vars:  # absent when none were given, as CDF answers (the Toolkit compares on it)
        out["envVars"] = dict(fn.env_vars)
    optional = {
        "externalId": fn.external_id,
        "description": fn.description,
        "owner": fn.owner,
        "metadata": fn.metadata,
        # indexUrl / extraIndexUrls are write-only in the spec (they may carry credentials).
        "error": fn.error,
        "lastCalled": fn.last_called,
    }
    out.update({k: v for k, v in optional.items() if v is not None})
    if fn.secrets:
        out["secrets"] = {k: "***" for k in fn.secrets}
    return out


def _runtime_version(fn: FunctionRecord) -> str:
    """The Python that runs the function (what the build step chose), else the declared runtime."""
    if fn.code is not None:
        return str(fn.code.environment.runtime_version)
    runtime = fn.runtime
    return f"Python 3.{runtime[3:]}" + (
        f".{sys.version_info.micro}" if runtime == f"py3{sys.version_info.minor}" else ""
    )
