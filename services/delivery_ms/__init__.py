"""delivery-ms: lists deliveries and moves their status, each change written with its outbox event (app factory)."""
from __future__ import annotations

from flask import Flask

from services.common.metrics import ScrapeGauge, add_scrape_collector
from services.common.settings import Settings
from services.common.web import create_service_app, db_pool

PREFIX = "/delivery-ms"


def create_app(settings: Settings | None = None) -> Flask:
    from services.delivery_ms import deliveries, store

    app = create_service_app(__name__, "delivery-ms", PREFIX, settings)
    app.register_blueprint(deliveries.bp)
    add_scrape_collector(app, ScrapeGauge("deliveries", "Deliveries by current status.", "status",
                                          lambda: store.count_by_status(db_pool())))
    return app
