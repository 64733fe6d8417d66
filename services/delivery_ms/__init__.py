"""delivery-ms: lists deliveries and moves their status, each change written with its outbox event (app
factory); its consumer (`services.delivery_ms.consumer`) turns new orders into deliveries."""
from __future__ import annotations

from flask import Flask

from services.contracts.edge import BODY_TOO_LARGE_HINT, UNKNOWN_ROUTE_HINT
from services.delivery_ms.settings import DeliverySettings, get_settings
from services.platform.metrics import ScrapeGauge, add_scrape_collector
from services.platform.problems import EdgeHints
from services.platform.web import create_service_app, db_pool

PREFIX = "/delivery-ms"
# Tokens are issued by order-ms's login; this is its public path behind the ingress.
TOKEN_ENDPOINT = "/order-ms/login"
LOGIN_HINT = (
    f"Log in with POST {TOKEN_ENDPOINT} {{\"user_id\": \"...\", \"password\": \"...\"}} and send the "
    "access_token as 'Authorization: Bearer <token>'."
)
EDGE_HINTS = EdgeHints(
    unknown_route=UNKNOWN_ROUTE_HINT,
    body_too_large=BODY_TOO_LARGE_HINT,
    outcome_unknown="Send the same status again: setting a delivery's current status is a no-op, so a retry is safe.",
)


def create_app(settings: DeliverySettings | None = None) -> Flask:
    from services.delivery_ms import api_document, deliveries, revocation, store
    from services.platform.api_docs import add_api_document
    from services.platform.auth import verifying_keys_for

    settings = settings or get_settings()
    app = create_service_app(__name__, "delivery-ms", PREFIX, settings, login_hint=LOGIN_HINT,
                             edge_hints=EDGE_HINTS, verifying_keys=verifying_keys_for(settings),
                             token_still_valid=revocation.token_still_valid)
    store.DELIVERY_OUTBOX.wake_relay_at(app.config["SETTINGS"].relay_wakeup_address)
    app.register_blueprint(deliveries.bp)
    add_api_document(app, PREFIX, api_document.build)
    add_scrape_collector(app, ScrapeGauge("deliveries", "Deliveries by current status.", "status",
                                          lambda: store.count_by_status(db_pool())))
    return app


def create_stream_app(settings: DeliverySettings | None = None) -> Flask:
    """The delivery-ms stream process's app (gunicorn's gevent worker): the staff board's live stream only, with
    the same tokens, errors, probes and metrics as the API (docs/decisions/0006-stream-serving.md)."""
    from services.delivery_ms import board_stream, revocation
    from services.platform.auth import verifying_keys_for
    from services.platform.streams import install_feed, probes_off_loop

    settings = settings or get_settings()
    app = create_service_app(__name__, "delivery-ms-stream", PREFIX, settings, login_hint=LOGIN_HINT,
                             edge_hints=EDGE_HINTS, verifying_keys=verifying_keys_for(settings),
                             token_still_valid=revocation.token_still_valid)
    app.register_blueprint(board_stream.bp)
    install_feed(app, board_stream.DELIVERY_CHANGES_LOG)
    probes_off_loop(app, PREFIX)
    return app
