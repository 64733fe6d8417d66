"""Checking Kafka records against the AsyncAPI document (docs/asyncapi.json): key, value and headers of the
message a channel carries, each against its schema in the document."""
from __future__ import annotations

import json
from pathlib import Path

from jsonschema import Draft7Validator

ROOT = Path(__file__).resolve().parents[2]
DOCUMENT = ROOT / "docs" / "asyncapi.json"
META_SCHEMA = ROOT / "tests" / "api" / "asyncapi-schema" / "asyncapi-3.0.0.json"


def load_document() -> dict:
    return json.loads(DOCUMENT.read_text(encoding="utf-8"))


def resolve(document: dict, ref: str) -> dict:
    node = document
    for part in ref.removeprefix("#/").split("/"):
        node = node[part]
    return node


def channel_message(document: dict, address: str, event_type: str | None = None) -> dict:
    """The message the channel with this topic address carries for `event_type` (the event_type header), its $ref
    resolved; without one (or for a type it does not carry), its first message: the one untyped records are."""
    channels = [channel for channel in document["channels"].values() if channel["address"] == address]
    assert len(channels) == 1, f"the document has {len(channels)} channels for {address}"
    messages = [resolve(document, message["$ref"]) if "$ref" in message else message
                for message in channels[0]["messages"].values()]
    return next((message for message in messages if message.get("name") == event_type), messages[0])


def record_errors(document: dict, topic: str, key: bytes | None, value: bytes | None,
                  headers: list[tuple[str, bytes | None]]) -> list[str]:
    """Everything about one record that its channel's message (picked by its event_type header) does not allow;
    empty when it conforms."""
    decoded_headers = {name: (raw or b"").decode("utf-8") for name, raw in headers}
    message = channel_message(document, topic, decoded_headers.get("event_type"))
    errors = []
    for error in Draft7Validator(message["headers"]).iter_errors(decoded_headers):
        errors.append(f"headers: {error.message}")
    key_schema = message["bindings"]["kafka"]["key"]
    for error in Draft7Validator(key_schema).iter_errors((key or b"").decode("utf-8")):
        errors.append(f"key: {error.message}")
    if message["contentType"] == "application/json":
        try:
            payload = json.loads(value or b"")
        except ValueError as exc:
            return errors + [f"value is not JSON: {exc}"]
        for error in Draft7Validator(message["payload"]).iter_errors(payload):
            errors.append(f"value {'/'.join(map(str, error.path))}: {error.message}")
    return errors
