"""NaN, Infinity, out-of-range numbers and deep nesting are refused on every API that reads JSON.

Python's json module accepts NaN and Infinity; stored once, such a value made every later answer that
contains it (the state dump, a schedule's input data, Globus' job list) fail for ever. The SDKs
refuse to send them, so the bad bodies go raw; what follows goes through the real SDKs.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

from emulator import FunctionsEmulator
from emulator.app import project_routes

P = "/api/v1/projects/numbers"
JSON = {"content-type": "application/json"}
BAD_NUMBERS = {"NaN": b"NaN", "Infinity": b"Infinity", "-Infinity": b"-Infinity", "1e400": b"1e400"}
DEEP = b"[" * 100_000 + b"]" * 100_000


def handle(data):
    return data


@pytest.fixture(params=["in-process", "server"])
def env(request: pytest.FixtureRequest) -> Iterator[tuple[FunctionsEmulator, Any]]:
    emu = FunctionsEmulator(project="numbers", start="2026-01-01T00:00:00Z", raise_server_exceptions=False)
    emu.deploy(function_handle=handle, external_id="fn")
    if request.param == "in-process":
        yield emu, TestClient(emu.app, raise_server_exceptions=False)
    else:
        with emu.serve() as server, httpx.Client(base_url=server.base_url, timeout=30) as http:
            yield emu, http
    emu.close()


def _fn_id(emu: FunctionsEmulator) -> int:
    return emu.client().functions.retrieve(external_id="fn").id


def _dump_is_strict_json(emu: FunctionsEmulator) -> str:
    return json.dumps(emu.state(), allow_nan=False, sort_keys=True)


def _cdf_bodies(fn_id: int, number: bytes) -> list[tuple[str, bytes]]:
    return [
        ("/functions/schedules", b'{"items": [{"name": "s", "cronExpression": "* * * * *", "functionId": %d, '
         b'"data": {"x": %s}}]}' % (fn_id, number)),
        (f"/functions/{fn_id}/call", b'{"data": {"x": [%s]}}' % number),
        ("/files", b'{"name": "f.txt", "geoLocation": {"type": "Feature", "geometry": {"type": "Point", '
         b'"coordinates": [%s, 1]}}}' % number),
        ("/functions/list", b'{"limit": %s}' % number),
    ]  # fmt: skip


@pytest.mark.parametrize("number", list(BAD_NUMBERS), ids=list(BAD_NUMBERS))
def test_cdf_routes_refuse_non_finite_numbers(env, number: str) -> None:
    emu, http = env
    before = _dump_is_strict_json(emu)
    for path, body in _cdf_bodies(_fn_id(emu), BAD_NUMBERS[number]):
        answer = http.post(P + path, content=body, headers=JSON)
        assert answer.status_code == 400, (path, answer.text[:200])
        assert answer.json()["error"]["code"] == 400 and "JSON" in answer.json()["error"]["message"]
    assert _dump_is_strict_json(emu) == before
    assert emu.client().functions.schedules.list() == []


def _every_post_route(fn_id: int) -> list[str]:
    """Every POST path of the CDF API the emulator serves (the families included), parameters
    filled in; the not-implemented rest of the spec answers before reading a body."""
    fill = {"dbName": "db", "tableName": "t", "function_id:int": str(fn_id)}
    return [
        re.sub(r"\{([^}]+)\}", lambda m: fill.get(m.group(1), "1"), route.path)
        for route in project_routes()
        if "POST" in (getattr(route, "methods", None) or ()) and route.path != "/functions/status"
    ]


@pytest.mark.parametrize("number", ["NaN", "1e400"])
def test_every_family_refuses_non_finite_numbers(env, number: str) -> None:
    emu, http = env
    paths = _every_post_route(_fn_id(emu))
    assert {"/assets", "/timeseries/data", "/raw/dbs/db/tables/t/rows", "/models/instances"} <= set(paths)
    before = _records(emu)
    body = b'{"items": [{"externalId": "x", "value": %s}]}' % BAD_NUMBERS[number]
    for path in paths:
        answer = http.post(P + path, content=body, headers=JSON)
        assert answer.status_code == 400 and answer.json()["error"]["code"] == 400, (path, answer.text[:200])
    assert _records(emu) == before
    _dump_is_strict_json(emu)


def _records(emu: FunctionsEmulator) -> dict[str, Any]:
    """The state dump without the families' parts that hold nothing (a route may make its part empty
    before it reads the body)."""

    def empty(value: Any) -> bool:
        return not value or (isinstance(value, dict) and all(empty(v) for v in value.values()))

    state = emu.state()
    for project in state["projects"].values():
        project["parts"] = {k: v for k, v in project["parts"].items() if not empty(v)}
    return state


def test_cdf_and_admin_routes_refuse_deep_nesting(env) -> None:
    _, http = env
    for path in (P + "/functions/list", "/_emulator/clock/advance", "/_emulator/faults"):
        answer = http.post(path, content=DEEP, headers=JSON)
        assert answer.status_code == 400 and answer.json()["error"]["code"] == 400


@pytest.mark.parametrize("number", list(BAD_NUMBERS), ids=list(BAD_NUMBERS))
def test_admin_routes_refuse_non_finite_numbers(env, number: str) -> None:
    emu, http = env
    now = emu.clock.now_ms()
    for path, body in (
        ("/_emulator/clock/advance", b'{"seconds": %s}' % BAD_NUMBERS[number]),
        ("/_emulator/clock/advance", b'{"to": %s}' % BAD_NUMBERS[number]),
        ("/_emulator/faults", b'{"status": 503, "latencyMs": %s}' % BAD_NUMBERS[number]),
    ):
        answer = http.post(path, content=body, headers=JSON)
        assert answer.status_code == 400 and answer.json()["error"]["code"] == 400, (path, answer.text)
    assert emu.clock.now_ms() == now and emu.faults.list() == []


def test_admin_advance_refuses_absurd_amounts(env) -> None:
    _, http = env
    for seconds in (1e20, 10**30):
        answer = http.post("/_emulator/clock/advance", json={"seconds": seconds})
        assert answer.status_code == 400 and answer.json()["error"]["code"] == 400


@pytest.mark.parametrize("amount", [float("inf"), float("-inf"), float("nan"), 1e20, 10**30])
def test_clock_advance_refuses_non_finite_or_absurd_amounts(amount: float) -> None:
    emu = FunctionsEmulator()
    now = emu.clock.now_ms()
    with pytest.raises(ValueError):
        emu.clock.advance(amount)
    with pytest.raises(ValueError):
        emu.clock.advance(days=amount)
    with pytest.raises(ValueError):
        emu.clock.advance_to(amount)
    assert emu.clock.now_ms() == now
    emu.close()


# --- Globus Timer: its own 422 shape (FastAPI's, for every body it cannot read) ------------------------

globus_sdk = pytest.importorskip("globus_sdk")
JOB = (
    b'{"name": "j", "callback_url": "https://actions.globus.org/hello_world", "start": "2026-01-01T00:01:00Z",'
    b' "interval": 60, "callback_body": {"x": %s}}'
)


def _globus_url(emu: FunctionsEmulator) -> str:
    return str(emu.globus_timer_client().base_url).rstrip("/")


@pytest.mark.parametrize("body", [*(JOB % n for n in BAD_NUMBERS.values()), DEEP], ids=[*BAD_NUMBERS, "deep"])
def test_globus_refuses_bad_numbers_and_keeps_listing(body: bytes) -> None:
    emu = FunctionsEmulator(start="2026-01-01T00:00:00Z", raise_server_exceptions=False)
    timers = emu.globus_timer_client()
    answer = httpx.post(_globus_url(emu) + "/jobs/", content=body, headers=JSON, timeout=30)
    assert answer.status_code == 422, answer.text[:200]
    assert answer.json()["detail"][0]["type"] == "value_error.jsondecode"
    assert timers.list_jobs()["jobs"] == []  # nothing stored, the list still answers
    emu.close()


def test_globus_job_whose_next_run_is_past_the_clock_range_ends() -> None:
    emu = FunctionsEmulator(start="2026-01-01T00:00:00Z")
    timers = emu.globus_timer_client()
    body = json.loads(JOB % b"1")
    body["interval"] = 10**15  # seconds: the second run would be long after 9999
    job = httpx.post(_globus_url(emu) + "/jobs/", json=body, timeout=30).json()
    emu.clock.advance(minutes=2)
    assert timers.get_job(job["job_id"])["status"] == "ended"
    assert [j["job_id"] for j in timers.list_jobs()["jobs"]] == [job["job_id"]]
    emu.close()


# --- ROMA Connect: its own {"code", "reason": {"error_code", "error_msg"}} shape --------------------

roma = pytest.importorskip("huaweicloudsdkroma.v2")


def _dispatches_url(emu: FunctionsEmulator) -> str:
    emu.roma_client()
    return emu.context.clients.loopback_url() + "/v2/roma-project/fdi/instances/inst/tasks/t/dispatches"


@pytest.mark.parametrize(
    "body",
    [
        *(b'{"period": "DAY", "dispatch_interval": %s}' % n for n in BAD_NUMBERS.values()),
        DEEP,
        b'{"use_quartz_cron": true, "cron": "0 0 12 * * ?", "cron_timezone": 8}',
        b'{"use_quartz_cron": true, "cron": ["0 0 12 * * ?"]}',
    ],
    ids=[*BAD_NUMBERS, "deep", "timezone-not-string", "cron-not-string"],
)
def test_roma_refuses_bad_bodies_in_its_own_shape(body: bytes) -> None:
    emu = FunctionsEmulator(start="2026-01-01T00:00:00Z", raise_server_exceptions=False)
    emu.roma.register_task("inst", "t")
    answer = httpx.post(_dispatches_url(emu), content=body, headers=JSON, timeout=30)
    assert answer.status_code == 400, answer.text[:200]
    assert answer.json()["reason"]["error_code"].startswith("FDI.")
    assert emu.roma.tasks[("roma-project", "inst", "t")].dispatch is None
    emu.close()


def test_roma_dispatch_past_the_clock_range_ends_with_an_error_and_never_blocks_the_clock() -> None:
    emu = FunctionsEmulator(start="2026-01-01T00:00:00Z")
    fn = emu.deploy(function_handle=handle, external_id="fn")
    emu.client().functions.schedules.create(
        name="daily", cron_expression="0 0 * * *", function_id=fn.id, data={"a": 1}
    )
    emu.roma.register_task("inst", "t")
    client = emu.roma_client()
    client.create_dispatches(
        roma.CreateDispatchesRequest(
            instance_id="inst",
            task_id="t",
            body=roma.TaskDispatch(period="MON", dispatch_interval=100_000, start_datetime=1767229200000),
        )
    )
    fired = emu.clock.advance(days=3)  # the first run, then no next one can exist before 9999
    assert len([c for c in fired if getattr(c, "schedule_id", None)]) == 3
    runs = emu.roma.tasks[("roma-project", "inst", "t")].runs
    assert [r["status"] for r in runs] == ["SUCCESS", "FAILED"]
    assert "9999" in runs[-1]["error"]
    assert len(emu.clock.advance(days=2)) == 2  # the clock keeps moving and CDF runs keep firing
    emu.close()
