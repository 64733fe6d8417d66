"""The AsyncAPI 3.0 document of the published topics, made from the contracts themselves (topics, keys, field
rules, headers), so the document cannot say anything the producers and consumers do not do.

    python -m services.contracts.asyncapi > docs/asyncapi.json     # the committed copy; a unit test compares them
"""
from __future__ import annotations

import json
import sys
from dataclasses import replace

from services.contracts import (
    account_tokens_revoked,
    delivery_status_changed,
    order_cancel_refused,
    order_cancel_requested,
    order_created,
)
from services.contracts.envelope import HEADER_ERROR, HEADER_EVENT_ID, HEADER_EVENT_TYPE, HEADER_SCHEMA_VERSION
from services.contracts.identifiers import ORDER_ID, UUID
from services.contracts.topics import TOPIC_PARTITIONS
from services.platform.fields import Field
from services.platform.tracing import TRACEPARENT, TRACESTATE

ASYNCAPI_VERSION = "3.0.0"
KAFKA_BINDING_VERSION = "0.5.0"
DOCUMENT_VERSION = "1.0.0"
EVENT_ID = replace(UUID, description="Unique per event; a record published twice carries the same event_id.")
# W3C Trace Context (docs/tracing.md): optional on every record; consumers accept records without them.
TRACE_HEADERS = {
    TRACEPARENT: {"type": "string", "pattern": "^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}",
                  "description": "W3C traceparent of the span that published the record (the relay's publish span, "
                                 "in the trace of the request or record that made the event). Present when the "
                                 "producer traces; a consumer continues that trace. Optional: a record without it, "
                                 "or with one that cannot be read, is used all the same.",
                  "examples": ["00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"]},
    TRACESTATE: {"type": "string", "maxLength": 512,
                 "description": "W3C tracestate that goes with traceparent, when the trace has vendor state."},
}


def headers_schema(event_type: str, schema_version: int) -> dict:
    """The envelope headers of one contract (UTF-8 text on the wire)."""
    return {
        "type": "object",
        "properties": {
            HEADER_EVENT_ID: EVENT_ID.json_schema(),
            HEADER_EVENT_TYPE: {"type": "string", "const": event_type},
            HEADER_SCHEMA_VERSION: {"type": "string", "const": str(schema_version),
                                    "description": "A consumer refuses a record of another version."},
            **TRACE_HEADERS,
        },
        "required": [HEADER_EVENT_ID, HEADER_EVENT_TYPE, HEADER_SCHEMA_VERSION],
    }


def value_field_schema(field: Field) -> dict:
    """One field of an event's value: producers always write it; a field that is not required may be null."""
    schema = field.json_schema()
    if not field.required:
        schema["type"] = [schema["type"], "null"]
        if "enum" in schema:
            schema["enum"] = [*schema["enum"], None]
    return schema


def payload_schema(fields: dict[str, Field]) -> dict:
    """The value: every contract field present, others allowed (consumers ignore fields they do not know)."""
    return {
        "type": "object",
        "properties": {name: value_field_schema(field) for name, field in fields.items()},
        "required": list(fields),
        "additionalProperties": True,
    }


def event_message(name: str, title: str, summary: str, key: Field, fields: dict[str, Field], schema_version: int,
                  example: dict) -> dict:
    return {
        "name": name,
        "title": title,
        "summary": summary,
        "contentType": "application/json",
        "headers": headers_schema(name, schema_version),
        "payload": payload_schema(fields),
        "bindings": {"kafka": {"key": {**key.json_schema(), "description": "order_id: one order's events stay"
                                       " in order on one partition."}, "bindingVersion": KAFKA_BINDING_VERSION}},
        "examples": [{"name": "example", "payload": example,
                      "headers": {HEADER_EVENT_ID: "9d7f3c1e-2a4b-4c5d-8e6f-0a1b2c3d4e5f", HEADER_EVENT_TYPE: name,
                                  HEADER_SCHEMA_VERSION: str(schema_version)}}],
    }


def example_of(fields: dict[str, Field]) -> dict:
    return {name: field.example for name, field in fields.items()}


def channel(address: str, description: str, *message_names: str) -> dict:
    return {
        "address": address,
        "description": description,
        "messages": {name: {"$ref": f"#/components/messages/{name}"} for name in message_names},
        "bindings": {"kafka": {"partitions": TOPIC_PARTITIONS[address], "bindingVersion": KAFKA_BINDING_VERSION}},
    }


