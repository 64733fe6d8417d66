"""Serves a service's OpenAPI document at `<prefix>/openapi.json` and Swagger UI for it at `<prefix>/docs`.

Swagger UI's files come from the pinned `flask-swagger-ui` package (its `dist/` folder), never from a CDN;
the page's own script is a static file, so the pages keep a CSP without inline scripts."""
from __future__ import annotations

from collections.abc import Callable
from importlib.resources import files
from pathlib import Path

from flask import Blueprint, Flask, abort, current_app, jsonify, send_from_directory, url_for

from services.platform.page_headers import add_page_security_headers

OWN_DIR = Path(__file__).resolve().parent / "static" / "api_docs"
SWAGGER_UI_DIR = Path(str(files("flask_swagger_ui") / "dist"))
# Only what the page loads; the rest of the package is not served.
SWAGGER_UI_FILES = {"swagger-ui-bundle.js", "swagger-ui.css", "index.css", "favicon-32x32.png", "favicon-16x16.png",
                    "LICENSE"}
OWN_FILES = {"init.js"}
DOCUMENT = "openapi_document"
# The web pages of the docs: for people, not operations of the API.
DOCS_ENDPOINTS = {"api_docs.docs_page", "api_docs.docs_slash", "api_docs.docs_file"}
DOCUMENT_ENDPOINT = "api_docs.openapi"

def add_api_document(app: Flask, prefix: str, build: Callable[[Flask], dict]) -> None:
    """Register the document and docs routes, then build the document once: a service whose routes and
    described operations disagree fails here, at start, rather than publishing a wrong contract."""
    bp = Blueprint("api_docs", __name__, url_prefix=prefix)

    @bp.get("/openapi.json")
    def openapi():
        return jsonify(app.extensions[DOCUMENT])

    @bp.get("/docs")
    def docs_page():
        return send_from_directory(OWN_DIR, "index.html")

    @bp.get("/docs/")
    def docs_slash():
        # The page's own files are relative to /docs: the folder-like URL people type goes to the page.
        # No body: redirect()'s HTML one would be the only HTML the API answers.
        return current_app.response_class(status=308, headers={"Location": url_for(".docs_page")})

    @bp.get("/docs/<path:filename>")
    def docs_file(filename: str):
        if filename in OWN_FILES:
            return send_from_directory(OWN_DIR, filename)
        if filename in SWAGGER_UI_FILES:
            return send_from_directory(SWAGGER_UI_DIR, filename)
        abort(404)

    # Swagger UI sets styles from its script (allowed) and shows a few data: images; it calls only this origin.
    add_page_security_headers(bp, img_src="'self' data:")
    app.register_blueprint(bp)
    app.extensions[DOCUMENT] = build(app)


def api_document(app: Flask) -> dict:
    """The app's OpenAPI document, as served."""
    return app.extensions[DOCUMENT]
