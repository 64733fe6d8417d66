"""The ids the services hand out: random (version 4) UUIDs in their 36-character text form."""
from __future__ import annotations

import os

UUID_TEXT_LENGTH = 36


def new_id() -> str:
    """A new random UUID's text, as str(uuid.uuid4()) gives it at a third of the cost (a consumer makes two per
    event: tests/unit/platform/test_ids.py holds them to the same form)."""
    raw = bytearray(os.urandom(16))
    raw[6] = raw[6] & 0x0F | 0x40  # version 4
    raw[8] = raw[8] & 0x3F | 0x80  # the RFC 4122 variant
    text = raw.hex()
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


def may_exist(id_text: str) -> bool:
    """False for text that cannot be one of our ids (its length is wrong): looking it up is a 404 without a query."""
    return len(id_text) == UUID_TEXT_LENGTH
