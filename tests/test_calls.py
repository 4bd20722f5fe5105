"""Calls: handle() runs in-process as CDF runs it, through the real SDK."""

from __future__ import annotations

import os
import time

import pytest
from cognite.client import CogniteClient
from cognite.client.exceptions import CogniteAPIError

from emulator import FunctionsEmulator, Limits
from tests.conftest import fixture_folder

START_MS = 1767225600000


def test_each_argument_combination(emu: FunctionsEmulator, client: CogniteClient) -> None:
    sources = {
        "none": "def handle():\n    return 'nothing'\n",
        "data": "def handle(data):\n    return data\n",
        "secrets": "def handle(secrets):\n    return secrets\n",
        "info": "def handle(function_call_info):\n    return function_call_info\n",
        "client": "def handle(client):\n    return client.config.project\n",
        "all": "def handle(client, data, secrets, function_call_info):\n"
        "    return [client.config.project, data, secrets, sorted(function_call_info)]\n",
        "reordered": "def handle(function_call_info, data):\n    return data['x']\n",
    }
    results = {}
    for name, source in sources.items():
        fn = emu.deploy(folder=_folder(name, source), external_id=name, secrets={"key": "value"})
        call = client.functions.call(id=fn.id, data={"x": 1})
        assert call.status == "Completed", call.error
        results[name] = (call.get_response(), call.id, fn.id)
    assert results["none"][0] == "nothing"
    assert results["data"][0] == {"x": 1}
    assert results["secrets"][0] == {"key": "value"}  # unmasked inside the handler
    response, call_id, fn_id = results["info"]
    assert response == {"function_id": fn_id, "call_id": call_id}
    assert results["client"][0] == "test-project"
    assert results["all"][0] == ["test-project", {"x": 1}, {"key": "value"}, ["call_id", "function_id"]]
    assert results["reordered"][0] == 1


def _folder(name: str, source: str) -> str:
    import tempfile
    from pathlib import Path

    folder = Path(tempfile.mkdtemp(prefix=f"fn-{name}-"))
    (folder / "handler.py").write_text(source)
    return str(folder)


def test_nested_json_round_trip(emu: FunctionsEmulator, client: CogniteClient) -> None:
    fn = emu.deploy(folder=fixture_folder("echo"))
    data = {"a": [1, 2.5, None, True, {"b": {"c": ["ü", "😀", ""]}}], "empty": {}, "n": -(2**53)}
    assert client.functions.call(id=fn.id, data=data).get_response()["data"] == data


def test_sync_call_is_final_when_the_post_answers(emu: FunctionsEmulator, client: CogniteClient) -> None:
    fn = emu.deploy(folder=fixture_folder("hello"))
    started = time.monotonic()
    call = client.functions.call(id=fn.id, data={"name": "x"}, wait=False)
    assert call.status == "Completed" and call.start_time == call.end_time == START_MS
    assert time.monotonic() - started < 1.0  # the SDK's wait never slept
    assert client.functions.retrieve(id=fn.id).last_called == START_MS


def test_logs_of_print_stderr_and_logging(emu: FunctionsEmulator, client: CogniteClient) -> None:
    source = (
        "import logging, sys\n"
        "def handle():\n"
        "    print('line one')\n"
        "    print('two\\nthree')\n"
        "    sys.stderr.write('to stderr\\n')\n"
        "    logging.getLogger('mine').warning('a warning')\n"
        "    print('no newline', end='')\n"
    )
    fn = emu.deploy(folder=_folder("logs", source))
    call = client.functions.call(id=fn.id)
    logs = call.get_logs()
    assert [entry.message for entry in logs] == [
        "line one",
        "two",
        "three",
        "to stderr",
        "WARNING:mine:a warning",
        "no newline",
    ]
    assert all(entry.timestamp == START_MS for entry in logs)


def test_the_log_cap(client: CogniteClient) -> None:
    emu = FunctionsEmulator(limits=Limits(max_log_lines=5))
    fn = emu.deploy(folder=_folder("flood", "def handle():\n    for i in range(100):\n        print(i)\n"))
    logs = emu.client().functions.call(id=fn.id).get_logs()
    assert [e.message for e in logs][:5] == ["0", "1", "2", "3", "4"]
    assert "95 more line(s)" in logs[-1].message and len(logs) == 6
    emu.close()


