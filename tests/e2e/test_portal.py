"""The portal in a real browser (Debian's headless chromium, driven by selenium) against `make run`:
log in with Harbor's session and CSRF handshake, see the projects, log out. Screenshots of each screen
are saved under test-output/screenshots/ for a reviewer."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support import expected_conditions as until
from selenium.webdriver.support.ui import WebDriverWait

from tests.support.stack import ADMIN, Stack

SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-output" / "screenshots"
BOUND_SECONDS = 60  # a bound for a broken run, not a timing: each wait ends as soon as its condition holds


@pytest.fixture(scope="module")
def browser() -> Iterator[WebDriver]:
    options = Options()
    options.binary_location = "/usr/bin/chromium"
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1280,800"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service("/usr/bin/chromedriver"))
    try:
        yield driver
    finally:
        driver.quit()


def _shot(browser: WebDriver, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    browser.save_screenshot(str(SCREENSHOTS / f"{name}.png"))


def test_log_in_see_the_projects_and_log_out(stack: Stack, browser: WebDriver) -> None:
    wait = WebDriverWait(browser, BOUND_SECONDS)
    browser.get(f"{stack.url}/")
    wait.until(until.presence_of_element_located((By.NAME, "principal")))
    _shot(browser, "login")

    browser.find_element(By.NAME, "principal").send_keys(ADMIN[0])
    browser.find_element(By.NAME, "password").send_keys("wrong")
    browser.find_element(By.CSS_SELECTOR, "form.login button").click()
    wait.until(until.text_to_be_present_in_element((By.CSS_SELECTOR, ".error"), "Invalid user name or password."))

    assert browser.find_element(By.NAME, "principal").get_attribute("value") == ADMIN[0]  # kept for a retry
    browser.find_element(By.NAME, "password").send_keys(ADMIN[1])
    browser.find_element(By.CSS_SELECTOR, "form.login button").click()
    wait.until(until.text_to_be_present_in_element((By.TAG_NAME, "h1"), "Projects"))
    wait.until(until.text_to_be_present_in_element((By.TAG_NAME, "tbody"), "library"))
    assert browser.find_element(By.ID, "user").text == ADMIN[0]
    _shot(browser, "projects")

    browser.find_element(By.ID, "logout").click()
    wait.until(until.presence_of_element_located((By.NAME, "principal")))
    # Nothing the page did was refused by its Content-Security-Policy.
    messages = [entry["message"] for entry in browser.get_log("browser")]
    assert not [m for m in messages if "Content Security Policy" in m], messages
