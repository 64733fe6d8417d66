"""The ids the services hand out: UUIDs in their 36-character text form."""
from __future__ import annotations

UUID_TEXT_LENGTH = 36


def may_exist(id_text: str) -> bool:
    """False for text that cannot be one of our ids (its length is wrong): looking it up is a 404 without a query."""
    return len(id_text) == UUID_TEXT_LENGTH
