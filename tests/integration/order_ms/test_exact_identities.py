"""Exact identities and keys: Idempotency-Keys compare byte for byte, a user id has one form (the one it was
signed up with) that no other account may take in another case, and a database made by the earlier
migrations is upgraded to both without losing a row."""
import shutil
import uuid

import mariadb
import pytest
import requests

from services.order_ms.migrate import MIGRATIONS
from tests.integration.conftest import auth, login
from tests.integration.order_ms.test_orders import post_order
from tests.support.accounts import post_sign_up
from tests.support.databases import ThrowawayDatabase

PASSWORD = "a-long-password"
# The migrations main had before this change: a database made by them is what an upgrade finds.
BEFORE_EXACT_KEYS = "0005_exact_keys_and_user_ids.sql"


def test_keys_that_differ_only_in_case_are_two_orders(base_url, customer, order_db):
    user_id, headers = customer.user_id, customer.headers
    key = f"order-{uuid.uuid4().hex[:8]}"
    lower = post_order(base_url, user_id, {**headers, "Idempotency-Key": key})
    upper = post_order(base_url, user_id, {**headers, "Idempotency-Key": key.upper()})
    assert lower.status_code == upper.status_code == 201
    assert "Idempotent-Replayed" not in upper.headers
    assert lower.json()["order_id"] != upper.json()["order_id"]
    again = post_order(base_url, user_id, {**headers, "Idempotency-Key": key.upper()})
    assert again.json()["order_id"] == upper.json()["order_id"] and again.headers["Idempotent-Replayed"] == "true"
    cursor = order_db.cursor()
    cursor.execute("SELECT idempotency_key FROM orders WHERE user_id = ? ORDER BY id", (user_id,))
    assert [row[0] for row in cursor.fetchall()] == [key, key.upper()]


def test_a_user_id_in_another_case_is_the_same_account(base_url):
    user_id = f"Alice-{uuid.uuid4().hex[:8]}"
    assert post_sign_up(base_url, user_id, PASSWORD).status_code == 201
    taken = post_sign_up(base_url, user_id.lower(), PASSWORD)
    assert taken.status_code == 409 and taken.json()["title"] == "User Exists"
    # Login finds the account in any case; the token and the answer carry the account's own form.
    answer = requests.post(f"{base_url}/order-ms/login", json={"user_id": user_id.upper(), "password": PASSWORD},
                           timeout=10)
    assert answer.status_code == 200 and answer.json()["user_id"] == user_id
    headers = auth(answer.json()["access_token"])
    assert post_order(base_url, user_id, headers).status_code == 201
    # Every check compares that one form: another case in the path is another user id.
    other_case = requests.get(f"{base_url}/order-ms/{user_id.lower()}/orders", headers=headers, timeout=10)
    assert other_case.status_code == 403 and f"/order-ms/{user_id}/" in other_case.json()["hint"]


def test_staff_see_orders_under_the_exact_user_id_only(base_url, staff_headers):
    user_id = f"Bob-{uuid.uuid4().hex[:8]}"
    assert post_sign_up(base_url, user_id, PASSWORD).status_code == 201
    assert post_order(base_url, user_id, auth(login(base_url, user_id, PASSWORD))).status_code == 201
    own = requests.get(f"{base_url}/order-ms/{user_id}/orders", headers=staff_headers, timeout=10).json()
    look_alike = requests.get(f"{base_url}/order-ms/{user_id.upper()}/orders", headers=staff_headers, timeout=10)
    assert len(own) == 1 and look_alike.json() == []


@pytest.fixture
def database_from_main(stack, tmp_path):
    """A throwaway order-ms database made by the migrations before exact keys, with rows in it."""
    earlier = tmp_path / "migrations-before"
    earlier.mkdir()
    for path in sorted(MIGRATIONS.glob("[0-9]*.sql")):
        if path.name < BEFORE_EXACT_KEYS:
            shutil.copy(path, earlier)
    database = ThrowawayDatabase(stack, "order_ms").create(migrate=False)
    try:
        result = database.migrate("--dir", str(earlier))
        assert result.returncode == 0, result.stdout + result.stderr
        with database.connect() as conn:
            cursor = conn.cursor()
            cursor.execute("INSERT INTO users (user_id, password_hash) VALUES ('Barista', 'h1'), ('USER0001', 'h2')")
            cursor.execute("INSERT INTO orders (order_id, user_id, coffee_name, coffee_price, coffee_qty, ordered_at,"
                           " idempotency_key) VALUES (UUID(), 'USER0001', 'latte', 1, 1, NOW(6), 'key-a')")
            conn.commit()
        yield database
    finally:
        database.drop()


def test_an_upgraded_database_keeps_its_rows_and_compares_exactly(database_from_main):
    result = database_from_main.migrate()
    assert result.returncode == 0, result.stdout + result.stderr
    assert BEFORE_EXACT_KEYS in result.stdout
    with database_from_main.connect() as conn:
        cursor = conn.cursor()
        cursor.execute("SELECT user_id, user_key, role FROM users ORDER BY user_id")
        assert cursor.fetchall() == [("Barista", "barista", "customer"), ("USER0001", "user0001", "customer")]
        # The same key in another case is another order now.
        cursor.execute("INSERT INTO orders (order_id, user_id, coffee_name, coffee_price, coffee_qty, ordered_at,"
                       " idempotency_key) VALUES (UUID(), 'USER0001', 'latte', 1, 1, NOW(6), 'KEY-A')")
        cursor.execute("SELECT COUNT(*) FROM orders WHERE user_id = 'USER0001' AND idempotency_key = 'key-a'")
        assert cursor.fetchone()[0] == 1
        cursor.execute("SELECT COUNT(*) FROM orders WHERE user_id = 'user0001'")
        assert cursor.fetchone()[0] == 0
        # No account may be the look-alike of an existing one.
        with pytest.raises(mariadb.IntegrityError):
            cursor.execute("INSERT INTO users (user_id, password_hash) VALUES ('barista', 'h3')")
        conn.rollback()
