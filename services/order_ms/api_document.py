"""order-ms's operations as its OpenAPI document shows them: what each route takes and answers, with the
field rules the routes themselves check (the built document is served at /order-ms/openapi.json)."""
from __future__ import annotations

from dataclasses import replace

from flask import Flask

from services.contracts import delivery_status_changed, order_cancel_refused, order_created
from services.contracts.identifiers import ORDER_ID, TIMESTAMP, USER_ID
from services.order_ms import LOGIN_HINT, PREFIX, accounts, device_tokens, orders, status_stream
from services.order_ms.read_model import CANCEL_OUTCOMES
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
    role_schema,
    stream_unavailable,
    unauthorized,
)

VERSION = "1.0.0"
INFO = ApiInfo(
    title="order-ms",
    version=VERSION,
    login=LOGIN_HINT,
    description=(
        "Accounts, login and coffee orders. Log in with `POST /order-ms/login`, then send the access_token as "
        "`Authorization: Bearer <token>` (the Authorize button). Every error is `application/problem+json` with "
        "a `hint`; validation errors list each refused field in `errors`. Times are ISO-8601 UTC with microseconds."
    ),
    tags={"Accounts": "Sign up, log in for a bearer token, log out, delete your account.",
          "Orders": "Place coffee orders, read them back, each with its delivery's status as order-ms last heard"
                    " of it, and cancel them while they wait; each order becomes one delivery.",
          "Service": "Welcome text, probes and this document."},
)
# The web UI's pages and files, and the docs pages: for people in a browser, not operations of the API.
UNDOCUMENTED = {"ui.ui_root", "ui.index", "ui.static_file", *DOCS_ENDPOINTS}

USER_ID_PARAM = Param("user_id", "path", USER_ID, "The customer's user id (customers use their own).")
ACCOUNT_ID = replace(USER_ID, description="The account's user id.")
CREATED_AT = replace(order_created.ORDERED_AT, description="When the account was created.")
TOKEN_SCHEMA = {
    "type": "object",
    "properties": {
        "access_token": {"type": "string", "description": "A JWT for 'Authorization: Bearer <token>'."},
        "token_type": {"type": "string", "enum": ["Bearer"]},
        "expires_in": {"type": "integer", "minimum": 1, "description": "Seconds until the token expires."},
        "user_id": ACCOUNT_ID.json_schema(),
        "role": role_schema(),
    },
    "required": ["access_token", "token_type", "expires_in", "user_id", "role"],
    "additionalProperties": False,
}
USER_SCHEMA = object_of({"user_id": ACCOUNT_ID, "created_at": CREATED_AT}, {"role": role_schema()})
DELIVERY_SCHEMA = {
    **object_of({"delivery_id": delivery_status_changed.DELIVERY_ID, "status": delivery_status_changed.STATUS,
                 "updated_at": replace(delivery_status_changed.UPDATED_AT,
                                       description="When its status last changed.")}),
    "description": "The order's delivery as order-ms last heard of it on delivery_status; null until the first event.",
}
CANCEL_SCHEMA = {
    **object_of({}, {
        "outcome": {"type": "string", "enum": list(CANCEL_OUTCOMES),
                    "description": "PENDING until delivery-ms answers; CANCELED or REFUSED then."},
        "requested_at": replace(TIMESTAMP, description="When the customer asked to cancel.",
                                example="2026-11-28T15:06:00.120000Z").json_schema(),
        "reason": {"type": ["string", "null"], "maxLength": order_cancel_refused.REASON.max_length,
                   "description": "Why delivery-ms refused (REFUSED only), else null."},
        "decided_at": {"type": ["string", "null"], "pattern": TIMESTAMP.json_schema()["pattern"],
                       "description": "When delivery-ms decided; null while PENDING."}}),
    "description": "The customer's cancel request and its outcome; null when never requested.",
}
# The order as placed (the OrderCreated event's fields, in that order), then what order-ms knows of its delivery
# and cancel request: they follow the delivery, so two reads may differ there and only there.
ORDER_SCHEMA = object_of(order_created.FIELDS, {"delivery": {"oneOf": [ref("Delivery"), {"type": "null"}]},
                                                "cancel": {"oneOf": [ref("Cancel"), {"type": "null"}]}})
