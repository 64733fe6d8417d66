"""Delivery routes: the welcome text, lists newest first with a status filter and cursor, detail, and status changes."""
from __future__ import annotations

from flask import Blueprint, Response, jsonify, request
from prometheus_client import Counter

from services.common.auth import Principal, authenticate, require_staff
from services.common.paging import decode_cursor, page_response
from services.common.problems import Problem, not_found
from services.common.validation import Field, parse_limit, read_json_object, validate
from services.common.web import db_pool
from services.delivery_ms import store
from services.delivery_ms.statuses import STATUS_NAMES, next_statuses

bp = Blueprint("deliveries", __name__, url_prefix="/delivery-ms")

STATUS_CHANGES = Counter("delivery_status_changes_total", "Delivery status changes made (no-ops not counted).",
                         ["from_status", "to_status"])
# Every allowed move starts at 0, so rate() sees the very first change too.
for _from in STATUS_NAMES:
    for _to in next_statuses(_from):
        STATUS_CHANGES.labels(_from, _to.value)

VALID_STATUSES = ", ".join(STATUS_NAMES)
EXAMPLE_STATUS = {"status": "COMPLETED"}
STATUS_FIELDS = {"status": Field(str, choices=STATUS_NAMES, rule=f"one of {VALID_STATUSES}")}
# A delivery_id is a UUID: anything of another length cannot exist, so it is 404 without a query.
DELIVERY_ID_LENGTH = 36
LIST_HINT = "List the deliveries you may see with GET /delivery-ms/deliveries to find a valid delivery_id."


@bp.get("")
@bp.get("/")
def welcome():
    return Response("Welcome to DELIVERY Microservice!", mimetype="text/plain")


def _owner(principal: Principal) -> str | None:
    """Whose deliveries the caller may see: staff see all, customers only their own orders' deliveries."""
    return None if principal.is_staff else principal.user_id


def _status_filter() -> str | None:
    raw = request.args.get("status")
    # An empty value is what a form sends for "any status".
    if raw is None or raw == "":
        return None
    if raw not in STATUS_NAMES:
        raise Problem(
            422, "validation-error", "Invalid Query Parameter", f"status={raw[:30]!r} is not a delivery status.",
            f"Use one of {VALID_STATUSES}, for example ?status=CONFIRMED, or leave status out for all.",
            errors=[{"field": "status", "message": f"must be one of {VALID_STATUSES}"}],
        )
    return raw


@bp.get("/deliveries")
def list_deliveries():
    owner = _owner(authenticate())
    status = _status_filter()
    limit = parse_limit()
    rows = store.list_deliveries(db_pool(), owner, status, limit, decode_cursor())
    return page_response(rows, limit, store.delivery_view)


@bp.get("/deliveries/<delivery_id>")
def get_delivery(delivery_id: str):
    owner = _owner(authenticate())
    delivery = store.get_delivery(db_pool(), delivery_id, owner) if len(delivery_id) == DELIVERY_ID_LENGTH else None
    if delivery is None:
        raise not_found(f"Delivery {delivery_id[:40]!r}", LIST_HINT)
    return jsonify(delivery)


@bp.put("/deliveries/<delivery_id>/status")
@bp.put("/deliveries/<delivery_id>")
def change_status(delivery_id: str):
    principal = authenticate()
    require_staff(principal)
    wanted = validate(read_json_object(EXAMPLE_STATUS), STATUS_FIELDS, EXAMPLE_STATUS)["status"]
    if len(delivery_id) != DELIVERY_ID_LENGTH:
        raise not_found(f"Delivery {delivery_id[:40]!r}", LIST_HINT)
    try:
        result, previous = store.change_status(db_pool(), delivery_id, wanted)
    except store.DeliveryNotFound:
        raise not_found(f"Delivery {delivery_id[:40]!r}", LIST_HINT) from None
    except store.MoveNotAllowed as refused:
        raise _move_refused(refused) from None
    if previous != wanted:
        STATUS_CHANGES.labels(previous, wanted).inc()
    return jsonify(result)


def _move_refused(refused: store.MoveNotAllowed) -> Problem:
    allowed = [status.value for status in refused.allowed]
    if allowed:
        hint = f"From {refused.current} the allowed next statuses are {', '.join(allowed)}."
    else:
        hint = f"{refused.current} is final: no further status change is allowed."
    return Problem(
        409, "status-move-not-allowed", "Status Change Not Allowed",
        f"The delivery is {refused.current} and cannot move to {refused.wanted}.", hint,
        current_status=refused.current, allowed_next_statuses=allowed,
    )
