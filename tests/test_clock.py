"""The clock: virtual, wall and system modes, and freezegun / time-machine driving the emulator."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
import time_machine
from freezegun import freeze_time

from emulator import FunctionsEmulator, to_epoch_ms

UTC = timezone.utc  # datetime.UTC is new in Python 3.11


def handle(function_call_info):
    return function_call_info.get("scheduled_time")


def test_start_forms_are_equivalent() -> None:
    ms = 1767225600000
    for start in ("2026-01-01T00:00:00Z", "2026-01-01T01:00:00+01:00", ms, datetime(2026, 1, 1, tzinfo=UTC)):
        assert FunctionsEmulator(start=start).clock.now_ms() == ms
    assert FunctionsEmulator(start=ms).clock.now() == datetime(2026, 1, 1, tzinfo=UTC)
    assert FunctionsEmulator(start=ms).clock.now().tzinfo is not None


def test_naive_datetimes_and_garbage_are_rejected() -> None:
    with pytest.raises(ValueError, match="Naive"):
        to_epoch_ms(datetime(2026, 1, 1))
    with pytest.raises(ValueError):
        to_epoch_ms("next tuesday")
    with pytest.raises(ValueError):
        FunctionsEmulator(clock="sundial")  # type: ignore[arg-type]


def test_default_start_is_now() -> None:
    before = datetime.now(UTC)
    now = FunctionsEmulator().clock.now()
    assert before - timedelta(seconds=5) <= now <= datetime.now(UTC) + timedelta(seconds=5)


def test_virtual_clock_stands_still_and_stamps_records() -> None:
    emu = FunctionsEmulator(start="2026-06-01T12:00:00Z")
    fn = emu.deploy(function_handle=handle)
    assert fn.created_time == to_epoch_ms("2026-06-01T12:00:00Z")
    emu.clock.advance(hours=1, minutes=30)
    call = emu.client().functions.call(id=fn.id)
    assert call.start_time == call.end_time == to_epoch_ms("2026-06-01T13:30:00Z")


def test_wall_clock_moves_and_can_be_pushed() -> None:
    emu = FunctionsEmulator(start="2026-01-01T00:00:00Z", clock="wall")
    first = emu.clock.now_ms()
    emu.clock.advance(days=1)
    assert emu.clock.now_ms() - first >= 86_400_000
    with freeze_time("2001-01-01"):  # a handler freezing time cannot move the wall clock
        assert emu.clock.now() >= datetime(2026, 1, 2, tzinfo=UTC)


def test_system_mode_under_freezegun_tick() -> None:
    with freeze_time("2026-03-01T00:00:00Z") as frozen:
        emu = FunctionsEmulator(clock="system")
        client = emu.client()
        fn = emu.deploy(function_handle=handle)
        schedule = client.functions.schedules.create(name="h", cron_expression="0 * * * *", function_id=fn.id)
        assert schedule.created_time == to_epoch_ms("2026-03-01T00:00:00Z")
        frozen.tick(timedelta(hours=3))
        # due runs fire when the emulator is next used ...
        calls = client.functions.calls.list(function_id=fn.id, limit=-1)
        assert sorted(c.scheduled_time for c in calls) == [
            to_epoch_ms(f"2026-03-01T0{h}:00:00Z") for h in (1, 2, 3)
        ]
        frozen.tick(timedelta(hours=1))
        # ... or by run_due()
        assert [c.scheduled_time for c in emu.run_due()] == [to_epoch_ms("2026-03-01T04:00:00Z")]
        call = client.functions.call(id=fn.id)
        assert call.status == "Completed" and call.start_time == to_epoch_ms("2026-03-01T04:00:00Z")


def test_system_mode_under_freezegun_real_asyncio() -> None:
    with freeze_time("2026-03-01T00:00:00Z", real_asyncio=True):
        emu = FunctionsEmulator(clock="system")
        fn = emu.deploy(function_handle=handle)
        call = emu.client().functions.call(id=fn.id)
        assert call.status == "Completed" and call.start_time == to_epoch_ms("2026-03-01T00:00:00Z")


def test_system_mode_under_time_machine() -> None:
    with time_machine.travel(datetime(2026, 5, 1, tzinfo=UTC), tick=False) as traveller:
        emu = FunctionsEmulator(clock="system")
        client = emu.client()
        fn = emu.deploy(function_handle=handle)
        client.functions.schedules.create(name="h", cron_expression="*/30 * * * *", function_id=fn.id)
        traveller.shift(timedelta(hours=2))
        assert len(emu.run_due()) == 4
        traveller.move_to(datetime(2026, 5, 1, 3, tzinfo=UTC))
        assert len(client.functions.calls.list(function_id=fn.id, limit=-1)) == 6


def test_virtual_mode_is_unaffected_by_freezegun_in_the_test_or_the_handler() -> None:
    def handle():
        from freezegun import freeze_time

        with freeze_time("1999-01-01"):
            return "frozen inside"

    emu = FunctionsEmulator(start="2026-01-01T00:00:00Z")
    client = emu.client()
    with freeze_time("2030-01-01"):
        fn = emu.deploy(function_handle=handle)
        client.functions.schedules.create(name="h", cron_expression="0 0 * * *", function_id=fn.id)
        calls = emu.clock.advance(days=2)
        assert [c.status for c in calls] == ["Completed", "Completed"]
        assert client.functions.call(id=fn.id).get_response() == "frozen inside"
    assert emu.clock.now() == datetime(2026, 1, 3, tzinfo=UTC)
