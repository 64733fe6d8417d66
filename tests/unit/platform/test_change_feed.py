"""The change feed of a stream process: one poller fans rows out by scope, in id order, from where each
subscriber joined; replay covers what came before; the limit and a client that falls behind end cleanly."""
from __future__ import annotations

import itertools
from dataclasses import replace

import pytest

from services.platform import streams
from services.platform.settings import Settings, platform_fields
from services.platform.streams import ChangeFeed, StreamClosed, StreamsFull
from tests.unit.fake_change_log import MemoryChangeLog


def row(row_id: int, owner: str = "ann") -> dict:
    return {"id": row_id, "owner": owner}


class Clock:
    now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def change_log():
    return MemoryChangeLog()


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def feed(change_log, clock):
    settings = replace(Settings(**platform_fields(db_name="unit")), stream_max_per_instance=2, stream_gap_seconds=5)
    # No poller thread: each test drives the polls itself.
    return ChangeFeed(change_log, pool=None, settings=settings, clock=clock, background=False)


def drain(subscription) -> list[int]:
    ids = []
    while (got := subscription.next(timeout=0)) is not None:
        ids.append(got["id"])
    return ids


def test_a_subscriber_gets_the_rows_of_its_scope_and_an_unscoped_one_gets_all(feed, change_log):
    ann, everyone = feed.subscribe("ann"), feed.subscribe(None)
    change_log.commit(row(1, "ann"), row(2, "bob"), row(3, "ann"))
    feed.poll_once()
    assert drain(ann) == [1, 3]
    assert drain(everyone) == [1, 2, 3]


def test_a_subscriber_starts_where_the_feed_stands_and_replay_covers_what_came_before(feed, change_log):
    change_log.commit(row(1), row(2))
    early = feed.subscribe("ann")  # the feed starts at the log's newest id: 2
    change_log.commit(row(3))
    feed.poll_once()
    late = feed.subscribe("ann")
    change_log.commit(row(4))
    feed.poll_once()
    assert (early.start, late.start) == (2, 3)
    assert drain(early) == [3, 4] and drain(late) == [4]
    assert [r["id"] for r in feed.replay(late, after=1)] == [2, 3]


def test_a_late_commit_of_a_lower_id_reaches_the_subscriber_before_the_higher_one(feed, change_log, clock):
    subscription = feed.subscribe("ann")
    change_log.commit(row(2))
    feed.poll_once()
    assert drain(subscription) == []
    clock.now = 1
    change_log.commit(row(1))
    feed.poll_once()
    assert drain(subscription) == [1, 2]


def test_an_id_that_never_commits_holds_the_rows_above_it_for_the_gap_time_only(feed, change_log, clock):
    subscription = feed.subscribe(None)
    change_log.commit(row(2), row(3))
    feed.poll_once()
    clock.now = 5
    feed.poll_once()
    assert drain(subscription) == [2, 3]


def test_the_limit_refuses_one_more_stream_until_one_closes(feed):
    first, _second = feed.subscribe("ann"), feed.subscribe("bob")
    with pytest.raises(StreamsFull):
        feed.subscribe("cid")
    feed.unsubscribe(first)
    feed.unsubscribe(first)  # closing twice frees one place only
    feed.subscribe("cid")
    with pytest.raises(StreamsFull):
        feed.subscribe("dan")


def test_a_client_that_falls_behind_gets_what_was_queued_then_its_stream_ends(feed, change_log, monkeypatch):
    monkeypatch.setattr(streams, "QUEUE_SIZE", 3)
    subscription = feed.subscribe("ann")
    change_log.commit(*(row(i) for i in range(1, 6)))
    feed.poll_once()
    assert feed.open_streams == 0
    assert [subscription.next(timeout=0)["id"] for _ in range(3)] == [1, 2, 3]
    with pytest.raises(StreamClosed):
        subscription.next(timeout=0)


def test_a_row_the_log_does_not_show_counts_as_committed_but_reaches_no_stream(feed, change_log, clock):
    """E.g. an outbox row of another event type: its id must not be a gap that holds back the rows above it."""
    change_log.shows = lambda row: row["owner"] != "hidden"
    live = feed.subscribe(None)
    change_log.commit(row(1), row(2, "hidden"), row(3))
    feed.poll_once()
    assert drain(live) == [1, 3], "no wait for id 2: it committed"

    later = feed.subscribe(None)
    replayed = list(itertools.islice(streams._events(feed, later, 0, feed.replay(later, 0), 1.0), 3))
    assert [block.split("\n")[1] for block in replayed[1:]] == ["id: 1", "id: 3"]
