"""The portal in Debian's headless chromium, driven by selenium (chromium-driver): the browser, waits that
survive the page redrawing, the portal's "drawn" condition and its keyboard login. Shared by the
browser tests and `make bench-portal`."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import WebDriverWait

BOUND_SECONDS = 120  # a bound for a broken run, not a timing: each wait ends as soon as its condition holds


@contextmanager
def chromium(downloads: Path | None = None, *, network_log: bool = False) -> Iterator[WebDriver]:
    """A laptop-sized window; the console kept for get_log("browser"); with `network_log`, the DevTools
    network events for get_log("performance") (see network_events)."""
    options = Options()
    options.binary_location = "/usr/bin/chromium"
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1280,1000"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", **({"performance": "ALL"} if network_log else {})})
    driver = webdriver.Chrome(options=options, service=Service("/usr/bin/chromedriver"))
    if downloads:
        driver.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)})
    try:
        yield driver
    finally:
        driver.quit()


def network_events(driver: WebDriver) -> list[dict[str, Any]]:
    """The DevTools `Network.*` events since the last call (reading the log empties it)."""
    messages = (json.loads(entry["message"])["message"] for entry in driver.get_log("performance"))
    return [message for message in messages if message["method"].startswith("Network.")]


def until(browser: WebDriver, condition: Callable[[], Any], what: str, poll: float = 0.5) -> Any:
    """Waits for `condition` to give something true; the page may redraw meanwhile (stale elements)."""
    def attempt(_: WebDriver) -> Any:
        try:
            return condition()
        except StaleElementReferenceException:
            return False
    return WebDriverWait(browser, BOUND_SECONDS, poll_frequency=poll).until(attempt, f"never saw: {what}")


def css(browser: WebDriver, selector: str) -> list[WebElement]:
    return browser.find_elements(By.CSS_SELECTOR, selector)


def one(browser: WebDriver, selector: str) -> WebElement:
    return until(browser, lambda: (css(browser, selector) or [None])[0], selector)


def drawn(browser: WebDriver) -> bool:
    """The screen is drawn: a heading, and no region still loading."""
    return bool(css(browser, "#view h1")) and not css(browser, "#view .status")


def settled(browser: WebDriver, poll: float = 0.5) -> None:
    until(browser, lambda: drawn(browser), "the screen drawn", poll)


def log_in(browser: WebDriver, url: str, user: tuple[str, str]) -> None:
    """Logs out whoever is in, then logs in with the keyboard only (type, Tab, type, Enter)."""
    browser.get(f"{url}/harbor/projects")
    until(browser, lambda: css(browser, "input[name=principal]") or css(browser, "#logout:not([hidden])"), "a page")
    if css(browser, "#logout:not([hidden])"):
        one(browser, "#logout").click()
    one(browser, "input[name=principal]").send_keys(user[0], Keys.TAB, user[1], Keys.ENTER)
    until(browser, lambda: browser.find_element(By.ID, "user").text == user[0], f"{user[0]} logged in")
    settled(browser)
