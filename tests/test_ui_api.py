"""The JSON routes the dashboard reads (/_emulator/ui/api/...), without a browser.

Calls are made through the real cognite-sdk, in-process and over a loopback server (``any_client``);
the dashboard's JSON is read over HTTP from a real server of the same emulator.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx
import pytest
from cognite.client import CogniteClient
from cognite.client.exceptions import CogniteAPIError

from emulator import FunctionsEmulator
from tests.conftest import fixture_folder

START = "2026-01-01T00:00:00Z"
pytestmark = pytest.mark.functions_emulator(project="ui-project", start=START)


@pytest.fixture
def http(emu: FunctionsEmulator) -> Iterator[httpx.Client]:
    with emu.serve() as server, httpx.Client(base_url=server.base_url, timeout=30) as session:
        yield session


def calls(http: httpx.Client, **params: Any) -> dict[str, Any]:
    answer = http.get("/_emulator/ui/api/calls", params=params)
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def test_calls_page_newest_first_with_a_stable_cursor(
    emu: FunctionsEmulator, any_client: CogniteClient, http: httpx.Client
) -> None:
    emu.deploy(fixture_folder("hello"), external_id="hello")
    for i in range(7):  # all at the same virtual instant: the order they were made decides
        any_client.functions.call(external_id="hello", data={"name": f"n{i}"})
    first = calls(http, limit=3)
    assert [c["data"]["name"] for c in first["items"]] == ["n6", "n5", "n4"]
    assert (first["total"], first["before"]) == (7, 0)
    any_client.functions.call(external_id="hello", data={"name": "late"})  # shifts no older page
    second = calls(http, limit=3, cursor=first["nextCursor"])
    assert [c["data"]["name"] for c in second["items"]] == ["n3", "n2", "n1"]
    assert (second["total"], second["before"]) == (8, 4)
    third = calls(http, limit=3, cursor=second["nextCursor"])
    assert [c["data"]["name"] for c in third["items"]] == ["n0"]
    assert third["nextCursor"] is None
    assert [c["data"]["name"] for c in calls(http, limit=1)["items"]] == ["late"]
    # The default page size is 25; a cursor whose call is gone (reset) gives an empty page.
    assert len(calls(http)["items"]) == 8
    cursor = second["nextCursor"]
    emu.reset()
    assert calls(http, cursor=cursor)["items"] == []


def test_calls_filter_by_function_and_status(
    emu: FunctionsEmulator, any_client: CogniteClient, http: httpx.Client
) -> None:
    hello = emu.deploy(fixture_folder("hello"), external_id="hello")
    failing = emu.deploy(fixture_folder("failing"), external_id="failing")
    any_client.functions.call(external_id="hello", data={"name": "a"})
    with contextlib.suppress(CogniteAPIError):
        any_client.functions.call(external_id="failing", data={"reason": "x"})
    assert calls(http)["total"] == 2
    [only] = calls(http, function=failing.id)["items"]
    assert (only["functionName"], only["status"]) == ("failing", "Failed")
    assert "boom: x" in only["error"]["message"]
    assert [c["functionId"] for c in calls(http, status="Completed")["items"]] == [hello.id]
    assert calls(http, function=hello.id, status="Failed") == {
        "items": [],
        "total": 0,
        "before": 0,
        "nextCursor": None,
    }
    # Another project (even one that does not exist) has its own calls, and looking creates nothing.
    assert calls(http, project="nope")["items"] == []
    assert "nope" not in emu.backend.projects()


def test_call_details_input_data_response_logs_and_wall_time(
    emu: FunctionsEmulator, any_client: CogniteClient, http: httpx.Client
) -> None:
    fn = emu.deploy(fixture_folder("hello"), external_id="hello")
    call = any_client.functions.call(external_id="hello", data={"name": "dash"})
    any_client.functions.schedules.create(
        name="hourly", cron_expression="0 * * * *", function_id=fn.id, data={"name": "cron"}
    )
    emu.clock.advance(hours=1)
    scheduled, direct = calls(http)["items"]
    assert direct["id"] == call.id
    assert direct["data"] == {"name": "dash"} and direct["hasData"] is True
    assert direct["response"] == {"greeting": "Hello, dash!"}
    assert [line["message"] for line in direct["logs"]] == ["Hello, dash!"]
    # On the virtual clock the call took no time; its wall time is what the handler really took.
    assert direct["endTime"] == direct["startTime"]
    assert isinstance(direct["wallMs"], float) and direct["wallMs"] > 0
    assert scheduled["data"] == {"name": "cron"} and scheduled["scheduledTime"] == scheduled["startTime"]
    assert scheduled["wallMs"] > 0 and scheduled["scheduleId"] is not None
    # Both are kept in the state dump (and so in --state files).
    dumped = {c["id"]: c for c in emu.state()["projects"]["ui-project"]["calls"]}
    assert dumped[call.id]["data_json"] == '{"name": "dash"}'
    assert dumped[call.id]["wall_ms"] == direct["wallMs"]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"status": "Bogus"}, "status must be one of"),
        ({"limit": "0"}, "limit must be from 1 to 1000"),
        ({"limit": "1001"}, "limit must be from 1 to 1000"),
        ({"limit": "x"}, "limit must be an integer"),
        ({"cursor": "abc"}, "cursor must be an integer"),
        ({"function": "<b>"}, "function must be an integer"),
    ],
)
def test_calls_bad_query_is_a_400_in_cdf_shape(
    http: httpx.Client, params: dict[str, str], message: str
) -> None:
    answer = http.get("/_emulator/ui/api/calls", params=params)
    assert answer.status_code == 400
    error = answer.json()["error"]
    assert error["code"] == 400 and message in error["message"]


def test_summary_sessions_faults_and_counts(
    emu: FunctionsEmulator, any_client: CogniteClient, http: httpx.Client
) -> None:
    fn = emu.deploy(fixture_folder("hello"), external_id="hello")
    any_client.functions.schedules.create(name="s", cron_expression="0 * * * *", function_id=fn.id)
    emu.faults.add(status=503, method="GET", path="*/nothing", count=2)
    body = http.get("/_emulator/ui/api/summary").json()
    [session] = body["sessions"]
    assert session["status"] == "ACTIVE" and "nonce" not in session
    [fault] = body["faults"]
    assert (fault["status"], fault["method"], fault["count"]) == (503, "GET", 2)
    [function] = body["functions"]
    assert "calls" not in function  # calls are paged by /api/calls, not repeated in every poll
    emu.clock.advance(hours=2)
    body = http.get("/_emulator/ui/api/summary").json()
    assert body["callCount"] == 2 and body["functions"][0]["callCounts"] == {"Completed": 2}


def test_summary_globus_timers_and_roma_tasks_with_their_runs(
    emu: FunctionsEmulator, http: httpx.Client
) -> None:
    pytest.importorskip("globus_sdk")
    pytest.importorskip("huaweicloudsdkroma")
    import globus_sdk
    from huaweicloudsdkroma.v2 import CreateDispatchesRequest, TaskDispatch

    start = datetime(2026, 1, 1, tzinfo=timezone.utc)
    job = emu.globus_timer_client().create_job(
        globus_sdk.TimerJob("https://a.example/run", {}, start=start + timedelta(hours=1), interval=3600)
    )
    emu.roma.register_task("inst", "task-1", task_name="sync")
    emu.roma_client().create_dispatches(
        CreateDispatchesRequest(
            instance_id="inst", task_id="task-1", body=TaskDispatch(period="HOUR", dispatch_interval=1)
        )
    )
    emu.clock.advance(hours=3, minutes=5)
    body = http.get("/_emulator/ui/api/summary").json()
    [timer] = body["globus"]["jobs"]
    assert (timer["jobId"], timer["runCount"], timer["status"]) == (job["job_id"], 3, "loaded")
    assert [r["actionStatus"] for r in timer["runs"]] == ["SUCCEEDED"] * 3
    assert timer["runs"][0]["ranAt"] == "2026-01-01T03:00:00"  # newest first
    [task] = body["roma"]["tasks"]
    assert (task["taskName"], task["runCount"], task["dispatch"]["period"]) == ("sync", 3, "HOUR")
    assert [r["trigger"] for r in task["runs"]] == ["SCHEDULE"] * 3
    assert task["nextRunMs"] == int((start + timedelta(hours=4)).timestamp() * 1000)


def test_root_redirects_to_the_dashboard_keeping_the_query(http: httpx.Client) -> None:
    assert http.get("/").headers["location"] == "/_emulator/ui"
    answer = http.get("/", params={"project": "p 1", "token": "t"})
    assert answer.status_code == 307
    assert answer.headers["location"] == "/_emulator/ui?project=p+1&token=t"
