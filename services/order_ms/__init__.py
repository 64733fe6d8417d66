"""order-ms: accounts and login, coffee orders written with their outbox event, and the web UI (app factory)."""
from __future__ import annotations

from flask import Flask

from services.common.settings import Settings
from services.common.web import create_service_app

PREFIX = "/order-ms"


def create_app(settings: Settings | None = None) -> Flask:
    from services.order_ms import accounts, orders, ui
    from services.order_ms.client_address import trust_forwarded_for

    app = create_service_app(__name__, "order-ms", PREFIX, settings)
    app.register_blueprint(orders.bp)
    app.register_blueprint(accounts.bp)
    app.register_blueprint(ui.bp)
    # Login throttling counts failures per client, which sits behind the ingress in X-Forwarded-For.
    app.wsgi_app = trust_forwarded_for(app.wsgi_app, app.config["SETTINGS"])
    return app
