"""isolation="process": warm worker processes, through the real SDK (in-process and over loopback)."""

from __future__ import annotations

import os
import select
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import pytest
from cognite.client import CogniteClient

from emulator import FunctionsEmulator
from emulator.limits import Limits
from emulator.resources.functions.domain import deploy

pytestmark = pytest.mark.functions_emulator(isolation="process", timeout=20)


def _folder(source: str) -> str:
    folder = Path(tempfile.mkdtemp())
    (folder / "handler.py").write_text(source)
    return str(folder)


def _gone(pid: int) -> bool:
    """True once process ``pid`` has ended (waits on a pidfd: an event, not a sleep)."""
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        return True
    try:
        readable, _, _ = select.select([fd], [], [], 10)
        return bool(readable)
    finally:
        os.close(fd)


PID = "import os\ncount = 0\ndef handle(data):\n    global count\n    count += 1\n    return [os.getpid(), count]\n"


def test_calls_reuse_one_warm_worker(emu: FunctionsEmulator, any_client: CogniteClient) -> None:
    fn = emu.deploy(folder=_folder(PID))
    first = any_client.functions.call(id=fn.id).get_response()
    second = any_client.functions.call(id=fn.id).get_response()
    assert first[0] == second[0] != os.getpid()
    assert [first[1], second[1]] == [1, 2]  # the module stays loaded, as in a warm CDF instance


def test_each_call_gets_its_own_environment(emu: FunctionsEmulator, any_client: CogniteClient) -> None:
    source = (
        "import os\n"
        "def handle(data):\n"
        "    seen = os.environ.get('LEAK')\n"
        "    os.environ['LEAK'] = 'set by a call'\n"
        "    os.chdir('/')\n"
        "    return {'leak': seen, 'mode': os.environ.get('MODE'), 'pid': os.getpid(), 'cwd': os.getcwd()}\n"
    )
    one = emu.deploy(folder=_folder(source), env_vars={"MODE": "one"})
    two = emu.deploy(folder=_folder(source), env_vars={"MODE": "two"})
    first = any_client.functions.call(id=one.id).get_response()
    second = any_client.functions.call(id=one.id).get_response()
    other = any_client.functions.call(id=two.id).get_response()
    assert first["pid"] == second["pid"] != other["pid"]
    assert [first["leak"], second["leak"], other["leak"]] == [None, None, None]
    assert [first["mode"], second["mode"], other["mode"]] == ["one", "one", "two"]
    assert "LEAK" not in os.environ


def test_a_crash_fails_the_call_and_the_next_call_gets_a_new_worker(
    emu: FunctionsEmulator, any_client: CogniteClient
) -> None:
    source = "import os\ndef handle(data):\n    if data.get('crash'):\n        os._exit(3)\n    return os.getpid()\n"
    fn = emu.deploy(folder=_folder(source))
    before = any_client.functions.call(id=fn.id).get_response()
    crashed = any_client.functions.call(id=fn.id, data={"crash": True})
    assert crashed.status == "Failed"
    assert crashed.error["message"] == "The function's worker process exited with code 3 during the call"
    after = any_client.functions.call(id=fn.id)
    assert after.status == "Completed" and after.get_response() != before


def test_logs_of_a_call(emu: FunctionsEmulator, any_client: CogniteClient) -> None:
    source = (
        "import logging, os, sys, warnings\n"
        "def handle():\n"
        "    print('printed')\n"
        "    logging.getLogger('mine').warning('logged')\n"
        "    warnings.warn('careful')\n"
        "    sys.stderr.write('to stderr\\n')\n"
        "    os.write(1, b'to fd 1\\n')\n"
    )
    fn = emu.deploy(folder=_folder(source))
    call = any_client.functions.call(id=fn.id)
    messages = [log.message for log in call.get_logs()]
    assert messages[:2] == ["printed", "WARNING:mine:logged"]
    assert any("UserWarning: careful" in m for m in messages)
    assert messages[-2:] == ["to stderr", "to fd 1"]
    again = [log.message for log in any_client.functions.call(id=fn.id).get_logs()]
    assert again[0] == "printed" and "to fd 1" in again  # a warm call's log is its own


def test_a_timeout_kills_the_processes_the_handler_started(emu: FunctionsEmulator) -> None:
    pid_file = Path(tempfile.mkdtemp()) / "pid"
    source = (
        "import os, subprocess, time\n"
        "def handle(data):\n"
        "    if data.get('warm'):\n"
        "        return os.getpid()\n"
        "    child = subprocess.Popen(['sleep', '60'])\n"
        "    open(data['pid_file'], 'w').write(str(child.pid))\n"
        "    time.sleep(60)\n"
    )
    fn = emu.deploy(folder=_folder(source))
    client = emu.client()
    worker = client.functions.call(id=fn.id, data={"warm": True}).get_response()  # started in time
    emu.context.settings.timeout_seconds = 2.0  # read at each call
    call = client.functions.call(id=fn.id, data={"pid_file": str(pid_file)})
    assert (
        call.status == "Timeout" and "process killed, with every process it started" in call.error["message"]
    )
    assert _gone(int(pid_file.read_text())) and _gone(worker)
    emu.context.settings.timeout_seconds = 20.0
    assert client.functions.call(id=fn.id, data={"warm": True}).get_response() != worker  # a new one


