"""Bounded resources: time travel's answer, hung scheduled runs, disconnects, unknown projects."""

from __future__ import annotations

import asyncio
import logging
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from cognite.client import CogniteClient
from starlette.testclient import TestClient

from emulator import FunctionsEmulator
from emulator.app import project_routes

ROOT = Path(__file__).resolve().parent.parent
HANGS = """
import os, time

def handle(data):
    deadline = time.monotonic() + 60
    while not os.path.exists(data["release"]) and time.monotonic() < deadline:
        time.sleep(0.01)
    return "late"
"""


def handle():
    return "quick"


@pytest.fixture(params=["in-process", "server"])
def both(request: pytest.FixtureRequest) -> Iterator[tuple[FunctionsEmulator, CogniteClient]]:
    emu = FunctionsEmulator(project="known")
    if request.param == "in-process":
        yield emu, emu.client("ghost")
    else:
        with emu.serve() as server:
            yield emu, server.client("ghost")
    emu.close()


def test_reads_of_an_unknown_project_create_nothing(both) -> None:
    emu, ghost = both
    assert ghost.functions.list() == []
    assert ghost.functions.schedules.list() == []
    assert ghost.functions.retrieve(id=123456789) is None
    assert ghost.functions.status().status == "activated"
    assert emu.backend.projects() == [] and emu.state()["projects"] == {}


READS = ("/list", "/byids", "/search", "/aggregate", "/downloadlink", "/latest", "/query", "/sync")


def test_no_read_of_any_family_creates_an_unknown_project() -> None:
    emu = FunctionsEmulator(project="known", raise_server_exceptions=False)
    http = TestClient(emu.app, raise_server_exceptions=False)
    fill = {"dbName": "db", "tableName": "t"}
    tried = []
    for route in project_routes():
        methods = getattr(route, "methods", None) or set()
        path = "/api/v1/projects/ghost" + re.sub(
            r"\{([^}]+)\}", lambda m: fill.get(m.group(1), "1"), route.path
        )
        if "GET" in methods:
            http.get(path)
        elif "POST" in methods and path.endswith(READS):
            http.post(path, json={"items": [{"id": 1234567}]})
        else:
            continue
        tried.append(path)
        assert emu.backend.projects() == [], path
    assert len(tried) > 50
    emu.close()


def test_time_travel_keeps_only_what_the_store_keeps() -> None:
    emu = FunctionsEmulator(start="2026-01-01T00:00:00Z", max_calls_kept=100)
    fn = emu.deploy(function_handle=handle)
    emu.client().functions.schedules.create(name="m", cron_expression="* * * * *", function_id=fn.id)
    fired = emu.clock.advance(days=1)
    assert (fired.total, len(fired), fired.dropped) == (1440, 100, 1340)
    assert "100 of 1440" in repr(fired)
    kept = emu.backend.store(emu.project).calls
    assert {c.id for c in fired} == set(kept)
    assert fired[-1].scheduled_time == emu.clock.now_ms() and fired[-1].get_response() == "quick"
    small = emu.clock.advance(minutes=3)
    assert (small.total, len(small), small.dropped) == (3, 3, 0)
    emu.close()


def test_time_travel_with_a_facade_is_bounded_too() -> None:
    from emulator.roma.service import dispatch_from_body

    emu = FunctionsEmulator(start="2026-01-01T00:00:00Z", max_calls_kept=100)
    fn = emu.deploy(function_handle=handle)
    emu.client().functions.schedules.create(name="m", cron_expression="* * * * *", function_id=fn.id)
    task = emu.roma.register_task("instance", "task")  # a second timer source: the merged path
    emu.roma.set_dispatch(
        task, dispatch_from_body({"period": "MIN", "dispatch_interval": 1}, "task", emu.clock.now_ms())
    )
    fired = emu.clock.advance(days=1)
    assert (fired.total, len(fired), fired.dropped) == (1440, 100, 1340)
    assert len(fired.facade_runs) == 100 and fired.facade_runs[-1]["scheduled_time"] == emu.clock.now_ms()
    assert fired[-1].scheduled_time == emu.clock.now_ms()
    emu.close()


