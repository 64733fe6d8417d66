"""The API docs pages (Swagger UI served by each service) in a real browser: every operation of the OpenAPI
document listed, no console error, and Try it out against the running stack, with and without a token."""
import json

import pytest
import requests
from playwright.sync_api import expect

pytest.register_assert_rewrite("tests.acceptance.ui_support")
from tests.acceptance.ui_support import BASE_URL, api_token, new_user_id, staff_account  # noqa: E402

pytest_plugins = ["tests.acceptance.ui_support"]
SERVICES = ("order-ms", "delivery-ms")
METHODS = ("get", "put", "post", "delete", "patch")


@pytest.fixture
def console_errors(page):
    """Every console message of type error the page logs (a refused script, a failed asset, a script error)."""
    errors = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    return errors


def open_operation(page, service: str, tag: str, operation_id: str):
    page.goto(f"{BASE_URL}/{service}/docs")
    operation = page.locator(f"#operations-{tag}-{operation_id}")
    operation.locator(".opblock-summary").first.click()
    operation.get_by_role("button", name="Try it out").click()
    return operation


def served_answer(operation, status: str) -> dict | list:
    """The answer Swagger UI shows after Execute, once it shows `status`: its JSON body."""
    expect(operation.locator(".live-responses-table .response .response-col_status")).to_have_text(status)
    return json.loads(operation.locator(".live-responses-table .response-col_description pre").first.inner_text())


@pytest.mark.case("CASE-0096")
@pytest.mark.parametrize("service", SERVICES)
def test_the_docs_page_lists_every_operation(page, console_errors, service):
    document = requests.get(f"{BASE_URL}/{service}/openapi.json", timeout=10).json()
    expected = sorted((method.upper(), path) for path, operations in document["paths"].items()
                      for method in operations if method in METHODS)
    page.goto(f"{BASE_URL}/{service}/docs")
    blocks = page.locator(".opblock")
    expect(blocks).to_have_count(len(expected))
    listed = sorted(zip(page.locator(".opblock .opblock-summary-method").all_inner_texts(),
                        page.locator(".opblock .opblock-summary-path").all_inner_texts(), strict=True))
    assert [(method, path.replace("\u200b", "")) for method, path in listed] == expected
    expect(page.locator(".information-container .title")).to_contain_text(service)
    assert console_errors == []


@pytest.mark.case("CASE-0097")
def test_try_it_out_works_with_a_pasted_token(page, console_errors):
    token = api_token(*staff_account())
    page.goto(f"{BASE_URL}/delivery-ms/docs")
    page.locator("button.authorize").first.click()
    page.locator("#auth-bearer-value").fill(token)
    page.get_by_role("button", name="Apply credentials").click()
    page.get_by_role("button", name="Close").click()
    operation = page.locator("#operations-Deliveries-listDeliveries")
    operation.locator(".opblock-summary").first.click()
    operation.get_by_role("button", name="Try it out").click()
    operation.get_by_role("button", name="Execute").click()
    deliveries = served_answer(operation, "200")
    assert isinstance(deliveries, list)
    # What the page shows is what the stack serves to this token.
    direct = requests.get(
        f"{BASE_URL}/delivery-ms/deliveries", headers={"Authorization": f"Bearer {token}"}, timeout=10
    )
    assert [d["delivery_id"] for d in deliveries][:5] == [d["delivery_id"] for d in direct.json()][:5]
    assert console_errors == []


@pytest.mark.case("CASE-0098")
def test_try_it_out_without_a_token_shows_the_401_and_its_hint(page, case):
    operation = open_operation(page, "delivery-ms", "Deliveries", "listDeliveries")
    operation.get_by_role("button", name="Execute").click()
    problem = served_answer(operation, "401")
    case.assert_told(error_title=problem["title"], error=problem["detail"], hint=problem["hint"])


@pytest.mark.case("CASE-0099")
def test_try_it_out_with_a_body_that_breaks_a_rule_shows_the_422(page, case):
    operation = open_operation(page, "order-ms", "Accounts", "signUp")
    operation.locator("textarea.body-param__text").fill(json.dumps({"user_id": new_user_id(), "password": "short"}))
    operation.get_by_role("button", name="Execute").click()
    problem = served_answer(operation, "422")
    case.assert_told(error_title=problem["title"], error=problem["detail"], hint=problem["hint"])
    assert [error["field"] for error in problem["errors"]] == ["password"]
