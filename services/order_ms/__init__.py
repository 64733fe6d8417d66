"""order-ms: accounts and login, coffee orders written with their outbox event, customers' cancel requests, and the
web UI (app factory)."""
from __future__ import annotations

from flask import Flask

from services.contracts.edge import BODY_TOO_LARGE_HINT, UNKNOWN_ROUTE_HINT
from services.order_ms.settings import OrderSettings, get_settings
from services.platform.problems import EdgeHints
from services.platform.web import create_service_app

PREFIX = "/order-ms"
LOGIN_HINT = (
    f"Log in with POST {PREFIX}/login {{\"user_id\": \"...\", \"password\": \"...\"}} and send the "
    "access_token as 'Authorization: Bearer <token>'."
)
EDGE_HINTS = EdgeHints(
    unknown_route=UNKNOWN_ROUTE_HINT,
    body_too_large=BODY_TOO_LARGE_HINT,
    outcome_unknown=("Retry with the same Idempotency-Key: if the first attempt was saved you get that order back"
                     " and nothing is ordered twice. Without a key, check your orders before ordering again."),
)


def create_app(settings: OrderSettings | None = None) -> Flask:
    from services.order_ms import (
        accounts,
        api_document,
        cancels,
        edge_errors,
        login_slots,
        orders,
        revocation,
        store,
        token_signer,
        ui,
    )
    from services.order_ms.client_address import trust_forwarded_for
    from services.platform.api_docs import add_api_document
    from services.platform.auth import verifying_keys_for

    settings = settings or get_settings()
    key_file = token_signer.signing_key_file(settings)
    public_keys = verifying_keys_for(settings, key_file.current())
    app = create_service_app(__name__, "order-ms", PREFIX, settings, login_hint=LOGIN_HINT, edge_hints=EDGE_HINTS,
                             verifying_keys=public_keys, token_still_valid=revocation.token_still_valid)
    app.config[token_signer.SIGNING_KEY] = token_signer.Signer(key_file, public_keys)
    # Made here, in gunicorn's master (preload_app), so that every worker shares the same slots.
    app.config[login_slots.LOGIN_SLOTS] = login_slots.LoginSlots(app.config["SETTINGS"].login_concurrency)
    store.ORDER_OUTBOX.wake_relay_at(app.config["SETTINGS"].relay_wakeup_address)
    app.register_blueprint(orders.bp)
    app.register_blueprint(cancels.bp)
    app.register_blueprint(accounts.bp)
    app.register_blueprint(ui.bp)
    app.register_blueprint(token_signer.bp)
    app.register_blueprint(edge_errors.bp)
    add_api_document(app, PREFIX, api_document.build)
    # Login throttling counts failures per client, which sits behind the ingress in X-Forwarded-For.
    app.wsgi_app = trust_forwarded_for(app.wsgi_app, app.config["SETTINGS"])
    return app


def create_stream_app(settings: OrderSettings | None = None) -> Flask:
    """The order-ms stream process's app (gunicorn's gevent worker): the customers' live streams only, with the
    same tokens, errors, probes and metrics as the API (docs/decisions/0006-stream-serving.md)."""
    from services.order_ms import revocation, status_stream
    from services.platform.auth import verifying_keys_for
    from services.platform.streams import install_feed, probes_off_loop

    settings = settings or get_settings()
    app = create_service_app(__name__, "order-ms-stream", PREFIX, settings, login_hint=LOGIN_HINT,
                             edge_hints=EDGE_HINTS, verifying_keys=verifying_keys_for(settings),
                             token_still_valid=revocation.token_still_valid)
    app.register_blueprint(status_stream.bp)
    install_feed(app, status_stream.ORDER_STATUS_LOG)
    probes_off_loop(app, PREFIX)
    return app
