"""The AsyncAPI 3.0 document of the topics: made from the contracts, committed as docs/asyncapi.json, valid
against the AsyncAPI 3.0.0 JSON Schema (vendored in tests/api/asyncapi-schema/), and what the contracts
serialise conforms to it."""
import json
import re

import pytest
from jsonschema import Draft7Validator

from services.contracts import (
    asyncapi,
    delivery_status_changed,
    order_cancel_refused,
    order_cancel_requested,
    order_created,
)
from services.contracts.topics import TOPIC_PARTITIONS
from tests.support.asyncapi import META_SCHEMA, channel_message, load_document, record_errors
from tests.support.topics import new_order


def test_the_committed_document_is_the_one_the_contracts_make():
    assert load_document() == asyncapi.document(), (
        "docs/asyncapi.json is stale: python -m services.contracts.asyncapi > docs/asyncapi.json")


def test_the_document_is_valid_asyncapi_3():
    meta_schema = json.loads(META_SCHEMA.read_text(encoding="utf-8"))
    validator = Draft7Validator(meta_schema)
    errors = [f"{'/'.join(map(str, e.path))}: {e.message}" for e in validator.iter_errors(load_document())]
    assert errors == []


def test_the_meta_schema_catches_a_broken_document():
    meta_schema = json.loads(META_SCHEMA.read_text(encoding="utf-8"))
    broken = asyncapi.document()
    broken["operations"]["publishOrderCreated"]["action"] = "publish"   # AsyncAPI 2's word, not 3's
    assert not Draft7Validator(meta_schema).is_valid(broken)


def test_every_reference_resolves():
    document = load_document()
    text = json.dumps(document)
    for ref in set(re.findall(r'"\$ref": "([^"]+)"', text)):
        node = document
        for part in ref.removeprefix("#/").split("/"):
            assert part in node, f"{ref} does not resolve"
            node = node[part]


def test_every_topic_is_a_channel_with_its_partitions():
    channels = {channel["address"]: channel for channel in load_document()["channels"].values()}
    assert set(channels) == set(TOPIC_PARTITIONS)
    for topic, partitions in TOPIC_PARTITIONS.items():
        assert channels[topic]["bindings"]["kafka"]["partitions"] == partitions


CONTRACTS = (order_created, order_cancel_requested, delivery_status_changed, order_cancel_refused)


def test_each_topic_carries_its_contracts_the_untyped_one_first():
    document = load_document()
    carried = {}
    for channel in document["channels"].values():
        carried[channel["address"]] = [name for name in channel["messages"]]
    assert carried["new_orders"] == ["OrderCreated", "OrderCancelRequested"]
    assert carried["delivery_status"] == ["DeliveryStatusChanged", "OrderCancelRefused"]
    assert carried["new_orders.dlq"] == ["DeadLetteredOrder"]
    assert carried["delivery_status.dlq"] == ["DeadLetteredDeliveryEvent"]


@pytest.mark.parametrize("contract", CONTRACTS, ids=lambda contract: contract.EVENT_TYPE)
def test_payload_rules_are_the_contract_field_rules(contract):
    document = load_document()
    message = channel_message(document, contract.TOPIC, contract.EVENT_TYPE)
    assert message["name"] == contract.EVENT_TYPE
    payload = message["payload"]
    assert payload["properties"] == {name: asyncapi.value_field_schema(field)
                                     for name, field in contract.FIELDS.items()}
    assert payload["required"] == list(contract.FIELDS)
    assert message["headers"]["properties"]["event_type"]["const"] == contract.EVENT_TYPE
    assert message["headers"]["properties"]["schema_version"]["const"] == str(contract.SCHEMA_VERSION)


def test_previous_status_may_be_null_and_the_other_fields_may_not():
    payload = channel_message(load_document(), "delivery_status", "DeliveryStatusChanged")["payload"]
    nullable = {name for name, schema in payload["properties"].items() if "null" in schema["type"]}
    assert nullable == {"previous_status"}
    assert None in payload["properties"]["previous_status"]["enum"]
    assert Draft7Validator(payload).is_valid({**payload_example(payload), "previous_status": None})
    assert not Draft7Validator(payload).is_valid({**payload_example(payload), "status": None})
    assert not Draft7Validator(payload).is_valid({**payload_example(payload), "previous_status": "LOST"})


def payload_example(payload: dict) -> dict:
    return {name: schema["examples"][0] for name, schema in payload["properties"].items()}


def test_the_examples_conform_to_their_messages():
    document = load_document()
    for message in document["components"]["messages"].values():
        for example in message.get("examples", []):
            assert Draft7Validator(message["payload"]).is_valid(example["payload"]), message["name"]
            assert Draft7Validator(message["headers"]).is_valid(example["headers"]), message["name"]


def test_what_the_contracts_serialise_conforms():
    document = load_document()
    order = new_order()
    change = {"delivery_id": "0b6f1e8e-6a4e-4c61-8a57-3d1f2a9c7e10", "order_id": order["order_id"],
              "status": "COMPLETED", "previous_status": "IN_DELIVERY", "updated_at": "2026-11-28T15:09:41.000321Z",
              "version": 3}
    created = {**change, "status": "CONFIRMED", "previous_status": None, "version": 1}
    refusal = {"delivery_id": change["delivery_id"], "order_id": order["order_id"], "status": "IN_DELIVERY",
               "version": 2, "reason": "The delivery is already IN_DELIVERY.", "refused_at": change["updated_at"]}
    messages = (order_created.build(order), order_cancel_requested.build(order, "2026-11-28T15:06:00.000000Z"),
                delivery_status_changed.build(change), delivery_status_changed.build(created),
                order_cancel_refused.build(refusal))
    for message in messages:
        record = message.record()
        assert record_errors(document, record.topic, record.key, record.value, record.headers) == []


def test_a_record_is_checked_against_the_message_its_event_type_names():
    order = new_order()
    record = order_cancel_requested.build(order, "2026-11-28T15:06:00.000000Z").record()
    # An OrderCreated value under the cancel's header misses requested_at; the same value as an OrderCreated is fine.
    created_value = order_created.build(order).record().value
    errors = record_errors(load_document(), record.topic, record.key, created_value, record.headers)
    assert any("requested_at" in e for e in errors)
    untyped = [(name, raw) for name, raw in record.headers if name != "event_type"]
    assert any(e.startswith("headers") for e in record_errors(load_document(), record.topic, record.key,
                                                              created_value, untyped))


def test_a_record_off_contract_is_reported():
    record = order_created.build(new_order()).record()
    value = json.loads(record.value)
    value["coffee_qty"] = 0
    headers = [(name, b"2" if name == "schema_version" else raw) for name, raw in record.headers]
    errors = record_errors(load_document(), record.topic, b"not-a-uuid", json.dumps(value).encode(), headers)
    assert any(e.startswith("headers") for e in errors) and any(e.startswith("key") for e in errors)
    assert any("coffee_qty" in e for e in errors)
