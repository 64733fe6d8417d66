"""The pool's promises with fake connections: what a caller is told when the database is gone, busy, or
breaks during a commit, and that a pooled connection found dead costs no failed transaction."""
import mariadb
import pytest

from services.platform import db
from services.platform.settings import Settings, platform_fields


def driver_error(kind, errno):
    error = kind(f"errno {errno}")
    error.errno = errno
    return error


class FakeConnection:
    """Records calls; `fail` maps a method name to the error it raises."""

    def __init__(self, fail=None):
        self.fail = fail or {}
        self.calls = []
        self.closed = False

    def _call(self, name):
        self.calls.append(name)
        if name in self.fail:
            raise self.fail[name]

    def ping(self):
        self._call("ping")

    def commit(self):
        self._call("commit")

    def rollback(self):
        self._call("rollback")

    def close(self):
        self.closed = True

    def cursor(self, dictionary=False):
        return FakeCursor(self)


class FakeCursor:
    def __init__(self, conn):
        self.conn = conn

    def execute(self, sql, params=()):
        self.conn._call("execute")

    def executemany(self, sql, rows):
        self.conn._call("executemany")

    def close(self):
        pass


@pytest.fixture
def pool(monkeypatch):
    """A pool whose new connections come from `pool.next_connections` (fresh fakes once those run out)."""
    made = []

    def connect(_settings, **_options):
        conn = pool.next_connections.pop(0) if pool.next_connections else FakeConnection()
        made.append(conn)
        return conn

    monkeypatch.setattr(db, "connect", connect)
    pool = db.ConnectionPool(Settings(**platform_fields(db_name="unit")), size=2, acquire_timeout=0.1)
    pool.next_connections = []
    pool.made = made
    return pool


def test_a_transaction_costs_no_round_trip_beyond_its_statements_and_commit(pool):
    with pool.transaction() as cursor:
        cursor.execute("INSERT ...")
    conn = pool.made[0]
    assert conn.calls == ["execute", "commit"] and not conn.closed
    with pool.transaction() as cursor:
        cursor.execute("SELECT ...")
    assert pool.made == [conn] and conn.calls[2:] == ["execute", "commit"]


def test_a_dead_idle_connection_is_replaced_at_the_first_statement_so_a_restart_costs_no_failed_request(pool):
    with pool.transaction() as cursor:
        cursor.execute("SELECT 1")
    dead = pool.made[0]
    dead.fail["execute"] = driver_error(mariadb.InterfaceError, 2006)  # the server restarted meanwhile
    with pool.transaction() as cursor:
        cursor.execute("INSERT ...")
        cursor.execute("INSERT ...")
    assert dead.closed and len(pool.made) == 2 and pool.made[1].calls == ["execute", "execute", "commit"]


def test_a_dead_idle_connection_while_the_server_is_still_down_is_database_unavailable(pool, monkeypatch):
    with pool.transaction() as cursor:
        cursor.execute("SELECT 1")
    pool.made[0].fail["execute"] = driver_error(mariadb.InterfaceError, 2006)

    def refuse(_settings, **_options):
        raise db.DatabaseUnavailable("cannot connect")

    monkeypatch.setattr(db, "connect", refuse)
    with pytest.raises(db.DatabaseUnavailable):
        with pool.transaction() as cursor:
            cursor.execute("INSERT ...")
    assert pool.made[0].closed
    monkeypatch.setattr(db, "connect", lambda _settings, **_options: FakeConnection())  # the server is back
    assert pool.acquire() and pool.acquire()  # both slots are free again


def test_only_the_first_statement_is_run_again(pool):
    with pool.transaction() as cursor:
        cursor.execute("SELECT 1")
    conn = pool.made[0]
    with pytest.raises(db.DatabaseUnavailable):
        with pool.transaction() as cursor:
            cursor.execute("INSERT ...")
            conn.fail["execute"] = driver_error(mariadb.InterfaceError, 2013)  # lost mid-transaction
            cursor.execute("INSERT ...")
    assert conn.closed and len(pool.made) == 1


def test_the_readiness_connection_is_checked_before_use(pool):
    with pool.transaction() as cursor:
        cursor.execute("SELECT 1")
    dead = pool.made[0]
    dead.fail["ping"] = driver_error(mariadb.InterfaceError, 2006)
    with pool.connection() as conn:
        assert conn is pool.made[1]
    assert dead.closed


def test_no_server_is_database_unavailable(monkeypatch):
    def refuse(**_params):
        raise driver_error(mariadb.OperationalError, 2002)

    monkeypatch.setattr(db.mariadb, "connect", refuse)
    unavailable = db.ConnectionPool(Settings(**platform_fields(db_name="unit")), size=1)
    with pytest.raises(db.DatabaseUnavailable, match="cannot connect"):
        with unavailable.transaction():
            pass


def test_a_connection_lost_mid_transaction_is_unavailable_and_dropped(pool):
    pool.next_connections = [FakeConnection(fail={"execute": driver_error(mariadb.InterfaceError, 2013)})]
    with pytest.raises(db.DatabaseUnavailable):
        with pool.transaction() as cursor:
            cursor.execute("INSERT ...")
    assert pool.made[0].closed


