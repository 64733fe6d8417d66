"""Status moves: every allowed move, every refused one, the delivery_status events and the moves a delivery
offers (CASE-0058..0068, CASE-0100)."""
from __future__ import annotations

import uuid

import pytest

from tests.acceptance.uat.checks import ISO_UTC_MICROSECONDS, assert_problem
from tests.acceptance.uat.events import value_of
from tests.acceptance.uat.flows import delivery_path, move, new_delivery


def status_of(api, token, delivery_id) -> str:
    response = api.get(delivery_path(delivery_id), token=token)
    assert response.status_code == 200
    return response.json()["status"]


def moved(api, staff, delivery_id, status) -> dict:
    response = move(api, staff.token, delivery_id, status)
    assert response.status_code == 200, f"{status}: {response.status_code} {response.text[:300]}"
    body = response.json()
    assert body["delivery_id"] == delivery_id and body["status"] == status
    assert ISO_UTC_MICROSECONDS.match(body["updated_at"]), body
    return body


@pytest.mark.case("CASE-0058")
def test_confirmed_in_delivery_completed_each_published(api, customer, staff, watch):
    delivery_status = watch("delivery_status")
    delivery = new_delivery(api, customer)
    moved(api, staff, delivery["delivery_id"], "IN_DELIVERY")
    moved(api, staff, delivery["delivery_id"], "COMPLETED")
    assert status_of(api, staff.token, delivery["delivery_id"]) == "COMPLETED"
    # At-least-once publishing may repeat an event; the changes themselves come in order (key order_id).
    changes = []
    for record in delivery_status.wait_for(delivery["order_id"], count=3):
        change = value_of(record)
        if change not in changes:
            changes.append(change)
    # The delivery's creation is published too (no previous status, version 1); each move one version up.
    assert [(c["previous_status"], c["status"], c["version"]) for c in changes][:3] == [
        (None, "CONFIRMED", 1), ("CONFIRMED", "IN_DELIVERY", 2), ("IN_DELIVERY", "COMPLETED", 3)]
    assert all(c["delivery_id"] == delivery["delivery_id"] and c["order_id"] == delivery["order_id"] for c in changes)


@pytest.mark.case("CASE-0059")
def test_confirmed_to_completed(api, customer, staff):
    delivery = new_delivery(api, customer)
    moved(api, staff, delivery["delivery_id"], "COMPLETED")
    assert status_of(api, customer.token, delivery["delivery_id"]) == "COMPLETED"


@pytest.mark.case("CASE-0060")
def test_confirmed_to_canceled(api, customer, staff):
    delivery = new_delivery(api, customer)
    moved(api, staff, delivery["delivery_id"], "CANCELED")
    assert status_of(api, customer.token, delivery["delivery_id"]) == "CANCELED"


@pytest.mark.case("CASE-0061")
def test_in_delivery_to_canceled(api, customer, staff):
    delivery = new_delivery(api, customer)
    moved(api, staff, delivery["delivery_id"], "IN_DELIVERY")
    moved(api, staff, delivery["delivery_id"], "CANCELED")
    assert status_of(api, customer.token, delivery["delivery_id"]) == "CANCELED"


@pytest.mark.case("CASE-0062")
def test_same_status_again_is_a_no_op(api, customer, staff):
    delivery = new_delivery(api, customer)
    moved(api, staff, delivery["delivery_id"], "CONFIRMED")
    assert status_of(api, staff.token, delivery["delivery_id"]) == "CONFIRMED"
    moved(api, staff, delivery["delivery_id"], "IN_DELIVERY")
    moved(api, staff, delivery["delivery_id"], "IN_DELIVERY")
    assert status_of(api, staff.token, delivery["delivery_id"]) == "IN_DELIVERY"


@pytest.mark.case("CASE-0063")
def test_short_alias_moves_the_status(api, customer, staff):
    delivery = new_delivery(api, customer)
    response = api.put(delivery_path(delivery["delivery_id"]), json={"status": "IN_DELIVERY"}, token=staff.token)
    assert response.status_code == 200
    assert response.json()["status"] == "IN_DELIVERY"
    assert status_of(api, staff.token, delivery["delivery_id"]) == "IN_DELIVERY"


@pytest.mark.case("CASE-0064")
def test_moving_back_is_refused_with_allowed_moves(api, customer, staff, case):
    delivery = new_delivery(api, customer)
    moved(api, staff, delivery["delivery_id"], "IN_DELIVERY")
    assert_problem(move(api, staff.token, delivery["delivery_id"], "CONFIRMED"), 409, case)
    assert status_of(api, staff.token, delivery["delivery_id"]) == "IN_DELIVERY"


@pytest.mark.case("CASE-0065")
@pytest.mark.parametrize("final, attempt", [
    ("COMPLETED", "CANCELED"), ("COMPLETED", "IN_DELIVERY"), ("CANCELED", "COMPLETED"), ("CANCELED", "CONFIRMED"),
])
def test_finished_delivery_cannot_move(api, customer, staff, final, attempt, case):
    delivery = new_delivery(api, customer)
    moved(api, staff, delivery["delivery_id"], final)
    told = assert_problem(move(api, staff.token, delivery["delivery_id"], attempt), 409, case)
    assert (told.values["status"], told.values["wanted"]) == (final, attempt)
    assert status_of(api, staff.token, delivery["delivery_id"]) == final


@pytest.mark.case("CASE-0066")
@pytest.mark.parametrize("status", ["DELIVERED", "confirmed"])
def test_unknown_status_is_refused_with_valid_ones(api, customer, staff, status, case):
    delivery = new_delivery(api, customer)
    assert_problem(move(api, staff.token, delivery["delivery_id"], status), 422, case, field="status")
    assert status_of(api, staff.token, delivery["delivery_id"]) == "CONFIRMED"


@pytest.mark.case("CASE-0067")
def test_moving_unknown_delivery_is_not_found(api, staff, case):
    delivery_id = str(uuid.uuid4())
    told = assert_problem(move(api, staff.token, delivery_id, "COMPLETED"), 404, case)
    assert told.values["delivery_id"] == delivery_id


@pytest.mark.case("CASE-0068")
@pytest.mark.parametrize("body", [{}, {"status": 3}, {"status": None}], ids=["empty", "number", "null"])
def test_status_missing_or_mistyped_is_refused(api, customer, staff, body, case):
    delivery = new_delivery(api, customer)
    response = api.put(f"{delivery_path(delivery['delivery_id'])}/status", json=body, token=staff.token)
    assert_problem(response, 422, case, field="status")


@pytest.mark.case("CASE-0100")
def test_a_delivery_offers_exactly_the_moves_it_allows(api, customer, staff):
    delivery = new_delivery(api, customer)
    expected = {"CONFIRMED": ["IN_DELIVERY", "COMPLETED", "CANCELED"], "IN_DELIVERY": ["COMPLETED", "CANCELED"],
                "COMPLETED": []}
    for status in ("CONFIRMED", "IN_DELIVERY", "COMPLETED"):
        shown = api.get(delivery_path(delivery["delivery_id"]), token=staff.token).json()
        assert (shown["status"], shown["next_statuses"]) == (status, expected[status])
        if shown["next_statuses"]:
            # The longest path: through IN_DELIVERY while it is offered, then the first final status.
            following = "IN_DELIVERY" if "IN_DELIVERY" in shown["next_statuses"] else shown["next_statuses"][0]
            moved(api, staff, delivery["delivery_id"], following)
