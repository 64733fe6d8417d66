"""`make test` starts its stack with STACK_FRESH_DATABASES=1: the profile's service databases are dropped and
made again, so rows an earlier run left behind (e.g. an outbox backlog) cannot delay the first tests."""
import uuid

import pytest

from scripts.stack.layout import Layout
from scripts.stack.mariadb import DatabaseServer, provision_services
from tests.support.stack import admin_connect


@pytest.fixture
def server_and_layout(stack):
    env = stack["env"]
    server = DatabaseServer(env["DB_HOST"], int(env["DB_PORT"]), stack["admin"]["DB_USER"],
                            stack["admin"]["DB_PASSWORD"], private=False)
    layout = Layout(profile="freshdb", offset=0, db_prefix=f"coffee_fresh{uuid.uuid4().hex[:8]}")
    yield server, layout
    conn = admin_connect(stack)
    cursor = conn.cursor()
    for short in ("order", "delivery"):
        name = f"{layout.db_prefix}_{short}"
        cursor.execute(f"DROP DATABASE IF EXISTS `{name}`")
        for role in ("owner", "app"):
            cursor.execute(f"DROP USER IF EXISTS '{name}_{role}'@'%'")
    conn.close()


def leftover_rows(stack, database: str) -> int | None:
    conn = admin_connect(stack)
    cursor = conn.cursor()
    cursor.execute("SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = 'leftover'",
                   (database,))
    exists = cursor.fetchone()[0] == 1
    count = None
    if exists:
        cursor.execute(f"SELECT COUNT(*) FROM `{database}`.leftover")
        count = cursor.fetchone()[0]
    conn.close()
    return count


@pytest.mark.parametrize("fresh,left", [("1", None), ("", 1)])
def test_a_fresh_stack_drops_what_an_earlier_run_left(stack, server_and_layout, monkeypatch, fresh, left):
    server, layout = server_and_layout
    database = provision_services(server, layout)["order_ms"].database
    conn = admin_connect(stack, database)
    conn.cursor().execute("CREATE TABLE leftover (id INT PRIMARY KEY)")
    conn.cursor().execute("INSERT INTO leftover VALUES (1)")
    conn.close()

    monkeypatch.setenv("STACK_FRESH_DATABASES", fresh)
    provision_services(server, layout)
    assert leftover_rows(stack, database) == left
