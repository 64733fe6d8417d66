"""Unit tests for the web UI's files and headers: strict CSP, no framing, and pages that obey the CSP."""
import re

import pytest

from services.order_ms import create_app
from services.order_ms.settings import load_settings
from services.order_ms.ui import STATIC_DIR

PAGES = sorted(STATIC_DIR.glob("*.html"))


@pytest.fixture(scope="module")
def client():
    return create_app(load_settings()).test_client()


def test_the_login_page_is_served_with_the_security_headers(client):
    response = client.get("/order-ms/ui/")
    assert response.status_code == 200 and response.mimetype == "text/html"
    assert 'id="user-id"' in response.text and 'id="password"' in response.text
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe" not in csp
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "no-referrer"


def test_without_the_trailing_slash_it_redirects_relative_to_the_ui(client):
    response = client.get("/order-ms/ui")
    assert response.status_code == 308 and response.headers["Location"] == "/order-ms/ui/"


@pytest.mark.parametrize("name,mimetype", [("login.js", "text/javascript"), ("app.css", "text/css"),
                                           ("coffee.svg", "image/svg+xml")])
def test_assets_have_their_types(client, name, mimetype):
    response = client.get(f"/order-ms/ui/{name}")
    assert response.status_code == 200 and response.mimetype == mimetype
    assert response.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("path", ["/order-ms/ui/missing.js", "/order-ms/ui/../accounts.py",
                                  "/order-ms/ui/%2e%2e/accounts.py"])
def test_unknown_files_and_escapes_are_404_problems(client, path):
    response = client.get(path)
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json" and response.json["hint"]


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.name)
def test_pages_hold_no_inline_code_the_csp_would_block(page):
    html = page.read_text()
    for script in re.findall(r"<script\b[^>]*>(.*?)</script>", html, re.S):
        assert script.strip() == "", f"inline script in {page.name}"
    assert all("src=" in tag for tag in re.findall(r"<script\b[^>]*>", html))
    assert not re.search(r"\son[a-z]+\s*=", html), f"inline event handler in {page.name}"
    assert not re.search(r"\sstyle\s*=", html), f"inline style in {page.name}"


def test_scripts_never_write_html_from_strings():
    # Data from the API reaches the page only as text, so a coffee name cannot inject markup.
    for script in STATIC_DIR.glob("*.js"):
        assert not re.search(r"innerHTML|outerHTML|insertAdjacentHTML|document\.write", script.read_text()), script.name
