"""Unit tests for reading the tables and columns a migration file creates (what migrate compares a database with)."""
from services.order_ms.migrate import MIGRATIONS
from services.platform.migrate import created_tables, split_statements


def test_columns_are_read_and_keys_are_not():
    sql = """CREATE TABLE IF NOT EXISTS things (
        id BIGINT NOT NULL PRIMARY KEY,
        `name` VARCHAR(50) NOT NULL,
        -- why the next key exists
        UNIQUE KEY uq_things_name (name),
        KEY ix_things (id),
        CONSTRAINT fk FOREIGN KEY (id) REFERENCES other (id)
    ) ENGINE=InnoDB;
    INSERT INTO things VALUES (1, 'a');"""
    assert created_tables(split_statements(sql)) == {"things": ["id", "name"]}


def test_the_order_migrations_create_the_tables_the_store_uses():
    tables = {}
    for path in sorted(MIGRATIONS.glob("*.sql")):
        tables.update(created_tables(split_statements(path.read_text())))
    assert set(tables) == {"orders", "order_outbox", "users", "login_throttle", "login_devices", "order_deliveries",
                           "order_cancel_requests", "order_status_changes"}
    assert tables["orders"][:3] == ["id", "order_id", "user_id"]
