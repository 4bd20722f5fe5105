"""Helpers of the dashboard's browser tests: a real uvicorn server and headless Chromium (Selenium).

The tests skip with a reason when Debian's chromium / chromedriver or selenium are missing. Set
``UPDATE_DASHBOARD_SCREENSHOT=1`` to refresh docs/dashboard.png from the scenario that takes it.
Each test module makes its fixtures from ``serve`` and ``chromium``.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.request import urlopen

import pytest
import uvicorn

from emulator import FunctionsEmulator

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
WAIT_S = 15  # the page polls once a second; a change shows within ~1 s, this bounds a slow CI machine
START = "2026-01-01T00:00:00Z"


# --- the server --------------------------------------------------------------------------------
@contextlib.contextmanager
def serve(emu: FunctionsEmulator) -> Iterator[str]:
    """Serve ``emu`` on 127.0.0.1 on a free port; yields the base URL. Prefers ``emu.serve``."""
    serve_method = getattr(emu, "serve", None)
    if callable(serve_method):  # the dev server's own API (issue 6): a context manager with .base_url
        with serve_method(host="127.0.0.1", port=0) as server:
            yield str(server.base_url).rstrip("/")
        return
    config = uvicorn.Config(emu.app, host="127.0.0.1", port=0, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="ui-test-uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start on 127.0.0.1")
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


# --- the browser -------------------------------------------------------------------------------
def chromium() -> Iterator[Any]:
    """A headless Chromium driven by Selenium (a module-scoped fixture's body); skips without one."""
    if CHROMIUM is None or CHROMEDRIVER is None:
        pytest.skip("needs Debian's chromium and chromium-driver (apt-get install chromium chromium-driver)")
    webdriver = pytest.importorskip("selenium.webdriver", reason="needs selenium (pip install -e '.[test]')")
    from selenium.webdriver.chrome.service import Service

    os.environ.setdefault("SE_OFFLINE", "true")  # never let Selenium Manager download a browser or driver
    profile = tempfile.mkdtemp(prefix="ui-test-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        "--window-size=1280,1000",
        f"--user-data-dir={profile}",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(20)
    driver.set_script_timeout(20)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def wait_for(driver: Any, condition: Callable[[Any], Any], what: str, timeout: float = WAIT_S) -> Any:
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.support.ui import WebDriverWait

    wait = WebDriverWait(
        driver, timeout, poll_frequency=0.1, ignored_exceptions=(StaleElementReferenceException,)
    )
    return wait.until(condition, message=f"timed out after {timeout}s waiting for {what}")


def click_first(driver: Any, find: Callable[[Any], list[Any]], what: str, timeout: float = WAIT_S) -> None:
    """Click the first element ``find`` returns, once there is one. The page re-renders its tables
    every second, so an element found a moment ago may be gone when clicked (a stale element):
    find and click are retried together until the click lands."""

    def attempt(d: Any) -> bool:
        found = find(d)
        if not found:
            return False
        found[0].click()
        return True

    wait_for(driver, attempt, what, timeout)


def by_testid(driver: Any, name: str) -> list[Any]:
    from selenium.webdriver.common.by import By

    return list(driver.find_elements(By.CSS_SELECTOR, f'[data-testid="{name}"]'))


def css(driver: Any, selector: str) -> list[Any]:
    from selenium.webdriver.common.by import By

    return list(driver.find_elements(By.CSS_SELECTOR, selector))


def open_page(browser: Any, url: str) -> None:
    browser.get(url)
    wait_for(
        browser, lambda d: d.execute_script("return document.body.dataset.ready === '1'"), "the first render"
    )


def clock_ms(browser: Any) -> int:
    return int(by_testid(browser, "clock-now")[0].get_attribute("data-ms"))


def click_advance(browser: Any, testid_name: str) -> None:
    before = clock_ms(browser)
    by_testid(browser, testid_name)[0].click()
    wait_for(browser, lambda d: clock_ms(d) > before, f"the clock to move after {testid_name}")


def save_screenshot(browser: Any, tmp_path: Path, *, docs: bool = False) -> Path:
    """The whole page (the window grows to its height for the shot); with ``docs`` it replaces
    docs/dashboard.png when UPDATE_DASHBOARD_SCREENSHOT is set."""
    shot = tmp_path / "dashboard.png"
    size = browser.get_window_size()
    height = browser.execute_script("return document.documentElement.scrollHeight")
    browser.set_window_size(size["width"], max(size["height"], int(height) + 120))
    browser.execute_script("window.scrollTo(0, 0)")
    try:
        browser.save_screenshot(str(shot))
    finally:
        browser.set_window_size(size["width"], size["height"])
    assert shot.stat().st_size > 5_000  # a rendered page, not a blank image
    if docs and os.environ.get("UPDATE_DASHBOARD_SCREENSHOT"):
        shutil.copyfile(shot, ROOT / "docs" / "dashboard.png")
    return shot


def get_json(url: str) -> Any:
    with urlopen(url, timeout=10) as response:
        return json.loads(response.read())
