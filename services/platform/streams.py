"""Live change streams (server-sent events) for a service's stream process: one poller per process reads the
service's change log and fans every new row out to the open streams of its scope; a stream first replays what a
reconnecting client missed (Last-Event-ID), then follows live, with a heartbeat comment while nothing happens.

The stream process runs gunicorn's gevent worker (docs/decisions/0006-stream-serving.md): an open stream is a
greenlet, not a worker, and every database call runs on a native thread (`off_loop`), because the MariaDB driver is C
code that gevent cannot make cooperative: a slow query must not stop the heartbeats of every other stream."""
from __future__ import annotations

import logging
import queue
import re
import sys
import threading
import time
from collections.abc import Callable, Iterator

from flask import Flask, Response, current_app, request
from prometheus_client import Counter, Gauge

from services.platform import problems, sse, tracing
from services.platform.change_cursor import ChangeCursor
from services.platform.db import ConnectionPool, TransientDatabaseError
from services.platform.settings import Settings

log = logging.getLogger(__name__)

STREAMS_OPEN = Gauge("sse_streams_open", "Server-sent event streams open now.", multiprocess_mode="livesum")
EVENTS_PUSHED = Counter("sse_events_pushed_total", "Events written to open streams (replayed ones included).")
STREAMS_REFUSED = Counter("sse_streams_refused_total", "Streams refused because the instance serves its limit.")
CHANGES_SKIPPED = Counter("sse_change_ids_skipped_total",
                          "Change-log ids given up after STREAM_GAP_SECONDS (rolled back, or committed later than "
                          "that: a client reconnecting with an earlier Last-Event-ID still gets the latter).")

RETRY_MILLISECONDS = 2000
HEARTBEAT = "keep-alive"
# Rows per query: a poll that fills it asks again at once; a replay reads page by page while it streams.
BATCH = 500
# Events waiting for a client that reads slower than they come; beyond that its stream ends, and it reconnects
# with Last-Event-ID and gets them by replay instead.
QUEUE_SIZE = 1000
FULL_RETRY_AFTER_SECONDS = 5
EVENT_ID = re.compile(r"[0-9]{1,19}")
# Every change log's column with the W3C traceparent of the span its row was written in (NULL: none).
TRACE_COLUMN = "traceparent"
FEED = "change_feed"


def off_loop(call: Callable, *args):
    """`call(*args)` on one of gevent's native threads when this process runs gevent's loop (the stream
    process), so that other greenlets go on while it blocks; directly otherwise (tests, tools)."""
    monkey = sys.modules.get("gevent.monkey")
    if monkey is None or not monkey.is_module_patched("threading"):
        return call(*args)
    import gevent

    return gevent.get_hub().threadpool.apply(call, args)