@pytest.mark.parametrize("errno", [db.DEADLOCK, db.LOCK_WAIT_TIMEOUT])
def test_a_deadlock_or_lock_wait_timeout_is_busy_and_keeps_the_connection(pool, errno):
    pool.next_connections = [FakeConnection(fail={"execute": driver_error(mariadb.OperationalError, errno)})]
    with pytest.raises(db.DatabaseBusy):
        with pool.transaction() as cursor:
            cursor.execute("UPDATE ...")
    conn = pool.made[0]
    assert "rollback" in conn.calls and not conn.closed


def test_a_connection_lost_during_the_commit_is_an_unknown_outcome(pool):
    pool.next_connections = [FakeConnection(fail={"commit": driver_error(mariadb.InterfaceError, 2013)})]
    with pytest.raises(db.CommitOutcomeUnknown):
        with pool.transaction() as cursor:
            cursor.execute("INSERT ...")
    assert pool.made[0].closed


def test_a_bad_query_stays_what_it_is(pool):
    pool.next_connections = [FakeConnection(fail={"execute": driver_error(mariadb.IntegrityError, 1062)})]
    with pytest.raises(mariadb.IntegrityError):
        with pool.transaction() as cursor:
            cursor.execute("INSERT ...")
    assert not pool.made[0].closed


def test_every_slot_busy_is_database_unavailable(pool):
    first, second = pool.acquire(), pool.acquire()
    with pytest.raises(db.DatabaseUnavailable, match="busy"):
        pool.acquire()
    pool.release(first)
    pool.release(second)


# --- a transaction's isolation level ------------------------------------------------------------------------------
class RecordingConnection:
    """Keeps every statement's SQL, and COMMIT and ROLLBACK, in order; its cursors remember whether they were asked
    to bind (binary) and answer a fetch with that and the SQL they ran last."""

    def __init__(self):
        self.sql, self.cursors = [], []

    def cursor(self, dictionary=False, binary=False):
        connection = self

        class Cursor:
            def __init__(self):
                self.binary, self.ran = binary, []
                connection.cursors.append(self)

            def execute(self, sql, params=()):
                self.ran.append(sql)
                connection.sql.append(sql)

            def executemany(self, sql, rows):
                self.execute(sql)

            def fetchall(self):
                return [("binary" if self.binary else "text", self.ran[-1])]

            def close(self):
                pass

        return Cursor()

    def commit(self):
        self.sql.append("COMMIT")

    def rollback(self):
        self.sql.append("ROLLBACK")

    def close(self):
        pass


def test_each_transaction_of_a_pool_with_an_isolation_level_runs_at_it_unless_it_asks_for_another(monkeypatch):
    conn = RecordingConnection()
    monkeypatch.setattr(db, "connect", lambda _settings, **_options: conn)
    pool = db.ConnectionPool(Settings(**platform_fields(db_name="unit")), size=1, isolation=db.READ_COMMITTED)
    with pool.transaction() as cursor:
        cursor.execute("SELECT 1")
    with pool.transaction(isolation="REPEATABLE READ") as cursor:
        cursor.execute("SELECT 2")
    assert conn.sql == ["SET TRANSACTION ISOLATION LEVEL READ COMMITTED", "SELECT 1", "COMMIT",
                        "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ", "SELECT 2", "COMMIT"]


def test_without_one_a_transaction_sends_nothing_more_and_a_level_that_does_not_exist_is_refused(monkeypatch):
    conn = RecordingConnection()
    monkeypatch.setattr(db, "connect", lambda _settings, **_options: conn)
    pool = db.ConnectionPool(Settings(**platform_fields(db_name="unit")), size=1)
    with pool.transaction() as cursor:
        cursor.execute("SELECT 1")
    assert conn.sql == ["SELECT 1", "COMMIT"]
    with pytest.raises(ValueError, match="READ COMMITTED, REPEATABLE READ"):
        with pool.transaction(isolation="SERIALIZABLE; DROP TABLE orders"):
            pass
    with pytest.raises(ValueError, match="READ COMMITTED, REPEATABLE READ"):
        db.ConnectionPool(Settings(**platform_fields(db_name="unit")), isolation="READ UNCOMMITTED")
    assert conn.sql == ["SELECT 1", "COMMIT"]


def test_a_consumer_writes_at_read_committed():
    from services.platform.consumer import consumer_pool

    pool = consumer_pool(Settings(**platform_fields(db_name="unit")))
    assert pool._isolation == db.READ_COMMITTED and pool._size == 1


# --- which of the driver's cursors runs a statement ------------------------------------------------------------------
def test_a_statement_with_many_parameters_is_sent_bound_and_its_results_read_from_that_cursor():
    conn = RecordingConnection()
    cursor = db.TransactionCursor(conn, pooled=False, reconnect=None)
    cursor.execute("SELECT few", (1,) * db.MANY_PARAMETERS)
    assert cursor.fetchall() == [("text", "SELECT few")]
    cursor.execute("SELECT many", (1,) * (db.MANY_PARAMETERS + 1))
    assert cursor.fetchall() == [("binary", "SELECT many")]
    cursor.executemany("INSERT rows", [(1,) * 10] * 500)  # the bulk protocol binds anyway
    assert cursor.fetchall() == [("text", "INSERT rows")]
    assert [c.binary for c in conn.cursors] == [False, True]  # one of each, the bound one made when first needed
