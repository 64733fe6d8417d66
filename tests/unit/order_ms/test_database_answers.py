"""What a caller is told when the database fails at each point of a request (the pool's errors as answers)."""
import pytest

from services.order_ms import create_app, store
from services.order_ms.settings import load_settings
from services.order_ms.token_signer import SIGNING_KEY
from services.platform import db
from services.platform.auth import issue_token

ORDER = {"coffee_name": "jslee", "coffee_price": 2000, "coffee_qty": 6}


@pytest.fixture
def post_order(monkeypatch):
    app = create_app(load_settings())
    client = app.test_client()
    token = issue_token(app.config[SIGNING_KEY].current(), 60, "USER0001", "customer")

    def post(failure: Exception):
        def create_order(*_args, **_kwargs):
            raise failure

        monkeypatch.setattr(store, "create_order", create_order)
        return client.post("/order-ms/USER0001/orders", json=ORDER, headers={"Authorization": f"Bearer {token}"})

    return post


def test_database_unreachable_says_nothing_was_saved(post_order):
    response = post_order(db.DatabaseUnavailable("refused"))
    assert response.status_code == 503 and response.headers["Retry-After"] == "5"
    assert response.mimetype == "application/problem+json" and response.json["type"] == "/problems/database-unavailable"
    assert response.json["hint"].startswith("Nothing was saved.")


def test_a_deadlock_says_nothing_was_saved_and_to_retry_soon(post_order):
    response = post_order(db.DatabaseBusy("deadlock"))
    assert response.status_code == 503 and response.headers["Retry-After"] == "1"
    assert response.json["type"] == "/problems/database-busy" and response.json["hint"].startswith("Nothing was saved.")


def test_a_commit_whose_outcome_is_unknown_says_so_and_to_retry_with_the_same_key(post_order):
    response = post_order(db.CommitOutcomeUnknown("lost during commit"))
    assert response.status_code == 503
    body = response.json
    assert body["type"] == "/problems/outcome-unknown"
    assert "may or may not have been saved" in body["detail"]
    assert "same Idempotency-Key" in body["hint"] and "Nothing was saved" not in body["hint"]