KEY_SET_SCHEMA = {
    "type": "object",
    "properties": {"keys": {"type": "array", "items": {
        "type": "object",
        "properties": {"kty": {"type": "string", "enum": ["OKP"]}, "crv": {"type": "string", "enum": ["Ed25519"]},
                       "x": {"type": "string"}, "kid": {"type": "string"},
                       "alg": {"type": "string", "enum": ["EdDSA"]}, "use": {"type": "string", "enum": ["sig"]}},
        "required": ["kty", "crv", "x", "kid", "alg", "use"],
        "additionalProperties": False}}},
    "required": ["keys"],
    "additionalProperties": False,
}
DEVICE_TOKEN_SCHEMA = {"type": "string", "pattern": f"^{device_tokens.TOKEN.pattern}$"}
HEADERS = {
    device_tokens.HEADER: {
        "description": "This client's device token: send it back as the Device-Token header (or the device_token"
                       " cookie, which browsers keep) on later logins, and strangers' failures from your address"
                       " never hold your login up.",
        "required": True, "schema": DEVICE_TOKEN_SCHEMA},
    "Set-Cookie": {"description": "The same device token as an HttpOnly `device_token` cookie for /order-ms/login.",
                   "required": True, "schema": {"type": "string", "pattern": "^device_token="}},
}
# The 202 of a cancel request: the order as GET shows it (its cancel PENDING), and where the outcome appears.
CANCEL_ACCEPTED_SCHEMA = object_of(order_created.FIELDS, {
    "delivery": ORDER_SCHEMA["properties"]["delivery"],
    "cancel": ORDER_SCHEMA["properties"]["cancel"],
    "watch": {"type": "string", "description": "The customer's live stream of their orders' changes, where the "
                                               "outcome appears.", "examples": ["/order-ms/USER0001/orders/events"]},
})
def _or_null(schema: dict, description: str) -> dict:
    return {"anyOf": [schema, {"type": "null"}], "description": description}


# One `order-status` event's data (status_stream.event_data).
ORDER_STATUS_EVENT_SCHEMA = {
    "type": "object", "additionalProperties": False,
    "required": ["order_id", "delivery_id", "status", "updated_at", "cancel"],
    "properties": {
        "order_id": ORDER_ID.json_schema(),
        "delivery_id": _or_null(delivery_status_changed.DELIVERY_ID.json_schema(),
                                "The order's delivery; null for a cancel request made before it was known."),
        "status": _or_null(delivery_status_changed.STATUS.json_schema(),
                           "The delivery's status; null for a cancel request made before it was known."),
        "updated_at": replace(delivery_status_changed.UPDATED_AT, description="When it changed.").json_schema(),
        "cancel": _or_null({"type": "object", "additionalProperties": False, "required": ["outcome", "reason"],
                            "properties": {"outcome": {"type": "string", "enum": list(CANCEL_OUTCOMES)},
                                           "reason": {"type": ["string", "null"]}}},
                           "null for a delivery status change; the cancel request's outcome for a cancel change."),
    },
}
SCHEMAS = {"Cancel": CANCEL_SCHEMA, "CancelAccepted": CANCEL_ACCEPTED_SCHEMA, "Delivery": DELIVERY_SCHEMA,
           "KeySet": KEY_SET_SCHEMA, "Order": ORDER_SCHEMA,
           "Token": TOKEN_SCHEMA, "User": USER_SCHEMA, "OrderStatusEvent": ORDER_STATUS_EVENT_SCHEMA}


