"""Assertions every case shares: what the user is told against the catalog, the problem+json shape, and polling."""
from __future__ import annotations

import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import requests

from tests.acceptance.uat.catalog import TOLD_KEYS, Case
from tests.acceptance.uat.texts import match_text

PROBLEM_CONTENT_TYPE = "application/problem+json"
# How long an asynchronous effect (order -> delivery, status -> event) may take before the case fails.
WAIT_SECONDS = float(os.environ.get("UAT_WAIT_SECONDS", "20"))
POLL_INTERVAL_SECONDS = 0.1
UUID4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
ISO_UTC_MICROSECONDS = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}(Z|\+00:00)$")
# The catalog key of each problem+json member the user is told.
PROBLEM_TEXTS = {"error_title": "title", "error": "detail", "hint": "hint"}

T = TypeVar("T")


def media_type(response: requests.Response) -> str:
    return response.headers.get("Content-Type", "").split(";")[0].strip().lower()


@dataclass(frozen=True)
class Comparison:
    """One text the user was told, next to the catalog's variants for it."""

    key: str  # one of TOLD_KEYS
    expected: tuple[str, ...]
    served: str | None  # None: the answer carried no such text
    values: dict[str, str] | None  # the placeholder values when it matched, None when it did not

    @property
    def matched(self) -> bool:
        return self.values is not None

    def describe(self) -> str:
        expected = " | ".join(repr(text) for text in self.expected) or "nothing (the catalog has no such text)"
        return f"{self.key}: served {self.served!r}, catalog {expected}"


class CaseTexts:
    """A test's own catalog case and every comparison of what its user was told with it (the report shows them)."""

    def __init__(self, case: Case):
        self.case = case
        self.comparisons: list[Comparison] = []

    def compare(self, **served: str | None) -> list[Comparison]:
        """Records served texts, by catalog key (error_title, error, hint), next to the catalog's; asserts nothing."""
        unknown = set(served) - set(TOLD_KEYS)
        assert not unknown, f"no catalog key {sorted(unknown)}; the keys are {', '.join(TOLD_KEYS)}"
        made = []
        for key, text in served.items():
            expected = self.case.told(key)
            values = match_text(expected, text) if isinstance(text, str) else None
            made.append(Comparison(key, expected, text, values))
        self.comparisons.extend(made)
        return made

    def assert_matched(self, comparisons: list[Comparison]) -> dict[str, str]:
        """Every comparison matched; returns the placeholder values, each name meaning one value in all texts."""
        missed = [comparison.describe() for comparison in comparisons if not comparison.matched]
        assert not missed, (f"{self.case.id} tells the user something else than its catalog entry:\n  "
                            + "\n  ".join(missed))
        values: dict[str, str] = {}
        for comparison in comparisons:
            for name, value in comparison.values.items():
                assert values.setdefault(name, value) == value, (
                    f"{self.case.id}: {{{name}}} is {values[name]!r} in one text and {value!r} in {comparison.key}")
        return values

    def assert_told(self, **served: str | None) -> dict[str, str]:
        """Each served text matches one of its catalog variants in full; returns the placeholder values."""
        return self.assert_matched(self.compare(**served))


@dataclass(frozen=True)
class ServedProblem:
    """A problem+json answer that matched the catalog: its body and the values of the catalog's placeholders."""

    body: dict
    values: dict[str, str]


def assert_problem(response: requests.Response, status: int, case: CaseTexts,
                   field: str | None = None) -> ServedProblem:
    """The response is an RFC 9457 problem with this status whose title, detail and hint are the case's
    catalogued error_title, error and hint; `field` must be named in errors."""
    body = _json_object(response)
    # Compared before the status is asserted, so a failure's report shows the texts whatever broke first.
    comparisons = case.compare(**{key: _text(body, served) for key, served in PROBLEM_TEXTS.items()})
    assert response.status_code == status, (
        f"expected {status}, got {response.status_code}: {response.text[:300]}")
    assert media_type(response) == PROBLEM_CONTENT_TYPE, f"content type {response.headers.get('Content-Type')!r}"
    assert body.get("status") == status, body
    assert isinstance(body.get("type"), str) and body["type"].strip(), f"problem without type: {body}"
    values = case.assert_matched(comparisons)
    if field is not None:
        named = [error.get("field") for error in body.get("errors") or []]
        assert field in named, f"errors should name {field!r}, named {named}: {body}"
    return ServedProblem(body, values)


def _json_object(response: requests.Response) -> dict:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _text(body: dict, member: str) -> str | None:
    return body[member] if isinstance(body.get(member), str) else None


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
