"""requirements="check": does the environment that runs the function satisfy every requirement?

Read with ``importlib.metadata`` (the host's installed distributions) and ``packaging`` (versions,
markers evaluated for the interpreter that runs the function). A requirement the environment does
not meet fails the deployment, naming it and the two ways out.
"""

from __future__ import annotations

import importlib.metadata
from collections.abc import Mapping

from packaging.markers import default_environment
from packaging.requirements import Requirement

from emulator.build.requirements import Requirements, canonical
from emulator.execution.code import DeployError


def installed_versions() -> dict[str, str]:
    """The host's installed distributions, by canonical name."""
    found: dict[str, str] = {}
    for dist in importlib.metadata.distributions():
        name = dist.metadata["Name"]
        if name:
            found.setdefault(canonical(name), dist.version)
    return found


def marker_environment(version: tuple[int, int, int]) -> dict[str, str]:
    """The marker environment of the host's platform with the Python version of the runtime."""
    env = {key: str(value) for key, value in default_environment().items()}
    env["python_version"] = f"{version[0]}.{version[1]}"
    env["python_full_version"] = "{}.{}.{}".format(*version)
    env["implementation_version"] = env["python_full_version"]
    return env


def unmet(requirement: Requirement, installed: Mapping[str, str], markers: dict[str, str]) -> str | None:
    """Why ``requirement`` is not met by ``installed`` (None when it is, or does not apply)."""
    if requirement.marker is not None and not requirement.marker.evaluate(markers):
        return None
    have = installed.get(canonical(requirement.name))
    if have is None:
        return f"{requirement} (not installed)"
    if requirement.specifier and not requirement.specifier.contains(have, prereleases=True):
        return f"{requirement} (installed: {have})"
    return None  # for a direct URL, which build the installed copy came from cannot be told


def check(requirements: Requirements, version: tuple[int, int, int], where: str) -> None:
    """Raise a DeployError naming every requirement the host environment does not meet."""
    installed = installed_versions()
    markers = marker_environment(version)
    problems = [p for r in requirements.requirements if (p := unmet(r, installed, markers))]
    if not problems:
        return
    listed = "; ".join(problems)
    names = " ".join(f"'{r}'" for r in requirements.requirements if unmet(r, installed, markers))
    raise DeployError(
        f"requirements.txt asks for what {where} does not have: {listed}. Either install it there "
        f"(pip install {names}), or deploy with requirements='install' "
        "(FunctionsEmulator(requirements='install'), `emulator serve --requirements install`) to build "
        "the function its own environment, as CDF does",
        "\n".join(problems),
    )
