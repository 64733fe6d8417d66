"""The framework ceiling: a bare Flask app that echoes a JSON body, run under the services' gunicorn settings."""
from flask import Flask, request


def create_app() -> Flask:
    app = Flask(__name__)
    # The services' gunicorn config names each worker's process (its tracing's service.name) after this.
    app.config["SERVICE_NAME"] = "bench-echo"

    @app.post("/echo")
    def echo():
        return request.get_json(), 201

    return app
