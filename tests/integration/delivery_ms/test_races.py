"""Races on delivery-ms: two staff members moving one delivery at once, or a staff member and a customer's cancel
request (the consumer's write, on its own thread): one wins, the other is told why, and the events agree."""
import json
import threading
from collections import Counter

import pytest
import requests

from services.contracts import order_cancel_requested
from services.contracts.envelope import TypedEvent
from services.delivery_ms import store
from tests.integration.delivery_ms.conftest import put_status
from tests.support.board import board_log

ROUNDS = 5


@pytest.mark.parametrize("round_number", range(ROUNDS))
def test_two_parallel_final_moves_one_wins_the_other_gets_409(base_url, staff_headers, delivery_in,
                                                               delivery_db, round_number):
    delivery = delivery_in("CONFIRMED")
    start = threading.Barrier(2)
    answers = {}

    def move(status):
        start.wait()
        answers[status] = put_status(base_url, delivery["delivery_id"], status, staff_headers)

    threads = [threading.Thread(target=move, args=(status,)) for status in ("COMPLETED", "CANCELED")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    winners = [status for status, answer in answers.items() if answer.status_code == 200]
    assert len(winners) == 1, {status: answer.text for status, answer in answers.items()}
    loser = next(status for status in answers if status not in winners)
    problem = answers[loser].json()
    assert answers[loser].status_code == 409 and problem["current_status"] == winners[0]
    assert problem["hint"] == f"{winners[0]} is final: no further status change is allowed."
    shown = requests.get(f"{base_url}/delivery-ms/deliveries/{delivery['delivery_id']}", headers=staff_headers,
                         timeout=10).json()
    assert shown["status"] == winners[0]
    # One change happened, so besides the creation's event one event was written, for the winner, one version up.
    cursor = delivery_db.cursor()
    cursor.execute("SELECT payload FROM delivery_outbox WHERE message_key = ? ORDER BY id", (delivery["order_id"],))
    assert [(json.loads(row[0])["status"], json.loads(row[0])["version"]) for row in cursor.fetchall()] == [
        ("CONFIRMED", 1), (winners[0], 2)]


CANCEL_ROUNDS = 12
STAFF_MOVES = ("IN_DELIVERY", "COMPLETED", "CANCELED")
tally = Counter()


def outbox_events(delivery_db, order_id) -> list[tuple[str, dict]]:
    cursor = delivery_db.cursor()
    cursor.execute("SELECT headers, payload FROM delivery_outbox WHERE message_key = ? ORDER BY id", (order_id,))
    return [(dict(json.loads(headers))["event_type"], json.loads(payload)) for headers, payload in cursor.fetchall()]


def as_order_ms_reads_them(events: list[tuple[str, dict]]) -> tuple[str, list[dict]]:
    """The delivery's status and the refusals, as a reader applying only higher versions (order-ms) ends up."""
    status, version, refusals = None, 0, []
    for event_type, value in events:
        if event_type == "OrderCancelRefused":
            refusals.append(value)
        elif value["version"] > version:
            status, version = value["status"], value["version"]
    return status, refusals


@pytest.mark.parametrize("round_number", range(CANCEL_ROUNDS))
def test_a_staff_move_racing_a_cancel_has_one_winner_and_both_sides_events_agree(
        base_url, staff_headers, delivery_in, delivery_db, delivery_pool, round_number):
    delivery = delivery_in("CONFIRMED")
    order = delivery["order"]
    wanted = STAFF_MOVES[round_number % len(STAFF_MOVES)]
    start = threading.Barrier(2)
    outcome = {}

    def staff_move():
        start.wait()
        outcome["staff"] = put_status(base_url, delivery["delivery_id"], wanted, staff_headers)

    def customer_cancel():
        # What the consumer does with an OrderCancelRequested record, on the real database, at the same moment.
        start.wait()
        request = TypedEvent(order_cancel_requested.EVENT_TYPE, {**order, "requested_at": order["ordered_at"]})
        outcome["cancel"] = store.apply_order_events(delivery_pool, [request])

    threads = [threading.Thread(target=staff_move), threading.Thread(target=customer_cancel)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    staff = outcome["staff"]
    events = outbox_events(delivery_db, delivery["order_id"])
    changes = [(value["status"], value["version"]) for event_type, value in events
               if event_type == "DeliveryStatusChanged"]
    status, refusals = as_order_ms_reads_them(events)
    shown = requests.get(f"{base_url}/delivery-ms/deliveries/{delivery['delivery_id']}", headers=staff_headers,
                         timeout=10).json()
    assert shown["status"] == status, "delivery-ms and a reader of its events agree on the status"
    assert [(status, version) for status, _previous, version in board_log(delivery_db, delivery["order_id"])] \
        == changes, "the board shows the published changes"

    if staff.status_code == 409:
        # The cancel won: CANCELED is final, so the staff move is refused, and the cancel was carried out.
        winner = "cancel"
        assert staff.json()["current_status"] == "CANCELED" and outcome["cancel"] == 1
        assert changes == [("CONFIRMED", 1), ("CANCELED", 2)] and refusals == []
    else:
        assert staff.status_code == 200, staff.text
        if wanted == "CANCELED" and events[-1][1].get("previous_status") == "CONFIRMED" and outcome["cancel"] == 1:
            # Both wanted CANCELED: whichever came first canceled it and the other found nothing to do.
            winner = "cancel (then the staff CANCELED was a no-op)"
        else:
            winner = "staff"
        assert changes == [("CONFIRMED", 1), (wanted, 2)]
        if wanted == "CANCELED":
            assert refusals == [], "a delivery staff canceled needs no refusal: the customer got what they asked"
        else:
            # The staff move won: the cancel came too late and was refused with the status and version it met.
            assert outcome["cancel"] == 1
            assert [(r["status"], r["version"]) for r in refusals] == [(wanted, 2)]
            assert wanted in refusals[0]["reason"]
    tally[winner] += 1
    print(f"round {round_number}: staff {wanted} vs cancel -> {winner}; so far {dict(tally)}")
