"""The Globus Timer facade through the real globus-sdk TimersClient."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

globus_sdk = pytest.importorskip("globus_sdk")

from emulator import FunctionsEmulator  # noqa: E402

UTC = timezone.utc  # datetime.UTC is new in Python 3.11

START = datetime(2026, 1, 1, tzinfo=UTC)
CALLBACK = "https://actions.example.org/run"


@pytest.fixture
def timers(emu: FunctionsEmulator):
    return emu.globus_timer_client()


def _job(**kwargs):
    kwargs.setdefault("start", START + timedelta(hours=1))
    kwargs.setdefault("interval", 3600)
    return globus_sdk.TimerJob(CALLBACK, {"payload": 1}, **kwargs)


def test_create_get_list_update_delete(emu: FunctionsEmulator, timers) -> None:
    created = timers.create_job(_job(name="hourly"))
    assert created.http_status == 201
    job_id = created["job_id"]
    assert created["status"] == "new" and created["interval"] == 3600
    assert created["next_run"] == "2026-01-01T01:00:00+00:00" and created["n_runs"] == 0
    got = timers.get_job(job_id)
    assert got["name"] == "hourly" and got["callback_body"] == {"payload": 1}
    assert got["results"] == {"data": [], "page_next": None}
    assert [j["job_id"] for j in timers.list_jobs()["jobs"]] == [job_id]
    updated = timers.update_job(job_id, {"name": "renamed", "interval": 1800})
    assert updated["name"] == "renamed" and updated["interval"] == 1800
    assert timers.delete_job(job_id)["status"] == "delete_pending"
    assert timers.list_jobs()["jobs"] == []
    with pytest.raises(globus_sdk.TimersAPIError) as err:
        timers.get_job(job_id)
    assert err.value.http_status == 404


def test_clock_advance_fires_runs_in_order_with_cdf_schedules(emu: FunctionsEmulator, timers) -> None:
    seen: list[dict] = []
    emu.globus.register_callback(CALLBACK, lambda body: seen.append(body))
    job_id = timers.create_job(_job(interval=1800))["job_id"]

    def handle():
        return "cdf"

    fn = emu.deploy(function_handle=handle)
    emu.client().functions.schedules.create(name="h", cron_expression="15 * * * *", function_id=fn.id)
    cdf_calls = emu.clock.advance(hours=3)
    assert [c.scheduled_time for c in cdf_calls] == [
        int((START + timedelta(hours=h, minutes=15)).timestamp() * 1000) for h in range(3)
    ]
    job = timers.get_job(job_id)
    assert job["n_runs"] == 5 and len(seen) == 5  # 01:00, 01:30, 02:00, 02:30, 03:00
    assert [r["ran_at"] for r in reversed(job["results"]["data"])] == [
        (START + timedelta(minutes=m)).replace(tzinfo=None).isoformat() for m in (60, 90, 120, 150, 180)
    ]
    assert (
        job["last_ran_at"] == "2026-01-01T03:00:00+00:00" and job["next_run"] == "2026-01-01T03:30:00+00:00"
    )


def test_stop_after_n_and_stop_after(emu: FunctionsEmulator, timers) -> None:
    by_count = timers.create_job(_job(stop_after_n=3))["job_id"]
    by_time = timers.create_job(_job(stop_after=START + timedelta(hours=2, minutes=30)))["job_id"]
    once = timers.create_job(_job(interval=None))["job_id"]
    emu.clock.advance(days=1)
    assert timers.get_job(by_count)["n_runs"] == 3 and timers.get_job(by_count)["status"] == "ended"
    assert timers.get_job(by_time)["n_runs"] == 2 and timers.get_job(by_time)["status"] == "ended"
    assert timers.get_job(once)["n_runs"] == 1 and timers.get_job(once)["next_run"] is None


def test_pause_skips_the_missed_ticks(emu: FunctionsEmulator, timers) -> None:
    job_id = timers.create_job(_job())["job_id"]
    emu.clock.advance(hours=1)
    assert timers.get_job(job_id)["n_runs"] == 1 and timers.get_job(job_id)["status"] == "loaded"
    assert timers.pause_job(job_id).data == {"message": f"Successfully paused job {job_id}."}
    paused = timers.get_job(job_id)
    assert paused["status"] == "inactive" and paused["inactive_reason"] == {"cause": "user", "detail": None}
    emu.clock.advance(hours=5, minutes=30)
    assert timers.get_job(job_id)["n_runs"] == 1  # nothing while paused
    assert timers.resume_job(job_id).data == {"message": f"Successfully resumed job {job_id}."}
    emu.clock.advance(seconds=1)
    job = timers.get_job(job_id)
    assert job["status"] == "loaded" and job["n_runs"] == 1  # the five missed ticks are skipped
    assert job["next_run"] == "2026-01-01T07:00:00+00:00"
    emu.clock.advance_to(START + timedelta(hours=7))
    assert timers.get_job(job_id)["n_runs"] == 2


def test_failed_callbacks_fail_their_actions(emu: FunctionsEmulator, timers) -> None:
    def failing(body):
        raise RuntimeError("action provider down")

    emu.globus.register_callback(CALLBACK, failing)
    job_id = timers.create_job(_job())["job_id"]
    emu.clock.advance(hours=2, minutes=5)  # both actions have finished (60 s each)
    job = timers.get_job(job_id)
    assert job["n_runs"] == 2 and job["n_errors"] == 2
    latest = job["results"]["data"][0]
    assert latest["status"] == 202 and latest["data"]["status"] == "FAILED"
    assert "action provider down" in latest["data"]["details"]


def test_v2_transfer_timer_once_and_recurring(emu: FunctionsEmulator, timers) -> None:
    data = globus_sdk.TransferData(source_endpoint="src-ep", destination_endpoint="dst-ep", label="t")
    data.add_item("/a", "/b")
    schedule = globus_sdk.RecurringTimerSchedule(
        interval_seconds=600, start=START + timedelta(minutes=10), end={"condition": "iterations", "count": 4}
    )
    created = timers.create_timer(globus_sdk.TransferTimer(name="tt", schedule=schedule, body=data))
    assert created.http_status == 201
    timer = created["timer"]
    assert timer["timer_type"] == "transfer" and timer["body"]["DATA"][0]["source_path"] == "/a"
    once = timers.create_timer(
        globus_sdk.TransferTimer(
            schedule=globus_sdk.OnceTimerSchedule(datetime=START + timedelta(minutes=5)), body=data
        )
    )["timer"]
    emu.clock.advance(hours=2)
    assert timers.get_job(timer["job_id"])["n_runs"] == 4
    assert timers.get_job(once["job_id"])["n_runs"] == 1


@pytest.mark.parametrize(
    "doc",
    [
        {"callback_body": {}, "start": "2026-01-01T00:00:00Z"},
        {"callback_url": CALLBACK, "callback_body": {}, "start": "not a date"},
        {"callback_url": CALLBACK, "callback_body": {}, "start": "2026-01-01T00:00:00Z", "interval": -5},
        {"callback_url": CALLBACK, "callback_body": {}, "start": "2026-01-01T00:00:00Z", "interval": 0.5},
        {"callback_url": CALLBACK, "callback_body": [], "start": "2026-01-01T00:00:00Z"},
        {
            "callback_url": CALLBACK,
            "callback_body": {},
            "start": "2026-01-01T00:00:00Z",
            "interval": 60,
            "stop_after_n": 1,
        },
    ],
    ids=[
        "missing-url",
        "bad-start",
        "negative-interval",
        "fractional-interval",
        "body-not-object",
        "interval-on-a-once-job",
    ],
)
def test_validation_errors_are_422_with_details(timers, doc) -> None:
    with pytest.raises(globus_sdk.TimersAPIError) as err:
        timers.create_job(doc)
    assert err.value.http_status == 422
    assert err.value.errors and err.value.errors[0].message


def test_unknown_job_is_404(timers) -> None:
    for call in (timers.get_job, timers.delete_job, timers.pause_job, timers.resume_job):
        with pytest.raises(globus_sdk.TimersAPIError) as err:
            call("00000000-0000-0000-0000-000000000000")
        assert err.value.http_status == 404


def test_unknown_routes_answer_in_the_services_shape(emu: FunctionsEmulator) -> None:
    import httpx

    with emu.serve() as server:
        for method, path in (("GET", "/jobs/x/y"), ("PUT", "/jobs/"), ("GET", "/nothing")):
            answer = httpx.request(method, f"{server.base_url}/globus-timer{path}")
            assert answer.status_code == 404
            assert answer.json()["error"]["code"] == "NOT_FOUND" and answer.json()["error"]["status"] == 404
