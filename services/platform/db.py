"""The database pool: MariaDB connections created once per process and reused by every request, and the
errors a caller can act on (the database is down, busy, or a commit's outcome is unknown)."""
from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Callable, Iterator, Sequence

import mariadb

from services.platform.settings import Settings
from services.platform.tracing import statement_span

# Errors that mean "the server is not there or the connection broke", as opposed to a bad query.
CONNECTION_ERRORS = (mariadb.InterfaceError, mariadb.OperationalError)
# MariaDB rolled the transaction back on its own; running it again may well succeed.
LOCK_WAIT_TIMEOUT, DEADLOCK = 1205, 1213
BUSY_ERRNOS = frozenset({LOCK_WAIT_TIMEOUT, DEADLOCK})


class TransientDatabaseError(RuntimeError):
    """Worth retrying: the same work may succeed in a moment."""


class DatabaseUnavailable(TransientDatabaseError):
    """The database could not be reached, or the connection broke before a commit: nothing was saved."""


class DatabaseBusy(TransientDatabaseError):
    """A deadlock or lock wait timeout: MariaDB rolled the transaction back, so nothing was saved."""


class CommitOutcomeUnknown(TransientDatabaseError):
    """The connection broke while committing: the transaction may or may not have been saved."""


def translate(exc: mariadb.Error) -> Exception:
    """A driver error as one of ours when it is transient; other errors (bad data, bugs) stay as they are."""
    if getattr(exc, "errno", None) in BUSY_ERRNOS:
        return DatabaseBusy(str(exc))
    if isinstance(exc, CONNECTION_ERRORS):
        return DatabaseUnavailable(str(exc))
    return exc


@contextlib.contextmanager
def translated_errors() -> Iterator[None]:
    """The one place a driver error raised inside becomes one of ours when it is transient (see translate); a
    caller that meets DatabaseUnavailable drops its connection."""
    try:
        yield
    except mariadb.Error as exc:
        translated = translate(exc)
        if translated is exc:
            raise
        raise translated from exc


# The isolation levels a transaction may ask for instead of the server's default (REPEATABLE READ).
READ_COMMITTED = "READ COMMITTED"
ISOLATION_LEVELS = (READ_COMMITTED, "REPEATABLE READ")


def connect(settings: Settings, database: str | None = "__default__",
            read_timeout: int | None = None) -> mariadb.Connection:
    """Open one connection; `database=None` connects to the server without choosing a schema. A statement
    whose answer takes longer than `read_timeout` seconds (DB_READ_TIMEOUT by default) fails with a
    connection error, as if the server were gone."""
    read_timeout = read_timeout or settings.db_read_timeout
    params = dict(
        host=settings.db_host,
        port=settings.db_port,
        user=settings.db_user,
        password=settings.db_password,
        connect_timeout=settings.db_connect_timeout,
        read_timeout=read_timeout,
        write_timeout=read_timeout,
        autocommit=False,
    )
    if database == "__default__":
        params["database"] = settings.db_name
    elif database is not None:
        params["database"] = database
    try:
        return mariadb.connect(**params)
    except CONNECTION_ERRORS as exc:
        raise DatabaseUnavailable(f"cannot connect to MariaDB at {settings.db_host}:{settings.db_port}: {exc}") from exc


