"""Each service's migrations apply once and in order to its own database, as its schema owner."""
import dataclasses
import json

import pytest

from services.delivery_ms.migrate import MIGRATIONS as DELIVERY_MIGRATIONS
from services.order_ms.migrate import MIGRATIONS as ORDER_MIGRATIONS
from tests.support.databases import ThrowawayDatabase


@pytest.mark.parametrize("service,folder", [("order_ms", ORDER_MIGRATIONS), ("delivery_ms", DELIVERY_MIGRATIONS)])
def test_migrations_create_the_database_and_apply_each_file_once(stack, service, folder):
    database = ThrowawayDatabase(stack, service)
    try:
        database.create_users_only()
        first = database.migrate()
        assert first.returncode == 0, first.stdout + first.stderr
        files = sorted(p.name for p in folder.glob("[0-9][0-9][0-9][0-9]_*.sql"))
        assert files, f"no migrations in {folder}"
        with database.connect() as conn:
            cursor = conn.cursor()
            cursor.execute("SELECT version FROM schema_migrations ORDER BY version")
            assert [row[0] for row in cursor.fetchall()] == files
            second = database.migrate()
            assert second.returncode == 0
            assert '"applied": []' in second.stdout
            cursor.execute("SELECT COUNT(*) FROM schema_migrations")
            assert cursor.fetchone()[0] == len(files)
    finally:
        database.drop()


def test_migrate_fails_cleanly_when_the_database_is_unreachable(stack):
    database = ThrowawayDatabase(stack, "order_ms")
    database.state = dataclasses.replace(stack, env={**stack.env, "DB_PORT": "1", "DB_CONNECT_TIMEOUT": "1"})
    result = database.migrate()
    assert result.returncode == 1
    assert "migration failed" in result.stdout and "Traceback" not in result.stdout + result.stderr


@pytest.mark.parametrize("service,folder", [("order_ms", ORDER_MIGRATIONS), ("delivery_ms", DELIVERY_MIGRATIONS)])
def test_two_migration_runs_at_once_on_a_fresh_database_apply_each_file_once(stack, service, folder):
    """As two pods starting together do: the database lock lets one apply, the other then finds nothing to do."""
    database = ThrowawayDatabase(stack, service)
    try:
        database.create_users_only()
        runs = [database.start_migrate() for _ in range(2)]
        outputs = [run.communicate(timeout=120) for run in runs]
        assert [run.returncode for run in runs] == [0, 0], outputs
        applied = [json.loads(line)["applied"] for out, _err in outputs for line in out.splitlines()
                   if '"migrations up to date"' in line]
        files = sorted(p.name for p in folder.glob("[0-9][0-9][0-9][0-9]_*.sql"))
        assert sorted(applied, key=len) == [[], files], "one run applies every file, the other none"
        with database.connect() as conn:
            cursor = conn.cursor()
            cursor.execute("SELECT version, COUNT(*) FROM schema_migrations GROUP BY version ORDER BY version")
            assert cursor.fetchall() == [(name, 1) for name in files]
    finally:
        database.drop()


# The lecture code's tables (its `mydb`): the same names as ours, other columns.
LECTURE_TABLES = {
    "order_ms": ("orders", "CREATE TABLE orders (id INT AUTO_INCREMENT PRIMARY KEY, user_id VARCHAR(45),"
                           " order_json TEXT, created_at DATETIME)"),
    "delivery_ms": ("delivery_status", "CREATE TABLE delivery_status (id INT AUTO_INCREMENT PRIMARY KEY,"
                                       " order_json TEXT, status VARCHAR(20), created_at DATETIME)"),
}


@pytest.mark.parametrize("service", sorted(LECTURE_TABLES))
def test_migrate_refuses_a_database_with_our_table_names_in_another_shape(stack, service):
    table, lecture_ddl = LECTURE_TABLES[service]
    database = ThrowawayDatabase(stack, service)
    try:
        database.create(migrate=False)
        with database.connect() as conn:
            conn.cursor().execute(lecture_ddl)
        result = database.migrate()
        assert result.returncode == 1, result.stdout + result.stderr
        assert "migration refused" in result.stdout and "Traceback" not in result.stdout + result.stderr
        assert f"already has a table {table!r} with the columns (id, " in result.stdout
        assert "Hint: " in result.stdout and f"RENAME TABLE `{table}` TO `{table}_old`" in result.stdout
        with database.connect() as conn:
            cursor = conn.cursor()
            # Nothing recorded as applied, and the old table is as it was.
            cursor.execute("SELECT COUNT(*) FROM schema_migrations")
            assert cursor.fetchone()[0] == 0
            cursor.execute(f"SHOW COLUMNS FROM `{table}`")
            assert "order_json" in [row[0] for row in cursor.fetchall()]
            # Once the old table is moved away, the same command migrates.
            cursor.execute(f"RENAME TABLE `{table}` TO `{table}_old`")
        assert database.migrate().returncode == 0
    finally:
        database.drop()
