"""Assertions every case shares: the problem+json error shape with its hint, and polling with a deadline."""
from __future__ import annotations

import os
import re
import time
from typing import Callable, TypeVar

import requests

PROBLEM_CONTENT_TYPE = "application/problem+json"
# How long an asynchronous effect (order -> delivery, status -> event) may take before the case fails.
WAIT_SECONDS = float(os.environ.get("UAT_WAIT_SECONDS", "20"))
POLL_INTERVAL_SECONDS = 0.1
UUID4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
ISO_UTC_MICROSECONDS = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}(Z|\+00:00)$")

T = TypeVar("T")


def media_type(response: requests.Response) -> str:
    return response.headers.get("Content-Type", "").split(";")[0].strip().lower()


def assert_problem(response: requests.Response, status: int, field: str | None = None) -> dict:
    """The response is an RFC 9457 problem with this status and a hint; `field` must be named in errors."""
    assert response.status_code == status, (
        f"expected {status}, got {response.status_code}: {response.text[:300]}")
    assert media_type(response) == PROBLEM_CONTENT_TYPE, f"content type {response.headers.get('Content-Type')!r}"
    body = response.json()
    assert body.get("status") == status, body
    for key in ("type", "title", "detail"):
        assert isinstance(body.get(key), str) and body[key].strip(), f"problem without {key}: {body}"
    assert isinstance(body.get("hint"), str) and body["hint"].strip(), f"problem without a hint: {body}"
    if field is not None:
        named = [error.get("field") for error in body.get("errors") or []]
        assert field in named, f"errors should name {field!r}, named {named}: {body}"
    return body


def wait_until(probe: Callable[[], T | None], what: str, timeout: float = WAIT_SECONDS) -> T:
    """Calls `probe` until it returns something other than None; fails after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value is not None:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"{what} did not happen within {timeout:g} s")
        time.sleep(POLL_INTERVAL_SECONDS)
