"""pytest fixtures and a marker for the CDF Functions emulator.

Installed with the package (``pytest11`` entry point); nothing to configure. Every fixture is fresh
per test. Settings come, most specific first, from the ``functions_emulator`` marker, the command
line (``--functions-emulator-*``), the ini file (``functions_emulator_*``) and the defaults.

Fixture names all start with ``functions_emulator`` so they never clash with a suite's own
``cognite_client`` fixtures. Each test gets its own emulator object, so pytest-xdist workers (and
tests in one worker) never share state.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

# A fixed instant, so that schedule tests do not depend on today's date; "now" starts at the real time.
DEFAULT_START = "2026-01-01T00:00:00Z"
NOW = "now"

SETTINGS = {
    # The same default as FunctionsEmulator() and `emulator serve` (tests/test_plugin.py checks it);
    # a literal, because importing the emulator here would cost suites that never use the fixtures.
    "project": ("project name of the emulator's default client", "emulator-project"),
    "start": (f"where the clock starts: ISO 8601, epoch ms or {NOW!r} (the real time)", DEFAULT_START),
    "clock": ("clock mode: virtual, wall or system", "virtual"),
    "call_mode": ("sync (calls finish before the POST answers) or background", "sync"),
    "requirements": ("the build step: check, install (a cached environment per function) or ignore", "check"),
    "build_cache": ("folder of built function environments (requirements=install)", None),
}


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("functions_emulator", "CDF Functions emulator")
    for name, (help_text, default) in SETTINGS.items():
        group.addoption(
            f"--functions-emulator-{name.replace('_', '-')}",
            dest=f"functions_emulator_{name}",
            default=None,
            help=f"{help_text} (default: {default})",
        )
        parser.addini(f"functions_emulator_{name}", help_text, default=None)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "functions_emulator(project=None, start=None, clock=None, call_mode=None, **options): "
        f"start={NOW!r} starts the clock at the real time instead of {DEFAULT_START}; "
        "configure the functions_emulator fixture for this test (options go to FunctionsEmulator)",
    )


def emulator_options(request: pytest.FixtureRequest) -> dict[str, Any]:
    """The FunctionsEmulator keyword arguments for this test: marker > command line > ini > defaults."""
    options: dict[str, Any] = {}
    for name, (_, default) in SETTINGS.items():
        value = request.config.getoption(f"functions_emulator_{name}", None)
        if value is None:
            value = request.config.getini(f"functions_emulator_{name}") or None
        if value is None:
            value = default
        if name == "start" and isinstance(value, str) and value.strip().isdigit():
            value = int(value)  # epoch milliseconds, from the command line or the ini file
        if value is not None:
            options[name] = value
    marker = request.node.get_closest_marker("functions_emulator")
    if marker is not None:
        if marker.args:
            raise pytest.UsageError("@pytest.mark.functions_emulator takes keyword arguments only")
        options.update({k: v for k, v in marker.kwargs.items()})
    if isinstance(options.get("start"), str) and options["start"].strip().lower() == NOW:
        options["start"] = None  # FunctionsEmulator's own default: the real time
    return options


@pytest.fixture
def functions_emulator(request: pytest.FixtureRequest) -> Iterator[Any]:
    """A fresh ``FunctionsEmulator`` for this test, closed afterwards."""
    from emulator import FunctionsEmulator

    emulator = FunctionsEmulator(**emulator_options(request))
    try:
        yield emulator
    finally:
        emulator.close()


@pytest.fixture
def functions_emulator_client(functions_emulator: Any) -> Any:
    """A real ``CogniteClient`` wired to this test's emulator in-process."""
    return functions_emulator.client()


@pytest.fixture
def functions_emulator_async_client(functions_emulator: Any) -> Any:
    """A real ``AsyncCogniteClient`` wired to this test's emulator in-process."""
    return functions_emulator.async_client()


@pytest.fixture
def functions_emulator_clock(functions_emulator: Any) -> Any:
    """The emulator's clock: ``advance(...)``, ``advance_to(...)``, ``now()``."""
    return functions_emulator.clock


@pytest.fixture
def functions_emulator_server(functions_emulator: Any) -> Iterator[Any]:
    """The same emulator served by a real uvicorn server on a free loopback port.

    Has ``.base_url`` and ``.client()`` (a CogniteClient over HTTP); stopped after the test.
    """
    with functions_emulator.serve(host="127.0.0.1", port=0) as server:
        yield server
