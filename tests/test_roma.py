"""ROMA Connect FDI dispatches through the real huaweicloudsdkroma client."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

roma = pytest.importorskip("huaweicloudsdkroma.v2")
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException  # noqa: E402

from emulator import FunctionsEmulator  # noqa: E402

UTC = timezone.utc  # datetime.UTC is new in Python 3.11

START_MS = 1767225600000  # 2026-01-01T00:00:00Z


def iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat()


@pytest.fixture
def client(emu: FunctionsEmulator):
    return emu.roma_client()


def create(client, task_id: str = "task-1", **fields):
    body = roma.TaskDispatch(**fields)
    return client.create_dispatches(
        roma.CreateDispatchesRequest(instance_id="inst", task_id=task_id, body=body)
    )


def test_create_query_update(emu: FunctionsEmulator, client) -> None:
    emu.roma.register_task("inst", "task-1")
    created = create(
        client,
        start_datetime=START_MS,
        period="DAY",
        dispatch_interval=1,
        remark="daily",
        use_quartz_cron=False,
    )
    assert created.dispatch_id and created.task_id == "task-1" and created.period == "DAY"
    assert created.created_date == created.last_modified_date == START_MS
    shown = client.show_dispatches(roma.ShowDispatchesRequest(instance_id="inst", task_id="task-1"))
    assert shown.dispatch_id == created.dispatch_id and shown.remark == "daily"
    emu.clock.advance(hours=1)
    updated = client.update_dispatches(
        roma.UpdateDispatchesRequest(
            instance_id="inst", task_id="task-1", dispatch_id=created.dispatch_id,
            body=roma.TaskDispatch(use_quartz_cron=True, cron="0 0 12 ? * MON-FRI"),
        )
    )  # fmt: skip
    assert updated.use_quartz_cron is True and updated.cron == "0 0 12 ? * MON-FRI"
    assert updated.last_modified_date == START_MS + 3_600_000 and updated.created_date == START_MS


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"period": "YEAR", "dispatch_interval": 1}, "period"),
        ({"period": "DAY", "dispatch_interval": 0}, "dispatch_interval"),
        ({"period": "DAY"}, "dispatch_interval"),
        ({"use_quartz_cron": True}, "cron is required"),
        ({"use_quartz_cron": True, "cron": "* * * * *"}, "Invalid cron"),
        ({"use_quartz_cron": True, "cron": "0 0 0 * * *"}, "Invalid cron"),
        ({"start_datetime": 5, "period": "DAY", "dispatch_interval": 1}, "start_datetime"),
    ],
)
def test_validation_errors(emu: FunctionsEmulator, client, fields: dict, message: str) -> None:
    emu.roma.register_task("inst", "task-1")
    with pytest.raises(ClientRequestException) as err:
        create(client, **fields)
    assert err.value.status_code == 400 and err.value.error_code.startswith("FDI.")
    assert message in err.value.error_msg


def test_unknown_task_is_404(client) -> None:
    with pytest.raises(ClientRequestException) as err:
        client.show_dispatches(roma.ShowDispatchesRequest(instance_id="inst", task_id="ghost"))
    assert err.value.status_code == 404 and err.value.error_code == "FDI.3180"
    with pytest.raises(ClientRequestException) as err:
        create(client, task_id="ghost", period="DAY", dispatch_interval=1)
    assert err.value.status_code == 404


def test_second_create_and_wrong_dispatch_id(emu: FunctionsEmulator, client) -> None:
    emu.roma.register_task("inst", "task-1")
    create(client, period="DAY", dispatch_interval=1)
    with pytest.raises(ClientRequestException) as err:
        create(client, period="DAY", dispatch_interval=1)
    assert err.value.status_code == 400
    with pytest.raises(ClientRequestException) as err:
        client.update_dispatches(
            roma.UpdateDispatchesRequest(
                instance_id="inst", task_id="task-1", dispatch_id="nope", body=roma.TaskDispatch(remark="x")
            )
        )
    assert err.value.status_code == 404


def test_period_schedules_fire_on_the_clock(emu: FunctionsEmulator, client) -> None:
    seen: list[str] = []
    emu.roma.register_task("inst", "every-90-min", lambda run: seen.append(run["scheduled_iso"]))
    create(client, task_id="every-90-min", start_datetime=START_MS, period="MIN", dispatch_interval=90)
    emu.clock.advance(hours=6)
    assert seen == [iso(START_MS + m * 60_000) for m in (90, 180, 270, 360)]


def test_monthly_period_keeps_the_day_and_clamps_month_ends(emu: FunctionsEmulator, client) -> None:
    task = emu.roma.register_task("inst", "monthly")
    jan31 = START_MS + 30 * 86_400_000 + 3_600_000  # 2026-01-31T01:00Z
    create(client, task_id="monthly", start_datetime=jan31, period="MON", dispatch_interval=1)
    emu.clock.advance_to("2026-06-01T00:00:00Z")
    assert [r["scheduled_iso"] for r in task.runs] == [
        "2026-01-31T01:00:00+00:00",
        "2026-02-28T01:00:00+00:00",
        "2026-03-31T01:00:00+00:00",
        "2026-04-30T01:00:00+00:00",
        "2026-05-31T01:00:00+00:00",
    ]


def test_quartz_schedules_in_several_time_zones(emu: FunctionsEmulator) -> None:
    # The SDK's TaskDispatch model has no cron_timezone; the API takes it (documented), so send it raw.
    import httpx

    tasks = {
        tz: emu.roma.register_task("inst", f"t-{i}")
        for i, tz in enumerate(["Asia/Shanghai", "UTC+8", "America/New_York", None])
    }
    with emu.serve() as server:
        for i, tz in enumerate(tasks):
            body = {"use_quartz_cron": True, "cron": "0 0 9 ? * MON-FRI", "start_datetime": START_MS}
            if tz:
                body["cron_timezone"] = tz
            answer = httpx.post(
                f"{server.base_url}/v2/roma-project/fdi/instances/inst/tasks/t-{i}/dispatches", json=body
            )
            assert answer.status_code == 200, answer.text
            assert answer.json()["cron_timezone"] == tz
    emu.clock.advance_to("2026-01-03T00:00:00Z")  # Thu 1 and Fri 2 January
    got = {tz: [r["scheduled_iso"] for r in task.runs] for tz, task in tasks.items()}
    assert got["Asia/Shanghai"] == got["UTC+8"] == ["2026-01-01T01:00:00+00:00", "2026-01-02T01:00:00+00:00"]
    assert got["America/New_York"] == ["2026-01-01T14:00:00+00:00", "2026-01-02T14:00:00+00:00"]
    assert got[None] == ["2026-01-01T09:00:00+00:00", "2026-01-02T09:00:00+00:00"]


def test_quartz_across_dst_and_failures(emu: FunctionsEmulator) -> None:
    def flaky(run):
        if run["scheduled_time"] % 2:
            raise RuntimeError("odd")

    task = emu.roma.register_task("inst", "dst", flaky)
    from emulator.roma.service import dispatch_from_body

    emu.clock.advance_to("2026-03-28T00:00:00Z")
    emu.roma.set_dispatch(
        task,
        dispatch_from_body(
            {
                "use_quartz_cron": True,
                "cron": "0 30 2 * * ?",
                "cron_timezone": "Europe/Oslo",
                "start_datetime": START_MS,
            },
            "dst",
            emu.clock.now_ms(),
        ),
    )
    emu.clock.advance_to("2026-03-31T00:00:00Z")
    assert [r["scheduled_iso"] for r in task.runs] == [
        "2026-03-28T01:30:00+00:00",  # 02:30 does not exist on 2026-03-29: Quartz skips that day
        "2026-03-30T00:30:00+00:00",
    ]
    assert all(r["status"] == "SUCCESS" for r in task.runs)


def test_runs_interleave_with_cdf_schedules() -> None:
    order: list[str] = []
    emu = FunctionsEmulator(start=START_MS, handler_client=lambda project: order)  # the handler's "client"

    def handle(client):
        client.append("cdf")

    emu.roma.register_task("inst", "r", lambda run: order.append("roma"))
    fn = emu.deploy(function_handle=handle)
    emu.client().functions.schedules.create(name="c", cron_expression="30 * * * *", function_id=fn.id)
    create(emu.roma_client(), task_id="r", start_datetime=START_MS, period="HOUR", dispatch_interval=1)
    emu.clock.advance(hours=2)
    assert order == ["cdf", "roma", "cdf", "roma"]
    emu.close()


def test_admin_endpoint_registers_tasks_and_lists_runs(emu: FunctionsEmulator, client) -> None:
    import httpx

    with emu.serve() as server:
        answer = httpx.post(
            f"{server.base_url}/_emulator/roma/tasks", json={"instance_id": "inst", "task_id": "via-admin"}
        )
        assert answer.status_code == 201
        bad = httpx.post(f"{server.base_url}/_emulator/roma/tasks", json={"instance_id": "inst"})
        assert bad.status_code == 400 and bad.json()["error"]["code"] == 400
        create(client, task_id="via-admin", start_datetime=START_MS, period="HOUR", dispatch_interval=1)
        emu.clock.advance(hours=2)
        items = httpx.get(f"{server.base_url}/_emulator/roma/tasks").json()["items"]
    assert [(t["task_id"], len(t["runs"])) for t in items] == [("via-admin", 2)]
    assert items[0]["runs"][0]["scheduled_time"] == START_MS + 3_600_000


def test_start_datetime_as_iso_text_is_read_as_the_clock_reads_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """An ISO start without an offset is UTC (as everywhere in the emulator), not the machine's zone."""
    import time

    from emulator.roma.service import RomaError, dispatch_from_body

    monkeypatch.setenv("TZ", "Asia/Tokyo")
    time.tzset()
    try:
        for text in ("2026-01-01T00:00:00", "2026-01-01T00:00:00Z", "2026-01-01T09:00:00+09:00"):
            body = {"start_datetime": text, "period": "HOUR", "dispatch_interval": 1}
            assert dispatch_from_body(body, "t", START_MS).start_datetime == START_MS, text
        with pytest.raises(RomaError, match="not epoch ms or ISO 8601"):
            dispatch_from_body(
                {"start_datetime": "tomorrow", "period": "DAY", "dispatch_interval": 1}, "t", 0
            )
    finally:
        monkeypatch.undo()
        time.tzset()
