"""Races on delivery-ms: two staff members moving one delivery at once; one wins, the other is told why."""
import json
import threading

import pytest
import requests

from tests.integration.delivery_ms.conftest import put_status

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
    # One change happened, so one event waits to be published, for the winner.
    cursor = delivery_db.cursor()
    cursor.execute("SELECT payload FROM delivery_outbox WHERE message_key = ?", (delivery["order_id"],))
    assert [json.loads(row[0])["status"] for row in cursor.fetchall()] == [winners[0]]
