"""The web UI in a real browser (headless Chromium): login, ordering, and the staff delivery board."""
import re

import pytest
from playwright.sync_api import expect

# The helpers' own asserts should explain themselves too; this must come before their import.
pytest.register_assert_rewrite("tests.acceptance.ui_support")
from tests.acceptance.ui_support import (  # noqa: E402
    UI_URL,
    WAIT_SECONDS,
    api_token,
    delivery_of,
    log_in,
    new_user_id,
    place_order_over_http,
    staff_account,
)

pytest_plugins = ["tests.acceptance.ui_support"]


@pytest.mark.case("CASE-0001")
def test_id_and_password_can_be_entered(page):
    page.goto(UI_URL)
    user_id, password = page.locator("#user-id"), page.locator("#password")
    expect(user_id).to_be_editable()
    expect(password).to_be_editable()
    user_id.press_sequentially("USER0001")
    password.press_sequentially("secret-words")
    expect(user_id).to_have_value("USER0001")
    expect(password).to_have_value("secret-words")
    # The password is masked while typed.
    expect(password).to_have_attribute("type", "password")


@pytest.mark.case("CASE-0002")
@pytest.mark.parametrize("typed_id,typed_password,missing", [
    ("", "", "ID and password"),
    ("USER0001", "", "password"),
    ("", "coffee-demo-1", "ID"),
], ids=["both-empty", "password-empty", "id-empty"])
def test_a_warning_is_shown_when_id_or_password_is_missing(page, typed_id, typed_password, missing, case):
    logins = []
    page.on("request", lambda request: logins.append(request.url) if request.url.endswith("/login") else None)
    page.goto(UI_URL)
    page.fill("#user-id", typed_id)
    page.fill("#password", typed_password)
    page.click("#login-button")
    warning = page.locator("#login-warning")
    expect(warning).to_be_visible()
    # The login page has one standing guide under the form (which ID and password a sign-up takes).
    guide = page.locator("main.login-panel > p.small")
    expect(guide).to_be_visible()
    told = case.assert_told(error=warning.inner_text(), hint=guide.inner_text())
    assert told["missing"] == missing, "the warning must name the empty field"
    expect(page).to_have_url(UI_URL)
    assert logins == [], "the UI must not try to log in with an empty field"
    # Filling in what was missing takes the warning away.
    page.fill("#user-id", "USER0001")
    page.fill("#password", "coffee-demo-1")
    expect(page.locator("#login-warning")).to_be_hidden()


@pytest.mark.case("CASE-0003")
def test_pressing_enter_after_id_and_password_logs_in(page, customer):
    user_id, password = customer.user_id, customer.password
    page.goto(UI_URL)
    page.fill("#user-id", user_id)
    page.fill("#password", password)
    page.press("#password", "Enter")
    expect(page).to_have_url(re.compile(r"/order-ms/ui/orders\.html$"))
    expect(page.locator("#who")).to_have_text(f"{user_id} (customer)")


@pytest.mark.case("CASE-0004")
def test_a_customer_orders_in_the_ui_and_sees_it_become_a_delivery(page, customer):
    user_id, password = customer.user_id, customer.password
    log_in(page, user_id, password)
    rows = page.locator("#orders-body tr")
    # The pooled account may hold other cases' orders (never a Cafe Latte): wait until the list has loaded.
    expect(page.locator("#orders-empty:visible, #orders-body tr").first).to_be_visible()
    page.select_option("#coffee-name", "Cafe Latte")
    page.fill("#coffee-qty", "2")
    expect(page.locator("#order-total")).to_have_text("5,000")
    page.click("#order-button")
    expect(page.locator("#order-result")).to_contain_text("Ordered 2 × Cafe Latte")

    row = rows.filter(has_text="Cafe Latte")
    expect(row).to_have_count(1)
    expect(rows.first).to_contain_text("Cafe Latte")
    expect(row.locator(".delivery-status")).to_have_text("CONFIRMED", timeout=WAIT_SECONDS * 1000)
    # The page showed what the services hold: the order and its confirmed delivery.
    order_id = row.get_attribute("data-order-id")
    token = api_token(user_id, password)
    assert delivery_of(order_id, token)["status"] == "CONFIRMED"


@pytest.mark.case("CASE-0005")
def test_a_wrong_password_shows_the_error_and_its_hint(page, case):
    page.goto(UI_URL)
    page.fill("#user-id", new_user_id())
    page.fill("#password", "not-the-password")
    page.click("#login-button")
    error = page.locator("#login-error")
    expect(error).to_be_visible()
    # The box is filled before it is shown, so once visible it holds the whole error.
    case.assert_told(error_title=error.locator(".error-title").inner_text(),
                     error=error.locator(".error-detail").inner_text().strip(),
                     hint=error.locator(".error-hint").inner_text())
    expect(page).to_have_url(UI_URL)


@pytest.mark.case("CASE-0006")
def test_staff_moves_a_delivery_on_the_board(page, customer):
    customer_id, customer_token = customer.user_id, customer.token
    order_id = place_order_over_http(customer_id, customer_token)
    delivery_of(order_id, customer_token)

    log_in(page, *staff_account())
    expect(page).to_have_url(re.compile(r"/order-ms/ui/board\.html$"))
    confirmed = page.locator(f'.column[data-status="CONFIRMED"] [data-order-id="{order_id}"]')
    expect(confirmed).to_contain_text(f"for {customer_id}")
    confirmed.get_by_role("button", name="Start delivery").click()

    in_delivery = page.locator(f'.column[data-status="IN_DELIVERY"] [data-order-id="{order_id}"]')
    expect(in_delivery).to_be_visible()
    in_delivery.get_by_role("button", name="Complete").click()
    expect(page.locator(f'.column[data-status="COMPLETED"] [data-order-id="{order_id}"]')).to_be_visible()

    assert delivery_of(order_id, customer_token)["status"] == "COMPLETED"


@pytest.mark.case("CASE-0145")
def test_the_ui_keeps_its_device_token_where_scripts_cannot_read_it(page, customer):
    log_in(page, customer.user_id, customer.password)
    (cookie,) = [cookie for cookie in page.context.cookies() if cookie["name"] == "device_token"]
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and cookie["path"] == "/order-ms/login"
    assert "device_token" not in page.evaluate("document.cookie")
    page.click("#logout-button")
    with page.expect_response(lambda response: response.url.endswith("/order-ms/login")) as answered:
        log_in(page, customer.user_id, customer.password)
    login = answered.value
    assert f"device_token={cookie['value']}" in (login.request.header_value("cookie") or "")
    assert login.status == 200 and login.header_value("Device-Token") == cookie["value"]
