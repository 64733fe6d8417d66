"""The AsyncAPI 3.0 document of the topics: made from the contracts, committed as docs/asyncapi.json, valid
against the AsyncAPI 3.0.0 JSON Schema (vendored in tests/api/asyncapi-schema/), and what the contracts
serialise conforms to it."""
import json
import re

from jsonschema import Draft7Validator

from services.contracts import asyncapi, delivery_status_changed, order_created
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


def test_payload_rules_are_the_contract_field_rules():
    document = load_document()
    for contract in (order_created, delivery_status_changed):
        payload = channel_message(document, contract.TOPIC)["payload"]
        assert payload["properties"] == {name: field.json_schema() for name, field in contract.FIELDS.items()}
        assert payload["required"] == list(contract.FIELDS)


def test_what_the_contracts_serialise_conforms():
    document = load_document()
    order = new_order()
    change = {"delivery_id": "0b6f1e8e-6a4e-4c61-8a57-3d1f2a9c7e10", "order_id": order["order_id"],
              "status": "COMPLETED", "previous_status": "IN_DELIVERY", "updated_at": "2026-11-28T15:09:41.000321Z"}
    for message in (order_created.build(order), delivery_status_changed.build(change)):
        record = message.record()
        assert record_errors(document, record.topic, record.key, record.value, record.headers) == []


def test_a_record_off_contract_is_reported():
    record = order_created.build(new_order()).record()
    value = json.loads(record.value)
    value["coffee_qty"] = 0
    headers = [(name, b"2" if name == "schema_version" else raw) for name, raw in record.headers]
    errors = record_errors(load_document(), record.topic, b"not-a-uuid", json.dumps(value).encode(), headers)
    assert any(e.startswith("headers") for e in errors) and any(e.startswith("key") for e in errors)
    assert any("coffee_qty" in e for e in errors)