def test_a_hung_scheduled_run_times_out_on_time_and_the_others_still_run(tmp_path: Path) -> None:
    (tmp_path / "hangs").mkdir()
    (tmp_path / "hangs" / "handler.py").write_text(HANGS)
    release = tmp_path / "release"
    emu = FunctionsEmulator(start="2026-01-01T00:00:30Z", clock="wall", timeout=0.5)
    try:
        client = emu.client()
        hung = emu.deploy(folder=tmp_path / "hangs", external_id="hangs")
        ok = emu.deploy(function_handle=handle, external_id="quick")
        client.functions.schedules.create(
            name="hung", cron_expression="* * * * *", function_id=hung.id, data={"release": str(release)}
        )
        client.functions.schedules.create(name="ok", cron_expression="* * * * *", function_id=ok.id)
        fired = emu.clock.advance(minutes=2)  # two minutes of both schedules, in this thread
        by_function = {(c.function_id, c.scheduled_time): c.status for c in fired}
        assert sorted(by_function.values()) == ["Completed", "Completed", "Timeout", "Timeout"]
        assert all(s == "Timeout" for (f, _), s in by_function.items() if f == hung.id)
        timed_out = next(c for c in fired if c.function_id == hung.id)
        assert "timed out after 0.5 seconds" in timed_out.error["message"]
    finally:
        release.touch()  # the abandoned handler ends
        emu.close()


def test_the_other_schedules_keep_firing_while_a_run_hangs(tmp_path: Path) -> None:
    (tmp_path / "hangs").mkdir()
    (tmp_path / "hangs" / "handler.py").write_text(HANGS)
    release = tmp_path / "release"
    emu = FunctionsEmulator(start="2026-01-01T00:00:30Z", clock="wall", timeout=3)
    emu.context.settings.inline_seconds = 0.05  # a run slower than this goes on in the background
    try:
        client = emu.client()
        hung = emu.deploy(folder=tmp_path / "hangs", external_id="hangs")
        ok = emu.deploy(function_handle=handle, external_id="quick")
        client.functions.schedules.create(
            name="hung", cron_expression="* * * * *", function_id=hung.id, data={"release": str(release)}
        )
        client.functions.schedules.create(name="ok", cron_expression="* * * * *", function_id=ok.id)
        fired = emu.clock.advance(minutes=3)  # returns long before the hung runs' 3 s timeout
        quick_runs = [c for c in fired if c.function_id == ok.id]
        assert [c.status for c in quick_runs] == ["Completed"] * 3
        hung_ids = [c.id for c in fired if c.function_id == hung.id]
        assert len(hung_ids) == 3
        calls = emu.backend.store(emu.project).calls
        assert any(calls[i].status == "Running" for i in hung_ids)  # still going, in the background

        def all_timed_out() -> bool:
            return all(calls[i].status == "Timeout" for i in hung_ids)

        deadline = time.monotonic() + 60
        while not all_timed_out() and time.monotonic() < deadline:
            time.sleep(0.05)  # polling the background watcher, not timing anything
        assert all_timed_out()
        assert client.functions.calls.retrieve(call_id=hung_ids[0], function_id=hung.id).status == "Timeout"
    finally:
        release.touch()
        emu.close()


def test_a_client_disconnect_is_not_an_error(caplog: pytest.LogCaptureFixture) -> None:
    emu = FunctionsEmulator(project="p")
    sent: list[dict] = []

    async def receive() -> dict:
        return {"type": "http.disconnect"}

    async def send(message: dict) -> None:
        sent.append(message)

    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
        "scheme": "http", "path": "/api/v1/projects/p/functions/list", "raw_path": b"", "query_string": b"",
        "root_path": "", "headers": [(b"content-type", b"application/json"), (b"content-length", b"100")],
        "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 80),
    }  # fmt: skip
    with caplog.at_level(logging.ERROR, logger="emulator"):
        asyncio.run(emu.app(scope, receive, send))
    assert sent[0]["status"] == 499
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    emu.close()


TEN_YEARS = """
import resource
from emulator import FunctionsEmulator

def handle():
    return 1

emu = FunctionsEmulator(start="2026-01-01T00:00:00Z")
fn = emu.deploy(function_handle=handle)
emu.client().functions.schedules.create(name="m", cron_expression="* * * * *", function_id=fn.id)
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
fired = emu.clock.advance(days=3653)
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(fired.total, len(fired), (after - before) // 1024)
"""
BUDGET_MB = 150  # docs/benchmarks.md: growth of the peak RSS over the advance (measured: 53 MB)


@pytest.mark.timeout(900)
def test_ten_years_of_a_minutely_schedule_within_the_memory_budget(tmp_path: Path) -> None:
    script = tmp_path / "ten_years.py"  # a file: deploy(function_handle=) reads the handler's source
    script.write_text(TEN_YEARS)
    out = subprocess.run(
        [sys.executable, str(script)], cwd=ROOT, capture_output=True, text=True, timeout=900,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    total, kept, growth_mb = map(int, out.stdout.split())
    assert total == 3653 * 1440 and kept == 100_000
    assert growth_mb <= BUDGET_MB, f"peak RSS grew by {growth_mb} MB over the budget of {BUDGET_MB} MB"
