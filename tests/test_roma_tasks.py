"""ROMA Connect FDI tasks through the real huaweicloudsdkroma client: error codes and shape, task
state (started/stopped) honoured by dispatches, show/list/run/terminate/batch start-stop, minute-level
crons and the zone names ROMA's Java servers accept."""

from __future__ import annotations

import pytest

roma = pytest.importorskip("huaweicloudsdkroma.v2")
import httpx  # noqa: E402
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException  # noqa: E402

from emulator import FunctionsEmulator  # noqa: E402

START_MS = 1767225600000  # 2026-01-01T00:00:00Z (a Thursday)
HOUR = 3_600_000


@pytest.fixture
def emu():
    emulator = FunctionsEmulator(start=START_MS)
    yield emulator
    emulator.close()


@pytest.fixture
def client(emu: FunctionsEmulator):
    return emu.roma_client()


def hourly(client, task_id: str) -> None:
    body = roma.TaskDispatch(start_datetime=START_MS, period="HOUR", dispatch_interval=1)
    client.create_dispatches(roma.CreateDispatchesRequest(instance_id="inst", task_id=task_id, body=body))


def batch(client, action: str, *task_ids: str):
    body = roma.OperateTasksBean(action_id=action, list=[roma.TaskBean(task_id=t) for t in task_ids])
    return client.batch_start_or_stop_tasks(roma.BatchStartOrStopTasksRequest(instance_id="inst", body=body))


def error_of(call) -> ClientRequestException:
    with pytest.raises(ClientRequestException) as err:
        call()
    return err.value


def test_task_not_in_the_project_is_fdi_3180_everywhere(emu: FunctionsEmulator, client) -> None:
    emu.roma.register_task("inst", "t", project_id="another-project")
    calls = [
        lambda: client.show_dispatches(roma.ShowDispatchesRequest(instance_id="inst", task_id="t")),
        lambda: hourly(client, "t"),
        lambda: client.show_task(roma.ShowTaskRequest(instance_id="inst", task_id="t")),
        lambda: client.run_task(roma.RunTaskRequest(instance_id="inst", task_id="t")),
        lambda: client.stop_task(roma.StopTaskRequest(instance_id="inst", task_id="t")),
    ]
    for call in calls:
        err = error_of(call)
        assert (err.status_code, err.error_code) == (404, "FDI.3180")
        assert err.error_msg == "This task is not in the project."


def test_empty_task_id_is_400_fdi_3149(client) -> None:
    err = error_of(lambda: client.show_dispatches(roma.ShowDispatchesRequest(instance_id="inst", task_id="")))
    assert (err.status_code, err.error_code, err.error_msg) == (400, "FDI.3149", "The task ID is empty.")
    err = error_of(lambda: client.show_task(roma.ShowTaskRequest(instance_id="inst", task_id="")))
    assert (err.status_code, err.error_code) == (400, "FDI.3149")


def test_every_4xx_under_the_prefix_has_romas_shape(emu: FunctionsEmulator) -> None:
    emu.roma.register_task("inst", "t")
    with emu.serve() as server:
        url = f"{server.base_url}/v2/roma-project/fdi/instances/inst"
        answers = [
            httpx.get(f"{url}/no-such-thing"),
            httpx.delete(f"{url}/tasks/t/dispatches"),  # the API has no delete
            httpx.post(f"{url}/tasks/t/dispatches", content=b"{not json"),
            httpx.post(f"{url}/tasks/t/dispatches", json=[1]),
            httpx.get(f"{url}/tasks", params={"limit": "many"}),
            httpx.post(
                f"{url}/batch-operation/tasks", json={"action_id": "pause", "list": [{"task_id": "t"}]}
            ),
        ]
    for answer in answers:
        assert 400 <= answer.status_code < 500, answer.text
        body = answer.json()
        assert body["code"] == answer.status_code and set(body["reason"]) == {"error_code", "error_msg"}
    assert [a.json()["reason"]["error_code"] for a in answers] == ["APIG.0101", "APIG.0101"] + [
        "FDI.3149"
    ] * 4


def test_stopped_task_does_not_run_until_started(emu: FunctionsEmulator, client) -> None:
    task = emu.roma.register_task("inst", "t", started=False)
    hourly(client, "t")
    emu.clock.advance(hours=2)
    assert task.runs == []
    started = batch(client, "start", "t", "ghost", "")
    assert (started.success_count, started.failure_count) == (1, 2)
    assert [s.task_id for s in started.success] == ["t"]
    assert [(f.task_id, f.error_code) for f in started.failure] == [("ghost", "FDI.3180"), ("", "FDI.3149")]
    emu.clock.advance(hours=2)
    assert [r["scheduled_time"] for r in task.runs] == [START_MS + 3 * HOUR, START_MS + 4 * HOUR]
    batch(client, "stop", "t")
    emu.clock.advance(hours=3)
    assert len(task.runs) == 2  # the dispatch stays, its ticks pass without runs
    batch(client, "start", "t")
    emu.clock.advance(hours=1)
    assert [r["scheduled_time"] for r in task.runs][-1] == START_MS + 8 * HOUR


