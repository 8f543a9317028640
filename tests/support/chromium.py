"""Debian's headless chromium driven by selenium (chromium-driver), for the portal's tests and bench."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.remote.webdriver import WebDriver


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
