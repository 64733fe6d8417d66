"""What a consumer sends to its dead-letter topic: the copy of a record it cannot use, cut down to what the broker
accepts, and the note of offsets it stepped over because their batch could not be decoded."""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from kafka.record.default_records import DefaultRecordBatchBuilder

from services.platform.records import Record

if TYPE_CHECKING:
    from services.platform.undecodable import SkippedOffsets

# Below the producer's 1 MiB max_request_size, with room for the batch around the record: a copy that
# would not fit is cut, never retried forever.
DEAD_LETTER_MAX_BYTES = 1_000_000
# Why the record is here (UTF-8 text, at most MAX_ERROR_CHARS characters).
HEADER_ERROR = "error"
HEADER_TRUNCATED = "dlq_truncated"
# The skip note's headers: where the unreadable offsets were (first and last inclusive, decimal ASCII).
HEADER_SKIPPED_TOPIC = "skipped_topic"
HEADER_SKIPPED_PARTITION = "skipped_partition"
HEADER_SKIPPED_FIRST_OFFSET = "skipped_first_offset"
HEADER_SKIPPED_LAST_OFFSET = "skipped_last_offset"
MAX_ERROR_CHARS = 1000


def record_size(key: bytes | None, value: bytes | None, headers: list[tuple[str, bytes | None]]) -> int:
    """The size the producer will count for this record (the same estimate it checks against its limit)."""
    return DefaultRecordBatchBuilder.estimate_size_in_bytes(key, value, [(k, v or b"") for k, v in headers])


@dataclass(frozen=True)
class DeadLetter:
    """A record the consumer cannot use, and why; it goes to `topic` as received plus an `error` header."""

    record: object  # a kafka ConsumerRecord
    error: str
    topic: str

    def dead_letter_record(self, max_bytes: int = DEAD_LETTER_MAX_BYTES) -> Record:
        """The copy for the dead-letter topic: key, value and headers as received, plus `error`; when that
        would exceed `max_bytes`, the value, then the headers, then the key are cut, and `dlq_truncated` says so."""
        source = self.record
        error = self.error[:MAX_ERROR_CHARS].encode("utf-8", "replace")
        key, value = source.key, source.value
        # Null header values are kept as empty ones: the producer cannot send a null header value.
        headers = [(name, raw or b"") for name, raw in (source.headers or []) if name != HEADER_ERROR]
        notes = []
        if value is None and key is None:
            value = b""  # a record with neither key nor value cannot be produced as is
        if record_size(key, value, [*headers, (HEADER_ERROR, error)]) > max_bytes and value:
            keep = max(0, max_bytes - record_size(key, b"", [*headers, (HEADER_ERROR, error)]) - 200)
            notes.append(f"value cut from {len(value)} to {min(keep, len(value))} bytes")
            value = value[:keep]
        if record_size(key, value, [*headers, (HEADER_ERROR, error)]) > max_bytes and headers:
            notes.append(f"{len(headers)} original headers dropped")
            headers = []
        if record_size(key, value, [(HEADER_ERROR, error)]) > max_bytes and key:
            notes.append(f"key cut from {len(key)} to 1000 bytes")
            key = key[:1000]
        truncated = [(HEADER_TRUNCATED, "; ".join(notes).encode())] if notes else []
        return Record(topic=self.topic, key=key, value=value, headers=[*headers, (HEADER_ERROR, error), *truncated])


def skip_note(skipped: SkippedOffsets, topic: str) -> Record:
    """The dead-letter record of offsets stepped over: no key, an empty value (the bytes could not be read),
    `error` saying where and why, and the place in `skipped_*` headers for a tool that re-reads them."""
    return Record(topic=topic, key=None, value=b"", headers=[
        (HEADER_ERROR, skipped.describe()[:MAX_ERROR_CHARS].encode("utf-8", "replace")),
        (HEADER_SKIPPED_TOPIC, skipped.partition.topic.encode()),
        (HEADER_SKIPPED_PARTITION, str(skipped.partition.partition).encode()),
        (HEADER_SKIPPED_FIRST_OFFSET, str(skipped.first).encode()),
        (HEADER_SKIPPED_LAST_OFFSET, str(skipped.last).encode()),
    ])
