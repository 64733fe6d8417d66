"""The database pool: MariaDB connections created once per process and reused by every request."""
from __future__ import annotations

import contextlib
import queue
import threading
import time
from typing import Iterator

import mariadb

from services.platform.settings import Settings

# Errors that mean "the server is not there or the connection broke", as opposed to a bad query.
CONNECTION_ERRORS = (mariadb.InterfaceError, mariadb.OperationalError)


class DatabaseUnavailable(RuntimeError):
    """The database could not be reached; callers answer 503 and retry later."""


def connect(settings: Settings, database: str | None = "__default__") -> mariadb.Connection:
    """Open one connection; `database=None` connects to the server without choosing a schema."""
    params = dict(
        host=settings.db_host,
        port=settings.db_port,
        user=settings.db_user,
        password=settings.db_password,
        connect_timeout=settings.db_connect_timeout,
        read_timeout=30,
        write_timeout=30,
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
    """A small LIFO pool: connections are checked with a ping when idle for a while, and replaced
    when broken, so a database restart heals without restarting the service."""

    PING_AFTER_IDLE_SECONDS = 1.0

    def __init__(self, settings: Settings, size: int | None = None, acquire_timeout: float = 5.0):
        self._settings = settings
        self._size = size or settings.db_pool_size
        self._acquire_timeout = acquire_timeout
        self._idle: queue.LifoQueue[tuple[mariadb.Connection, float]] = queue.LifoQueue()
        self._slots = threading.BoundedSemaphore(self._size)

    def acquire(self) -> mariadb.Connection:
        if not self._slots.acquire(timeout=self._acquire_timeout):
            raise DatabaseUnavailable("all database connections are busy")
        try:
            return self._checkout()
        except BaseException:
            self._slots.release()
            raise

    def _checkout(self) -> mariadb.Connection:
        while True:
            try:
                conn, idle_since = self._idle.get_nowait()
            except queue.Empty:
                return connect(self._settings)
            if time.monotonic() - idle_since < self.PING_AFTER_IDLE_SECONDS:
                return conn
            try:
                conn.ping()
                return conn
            except CONNECTION_ERRORS:
                _close_quietly(conn)

    def release(self, conn: mariadb.Connection, broken: bool = False) -> None:
        try:
            if broken:
                _close_quietly(conn)
            else:
                try:
                    conn.rollback()
                    self._idle.put((conn, time.monotonic()))
                except CONNECTION_ERRORS:
                    _close_quietly(conn)
        finally:
            self._slots.release()

    @contextlib.contextmanager
    def connection(self) -> Iterator[mariadb.Connection]:
        conn = self.acquire()
        broken = False
        try:
            yield conn
        except CONNECTION_ERRORS as exc:
            broken = True
            raise DatabaseUnavailable(str(exc)) from exc
        finally:
            self.release(conn, broken=broken)

    @contextlib.contextmanager
    def transaction(self) -> Iterator[mariadb.Cursor]:
        """A dictionary cursor inside one transaction: committed on success, rolled back on error."""
        with self.connection() as conn:
            cursor = conn.cursor(dictionary=True)
            try:
                yield cursor
                conn.commit()
            except BaseException:
                with contextlib.suppress(*CONNECTION_ERRORS):
                    conn.rollback()
                raise
            finally:
                with contextlib.suppress(*CONNECTION_ERRORS):
                    cursor.close()

    def close(self) -> None:
        while True:
            try:
                conn, _ = self._idle.get_nowait()
            except queue.Empty:
                return
            _close_quietly(conn)


def _close_quietly(conn: mariadb.Connection) -> None:
    with contextlib.suppress(Exception):
        conn.close()


def is_duplicate_key(exc: BaseException) -> bool:
    """True for MariaDB's ER_DUP_ENTRY, which our unique keys turn into idempotency."""
    return isinstance(exc, mariadb.IntegrityError) and getattr(exc, "errno", None) == 1062