def test_show_and_list_tasks(emu: FunctionsEmulator, client) -> None:
    emu.roma.register_task("inst", "alpha", task_name="Alpha-sync")
    emu.clock.advance(minutes=1)
    emu.roma.register_task("inst", "beta", task_name="beta-load", started=False)
    emu.roma.register_task("other-inst", "gamma")
    shown = client.show_task(roma.ShowTaskRequest(instance_id="inst", task_id="alpha")).task
    assert (shown.task_id, shown.task_name, shown.status, shown.created_date) == (
        "alpha", "Alpha-sync", "running", START_MS
    )  # fmt: skip
    listed = client.list_tasks(roma.ListTasksRequest(instance_id="inst"))
    assert (listed.total, listed.size) == (2, 2)
    assert [e.task_id for e in listed.entities] == ["beta", "alpha"]  # newest first by default
    assert [e.status for e in listed.entities] == [0, 1]
    assert listed.entities[0].execute_status == "UNSTARTED" and listed.entities[0].task_type == "TIMING"
    by = client.list_tasks(roma.ListTasksRequest(instance_id="inst", sort_type="ASC", limit=1, offset=1))
    assert (by.total, by.size, [e.task_id for e in by.entities]) == (2, 1, ["beta"])
    running = client.list_tasks(roma.ListTasksRequest(instance_id="inst", status=1))
    assert [e.task_id for e in running.entities] == ["alpha"]
    named = client.list_tasks(roma.ListTasksRequest(instance_id="inst", name="LOAD"))
    assert [e.task_id for e in named.entities] == ["beta"]
    capped = client.list_tasks(roma.ListTasksRequest(instance_id="inst", limit=5000, offset=-3))
    assert capped.size == 2  # limit above 999 is 999, a negative offset is 0 (documented)


def test_run_task_runs_now_and_terminate_answers(emu: FunctionsEmulator, client) -> None:
    def fail(run):
        raise RuntimeError("source unreachable")

    task = emu.roma.register_task("inst", "t", started=False)
    client.run_task(roma.RunTaskRequest(instance_id="inst", task_id="t"))
    assert [(r["trigger"], r["scheduled_time"], r["status"]) for r in task.runs] == [
        ("MANUAL", START_MS, "SUCCESS")
    ]
    emu.roma.register_task("inst", "t", fail, started=False)
    client.run_task(roma.RunTaskRequest(instance_id="inst", task_id="t"))
    assert task.runs[-1]["status"] == "FAILED" and "source unreachable" in task.runs[-1]["error"]
    listed = client.list_tasks(roma.ListTasksRequest(instance_id="inst", execute_status="ERROR"))
    assert [e.task_id for e in listed.entities] == ["t"]
    stopped = client.stop_task(roma.StopTaskRequest(instance_id="inst", task_id="t"))
    assert "no execution in progress" in stopped.message


@pytest.mark.parametrize("cron", ["30 * * * * ?", "*/10 * * * * ?", "0-5 0 12 * * ?"])
def test_schedules_are_minute_level(emu: FunctionsEmulator, client, cron: str) -> None:
    emu.roma.register_task("inst", "t")
    body = roma.TaskDispatch(use_quartz_cron=True, cron=cron)
    err = error_of(
        lambda: client.create_dispatches(
            roma.CreateDispatchesRequest(instance_id="inst", task_id="t", body=body)
        )
    )
    assert err.error_code == "FDI.3149" and "minute-level" in err.error_msg


@pytest.mark.parametrize(
    ("zone", "accepted"),
    [
        ("UTC+8", True), ("GMT+08:00", True), ("+0800", True), ("UT+8", True), ("Asia/Shanghai", True),
        ("utc+8", False), ("UTC+8:00", False), ("GMT+19", False), ("Asia/Atlantis", False),
    ],
)  # fmt: skip
def test_cron_timezones_as_java_zone_ids(emu: FunctionsEmulator, zone: str, accepted: bool) -> None:
    task = emu.roma.register_task("inst", "t")
    body = {"use_quartz_cron": True, "cron": "0 0 9 * * ?", "cron_timezone": zone, "start_datetime": START_MS}
    with emu.serve() as server:
        answer = httpx.post(
            f"{server.base_url}/v2/roma-project/fdi/instances/inst/tasks/t/dispatches", json=body
        )
    if not accepted:
        assert answer.status_code == 400 and answer.json()["reason"]["error_code"] == "FDI.3149"
        return
    assert answer.status_code == 200, answer.text
    emu.clock.advance(days=1)
    assert [r["scheduled_iso"] for r in task.runs] == ["2026-01-01T01:00:00+00:00"]  # 09:00 at UTC+8