def dead_letter_message(name: str, title: str) -> dict:
    """A record a consumer could not use, parked as received with the reason (both dead-letter topics)."""
    return {
        "name": name,
        "title": title,
        "summary": "The refused record's key, value and headers as received, plus why it was refused; or a "
                   "skip note for offsets whose record batch could not be decoded.",
        "contentType": "application/octet-stream",
        "headers": {
            "type": "object",
            "properties": {
                HEADER_ERROR: {"type": "string", "minLength": 1,
                               "description": "Why the consumer could not use the record."},
                **{header: {"type": "string", "description": description} for header, description in (
                    ("skipped_topic", "Skip note only: the topic of a record batch that could not be "
                                      "decoded at all (no key, an empty value)."),
                    ("skipped_partition", "Skip note only: its partition."),
                    ("skipped_first_offset", "Skip note only: the first offset stepped over."),
                    ("skipped_last_offset", "Skip note only: the last offset stepped over."))},
                HEADER_EVENT_ID: {"type": "string"},
                HEADER_EVENT_TYPE: {"type": "string"},
                HEADER_SCHEMA_VERSION: {"type": "string"},
                TRACEPARENT: {"type": "string", "description": "The refused record's traceparent, as received: the "
                                                               "dead letter stays in the trace it came with."},
                TRACESTATE: {"type": "string", "description": "The refused record's tracestate, as received."},
            },
            "required": [HEADER_ERROR],
        },
        "payload": {"description": "The refused record's value, byte for byte (maybe not JSON, or none)."},
        "bindings": {"kafka": {
            "key": {"type": "string", "description": "The refused record's key, as received."},
            "bindingVersion": KAFKA_BINDING_VERSION}},
    }


def operation(action: str, channel_id: str, message_name: str, summary: str) -> dict:
    return {"action": action, "channel": {"$ref": f"#/channels/{channel_id}"}, "summary": summary,
            "messages": [{"$ref": f"#/channels/{channel_id}/messages/{message_name}"}]}


def account_versions() -> dict:
    """The account_versions topic's part of the document (issue 25: revocation), merged in by document()."""
    message = event_message(
        account_tokens_revoked.EVENT_TYPE, "Account tokens revoked",
        "An account's new token version: tokens carrying a lower one are refused.", account_tokens_revoked.USER_ID,
        account_tokens_revoked.FIELDS, account_tokens_revoked.SCHEMA_VERSION,
        example_of(account_tokens_revoked.FIELDS))
    message["bindings"]["kafka"]["key"]["description"] = "user_id: one account's events stay in order on one partition."
    revocations = channel(account_tokens_revoked.TOPIC, "Each account's latest token version (a compacted topic): "
                          "raised by a logout, a role change or a deletion.", "AccountTokensRevoked")
    revocations["bindings"]["kafka"]["topicConfiguration"] = {
        "cleanup.policy": [account_tokens_revoked.TOPIC_CONFIG["cleanup.policy"]]}
    dead_letters = channel(account_tokens_revoked.DEAD_LETTER_TOPIC, "account_versions records the consumer could "
                           "not use, as received, with an error header.", "DeadLetteredAccountVersion")
    return {
        "channels": {"accountVersions": revocations, "accountVersionsDeadLetter": dead_letters},
        "operations": {
            "publishAccountTokensRevoked": operation(
                "send", "accountVersions", "AccountTokensRevoked",
                "order-ms's relay publishes each raised token version (logout, role change, deletion)."),
            "receiveAccountTokensRevoked": operation(
                "receive", "accountVersions", "AccountTokensRevoked",
                "delivery-ms's consumer keeps each account's version; delivery-ms refuses older tokens."),
            "deadLetterAccountVersion": operation(
                "send", "accountVersionsDeadLetter", "DeadLetteredAccountVersion",
                "The consumer parks a record it cannot use, and moves on."),
        },
        "messages": {"AccountTokensRevoked": message, "DeadLetteredAccountVersion": dead_letter_message(
            "DeadLetteredAccountVersion", "Dead-lettered account_versions record")},
    }