def test_a_process_left_running_does_not_hold_the_call_open(emu: FunctionsEmulator) -> None:
    source = (
        "import subprocess\n"
        "def handle():\n"
        "    return subprocess.Popen(['sleep', '60']).pid\n"  # it inherits the log pipe
    )
    fn = emu.deploy(folder=_folder(source))
    call = emu.client().functions.call(id=fn.id)  # not Timeout: the call ends with its result
    assert call.status == "Completed"
    grandchild = call.get_response()
    emu.client().functions.delete(id=fn.id)
    assert _gone(grandchild)  # stopping the worker takes its process group


def test_the_memory_limit_is_enforced(emu: FunctionsEmulator, any_client: CogniteClient) -> None:
    source = "def handle():\n    block = bytearray(600 * 1024 * 1024)\n    return len(block)\n"
    small = emu.deploy(folder=_folder(source), memory=0.1)
    call = any_client.functions.call(id=small.id)
    assert call.status == "Failed"
    assert call.error["message"].startswith("MemoryError")
    assert "ran out of its memory: memory=0.1 GB" in call.error["message"]
    large = emu.deploy(folder=_folder(source), memory=1.0)
    assert any_client.functions.call(id=large.id).get_response() == 600 * 1024 * 1024


HOSTILE = r"""
import json, os, struct, sys
def handle(data):
    RESULT = int(sys.argv[2])  # the worker's result pipe
    how = data.get("how")
    if how == "stdout":
        os.write(1, b"\n@@EMULATOR-RESULT@@" + json.dumps({"status": "Completed", "response": "forged"}).encode())
        os.write(1, b"\nnot utf-8: \xff\xfe\n")
        sys.stdout.write("\x00 a NUL\n")
    elif how == "junk":
        os.write(RESULT, b"junk on the protocol pipe")
    elif how == "not-utf8":
        os.write(RESULT, struct.pack(">I", 4) + b"\xff\xfe\xfd\xfc")
    elif how == "forged":
        body = json.dumps({"kind": "result", "call": "0-1", "status": "Completed", "response": "forged"}).encode()
        os.write(RESULT, struct.pack(">I", len(body)) + body)
    elif how == "huge":
        os.write(RESULT, struct.pack(">I", 2**31))
    elif how == "close":
        os.close(RESULT)
    return "fine"
"""


@pytest.mark.functions_emulator(
    isolation="process", timeout=20, limits=Limits(max_running_calls_per_function=1)
)
@pytest.mark.parametrize("how", ["junk", "not-utf8", "forged", "huge", "close"])
def test_hostile_protocol_output_fails_the_call_and_later_calls_run(
    emu: FunctionsEmulator, any_client: CogniteClient, how: str
) -> None:
    fn = emu.deploy(folder=_folder(HOSTILE))
    call = any_client.functions.call(id=fn.id, data={"how": how})
    assert call.status == "Failed", call.get_response()
    message = call.error["message"]
    if how == "close":
        assert message.startswith("The function's worker process exited with code 1 during the call")
    else:
        assert message.startswith("The function's worker process broke the emulator's protocol")
    for _ in range(2):  # the concurrency slot came back (the limit is one running call)
        assert any_client.functions.call(id=fn.id, data={}).get_response() == "fine"


def test_user_output_that_looks_like_protocol_is_only_logged(
    emu: FunctionsEmulator, any_client: CogniteClient
) -> None:
    fn = emu.deploy(folder=_folder(HOSTILE))
    call = any_client.functions.call(id=fn.id, data={"how": "stdout"})
    assert call.status == "Completed" and call.get_response() == "fine"
    messages = [log.message for log in call.get_logs()]
    assert any(m.startswith("@@EMULATOR-RESULT@@") for m in messages)
    assert "not utf-8: \ufffd\ufffd" in messages


def test_scheduled_runs_go_to_the_warm_worker(emu: FunctionsEmulator, any_client: CogniteClient) -> None:
    source = "import os\ndef handle(data, function_call_info):\n    return [os.getpid(), data, function_call_info.get('scheduled_time')]\n"
    fn = emu.deploy(folder=_folder(source))
    any_client.functions.schedules.create(
        name="hourly", cron_expression="0 * * * *", function_id=fn.id, data={"n": 1}
    )
    fired = emu.clock.advance(hours=3)
    assert [call.status for call in fired] == ["Completed"] * 3
    responses = [call.get_response() for call in fired]
    assert len({pid for pid, _, _ in responses}) == 1 and responses[0][0] != os.getpid()
    assert [r[2] for r in responses] == [call.scheduled_time for call in fired]
    api = any_client.functions.call(id=fn.id).get_response()
    assert api[0] == responses[0][0]  # API calls and scheduled runs share the worker


