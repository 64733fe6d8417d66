"""Unit tests of the dead-letter records: the copy keeps what was received and adds one error header; the skip
note says where the unreadable offsets were."""
from kafka import TopicPartition
from kafka.consumer.fetcher import ConsumerRecord

from services.platform.dead_letters import HEADER_ERROR, DeadLetter, skip_note
from services.platform.undecodable import SkippedOffsets


def test_a_dead_letter_keeps_the_original_headers_and_adds_one_error_header():
    original = [("event_id", b"e-1"), ("event_type", b"OrderCreated"), ("error", b"from an earlier hop")]
    received = ConsumerRecord("items", 0, -1, 1, 0, 0, b"k", b"{", original, None, 0, 0, 0)
    letter = DeadLetter(received, "not JSON", "items.dlq")
    dead = letter.dead_letter_record()
    assert dead.topic == "items.dlq" and dead.key == b"k" and dead.value == b"{"
    assert dead.headers[:2] == original[:2]
    assert [name for name, _ in dead.headers].count(HEADER_ERROR) == 1
    assert dict(dead.headers)[HEADER_ERROR].decode() == letter.error


def test_the_skip_note_names_the_partition_the_offsets_and_the_reason():
    note = skip_note(SkippedOffsets(TopicPartition("items", 2), 40, 45, "CorruptRecordError: crc"), "items.dlq")
    assert note.topic == "items.dlq" and note.key is None and note.value == b""
    assert dict(note.headers) == {
        "error": b"unreadable record batch at items[2] offsets 40-44: CorruptRecordError: crc",
        "skipped_topic": b"items", "skipped_partition": b"2", "skipped_first_offset": b"40",
        "skipped_last_offset": b"44"}