def test_env_vars_are_visible_and_restored(emu: FunctionsEmulator, client: CogniteClient) -> None:
    source = "import os\ndef handle():\n    os.environ['LEAK'] = 'yes'\n    return os.environ.get('MODE')\n"
    fn = emu.deploy(folder=_folder("env", source), env_vars={"MODE": "emulated"})
    assert client.functions.call(id=fn.id).get_response() == "emulated"
    assert "MODE" not in os.environ and "LEAK" not in os.environ


def test_exception_is_failed_with_the_users_traceback(emu: FunctionsEmulator, client: CogniteClient) -> None:
    fn = emu.deploy(folder=fixture_folder("failing"))
    call = client.functions.call(id=fn.id, data={"reason": "testing"})
    assert call.status == "Failed"
    assert call.error["message"] == "ValueError: boom: testing"
    assert "_explode" in call.error["trace"] and "handler.py" in call.error["trace"]
    assert "emulator/execution/" not in call.error["trace"]
    assert [e.message for e in call.get_logs()] == ["about to fail"]
    assert call.get_response() is None


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("return object()", "not JSON serializable"),
        ("return {1, 2}", "not JSON serializable"),
        ("return float('nan')", "not JSON serializable"),
        ("return 'x' * (2 * 1024 * 1024)", "over the limit"),
        ("raise SystemExit(3)", "sys.exit(3)"),
        ("raise KeyboardInterrupt()", "KeyboardInterrupt"),
        ("import not_installed_anywhere", "ModuleNotFoundError"),
    ],
)
def test_bad_outcomes_are_failed_calls(
    emu: FunctionsEmulator, client: CogniteClient, body: str, message: str
) -> None:
    fn = emu.deploy(folder=_folder("bad", f"def handle():\n    {body}\n"))
    call = client.functions.call(id=fn.id)
    assert call.status == "Failed" and message in call.error["message"]
    ok = emu.deploy(folder=fixture_folder("hello"))
    assert client.functions.call(id=ok.id).status == "Completed"  # the emulator keeps serving


def test_any_json_value_is_a_valid_response(emu: FunctionsEmulator, client: CogniteClient) -> None:
    for value in ("None", "[1, 2]", "3.5", "'text'", "True"):
        fn = emu.deploy(folder=_folder("value", f"def handle():\n    return {value}\n"))
        assert client.functions.call(id=fn.id).get_response() == eval(value)


def test_timeout() -> None:
    emu = FunctionsEmulator(timeout=0.3)
    client = emu.client()
    fn = emu.deploy(folder=fixture_folder("slow"))
    started = time.monotonic()
    call = client.functions.call(id=fn.id, data={"seconds": 3})
    assert call.status == "Timeout" and "timed out after 0.3 seconds" in call.error["message"]
    assert time.monotonic() - started < 2.5
    assert client.functions.call(id=fn.id, data={"seconds": 0}).status == "Completed"
    emu.close()


def test_background_mode_with_wait_false_then_update_and_wait() -> None:
    emu = FunctionsEmulator(call_mode="background")
    client = emu.client()
    fn = emu.deploy(folder=fixture_folder("slow"))
    call = client.functions.call(id=fn.id, data={"seconds": 0.3}, wait=False)
    assert call.status == "Running" and call.end_time is None
    assert [c.id for c in client.functions.calls.list(function_id=fn.id, status="Running")] == [call.id]
    call.wait()
    assert call.status == "Completed" and call.get_response() == {"slept": 0.3}
    second = client.functions.call(id=fn.id, data={"seconds": 0.1}, wait=False)
    deadline = time.monotonic() + 10
    while second.status == "Running" and time.monotonic() < deadline:
        time.sleep(0.05)
        second.update()
    assert second.status == "Completed"
    emu.close()


def test_calls_list_filters_and_pagination(emu: FunctionsEmulator, client: CogniteClient) -> None:
    fn = emu.deploy(folder=fixture_folder("failing"))
    ok = emu.deploy(folder=fixture_folder("hello"))
    ids = []
    for _ in range(5):
        emu.clock.advance(seconds=10)
        ids.append(client.functions.call(id=fn.id, data={}).id)
    client.functions.call(id=ok.id)
    assert [c.id for c in client.functions.calls.list(function_id=fn.id, limit=-1)] == ids
    assert len(client.functions.calls.list(function_id=fn.id, status="Failed", limit=-1)) == 5
    assert client.functions.calls.list(function_id=fn.id, status="Completed", limit=-1) == []
    window = client.functions.calls.list(
        function_id=fn.id, start_time={"min": START_MS + 20_000, "max": START_MS + 40_000}
    )
    assert [c.id for c in window] == ids[1:4]
    assert [
        c.id for c in client.functions.calls.list(function_id=fn.id, end_time={"max": START_MS + 10_000})
    ] == ids[:1]
    first_page = client.functions.calls.list(function_id=fn.id, limit=2)
    assert [c.id for c in first_page] == ids[:2]
    assert client.functions.calls.retrieve(call_id=ids[2], function_id=fn.id).id == ids[2]
    assert client.functions.calls.retrieve(call_id=ids[2], function_id=ok.id) is None  # not ok's call


