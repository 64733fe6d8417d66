"""The web UI, live (headless Chromium): the customer's list follows its order stream and cancels while allowed,
and the staff board follows the board stream (CASE-0134..0138)."""
import re
import time

import pytest
import requests
from playwright.sync_api import expect

# The helpers' own asserts should explain themselves too; this must come before their import.
pytest.register_assert_rewrite("tests.acceptance.ui_support")
from tests.acceptance.ui_support import (  # noqa: E402
    BASE_URL,
    WAIT_SECONDS,
    api_token,
    delivery_of,
    log_in,
    place_order_over_http,
    staff_account,
)

pytest_plugins = ["tests.acceptance.ui_support"]

WAIT_MS = WAIT_SECONDS * 1000
LIST_READS = re.compile(r"/order-ms/[^/]+/orders\?|/delivery-ms/deliveries\?")


def staff_moves(delivery_id: str, status: str) -> None:
    """Another staff session (over HTTP, not the page under test) moves the delivery."""
    response = requests.put(f"{BASE_URL}/delivery-ms/deliveries/{delivery_id}/status", json={"status": status},
                            headers={"Authorization": f"Bearer {api_token(*staff_account())}"}, timeout=10)
    assert response.status_code == 200, f"move to {status}: {response.status_code} {response.text[:300]}"


