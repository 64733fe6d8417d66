"""delivery-ms's operations as its OpenAPI document shows them: what each route takes and answers, with the
field rules the routes themselves check (the built document is served at /delivery-ms/openapi.json)."""
from __future__ import annotations

from dataclasses import replace

from flask import Flask

from services.contracts import delivery_status_changed, order_created
from services.contracts.delivery_status_changed import DELIVERY_ID, STATUS, STATUS_NAMES
from services.contracts.identifiers import ORDER_ID
from services.delivery_ms import LOGIN_HINT, PREFIX, board_stream, deliveries
from services.platform.api_docs import DOCS_ENDPOINTS, DOCUMENT_ENDPOINT
from services.platform.fields import object_schema
from services.platform.openapi import (
    ApiInfo,
    Operation,
    Param,
    Reply,
    body_problems,
    build_document,
    cursor_param,
    database_down,
    document_operation,
    event_stream_reply,
    health_operations,
    limit_param,
    object_of,
    problem,
    ref,
    resume_params,
    stream_unavailable,
    unauthorized,
)

VERSION = "1.0.0"
INFO = ApiInfo(
    title="delivery-ms",
    version=VERSION,
    login=LOGIN_HINT,
    description=(
        "Deliveries, one per order, and their status moves: CONFIRMED → IN_DELIVERY, COMPLETED or CANCELED; "
        "IN_DELIVERY → COMPLETED or CANCELED; setting the current status again is a no-op. Staff see every "
        "delivery and move them; customers see their own orders' deliveries. Tokens come from "
        "`POST /order-ms/login`. Every error is `application/problem+json` with a `hint`."
    ),
    tags={"Deliveries": "List deliveries and move their status; each move publishes DeliveryStatusChanged.",
          "Service": "Welcome text, probes and this document."},
)
UNDOCUMENTED = set(DOCS_ENDPOINTS)

DELIVERY_ID_PARAM = Param("delivery_id", "path", DELIVERY_ID)
STATUS_FILTER = Param("status", "query", {"anyOf": [STATUS.json_schema(), {"const": ""}]},
                      "Only deliveries in this status; empty or left out for all.")
CREATED_AT = replace(delivery_status_changed.UPDATED_AT, description="When the order became this delivery.")
UPDATED_AT = replace(delivery_status_changed.UPDATED_AT, description="When the status last changed.")
STATUS_LIST = {"type": "array", "items": STATUS.json_schema(), "uniqueItems": True,
               "description": "The statuses this delivery may move to next (empty once it is final)."}
DELIVERY_SCHEMA = object_of(
    {"delivery_id": DELIVERY_ID, "order_id": ORDER_ID, "status": STATUS,
     "created_at": CREATED_AT, "updated_at": UPDATED_AT},
    {"order": {**object_of(order_created.FIELDS), "description": "The order, as order-ms published it."},
     "next_statuses": STATUS_LIST},
)
STATUS_CHANGE_SCHEMA = object_of({"delivery_id": DELIVERY_ID, "status": STATUS, "updated_at": UPDATED_AT})
MOVE_REFUSED_SCHEMA = {"allOf": [ref("Problem"), {
    "type": "object", "required": ["current_status", "allowed_next_statuses"],
    "properties": {"current_status": {"type": "string", "enum": list(STATUS_NAMES)},
                   "allowed_next_statuses": STATUS_LIST},
}]}
# One `delivery-status` event's data (board_stream.event_data): a delivery's creation or status change.
DELIVERY_STATUS_EVENT_SCHEMA = object_of(
    {"delivery_id": DELIVERY_ID, "order_id": ORDER_ID, "status": STATUS, "version": delivery_status_changed.VERSION},
    {"user_id": {"type": "string", "description": "The customer who ordered."},
     "previous_status": {"anyOf": [STATUS.json_schema(), {"type": "null"}],
                         "description": "null when the delivery was created."},
     "updated_at": UPDATED_AT.json_schema()},
)
SCHEMAS = {"Delivery": DELIVERY_SCHEMA, "StatusChange": STATUS_CHANGE_SCHEMA, "MoveRefused": MOVE_REFUSED_SCHEMA,
           "DeliveryStatusEvent": DELIVERY_STATUS_EVENT_SCHEMA}


