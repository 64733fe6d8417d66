"""A Kafka record as bytes on the wire, and what an outbox needs of an event to store one."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Record:
    """Exactly what goes to the broker: the bytes a producer sends and a consumer receives."""

    topic: str
    key: bytes
    value: bytes
    headers: list[tuple[str, bytes]]


class Event(Protocol):
    """Anything with a unique id that serialises itself to one record (the contracts' Message does)."""

    event_id: str

    def record(self) -> Record: ...