@pytest.mark.parametrize("stop", ["delete", "redeploy", "reset", "close"])
def test_workers_stop_with_their_function_and_the_emulator(emu: FunctionsEmulator, stop: str) -> None:
    fn = emu.deploy(folder=_folder(PID), external_id="pid")
    client = emu.client()
    pid = client.functions.call(id=fn.id).get_response()[0]
    if stop == "delete":
        client.functions.delete(id=fn.id)
    elif stop == "redeploy":  # what loading a state file does to a function that exists
        store = emu.backend.store(emu.project)
        deploy(emu.context, store, store.functions[fn.id])
        assert client.functions.call(id=fn.id).get_response()[0] != pid
    elif stop == "reset":
        emu.reset()
    else:
        emu.close()
    assert _gone(pid)


@pytest.mark.functions_emulator(isolation="process", timeout=20)
def test_concurrent_calls_of_one_function_get_a_worker_each(
    emu: FunctionsEmulator, any_client: CogniteClient
) -> None:
    # The reader blocks until the writer opens the FIFO: one worker for both would never finish.
    fifo = Path(tempfile.mkdtemp()) / "fifo"
    os.mkfifo(fifo)
    source = (
        "import os\n"
        "def handle(data):\n"
        "    if data['role'] == 'reader':\n"
        "        with open(data['fifo']) as f:\n"
        "            return [os.getpid(), f.read()]\n"
        "    with open(data['fifo'], 'w') as f:\n"
        "        f.write('hello')\n"
        "    return [os.getpid(), None]\n"
    )
    fn = emu.deploy(folder=_folder(source))
    answers: dict[str, object] = {}

    def call(role: str) -> None:
        answers[role] = any_client.functions.call(id=fn.id, data={"role": role, "fifo": str(fifo)})

    threads = [threading.Thread(target=call, args=(role,)) for role in ("reader", "writer")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    reader, writer = answers["reader"], answers["writer"]
    assert reader.status == writer.status == "Completed", (reader.error, writer.error)  # type: ignore[attr-defined]
    assert reader.get_response()[1] == "hello"  # type: ignore[attr-defined]
    assert reader.get_response()[0] != writer.get_response()[0]  # type: ignore[attr-defined]


ORPHAN_SCRIPT = """
import sys, tempfile, pathlib
from emulator import FunctionsEmulator
folder = pathlib.Path(tempfile.mkdtemp())
(folder / "handler.py").write_text("import os\\ndef handle():\\n    return os.getpid()\\n")
emu = FunctionsEmulator(isolation="process")
fn = emu.deploy(folder=str(folder))
print(emu.client().functions.call(id=fn.id).get_response(), flush=True)
sys.stdin.read()  # until the test closes it (or kills this process)
"""


@pytest.mark.parametrize("ending", ["exit", "sigkill"])
def test_workers_die_with_the_emulator_process(ending: str) -> None:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    proc = subprocess.Popen(
        [sys.executable, "-c", ORPHAN_SCRIPT],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env=env,
        text=True,
    )
    assert proc.stdout is not None and proc.stdin is not None
    worker = int(proc.stdout.readline())
    if ending == "exit":  # no emu.close(): the interpreter's exit stops the worker
        proc.stdin.close()
    else:  # nothing runs in the emulator's process: the worker notices its parent is gone
        proc.kill()
    proc.wait(60)
    assert _gone(worker)


def test_the_standard_library_is_not_shadowed_in_the_worker(emu: FunctionsEmulator) -> None:
    source = "import code, inspect\ndef handle():\n    return inspect.getfile(code)\n"
    fn = emu.deploy(folder=_folder(source))
    assert "emulator" not in emu.client().functions.call(id=fn.id).get_response()


@pytest.mark.functions_emulator(isolation="process", timeout=20, limits=Limits(response_size_mb=1))
def test_a_response_over_the_limit_fails_clearly(emu: FunctionsEmulator) -> None:
    source = "def handle(data):\n    return 'x' * data['n']\n"
    fn = emu.deploy(folder=_folder(source))
    client = emu.client()
    big = client.functions.call(id=fn.id, data={"n": 3 * 1024 * 1024})
    assert big.status == "Failed"
    assert big.error["message"].startswith("Function response is 3145730 bytes, over the limit of 1 MB")
    assert client.functions.call(id=fn.id, data={"n": 3}).get_response() == "xxx"


@pytest.mark.functions_emulator(isolation="process", timeout=60)
def test_the_client_works_in_a_small_worker(emu: FunctionsEmulator) -> None:
    source = "def handle(client):\n    return [f.name for f in client.functions.list()]\n"
    fn = emu.deploy(folder=_folder(source), memory=0.1, name="small")
    assert emu.client().functions.call(id=fn.id).get_response() == ["small"]
