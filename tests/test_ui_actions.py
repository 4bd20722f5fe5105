"""What the dashboard does, in a real headless Chromium: call a function with JSON data from the page,
delete a function or a schedule, reset (each behind a confirm), filter and page through calls, show
sessions, faults, Globus timers and ROMA tasks with their runs, and escape everything users wrote.

Every action goes through the emulator's own routes (CDF's or the admin API); the tests check the
result through the emulator as well as on the page. Set ``UPDATE_DASHBOARD_SCREENSHOT=1`` to refresh
docs/dashboard.png from ``test_sessions_faults_globus_and_roma``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from cognite.client.exceptions import CogniteAPIError

from emulator import FunctionsEmulator
from tests.conftest import fixture_folder
from tests.ui_kit import (
    START,
    by_testid,
    chromium,
    click_first,
    css,
    open_page,
    save_screenshot,
    serve,
    wait_for,
)

pytestmark = [pytest.mark.timeout(120), pytest.mark.functions_emulator(project="ui-project", start=START)]


@pytest.fixture
def base_url(emu: FunctionsEmulator) -> Iterator[str]:
    with serve(emu) as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    yield from chromium()


def text_of(browser: Any, testid: str) -> str:
    found = by_testid(browser, testid)
    return str(found[0].text) if found else ""


def answer_confirm(browser: Any, accept: bool) -> str:
    """Answer the page's window.confirm and return its question."""
    alert = wait_for(browser, lambda d: _alert(d), "the confirm dialog")
    question = str(alert.text)
    if accept:
        alert.accept()
    else:
        alert.dismiss()
    return question


def _alert(driver: Any) -> Any:
    from selenium.common.exceptions import NoAlertPresentException

    try:
        return driver.switch_to.alert
    except NoAlertPresentException:
        return None


def test_call_a_function_with_json_data_from_the_page(
    browser: Any, base_url: str, emu: FunctionsEmulator
) -> None:
    fn = emu.deploy(fixture_folder("hello"), external_id="hello")
    open_page(browser, f"{base_url}/_emulator/ui")
    wait_for(browser, lambda d: css(d, '[data-testid="invoke-function"] option'), "the function picker")
    data = by_testid(browser, "invoke-data")[0]
    data.clear()
    data.send_keys('{"name": not json')
    by_testid(browser, "invoke-go")[0].click()
    wait_for(browser, lambda d: "not valid JSON" in text_of(d, "invoke-message"), "the JSON error")
    assert emu.client().functions.calls.list(function_id=fn.id) == []  # nothing was called

    data.clear()
    data.send_keys('{"name": "from the page"}')
    by_testid(browser, "invoke-go")[0].click()
    wait_for(
        browser,
        lambda d: "Completed" in text_of(d, "invoke-message"),
        f"the call's answer (page says {text_of(browser, 'invoke-message')!r})",
    )
    [call] = emu.client().functions.calls.list(function_id=fn.id)
    assert text_of(browser, "invoke-message") == f"Call {call.id}: Completed"
    assert call.get_response() == {"greeting": "Hello, from the page!"}

    row = wait_for(browser, lambda d: css(d, f'tr[data-call-id="{call.id}"]'), "the call row")[0]
    # The wall time the handler took, though the virtual clock stood still during the call.
    assert row.find_element("css selector", '[data-testid="call-wall"]').text.endswith("ms")
    click_first(browser, lambda d: css(d, f'tr[data-call-id="{call.id}"]'), "the call row")
    wait_for(browser, lambda d: by_testid(d, "call-data"), "the expanded call")
    assert '"name": "from the page"' in text_of(browser, "call-data")
    assert '"greeting": "Hello, from the page!"' in text_of(browser, "call-response")
    assert "Hello, from the page!" in text_of(browser, "call-logs")


def test_delete_a_schedule_and_a_function_after_a_confirm(
    browser: Any, base_url: str, emu: FunctionsEmulator
) -> None:
    client = emu.client()
    fn = emu.deploy(fixture_folder("hello"), external_id="hello")
    client.functions.schedules.create(name="hourly", cron_expression="0 * * * *", function_id=fn.id)
    open_page(browser, f"{base_url}/_emulator/ui")
    click_first(browser, lambda d: by_testid(d, "schedule-delete"), "the schedule")
    assert answer_confirm(browser, accept=True) == "Delete schedule hourly?"
    wait_for(browser, lambda d: by_testid(d, "schedules-empty"), "the schedule gone")
    assert client.functions.schedules.list() == []

    by_testid(browser, "function-delete")[0].click()
    assert answer_confirm(browser, accept=False) == "Delete function hello?"
    assert client.functions.retrieve(id=fn.id) is not None  # dismissed: nothing deleted
    by_testid(browser, "function-delete")[0].click()
    answer_confirm(browser, accept=True)
    wait_for(browser, lambda d: by_testid(d, "functions-empty"), "the function gone")
    assert client.functions.list() == []


