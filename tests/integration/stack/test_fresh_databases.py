"""`make test` starts its stack with STACK_FRESH_DATABASES=1: the profile's service databases are dropped and
made again, so rows an earlier run left behind (e.g. an outbox backlog) cannot delay the first tests."""
import uuid

import pytest

from scripts.stack.layout import Layout
from scripts.stack.mariadb import DatabaseServer, provision_services
from tests.support.databases import drop_service_database


@pytest.fixture
def provision(stack):
    """provision_services for a profile of this test's own; its databases and users are dropped afterwards."""
    env = stack.env
    server = DatabaseServer(env["DB_HOST"], int(env["DB_PORT"]), stack.admin["DB_USER"],
                            stack.admin["DB_PASSWORD"], private=False)
    layout = Layout(profile="freshdb", offset=0, db_prefix=f"coffee_fresh{uuid.uuid4().hex[:8]}")
    made = {}

    def run():
        made.update(provision_services(server, layout))
        return made

    yield run
    for spec in made.values():
        drop_service_database(stack, spec)


def leftover_rows(stack, database: str) -> int | None:
    """Rows of the `leftover` table, or None when the table is gone."""
    with stack.admin_connect() as conn:
        cursor = conn.cursor()
        cursor.execute("SELECT COUNT(*) FROM information_schema.tables"
                       " WHERE table_schema = ? AND table_name = 'leftover'", (database,))
        if cursor.fetchone()[0] == 0:
            return None
        cursor.execute(f"SELECT COUNT(*) FROM `{database}`.leftover")
        return cursor.fetchone()[0]


@pytest.mark.parametrize("fresh,left", [("1", None), ("", 1)])
def test_a_fresh_stack_drops_what_an_earlier_run_left(stack, provision, monkeypatch, fresh, left):
    database = provision()["order_ms"].database
    with stack.admin_connect(database) as conn:
        conn.cursor().execute("CREATE TABLE leftover (id INT PRIMARY KEY)")
        conn.cursor().execute("INSERT INTO leftover VALUES (1)")

    monkeypatch.setenv("STACK_FRESH_DATABASES", fresh)
    provision()
    assert leftover_rows(stack, database) == left
