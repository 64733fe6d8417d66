"""The staff board's live stream: `GET /delivery-ms/deliveries/events`, every creation and status change of a
delivery (the `delivery_changes` log) as `delivery-status` events, served by the delivery-ms stream process
(`create_stream_app`), never by the API's sync workers."""
from __future__ import annotations

from flask import Blueprint

from services.delivery_ms.access import staff_only
from services.platform.streams import ChangeLog, stream_response
from services.platform.timefmt import iso_utc

bp = Blueprint("board_stream", __name__, url_prefix="/delivery-ms")

EVENT = "delivery-status"
FIELDS = ("delivery_id", "order_id", "user_id", "status", "previous_status", "version", "updated_at")


def event_data(row: dict) -> dict:
    return {**{name: row[name] for name in FIELDS}, "updated_at": iso_utc(row["updated_at"])}


DELIVERY_CHANGES_LOG = ChangeLog(EVENT, "delivery_changes", FIELDS, scope_column="user_id", data_of=event_data)


@bp.get("/deliveries/events")
@staff_only
def delivery_events():
    return stream_response(None)
