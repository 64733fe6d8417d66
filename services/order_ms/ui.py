"""The web UI: static HTML, CSS and JavaScript under /order-ms/ui/, served with strict security headers."""
from __future__ import annotations

from pathlib import Path

from flask import Blueprint, redirect, send_from_directory, url_for

STATIC_DIR = Path(__file__).resolve().parent / "static" / "ui"

bp = Blueprint("ui", __name__, url_prefix="/order-ms/ui")

# Scripts and styles come only from the UI's own files (no inline code), API calls only go to this
# origin, and no other site may frame the pages.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
        "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
    # The files change with every deploy and are tiny: always revalidate.
    "Cache-Control": "no-cache",
}


@bp.get("")
def ui_root():
    # The pages' relative links need the trailing slash; a relative Location keeps the ingress's host and port.
    return redirect(url_for("ui.index"), code=308)


@bp.get("/")
def index():
    return send_from_directory(STATIC_DIR, "index.html")


@bp.get("/<path:filename>")
def static_file(filename: str):
    return send_from_directory(STATIC_DIR, filename)


@bp.after_request
def add_security_headers(response):
    response.headers.update(SECURITY_HEADERS)
    return response