def operations() -> list[Operation]:
    welcome = Reply(200, "The welcome text.", {"type": "string", "enum": ["Welcome to ORDER Microservice!"]},
                    content_type="text/plain")
    refused = problem(403, "The token is for another user.")
    return [
        Operation("orders.welcome", "GET", "welcome", "Welcome text", "Service", secured=False, replies=(welcome,)),
        *health_operations(PREFIX, "Service"),
        document_operation(DOCUMENT_ENDPOINT, "Service"),
        Operation(
            "token_keys.jwks", "GET", "tokenKeys", "The public keys that verify access tokens (JWKS)", "Service",
            secured=False,
            description="Every key a verifier accepts (RFC 7517, Ed25519 keys of RFC 8037), named by the `kid` in "
                        "a token's header. A key to be signed with next is published here before it is used.",
            replies=(Reply(200, "The key set.", ref("KeySet")),)),
        Operation(
            "accounts.sign_up", "POST", "signUp", "Sign up as a customer", "Accounts", secured=False,
            body=object_schema(accounts.SIGNUP_FIELDS), body_example=accounts.EXAMPLE_CREDENTIALS,
            description="user_id may not be one of the service's own path names"
                        f" ({', '.join(sorted(accounts.RESERVED_USER_IDS))}). Each client address may sign up"
                        " SIGNUP_MAX_PER_CLIENT accounts (20, or its network's limit in SIGNUP_NETWORK_LIMITS) in"
                        " SIGNUP_WINDOW_SECONDS (600), and all addresses together SIGNUP_MAX_TOTAL (1000); past"
                        " either, 429.",
            replies=(Reply(201, "The account was created.", ref("User")),
                     problem(409, "The user_id is taken."),
                     problem(429, "Too many sign-ups from this client address; retry after Retry-After seconds.",
                             headers=("Retry-After",)),
                     *body_problems(), database_down()),
        ),
        Operation(
            "accounts.login", "POST", "login", "Log in for a bearer token", "Accounts", secured=False,
            # Any value is taken: one that is not a live token of this service is ignored, never refused.
            parameters=(Param(device_tokens.HEADER, "header", {"type": "string"},
                              "The device token an earlier login of this account answered, `dt1.` and 43"
                              " base64url characters (browsers send the device_token cookie instead)."),),
            body=object_schema(accounts.LOGIN_FIELDS), body_example=accounts.EXAMPLE_CREDENTIALS,
            description="Logins, successful ones included, are limited per client address (LOGIN_MAX_PER_CLIENT, 60)"
                        " and per account (LOGIN_MAX_PER_ACCOUNT, 20) in LOGIN_RATE_WINDOW_SECONDS (60); too many"
                        " failed logins for one user id, or from one client address, lock login for a while. A login"
                        " that sends the device token of an earlier login of the account meets only that device's"
                        " limits (LOGIN_MAX_FAILURES failures, LOGIN_MAX_PER_DEVICE logins). Each is a 429.",
            replies=(Reply(200, "The access token, and this client's device token.", ref("Token"),
                           headers=(device_tokens.HEADER, "Set-Cookie")),
                     problem(401, "The user id or the password is wrong."),
                     problem(429, "Too many logins, or locked after too many failed logins.",
                             headers=("Retry-After",)),
                     *body_problems(), database_down()),
        ),
        Operation(
            "accounts.logout", "POST", "logout", "Log out everywhere: revoke every token of the account", "Accounts",
            description="Revokes every token the caller's account holds, on every device, not only the one sent: "
                        "order-ms refuses them within TOKEN_VERSION_CACHE_SECONDS (2), delivery-ms as soon as the "
                        "account's `account_versions` event has reached it (seconds). Log in again for a new token.",
            replies=(Reply(204, "Logged out: every earlier token of the account is revoked."), unauthorized(),
                     database_down()),
        ),
        Operation(
            "accounts.delete_account", "DELETE", "deleteAccount", "Delete your own account", "Accounts",
            parameters=(Param("user_id", "path", USER_ID, "Your own user id."),),
            description="Only the account itself (an operator deletes others with `python -m "
                        "services.order_ms.staff delete --user-id ID`). Every token of the account is revoked as by "
                        "a logout, its password is removed and it can no longer log in; its orders stay, and its "
                        "user id is never signed up again.",
            replies=(Reply(204, "Deleted: the account's tokens are revoked."), unauthorized(),
                     problem(403, "The token is for another account."),
                     problem(422, "The user_id is not allowed."), database_down()),
        ),
        Operation(
            "orders.create_order", "POST", "createOrder", "Place an order", "Orders",
            parameters=(USER_ID_PARAM, Param("Idempotency-Key", "header", orders.IDEMPOTENCY_KEY,
                                             "Send the same key again after a failure to get the first order back.")),
            body=object_schema(orders.ORDER_FIELDS), body_example=orders.EXAMPLE_ORDER,
            description="Only in your own name, staff included. The order's OrderCreated event goes to `new_orders`.",
            replies=(Reply(201, "The order (again, with Idempotent-Replayed, for a known Idempotency-Key).",
                           ref("Order"), headers=("Location", "Idempotent-Replayed")),
                     unauthorized(), refused,
                     problem(409, "The Idempotency-Key was used before with another body."),
                     *body_problems(), database_down()),
        ),
        Operation(
            "orders.list_orders", "GET", "listOrders", "List a user's orders, newest first", "Orders",
            parameters=(USER_ID_PARAM, limit_param(), cursor_param()),
            description="Customers list their own orders; staff anyone's.",
            replies=(Reply(200, "One page of orders.", {"type": "array", "items": ref("Order")}, headers=("Link",)),
                     unauthorized(), refused,
                     problem(422, "The user_id, limit or cursor is not allowed."), database_down()),
        ),
        Operation(
            "orders.get_order", "GET", "getOrder", "One order", "Orders",
            parameters=(USER_ID_PARAM, Param("order_id", "path", ORDER_ID)),
            replies=(Reply(200, "The order.", ref("Order")), unauthorized(), refused,
                     problem(404, "The user has no order with this id."),
                     problem(422, "The user_id is not allowed."), database_down()),
        ),
        Operation(
            "cancels.cancel_order", "POST", "cancelOrder", "Ask to cancel an order", "Orders",
            parameters=(USER_ID_PARAM, Param("order_id", "path", ORDER_ID)),
            description="No body. Customers cancel their own orders, staff anyone's, while the delivery is CONFIRMED"
                        " or not yet known. The request is recorded PENDING and sent to delivery-ms"
                        " (OrderCancelRequested on `new_orders`), which cancels the delivery or refuses because it"
                        " has moved on; the order's `cancel` then says CANCELED or REFUSED with the reason. One"
                        " request per order.",
            replies=(Reply(202, "Accepted: the order with its `cancel` PENDING, and in `watch` the stream that shows "
                                "the outcome. Location is the order.", ref("CancelAccepted"), headers=("Location",)),
                     unauthorized(), refused,
                     problem(404, "The user has no order with this id."),
                     problem(409, "A cancel was requested before (`cancel-already-requested`, with that request in "
                                  "`cancel`), or the delivery has moved past CONFIRMED (`cancel-not-allowed`, with "
                                  "its `delivery_status`)."),
                     problem(422, "The user_id is not allowed."), database_down()),
        ),
    ]


