"""Database per service: each service's app user reads and writes its own rows and nothing else; only the
owner changes the schema. Checked on the stack's own users, as the services use them."""
import mariadb
import pytest

# MariaDB's refusals: a command on a table (1142) or on a whole database (1044) the user has no right to.
REFUSED = (1142, 1044)
OTHER = {"order_ms": "delivery_ms", "delivery_ms": "order_ms"}
OWN_TABLE = {"order_ms": "orders", "delivery_ms": "delivery_status"}


def connect_as(stack, user: str, password: str, database: str) -> mariadb.Connection:
    env = stack.env
    return mariadb.connect(host=env["DB_HOST"], port=int(env["DB_PORT"]), user=user, password=password,
                           database=database, autocommit=True)


def refused(cursor, sql: str) -> int:
    with pytest.raises(mariadb.Error) as caught:
        cursor.execute(sql)
    return caught.value.errno


@pytest.fixture(params=["order_ms", "delivery_ms"])
def service(request):
    return request.param


def app_cursor(stack, service):
    accounts = stack.databases[service]
    return connect_as(stack, accounts.app_user, accounts.app_password, accounts.database).cursor()


def test_the_app_user_reads_and_writes_its_own_tables(stack, service):
    cursor = app_cursor(stack, service)
    cursor.execute(f"SELECT COUNT(*) FROM {OWN_TABLE[service]}")
    assert cursor.fetchone()[0] >= 0


def test_the_app_user_cannot_change_the_schema(stack, service):
    cursor = app_cursor(stack, service)
    assert refused(cursor, "CREATE TABLE intruder (id INT)") in REFUSED
    assert refused(cursor, f"ALTER TABLE {OWN_TABLE[service]} ADD COLUMN intruder INT") in REFUSED
    assert refused(cursor, f"DROP TABLE {OWN_TABLE[service]}") in REFUSED
    assert refused(cursor, f"TRUNCATE TABLE {OWN_TABLE[service]}") in REFUSED


def test_the_app_user_cannot_touch_the_other_services_database(stack, service):
    other = OTHER[service]
    other_db = stack.databases[other].database
    cursor = app_cursor(stack, service)
    assert refused(cursor, f"SELECT COUNT(*) FROM `{other_db}`.{OWN_TABLE[other]}") in REFUSED
    assert refused(cursor, f"DELETE FROM `{other_db}`.{OWN_TABLE[other]}") in REFUSED
    accounts = stack.databases[service]
    with pytest.raises(mariadb.Error) as caught:
        connect_as(stack, accounts.app_user, accounts.app_password, other_db)
    assert caught.value.errno == 1044


def test_the_owner_changes_its_own_schema_but_not_the_other_database(stack, service):
    accounts = stack.databases[service]
    cursor = connect_as(stack, accounts.owner_user, accounts.owner_password, accounts.database).cursor()
    cursor.execute("CREATE TABLE IF NOT EXISTS owner_probe (id INT)")
    cursor.execute("DROP TABLE owner_probe")
    other_db = stack.databases[OTHER[service]].database
    assert refused(cursor, f"CREATE TABLE `{other_db}`.intruder (id INT)") in REFUSED