def test_reset_the_emulator_after_a_confirm(browser: Any, base_url: str, emu: FunctionsEmulator) -> None:
    emu.deploy(fixture_folder("hello"), external_id="hello")
    emu.client().functions.call(external_id="hello")
    open_page(browser, f"{base_url}/_emulator/ui")
    wait_for(browser, lambda d: by_testid(d, "call-row"), "the call")
    by_testid(browser, "reset")[0].click()
    assert answer_confirm(browser, accept=False).startswith("Reset the emulator?")
    assert emu.client().functions.list() != []
    by_testid(browser, "reset")[0].click()
    answer_confirm(browser, accept=True)
    wait_for(browser, lambda d: by_testid(d, "functions-empty"), "the empty project")
    assert by_testid(browser, "calls-empty")
    assert emu.client().functions.list() == []
    assert text_of(browser, "clock-now") == "2026-01-01 00:00:00Z"  # a reset keeps the clock


def test_filter_and_page_through_calls(browser: Any, base_url: str, emu: FunctionsEmulator) -> None:
    from selenium.webdriver.support.ui import Select

    client = emu.client()
    emu.deploy(fixture_folder("hello"), external_id="hello")
    failing = emu.deploy(fixture_folder("failing"), external_id="failing")
    for i in range(30):
        client.functions.call(external_id="hello", data={"name": f"n{i}"})
    for _ in range(2):
        with contextlib.suppress(CogniteAPIError):
            client.functions.call(external_id="failing", data={"reason": "r"})
    open_page(browser, f"{base_url}/_emulator/ui")
    wait_for(browser, lambda d: text_of(d, "calls-range") == "1-25 of 32", "the first page")
    assert len(by_testid(browser, "call-row")) == 25
    assert by_testid(browser, "calls-newer")[0].get_attribute("disabled") is not None
    by_testid(browser, "calls-older")[0].click()
    wait_for(browser, lambda d: text_of(d, "calls-range") == "26-32 of 32", "the second page")
    assert len(by_testid(browser, "call-row")) == 7
    assert by_testid(browser, "calls-older")[0].get_attribute("disabled") is not None
    by_testid(browser, "calls-newer")[0].click()
    wait_for(browser, lambda d: text_of(d, "calls-range") == "1-25 of 32", "the first page again")

    Select(by_testid(browser, "calls-filter-status")[0]).select_by_visible_text("Failed")
    wait_for(browser, lambda d: text_of(d, "calls-range") == "1-2 of 2", "the failed calls")
    assert {r.get_attribute("data-status") for r in by_testid(browser, "call-row")} == {"Failed"}
    Select(by_testid(browser, "calls-filter-status")[0]).select_by_visible_text("any")
    Select(by_testid(browser, "calls-filter-function")[0]).select_by_visible_text("hello")
    wait_for(browser, lambda d: text_of(d, "calls-range") == "1-25 of 30", "hello's calls")
    assert text_of(browser, "calls-panel").startswith("CALLS OF HELLO")
    # Clicking a function row filters by it too.
    click_first(browser, lambda d: css(d, f'tr[data-function-id="{failing.id}"]'), "failing's row")
    wait_for(browser, lambda d: text_of(d, "calls-range") == "1-2 of 2", "failing's calls")


