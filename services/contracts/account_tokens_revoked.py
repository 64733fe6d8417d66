"""`AccountTokensRevoked` v1 on `account_versions`: order-ms raised an account's token version (a logout, a role
change, a deletion), so every token carrying a lower version is refused from now on. Key user_id: an account's
events stay in order on one partition, and the topic is compacted, so it keeps each account's latest version.

Unusable records are dead-lettered to `account_versions.dlq` as received, plus an `error` header."""
from __future__ import annotations

from dataclasses import replace

from services.contracts.envelope import InvalidEvent, Message, check_envelope, decode_object
from services.contracts.identifiers import TIMESTAMP, USER_ID
from services.platform.fields import Field
from services.platform.timefmt import parse_iso_utc

TOPIC = "account_versions"
DEAD_LETTER_TOPIC = "account_versions.dlq"
EVENT_TYPE = "AccountTokensRevoked"
SCHEMA_VERSION = 1
# Kafka topic settings the topic is created with: only each account's latest event matters.
TOPIC_CONFIG = {"cleanup.policy": "compact"}

REASONS = ("LOGOUT", "ROLE_CHANGED", "DELETED")
TOKEN_VERSION = Field(int, minimum=1, maximum=2**32 - 1, rule="an integer from 1 to 4294967295", example=3,
                      description="The account's tokens must carry at least this version; lower ones are refused.")
REASON = Field(str, choices=REASONS, rule=f"one of {', '.join(REASONS)}", example="LOGOUT",
               description="What revoked the tokens.")
REVOKED_AT = replace(TIMESTAMP, description="When order-ms raised the version.", example="2026-11-28T15:04:05.123456Z")

FIELDS = {
    "user_id": replace(USER_ID, description="The account, in the form it was signed up with."),
    "token_version": TOKEN_VERSION,
    "reason": REASON,
    "revoked_at": REVOKED_AT,
}


def build(revocation: dict) -> Message:
    value = {name: revocation[name] for name in FIELDS}
    return Message(topic=TOPIC, key=revocation["user_id"], value=value, event_type=EVENT_TYPE,
                   schema_version=SCHEMA_VERSION)


def parse(raw_value: bytes | None, headers: list[tuple[str, bytes | None]] | None = None) -> dict:
    """The revocation in an `account_versions` record, checked against the contract; InvalidEvent says why not."""
    check_envelope(headers, EVENT_TYPE, SCHEMA_VERSION)
    revocation = decode_object(raw_value, FIELDS)
    try:
        parse_iso_utc(revocation["revoked_at"])
    except ValueError:
        raise InvalidEvent("revoked_at is not a real date and time") from None
    return revocation
