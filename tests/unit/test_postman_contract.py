"""The Postman collection agrees with the OpenAPI documents, and the check that says so catches a request that
drifted: a wrong path, a wrong method, an unknown body field or query parameter."""
import copy
import json

import pytest

from scripts.api.postman_contract import COLLECTION, drift_of, openapi_documents, requests_of


@pytest.fixture(scope="module")
def documents():
    return openapi_documents()


@pytest.fixture
def collection():
    return json.loads(COLLECTION.read_text(encoding="utf-8"))


def request_named(collection, name):
    return dict(requests_of(collection["item"]))[name]


def test_the_collection_matches_the_documents(collection, documents):
    assert drift_of(collection, documents) == []


def test_the_collection_exercises_every_api_tag(collection, documents):
    # The check means something only if the collection really covers the API.
    operations = {
        (request["method"], tuple(request["url"]["path"][:2])) for _, request in requests_of(collection["item"])
    }
    assert ("POST", ("order-ms", "login")) in operations and ("PUT", ("delivery-ms", "deliveries")) in operations
    cancels = [request for _, request in requests_of(collection["item"]) if request["url"]["path"][-1] == "cancel"]
    assert cancels and all(request["method"] == "POST" for request in cancels)


def test_a_wrong_path_is_drift(collection, documents):
    request = request_named(collection, "Orders/Create order")
    request["url"]["path"][-1] = "order"
    request["url"]["raw"] = request["url"]["raw"].replace("/orders", "/order")
    assert drift_of(collection, documents) == [
        "Orders/Create order: POST /order-ms/{{userId}}/order is no operation of the OpenAPI documents"]


def test_a_raw_url_that_disagrees_with_its_path_is_drift(collection, documents):
    request = request_named(collection, "Orders/Create order")
    request["url"]["raw"] = request["url"]["raw"].replace("/orders", "/purchases")
    assert drift_of(collection, documents) == [
        "Orders/Create order: its raw URL /order-ms/{{userId}}/purchases"
        " and its path /order-ms/{{userId}}/orders differ"
    ]


def test_a_wrong_method_is_drift(collection, documents):
    request_named(collection, "Deliveries/Move to IN_DELIVERY")["method"] = "PATCH"
    assert drift_of(collection, documents) == [
        "Deliveries/Move to IN_DELIVERY: PATCH /delivery-ms/deliveries/{{deliveryId}}/status"
        " is no operation of the OpenAPI documents"]


def test_an_unknown_body_field_is_drift(collection, documents):
    request = request_named(collection, "Orders/Create order")
    request["body"]["raw"] = request["body"]["raw"].replace('"coffee_qty"', '"coffee_quantity"')
    assert drift_of(collection, documents) == [
        "Orders/Create order: body field 'coffee_quantity'"
        " is not in the request body of POST /order-ms/{{userId}}/orders"
    ]


def test_an_undocumented_query_parameter_is_drift(collection, documents):
    request = request_named(collection, "Orders/List my orders")
    request["url"]["query"].append({"key": "page", "value": "2"})
    assert drift_of(collection, documents) == [
        "Orders/List my orders: query parameter 'page' is not documented for GET /order-ms/{{userId}}/orders"]


def test_an_operation_missing_from_the_documents_is_drift(collection, documents):
    shrunk = copy.deepcopy(documents)
    del shrunk[1]["paths"]["/delivery-ms/deliveries/{delivery_id}/status"]
    drift = drift_of(collection, shrunk)
    assert drift and all("/status is no operation" in line for line in drift)