class ChangeLog:
    """A service's change-log table (or view) as its stream shows it: `table` has an AUTO_INCREMENT `id` (the event
    id), `columns` are what `data_of(row)` makes the event's JSON data from, and `scope_column` says whose row it is
    (a stream of one scope sees only that scope's rows; the index on (scope_column, id) serves its replay).

    `shows(row)` is False for a row that is not an event (e.g. an outbox row of another event type): the cursor
    still counts its id as committed, but no stream shows it. Filtering in SQL instead would leave its id a gap
    that holds back every later row for STREAM_GAP_SECONDS.

    `trace_of(row)` is the W3C traceparent the change was made in, which the push of it continues; by default the
    table's `traceparent` column."""

    def __init__(self, event: str, table: str, columns: tuple[str, ...], scope_column: str,
                 data_of: Callable[[dict], dict], shows: Callable[[dict], bool] = lambda _row: True,
                 trace_of: Callable[[dict], str | None] | None = None):
        self.event = event
        self.scope_column = scope_column
        self.data_of = data_of
        self.shows = shows
        self.trace_of = trace_of or (lambda row: row.get(TRACE_COLUMN))
        self._table = table
        selected = [c for c in columns if c != "id"] + ([TRACE_COLUMN] if trace_of is None else [])
        self._select = f"SELECT id, {', '.join(dict.fromkeys(selected))} FROM {table}"

    def scope_of(self, row: dict) -> str:
        return row[self.scope_column]

    def newest_id(self, pool: ConnectionPool) -> int:
        """The highest id now; 0 for an empty log."""
        with pool.transaction() as cursor:
            cursor.execute(f"SELECT MAX(id) AS newest FROM {self._table}")
            return cursor.fetchone()["newest"] or 0

    def after(self, pool: ConnectionPool, after: int, limit: int) -> list[dict]:
        """Rows above `after`, lowest first."""
        with pool.transaction() as cursor:
            cursor.execute(f"{self._select} WHERE id > ? ORDER BY id LIMIT ?", (after, limit))
            return cursor.fetchall()

    def with_ids(self, pool: ConnectionPool, ids: list[int]) -> list[dict]:
        """The rows of those ids that exist (committed) now."""
        with pool.transaction() as cursor:
            cursor.execute(f"{self._select} WHERE id IN ({', '.join('?' * len(ids))})", tuple(ids))
            return cursor.fetchall()

    def replay(self, pool: ConnectionPool, scope: str | None, after: int, upto: int, limit: int) -> list[dict]:
        """The rows of one scope (None: all) with after < id <= upto, lowest first."""
        scoped = f" AND {self.scope_column} = ?" if scope is not None else ""
        with pool.transaction() as cursor:
            cursor.execute(f"{self._select} WHERE id > ? AND id <= ?{scoped} ORDER BY id LIMIT ?",
                           (after, upto, *((scope,) if scope is not None else ()), limit))
            return cursor.fetchall()


class StreamClosed(Exception):
    """The feed ended this stream (the client fell behind): the client reconnects and replays."""


class Subscription:
    """One open stream's place in the feed: rows of its scope above `start` arrive on its queue, in id order."""

    def __init__(self, scope: str | None, start: int):
        self.scope = scope
        self.start = start
        self.closed = False
        self._queue: queue.Queue = queue.Queue(QUEUE_SIZE)

    def offer(self, row: dict) -> bool:
        """Queue a row; False (and closed) when the client has fallen QUEUE_SIZE events behind."""
        try:
            self._queue.put_nowait(row)
            return True
        except queue.Full:
            self.closed = True
            return False

    def next(self, timeout: float) -> dict | None:
        """The next row, or None when none came within `timeout`; StreamClosed once closed and drained."""
        if self.closed and self._queue.empty():
            raise StreamClosed()
        try:
            row = self._queue.get(timeout=timeout)
        except queue.Empty:
            row = None
        if row is None and self.closed:
            raise StreamClosed()
        return row


class StreamsFull(Exception):
    """The instance serves STREAM_MAX_PER_INSTANCE streams already."""


