"""delivery-ms compares user ids byte for byte, as order-ms does (sql/order_ms/0005): a database made by the earlier
migrations, holding `Alice`'s delivery, is upgraded without losing a row, and `alice` (another account, e.g. one
signed up after `Alice` was deleted) never sees it."""
import shutil
import uuid

import pytest

from services.delivery_ms import store
from services.delivery_ms.migrate import MIGRATIONS
from services.delivery_ms.settings import load_settings
from services.platform.db import ConnectionPool
from tests.support.databases import ThrowawayDatabase

# The migrations main had before this change: a database made by them is what an upgrade finds.
BEFORE_EXACT_USER_IDS = "0005_exact_user_ids.sql"
USER_ID_COLUMNS = {("delivery_status", "user_id"), ("delivery_changes", "user_id")}


@pytest.fixture
def database_before_exact_user_ids(stack, tmp_path):
    """A throwaway delivery-ms database made by the migrations before 0005, with Alice's delivery in it."""
    earlier = tmp_path / "migrations-before"
    earlier.mkdir()
    for path in sorted(MIGRATIONS.glob("[0-9]*.sql")):
        if path.name < BEFORE_EXACT_USER_IDS:
            shutil.copy(path, earlier)
    database = ThrowawayDatabase(stack, "delivery_ms").create(migrate=False)
    try:
        result = database.migrate("--dir", str(earlier))
        assert result.returncode == 0, result.stdout + result.stderr
        with database.connect() as conn:
            cursor = conn.cursor()
            delivery_id, order_id = str(uuid.uuid4()), str(uuid.uuid4())
            cursor.execute("INSERT INTO delivery_status (delivery_id, order_id, user_id, order_json, status,"
                           " created_at, updated_at) VALUES (?, ?, 'Alice', '{}', 'CONFIRMED', NOW(6), NOW(6))",
                           (delivery_id, order_id))
            cursor.execute("INSERT INTO delivery_changes (delivery_id, order_id, user_id, status, version, updated_at)"
                           " VALUES (?, ?, 'Alice', 'CONFIRMED', 1, NOW(6))", (delivery_id, order_id))
            conn.commit()
        yield database, delivery_id
    finally:
        database.drop()


@pytest.fixture
def app_pool(database_before_exact_user_ids, monkeypatch):
    """A pool of delivery-ms's app user on the throwaway database, as the service makes it."""
    database, _ = database_before_exact_user_ids
    for name, value in database.app_env().items():
        monkeypatch.setenv(name, value)
    return ConnectionPool(load_settings(), size=1)


def test_an_upgraded_database_keeps_its_rows_and_compares_user_ids_exactly(database_before_exact_user_ids, app_pool):
    database, delivery_id = database_before_exact_user_ids
    result = database.migrate()
    assert result.returncode == 0, result.stdout + result.stderr
    assert BEFORE_EXACT_USER_IDS in result.stdout

    # The customer's list filters in SQL: only the exact form finds the delivery.
    assert [row["delivery_id"] for row in store.list_deliveries(app_pool, "Alice", None, 10, None)] == [delivery_id]
    assert store.list_deliveries(app_pool, "alice", None, 10, None) == []
    assert store.list_deliveries(app_pool, "ALICE", "CONFIRMED", 10, None) == []
    assert store.get_delivery(app_pool, delivery_id, "alice") is None
    assert store.get_delivery(app_pool, delivery_id, "Alice")["delivery_id"] == delivery_id

    with database.connect() as conn:
        cursor = conn.cursor()
        cursor.execute("SELECT COUNT(*) FROM delivery_changes WHERE user_id = 'alice'")
        assert cursor.fetchone()[0] == 0
        cursor.execute("SELECT user_id FROM delivery_changes")
        assert cursor.fetchall() == [("Alice",)]
        # Every user id column of the schema, so that a table added later with the old collation fails here.
        cursor.execute("SELECT table_name, column_name, collation_name FROM information_schema.columns"
                       " WHERE table_schema = ? AND column_name = 'user_id'", (database.name,))
        columns = {(table, column): collation for table, column, collation in cursor.fetchall()}
    assert USER_ID_COLUMNS <= set(columns)
    assert set(columns.values()) == {"utf8mb4_bin"}


def test_a_fresh_database_compares_user_ids_exactly(stack):
    database = ThrowawayDatabase(stack, "delivery_ms").create()
    try:
        with database.connect() as conn:
            cursor = conn.cursor()
            cursor.execute("SELECT collation_name FROM information_schema.columns"
                           " WHERE table_schema = ? AND column_name = 'user_id'", (database.name,))
            assert {row[0] for row in cursor.fetchall()} == {"utf8mb4_bin"}
    finally:
        database.drop()
