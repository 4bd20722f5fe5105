"""The Globus Timer facade against the canned real-API payloads that globus-sdk ships
(``globus_sdk.testing``: timer.get_job, create_timer, pause_job, ...), through the real TimersClient:
documents, statuses, run entries, callback URLs and scopes, the action model on the virtual clock,
consent errors and ``resume_job(update_credentials=True)``."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import pytest

globus_sdk = pytest.importorskip("globus_sdk")
testing = pytest.importorskip("globus_sdk.testing")

from emulator import FunctionsEmulator  # noqa: E402

UTC = timezone.utc  # datetime.UTC is new in Python 3.11

START = datetime(2026, 1, 1, tzinfo=UTC)
TRANSFER_URL = "https://actions.automate.globus.org/transfer/transfer/run"
EMULATOR_ONLY = {"activity"}  # fields the emulator adds to the service's documents


def canned(set_id: str, case: str = "default") -> dict:
    return testing.get_response_set(set_id).lookup(case).json


@pytest.fixture
def emu():
    emulator = FunctionsEmulator(start=START)
    yield emulator
    emulator.close()


@pytest.fixture
def timers(emu: FunctionsEmulator):
    return emu.globus_timer_client()


def transfer_job(**kwargs):
    body = {"body": {"label": "t", "source_endpoint_id": "src", "destination_endpoint_id": "dst"}}
    return globus_sdk.TimerJob(
        TRANSFER_URL, body, START + timedelta(hours=1), kwargs.pop("interval", 3600), **kwargs
    )


def flow_timer(flow_id: str, schedule=None):
    schedule = schedule or globus_sdk.RecurringTimerSchedule(
        interval_seconds=3600, start=START + timedelta(hours=1)
    )
    return globus_sdk.FlowTimer(flow_id=flow_id, name="ft", schedule=schedule, body={"body": {"k": 1}})


def same_fields(ours: dict, reference: dict) -> None:
    assert set(ours) - EMULATOR_ONLY == set(reference), set(ours) ^ set(reference)


def test_job_document_has_the_services_fields(emu: FunctionsEmulator, timers) -> None:
    created = timers.create_job(transfer_job(name="example timer", stop_after_n=3))
    reference = canned("timer.get_job")
    same_fields(created.data, reference)
    same_fields(timers.get_job(created["job_id"]).data, reference)
    same_fields(timers.list_jobs()["jobs"][0], canned("timer.list_jobs")["jobs"][0])
    assert set(timers.list_jobs().data) == set(canned("timer.list_jobs"))  # no page_next
    assert created["status"] == "new" and created["submitted_at"] == START.isoformat()
    assert created["stop_after"] == {"date": None, "n_runs": 3} and created["inactive_reason"] is None
    assert created["results"] == {"data": [], "page_next": None}
    assert created["activity"] == {"code": "awaiting_next_run"}
    emu.clock.advance(hours=1)
    job = timers.get_job(created["job_id"])
    assert job["status"] == "loaded" and job["n_runs"] == 1


def test_run_entries_are_the_action_providers_answers(emu: FunctionsEmulator, timers) -> None:
    job_id = timers.create_job(transfer_job())["job_id"]
    emu.clock.advance(hours=1)
    entry = timers.get_job(job_id)["results"]["data"][0]
    reference = canned("timer.get_job")["results"]["data"][0]
    assert set(entry) == set(reference) and set(entry["data"]) == set(reference["data"])
    assert entry["status"] == 202 and entry["errors"] is None and entry["ran_at"] == "2026-01-01T01:00:00"
    assert entry["data"]["status"] == "ACTIVE" and entry["data"]["completion_time"] is None
    assert entry["data"]["details"]["type"] == "TRANSFER"
    assert timers.get_job(job_id)["activity"] == {"code": "run_in_progress"}
    emu.clock.advance(seconds=60)  # the default action duration
    done = timers.get_job(job_id)
    assert done["results"]["data"][0]["data"]["status"] == "SUCCEEDED"
    assert done["activity"] == {"code": "awaiting_next_run"} and done["n_errors"] == 0


def test_v2_timers_answer_the_services_documents(emu: FunctionsEmulator, timers) -> None:
    data = globus_sdk.TransferData(source_endpoint=str(uuid.uuid4()), destination_endpoint=str(uuid.uuid4()))
    data.add_item("/a", "/b")
    schedule = globus_sdk.RecurringTimerSchedule(
        interval_seconds=604800,
        start=START + timedelta(hours=5),
        end={"condition": "iterations", "iterations": 2},
    )
    transfer = timers.create_timer(
        globus_sdk.TransferTimer(name="Very Cool Timer", schedule=schedule, body=data)
    )
    reference = canned("timer.create_timer")["timer"]
    same_fields(transfer["timer"], reference)
    assert transfer["timer"]["schedule"] == {**reference["schedule"], "start": "2026-01-01T05:00:00+00:00"}
    assert transfer["timer"]["status"] == "new"
    flow_id = str(uuid.uuid4())
    once = globus_sdk.OnceTimerSchedule(datetime=START + timedelta(hours=2))
    flow = timers.create_timer(flow_timer(flow_id, once))["timer"]
    reference = canned("timer.create_timer", "flow_timer_success")["timer"]
    same_fields(flow, reference)
    assert flow["callback_url"] == f"https://flows.automate.globus.org/flows/{flow_id}/run"
    assert flow["scope"] == f"https://auth.globus.org/scopes/{flow_id}/flow_{flow_id.replace('-', '_')}_user"
    assert flow["stop_after"] == {"date": None, "n_runs": 1} and flow["results"] == []
    assert flow["callback_body"] == {"body": {"k": 1}}
    assert (
        timers.get_job(transfer["timer"]["job_id"])["callback_url"] == TRANSFER_URL
    )  # globus-cli's "Transfer"


def test_pause_resume_and_delete_answers(emu: FunctionsEmulator, timers) -> None:
    job_id = timers.create_job(transfer_job())["job_id"]
    assert set(timers.pause_job(job_id).data) == set(canned("timer.pause_job"))
    paused = timers.get_job(job_id)
    assert paused["status"] == "inactive"
    assert paused["inactive_reason"] == canned("timer.get_job", "inactive_user")["inactive_reason"]
    assert paused["activity"] == {"code": "paused"}
    assert set(timers.resume_job(job_id).data) == set(canned("timer.resume_job"))
    assert timers.get_job(job_id)["status"] == "new"
    deleted = timers.delete_job(job_id)
    same_fields(deleted.data, canned("timer.delete_job"))
    assert deleted["status"] == "delete_pending"


def test_list_jobs_order(emu: FunctionsEmulator, timers) -> None:
    first = timers.create_job(transfer_job(name="b"))["job_id"]
    emu.clock.advance(seconds=1)
    second = timers.create_job(transfer_job(name="a"))["job_id"]
    ids = lambda **q: [j["job_id"] for j in timers.list_jobs(query_params=q)["jobs"]]  # noqa: E731
    assert ids() == [first, second]
    assert ids(order="submitted_at desc") == [second, first]
    assert ids(order="name") == [second, first]
    with pytest.raises(globus_sdk.TimersAPIError) as err:
        timers.list_jobs(query_params={"order": "colour"})
    assert err.value.http_status == 422


def test_scripted_failure_and_durations(emu: FunctionsEmulator, timers) -> None:
    job_id = timers.create_job(transfer_job())["job_id"]
    emu.globus.script(job_id, "failure", "success", duration_s=600)
    emu.clock.advance(hours=1, minutes=5)
    job = timers.get_job(job_id)
    assert job["results"]["data"][0]["data"]["status"] == "ACTIVE" and job["n_errors"] == 0  # 10 minutes
    emu.clock.advance(minutes=5)
    job = timers.get_job(job_id)
    assert job["results"]["data"][0]["data"]["status"] == "FAILED" and job["n_errors"] == 1
    assert job["results"]["data"][0]["data"]["details"]["fatal_error"]["code"] == "FAILED"
    emu.clock.advance(hours=1)
    statuses = [r["data"]["status"] for r in timers.get_job(job_id)["results"]["data"]]
    assert statuses == ["SUCCEEDED", "FAILED"] and timers.get_job(job_id)["n_errors"] == 1
    with pytest.raises(ValueError, match="unknown outcome"):
        emu.globus.script(job_id, "explode")


def test_consent_error_inactivates_until_credentials_are_updated(emu: FunctionsEmulator, timers) -> None:
    flow_id = str(uuid.uuid4())
    job_id = timers.create_timer(flow_timer(flow_id))["timer"]["job_id"]
    emu.globus.script(job_id, "consent_required")
    emu.clock.advance(hours=3)
    job = timers.get_job(job_id)
    reference = canned("timer.get_job", "inactive_gare")
    assert job["status"] == "inactive" and job["n_runs"] == 1 and job["n_errors"] == 1
    assert job["inactive_reason"]["cause"] == reference["inactive_reason"]["cause"]
    assert set(job["inactive_reason"]["detail"]) == set(reference["inactive_reason"]["detail"])
    params = job["inactive_reason"]["detail"]["authorization_parameters"]
    assert params["required_scopes"] == [job["scope"]]
    entry = job["results"]["data"][0]
    assert (
        entry["status"] == 403 and entry["data"] is None and entry["errors"][0]["code"] == "ConsentRequired"
    )
    timers.resume_job(job_id, update_credentials=False)  # the same credentials: still no consent
    emu.clock.advance(hours=1)
    assert timers.get_job(job_id)["status"] == "inactive" and timers.get_job(job_id)["n_errors"] == 2
    timers.resume_job(job_id, update_credentials=True)
    emu.clock.advance(hours=1)
    job = timers.get_job(job_id)
    assert job["status"] == "loaded" and job["inactive_reason"] is None and job["n_runs"] == 3
    assert job["results"]["data"][0]["status"] == 202


def test_resume_without_the_flag_updates_credentials_for_an_auth_reason(
    emu: FunctionsEmulator, timers
) -> None:
    job_id = timers.create_job(transfer_job())["job_id"]
    emu.globus.script(job_id, "consent_required")
    emu.clock.advance(hours=1)
    timers.resume_job(job_id)  # the service decides from the inactive reason
    emu.clock.advance(hours=1)
    assert timers.get_job(job_id)["status"] == "loaded" and timers.get_job(job_id)["n_errors"] == 1


def test_the_canned_jobs_own_fields_are_a_valid_request(timers) -> None:
    reference = canned("timer.get_job")
    request = {
        k: reference[k] for k in ("name", "start", "interval", "callback_url", "callback_body", "scope")
    }
    created = timers.create_job(request)  # its interval is a float, 864000.0
    assert created["interval"] == 864000 and created["callback_url"] == reference["callback_url"]
    # Its start (2022) is long past: the first run is the next tick of its 10-day period after now.
    next_run = datetime.fromisoformat(created["next_run"])
    assert created["status"] == "new" and START < next_run <= START + timedelta(days=10)
    assert (next_run - datetime.fromisoformat(reference["start"])).total_seconds() % 864000 == 0