class ChangeFeed:
    """The process's one poller over a change log, started by the first subscriber, and its subscribers."""

    def __init__(self, log_: ChangeLog, pool: ConnectionPool, settings: Settings,
                 clock: Callable[[], float] = time.monotonic, background: bool = True):
        self.log = log_
        # False: no poller thread; the caller polls (poll_once), e.g. a test that decides when rows commit.
        self.background = background
        self._pool = pool
        self._poll_interval = settings.stream_poll_interval
        self._gap_seconds = settings.stream_gap_seconds
        self._max_streams = settings.stream_max_per_instance
        self._clock = clock
        self._lock = threading.Lock()
        self._cursor: ChangeCursor | None = None
        self._subscriptions: set[Subscription] = set()
        self._failing = False

    @property
    def open_streams(self) -> int:
        return len(self._subscriptions)

    def subscribe(self, scope: str | None) -> Subscription:
        """A new subscription starting where the feed stands; raises StreamsFull at the limit."""
        self._start()
        with self._lock:
            if len(self._subscriptions) >= self._max_streams:
                STREAMS_REFUSED.inc()
                raise StreamsFull()
            subscription = Subscription(scope, self._cursor.position)
            self._subscriptions.add(subscription)
        STREAMS_OPEN.inc()
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        with self._lock:
            if subscription not in self._subscriptions:
                return
            self._subscriptions.discard(subscription)
        STREAMS_OPEN.dec()

    def replay(self, subscription: Subscription, after: int) -> list[dict]:
        """One page of the rows of the subscription's scope it missed: above `after`, up to where it started."""
        return off_loop(self.log.replay, self._pool, subscription.scope, after, subscription.start, BATCH)

    def poll_once(self) -> bool:
        """Read what is new (and the gaps' rows), release it in id order to the subscribers; True when a full
        batch came back (more may be waiting)."""
        cursor = self._cursor
        fresh, filled = off_loop(self._read, cursor.newest, cursor.gaps)
        now = self._clock()
        with self._lock:
            released = cursor.admit([*filled, *fresh], now)
            expired, skipped = cursor.expire(now)
            self._fan_out(released + expired)
        if skipped:
            CHANGES_SKIPPED.inc(len(skipped))
            log.warning("change-log ids %s..%s did not commit within %ss: streams go on without them",
                        skipped[0], skipped[-1], self._gap_seconds)
        return len(fresh) == BATCH

    def _read(self, newest: int, gaps: list[int]) -> tuple[list[dict], list[dict]]:
        return self.log.after(self._pool, newest, BATCH), self.log.with_ids(self._pool, gaps) if gaps else []

    def _fan_out(self, rows: list[dict]) -> None:
        for row in rows:
            if not self.log.shows(row):
                continue
            scope = self.log.scope_of(row)
            for subscription in list(self._subscriptions):
                if subscription.scope is None or subscription.scope == scope:
                    if not subscription.offer(row):
                        self._subscriptions.discard(subscription)
                        STREAMS_OPEN.dec()

    def _start(self) -> None:
        if self._cursor is not None:
            return
        newest = off_loop(self.log.newest_id, self._pool)
        with self._lock:
            if self._cursor is not None:
                return
            self._cursor = ChangeCursor(newest, self._gap_seconds)
        if self.background:
                threading.Thread(target=self._run, name=f"{self.log.event}-poller", daemon=True).start()

    def _run(self) -> None:
        while True:
            more = False
            try:
                more = self.poll_once()
                if self._failing:
                    log.info("the change log answers again: streams catch up")
                self._failing = False
            except TransientDatabaseError as exc:
                # Open streams stay open (their heartbeats do not need the database) and catch up once it is back.
                if not self._failing:
                    log.warning("cannot read the change log, streams wait: %s", exc)
                self._failing = True
            except Exception:
                # Logged once until it recovers: the loop retries every poll interval.
                if not self._failing:
                    log.exception("reading the change log failed")
                self._failing = True
            if not more:
                time.sleep(self._poll_interval)


def install_feed(app: Flask, change_log: ChangeLog) -> ChangeFeed:
    """The app's change feed (one per process), over the app's pool and settings."""
    feed = ChangeFeed(change_log, app.extensions["db_pool"], app.config["SETTINGS"])
    app.extensions[FEED] = feed
    return feed


def requested_last_event_id() -> int | None:
    """The id a client resumes after: the Last-Event-ID header (an EventSource reconnecting), else the
    `last_event_id` query parameter (its first connect); None for neither (follow from now)."""
    given = {"Last-Event-ID": (request.headers.get("Last-Event-ID") or "").strip(),
             "last_event_id": request.args.get("last_event_id") or ""}
    for name, raw in given.items():
        if raw and not EVENT_ID.fullmatch(raw):
            raise problems.invalid_parameter(
                name, "must be an event id (a whole number)", f"{name}={raw[:30]!r} is not an event id.",
                "Send the id of the last event you received, or leave it out to follow from now on.",
                title="Invalid Last-Event-ID")
    # Empty means none (a page that has no id yet may send `?last_event_id=`).
    raw = given["Last-Event-ID"] or given["last_event_id"]
    return int(raw) if raw else None


