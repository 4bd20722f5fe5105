"""Handler debugging (issue 16): with code_from="source" the deployed snapshot runs under the
user's own file names, so breakpoints in the user's handler.py are hit and tracebacks name it."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from types import FrameType
from typing import Any

import pytest
from cognite.client import CogniteClient

from emulator import FunctionsEmulator

HANDLER = (
    "from helper import explode\n"
    "def handle(data):\n"
    "    value = data.get('value', 'v1')\n"
    "    if data.get('fail'):\n"
    "        explode()\n"
    "    return {'value': value, 'file': __file__}\n"
)
HELPER = "def explode():\n    raise ValueError('from the helper')\n"


def _function_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "functions" / "my_function"
    folder.mkdir(parents=True)
    (folder / "handler.py").write_text(HANDLER)
    (folder / "helper.py").write_text(HELPER)
    return folder


@pytest.fixture(params=["in-process", "loopback"])
def source_emu(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[FunctionsEmulator, CogniteClient]]:
    """An emulator with code_from="source" that finds folders under tmp_path, and a client of it."""
    emu = FunctionsEmulator(code_from="source", source_roots=[tmp_path])
    if request.param == "in-process":
        yield emu, emu.client()
    else:
        with emu.serve(port=0) as server:
            yield emu, server.client()
    emu.close()


def test_tracebacks_name_the_users_files_when_the_sdk_zipped_the_folder(
    source_emu: tuple[FunctionsEmulator, CogniteClient], tmp_path: Path
) -> None:
    emu, client = source_emu
    folder = _function_folder(tmp_path)
    fn = client.functions.create(name="dbg", folder=str(folder))
    call = fn.call(data={"fail": True})
    assert call.status == "Failed"
    trace = call.error["trace"]
    assert f'File "{folder / "handler.py"}", line 5, in handle' in trace, trace
    assert f'File "{folder / "helper.py"}", line 2, in explode' in trace, trace
    # The code is still the deployed snapshot: __file__ is the copy, and editing the source
    # changes nothing until the next deployment, as in CDF.
    (folder / "handler.py").write_text(HANDLER.replace("'v1'", "'edited'"))
    response = fn.call(data={}).get_response()
    assert response["value"] == "v1"
    assert Path(response["file"]).is_relative_to(emu.workdir)


def test_a_breakpoint_in_the_users_handler_is_hit(
    source_emu: tuple[FunctionsEmulator, CogniteClient], tmp_path: Path
) -> None:
    emu, client = source_emu
    folder = _function_folder(tmp_path)
    fn = client.functions.create(name="dbg", folder=str(folder))
    client.functions.schedules.create(name="s", cron_expression="* * * * *", function_id=fn.id)
    hits: list[tuple[str, int]] = []

    def tracer(frame: FrameType, event: str, arg: Any) -> Any:  # what a debugger's breakpoints match
        if event == "line":
            hits.append((frame.f_code.co_filename, frame.f_lineno))
        return tracer

    # Scheduled runs run in the thread that moves the clock: this one, traced as a debugger would.
    sys.settrace(tracer)
    try:
        (run,) = emu.clock.advance(minutes=1)
    finally:
        sys.settrace(None)
    assert run.status == "Completed", run.error
    assert (str(folder / "handler.py"), 3) in hits  # "value = data.get(...)": a breakpoint there is hit


def test_snapshot_is_the_default(emu: FunctionsEmulator, tmp_path: Path) -> None:
    folder = _function_folder(tmp_path)
    fn = emu.client().functions.create(name="dbg", folder=str(folder))
    trace = fn.call(data={"fail": True}).error["trace"]
    assert str(folder) not in trace and str(emu.workdir) in trace


def test_deploy_from_a_folder_with_code_from_source(emu: FunctionsEmulator, tmp_path: Path) -> None:
    folder = _function_folder(tmp_path)
    fn = emu.deploy(folder=folder, code_from="source")
    trace = fn.call(data={"fail": True}).error["trace"]
    assert f'File "{folder / "helper.py"}", line 2, in explode' in trace, trace


def test_only_identical_files_are_named_after_the_source(tmp_path: Path) -> None:
    folder = _function_folder(tmp_path)
    elsewhere = tmp_path / "elsewhere"  # the same handler.py, another helper.py
    elsewhere.mkdir()
    (elsewhere / "handler.py").write_text(HANDLER)
    (elsewhere / "helper.py").write_text(HELPER.replace("from the helper", "changed"))
    emu = FunctionsEmulator(code_from="source", source_roots=[elsewhere])
    fn = emu.client().functions.create(name="dbg", folder=str(folder))
    trace = fn.call(data={"fail": True}).error["trace"]
    assert f'File "{elsewhere / "handler.py"}", line 5, in handle' in trace, trace
    assert str(elsewhere / "helper.py") not in trace and str(emu.workdir) in trace  # a snapshot name
    emu.close()
