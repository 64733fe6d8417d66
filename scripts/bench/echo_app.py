"""The framework ceiling: a bare Flask app that echoes a JSON body, run under the services' gunicorn settings."""
from flask import Flask, request


def create_app() -> Flask:
    app = Flask(__name__)

    @app.post("/echo")
    def echo():
        return request.get_json(), 201

    return app