def base_document() -> dict:
    order_example = example_of(order_created.FIELDS)
    order_id = order_example["order_id"]
    cancel_example = {**example_of(order_cancel_requested.FIELDS), **order_example}
    change_example = {**example_of(delivery_status_changed.FIELDS), "previous_status": "CONFIRMED",
                      "order_id": order_id}
    refusal_example = {**example_of(order_cancel_refused.FIELDS), "order_id": order_id}
    return {
        "asyncapi": ASYNCAPI_VERSION,
        "info": {
            "title": "Coffee Order events",
            "version": DOCUMENT_VERSION,
            "description": (
                "The Kafka topics of Coffee Order. Values are compact JSON (UTF-8); headers are UTF-8 text. "
                "Producers write each event to an outbox in the same transaction as the change and a relay "
                "publishes it with acks=all, so an event may arrive twice (same event_id): consumers are "
                "idempotent. A topic may carry several messages: the event_type header says which one a record "
                "is (a record without it is the topic's first message, as records were before the topic carried "
                "a second one). Consumers ignore value fields they do not know and refuse a record whose "
                "event_type or schema_version header names a contract they do not read."
            ),
        },
        "defaultContentType": "application/json",
        "servers": {
            "local": {"host": "127.0.0.1:9092", "protocol": "kafka",
                      "description": "The local stack's broker; elsewhere KAFKA_BOOTSTRAP_SERVERS."},
        },
        "channels": {
            "newOrders": channel(
                order_created.TOPIC,
                "Every accepted order once it is committed, and every customer's request to cancel one (keyed like "
                "the order, so it never overtakes the order's creation). A record without an event_type header "
                "is an OrderCreated.",
                "OrderCreated", "OrderCancelRequested"),
            "newOrdersDeadLetter": channel(
                order_created.DEAD_LETTER_TOPIC,
                "new_orders records the consumer could not use, as received, with an error header.",
                "DeadLetteredOrder"),
            "deliveryStatus": channel(
                delivery_status_changed.TOPIC,
                "Every delivery's creation and status change, and every cancel request delivery-ms refused. "
                "A record without an event_type header is a DeliveryStatusChanged.",
                "DeliveryStatusChanged", "OrderCancelRefused"),
            "deliveryStatusDeadLetter": channel(
                delivery_status_changed.DEAD_LETTER_TOPIC,
                "delivery_status records order-ms's status consumer could not use (e.g. an unknown order), as "
                "received, with an error header.",
                "DeadLetteredDeliveryEvent"),
        },
        "operations": {
            "publishOrderCreated": operation("send", "newOrders", "OrderCreated",
                                             "order-ms's relay publishes each new order (and its reconciler an "
                                             "order that got no delivery event in time, again)."),
            "publishOrderCancelRequested": operation("send", "newOrders", "OrderCancelRequested",
                                                     "order-ms's relay publishes each customer's cancel request."),
            "receiveOrderCreated": operation("receive", "newOrders", "OrderCreated",
                                             "delivery-ms's consumer makes one CONFIRMED delivery per order; for an "
                                             "order it has a delivery of, it publishes that delivery's current "
                                             "state again."),
            "receiveOrderCancelRequested": operation(
                "receive", "newOrders", "OrderCancelRequested",
                "delivery-ms's consumer cancels a CONFIRMED delivery (or records an order it never saw as "
                "CANCELED) or refuses with the reason when staff already moved it on."),
            "deadLetterOrder": operation("send", "newOrdersDeadLetter", "DeadLetteredOrder",
                                         "The consumer parks a record it cannot use, and moves on."),
            "publishDeliveryStatusChanged": operation("send", "deliveryStatus", "DeliveryStatusChanged",
                                                      "delivery-ms's relay publishes each creation and change."),
            "publishOrderCancelRefused": operation("send", "deliveryStatus", "OrderCancelRefused",
                                                   "delivery-ms's relay publishes each refused cancel request."),
            "receiveDeliveryStatusChanged": operation(
                "receive", "deliveryStatus", "DeliveryStatusChanged",
                "order-ms's status consumer keeps each order's delivery, applying only a higher version."),
            "receiveOrderCancelRefused": operation("receive", "deliveryStatus", "OrderCancelRefused",
                                                   "order-ms's status consumer records the refusal and its reason."),
            "deadLetterDeliveryEvent": operation("send", "deliveryStatusDeadLetter", "DeadLetteredDeliveryEvent",
                                                 "The status consumer parks a record it cannot use, and moves on."),
        },
        "components": {
            "messages": {
                "OrderCreated": event_message(
                    order_created.EVENT_TYPE, "Order created", "An order, exactly as order-ms's API shows it.",
                    ORDER_ID, order_created.FIELDS, order_created.SCHEMA_VERSION, order_example),
                "OrderCancelRequested": event_message(
                    order_cancel_requested.EVENT_TYPE, "Order cancel requested",
                    "A customer asked to cancel the order: the order as OrderCreated carries it, and when.",
                    ORDER_ID, order_cancel_requested.FIELDS, order_cancel_requested.SCHEMA_VERSION, cancel_example),
                "DeliveryStatusChanged": event_message(
                    delivery_status_changed.EVENT_TYPE, "Delivery status changed",
                    "A delivery's status before and after a change (before: null when it was just created), and "
                    "its version.", ORDER_ID,
                    delivery_status_changed.FIELDS, delivery_status_changed.SCHEMA_VERSION, change_example),
                "OrderCancelRefused": event_message(
                    order_cancel_refused.EVENT_TYPE, "Order cancel refused",
                    "delivery-ms refused a cancel request: the delivery's status and version then, and why.",
                    ORDER_ID, order_cancel_refused.FIELDS, order_cancel_refused.SCHEMA_VERSION, refusal_example),
                "DeadLetteredOrder": dead_letter_message("DeadLetteredOrder", "Dead-lettered new_orders record"),
                "DeadLetteredDeliveryEvent": dead_letter_message("DeadLetteredDeliveryEvent",
                                                                 "Dead-lettered delivery_status record"),
            },
        },
    }


def document() -> dict:
    """The whole document: base_document() with account_versions() merged in."""
    merged = base_document()
    part = account_versions()
    merged["channels"].update(part["channels"])
    merged["operations"].update(part["operations"])
    merged["components"]["messages"].update(part["messages"])
    return merged


if __name__ == "__main__":
    json.dump(document(), sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")