class ConnectionPool:
    """A small LIFO pool that costs no round trip of its own on a healthy connection: a connection whose
    transaction ended cleanly goes back without a rollback, and a pooled one is handed to a transaction
    unchecked. When it turns out dead at the transaction's first statement (the database restarted while it
    sat idle), nothing of the transaction has happened yet, so that statement runs again on a new connection:
    a restarted database costs no failed request once it is back."""

    def __init__(self, settings: Settings, size: int | None = None, acquire_timeout: float = 5.0,
                 isolation: str | None = None):
        """`isolation`: the level every transaction of this pool runs at unless it asks for another (one of
        ISOLATION_LEVELS; None: the server's)."""
        _check_isolation(isolation)
        self._settings = settings
        self._isolation = isolation
        self._size = size or settings.db_pool_size
        self._acquire_timeout = acquire_timeout
        self._idle: queue.LifoQueue[mariadb.Connection] = queue.LifoQueue()
        self._slots = threading.BoundedSemaphore(self._size)

    def acquire(self) -> mariadb.Connection:
        """A connection of a free slot; a pooled one is pinged first and replaced when dead."""
        conn, _pooled = self._acquire(check=True)
        return conn

    def _acquire(self, check: bool) -> tuple[mariadb.Connection, bool]:
        """(connection, whether it came from the pool rather than being new)."""
        if not self._slots.acquire(timeout=self._acquire_timeout):
            raise DatabaseUnavailable("all database connections are busy")
        try:
            return self._checkout(check)
        except BaseException:
            self._slots.release()
            raise

    def _checkout(self, check: bool) -> tuple[mariadb.Connection, bool]:
        while True:
            try:
                conn = self._idle.get_nowait()
            except queue.Empty:
                return connect(self._settings), False
            if not check:
                return conn, True
            try:
                conn.ping()
                return conn, True
            except mariadb.Error:
                _close_quietly(conn)

    def release(self, conn: mariadb.Connection | None, broken: bool = False, clean: bool = False) -> None:
        """Back to the pool: as is when its transaction ended (`clean`), rolled back first otherwise."""
        try:
            if conn is None:
                return
            if broken:
                _close_quietly(conn)
                return
            if not clean:
                try:
                    conn.rollback()
                except mariadb.Error:
                    _close_quietly(conn)
                    return
            self._idle.put(conn)
        finally:
            self._slots.release()

    @contextlib.contextmanager
    def connection(self) -> Iterator[mariadb.Connection]:
        """A checked connection for a caller that runs no transaction (e.g. the readiness probe's ping)."""
        conn = self.acquire()
        broken = False
        try:
            with translated_errors():
                yield conn
        except DatabaseUnavailable:
            broken = True
            raise
        finally:
            self.release(conn, broken=broken)

    @contextlib.contextmanager
    def transaction(self, isolation: str | None = None) -> Iterator[TransactionCursor]:
        """A dictionary cursor inside one transaction: committed on success, rolled back on error; at `isolation`
        (one of ISOLATION_LEVELS), else the pool's.

        Raises DatabaseUnavailable or DatabaseBusy when nothing was saved, CommitOutcomeUnknown when the
        connection broke during the commit itself; other driver errors (e.g. a duplicate key) as they are."""
        _check_isolation(isolation)
        level = isolation or self._isolation
        conn, pooled = self._acquire(check=False)
        cursor = TransactionCursor(conn, pooled, lambda: connect(self._settings), self._settings.db_name)
        broken = clean = False
        try:
            with translated_errors():
                try:
                    if level is not None:
                        # For the transaction about to start (its first statement starts it), on this connection only.
                        cursor.execute(f"SET TRANSACTION ISOLATION LEVEL {level}")
                    yield cursor
                except BaseException:
                    if cursor.conn is not None:
                        with contextlib.suppress(mariadb.Error):
                            cursor.conn.rollback()
                    clean = True
                    raise
                try:
                    cursor.conn.commit()
                except CONNECTION_ERRORS as exc:
                    if getattr(exc, "errno", None) not in BUSY_ERRNOS:
                        broken = True
                        raise CommitOutcomeUnknown(str(exc)) from exc
                    raise
                clean = True
        except DatabaseUnavailable:
            broken = True
            raise
        finally:
            cursor.close()
            self.release(cursor.conn, broken=broken, clean=clean and not broken)
        cursor.run_after_commit()

    def close(self) -> None:
        while True:
            try:
                conn = self._idle.get_nowait()
            except queue.Empty:
                return
            _close_quietly(conn)