def stream_response(scope: str | None) -> Response:
    """The current request's stream of the app's feed for `scope` (None: every row). Everything that can fail
    before the stream starts (the limit, a bad Last-Event-ID, the first replay page) is answered as problem+json."""
    feed: ChangeFeed = current_app.extensions[FEED]
    settings: Settings = current_app.config["SETTINGS"]
    last_event_id = requested_last_event_id()
    try:
        subscription = feed.subscribe(scope)
    except StreamsFull:
        raise problems.Problem(
            status=503, slug="too-many-streams", title="Service Unavailable",
            detail=f"This instance already serves {settings.stream_max_per_instance} streams, its limit.",
            hint=(f"Reconnect after {FULL_RETRY_AFTER_SECONDS} seconds (another instance may take it) with "
                  "Last-Event-ID set to the last event you received: nothing is missed meanwhile."),
            headers={"Retry-After": str(FULL_RETRY_AFTER_SECONDS)}, retry_after=FULL_RETRY_AFTER_SECONDS,
        ) from None
    try:
        first_page = feed.replay(subscription, last_event_id) if last_event_id is not None else []
    except BaseException:
        feed.unsubscribe(subscription)
        raise
    # The request's span ends when the answer starts; each push refers to it (when tracing is on).
    events = _events(feed, subscription, last_event_id or 0, first_page, settings.stream_heartbeat_seconds,
                     tracing.current_span_context())
    response = Response(events, mimetype=sse.CONTENT_TYPE,
                        # X-Accel-Buffering: nginx (and ingress-nginx) pass each event on at once.
                        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})
    # Also when the client leaves before the first byte (the generator's own `finally` would never run).
    response.call_on_close(lambda: feed.unsubscribe(subscription))
    return response


def _events(feed: ChangeFeed, subscription: Subscription, seen: int, page: list[dict],
            heartbeat_seconds: float, stream_span=None) -> Iterator[str]:
    yield sse.retry(RETRY_MILLISECONDS)
    # Replay: the rows the client missed, up to where the feed stood when it subscribed; the feed sends the rest.
    while page:
        for row in page:
            if feed.log.shows(row):
                yield from _push(feed.log, row, stream_span, replayed=True)
        page = feed.replay(subscription, page[-1]["id"]) if len(page) == BATCH else []
    while True:
        try:
            row = subscription.next(heartbeat_seconds)
        except StreamClosed:
            return
        if row is None:
            yield sse.comment(HEARTBEAT)
            continue
        if row["id"] <= seen:
            continue  # the feed had not reached the client's Last-Event-ID yet when it subscribed
        yield from _push(feed.log, row, stream_span)


def _push(log: ChangeLog, row: dict, stream_span=None, replayed: bool = False) -> Iterator[str]:
    """One event to the client, in a span of the change's trace when tracing is on (until the server took it)."""
    EVENTS_PUSHED.inc()
    span = tracing.start_push_span(log.event, row["id"], log.trace_of(row), stream_span, replayed)
    try:
        yield sse.event(log.event, row["id"], log.data_of(row))
    finally:
        span.end()


def probes_off_loop(app: Flask, prefix: str) -> None:
    """The readiness probe pings the database from a native thread too (web.py's probe runs on the loop)."""
    pool: ConnectionPool = app.extensions["db_pool"]

    def ping() -> None:
        with pool.connection() as conn:
            conn.ping()

    def readyz():
        off_loop(ping)
        return {"status": "ready"}

    for base in ("", prefix):
        app.view_functions[f"readyz{base}"] = readyz
