"""``isolation="process"``: each call runs in a fresh Python subprocess.

What it buys over the default threads: a real kill at the timeout, a separate ``os.environ``,
working directory and ``sys.modules``, and no way for a handler to disturb the test process. What it
costs: a new interpreter per call (~100-300 ms), and arguments and the response must be JSON. The
handler's ``client`` talks to the emulator over HTTP: the emulator starts a loopback server on first
use and gives the child its URL.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

from emulator.execution.code import LoadedCode
from emulator.execution.outcomes import Outcome

_CHILD = r"""
import io, json, sys, traceback, contextlib
spec = json.loads(sys.stdin.read())
sys.path.insert(0, spec["root"])
buffer = io.StringIO()
out = {"status": "Completed", "response": None, "error": None}
try:
    with contextlib.redirect_stdout(buffer), contextlib.redirect_stderr(buffer):
        import importlib
        module = importlib.import_module(spec["module"])
        kwargs = {k: v for k, v in spec["arguments"].items() if k in spec["params"]}
        if "client" in spec["params"]:
            from cognite.client import ClientConfig, CogniteClient, global_config
            from cognite.client.credentials import Token
            global_config.disable_pypi_version_check = True
            kwargs["client"] = CogniteClient(ClientConfig(client_name="emulator-call", project=spec["project"],
                credentials=Token(spec["token"]), base_url=spec["base_url"]))
        result = module.handle(**kwargs)
    try:
        out["response"] = json.loads(json.dumps(result, allow_nan=False))
    except (TypeError, ValueError) as exc:
        out["status"], out["error"] = "Failed", {"message": f"Function response is not JSON serializable: {exc}", "trace": None}
except SystemExit as exc:
    out["status"], out["error"] = "Failed", {"message": f"Function called sys.exit({exc.code!r})", "trace": traceback.format_exc()}
except BaseException as exc:
    out["status"], out["error"] = "Failed", {"message": f"{type(exc).__name__}: {exc}", "trace": traceback.format_exc()}
out["logs"] = buffer.getvalue()
sys.__stdout__.write("\n@@EMULATOR-RESULT@@" + json.dumps(out))
"""


def run_in_subprocess(
    code: LoadedCode,
    arguments: dict[str, Any],
    env_vars: dict[str, str],
    *,
    project: str,
    base_url: str,
    token: str = "emulator-token",
    timeout: float,
    now_ms: int,
    max_response_bytes: int,
    max_log_lines: int,
) -> Outcome:
    """Run one call in a child interpreter; never raises."""
    spec = {
        "root": str(code.root),
        "module": code.module_name,
        "params": list(code.params),
        "arguments": {k: v for k, v in arguments.items() if k != "client"},
        "project": project,
        "base_url": base_url,
        "token": token,
    }
    env = {**os.environ, **env_vars}
    try:
        proc = subprocess.run(
            [sys.executable, "-c", _CHILD],
            input=json.dumps(spec),
            capture_output=True,
            text=True,
            timeout=timeout,
            env=env,
            cwd=str(code.root),
        )
    except subprocess.TimeoutExpired:
        return Outcome("Timeout", error={"message": f"Function call timed out after {timeout:g} seconds (process killed)",
                                         "trace": None})  # fmt: skip
    marker = "\n@@EMULATOR-RESULT@@"
    if marker not in proc.stdout:
        return Outcome("Failed", error={"message": f"The call's process exited with code {proc.returncode}",
                                        "trace": proc.stderr[-2000:] or None})  # fmt: skip
    result = json.loads(proc.stdout.rsplit(marker, 1)[1])
    lines = result["logs"].splitlines()
    logs = [(now_ms, line) for line in lines[:max_log_lines]]
    if len(lines) > max_log_lines:
        logs.append(
            (now_ms, f"[emulator] log truncated: {len(lines) - max_log_lines} more line(s) were dropped")
        )
    if result["status"] == "Completed" and len(json.dumps(result["response"]).encode()) > max_response_bytes:
        return Outcome("Failed", error={"message": f"Function response is over the limit of "
                                        f"{max_response_bytes // (1024 * 1024)} MB", "trace": None}, logs=logs)  # fmt: skip
    return Outcome(
        result["status"],
        response=result["response"],
        has_response=result["status"] == "Completed",
        error=result["error"],
        logs=logs,
    )
