"""The base every HTTP service's app factory starts from: settings, pool, errors, request ids, health, metrics."""
from __future__ import annotations

import logging
import uuid

from flask import Flask, current_app, g, request
from flask.sessions import NullSession, SessionInterface

from services.platform.auth import LOGIN_HINT, VERIFYING_KEYS
from services.platform.db import ConnectionPool
from services.platform.logs import configure_logging
from services.platform.metrics import instrument_app, request_seconds
from services.platform.problems import EdgeHints, register_error_handlers
from services.platform.settings import Settings
from services.platform.token_keys import KeySource, VerifyingKeys
from services.platform.validation import MAX_BODY_BYTES

REQUEST_ID_HEADER = "X-Request-ID"
# Probes and scrapes arrive every few seconds; logging them would drown the requests that matter.
QUIET_PATH_SUFFIXES = ("/healthz", "/readyz", "/metrics")
access_log = logging.getLogger("access")


def create_service_app(import_name: str, service: str, prefix: str, settings: Settings, *,
                       login_hint: str, edge_hints: EdgeHints, verifying_keys: KeySource[VerifyingKeys]) -> Flask:
    """A Flask app with everything every service shares; the caller adds its blueprints.

    `prefix` is where the ingress routes the service (health and readiness are served there too);
    `login_hint` tells a caller without a valid token how to get one; `verifying_keys` gives the public keys its
    tokens are checked with."""
    configure_logging(service, settings.log_level)
    app = Flask(import_name)
    app.config.update(
        SETTINGS=settings,
        SERVICE_NAME=service,
        MAX_CONTENT_LENGTH=MAX_BODY_BYTES,
        JSON_SORT_KEYS=False,
        **{LOGIN_HINT: login_hint, VERIFYING_KEYS: verifying_keys},
    )
    app.json.sort_keys = False
    app.session_interface = NoSessions()
    # One pool per process: it opens no connection until a request needs one, so when gunicorn forks its
    # workers after preloading the app, each worker's copy starts empty and opens its own.
    app.extensions["db_pool"] = ConnectionPool(settings)

    @app.before_request
    def _assign_request_id():
        incoming = request.headers.get(REQUEST_ID_HEADER, "")
        g.request_id = incoming if 0 < len(incoming) <= 100 and incoming.isprintable() else str(uuid.uuid4())

    # A log line per request costs CPU in its worker and as much again downstream (whatever collects stdout):
    # by default only requests answered with an error are logged.
    lowest_logged_status = {"all": 0, "errors": 400, "off": 1000}[settings.access_log]

    @app.after_request
    def _echo_request_id_and_log(response):
        response.headers[REQUEST_ID_HEADER] = g.get("request_id", "")
        if response.status_code >= lowest_logged_status and not request.path.endswith(QUIET_PATH_SUFFIXES):
            access_log.info("%s %s %s", request.method, request.path, response.status_code, extra={
                "method": request.method, "route": request.url_rule.rule if request.url_rule else None,
                "status": response.status_code,
                "duration_ms": round(request_seconds() * 1000, 2),
            })
        return response

    register_error_handlers(app, edge_hints)
    instrument_app(app, service, settings.metrics_port)
    _add_health_routes(app, prefix)
    return app


class NoSessions(SessionInterface):
    """The services keep nothing in cookies (callers send bearer tokens), so every request shares one empty,
    read-only session instead of Flask building one per request."""

    _none = NullSession()

    def open_session(self, app, request):
        return self._none

    def save_session(self, app, session, response):
        return None


def db_pool() -> ConnectionPool:
    return current_app.extensions["db_pool"]


def _add_health_routes(app: Flask, prefix: str) -> None:
    def healthz():
        return {"status": "ok"}

    def readyz():
        # Readiness means "can serve requests": the database must answer.
        with db_pool().connection() as conn:
            conn.ping()
        return {"status": "ready"}

    for base in ("", prefix):
        app.add_url_rule(f"{base}/healthz", f"healthz{base}", healthz, methods=["GET"])
        app.add_url_rule(f"{base}/readyz", f"readyz{base}", readyz, methods=["GET"])

