"""Unit tests of the generic consumer parts with real record batches (kafka-python's own builder and decoder):
every codec decodes, an undecodable batch is recognised and stepped over exactly, and the progress watch."""
import json
import struct
import urllib.error
import urllib.request

import pytest
from kafka import TopicPartition
from kafka.consumer.fetcher import Fetcher
from kafka.errors import CorruptRecordError, KafkaError, UnsupportedCodecError
from kafka.record import MemoryRecords
from kafka.record.default_records import DefaultRecordBatchBuilder
from kafka.record.util import calc_crc32c

from services.platform.consumer import _by_topic
from services.platform.metrics import serve_metrics
from services.platform.progress import ProgressWatch
from services.platform.undecodable import SkippedOffsets, raised_while_decoding, step_over_undecodable
from tests.support.processes import free_port

TP = TopicPartition("new_orders", 1)
CODECS = {"gzip": 1, "snappy": 2, "lz4": 3, "zstd": 4}
# Record batch v2 header: base offset (8), length (4), leader epoch (4), magic (1), CRC (4), attributes (2), ...
CRC_AT, ATTRIBUTES_AT, HEADER_SIZE = 17, 21, 61


def batch(base_offset: int, values: list[bytes], codec: int = 0) -> bytes:
    builder = DefaultRecordBatchBuilder(magic=2, compression_type=codec, is_transactional=False, producer_id=-1,
                                        producer_epoch=-1, base_sequence=-1, batch_size=1 << 20)
    for delta, value in enumerate(values):
        builder.append(delta, timestamp=1_700_000_000_000, key=b"k", value=value, headers=[("h", b"v")])
    built = bytearray(builder.build())
    struct.pack_into(">q", built, 0, base_offset)
    return bytes(built)


def values(count: int, tag: str) -> list[bytes]:
    # Repetitive, so that every codec actually compresses (the builder sends a batch raw when it does not shrink).
    return [json.dumps({"tag": tag, "n": n, "pad": "coffee " * 20}).encode() for n in range(count)]


def with_crc(data: bytearray) -> bytes:
    struct.pack_into(">I", data, CRC_AT, calc_crc32c(memoryview(data)[ATTRIBUTES_AT:]))
    return bytes(data)


def unknown_codec(data: bytes) -> bytes:
    """The batch with codec 7 in its attributes and a CRC that matches: only the codec is wrong."""
    edited = bytearray(data)
    attributes = struct.unpack_from(">h", edited, ATTRIBUTES_AT)[0]
    struct.pack_into(">h", edited, ATTRIBUTES_AT, (attributes & ~0x07) | 0x07)
    return with_crc(edited)


def bad_crc(data: bytes) -> bytes:
    edited = bytearray(data)
    edited[-3] ^= 0xFF
    return bytes(edited)


def garbled_gzip(data: bytes) -> bytes:
    """A gzip batch whose compressed bytes are cut short, with a CRC over them that matches."""
    edited = bytearray(data[:HEADER_SIZE + 30])
    struct.pack_into(">i", edited, 8, len(edited) - 12)
    return with_crc(edited)


def take_all(raw: bytes, fetch_offset: int = 0):
    part = Fetcher.PartitionRecords(fetch_offset, TP, MemoryRecords(raw))
    return part.take(10_000), part


@pytest.mark.parametrize("codec", CODECS)
def test_every_codec_kafka_defines_decodes(codec):
    sent = values(5, codec)
    raw = batch(40, sent, CODECS[codec])
    assert MemoryRecords(raw).next_batch().compression_type == CODECS[codec], "the batch was not compressed"
    records, _part = take_all(raw, 40)
    assert [r.value for r in records] == sent and [r.offset for r in records] == [40, 41, 42, 43, 44]


@pytest.mark.parametrize("spoil, error", [
    (bad_crc, CorruptRecordError),
    (unknown_codec, UnsupportedCodecError),
    (garbled_gzip, (OSError, EOFError)),
])
def test_an_undecodable_batch_is_recognised_whatever_it_raises(spoil, error):
    with pytest.raises(error) as raised:
        take_all(spoil(batch(0, values(3, "x"), CODECS["gzip"])))
    assert raised_while_decoding(raised.value)


