"""The same-stack floor: a Flask app, under the services' gunicorn settings and on the stack's MariaDB, that does
only what a POST of an order must (parse the body, insert the order and its outbox row in one transaction,
commit, answer 201): no token, no checks, nothing published."""
from __future__ import annotations

import json
import uuid

from flask import Flask, request

from services.platform.db import ConnectionPool
from services.platform.settings import Settings, platform_fields
from services.platform.timefmt import utc_now


def create_app() -> Flask:
    app = Flask(__name__)
    # DB_* of the environment: the floor's scratch database (scripts/bench/ceilings.py makes it).
    pool = ConnectionPool(Settings(**platform_fields(db_name="")))

    @app.post("/floor")
    def place():
        body = request.get_json()
        order = {"order_id": str(uuid.uuid4()), "user_id": "floor", "coffee_name": body["coffee_name"],
                 "coffee_price": body["coffee_price"], "coffee_qty": body["coffee_qty"], "ordered_at": utc_now()}
        with pool.transaction() as cursor:
            cursor.execute("INSERT INTO orders (order_id, user_id, coffee_name, coffee_price, coffee_qty, ordered_at)"
                           " VALUES (?, ?, ?, ?, ?, ?)", tuple(order.values()))
            cursor.execute("INSERT INTO order_outbox (event_id, topic, message_key, payload, headers)"
                           " VALUES (?, ?, ?, ?, ?)", (str(uuid.uuid4()), "new_orders", order["order_id"],
                                                      json.dumps(order, default=str).encode(), "[]"))
        return {**order, "ordered_at": order["ordered_at"].isoformat()}, 201

    return app
