"""The admin API (/_emulator/...), its Python mirror, fault injection and strict auth."""

from __future__ import annotations

import time

import httpx
import pytest
from cognite.client import global_config
from cognite.client.exceptions import CogniteAPIError, CogniteProjectAccessError

from emulator import FunctionsEmulator

START_MS = 1767225600000


def handle(data):
    return data


@pytest.fixture
def http(emu: FunctionsEmulator):
    with emu.serve() as server, httpx.Client(base_url=server.base_url, timeout=30) as session:
        yield session


@pytest.fixture
def fast_retries():
    saved = (global_config.max_retry_backoff, global_config.max_retries)
    global_config.max_retry_backoff = 0
    yield
    global_config.max_retry_backoff, global_config.max_retries = saved


def test_clock_endpoints(emu: FunctionsEmulator, http: httpx.Client) -> None:
    assert http.get("/_emulator/clock").json() == {
        "now": START_MS,
        "iso": "2026-01-01T00:00:00+00:00",
        "mode": "virtual",
    }
    fn = emu.deploy(function_handle=handle)
    emu.client().functions.schedules.create(
        name="h", cron_expression="0 * * * *", function_id=fn.id, data={"a": 1}
    )
    res = http.post("/_emulator/clock/advance", json={"seconds": 7200}).json()
    assert res["now"] == START_MS + 7_200_000
    assert [c["scheduledTime"] for c in res["calls"]] == [START_MS + 3_600_000, START_MS + 7_200_000]
    assert all(c["status"] == "Completed" for c in res["calls"])
    res = http.post("/_emulator/clock/advance", json={"to": "2026-01-01T05:00:00Z"}).json()
    assert res["now"] == START_MS + 5 * 3_600_000 and len(res["calls"]) == 3
    res = http.post("/_emulator/clock/advance", json={"to": START_MS + 6 * 3_600_000}).json()
    assert len(res["calls"]) == 1
    for bad in ({"seconds": -1}, {"to": "2020-01-01T00:00:00Z"}, {}, {"seconds": 1, "to": 1}, {"minutes": 1}):
        answer = http.post("/_emulator/clock/advance", json=bad)
        assert answer.status_code == 400 and "message" in answer.json()["error"]


def test_state_and_reset(emu: FunctionsEmulator, http: httpx.Client) -> None:
    fn = emu.deploy(function_handle=handle, external_id="x")
    emu.client().functions.call(id=fn.id, data={"k": 1})
    state = http.get("/_emulator/state").json()
    project = state["projects"]["test-project"]
    assert [f["external_id"] for f in project["functions"]] == ["x"]
    assert len(project["calls"]) == 1 and project["calls"][0]["response"] == {"k": 1}
    assert state == emu.state()
    assert http.post("/_emulator/reset").status_code == 200
    assert emu.client().functions.list() == []
    assert emu.clock.now_ms() == START_MS  # reset keeps the clock


def test_faults_are_retried_by_the_sdk(
    emu: FunctionsEmulator, http: httpx.Client, fast_retries: None
) -> None:
    fn = emu.deploy(function_handle=handle)
    res = http.post(
        "/_emulator/faults", json={"status": 429, "method": "POST", "path": "*/functions/*/call", "count": 2}
    )
    assert res.status_code == 201
    call = emu.client().functions.call(id=fn.id, data={"ok": True})  # two 429s, retried, then success
    assert call.status == "Completed" and call.get_response() == {"ok": True}
    assert http.get("/_emulator/faults").json() == {"items": []}
    assert len(emu.client().functions.calls.list(function_id=fn.id)) == 1


def test_fault_latency_and_clear(emu: FunctionsEmulator, http: httpx.Client) -> None:
    emu.faults.add(status=503, path="*/functions/limits", count=5, latency=0.2)
    started = time.monotonic()
    answer = http.get(f"/api/v1/projects/{emu.project}/functions/limits")
    assert answer.status_code == 503 and answer.json()["error"]["code"] == 503
    assert time.monotonic() - started >= 0.2
    assert http.delete("/_emulator/faults").status_code == 200
    assert http.get(f"/api/v1/projects/{emu.project}/functions/limits").status_code == 200
    assert http.post("/_emulator/faults", json={"status": 200}).status_code == 400


