"""The customer's live stream: `GET /order-ms/<user_id>/orders/events`, every change of their orders' delivery
status and cancel requests (the `order_status_changes` log) as `order-status` events, served by the order-ms
stream process (`create_stream_app`), never by the API's sync workers."""
from __future__ import annotations

from flask import Blueprint, url_for

from services.order_ms import store
from services.order_ms.access import own_or_staff, valid_user_id
from services.platform import problems
from services.platform.streams import ChangeLog, off_loop, stream_response
from services.platform.timefmt import iso_utc
from services.platform.web import db_pool

bp = Blueprint("status_stream", __name__, url_prefix="/order-ms")

EVENT = "order-status"


def event_data(row: dict) -> dict:
    """A change as the stream shows it: a DELIVERY change has no cancel part; a CANCEL change shows the
    delivery's status as known when the request was made or decided."""
    cancel = None if row["kind"] == "DELIVERY" else {"outcome": row["cancel_outcome"], "reason": row["reason"]}
    return {"order_id": row["order_id"], "delivery_id": row["delivery_id"], "status": row["status"],
            "updated_at": iso_utc(row["updated_at"]), "cancel": cancel}


ORDER_STATUS_LOG = ChangeLog(
    EVENT, "order_status_changes",
    ("user_id", "order_id", "kind", "delivery_id", "status", "cancel_outcome", "reason", "updated_at"),
    scope_column="user_id", data_of=event_data)


@bp.get("/<user_id>/orders/events")
@valid_user_id
@own_or_staff
def order_events(user_id: str):
    # Customers only reach their own id (own_or_staff); staff may name a user who does not exist.
    if off_loop(store.get_user, db_pool(), user_id) is None:
        raise problems.not_found(
            f"User {user_id!r}",
            "Check the user id: it is the one the customer signed up with, as in their orders' URLs "
            f"({url_for('status_stream.order_events', user_id='USER0001')} for USER0001).")
    return stream_response(user_id)
