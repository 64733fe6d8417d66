"""Browser fixtures for the web UI cases: Debian's Chromium driven by Playwright, a screenshot on failure.

Loaded as a pytest plugin by test_ui.py. Talks only to BASE_URL (default http://127.0.0.1:8080); customers
come from the run's account pool (conftest.py), the staff account from UAT_STAFF_USER / UAT_STAFF_PASSWORD.
Screenshots of failed tests land in $TEST_RESULTS/browser/ (default test-results/browser/)."""
from __future__ import annotations

import os
import re
import time
import uuid
from pathlib import Path

import pytest
import requests
from playwright.sync_api import Page, expect, sync_playwright

from tests.acceptance.uat.staff import staff_credentials

BASE_URL = os.environ.get("BASE_URL", "http://127.0.0.1:8080").rstrip("/")
UI_URL = f"{BASE_URL}/order-ms/ui/"
CHROMIUM = "/usr/bin/chromium"
# Debian's Chromium, never a downloaded one; no sandbox because tests may run as root.
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
SCREENSHOT_DIR = Path(os.environ.get("TEST_RESULTS") or "test-results") / "browser"
# How long an order may take to become a delivery (relay, broker, consumer).
WAIT_SECONDS = float(os.environ.get("UAT_WAIT_SECONDS", "30"))
PHASE_REPORTS = pytest.StashKey[dict]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    item.stash.setdefault(PHASE_REPORTS, {})[report.when] = report
    return report


@pytest.fixture(scope="session")
def browser():
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, request) -> Page:
    """A fresh browser context (its own sessionStorage) per test; a screenshot if the test fails."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.set_default_timeout(15_000)
    script_errors: list[str] = []
    page.on("pageerror", lambda error: script_errors.append(str(error)))
    # A CSP violation means a page would silently break in a real browser.
    page.on("console", lambda message: script_errors.append(message.text) if "Refused to" in message.text else None)
    yield page
    call = request.node.stash.get(PHASE_REPORTS, {}).get("call")
    if call is not None and call.failed:
        SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
        name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)
        page.screenshot(path=str(SCREENSHOT_DIR / f"{name}.png"), full_page=True)
    context.close()
    assert not script_errors, f"the page reported script errors: {script_errors}"


def new_user_id() -> str:
    return f"ui-{uuid.uuid4().hex[:16]}"


def staff_account() -> tuple[str, str]:
    return staff_credentials()


def api_token(user_id: str, password: str) -> str:
    response = requests.post(f"{BASE_URL}/order-ms/login", json={"user_id": user_id, "password": password}, timeout=10)
    assert response.status_code == 200, f"login of {user_id} failed: {response.status_code} {response.text[:300]}"
    return response.json()["access_token"]


def place_order_over_http(user_id: str, token: str) -> str:
    response = requests.post(f"{BASE_URL}/order-ms/{user_id}/orders", timeout=10,
                             json={"coffee_name": "Espresso", "coffee_price": 1500, "coffee_qty": 3},
                             headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 201, f"order refused: {response.status_code} {response.text[:300]}"
    return response.json()["order_id"]


def delivery_of(order_id: str, token: str) -> dict:
    """Waits until the order has become a delivery this token may see, and returns it."""
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        response = requests.get(f"{BASE_URL}/delivery-ms/deliveries", params={"limit": 500}, timeout=10,
                                headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 200, f"deliveries: {response.status_code} {response.text[:300]}"
        found = [d for d in response.json() if d["order_id"] == order_id]
        if found:
            return found[0]
        assert time.monotonic() < deadline, f"order {order_id} did not become a delivery in {WAIT_SECONDS:.0f}s"
        time.sleep(0.2)


def log_in(page: Page, user_id: str, password: str) -> None:
    """Logs in through the login page and waits for the page the role lands on."""
    page.goto(UI_URL)
    page.fill("#user-id", user_id)
    page.fill("#password", password)
    page.click("#login-button")
    expect(page.locator("#who")).to_contain_text(user_id)