# A statement with more parameters than this is sent bound (a prepared statement) even when it is a SELECT, which
# MariaDB Connector/Python otherwise sends as text with each parameter quoted into it in Python: for a consumer's
# batch (an IN list of 2,000 ids) that quoting took four to six times the client's CPU of binding them, and the
# answer came 1.6 to 2.4 times as late. Below it, text saves the prepare's round trip.
MANY_PARAMETERS = 100


class TransactionCursor:
    """The cursor a transaction hands out. Its first statement on a pooled connection may find that connection
    dead; the statement then runs on a new one instead (see ConnectionPool)."""

    def __init__(self, conn: mariadb.Connection, pooled: bool, reconnect: Callable[[], mariadb.Connection],
                 database: str = ""):
        self.conn: mariadb.Connection | None = conn
        self._database = database
        self._text_cursor = conn.cursor(dictionary=True)
        self._bound_cursor = None
        self._cursor = self._text_cursor  # the one that ran the last statement: its results are read
        self._may_be_stale = pooled
        self._reconnect = reconnect
        self._after_commit: list[Callable[[], None]] = []

    def after_commit(self, hook: Callable[[], None]) -> None:
        """Call `hook` once the transaction has committed (never when it rolls back), e.g. to tell another
        process that there is news; it runs after the connection went back to the pool."""
        if hook not in self._after_commit:
            self._after_commit.append(hook)

    def run_after_commit(self) -> None:
        for hook in self._after_commit:
            hook()

    def execute(self, sql: str, params: Sequence = ()) -> None:
        # A child span of the request's or the batch's span when tracing is on (docs/tracing.md).
        with statement_span(sql, self._database):
            self._run("execute", sql, params)

    def executemany(self, sql: str, rows: Sequence[Sequence]) -> None:
        """One statement for many rows (MariaDB's bulk protocol: the statement is parsed once and the rows sent in
        one packet): what a consumer writes per batch, a quarter cheaper for client and server than one INSERT with
        a VALUES list per row (docs/performance.md#the-consumer-from-a-backlog)."""
        with statement_span(sql, self._database):
            self._run("executemany", sql, rows)

    def _run(self, method: str, sql: str, params: Sequence) -> None:
        self._cursor = self._driver_cursor(method, params)
        if not self._may_be_stale:
            getattr(self._cursor, method)(sql, params)
            return
        self._may_be_stale = False
        try:
            getattr(self._cursor, method)(sql, params)
        except CONNECTION_ERRORS as exc:
            if getattr(exc, "errno", None) in BUSY_ERRNOS:
                raise
            _close_quietly(self.conn)
            self.conn = None  # if no new connection can be had, the transaction has none to give back
            self.conn = self._reconnect()
            self._text_cursor, self._bound_cursor = self.conn.cursor(dictionary=True), None
            self._cursor = self._driver_cursor(method, params)
            getattr(self._cursor, method)(sql, params)

    def _driver_cursor(self, method: str, params: Sequence):
        if method != "execute" or len(params) <= MANY_PARAMETERS:
            return self._text_cursor
        if self._bound_cursor is None:
            self._bound_cursor = self.conn.cursor(dictionary=True, binary=True)
        return self._bound_cursor

    def __getattr__(self, name: str):
        # fetchone, fetchall, rowcount, lastrowid, description: the driver's cursor that ran the last statement.
        return getattr(self._cursor, name)

    def close(self) -> None:
        for cursor in (self._text_cursor, self._bound_cursor):
            if cursor is not None:
                with contextlib.suppress(mariadb.Error):
                    cursor.close()


def _check_isolation(isolation: str | None) -> None:
    if isolation is not None and isolation not in ISOLATION_LEVELS:
        raise ValueError(f"isolation must be one of {', '.join(ISOLATION_LEVELS)}, not {isolation!r}")


def _close_quietly(conn: mariadb.Connection) -> None:
    with contextlib.suppress(Exception):
        conn.close()


def is_duplicate_key(exc: BaseException) -> bool:
    """True for MariaDB's ER_DUP_ENTRY, which our unique keys turn into idempotency."""
    return isinstance(exc, mariadb.IntegrityError) and getattr(exc, "errno", None) == 1062
