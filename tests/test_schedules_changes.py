"""What changes while the clock moves reaches the runs after it (emulator/changes.py).

The hot loop of time travel plans each schedule's runs once and reads one count per run instead of
the function's status, the session's, the isolation and the timeout; these tests change each of
those from a handler in the middle of a move and read the later runs back through the real SDK.
(The function deleted and the session revoked mid-move are in tests/test_schedules_fast_path.py.)
"""

from __future__ import annotations

import os
import sys
import types
from collections.abc import Iterator

import pytest
from cognite.client import CogniteClient

from emulator import FunctionsEmulator
from emulator.changes import CHANGES
from emulator.state import CALL_FIELDS, CallRecord

START_MS = 1767225600000  # 2026-01-01T00:00:00Z
MINUTE = 60_000
BOX = "emulator_test_schedules_changes"


@pytest.fixture
def box(emu: FunctionsEmulator) -> Iterator[types.ModuleType]:
    """A module a handler finds the test's emulator in (handlers see only their arguments)."""
    module = types.ModuleType(BOX)
    module.emu = emu  # type: ignore[attr-defined]
    sys.modules[BOX] = module
    yield module
    del sys.modules[BOX]


def _minutes(calls: list, function_id: int) -> dict[int, object]:
    return {(c.scheduled_time - START_MS) // MINUTE: c for c in calls if c.function_id == function_id}


def test_a_timeout_lowered_mid_move_times_the_later_quiet_runs_out(
    emu: FunctionsEmulator, any_client: CogniteClient, box: types.ModuleType
) -> None:
    def handle(data):
        sum(range(20_000))  # tens of microseconds: far over a timeout of a microsecond

    worker = emu.deploy(function_handle=handle, external_id="worker").id
    any_client.functions.schedules.create(name="w", cron_expression="* * * * *", function_id=worker)

    def handle():  # type: ignore[no-redef]  # the deployed name
        import sys

        sys.modules["emulator_test_schedules_changes"].emu.context.settings.timeout_seconds = 1e-6

    lowering = emu.deploy(function_handle=handle, external_id="lowering").id
    any_client.functions.schedules.create(name="l", cron_expression="5 0 * * *", function_id=lowering)
    by_minute = _minutes(emu.clock.advance(minutes=10), worker)
    assert sorted(by_minute) == list(range(1, 11))
    assert all(by_minute[m].status == "Completed" for m in range(1, 5))
    assert all(by_minute[m].status == "Timeout" for m in range(6, 11))
    assert "timed out" in by_minute[10].error["message"]


def test_isolation_set_to_process_mid_move_moves_the_later_runs_out_of_process(
    emu: FunctionsEmulator, client: CogniteClient, box: types.ModuleType
) -> None:
    def handle():
        import os

        return {"pid": os.getpid()}

    worker = emu.deploy(function_handle=handle, external_id="worker").id
    client.functions.schedules.create(name="w", cron_expression="* * * * *", function_id=worker)

    def handle():  # type: ignore[no-redef]  # the deployed name
        import sys

        sys.modules["emulator_test_schedules_changes"].emu.context.settings.isolation = "process"

    switching = emu.deploy(function_handle=handle, external_id="switching").id
    client.functions.schedules.create(name="s", cron_expression="3 0 * * *", function_id=switching)
    try:
        by_minute = _minutes(emu.clock.advance(minutes=5), worker)
        pids = {
            m: client.functions.calls.get_response(call_id=c.id, function_id=worker)["pid"]
            for m, c in by_minute.items()
        }
    finally:
        emu.context.settings.isolation = "thread"
    assert sorted(pids) == [1, 2, 3, 4, 5]
    assert pids[1] == pids[2] == os.getpid()
    assert pids[4] != os.getpid() and pids[5] != os.getpid()


def test_every_change_a_plan_depends_on_moves_the_count(
    emu: FunctionsEmulator, client: CogniteClient
) -> None:
    def handle():
        return None

    before = CHANGES.count
    fn = emu.deploy(function_handle=handle)  # Deploying, then Ready with its code
    after_deploy = CHANGES.count
    schedule = client.functions.schedules.create(name="m", cron_expression="* * * * *", function_id=fn.id)
    after_schedule = CHANGES.count  # the session bound, the schedule queued
    client.iam.sessions.revoke(schedule.session_id)
    after_revoke = CHANGES.count
    emu.context.settings.timeout_seconds = 30.0
    after_setting = CHANGES.count
    client.functions.schedules.delete(id=schedule.id)
    assert before < after_deploy < after_schedule < after_revoke < after_setting < CHANGES.count


def test_a_call_record_keeps_its_fields_by_name() -> None:
    record = CallRecord.of(id=7, function_id=8, status="Running", start_time=9, session_id=10)
    assert record.as_dict() == {
        **dict.fromkeys(CALL_FIELDS),
        "id": 7,
        "function_id": 8,
        "status": "Running",
        "start_time": 9,
        "session_id": 10,
        "has_response": False,
        "logs": (),
    }
    record.status, record.end_time = "Completed", 11
    assert (record.status, record.end_time, record.id) == ("Completed", 11, 7)
    assert CallRecord.of(**record.as_dict()) == record
    assert "status='Completed'" in repr(record)
    with pytest.raises(TypeError, match="no field 'colour'"):
        CallRecord.of(id=1, function_id=2, status="Running", start_time=3, colour="red")