def test_good_records_before_a_broken_batch_come_first_and_the_error_after_is_still_recognised():
    good = batch(0, values(2, "good"))
    records, part = take_all(good + bad_crc(batch(2, values(3, "bad"))))
    assert [r.offset for r in records] == [0, 1]
    with pytest.raises(CorruptRecordError) as raised:
        part.take(10)
    assert raised_while_decoding(raised.value)


def test_an_error_of_the_client_is_not_taken_for_a_broken_batch():
    try:
        raise KafkaError("the coordinator is gone")
    except KafkaError as exc:
        assert not raised_while_decoding(exc)


class PartitionLog:
    """A partition's batches as a broker keeps them: a fetch at an offset answers from the batch holding it."""

    def __init__(self, *batches: bytes):
        self.batches = batches

    def fetch(self, offset: int) -> bytes:
        answer = b""
        for raw in self.batches:
            header = MemoryRecords(raw).next_batch()
            if header.base_offset + header.last_offset_delta >= offset or answer:
                answer += raw
        return answer


class LogConsumer:
    """Just what step_over_undecodable uses of a KafkaConsumer, fetching from a PartitionLog with kafka-python's
    own decoder (Fetcher.PartitionRecords), and keeping the broken records in place as its fetcher does."""

    def __init__(self, log: PartitionLog, position: int, unanswered_polls: int = 0):
        self.log, self.offset = log, position
        self._fetcher = type("FetcherState", (), {"_next_partition_records": None})()
        self.paused, self.fetches, self.polled_while_paused = set(), 0, []
        # Polls after each seek that return nothing, as when the fetch has not come back within the timeout.
        self.unanswered_polls, self._unanswered = unanswered_polls, 0
        self.log_end = None  # set: end_offsets() fails, as with the broker gone

    def assignment(self):
        return {TP, TopicPartition("new_orders", 0)}

    def pause(self, *partitions):
        self.paused.update(partitions)

    def resume(self, *partitions):
        self.paused.difference_update(partitions)

    def seek(self, partition, offset):
        assert partition == TP
        self.offset = offset
        self._fetcher._next_partition_records = None
        self._unanswered = self.unanswered_polls

    def position(self, partition):
        assert partition == TP
        return self.offset

    def end_offsets(self, partitions):
        if self.log_end is not None:
            raise self.log_end
        last = MemoryRecords(self.log.batches[-1]).next_batch()
        return {TP: last.base_offset + last.last_offset_delta + 1}

    def poll(self, timeout_ms):
        self.polled_while_paused.append(TopicPartition("new_orders", 0) in self.paused)
        if self._unanswered:
            self._unanswered -= 1
            return {}
        if self._fetcher._next_partition_records is None:
            self.fetches += 1
            part = Fetcher.PartitionRecords(self.offset, TP, MemoryRecords(self.log.fetch(self.offset)))
            self._fetcher._next_partition_records = part
        records = self._fetcher._next_partition_records.take(500)
        if records:
            self.offset = self._fetcher._next_partition_records.next_fetch_offset
        return {TP: records} if records else {}


def first_error(consumer):
    with pytest.raises(Exception) as raised:
        while True:
            consumer.poll(500)
    return raised.value


def test_stepping_over_lands_on_the_first_record_after_the_broken_batch_and_loses_none():
    log = PartitionLog(batch(0, values(2, "before")), bad_crc(batch(2, values(4, "bad"), CODECS["lz4"])),
                       batch(6, values(3, "after"), CODECS["zstd"]))
    consumer = LogConsumer(log, 0)
    assert [r.offset for r in consumer.poll(500)[TP]] == [0, 1]
    error = first_error(consumer)
    polls_before = len(consumer.polled_while_paused)
    skipped = step_over_undecodable(consumer, error, probe_timeout_ms=10)
    assert all(consumer.polled_while_paused[polls_before:]), "the other partitions were fetched while probing"
    assert (skipped.first, skipped.end, skipped.last) == (2, 6, 5)
    assert skipped.reason.startswith("CorruptRecordError") and consumer.offset == 6 and not consumer.paused
    assert [r.offset for r in consumer.poll(500)[TP]] == [6, 7, 8]


