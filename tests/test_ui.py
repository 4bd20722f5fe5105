"""The dev-server dashboard at /_emulator/ui, driven in a real headless Chromium through Selenium.

The browser talks to a real uvicorn server on 127.0.0.1; the test makes changes through the real
cognite-sdk (``emu.client()``) and waits for the page's live refresh to show them. The tests skip
with a reason when Debian's chromium / chromedriver or selenium are missing (tests/ui_kit.py).
The page's actions (call, delete, reset, filter, paging, facades) are in tests/test_ui_actions.py.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from urllib.request import urlopen

import pytest
from cognite.client.exceptions import CogniteAPIError

from emulator import FunctionsEmulator
from tests.conftest import fixture_folder
from tests.ui_kit import (
    START,
    by_testid,
    chromium,
    click_advance,
    click_first,
    clock_ms,
    css,
    get_json,
    open_page,
    save_screenshot,
    serve,
    wait_for,
)

pytestmark = [pytest.mark.timeout(90), pytest.mark.functions_emulator(project="ui-project", start=START)]


@pytest.fixture
def base_url(emu: FunctionsEmulator) -> Iterator[str]:
    with serve(emu) as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    yield from chromium()


# --- the JSON the page reads (no browser needed) -----------------------------------------------
def test_page_and_summary_are_served(emu: FunctionsEmulator, base_url: str) -> None:
    emu.deploy(fixture_folder("hello"), external_id="hello")
    emu.client().functions.call(external_id="hello", data={"name": "api"})
    with urlopen(f"{base_url}/_emulator/ui", timeout=10) as page:
        assert page.status == 200
        assert page.headers["content-type"].startswith("text/html")
        html = page.read().decode()
    assert 'data-testid="functions-panel"' in html
    assert "http://" not in html and "https://" not in html  # nothing is fetched from elsewhere

    body = get_json(f"{base_url}/_emulator/ui/api/summary")
    assert body["project"] == "ui-project"
    assert body["now"] == 1767225600000
    [fn] = body["functions"]
    assert (fn["externalId"], fn["status"], fn["runtime"], fn["callCount"]) == ("hello", "Ready", "py313", 1)
    [call] = get_json(f"{base_url}/_emulator/ui/api/calls")["items"]
    assert call["status"] == "Completed"
    assert call["response"] == {"greeting": "Hello, api!"}
    assert [line["message"] for line in call["logs"]] == ["Hello, api!"]

    # Looking at a project that does not exist shows it empty and does not create it.
    other = get_json(f"{base_url}/_emulator/ui/api/summary?" + urlencode({"project": "nope"}))
    assert other["project"] == "nope" and other["functions"] == []
    assert "nope" not in emu.backend.projects()


def test_the_summary_creates_no_facade_and_shows_the_ones_that_exist(
    emu: FunctionsEmulator, base_url: str
) -> None:
    body = get_json(f"{base_url}/_emulator/ui/api/summary")
    assert "globus" not in body and "roma" not in body
    assert emu.context.facades.existing() == []  # the poll made none (each would be a timer source)
    emu.roma.register_task("inst", "task-1")
    body = get_json(f"{base_url}/_emulator/ui/api/summary")
    assert "globus" not in body
    assert [t["taskId"] for t in body["roma"]["tasks"]] == ["task-1"]
    assert len(emu.context.facades.existing()) == 1


# --- in the browser ----------------------------------------------------------------------------
def test_page_loads_empty(browser: Any, base_url: str) -> None:
    open_page(browser, f"{base_url}/_emulator/ui")
    assert browser.title == "CDF Functions emulator"
    assert by_testid(browser, "clock-now")[0].text == "2026-01-01 00:00:00Z"
    assert by_testid(browser, "clock-mode")[0].text == "virtual"
    assert by_testid(browser, "functions-empty")
    assert by_testid(browser, "conn-status")[0].get_attribute("data-state") == "ok"
    options = [o.text for o in css(browser, '[data-testid="project-select"] option')]
    assert options == ["ui-project"]


def test_sdk_call_appears_live_with_logs_response_and_error(
    browser: Any, base_url: str, emu: FunctionsEmulator, tmp_path: Path
) -> None:
    open_page(browser, f"{base_url}/_emulator/ui")
    client = emu.client()
    client.functions.create(name="hello", external_id="hello", folder=fixture_folder("hello"))
    wait_for(
        browser, lambda d: d.find_elements("css selector", '[data-external-id="hello"]'), "hello in the table"
    )
    client.functions.call(external_id="hello", data={"name": "dashboard"})

    row = wait_for(
        browser, lambda d: css(d, 'tr[data-testid="call-row"][data-status="Completed"]'), "the call"
    )[0]
    fn_row = css(browser, 'tr[data-external-id="hello"]')[0]
    assert "Ready" in fn_row.find_element("css selector", '[data-testid="function-status"]').text
    assert fn_row.find_element("css selector", '[data-testid="function-runtime"]').text == "py313"
    assert (
        fn_row.find_element("css selector", '[data-testid="function-last-called"]').text
        == "2026-01-01 00:00:00Z"
    )
    # Status colour: a Completed call has the green badge.
    badge = row.find_element("css selector", ".badge")
    assert badge.value_of_css_property("background-color") in ("rgba(31, 157, 85, 1)", "rgb(31, 157, 85)")

    click_first(browser, lambda d: css(d, 'tr[data-testid="call-row"][data-status="Completed"]'), "the call")
    logs = wait_for(browser, lambda d: by_testid(d, "call-logs"), "the expanded call")[0]
    assert "Hello, dashboard!" in logs.text
    assert '"greeting": "Hello, dashboard!"' in by_testid(browser, "call-response")[0].text
    assert not by_testid(browser, "call-error")

    # A failing call: red status and its error with the trace, in the same live page.
    client.functions.create(name="failing", external_id="failing", folder=fixture_folder("failing"))
    with contextlib.suppress(CogniteAPIError):
        client.functions.call(external_id="failing", data={"reason": "shown in the browser"})
    click_first(browser, lambda d: css(d, 'tr[data-external-id="failing"]'), "the failing function")
    click_first(
        browser, lambda d: css(d, 'tr[data-testid="call-row"][data-status="Failed"]'), "the failed call"
    )
    error = wait_for(browser, lambda d: by_testid(d, "call-error"), "the call's error")[0]
    assert "boom: shown in the browser" in error.text
    assert "Traceback" in error.text
    save_shot = save_screenshot(browser, tmp_path)
    assert save_shot.exists()


def test_project_switch(browser: Any, base_url: str, emu: FunctionsEmulator) -> None:
    emu.deploy(fixture_folder("hello"), external_id="in-default")
    emu.deploy(fixture_folder("echo"), external_id="in-other", project="other-project")
    open_page(browser, f"{base_url}/_emulator/ui")
    wait_for(browser, lambda d: css(d, '[data-external-id="in-default"]'), "the default project's function")
    from selenium.webdriver.support.ui import Select

    Select(by_testid(browser, "project-select")[0]).select_by_visible_text("other-project")
    wait_for(browser, lambda d: css(d, '[data-external-id="in-other"]'), "the other project's function")
    assert not css(browser, '[data-external-id="in-default"]')
    assert "project=other-project" in browser.current_url


def test_live_refresh_follows_a_wall_clock_and_keeps_an_expanded_call(browser: Any) -> None:
    with FunctionsEmulator(project="wall-project", clock="wall") as emu, serve(emu) as url:
        emu.deploy(fixture_folder("hello"), external_id="hello")
        emu.client().functions.call(external_id="hello", data={"name": "wall"})
        open_page(browser, f"{url}/_emulator/ui")
        assert by_testid(browser, "clock-mode")[0].text == "wall"
        click_first(browser, lambda d: by_testid(d, "call-row"), "the call")
        wait_for(browser, lambda d: by_testid(d, "call-logs"), "the expanded call")
        browser.execute_script("document.querySelector('[data-testid=call-logs]').dataset.marker = 'kept'")
        first = clock_ms(browser)
        # No clicks: the page's polling alone shows time moving...
        wait_for(browser, lambda d: clock_ms(d) >= first + 1500, "the wall clock to move on the page")
        # ...and the expanded logs were not rebuilt (their scroll position and selection survive).
        marker = browser.execute_script(
            "return document.querySelector('[data-testid=call-logs]').dataset.marker"
        )
        assert marker == "kept"
        assert "Hello, wall!" in by_testid(browser, "call-logs")[0].text


def test_advance_buttons_move_the_virtual_clock(browser: Any, base_url: str, emu: FunctionsEmulator) -> None:
    open_page(browser, f"{base_url}/_emulator/ui")
    click_advance(browser, "advance-1m")
    assert by_testid(browser, "clock-now")[0].text == "2026-01-01 00:01:00Z"
    click_advance(browser, "advance-1h")
    click_advance(browser, "advance-1d")
    assert by_testid(browser, "clock-now")[0].text == "2026-01-02 01:01:00Z"
    amount = by_testid(browser, "advance-custom-amount")[0]
    amount.clear()
    amount.send_keys("90")
    from selenium.webdriver.support.ui import Select

    Select(by_testid(browser, "advance-custom-unit")[0]).select_by_visible_text("seconds")
    click_advance(browser, "advance-custom")
    assert by_testid(browser, "clock-now")[0].text == "2026-01-02 01:02:30Z"
    assert emu.clock.now().isoformat() == "2026-01-02T01:02:30+00:00"


def test_advancing_from_the_page_runs_schedules(
    browser: Any, base_url: str, emu: FunctionsEmulator, tmp_path: Path
) -> None:
    client = emu.client()
    hello = emu.deploy(fixture_folder("hello"), external_id="hello")
    failing = emu.deploy(fixture_folder("failing"), external_id="failing")
    client.functions.schedules.create(
        name="every-15-min", cron_expression="*/15 * * * *", function_id=hello.id, data={"name": "cron"}
    )
    client.functions.schedules.create(
        name="hourly-failing", cron_expression="0 * * * *", function_id=failing.id
    )
    open_page(browser, f"{base_url}/_emulator/ui")
    rows = wait_for(browser, lambda d: by_testid(d, "schedule-row"), "the schedules")
    assert len(rows) == 2
    next_runs = by_testid(browser, "schedule-next")[0].text.splitlines()
    assert next_runs == [
        "2026-01-01 00:15:00Z",
        "2026-01-01 00:30:00Z",
        "2026-01-01 00:45:00Z",
        "2026-01-01 01:00:00Z",
        "2026-01-01 01:15:00Z",
    ]
    assert len(by_testid(browser, "timeline-next")) == 10
    assert not by_testid(browser, "timeline-past")

    click_advance(browser, "advance-1h")
    # 4 runs of the 15-minute schedule and 1 of the hourly one, all shown as past runs on the timeline.
    wait_for(browser, lambda d: len(by_testid(d, "timeline-past")) == 5, "5 past runs on the timeline")
    counts = [el.text for el in by_testid(browser, "schedule-run-count")]
    assert counts == ["4", "1"]
    click_first(browser, lambda d: css(d, 'tr[data-external-id="hello"]'), "hello's row")
    calls = wait_for(
        browser,
        lambda d: len(by_testid(d, "call-row")) == 4 and by_testid(d, "call-row"),
        "4 scheduled calls",
    )
    assert {c.get_attribute("data-status") for c in calls} == {"Completed"}
    assert all("schedule every-15-min" in c.text for c in calls)
    assert by_testid(browser, "schedule-next")[0].text.splitlines()[0] == "2026-01-01 01:15:00Z"
    save_screenshot(browser, tmp_path)


def test_the_root_address_opens_the_dashboard(browser: Any, base_url: str, emu: FunctionsEmulator) -> None:
    emu.deploy(fixture_folder("echo"), external_id="elsewhere", project="other-project")
    open_page(browser, f"{base_url}/?project=other-project")
    assert browser.current_url == f"{base_url}/_emulator/ui?project=other-project"
    wait_for(browser, lambda d: css(d, '[data-external-id="elsewhere"]'), "the other project's function")