def order_view(user_id: str, token: str, order_id: str) -> dict:
    response = requests.get(f"{BASE_URL}/order-ms/{user_id}/orders/{order_id}", timeout=10,
                            headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, f"order: {response.status_code} {response.text[:300]}"
    return response.json()


def wait_for_view_status(user_id: str, token: str, order_id: str, status: str) -> dict:
    """Polls the order's view (order-ms) until its delivery has `status`."""
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        view = order_view(user_id, token, order_id)
        if (view.get("delivery") or {}).get("status") == status:
            return view
        assert time.monotonic() < deadline, f"order {order_id} did not show {status} in {WAIT_SECONDS:.0f}s"
        time.sleep(0.2)


def list_reads(page) -> list[str]:
    """Every list read (orders or deliveries) the page sends from now on: the live cases must need none."""
    seen: list[str] = []
    page.on("request", lambda request: seen.append(request.url) if LIST_READS.search(request.url) else None)
    return seen


def confirmed_order(customer) -> tuple[str, dict]:
    """An order of the customer whose CONFIRMED delivery order-ms already shows: (order_id, its delivery)."""
    order_id = place_order_over_http(customer.user_id, customer.token)
    delivery = delivery_of(order_id, customer.token)
    wait_for_view_status(customer.user_id, customer.token, order_id, "CONFIRMED")
    return order_id, delivery


def open_orders_page(page, customer):
    log_in(page, customer.user_id, customer.password)
    # "live" shows once the stream is open; the list read that follows it was sent before.
    expect(page.locator("#live-state")).to_have_text("live", timeout=WAIT_MS)


def row_of(page, order_id: str):
    return page.locator(f'#orders-body tr[data-order-id="{order_id}"]')


@pytest.mark.case("CASE-0134")
def test_the_order_list_changes_a_status_live(page, customer):
    order_id, delivery = confirmed_order(customer)
    open_orders_page(page, customer)
    row = row_of(page, order_id)
    expect(row.locator(".delivery-status")).to_have_text("CONFIRMED")
    reads = list_reads(page)
    staff_moves(delivery["delivery_id"], "IN_DELIVERY")
    expect(row.locator(".delivery-status")).to_have_text("IN_DELIVERY", timeout=WAIT_MS)
    staff_moves(delivery["delivery_id"], "COMPLETED")
    expect(row.locator(".delivery-status")).to_have_text("COMPLETED", timeout=WAIT_MS)
    assert reads == [], f"the page read its list again instead of following the stream: {reads}"


@pytest.mark.case("CASE-0135")
def test_a_customer_cancels_in_the_ui_and_sees_the_outcome(page, customer):
    order_id, delivery = confirmed_order(customer)
    open_orders_page(page, customer)
    row = row_of(page, order_id)
    expect(row.locator(".delivery-status")).to_have_text("CONFIRMED")
    row.get_by_role("button", name="Cancel").click()
    expect(row.locator(".delivery-status")).to_have_text("CANCELED", timeout=WAIT_MS)
    expect(row.locator(".cancel-outcome")).to_have_text("Canceled", timeout=WAIT_MS)
    expect(row.get_by_role("button", name="Cancel")).to_have_count(0)
    expect(page.locator("#cancel-error")).to_be_hidden()
    view = order_view(customer.user_id, customer.token, order_id)
    assert (view["delivery"]["status"], view["cancel"]["outcome"]) == ("CANCELED", "CANCELED")
    assert delivery_of(order_id, customer.token)["status"] == "CANCELED"
    assert delivery_of(order_id, customer.token)["delivery_id"] == delivery["delivery_id"]


@pytest.mark.case("CASE-0136")
def test_the_cancel_button_is_offered_only_while_allowed(page, customer):
    order_id, delivery = confirmed_order(customer)
    open_orders_page(page, customer)
    row = row_of(page, order_id)
    expect(row.get_by_role("button", name="Cancel")).to_be_visible()
    staff_moves(delivery["delivery_id"], "IN_DELIVERY")
    expect(row.locator(".delivery-status")).to_have_text("IN_DELIVERY", timeout=WAIT_MS)
    expect(row.get_by_role("button", name="Cancel")).to_have_count(0)


@pytest.mark.case("CASE-0137")
def test_a_refused_cancel_shows_its_error_and_hint(page, customer, case):
    order_id, delivery = confirmed_order(customer)
    # The page's live updates are cut off, so it still offers Cancel after staff moved the delivery on.
    page.route("**/orders/events*", lambda route: route.abort())
    log_in(page, customer.user_id, customer.password)
    row = row_of(page, order_id)
    expect(row.get_by_role("button", name="Cancel")).to_be_visible()
    staff_moves(delivery["delivery_id"], "IN_DELIVERY")
    wait_for_view_status(customer.user_id, customer.token, order_id, "IN_DELIVERY")
    row.get_by_role("button", name="Cancel").click()
    error = page.locator("#cancel-error")
    expect(error).to_be_visible()
    # The box is filled before it is shown, so once visible it holds the whole error.
    told = case.assert_told(error_title=error.locator(".error-title").inner_text(),
                            error=error.locator(".error-detail").inner_text().strip(),
                            hint=error.locator(".error-hint").inner_text())
    assert (told["order_id"], told["status"]) == (order_id, "IN_DELIVERY")
    expect(row.locator(".delivery-status")).to_have_text("IN_DELIVERY")
    expect(row.get_by_role("button", name="Cancel")).to_have_count(0)
    assert order_view(customer.user_id, customer.token, order_id)["cancel"] is None


@pytest.mark.case("CASE-0138")
def test_the_board_follows_new_deliveries_and_moves_live(page, customer):
    log_in(page, *staff_account())
    expect(page).to_have_url(re.compile(r"/order-ms/ui/board\.html$"))
    expect(page.locator("#live-state")).to_have_text("live", timeout=WAIT_MS)
    reads = list_reads(page)
    order_id = place_order_over_http(customer.user_id, customer.token)
    card = page.locator(f'.column[data-status="CONFIRMED"] [data-order-id="{order_id}"]')
    expect(card).to_contain_text(f"for {customer.user_id}", timeout=WAIT_MS)
    delivery_id = card.get_attribute("data-delivery-id")
    staff_moves(delivery_id, "IN_DELIVERY")
    expect(page.locator(f'.column[data-status="IN_DELIVERY"] [data-order-id="{order_id}"]')).to_be_visible(
        timeout=WAIT_MS)
    staff_moves(delivery_id, "COMPLETED")
    expect(page.locator(f'.column[data-status="COMPLETED"] [data-order-id="{order_id}"]')).to_be_visible(
        timeout=WAIT_MS)
    expect(page.locator(f'[data-order-id="{order_id}"]')).to_have_count(1)
    assert reads == [], f"the board read its list again instead of following the stream: {reads}"
