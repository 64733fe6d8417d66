"""The Postman collection's expected error texts agree with the acceptance catalog, so the two never drift apart."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.acceptance.uat.catalog import load_catalog
from tests.acceptance.uat.texts import match_text

COLLECTION = Path(__file__).resolve().parents[2] / "postman" / "coffee-order.postman_collection.json"
CATALOG_TEST = re.compile(r'pm\.test\("title, detail and hint are those of (CASE-\d{4})"')
# pm.expect(body.hint, "hint").to.eql(<a JavaScript string expression>);
EXPECTATION = re.compile(r'pm\.expect\(body\.(title|detail|hint), "\1"\)\.to\.eql\((.+)\);$')
JS_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
# The run's customer, as run.sh makes one up; any user id does for comparing with a placeholder.
USER_ID_VARIABLE = 'pm.variables.get("userId")'
SAMPLE_USER_ID = '"pm-1700000000-12345"'
CATALOG_KEYS = {"title": "error_title", "detail": "error", "hint": "hint"}


def collection_test_scripts() -> list[tuple[str, list[str]]]:
    """(request name, test script lines) of every request in the collection."""
    collection = json.loads(COLLECTION.read_text(encoding="utf-8"))
    return [(item["name"], event["script"]["exec"])
            for group in collection["item"] for item in group["item"]
            for event in item.get("event", []) if event["listen"] == "test"]


def text_of(expression: str) -> str:
    """The string a JavaScript expression of string literals joined by `+` evaluates to."""
    expression = expression.replace(USER_ID_VARIABLE, SAMPLE_USER_ID)
    rest = JS_STRING.sub("", expression).replace("+", "").strip()
    assert not rest, f"not a concatenation of string literals and the userId: {expression}"
    return "".join(json.loads(literal) for literal in JS_STRING.findall(expression))


def catalogued_expectations() -> list[tuple[str, str, str, str]]:
    """(request name, case id, problem member, expected text) for every text the collection checks."""
    found = []
    for name, lines in collection_test_scripts():
        case_ids = [match.group(1) for line in lines for match in [CATALOG_TEST.search(line)] if match]
        for line in lines:
            expectation = EXPECTATION.search(line.strip())
            if expectation:
                assert len(case_ids) == 1, f"{name}: its texts belong to one catalog case"
                found.append((name, case_ids[0], expectation.group(1), text_of(expectation.group(2))))
    return found


EXPECTATIONS = catalogued_expectations()


def test_every_error_request_checks_its_title_detail_and_hint():
    checked = {(name, member) for name, _, member, _ in EXPECTATIONS}
    names = {name for name, _, _, _ in EXPECTATIONS}
    assert len(names) >= 8
    assert checked == {(name, member) for name in names for member in CATALOG_KEYS}


@pytest.fixture(scope="module")
def catalog():
    return load_catalog()


@pytest.mark.parametrize("name, case_id, member, expected", EXPECTATIONS,
                         ids=[f"{name}-{member}" for name, _, member, _ in EXPECTATIONS])
def test_postman_expects_what_the_catalog_says(catalog, name, case_id, member, expected):
    case = catalog[case_id]
    assert case.kind == "abnormal"
    assert match_text(case.told(CATALOG_KEYS[member]), expected) is not None, (
        f"{name} expects {member} {expected!r}; {case_id} in the catalog says {case.told(CATALOG_KEYS[member])}")