def stream_operations() -> list[Operation]:
    """The customer's live stream, served by the order-ms stream process (create_stream_app)."""
    refused = problem(403, "A customer may open only their own stream.")
    return [Operation(
        "status_stream.order_events", "GET", "streamOrderEvents", "Follow a user's orders live (server-sent events)",
        "Orders", parameters=(USER_ID_PARAM, *resume_params()),
        description="A `text/event-stream` that never ends: `retry: 2000` first, then an `order-status` event for"
                    " every change of the user's orders (delivery status, cancel request and outcome), and a"
                    " `: keep-alive` comment every STREAM_HEARTBEAT_SECONDS (15) while nothing happens. Each event's"
                    " `id` is its change's; a client reconnecting with Last-Event-ID gets every change after it"
                    " (also across restarts), then the live ones. Without one the stream starts now. Customers"
                    " follow their own orders; staff anyone's.",
        replies=(event_stream_reply("The stream of the user's order changes.", status_stream.EVENT,
                                    ref("OrderStatusEvent")),
                 unauthorized(), refused, problem(404, "No user has this user id (staff asking)."),
                 problem(422, "The user_id or the Last-Event-ID is not allowed."), stream_unavailable()),
    )]


def build(app: Flask) -> dict:
    return build_document(app, PREFIX, INFO, [*operations(), *stream_operations()], UNDOCUMENTED, SCHEMAS,
                          HEADERS, elsewhere=(stream_routes(),))


def stream_routes() -> Flask:
    """The stream process's routes (not served by this app's sync workers), for the document."""
    routes = Flask(__name__)
    routes.register_blueprint(status_stream.bp)
    return routes