def test_non_retryable_fault_surfaces_in_the_sdk(emu: FunctionsEmulator, fast_retries: None) -> None:
    emu.faults.add(status=500, method="POST", path="*/functions/list")
    with pytest.raises(CogniteAPIError) as err:
        emu.client().functions.list()
    assert err.value.code == 500
    assert emu.client().functions.list() == []


def test_strict_auth() -> None:
    emu = FunctionsEmulator(auth="strict")
    emu.auth.bind("token-a", ["a"])
    fn = emu.deploy(function_handle=handle, project="a")
    with emu.serve() as server:
        anonymous = httpx.get(f"{server.base_url}/api/v1/projects/a/functions", timeout=30)
        assert anonymous.status_code == 401 and anonymous.json()["error"]["code"] == 401
        assert server.client("a", token="token-a").functions.retrieve(id=fn.id).id == fn.id
        with pytest.raises(CogniteAPIError) as err:
            server.client("b", token="token-a").functions.list()
        assert err.value.code == 403
        with pytest.raises(CogniteProjectAccessError):  # unknown tokens are refused
            server.client("b", token="unbound").functions.list()
    emu.close()


def test_admin_routes_answer_in_cdf_shape_for_unknown_paths(http: httpx.Client) -> None:
    answer = http.get("/_emulator/nope")
    assert answer.status_code == 404 and answer.json()["error"]["code"] == 404


@pytest.mark.parametrize(
    "body",
    [
        {"status": 429, "path": "^(["},  # not a regular expression
        {"status": "429"},
        {"status": True},
        {"count": 1.5},
        {"count": 0},
        {"method": 5},
        {"method": "FETCH"},
        {"path": ""},
        {"latencyMs": "10"},
        {"latencyMs": 120_000},
        {"message": {"nested": 1}},
        {"latencyMs": 1, "latency_ms": 1},
        {"unknown": 1},
    ],
)
def test_bad_faults_are_400_in_cdf_shape(emu: FunctionsEmulator, http: httpx.Client, body: dict) -> None:
    answer = http.post("/_emulator/faults", json=body)
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"]["code"] == 400
    assert emu.faults.list() == []
    with pytest.raises(ValueError):
        emu.faults.add(status=429, path="^([")


def test_regex_fault_paths_and_method_filter(emu: FunctionsEmulator, http: httpx.Client) -> None:
    http.post(
        "/_emulator/faults",
        json={"status": 503, "method": "get", "path": r"^/api/v1/projects/[^/]+/functions/limits$"},
    )
    assert http.post(f"/api/v1/projects/{emu.project}/functions/list", json={}).status_code == 200
    assert http.get(f"/api/v1/projects/{emu.project}/functions/limits").status_code == 503
    assert http.get(f"/api/v1/projects/{emu.project}/functions/limits").status_code == 200  # count 1: used up


@pytest.mark.parametrize(
    "raw", ['{"seconds": Infinity}', '{"seconds": 1e30}', '{"seconds": NaN}', '{"to": true}']
)
def test_bad_clock_moves_are_400(emu: FunctionsEmulator, http: httpx.Client, raw: str) -> None:
    answer = http.post("/_emulator/clock/advance", content=raw, headers={"content-type": "application/json"})
    assert answer.status_code == 400, answer.text
    assert emu.clock.now_ms() == START_MS


def test_fault_aliases_latency_seconds_and_pattern(emu: FunctionsEmulator, http: httpx.Client) -> None:
    res = http.post(
        "/_emulator/faults", json={"status": 503, "pattern": "*/functions/limits", "latency": 0.05}
    )
    assert res.status_code == 201
    assert emu.faults.list()[0]["path"] == "*/functions/limits" and emu.faults.list()[0]["latency_ms"] == 50
    assert (
        http.post("/_emulator/faults", json={"status": 503, "latency": 1, "latencyMs": 5}).status_code == 400
    )
    assert (
        http.post("/_emulator/faults", json={"status": 503, "path": "*", "pattern": "*"}).status_code == 400
    )
