"""Schedules through the real SDK, and time travel on the virtual clock."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from cognite.client import CogniteClient
from cognite.client.data_classes import FunctionCall
from cognite.client.exceptions import CogniteAPIError, CogniteNotFoundError

from emulator import FunctionsEmulator

UTC = timezone.utc  # datetime.UTC is new in Python 3.11

START_MS = 1767225600000  # 2026-01-01T00:00:00Z
MINUTE = 60_000


def handle(data, function_call_info):
    return {"data": data, "info": function_call_info}


@pytest.fixture
def fn_id(emu: FunctionsEmulator) -> int:
    return emu.deploy(function_handle=handle, external_id="sched-target").id


def make(client: CogniteClient, fn_id: int, cron: str = "*/15 * * * *", **kwargs):
    kwargs.setdefault("name", f"s-{cron}")
    if "nonce" in kwargs:  # only the FunctionScheduleWrite form carries a nonce
        from cognite.client.data_classes.functions import FunctionScheduleWrite

        return client.functions.schedules.create(
            FunctionScheduleWrite(cron_expression=cron, function_id=fn_id, **kwargs)
        )
    return client.functions.schedules.create(cron_expression=cron, function_id=fn_id, **kwargs)


# --- the API ------------------------------------------------------------------------------------


def test_create_returns_the_schedule_object(client: CogniteClient, fn_id: int) -> None:
    s = make(client, fn_id, description="quarterly", data={"k": [1, {"x": None}]})
    assert (s.name, s.description, s.cron_expression) == ("s-*/15 * * * *", "quarterly", "*/15 * * * *")
    # CDF answers only what was posted; the SDK posts functionId alone (tests/test_cdf_fidelity.py).
    assert s.function_id == fn_id and s.function_external_id is None
    assert s.created_time == START_MS and s.when == "Every 15 minutes"
    assert isinstance(s.session_id, int)
    raw = client.get(f"/api/v1/projects/{client.config.project}/functions/schedules/{s.id}").json()
    assert "nonce" not in raw and "data" not in raw
    assert client.functions.schedules.get_input_data(s.id) == {"k": [1, {"x": None}]}


def test_oneshot_nonce_schedule_has_the_sessions_id(client: CogniteClient, fn_id: int) -> None:
    session = client.iam.sessions.create(session_type="ONESHOT_TOKEN_EXCHANGE")
    s = make(client, fn_id, nonce=session.nonce)
    assert s.session_id == session.id
    assert client.iam.sessions.retrieve(session.id).status == "ACTIVE"
    with pytest.raises(CogniteAPIError):  # the nonce is spent
        make(client, fn_id, nonce=session.nonce)


def test_create_by_function_external_id_resolves_the_id(client: CogniteClient, fn_id: int) -> None:
    with pytest.warns(UserWarning):
        s = client.functions.schedules.create(
            name="x", cron_expression="0 * * * *", function_external_id="sched-target"
        )
    assert s.function_id == fn_id


def test_list_filters_retrieve_and_delete(emu: FunctionsEmulator, client: CogniteClient, fn_id: int) -> None:
    other = emu.deploy(function_handle=handle, external_id="other").id
    a = make(client, fn_id, "0 * * * *", name="a")
    emu.clock.advance(minutes=1)
    b = make(client, fn_id, "*/5 * * * *", name="b")
    c = make(client, other, "0 0 * * *", name="c")
    assert len(client.functions.schedules.list()) == 3
    assert [s.id for s in client.functions.schedules.list(function_id=fn_id)] == [a.id, b.id]
    assert [s.id for s in client.functions.schedules.list(function_external_id="other")] == [c.id]
    assert [s.id for s in client.functions.schedules.list(name="b")] == [b.id]
    assert [s.id for s in client.functions.schedules.list(cron_expression="0 0 * * *")] == [c.id]
    assert [s.id for s in client.functions.schedules.list(created_time={"min": START_MS + 1})] == [b.id, c.id]
    assert len(client.functions.schedules.list(limit=1)) == 1
    assert client.functions.schedules.retrieve(id=a.id).name == "a"
    assert [s.id for s in client.functions.schedules.retrieve(id=[a.id, c.id])] == [a.id, c.id]
    assert client.functions.schedules.retrieve(id=999999) is None
    with pytest.raises(CogniteNotFoundError):
        client.functions.schedules.retrieve(id=[a.id, 999999])
    assert len(client.functions.schedules.retrieve(id=[a.id, 999999], ignore_unknown_ids=True)) == 1
    client.functions.schedules.delete(id=a.id)
    assert [s.id for s in client.functions.schedules.list()] == [b.id, c.id]
    with pytest.raises(CogniteAPIError):
        client.functions.schedules.delete(id=a.id)


@pytest.mark.parametrize(
    ("cron", "when"),
    [
        ("* * * * *", "Every minute"),
        ("*/5 * * * *", "Every 5 minutes"),
        ("0 * * * *", "Every hour"),
        ("0 */6 * * *", "Every 6 hours"),
        ("30 2 * * *", "Every day at 02:30"),
        ("30 8 * * 1-5", "At 08:30 on Monday through Friday"),
        ("0 0 1 * *", "At 00:00 on the first day of every month"),
    ],
)
def test_when_text(client: CogniteClient, fn_id: int, cron: str, when: str) -> None:
    assert make(client, fn_id, cron).when == when


@pytest.mark.parametrize(
    ("cron", "message"),
    [
        ("* * * * * *", "exactly 5 fields"),
        ("* * * *", "exactly 5 fields"),
        ("@reboot", "not supported"),
        ("@daily", "not supported"),
        ("60 * * * *", "out of range"),
        ("* 24 * * *", "out of range"),
        ("* * 32 * *", "out of range"),
        ("* * * 0 *", "out of range"),
        ("* * * * 8", "out of range"),
        ("*/0 * * * *", "step"),
        ("banana * * * *", "invalid"),
        ("0 0 L * *", "invalid"),
        ("0 0 ? * *", "invalid"),
        ("", "empty"),
    ],
)
def test_invalid_cron_is_rejected(client: CogniteClient, fn_id: int, cron: str, message: str) -> None:
    with pytest.raises(CogniteAPIError) as err:
        make(client, fn_id, cron, name="bad")
    assert err.value.code == 400 and message in err.value.message
    assert client.functions.schedules.list() == []


def test_names_of_months_and_weekdays_are_accepted(client: CogniteClient, fn_id: int) -> None:
    assert make(client, fn_id, "0 12 * JAN-MAR mon,wed").cron_expression == "0 12 * JAN-MAR mon,wed"


@pytest.mark.parametrize(
    ("field", "value"),
    [("name", "x" * 141), ("description", "x" * 501)],
)
def test_name_and_description_lengths(client: CogniteClient, fn_id: int, field: str, value: str) -> None:
    kwargs = {"name": "ok", field: value}
    with pytest.raises(CogniteAPIError) as err:
        make(client, fn_id, **kwargs)
    assert err.value.code == 400


def test_data_size_and_quota(fn_id: int) -> None:
    from emulator import Limits

    emu = FunctionsEmulator(limits=Limits(max_schedules_per_function=2, max_schedule_data_bytes=100))
    client = emu.client()
    fid = emu.deploy(function_handle=handle).id
    with pytest.raises(CogniteAPIError) as err:
        make(client, fid, data={"blob": "x" * 200})
    assert err.value.code == 400 and "larger" in err.value.message
    make(client, fid)
    make(client, fid)
    with pytest.raises(CogniteAPIError) as err:
        make(client, fid)
    assert "limit" in err.value.message
    emu.close()


def test_deleting_a_function_deletes_its_schedules(
    client: CogniteClient, fn_id: int, emu: FunctionsEmulator
) -> None:
    make(client, fn_id)
    client.functions.delete(id=fn_id)
    assert client.functions.schedules.list() == []
    assert emu.clock.advance(days=1) == []


# --- time travel -------------------------------------------------------------------------------------


def test_a_day_of_quarter_hours_is_96_calls_at_the_right_times(
    emu: FunctionsEmulator, client: CogniteClient, fn_id: int
) -> None:
    s = make(client, fn_id, data={"n": 1})
    calls = emu.clock.advance(hours=24)
    assert len(calls) == 96
    assert all(isinstance(c, FunctionCall) for c in calls)
    assert [c.scheduled_time for c in calls] == [START_MS + 15 * MINUTE * i for i in range(1, 97)]
    assert all(c.status == "Completed" and c.schedule_id == s.id for c in calls)
    assert emu.clock.now() == datetime(2026, 1, 2, tzinfo=UTC)
    first = calls[0]
    assert first.get_response() == {
        "data": {"n": 1},
        "info": {
            "function_id": fn_id,
            "call_id": first.id,
            "schedule_id": s.id,
            "scheduled_time": first.scheduled_time,
        },
    }
    listed = client.functions.calls.list(function_id=fn_id, schedule_id=s.id, limit=-1)
    assert len(listed) == 96
    assert client.functions.retrieve(id=fn_id).last_called == START_MS + 96 * 15 * MINUTE


def test_overlapping_schedules_interleave_in_time_order(
    emu: FunctionsEmulator, client: CogniteClient, fn_id: int
) -> None:
    every20 = make(client, fn_id, "*/20 * * * *")
    every30 = make(client, fn_id, "*/30 * * * *")
    calls = emu.clock.advance(hours=1)
    got = [(c.scheduled_time - START_MS) // MINUTE for c in calls]
    assert got == [20, 30, 40, 60, 60]
    assert [c.schedule_id for c in calls][-2:] == [every20.id, every30.id]  # a tie goes by schedule id


def test_advance_to_and_the_other_units(emu: FunctionsEmulator, client: CogniteClient, fn_id: int) -> None:
    make(client, fn_id, "0 0 * * *")
    assert len(emu.clock.advance(timedelta(days=2))) == 2
    assert len(emu.clock.advance(days=1, hours=12)) == 1
    assert len(emu.clock.advance(seconds=43200)) == 1
    assert len(emu.clock.advance_to("2026-01-11T00:00:00Z")) == 6
    assert len(emu.clock.advance_to(datetime(2026, 1, 12, tzinfo=UTC))) == 1
    assert emu.clock.advance(minutes=59) == []
    with pytest.raises(ValueError, match="backwards"):
        emu.clock.advance_to("2025-12-31T00:00:00Z")
    with pytest.raises(ValueError, match="backwards"):
        emu.clock.advance(seconds=-1)


def test_leap_day_fires_only_on_leap_years_without_stepping_minutes(
    emu: FunctionsEmulator, client: CogniteClient, fn_id: int
) -> None:
    make(client, fn_id, "0 0 29 2 *")
    calls = emu.clock.advance_to("2033-01-01T00:00:00Z")
    assert [datetime.fromtimestamp(c.scheduled_time / 1000, UTC).date().isoformat() for c in calls] == [
        "2028-02-29",
        "2032-02-29",
    ]


def test_month_end(emu: FunctionsEmulator, client: CogniteClient, fn_id: int) -> None:
    make(client, fn_id, "59 23 31 * *")
    calls = emu.clock.advance_to("2027-01-01T00:00:00Z")
    months = [datetime.fromtimestamp(c.scheduled_time / 1000, UTC).month for c in calls]
    assert months == [1, 3, 5, 7, 8, 10, 12]


def test_a_handler_that_deletes_its_own_schedule(emu: FunctionsEmulator, client: CogniteClient) -> None:
    def handle(client, function_call_info):
        client.functions.schedules.delete(id=function_call_info["schedule_id"])
        return "bye"

    fid = emu.deploy(function_handle=handle).id
    make(client, fid, "*/10 * * * *")
    calls = emu.clock.advance(hours=2)
    assert len(calls) == 1 and calls[0].status == "Completed"
    assert client.functions.schedules.list() == []


def test_a_handler_that_creates_a_schedule_affects_later_runs(
    emu: FunctionsEmulator, client: CogniteClient
) -> None:
    def handle(client, data, function_call_info):
        if data.get("spawn"):
            client.functions.schedules.create(
                name="child", cron_expression="*/10 * * * *", function_id=function_call_info["function_id"]
            )
        return data

    fid = emu.deploy(function_handle=handle).id
    make(client, fid, "30 0 * * *", data={"spawn": True})
    calls = emu.clock.advance(hours=1)
    assert [(c.scheduled_time - START_MS) // MINUTE for c in calls] == [30, 40, 50, 60]


def test_a_schedule_made_mid_move_interleaves_with_runs_already_due(
    emu: FunctionsEmulator, client: CogniteClient
) -> None:
    """Time travel takes due runs from the queue in batches; a schedule a handler creates meanwhile
    must still fire in time order among the runs the batch held (they are given back)."""

    def handle():
        return None

    minutely = emu.deploy(function_handle=handle, external_id="quiet").id

    def handle(client, data, function_call_info):  # type: ignore[no-redef]  # the deployed name
        if data.get("spawn"):
            client.functions.schedules.create(
                name="child", cron_expression="*/5 * * * *", function_id=function_call_info["function_id"]
            )

    spawning = emu.deploy(function_handle=handle, external_id="spawner").id
    make(client, minutely, "* * * * *")
    make(client, spawning, "30 0 * * *", data={"spawn": True})
    calls = emu.clock.advance(hours=1)
    order = [(c.scheduled_time, c.schedule_id) for c in calls]
    assert order == sorted(order)
    child = [c for c in calls if c.function_id == spawning and c.scheduled_time != START_MS + 30 * MINUTE]
    assert [(c.scheduled_time - START_MS) // MINUTE for c in child] == [35, 40, 45, 50, 55, 60]
    assert sum(c.function_id == minutely for c in calls) == 60
    listed = client.functions.calls.list(function_id=minutely, limit=-1)
    assert len(listed) == 60 and all(c.status == "Completed" for c in listed)


def test_failed_scheduled_run_is_recorded(emu: FunctionsEmulator, client: CogniteClient) -> None:
    def handle():
        raise RuntimeError("scheduled boom")

    fid = emu.deploy(function_handle=handle).id
    make(client, fid, "0 * * * *")
    (call,) = emu.clock.advance(hours=1)
    assert call.status == "Failed" and "scheduled boom" in call.error["message"]
    assert "RuntimeError" in call.error["trace"]


def test_revoked_session_makes_later_runs_fail(
    emu: FunctionsEmulator, client: CogniteClient, fn_id: int
) -> None:
    s = make(client, fn_id, "0 * * * *")
    assert emu.clock.advance(hours=1)[0].status == "Completed"
    client.iam.sessions.revoke(s.session_id)
    (call,) = emu.clock.advance(hours=1)
    assert call.status == "Failed" and "REVOKED" in call.error["message"]


def test_logs_of_scheduled_runs_carry_the_scheduled_time(
    emu: FunctionsEmulator, client: CogniteClient
) -> None:
    def handle(function_call_info):
        print("tick", function_call_info["scheduled_time"])

    fid = emu.deploy(function_handle=handle).id
    make(client, fid, "0 * * * *")
    calls = emu.clock.advance(hours=2)
    logs = calls[1].get_logs()
    assert [entry.message for entry in logs] == [f"tick {START_MS + 7_200_000}"]
    assert logs[0].timestamp == START_MS + 7_200_000


@pytest.mark.asyncio
async def test_async_client_schedules(emu: FunctionsEmulator, fn_id: int) -> None:
    aclient = emu.async_client()
    s = await aclient.functions.schedules.create(name="a", cron_expression="0 * * * *", function_id=fn_id)
    assert [x.id for x in await aclient.functions.schedules.list()] == [s.id]
    assert len(emu.clock.advance(hours=3)) == 3
