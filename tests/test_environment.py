"""Per-call environment variables (issue 14): each call its own, nothing leaks either way."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

from cognite.client import CogniteClient

from emulator import FunctionsEmulator
from tests.test_functions import create_from_zip

READER = (
    "import os\n"
    "def handle(data):\n"
    "    os.environ['SET_BY_' + os.environ['WHO']] = '1'\n"
    "    os.environ.pop('EMULATOR_TEST_SHARED', None)\n"
    "    return {'who': os.environ['WHO'], 'secret': os.getenv('SECRET_OF_A'),\n"
    "            'others': sorted(k for k in os.environ if k.startswith('SET_BY_') and k != 'SET_BY_' + os.environ['WHO'])}\n"
)


def test_concurrent_calls_each_see_their_own_env(emu: FunctionsEmulator, any_client: CogniteClient) -> None:
    os.environ["EMULATOR_TEST_SHARED"] = "the test's"
    try:
        a = create_from_zip(
            any_client, {"handler.py": READER}, env_vars={"WHO": "A", "SECRET_OF_A": "s3cr3t"}
        )
        b = create_from_zip(any_client, {"handler.py": READER}, env_vars={"WHO": "B"})
        fns = {"A": a, "B": b}

        def call(name: str) -> tuple[str, object]:
            return name, fns[name].call(data={}).get_response()

        with ThreadPoolExecutor(8) as pool:
            results = list(pool.map(call, ["A", "B"] * 100))
        for name, response in results:
            assert response == {"who": name, "secret": "s3cr3t" if name == "A" else None, "others": []}
        # Nothing a handler set or removed reached the test process.
        assert not [k for k in os.environ if k.startswith(("SET_BY_", "SECRET_OF_A", "WHO"))]
        assert os.environ["EMULATOR_TEST_SHARED"] == "the test's"
    finally:
        os.environ.pop("EMULATOR_TEST_SHARED", None)


def test_scheduled_runs_see_their_own_env(emu: FunctionsEmulator, any_client: CogniteClient) -> None:
    a = create_from_zip(any_client, {"handler.py": READER}, env_vars={"WHO": "A", "SECRET_OF_A": "s"})
    b = create_from_zip(any_client, {"handler.py": READER}, env_vars={"WHO": "B"})
    for fn in (a, b):
        any_client.functions.schedules.create(name="m", cron_expression="* * * * *", function_id=fn.id)
    fired = emu.clock.advance(minutes=3)
    responses = [call.get_response() for call in fired]
    assert [r["who"] for r in responses] == ["A", "B"] * 3
    assert all(r["secret"] == ("s" if r["who"] == "A" else None) for r in responses)
    assert "SET_BY_A" not in os.environ and "WHO" not in os.environ
