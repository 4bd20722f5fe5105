"""Importing a function's module at deployment as a call would see it, and never for ever.

The import runs on a thread of its own, with the function's ``envVars`` in ``os.environ`` and its
unpacked folder as the working directory (environment.py, workdir.py), as in CDF, where the module is
imported in the function's own process: module-level ``os.environ["API_URL"]`` and
``open("config.yaml")`` work. Output it writes goes where the test's output goes, through the
proxies (capture.py), so a ``StreamHandler(sys.stdout)`` it makes writes into later calls' logs.

The deployment waits at most ``timeout`` seconds: an import that does not finish by then is
``ImportTimeout`` (the function is Failed), and its thread, which nothing can stop, is left to
finish on its own (a daemon: it never blocks interpreter exit).
"""

from __future__ import annotations

import threading
from types import ModuleType

from emulator.execution.capture import CAPTURE
from emulator.execution.environment import environment
from emulator.execution.modules import FunctionModules
from emulator.execution.workdir import DIRECTORIES


class ImportTimeout(Exception):
    """The function's module did not finish importing in time."""


def import_function(
    modules: FunctionModules, module_name: str, env_vars: dict[str, str], timeout: float
) -> ModuleType:
    """Import ``module_name`` of ``modules``; re-raises what the user's code raised."""
    done = threading.Event()
    outcome: list[ModuleType | BaseException] = []

    def work() -> None:
        try:
            with environment(env_vars), DIRECTORIES.inside(modules.root):
                outcome.append(modules.import_module(module_name))
        except BaseException as exc:  # user code: SyntaxError, ImportError, SystemExit, ...
            outcome.append(exc)
        finally:
            done.set()

    with CAPTURE.installed():
        threading.Thread(target=work, name="cdf-deploy-import", daemon=True).start()
        finished = done.wait(timeout)
    if not finished:
        raise ImportTimeout(f"did not finish within {timeout:g} seconds")
    (result,) = outcome
    if isinstance(result, BaseException):
        raise result
    return result
