"""Delivery routes: the welcome text, lists newest first with a status filter and cursor, detail, and status changes."""
from __future__ import annotations

from flask import Blueprint, Response, jsonify, request, url_for
from prometheus_client import Counter

from services.contracts.delivery_status_changed import STATUS
from services.delivery_ms import store
from services.delivery_ms.access import staff_only, visible_owner
from services.delivery_ms.statuses import STATUS_NAMES, MoveNotAllowed, next_statuses
from services.platform import problems
from services.platform.auth import signed_in
from services.platform.ids import may_exist
from services.platform.paging import decode_cursor, page_response
from services.platform.validation import parse_limit, read_body
from services.platform.web import db_pool

bp = Blueprint("deliveries", __name__, url_prefix="/delivery-ms")

STATUS_CHANGES = Counter("delivery_status_changes_total", "Delivery status changes made (no-ops not counted).",
                         ["from_status", "to_status"])
# Every allowed move starts at 0, so rate() sees the very first change too.
for _from in STATUS_NAMES:
    for _to in next_statuses(_from):
        STATUS_CHANGES.labels(_from, _to.value)

VALID_STATUSES = ", ".join(STATUS_NAMES)
EXAMPLE_STATUS = {"status": "COMPLETED"}
STATUS_FIELDS = {"status": STATUS}


@bp.get("")
@bp.get("/")
def welcome():
    return Response("Welcome to DELIVERY Microservice!", mimetype="text/plain")


def _not_found(delivery_id: str) -> problems.Problem:
    return problems.not_found(
        f"Delivery {delivery_id[:40]!r}",
        f"List the deliveries you may see with GET {url_for('deliveries.list_deliveries')}"
        " to find a valid delivery_id.",
    )


def _status_filter() -> str | None:
    raw = request.args.get("status")
    # An empty value is what a form sends for "any status".
    if raw is None or raw == "":
        return None
    if raw not in STATUS_NAMES:
        raise problems.invalid_parameter(
            "status", f"must be one of {VALID_STATUSES}", f"status={raw[:30]!r} is not a delivery status.",
            f"Use one of {VALID_STATUSES}, for example ?status=CONFIRMED, or leave status out for all.",
        )
    return raw


@bp.get("/deliveries")
@signed_in
def list_deliveries():
    status = _status_filter()
    limit = parse_limit()
    rows = store.list_deliveries(db_pool(), visible_owner(), status, limit, decode_cursor())
    return page_response(rows, limit, store.delivery_view)


@bp.get("/deliveries/<delivery_id>")
@signed_in
def get_delivery(delivery_id: str):
    delivery = store.get_delivery(db_pool(), delivery_id, visible_owner()) if may_exist(delivery_id) else None
    if delivery is None:
        raise _not_found(delivery_id)
    return jsonify(delivery)


@bp.put("/deliveries/<delivery_id>/status")
@bp.put("/deliveries/<delivery_id>")
@staff_only
def change_status(delivery_id: str):
    wanted = read_body(STATUS_FIELDS, EXAMPLE_STATUS)["status"]
    if not may_exist(delivery_id):
        raise _not_found(delivery_id)
    try:
        result, previous = store.change_status(db_pool(), delivery_id, wanted)
    except store.DeliveryNotFound:
        raise _not_found(delivery_id) from None
    except MoveNotAllowed as refused:
        raise _move_refused(refused) from None
    if previous != wanted:
        STATUS_CHANGES.labels(previous, wanted).inc()
    return jsonify(result)


def _move_refused(refused: MoveNotAllowed) -> problems.Problem:
    allowed = [status.value for status in refused.allowed]
    if allowed:
        hint = f"From {refused.current} the allowed next statuses are {', '.join(allowed)}."
    else:
        hint = f"{refused.current} is final: no further status change is allowed."
    return problems.conflict(
        "status-move-not-allowed", "Status Change Not Allowed",
        f"The delivery is {refused.current} and cannot move to {refused.wanted}.", hint,
        current_status=refused.current, allowed_next_statuses=allowed,
    )