def test_sessions_faults_globus_and_roma(
    browser: Any, base_url: str, emu: FunctionsEmulator, tmp_path: Path
) -> None:
    globus_sdk = pytest.importorskip("globus_sdk")
    roma = pytest.importorskip("huaweicloudsdkroma.v2")
    client = emu.client()
    hello = emu.deploy(fixture_folder("hello"), external_id="hello")
    emu.deploy(fixture_folder("failing"), external_id="failing")
    client.functions.schedules.create(
        name="every-15-min", cron_expression="*/15 * * * *", function_id=hello.id, data={"name": "cron"}
    )
    start = datetime(2026, 1, 1, tzinfo=timezone.utc)
    emu.globus_timer_client().create_job(
        globus_sdk.TimerJob(
            "https://a.example/run", {}, start=start + timedelta(minutes=30), interval=1800, name="transfer"
        )
    )
    emu.roma.register_task("inst", "task-1", task_name="nightly-sync")
    emu.roma_client().create_dispatches(
        roma.CreateDispatchesRequest(
            instance_id="inst", task_id="task-1", body=roma.TaskDispatch(period="HOUR", dispatch_interval=1)
        )
    )
    emu.clock.advance(hours=2, minutes=5)
    with contextlib.suppress(CogniteAPIError):
        client.functions.call(external_id="failing", data={"reason": "shown on the dashboard"})
    emu.faults.add(status=503, method="GET", path="*/functions", count=3)

    open_page(browser, f"{base_url}/_emulator/ui")
    sessions = wait_for(browser, lambda d: by_testid(d, "session-row"), "the sessions")
    assert len(sessions) == 2  # the schedule's and the SDK call's
    assert {s.get_attribute("data-status") for s in sessions} == {"ACTIVE"}
    [fault] = by_testid(browser, "fault-row")
    assert "*/functions" in fault.text and text_of(browser, "fault-count") == "3"

    [job] = wait_for(browser, lambda d: by_testid(d, "globus-row"), "the Globus timer")
    assert "transfer" in job.text and text_of(browser, "globus-run-count") == "4"
    click_first(browser, lambda d: by_testid(d, "globus-row"), "the Globus timer")
    runs = wait_for(browser, lambda d: by_testid(d, "globus-run"), "the timer's runs")
    assert "2026-01-01T02:00:00" in runs[0].text and "SUCCEEDED" in runs[-1].text
    [task] = by_testid(browser, "roma-row")
    assert "nightly-sync" in task.text and text_of(browser, "roma-dispatch").startswith("every 1 HOUR")
    assert text_of(browser, "roma-run-count") == "2"
    click_first(browser, lambda d: by_testid(d, "roma-row"), "the ROMA task")
    assert len(wait_for(browser, lambda d: by_testid(d, "roma-run"), "the task's runs")) == 2

    click_first(browser, lambda d: css(d, 'tr[data-testid="call-row"][data-status="Failed"]'), "the call")
    wait_for(browser, lambda d: by_testid(d, "call-error"), "the error")
    save_screenshot(browser, tmp_path, docs=True)

    by_testid(browser, "faults-clear")[0].click()
    answer_confirm(browser, accept=True)
    wait_for(browser, lambda d: by_testid(d, "faults-empty"), "no faults")
    assert emu.faults.list() == []


def handle(data):
    print("<script>window.__xss = 'logs'</script>")
    return {"html": "<img src=x onerror=\"window.__xss='response'\">"}


def test_user_data_is_escaped(browser: Any, base_url: str, emu: FunctionsEmulator) -> None:
    evil = "<img src=x onerror=\"window.__xss='name'\">"
    emu.deploy(function_handle=handle, name=evil, external_id="\"'><script>window.__xss='xid'</script>")
    emu.client().functions.call(
        external_id="\"'><script>window.__xss='xid'</script>", data={"k": "<b onmouseover=x>bold</b>"}
    )
    open_page(browser, f"{base_url}/_emulator/ui")
    click_first(browser, lambda d: by_testid(d, "call-row"), "the call")
    wait_for(browser, lambda d: by_testid(d, "call-logs"), "the expanded call")
    assert text_of(browser, "function-name") == evil  # shown as text
    assert "<script>window.__xss = 'logs'</script>" in text_of(browser, "call-logs")
    assert "<img src=x" in text_of(browser, "call-response")
    assert "<b onmouseover=x>bold</b>" in text_of(browser, "call-data")
    assert browser.execute_script("return window.__xss") is None
    assert css(browser, "main img, main script, main b[onmouseover]") == []


def test_the_page_sends_the_token_of_its_address_with_every_request(browser: Any) -> None:
    # Under strict auth the CDF API wants a Bearer token; the page's one api() helper sends ?token=.
    with (
        FunctionsEmulator(
            project="ui-project", start=START, auth="strict", admin_token="secret-token"
        ) as emu,
        serve(emu) as url,
    ):
        fn = emu.deploy(fixture_folder("hello"), external_id="hello")
        open_page(browser, f"{url}/_emulator/ui?token=secret-token")
        wait_for(browser, lambda d: css(d, '[data-testid="invoke-function"] option'), "the function picker")
        by_testid(browser, "invoke-go")[0].click()
        wait_for(browser, lambda d: "Completed" in text_of(d, "invoke-message"), "the call's answer")
        assert len(emu.client().functions.calls.list(function_id=fn.id)) == 1
