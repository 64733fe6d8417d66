"""What every event shares: its headers, the one way it becomes bytes on the wire, and safe decoding."""
from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

# Added by a consumer when it dead-letters a record: why the record could not be used.
from services.platform.dead_letters import HEADER_ERROR as HEADER_ERROR
from services.platform.fields import Field, check_fields, clean_fields
from services.platform.ids import new_id
from services.platform.records import Record
from services.platform.tracing import trace_headers

# json.dumps(value, separators=(",", ":")) makes a new encoder per call; every event is serialised with this one.
_COMPACT_JSON = json.JSONEncoder(separators=(",", ":"))

HEADER_EVENT_ID = "event_id"
HEADER_EVENT_TYPE = "event_type"
HEADER_SCHEMA_VERSION = "schema_version"


class InvalidEvent(ValueError):
    """A record that does not follow its contract; consumers dead-letter it with this message."""


@dataclass(frozen=True)
class Message:
    """One event: its topic, key, JSON value and headers (event id, type and schema version), and the W3C trace
    context (`traceparent`, `tracestate`) of the span current when it was made, when tracing is on: the outbox row
    keeps it, and the relay continues that trace (docs/tracing.md)."""

    topic: str
    key: str
    value: dict
    event_type: str
    schema_version: int
    event_id: str = field(default_factory=new_id)
    trace: list[tuple[str, str]] = field(default_factory=trace_headers, compare=False, repr=False)

    @property
    def headers(self) -> dict[str, str]:
        return {HEADER_EVENT_ID: self.event_id, HEADER_EVENT_TYPE: self.event_type,
                HEADER_SCHEMA_VERSION: str(self.schema_version)}

    def record(self) -> Record:
        """The one serialisation: compact JSON, ASCII only, fields in contract order."""
        return Record(
            topic=self.topic,
            key=self.key.encode(),
            value=_COMPACT_JSON.encode(self.value).encode(),
            headers=[(name, value.encode()) for name, value in (*self.headers.items(), *self.trace)],
        )


def header_text(headers: list[tuple[str, bytes | None]] | None, name: str) -> str | None:
    """One header's value as text (the last one wins), None when absent or null."""
    found = None
    for header_name, value in headers or []:
        if header_name == name:
            found = value
    return None if found is None else found.decode("utf-8", "replace")


def check_envelope(headers: list[tuple[str, bytes | None]] | None, event_type: str, schema_version: int) -> None:
    """Headers may be absent, but when present they must name this contract's type and version."""
    sent_type = header_text(headers, HEADER_EVENT_TYPE)
    if sent_type is not None and sent_type != event_type:
        raise InvalidEvent(f"event_type is {sent_type[:60]!r}, expected {event_type!r}")
    sent_version = header_text(headers, HEADER_SCHEMA_VERSION)
    if sent_version is not None and sent_version != str(schema_version):
        raise InvalidEvent(f"schema_version {sent_version[:20]!r} is not supported, expected {schema_version}")


@dataclass(frozen=True)
class TypedEvent:
    """A record of a topic that carries several contracts, parsed: which contract it follows, and its value."""

    event_type: str
    value: dict


def parse_by_event_type(parsers: Mapping[str, Callable[[bytes | None, list | None], dict]],
                        untyped: str) -> Callable[[bytes | None, list | None], TypedEvent]:
    """One `parse` for a topic that carries several contracts: the `event_type` header picks the contract's own
    parse (which checks the rest of the envelope); a record without that header is `untyped`'s, as every record
    was before the topic carried a second contract. A type not in `parsers` is refused, naming those it knows."""
    if untyped not in parsers:
        raise ValueError(f"untyped {untyped!r} is not one of the parsed event types {sorted(parsers)}")

    def parse(raw_value: bytes | None, headers: list[tuple[str, bytes | None]] | None = None) -> TypedEvent:
        event_type = header_text(headers, HEADER_EVENT_TYPE)
        if event_type is None:
            event_type = untyped
        contract_parse = parsers.get(event_type)
        if contract_parse is None:
            raise InvalidEvent(f"event_type {event_type[:60]!r} is not one of {', '.join(parsers)}")
        return TypedEvent(event_type, contract_parse(raw_value, headers))

    return parse


def decode_object(raw: bytes | None, fields: dict[str, Field]) -> dict:
    """The JSON object in a record's value, checked against `fields`; InvalidEvent says why it cannot be used.

    Whatever the bytes are: invalid UTF-8, deep nesting and huge numbers are refused, never raised as
    something else."""
    if raw is None:
        raise InvalidEvent("record has no value")
    try:
        value = json.loads(raw)
    except RecursionError:
        raise InvalidEvent("value is nested too deeply to be an event") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidEvent(f"value is not JSON: {str(exc)[:200]}") from None
    if not isinstance(value, dict):
        raise InvalidEvent("value is not a JSON object")
    errors = check_fields(value, fields, closed=False)
    if errors:
        raise InvalidEvent("; ".join(f"{e['field']} {e['message']}" for e in errors))
    return clean_fields(value, fields)
