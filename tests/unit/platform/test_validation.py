"""Unit tests for request validation: each rule accepts what the contract allows and names the field otherwise."""
import pytest
from flask import Flask

from services.contracts.identifiers import USER_ID
from services.order_ms.orders import EXAMPLE_ORDER, ORDER_FIELDS
from services.platform.problems import Problem
from services.platform.validation import check_path_segment, validate


def check_path_user_id(user_id):
    return check_path_segment("user_id", user_id, USER_ID, "USER0001", title="Invalid User Id")


def errors_of(body):
    with pytest.raises(Problem) as caught:
        validate(body, ORDER_FIELDS, EXAMPLE_ORDER)
    assert caught.value.status == 422
    assert "Example body" in caught.value.hint
    return {e["field"]: e["message"] for e in caught.value.errors}


def test_valid_order_passes_through_unchanged():
    assert validate(dict(EXAMPLE_ORDER), ORDER_FIELDS, EXAMPLE_ORDER) == EXAMPLE_ORDER


@pytest.mark.parametrize("price", [0, 1_000_000])
def test_price_bounds_are_inclusive(price):
    assert validate({**EXAMPLE_ORDER, "coffee_price": price}, ORDER_FIELDS, EXAMPLE_ORDER)["coffee_price"] == price


@pytest.mark.parametrize("field,value", [
    ("coffee_price", -1), ("coffee_price", 1_000_001), ("coffee_qty", 0), ("coffee_qty", 101),
    ("coffee_name", ""), ("coffee_name", "x" * 51),
])
def test_out_of_range_values_name_their_field(field, value):
    assert field in errors_of({**EXAMPLE_ORDER, field: value})


@pytest.mark.parametrize("value", [True, "6", 6.5, float("nan"), None])
def test_qty_must_be_a_real_integer(value):
    errors = errors_of({**EXAMPLE_ORDER, "coffee_qty": value})
    assert "coffee_qty" in errors


def test_a_number_written_with_a_zero_fraction_is_that_integer():
    # JSON Schema, and so the OpenAPI document, counts 6.0 an integer: it is accepted and kept as 6.
    fields = validate({**EXAMPLE_ORDER, "coffee_qty": 6.0, "coffee_price": 2e3}, ORDER_FIELDS, EXAMPLE_ORDER)
    assert fields == EXAMPLE_ORDER
    assert type(fields["coffee_qty"]) is int and type(fields["coffee_price"]) is int


def test_missing_and_unknown_fields_are_each_reported():
    errors = errors_of({"coffee_name": "latte", "size": "L"})
    assert set(errors) == {"size", "coffee_price", "coffee_qty"}
    assert "unknown field" in errors["size"]
    assert "required" in errors["coffee_price"]


def test_fifty_character_name_with_multibyte_letters_is_allowed():
    name = "카" * 50
    assert validate({**EXAMPLE_ORDER, "coffee_name": name}, ORDER_FIELDS, EXAMPLE_ORDER)["coffee_name"] == name


@pytest.mark.parametrize("user_id", ["USER0001", "a", "a_b-C9", "x" * 50])
def test_path_user_ids_allowed(user_id):
    with Flask(__name__).test_request_context("/"):
        assert check_path_user_id(user_id) == user_id


@pytest.mark.parametrize("user_id", ["x" * 51, "a b", "é", "a.b", "USER0001\n", ""])
def test_path_user_ids_refused_with_hint(user_id):
    with Flask(__name__).test_request_context("/"), pytest.raises(Problem) as caught:
        check_path_user_id(user_id)
    assert caught.value.status == 422 and "USER0001" in caught.value.hint
