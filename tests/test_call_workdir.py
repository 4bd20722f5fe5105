"""A call's working directory (issue 14): its function's own folder, never the process's."""

from __future__ import annotations

import os
import sys
import threading
import types
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from cognite.client import CogniteClient

from emulator import FunctionsEmulator
from tests.test_functions import create_from_zip

READER = (
    "import os\n"
    "from pathlib import Path\n"
    "import emulator_test_meet as meet\n"
    "def handle(data):\n"
    "    meet.both_inside.wait(30)  # the two calls overlap from here\n"
    "    if data.get('wander'):\n"
    "        os.chdir('/')\n"
    "    meet.wandered.wait(30)\n"
    "    mine = open('data.txt').read() if not data.get('wander') else None\n"
    "    meet.done.wait(30)\n"
    "    return {'open': mine, 'pathlib': Path(__file__).with_name('data.txt').read_text(),\n"
    "            'cwd': os.getcwd(), 'folder': str(Path(__file__).parent)}\n"
)


@pytest.fixture
def meet() -> Iterator[types.ModuleType]:
    """Barriers the functions import, so that two calls are surely inside at the same time."""
    module = types.ModuleType("emulator_test_meet")
    module.both_inside = threading.Barrier(3)  # type: ignore[attr-defined]  # two calls and the test
    module.wandered = threading.Barrier(3)  # type: ignore[attr-defined]
    module.done = threading.Barrier(3)  # type: ignore[attr-defined]
    sys.modules[module.__name__] = module
    yield module
    for barrier in (module.both_inside, module.wandered, module.done):  # type: ignore[attr-defined]
        barrier.abort()
    sys.modules.pop(module.__name__, None)


def test_overlapping_calls_each_read_their_own_relative_file(
    emu: FunctionsEmulator, sdk: CogniteClient, meet: types.ModuleType
) -> None:
    before = os.getcwd()
    fns = {
        name: create_from_zip(sdk, {"handler.py": READER, "data.txt": f"data of {name}"}, name=name)
        for name in ("a", "b")
    }
    with ThreadPoolExecutor(2) as pool:
        futures = {
            "a": pool.submit(lambda: fns["a"].call(data={}).get_response()),
            "b": pool.submit(lambda: fns["b"].call(data={"wander": True}).get_response()),
        }
        meet.both_inside.wait(30)
        assert os.getcwd() == before  # the test's directory never moves
        meet.wandered.wait(30)  # b has moved to '/', a reads its relative file now
        assert os.getcwd() == before
        meet.done.wait(30)
        a, b = futures["a"].result(30), futures["b"].result(30)
    assert a["open"] == "data of a" and a["pathlib"] == "data of a"
    assert a["cwd"] == a["folder"]  # a call starts in its function's unpacked folder
    assert b["pathlib"] == "data of b" and b["cwd"] == "/"
    assert os.getcwd() == before


REMOVER = (
    "import os, shutil, tempfile\n"
    "def handle():\n"
    "    folder = tempfile.mkdtemp()\n"
    "    os.chdir(folder)\n"
    "    shutil.rmtree(folder)\n"
    "    return 'removed my own directory'\n"
)
PLAIN = "def handle():\n    return open('data.txt').read()\n"


def test_a_call_that_removes_its_directory_harms_no_other(emu: FunctionsEmulator, sdk: CogniteClient) -> None:
    before = os.getcwd()
    remover = create_from_zip(sdk, {"handler.py": REMOVER}, name="remover")
    plain = create_from_zip(sdk, {"handler.py": PLAIN, "data.txt": "still here"}, name="plain")
    with ThreadPoolExecutor(4) as pool:
        jobs = [pool.submit(lambda f=fn: f.call().get_response()) for fn in [remover, plain] * 20]
        results = [job.result(60) for job in jobs]
    assert results == ["removed my own directory", "still here"] * 20
    assert os.getcwd() == before


def test_scheduled_runs_start_in_their_function_folder(emu: FunctionsEmulator, sdk: CogniteClient) -> None:
    before = os.getcwd()
    for name in ("x", "y"):
        fn = create_from_zip(sdk, {"handler.py": PLAIN, "data.txt": f"file of {name}"}, name=name)
        sdk.functions.schedules.create(name=name, cron_expression="* * * * *", function_id=fn.id)
    fired = emu.clock.advance(minutes=2)
    assert [call.get_response() for call in fired] == ["file of x", "file of y"] * 2
    assert os.getcwd() == before
