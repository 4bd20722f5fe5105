"""The one call pipeline: API calls and scheduled runs end the same way, whatever goes wrong."""

from __future__ import annotations

import pytest
from cognite.client import CogniteClient

from emulator import FunctionsEmulator
from emulator.roma.service import dispatch_from_body


def handle(client, data):
    return {"project": client.config.project, "data": data}


def _broken_factory(project: str) -> object:
    raise RuntimeError(f"no client for {project}")


@pytest.mark.functions_emulator(handler_client=_broken_factory)
def test_a_handler_client_factory_that_raises_fails_the_call(
    emu: FunctionsEmulator, any_client: CogniteClient
) -> None:
    fn = any_client.functions.retrieve(id=emu.deploy(function_handle=handle).id)
    call = fn.call(data={"x": 1})
    assert call.status == "Failed"
    assert (
        call.error["message"]
        == "Could not build the handler's client: RuntimeError: no client for test-project"
    )
    assert "_broken_factory" in call.error["trace"]
    # The next call is not blocked by the failed one (its concurrency slot was released).
    assert fn.call().status == "Failed"
    assert [c.status for c in any_client.functions.calls.list(function_id=fn.id)] == ["Failed", "Failed"]


@pytest.mark.functions_emulator(handler_client=_broken_factory)
def test_a_handler_client_factory_that_raises_fails_scheduled_runs(
    emu: FunctionsEmulator, any_client: CogniteClient
) -> None:
    fn = emu.deploy(function_handle=handle)
    any_client.functions.schedules.create(name="s", cron_expression="*/30 * * * *", function_id=fn.id)
    fired = emu.clock.advance(hours=1)
    assert [c.status for c in fired] == ["Failed", "Failed"]
    assert "no client for test-project" in fired[0].error["message"]


def test_a_factory_client_is_what_the_handler_gets(any_client: CogniteClient) -> None:
    seen: list[str] = []

    def factory(project: str) -> object:
        seen.append(project)
        return emu_inner.client(project)

    emu_inner = FunctionsEmulator(handler_client=factory)
    try:
        fn = emu_inner.deploy(function_handle=handle)
        assert fn.call(data={"y": 2}).get_response() == {"project": "emulator-project", "data": {"y": 2}}
        assert seen == ["emulator-project"]
    finally:
        emu_inner.close()


def test_advance_reports_facade_runs_beside_cdf_calls(
    emu: FunctionsEmulator, any_client: CogniteClient
) -> None:
    fn = emu.deploy(function_handle=handle)
    any_client.functions.schedules.create(name="s", cron_expression="0 * * * *", function_id=fn.id)
    emu.roma.register_task("inst", "task")
    dispatch = dispatch_from_body({"period": "HOUR", "dispatch_interval": 1}, "task", emu.clock.now_ms())
    emu.roma.set_dispatch(emu.roma.task("roma-project", "inst", "task"), dispatch)
    fired = emu.clock.advance(hours=2)
    assert [c.status for c in fired] == ["Completed", "Completed"]
    assert [run["task_id"] for run in fired.facade_runs] == ["task", "task"]
