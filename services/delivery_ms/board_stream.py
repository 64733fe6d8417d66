"""The staff board's live stream: `GET /delivery-ms/deliveries/events`, every creation and status change of a
delivery as `delivery-status` events, served by the delivery-ms stream process (`create_stream_app`), never by the
API's sync workers. It reads the delivery outbox (through the `delivery_board_changes` view, which adds each
delivery's customer): the DeliveryStatusChanged events published for the changes are the board's events, so a
change is written once, not once for Kafka and once for the board."""
from __future__ import annotations

import json

from flask import Blueprint

from services.contracts import delivery_status_changed
from services.contracts.envelope import HEADER_EVENT_TYPE
from services.delivery_ms.access import staff_only
from services.platform.streams import ChangeLog, stream_response
from services.platform.tracing import TRACEPARENT

bp = Blueprint("board_stream", __name__, url_prefix="/delivery-ms")

EVENT = "delivery-status"
FIELDS = ("delivery_id", "order_id", "user_id", "status", "previous_status", "version", "updated_at")


def is_status_change(row: dict) -> bool:
    """An outbox row of a DeliveryStatusChanged (a row without an event type is one too, as on the topic); the
    outbox also holds OrderCancelRefused events, which the board does not show."""
    event_type = dict(json.loads(row["headers"])).get(HEADER_EVENT_TYPE, delivery_status_changed.EVENT_TYPE)
    return event_type == delivery_status_changed.EVENT_TYPE


def trace_of(row: dict) -> str | None:
    """The trace the change was made in: the outbox row keeps it among the headers it is published with."""
    return dict(json.loads(row["headers"])).get(TRACEPARENT)


def event_data(row: dict) -> dict:
    """The event as published, with the delivery's customer; the outbox wrote its payload in the contract's shape."""
    change = json.loads(row["payload"])
    return {name: row["user_id"] if name == "user_id" else change.get(name) for name in FIELDS}


DELIVERY_CHANGES_LOG = ChangeLog(EVENT, "delivery_board_changes", ("headers", "payload", "user_id"),
                                 scope_column="user_id", data_of=event_data, shows=is_status_change,
                                 trace_of=trace_of)


@bp.get("/deliveries/events")
@staff_only
def delivery_events():
    return stream_response(None)
