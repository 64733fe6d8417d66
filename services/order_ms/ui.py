"""The web UI: static HTML, CSS and JavaScript under /order-ms/ui/, served with strict security headers."""
from __future__ import annotations

from pathlib import Path

from flask import Blueprint, redirect, send_from_directory, url_for

from services.platform.page_headers import add_page_security_headers

STATIC_DIR = Path(__file__).resolve().parent / "static" / "ui"

bp = Blueprint("ui", __name__, url_prefix="/order-ms/ui")

add_page_security_headers(bp)


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