def test_a_handler_calling_another_function_does_not_deadlock(
    emu: FunctionsEmulator, client: CogniteClient
) -> None:
    emu.deploy(folder=fixture_folder("hello"), external_id="hello")
    caller = emu.deploy(folder=fixture_folder("uses_client"), external_id="caller")
    call = client.functions.call(id=caller.id, data={"call": "hello", "payload": {"name": "inner"}})
    assert call.status == "Completed", call.error
    response = call.get_response()
    assert response["functions"] == ["caller", "hello"]
    assert response["inner"] == {"status": "Completed", "response": {"greeting": "Hello, inner!"}}


def test_handler_client_hook() -> None:
    seen = []

    def factory(project: str) -> str:
        seen.append(project)
        return f"my double for {project}"

    emu = FunctionsEmulator(handler_client=factory)
    fn = emu.deploy(folder=_folder("hook", "def handle(client):\n    return client\n"))
    assert emu.client().functions.call(id=fn.id).get_response() == "my double for emulator-project"
    assert seen == ["emulator-project"]
    emu.close()


def test_same_named_modules_of_two_functions_stay_apart(
    emu: FunctionsEmulator, client: CogniteClient
) -> None:
    import tempfile
    from pathlib import Path

    folders = []
    for name in ("a", "b"):
        folder = Path(tempfile.mkdtemp())
        (folder / "helper.py").write_text(f"NAME = '{name}'\nCOUNT = []\n")
        (folder / "handler.py").write_text(
            "import helper\n\ndef handle():\n    helper.COUNT.append(1)\n    return [helper.NAME, len(helper.COUNT)]\n"
        )
        folders.append(str(folder))
    a = emu.deploy(folder=folders[0])
    b = emu.deploy(folder=folders[1])
    assert client.functions.call(id=a.id).get_response() == ["a", 1]
    assert client.functions.call(id=b.id).get_response() == ["b", 1]  # b's globals are its own
    assert client.functions.call(id=a.id).get_response() == ["a", 2]  # a warm instance keeps its globals
    assert "helper" not in __import__("sys").modules


def test_concurrency_limit_is_a_429_that_the_sdk_retries() -> None:
    from cognite.client import global_config

    emu = FunctionsEmulator(call_mode="background", limits=Limits(max_running_calls_per_function=1))
    client = emu.client()
    fn = emu.deploy(folder=fixture_folder("slow"))
    first = client.functions.call(id=fn.id, data={"seconds": 0.5}, wait=False)
    saved = global_config.max_retries
    global_config.max_retries = 0
    try:
        with pytest.raises(CogniteAPIError) as err:
            client.functions.call(id=fn.id, data={"seconds": 0}, wait=False)
        assert err.value.code == 429
    finally:
        global_config.max_retries = saved
    second = client.functions.call(id=fn.id, data={"seconds": 0}, wait=False)  # retried until first ends
    second.wait()
    first.update()
    assert first.status == "Completed" and second.status == "Completed"
    emu.close()


def test_calling_unknown_function_or_without_nonce(client: CogniteClient) -> None:
    with pytest.raises(CogniteAPIError) as err:
        client.functions.call(id=123456)
    assert err.value.code == 400
    with pytest.raises(CogniteAPIError) as err:
        client.post(f"/api/v1/projects/{client.config.project}/functions/1/call", json={"data": {}})
    assert err.value.code == 400


@pytest.mark.asyncio
async def test_async_client_calls(emu: FunctionsEmulator) -> None:
    aclient = emu.async_client()
    emu.deploy(folder=fixture_folder("hello"), external_id="hello")
    caller = emu.deploy(folder=fixture_folder("uses_client"), external_id="caller")
    call = await aclient.functions.call(id=caller.id, data={"call": "hello", "payload": {"name": "async"}})
    assert call.status == "Completed"
    assert (await aclient.functions.calls.get_response(call_id=call.id, function_id=caller.id))["inner"][
        "status"
    ] == "Completed"
    logs = await aclient.functions.calls.get_logs(call_id=call.id, function_id=caller.id)
    assert list(logs) == []
