"""The customer's cancel of an order (`POST /order-ms/<user_id>/orders/<order_id>/cancel`): accepted as a request
that delivery-ms decides (202 with where to watch it), or refused at once with a hint (409)."""
from __future__ import annotations

from flask import Blueprint, jsonify, url_for

from services.order_ms import PREFIX, cancel_store
from services.order_ms.access import own_or_staff, valid_user_id
from services.order_ms.metrics import CANCEL_REQUESTS
from services.platform import problems
from services.platform.ids import may_exist
from services.platform.web import db_pool

bp = Blueprint("cancels", __name__, url_prefix=PREFIX)


@bp.post("/<user_id>/orders/<order_id>/cancel")
@valid_user_id
@own_or_staff
def cancel_order(user_id: str, order_id: str):
    if not may_exist(order_id):
        raise _not_found(user_id, order_id)
    order_url = f"{PREFIX}/{user_id}/orders/{order_id}"
    watch_url = f"{PREFIX}/{user_id}/orders/events"
    try:
        order = cancel_store.request_cancel(db_pool(), user_id, order_id)
    except cancel_store.OrderNotFound:
        raise _not_found(user_id, order_id) from None
    except cancel_store.CancelAlreadyRequested as earlier:
        CANCEL_REQUESTS.labels("already_requested").inc()
        raise problems.conflict(
            "cancel-already-requested", "Cancel Already Requested",
            f"The cancel of order {order_id} was already requested at {earlier.cancel['requested_at']}"
            f" (outcome {earlier.cancel['outcome']}).",
            f"Watch the outcome on GET {watch_url}, or read GET {order_url}: its `cancel` says whether the order"
            " was canceled or why not.",
            order_id=order_id, cancel=earlier.cancel,
        ) from None
    except cancel_store.CancelNotAllowed as refused:
        CANCEL_REQUESTS.labels("not_allowed").inc()
        raise problems.conflict(
            "cancel-not-allowed", "Cancel Not Allowed",
            f"Order {order_id} can no longer be canceled: its delivery is {refused.status}.",
            f"An order can be canceled only while its delivery is {cancel_store.CANCELABLE_STATUS}; this one is"
            f" {refused.status} (see GET {order_url}). Ask the staff if something is wrong with it.",
            order_id=order_id, delivery_status=refused.status,
        ) from None
    CANCEL_REQUESTS.labels("accepted").inc()
    response = jsonify({**order, "watch": watch_url})
    response.status_code = 202
    # Built directly, without url_for's cost: both ids only ever hold URL-safe characters.
    response.headers["Location"] = f"{PREFIX}/{user_id}/orders/{order['order_id']}"
    return response


def _not_found(user_id: str, order_id: str) -> problems.Problem:
    """The same answer as GET of an unknown order."""
    return problems.not_found(
        f"Order {order_id[:40]!r} of user {user_id!r}",
        f"List the user's orders with GET {url_for('orders.list_orders', user_id=user_id)} to find a valid order_id.",
    )