def test_two_broken_batches_in_a_row_are_stepped_over_together_and_the_end_of_the_log_is_no_error():
    log = PartitionLog(unknown_codec(batch(10, values(2, "a"), CODECS["gzip"])), bad_crc(batch(12, values(2, "b"))))
    consumer = LogConsumer(log, 10)
    skipped = step_over_undecodable(consumer, first_error(consumer), probe_timeout_ms=10)
    assert (skipped.first, skipped.end) == (10, 14)
    assert skipped.reason.startswith("UnsupportedCodecError")
    assert consumer.poll(500) == {}


def test_a_probe_whose_fetch_has_not_come_back_is_waited_for_not_taken_for_readable():
    log = PartitionLog(bad_crc(batch(0, values(4, "bad"))), batch(4, values(2, "after")))
    consumer = LogConsumer(log, 0)
    error = first_error(consumer)
    consumer.unanswered_polls = 2  # each probe's first two polls come back empty, inside the log
    skipped = step_over_undecodable(consumer, error, probe_timeout_ms=10)
    assert (skipped.first, skipped.end) == (0, 4)
    answered = next(records for records in (consumer.poll(500) for _ in range(3)) if records)
    assert [r.offset for r in answered[TP]] == [4, 5]


def test_a_broker_gone_mid_probe_leaves_the_partition_at_the_broken_batch_to_be_met_again():
    log = PartitionLog(batch(0, values(2, "before")), bad_crc(batch(2, values(3, "bad"))), batch(5, values(1, "x")))
    consumer = LogConsumer(log, 0)
    consumer.poll(500)
    error = first_error(consumer)
    consumer.unanswered_polls, consumer.log_end = 1, KafkaError("the broker is gone")
    with pytest.raises(KafkaError):
        step_over_undecodable(consumer, error, probe_timeout_ms=10)
    assert consumer.offset == 2 and not consumer.paused
    consumer.unanswered_polls = 0
    assert isinstance(first_error(consumer), CorruptRecordError)  # the batch is met again, from its first offset

def test_a_readable_batch_between_broken_ones_is_not_skipped():
    log = PartitionLog(
        bad_crc(batch(0, values(3, "bad"))), batch(3, values(1, "good")), bad_crc(batch(4, values(1, "x")))
    )
    consumer = LogConsumer(log, 0)
    skipped = step_over_undecodable(consumer, first_error(consumer), probe_timeout_ms=10)
    assert (skipped.first, skipped.end) == (0, 3)
    assert [r.offset for r in consumer.poll(500)[TP]] == [3]


def test_skipped_offsets_say_where_and_why():
    assert SkippedOffsets(TP, 5, 10, "CorruptRecordError: crc").describe() == (
        "unreadable record batch at new_orders[1] offsets 5-9: CorruptRecordError: crc")
    assert SkippedOffsets(TP, 5, 6, "E").describe() == "unreadable record batch at new_orders[1] offset 5: E"


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def test_the_progress_watch_turns_unhealthy_only_after_the_limit_without_progress():
    clock = Clock()
    watch = ProgressWatch(30, clock)
    clock.now += 30
    assert watch.health()[0] and watch.stalled_seconds() == 30
    clock.now += 1
    healthy, detail = watch.health()
    assert not healthy and "no progress for 31s" in detail
    watch.progressed()
    assert watch.health() == (True, "making progress") and watch.stalled_seconds() == 0


def test_the_health_endpoint_answers_503_with_the_reason_and_metrics_beside_it():
    state = {"health": (True, "making progress")}
    port = free_port()
    serve_metrics(port, lambda: state["health"])
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as response:
        assert response.status == 200 and json.load(response) == {"status": "ok", "detail": "making progress"}
    state["health"] = (False, "no progress for 200s")
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5)
    assert refused.value.code == 503
    assert json.load(refused.value) == {"status": "stalled", "detail": "no progress for 200s"}
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        assert response.status == 200 and b"# HELP" in response.read()


def test_an_assignment_is_logged_per_topic_because_partition_numbers_repeat_across_topics():
    # A group reading new_orders and account_versions gets partition 0 of each: as one flat list the chaos
    # rebalance check counted six partitions where there were three of new_orders.
    assigned = {TopicPartition("b", 0), TopicPartition("a", 2), TopicPartition("a", 0), TopicPartition("b", 1)}
    assert _by_topic(assigned) == {"a": [0, 2], "b": [0, 1]}