def operations() -> list[Operation]:
    welcome = Reply(200, "The welcome text.", {"type": "string", "enum": ["Welcome to DELIVERY Microservice!"]},
                    content_type="text/plain")
    move_refused = Reply(409, "The move is not allowed from the current status (the hint lists the allowed ones).",
                         ref("MoveRefused"), content_type="application/problem+json")
    return [
        Operation("deliveries.welcome", "GET", "welcome", "Welcome text", "Service", secured=False, replies=(welcome,)),
        *health_operations(PREFIX, "Service"),
        document_operation(DOCUMENT_ENDPOINT, "Service"),
        Operation(
            "deliveries.list_deliveries", "GET", "listDeliveries", "List deliveries, newest first", "Deliveries",
            parameters=(STATUS_FILTER, limit_param(), cursor_param()),
            replies=(Reply(200, "One page of deliveries.", {"type": "array", "items": ref("Delivery")},
                           headers=("Link",)),
                     unauthorized(), problem(422, "The status, limit or cursor is not allowed."), database_down()),
        ),
        Operation(
            "deliveries.get_delivery", "GET", "getDelivery", "One delivery", "Deliveries",
            parameters=(DELIVERY_ID_PARAM,),
            replies=(Reply(200, "The delivery.", ref("Delivery")), unauthorized(),
                     problem(404, "No delivery with this id that you may see."), database_down()),
        ),
        Operation(
            "deliveries.change_status", "PUT", "changeStatus", "Move a delivery to another status (staff)",
            "Deliveries", parameters=(DELIVERY_ID_PARAM,),
            body=object_schema(deliveries.STATUS_FIELDS), body_example=deliveries.EXAMPLE_STATUS,
            description="Answers 200 with the new status; setting the current status again changes nothing. "
                        "`PUT /delivery-ms/deliveries/{delivery_id}` is the same operation under its older path.",
            replies=(Reply(200, "The delivery's status now.", ref("StatusChange")),
                     unauthorized(), problem(403, "Only staff may change statuses."),
                     problem(404, "No delivery has this id."), move_refused, *body_problems(),
                     database_down()),
        ),
    ]


def stream_operations() -> list[Operation]:
    """The staff board's live stream, served by the delivery-ms stream process (create_stream_app)."""
    return [Operation(
        "board_stream.delivery_events", "GET", "streamDeliveryEvents", "Follow every delivery live (staff)",
        "Deliveries", parameters=resume_params(),
        description="A `text/event-stream` that never ends: `retry: 2000` first, then a `delivery-status` event for"
                    " every delivery created or moved, and a `: keep-alive` comment every STREAM_HEARTBEAT_SECONDS"
                    " (15) while nothing happens. Each event's `id` is its change's; a client reconnecting with"
                    " Last-Event-ID gets every change after it, then the live ones. Without one the stream starts"
                    " now.",
        replies=(event_stream_reply("The stream of delivery changes.", board_stream.EVENT,
                                    ref("DeliveryStatusEvent")),
                 unauthorized(), problem(403, "Only staff may follow the board."),
                 problem(422, "The Last-Event-ID is not allowed."), stream_unavailable()),
    )]


def build(app: Flask) -> dict:
    return build_document(app, PREFIX, INFO, [*operations(), *stream_operations()], UNDOCUMENTED, SCHEMAS,
                          elsewhere=(stream_routes(),))


def stream_routes() -> Flask:
    """The stream process's routes (not served by this app's sync workers), for the document."""
    routes = Flask(__name__)
    routes.register_blueprint(board_stream.bp)
    return routes
