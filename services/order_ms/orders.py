"""Order routes: create (with an optional Idempotency-Key), list newest first with a cursor, and detail."""
from __future__ import annotations

import hashlib
import json

from flask import Blueprint, Response, jsonify, request

from services.common.auth import authenticate, require_self_or_staff
from services.common.paging import decode_cursor, page_response
from services.common.problems import Problem, not_found
from services.common.validation import Field, check_path_user_id, parse_limit, read_json_object, validate
from services.common.web import db_pool
from services.order_ms import store
from services.order_ms.metrics import ORDERS_CREATED

bp = Blueprint("orders", __name__, url_prefix="/order-ms")

EXAMPLE_ORDER = {"coffee_name": "jslee", "coffee_price": 2000, "coffee_qty": 6}
ORDER_FIELDS = {
    "coffee_name": Field(str, min_length=1, max_length=50, rule="a string of 1-50 characters"),
    "coffee_price": Field(int, minimum=0, maximum=1_000_000, rule="an integer from 0 to 1000000"),
    "coffee_qty": Field(int, minimum=1, maximum=100, rule="an integer from 1 to 100"),
}
MAX_IDEMPOTENCY_KEY_LENGTH = 255


@bp.get("")
@bp.get("/")
def welcome():
    return Response("Welcome to ORDER Microservice!", mimetype="text/plain")


@bp.post("/<user_id>/orders")
def create_order(user_id: str):
    check_path_user_id(user_id)
    principal = authenticate()
    if principal.user_id != user_id:
        raise Problem(403, "forbidden", "Forbidden", f"Your token is for {principal.user_id!r}, not {user_id!r}.",
                      f"Place orders under your own id: POST /order-ms/{principal.user_id}/orders.")
    fields = validate(read_json_object(EXAMPLE_ORDER), ORDER_FIELDS, EXAMPLE_ORDER)
    key = _idempotency_key()
    request_hash = hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest() if key else None
    try:
        order, created = store.create_order(db_pool(), user_id, fields, key, request_hash)
    except store.IdempotencyConflict as conflict:
        raise Problem(
            409, "idempotency-key-reused", "Idempotency-Key Reused",
            f"Idempotency-Key {key!r} was already used for order {conflict.order['order_id']} with another body.",
            "Send a new Idempotency-Key for a new order, or resend exactly the first body to get that order back.",
            order_id=conflict.order["order_id"],
        ) from None
    response = jsonify(order)
    response.status_code = 201
    response.headers["Location"] = f"/order-ms/{user_id}/orders/{order['order_id']}"
    if created:
        ORDERS_CREATED.inc()
    else:
        response.headers["Idempotent-Replayed"] = "true"
    return response


def _idempotency_key() -> str | None:
    key = request.headers.get("Idempotency-Key")
    if key is None:
        return None
    key = key.strip()
    if not key or len(key) > MAX_IDEMPOTENCY_KEY_LENGTH or not key.isprintable():
        raise Problem(
            422, "validation-error", "Invalid Idempotency-Key", "Idempotency-Key must be 1-255 printable characters.",
            "Send a fresh UUID as Idempotency-Key, e.g. 'Idempotency-Key: 3f0c...'.",
            errors=[{"field": "Idempotency-Key", "message": "must be 1-255 printable characters"}],
        )
    return key


@bp.get("/<user_id>/orders")
def list_orders(user_id: str):
    check_path_user_id(user_id)
    require_self_or_staff(authenticate(), user_id)
    limit = parse_limit()
    rows = store.list_orders(db_pool(), user_id, limit, decode_cursor())
    return page_response(rows, limit, store.order_view)


@bp.get("/<user_id>/orders/<order_id>")
def get_order(user_id: str, order_id: str):
    check_path_user_id(user_id)
    require_self_or_staff(authenticate(), user_id)
    order = store.get_order(db_pool(), user_id, order_id) if len(order_id) == 36 else None
    if order is None:
        raise not_found(f"Order {order_id[:40]!r} of user {user_id!r}",
                        f"List the user's orders with GET /order-ms/{user_id}/orders to find a valid order_id.")
    return jsonify(order)
