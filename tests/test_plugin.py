"""The pytest plugin, run for real with pytester (also under pytest-xdist)."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]

USER_TESTS = """
import asyncio
import pytest
from cognite.client import AsyncCogniteClient, CogniteClient


def handle(data):
    return {"echo": data}


@pytest.fixture
def cognite_client():  # a user's own fixture of that name must not clash with ours
    return "users own client"


def test_emulator_and_client(functions_emulator, functions_emulator_client, cognite_client):
    assert cognite_client == "users own client"
    assert isinstance(functions_emulator_client, CogniteClient)
    fn = functions_emulator.deploy(function_handle=handle, external_id="e")
    assert functions_emulator_client.functions.call(id=fn.id, data={"x": 1}).get_response() == {"echo": {"x": 1}}


def test_fresh_per_test(functions_emulator_client):
    assert functions_emulator_client.functions.list() == []


def test_clock(functions_emulator, functions_emulator_clock):
    fn = functions_emulator.deploy(function_handle=handle)
    functions_emulator.client().functions.schedules.create(name="s", cron_expression="0 * * * *", function_id=fn.id)
    assert len(functions_emulator_clock.advance(hours=5)) == 5


def test_async_client(functions_emulator_async_client):
    assert isinstance(functions_emulator_async_client, AsyncCogniteClient)
    assert asyncio.run(functions_emulator_async_client.functions.list()) == []


@pytest.mark.asyncio
async def test_under_pytest_asyncio(functions_emulator, functions_emulator_async_client):
    fn = functions_emulator.deploy(function_handle=handle)
    call = await functions_emulator_async_client.functions.call(id=fn.id, data={"a": 1})
    assert call.status == "Completed"


@pytest.mark.anyio
async def test_under_anyio(functions_emulator_async_client):
    assert await functions_emulator_async_client.functions.list() == []


@pytest.fixture
def anyio_backend():
    return "asyncio"


def test_server(functions_emulator, functions_emulator_server):
    assert functions_emulator_server.base_url.startswith("http://127.0.0.1:")
    fn = functions_emulator.deploy(function_handle=handle)
    assert functions_emulator_server.client().functions.retrieve(id=fn.id).id == fn.id


@pytest.mark.functions_emulator(project="marked", start="2030-05-05T00:00:00Z", call_mode="background")
def test_marker(functions_emulator, functions_emulator_client):
    assert functions_emulator_client.config.project == "marked"
    assert functions_emulator.clock.now().year == 2030
    assert functions_emulator.call_mode == "background"
"""


def test_every_fixture_in_a_real_pytest_run(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_user=USER_TESTS)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q")
    result.assert_outcomes(passed=8)


def test_same_results_under_xdist(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_user=USER_TESTS)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q", "-n", "2")
    result.assert_outcomes(passed=8)


def test_ini_and_command_line_options(pytester: pytest.Pytester) -> None:
    pytester.makeini(
        """
        [pytest]
        functions_emulator_project = from-ini
        functions_emulator_start = 2031-01-01T00:00:00Z
        """
    )
    pytester.makepyfile(
        test_opts="""
        def test_opts(functions_emulator):
            assert functions_emulator.project == "from-cli"
            assert functions_emulator.clock.now().year == 2031
            assert functions_emulator.clock.mode == "virtual"
        """
    )
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "--functions-emulator-project", "from-cli"
    )
    result.assert_outcomes(passed=1)


def test_marker_rejects_positional_arguments(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_bad="""
        import pytest

        @pytest.mark.functions_emulator("oops")
        def test_bad(functions_emulator):
            pass
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    assert result.ret != 0


def test_command_line_options_take_epoch_ms_and_modes(pytester: pytest.Pytester) -> None:
    pytester.makeini(
        """
        [pytest]
        functions_emulator_clock = wall
        functions_emulator_call_mode = background
        """
    )
    pytester.makepyfile(
        test_opts="""
        import pytest

        def test_from_options(functions_emulator, functions_emulator_clock):
            assert functions_emulator.project == "emulator-project"
            assert functions_emulator_clock.mode == "virtual"  # the command line beats the ini file
            assert functions_emulator_clock.now_ms() == 1767225600000
            assert functions_emulator.call_mode == "background"  # from the ini file

        @pytest.mark.functions_emulator(clock="system", call_mode="sync", auth="strict")
        def test_marker_beats_both(functions_emulator):
            assert functions_emulator.clock.mode == "system"
            assert functions_emulator.call_mode == "sync"
            assert functions_emulator.auth.mode == "strict"  # other keywords go to FunctionsEmulator
        """
    )
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "--functions-emulator-start", "1767225600000",
        "--functions-emulator-clock", "virtual",
    )  # fmt: skip
    result.assert_outcomes(passed=2)


def test_each_test_gets_its_own_server_and_state(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_servers="""
        import socket
        seen = []

        def handle():
            return 1

        def test_one(functions_emulator, functions_emulator_server):
            functions_emulator.deploy(function_handle=handle, external_id="only-in-one")
            seen.append(functions_emulator_server.port)

        def test_two(functions_emulator_server):
            assert functions_emulator_server.client().functions.list() == []
            with socket.socket() as s:  # the first test's server was shut down
                assert s.connect_ex(("127.0.0.1", seen[0])) != 0
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-p", "no:randomly")
    result.assert_outcomes(passed=2)


def test_the_clock_starts_at_a_fixed_instant_unless_told_now(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_start="""
        import time
        import pytest

        def test_fixed(functions_emulator_clock):
            assert functions_emulator_clock.now().isoformat() == "2026-01-01T00:00:00+00:00"

        @pytest.mark.functions_emulator(start="now")
        def test_marker_now(functions_emulator_clock):
            assert abs(functions_emulator_clock.now_ms() - time.time() * 1000) < 60_000
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)
    pytester.makepyfile(
        test_start="""
        import time

        def test_now_from_the_command_line(functions_emulator_clock):
            assert abs(functions_emulator_clock.now_ms() - time.time() * 1000) < 60_000
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--functions-emulator-start", "NOW")
    result.assert_outcomes(passed=1)


def test_one_default_project_for_the_plugin_the_emulator_and_the_server() -> None:
    from emulator.cli import build_parser
    from emulator.emulator import DEFAULT_PROJECT
    from pytest_plugin.plugin import SETTINGS

    assert SETTINGS["project"][1] == DEFAULT_PROJECT == build_parser().parse_args(["serve"]).project
