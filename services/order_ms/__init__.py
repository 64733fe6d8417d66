"""order-ms: accounts and login, and coffee orders written with their outbox event (app factory)."""
from __future__ import annotations

from flask import Flask

from services.common.settings import Settings
from services.common.web import create_service_app

PREFIX = "/order-ms"


def create_app(settings: Settings | None = None) -> Flask:
    from services.order_ms import accounts, orders

    app = create_service_app(__name__, "order-ms", PREFIX, settings)
    app.register_blueprint(orders.bp)
    app.register_blueprint(accounts.bp)
    return app
