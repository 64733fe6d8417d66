"""The relay with a scripted database session and broker: what it marks sent, in which order, and when."""
import json

import pytest
from kafka.errors import KafkaTimeoutError

from services.contracts.envelope import Message
from services.platform import outbox
from services.platform.settings import Settings, platform_fields
from services.platform.worker import PublishFailed

TABLE = outbox.Outbox("unit_outbox", "unit_topic")
# Different waits, so that a test can tell which one the relay chose.
POLL_SECONDS, GATHER_SECONDS = 0.5, 0.05


def rows(count: int) -> list[dict]:
    return [{"id": i, "message_key": f"k{i % 2}".encode(), "payload": json.dumps({"n": i}).encode(),
             "headers": json.dumps([["event_id", f"e{i}"]])} for i in range(1, count + 1)]


class ScriptedRelay(outbox.OutboxRelay):
    """The real relay logic; the database session answers from `pending` and records every statement."""

    def __init__(self, pending: list[dict], broker):
        settings = Settings(**{**platform_fields(db_name="unit"), "relay_poll_interval": POLL_SECONDS,
                               "relay_gather_seconds": GATHER_SECONDS})
        super().__init__(settings, TABLE, client_id="unit-relay")
        self.pending = pending
        self.statements = []
        self.broker = broker

    def _query(self, sql, params=()):
        self.statements.append((sql.split()[0], params))
        if sql.startswith("SELECT GET_LOCK"):
            return [{"acquired": 1}]
        if sql.startswith("SELECT id"):
            return self.pending[:params[0]]
        return []

    def send_acknowledged(self, records):
        return self.broker(records)


def marked(relay) -> list[int]:
    return [i for verb, params in relay.statements if verb == "UPDATE" for i in params]


def test_a_batch_is_published_in_id_order_then_marked_sent_in_one_statement():
    sent = []
    relay = ScriptedRelay(rows(5), lambda records: sent.extend(records) or len(records))
    assert relay.publish_batch() == 5
    assert [json.loads(r.value)["n"] for r in sent] == [1, 2, 3, 4, 5]
    assert all(r.topic == "unit_topic" for r in sent) and sent[0].headers == [("event_id", b"e1")]
    assert marked(relay) == [1, 2, 3, 4, 5]
    assert [verb for verb, _ in relay.statements].count("UPDATE") == 1


def test_a_partial_acknowledgement_marks_only_the_acknowledged_prefix_and_fails():
    def broker(records):
        raise PublishFailed(2, KafkaTimeoutError("no acknowledgement in time"))

    relay = ScriptedRelay(rows(5), broker)
    failures = outbox.EVENTS_FAILED.labels("unit_topic")._value.get()
    with pytest.raises(PublishFailed):
        relay.publish_batch()
    assert marked(relay) == [1, 2]  # rows 3-5 stay pending and are published again, after rows 1-2
    assert outbox.EVENTS_FAILED.labels("unit_topic")._value.get() == failures + 1


def test_nothing_acknowledged_marks_nothing():
    def broker(records):
        raise KafkaTimeoutError("broker frozen")

    relay = ScriptedRelay(rows(3), broker)
    with pytest.raises(KafkaTimeoutError):
        relay.publish_batch()
    assert marked(relay) == []


def test_only_one_replica_publishes_the_other_waits_as_standby():
    relay = ScriptedRelay(rows(3), lambda records: len(records))
    relay._conn = object()  # a session exists; the lock below is what decides
    relay._query = lambda sql, params=(): [{"acquired": 0}] if sql.startswith("SELECT GET_LOCK") else pytest.fail(sql)
    assert relay._lead() is False


@pytest.mark.parametrize("pending,waited", [
    (0, [POLL_SECONDS]),  # nothing: the poll interval
    (5, [GATHER_SECONDS]),  # a part batch: gather the next one, then look again
    (200, []),  # a full batch: more are waiting, look again at once
])
def test_after_a_batch_the_relay_waits_as_long_as_the_backlog_asks(pending, waited):
    relay = ScriptedRelay(rows(pending), lambda records: len(records))
    relay._conn = object()  # a session exists; the scripted one holds the lock
    relay._refresh_gauges = lambda: None
    seen = []
    relay.wait = seen.append
    relay.step()
    assert seen == waited


def test_a_row_written_by_the_previous_release_during_a_rolling_upgrade_is_published_as_it_was_meant():
    sent = []
    old_row = {"id": 1, "message_key": b"k1", "payload": b"{}",
               "headers": json.dumps({"event_id": "e1", "event_type": "OrderCreated"})}
    relay = ScriptedRelay([old_row], lambda records: sent.extend(records) or len(records))
    assert relay.publish_batch() == 1
    assert sent[0].headers == [("event_id", b"e1"), ("event_type", b"OrderCreated")]


def test_an_outbox_of_two_topics_publishes_each_row_to_its_own_topic_in_id_order():
    two = outbox.Outbox("unit_outbox", "unit_topic", "other_topic")
    sent = []
    relay = ScriptedRelay([{**row, "topic": topic} for row, topic in
                           zip(rows(4), ["unit_topic", "other_topic", "unit_topic", "unknown_topic"], strict=True)],
                          lambda records: sent.extend(records) or len(records))
    relay.outbox = two
    assert relay.publish_batch() == 4
    # A row naming a topic the outbox does not publish to (written by hand) goes to its main topic, as before.
    assert [r.topic for r in sent] == ["unit_topic", "other_topic", "unit_topic", "unit_topic"]
    assert marked(relay) == [1, 2, 3, 4]


def test_an_outbox_refuses_an_event_of_another_topic():
    class Event:
        event_id = "e1"

        def record(self):
            return type("R", (), {"topic": "elsewhere", "key": b"k", "value": b"{}", "headers": []})()
    with pytest.raises(ValueError, match="elsewhere"):
        outbox.Outbox("unit_outbox", "unit_topic", "other_topic").insert(None, Event())


class RecordingCursor:
    def __init__(self):
        self.statements = []

    def execute(self, sql, params=()):
        self.statements.append((sql, params))

    def executemany(self, sql, rows):
        self.statements.append((sql, rows))


def test_several_events_are_one_insert_in_their_order_and_none_is_no_statement():
    events = [Message(topic="unit_topic", key=f"k{i}", value={"n": i}, event_type="Unit", schema_version=1)
              for i in range(3)]
    cursor = RecordingCursor()
    TABLE.insert(cursor)
    assert cursor.statements == []
    TABLE.insert(cursor, *events)
    ((sql, rows),) = cursor.statements
    assert sql.count("(?, ?, ?, ?, ?)") == 1  # one row's placeholders: executemany sends the rows in one packet
    assert [row[0] for row in rows] == [event.event_id for event in events]
    assert [row[2] for row in rows] == [b"k0", b"k1", b"k2"]


def test_an_event_of_another_topic_is_refused_before_anything_is_written():
    right = Message(topic="unit_topic", key="k", value={}, event_type="Unit", schema_version=1)
    wrong = Message(topic="other_topic", key="k", value={}, event_type="Unit", schema_version=1)
    cursor = RecordingCursor()
    with pytest.raises(ValueError, match="other_topic"):
        TABLE.insert(cursor, right, wrong)
    assert cursor.statements == []
