"""Order routes: create (with an optional Idempotency-Key), list newest first with a cursor, and detail; every
order view carries its delivery and cancel request as the read model knows them."""
from __future__ import annotations

import hashlib
import json

from flask import Blueprint, Response, jsonify, request, url_for

from services.contracts import order_created
from services.order_ms import read_model, store
from services.order_ms.access import own_only, own_or_staff, valid_user_id
from services.order_ms.metrics import ORDERS_CREATED
from services.platform import problems
from services.platform.fields import Field
from services.platform.ids import may_exist
from services.platform.paging import decode_cursor, page_response
from services.platform.validation import parse_limit, read_body
from services.platform.web import db_pool

bp = Blueprint("orders", __name__, url_prefix="/order-ms")

EXAMPLE_ORDER = {"coffee_name": "jslee", "coffee_price": 2000, "coffee_qty": 6}
# What a customer sends: the order event's own rules, so no accepted order can break the contract.
ORDER_FIELDS = {name: order_created.FIELDS[name] for name in EXAMPLE_ORDER}
MAX_IDEMPOTENCY_KEY_LENGTH = 255
# Visible ASCII with inner spaces: what survives every HTTP hop unchanged (a UUID is the usual key).
IDEMPOTENCY_KEY = Field(str, min_length=1, max_length=MAX_IDEMPOTENCY_KEY_LENGTH, pattern=r"[!-~]+(?: +[!-~]+)*",
                        rule="1-255 printable characters", example="3f0c9a52-6d1e-4b8f-9a0e-2b7c5d4e1f60")


@bp.get("")
@bp.get("/")
def welcome():
    return Response("Welcome to ORDER Microservice!", mimetype="text/plain")


@bp.post("/<user_id>/orders")
@valid_user_id
@own_only
def create_order(user_id: str):
    fields = read_body(ORDER_FIELDS, EXAMPLE_ORDER)
    key = _idempotency_key()
    request_hash = hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest() if key else None
    try:
        order, created = store.create_order(db_pool(), user_id, fields, key, request_hash)
    except store.IdempotencyConflict as conflict:
        raise problems.conflict(
            "idempotency-key-reused", "Idempotency-Key Reused",
            f"Idempotency-Key {key!r} was already used for order {conflict.order['order_id']} with another body.",
            "Send a new Idempotency-Key for a new order, or resend exactly the first body to get that order back.",
            order_id=conflict.order["order_id"],
        ) from None
    # A new order has no delivery or cancel yet; a replayed one may have both.
    order = {**order, "delivery": None, "cancel": None} if created else read_model.with_delivery_and_cancel(
        db_pool(), [order])[0]
    response = jsonify(order)
    response.status_code = 201
    # Built directly, without url_for's cost: both ids only ever hold URL-safe characters.
    response.headers["Location"] = f"{bp.url_prefix}/{user_id}/orders/{order['order_id']}"
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
    if IDEMPOTENCY_KEY.check(key) is not None:
        raise problems.invalid_body(
            "Idempotency-Key must be 1-255 printable characters.",
            "Send a fresh UUID as Idempotency-Key, e.g. 'Idempotency-Key: 3f0c...'.",
            [{"field": "Idempotency-Key", "message": "must be 1-255 printable characters"}],
            title="Invalid Idempotency-Key",
        )
    return key


@bp.get("/<user_id>/orders")
@valid_user_id
@own_or_staff
def list_orders(user_id: str):
    limit = parse_limit()
    pool = db_pool()
    rows = store.list_orders(pool, user_id, limit, decode_cursor())
    # The whole page's deliveries and cancels in one more query, not one per order.
    views = read_model.with_delivery_and_cancel(pool, [store.order_view(row) for row in rows])
    by_order_id = {view["order_id"]: view for view in views}
    return page_response(rows, limit, lambda row: by_order_id[row["order_id"]])


@bp.get("/<user_id>/orders/<order_id>")
@valid_user_id
@own_or_staff
def get_order(user_id: str, order_id: str):
    pool = db_pool()
    order = store.get_order(pool, user_id, order_id) if may_exist(order_id) else None
    if order is None:
        raise problems.not_found(
            f"Order {order_id[:40]!r} of user {user_id!r}",
            f"List the user's orders with GET {url_for('orders.list_orders', user_id=user_id)}"
            " to find a valid order_id.",
        )
    return jsonify(read_model.with_delivery_and_cancel(pool, [order])[0])
