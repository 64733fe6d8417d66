"""Record batches a consumer's client cannot decode (a bad CRC, a codec it lacks, a broken header): telling
them from the client's own errors, and stepping over them to the first offset it can read."""
from __future__ import annotations

from dataclasses import dataclass

from kafka import KafkaConsumer, TopicPartition
from kafka.consumer.fetcher import Fetcher

# kafka-python decodes a fetched batch lazily, inside PartitionRecords.take(): an exception raised there, whatever
# its type (CorruptRecordError for a CRC mismatch, UnsupportedCodecError, OSError or EOFError from gzip, the
# lz4/snappy/zstd libraries' own errors, UnicodeDecodeError for a header name), is the batch's fault, never the
# broker's or the group's. Its traceback passes through one of these functions.
_DECODING_CODE = frozenset({Fetcher.PartitionRecords.take.__code__, Fetcher.PartitionRecords._unpack_records.__code__})
# How far one call steps over unreadable offsets before it hands back (the next poll meets the rest and
# steps on): a bound, so the loop commits and reports progress even across a long run of broken batches.
MAX_PROBES = 1000


def raised_while_decoding(error: BaseException) -> bool:
    """True when `error` came out of decoding fetched records (the batch is unreadable), not out of the client."""
    trace = error.__traceback__
    while trace is not None:
        if trace.tb_frame.f_code in _DECODING_CODE:
            return True
        trace = trace.tb_next
    return False


@dataclass(frozen=True)
class SkippedOffsets:
    """Offsets [first, end) of one partition that could not be decoded and were stepped over, and why."""

    partition: TopicPartition
    first: int
    end: int
    reason: str

    @property
    def last(self) -> int:
        return self.end - 1

    def describe(self) -> str:
        where = f"{self.partition.topic}[{self.partition.partition}]"
        offsets = f"offset {self.first}" if self.end - self.first == 1 else f"offsets {self.first}-{self.last}"
        return f"unreadable record batch at {where} {offsets}: {self.reason}"


def step_over_undecodable(consumer: KafkaConsumer, error: BaseException, probe_timeout_ms: int) -> SkippedOffsets:
    """After `poll()` raised `error` while decoding (see raised_while_decoding): position the partition it came
    from at the first offset after the unreadable batch (or run of batches), and say which offsets were skipped.

    kafka-python does not say which batch failed, and after such an error its fetcher keeps the dead batch and
    spins on it inside the next poll; this drains it, then probes offset by offset: a fetch at an offset inside
    the broken batch returns that batch again and fails at that offset, one past its end returns the next batch
    (or nothing at the end of the log). Only offsets whose own fetch failed are skipped, so no readable record
    is. The other partitions are paused meanwhile and keep their positions. Nothing is committed here."""
    fetcher = consumer._fetcher  # pylint: disable=protected-access - the pinned kafka-python keeps it there
    broken = fetcher._next_partition_records  # pylint: disable=protected-access
    if broken is None:
        raise error
    partition, first = broken.topic_partition, broken.next_fetch_offset
    reason = f"{type(error).__name__}: {error}"[:500]
    _drop(fetcher)
    others = [tp for tp in consumer.assignment() if tp != partition]
    consumer.pause(*others)
    try:
        end = _first_readable_offset(consumer, partition, first, probe_timeout_ms)
    except BaseException:
        # The broker or the group failed mid-probe: back to the first unreadable offset, so that the next poll
        # meets the batch again and it is noted whole (left where the probe was, its first offsets would be
        # passed over without a note).
        if partition in consumer.assignment():
            consumer.seek(partition, first)
        raise
    finally:
        consumer.resume(*others)
    consumer.seek(partition, end)
    return SkippedOffsets(partition, first, end, reason)


def _first_readable_offset(consumer: KafkaConsumer, partition: TopicPartition, unreadable: int,
                           probe_timeout_ms: int) -> int:
    candidate = unreadable + 1
    consumer.seek(partition, candidate)
    for _probe in range(MAX_PROBES):
        try:
            # Records it returns are read again: the caller seeks back to the offset returned.
            records = consumer.poll(timeout_ms=probe_timeout_ms)
        except Exception as exc:  # noqa: BLE001 - any decoding error means "still unreadable"
            if not raised_while_decoding(exc):
                raise
            failed_at = consumer._fetcher._next_partition_records.next_fetch_offset  # pylint: disable=protected-access
            _drop(consumer._fetcher)  # pylint: disable=protected-access
            candidate = max(candidate, failed_at) + 1
            consumer.seek(partition, candidate)
            continue
        if records or _nothing_to_fetch_at(consumer, partition, candidate):
            return candidate
        # An empty answer inside the log: the probe's fetch has not come back within the timeout (a busy broker).
        # Taking that for "readable" would land inside the broken batch; wait for the same fetch instead.
    return candidate


def _nothing_to_fetch_at(consumer: KafkaConsumer, partition: TopicPartition, offset: int) -> bool:
    """True when a fetch at `offset` has been answered with nothing to return: it is the end of the log, or the
    client stepped past records it never hands out (a transaction's markers)."""
    return consumer.position(partition) > offset or offset >= consumer.end_offsets([partition])[partition]


def _drop(fetcher) -> None:
    """Forget the fetched records that failed: left in place, their dead iterator makes poll() spin."""
    fetcher._next_partition_records.drain()  # pylint: disable=protected-access
    fetcher._next_partition_records = None  # pylint: disable=protected-access
