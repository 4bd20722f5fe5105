"""Per-test cost of the pytest plugin: setup + teardown of ``functions_emulator_client`` vs one in-process
``functions.retrieve`` round trip measured in the same run (target <= 5x).

The fixture cycle runs the plugin's own fixture functions (``functions_emulator`` ->
``functions_emulator_client`` -> teardown), fed a minimal stand-in for pytest's ``request``, so the
figure follows the shipped code. ``run(with_pytest=True)`` also reports what the fixture adds to a
test in a real pytest session (N tests with the fixture minus N without, in a subprocess), as a detail.

    python benchmarks/bench_fixture.py            # prints the ratio
    from bench_fixture import run; run()          # -> dict, for run_all.py
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from common import per_op, report, result

from emulator import FunctionsEmulator
from pytest_plugin import plugin


def handle():
    return None


class _Request:
    """Just what ``plugin.emulator_options`` reads from a ``pytest.FixtureRequest``: no options, no marker."""

    config = SimpleNamespace(getoption=lambda name, default=None: default, getini=lambda name: None)
    node = SimpleNamespace(get_closest_marker=lambda name: None)


_emulator_fixture = plugin.functions_emulator.__wrapped__  # the generator function behind @pytest.fixture
_client_fixture = plugin.functions_emulator_client.__wrapped__


def _fixture_cycle() -> None:
    gen = _emulator_fixture(_Request())
    emulator = next(gen)  # setup: a fresh FunctionsEmulator ...
    _client_fixture(emulator)  # ... and its in-process CogniteClient
    for _ in gen:  # teardown: emulator.close()
        pass


_PYTEST_FILE = """
import pytest

import emulator  # imported in both runs, so the difference is the fixture, not the import of the SDK

@pytest.mark.parametrize("i", range({n}))
def test_it(i, {fixture}):
    pass
"""


def _pytest_seconds(n: int, fixture: str) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        Path(tmp, "test_bench.py").write_text(_PYTEST_FILE.format(n=n, fixture=fixture))
        Path(tmp, "pytest.ini").write_text("[pytest]\n")
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly", tmp],
            check=True,
            capture_output=True,
            timeout=300,
        )
        return time.perf_counter() - started


def pytest_marginal_ms(n: int = 300) -> float:
    """Milliseconds per test that ``functions_emulator_client`` adds in a real pytest session."""
    with_fixture = _pytest_seconds(n, "functions_emulator_client")
    without = _pytest_seconds(n, "tmp_path_factory")  # a session fixture: next to free
    return (with_fixture - without) / n * 1000


def run(number: int = 200, *, with_pytest: bool = False) -> dict[str, Any]:
    emu = FunctionsEmulator(project="bench")
    fn_id = emu.deploy(function_handle=handle).id
    client = emu.client()
    details: dict[str, Any] = {}
    try:
        cycle = per_op(_fixture_cycle, number=number)
        retrieve = per_op(lambda: client.functions.retrieve(id=fn_id), number=number)
    finally:
        emu.close()
    if with_pytest:
        details["pytest_marginal_ms_per_test"] = round(pytest_marginal_ms(), 3)
    return result("fixture setup+teardown vs retrieve", cycle, retrieve, 5.0, **details)


if __name__ == "__main__":
    report(run(with_pytest="--pytest" in sys.argv))
