"""The build step of a deployment: requirements, the runtime's interpreter, the code's import check.

``build_and_load`` is what ``resources.functions.domain.deploy`` runs after unpacking the zip. By
the emulator's ``requirements`` option:

- "check" (the default): the function runs on the emulator's own interpreter and packages; every
  requirement must be met there, or the deployment fails naming what is missing;
- "install": a virtual environment is built for the function (cached, emulator/build/cache.py). In
  process isolation it is made from the declared runtime's interpreter and the calls run there; in
  thread isolation it is made from the host's interpreter and its site-packages join the function's
  private import path;
- "ignore": requirements.txt is not read (the function runs on the host, as before the build step).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from emulator.build.cache import cache_root, cached_build, env_key
from emulator.build.check import check
from emulator.build.environment import BuiltEnvironment, host_environment
from emulator.build.install import build_venv, installer, sdk_requirement, site_packages, venv_python
from emulator.build.probe import probe_handle
from emulator.build.requirements import Requirements, read_requirements
from emulator.build.runtimes import Interpreter, InterpreterNotFound, Interpreters, host_interpreter, minor_of
from emulator.context import RequirementsMode
from emulator.execution.code import (
    DEFAULT_IMPORT_SECONDS,
    DeployError,
    LoadedCode,
    load_code,
    module_name_of,
)
from emulator.execution.modules import FunctionModules


def build_and_load(
    root: Path,
    function_path: str,
    *,
    mode: RequirementsMode,
    isolation: str,
    runtime: str,
    interpreters: Interpreters,
    cache: str | Path | None,
    index_url: str | None = None,
    extra_index_urls: list[str] | None = None,
    sources: dict[str, str] | None = None,
    env_vars: dict[str, str] | None = None,
    import_timeout: float = DEFAULT_IMPORT_SECONDS,
) -> LoadedCode:
    """Build the function's environment and load its code; raises DeployError (the function's
    ``error``) when a requirement is invalid or unmet, the install fails or the import fails.
    ``sources``, ``env_vars`` and ``import_timeout`` go to the in-process import (load_code)."""
    requirements = read_requirements(root) if mode != "ignore" else Requirements()
    if mode == "install":
        environment, interpreter = _install(requirements, isolation, runtime, interpreters, cache,
                                            index_url, extra_index_urls)  # fmt: skip
    else:
        if mode == "check" and requirements:
            check(requirements, host_interpreter().version, "the emulator's Python environment")
        environment, interpreter = host_environment(), host_interpreter()
    if isolation == "process" and environment.python != host_environment().python:
        return _load_elsewhere(root.resolve(), function_path, environment)
    try:
        return load_code(root, function_path, environment, sources, env_vars=env_vars, timeout=import_timeout)
    except DeployError as exc:
        if exc.cause == "SyntaxError" and minor_of(runtime) > interpreter.version[:2]:
            raise DeployError(_newer_syntax(exc, runtime, interpreter, mode, isolation, interpreters),
                              exc.trace) from None  # fmt: skip
        if exc.cause == "ModuleNotFoundError" and _in_environment(exc.message, environment):
            raise DeployError(f"{exc.message}. In thread isolation the function's packages are on "
                              "its private import path, which importlib.import_module() does not "
                              "see (some packages import themselves that way): deploy with "
                              "isolation='process' to run it in its environment's own Python",
                              exc.trace) from None  # fmt: skip
        raise


def _in_environment(message: str, environment: BuiltEnvironment) -> bool:
    """Whether the module a ModuleNotFoundError names is one of the built environment's."""
    missing = re.search(r"No module named '([\w.]+)'", message)
    if missing is None:
        return False
    top = missing.group(1).partition(".")[0]
    return any(
        (Path(p) / top).exists() or (Path(p) / f"{top}.py").exists() for p in environment.site_packages
    )


def _install(
    requirements: Requirements,
    isolation: str,
    runtime: str,
    interpreters: Interpreters,
    cache: str | Path | None,
    index_url: str | None,
    extra_index_urls: list[str] | None,
) -> tuple[BuiltEnvironment, Interpreter]:
    in_process = isolation == "process"
    if in_process:
        try:
            interpreter = interpreters.find(runtime)
        except InterpreterNotFound as exc:
            raise DeployError(f"{exc}. Install that Python (for example `uv python install "
                              f"{'.'.join(map(str, minor_of(runtime)))}`), name it with FunctionsEmulator("
                              f"interpreters={{{runtime!r}: '/path/to/python'}}), or deploy with another "
                              "runtime") from None  # fmt: skip
    else:
        interpreter = host_interpreter()  # threads run in this process, on its interpreter
    if not requirements and interpreter == host_interpreter():
        return host_environment(), interpreter  # nothing to install: the host serves as it is
    extras = sdk_requirement(requirements) if in_process else []
    tool = installer()
    parts: dict[str, object] = {
        "requirements": requirements.text(), "extras": extras, "python": list(interpreter.version),
        "index_url": index_url, "extra_index_urls": extra_index_urls or [], "installer": tool,
    }  # fmt: skip

    def make(dest: Path) -> dict[str, Any]:
        build_venv(dest, interpreter, requirements, index_url=index_url, extra_index_urls=extra_index_urls,
                   extras=extras)  # fmt: skip
        # The index URLs stay out of the record (they may carry credentials); the key hashes them.
        kept = {k: v for k, v in parts.items() if k not in ("index_url", "extra_index_urls")}
        return {**kept, "interpreter": interpreter.path}

    folder, _ = cached_build(cache_root(cache), env_key(parts), make)
    return BuiltEnvironment(
        python=str(venv_python(folder)),
        site_packages=(str(site_packages(folder, interpreter.version)),),
        runtime_version=interpreter.runtime_version,
        installed=True,
    ), interpreter


def _load_elsewhere(root: Path, function_path: str, environment: BuiltEnvironment) -> LoadedCode:
    """The code runs only in the environment's interpreter: check it there, keep no handle here."""
    module_name = module_name_of(root, function_path)
    params = probe_handle(environment.python, root, module_name, function_path)

    def handle(**_: Any) -> Any:
        raise RuntimeError(f"this function runs in its own environment ({environment.python}), "
                           "in process isolation only")  # fmt: skip

    return LoadedCode(root, module_name, handle, params, FunctionModules(root), environment=environment)


def _newer_syntax(
    exc: DeployError, runtime: str, interpreter: Interpreter, mode: str, isolation: str,
    interpreters: Interpreters,
) -> str:  # fmt: skip
    wanted = "Python {}.{}".format(*minor_of(runtime))
    head = (f"{exc.message}. The function declares runtime {runtime!r} ({wanted}), but the emulator "
            f"runs it on {interpreter.runtime_version}, so this is not necessarily an error in the "
            "code")  # fmt: skip
    try:
        found = f"{wanted} was found at {interpreters.find(runtime).path}"
    except InterpreterNotFound as missing:
        found = f"{missing}: install it or name it with FunctionsEmulator(interpreters=...)"
    how = []
    if mode != "install":
        how.append("requirements='install'")
    if isolation != "process":
        how.append("isolation='process'")
    return f"{head}. To run it on {wanted}, use {' and '.join(how)} ({found})"
