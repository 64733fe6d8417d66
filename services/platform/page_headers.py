"""The security headers of every web page a service serves (the web UI, the API docs): scripts and styles only
from the page's own files (no inline code), calls only to this origin, no framing by other sites."""
from __future__ import annotations

from flask import Blueprint


def page_security_headers(img_src: str = "'self'") -> dict[str, str]:
    """The headers; `img_src` widens the images a page may show (e.g. `'self' data:`)."""
    return {
        "Content-Security-Policy": (
            f"default-src 'none'; script-src 'self'; style-src 'self'; img-src {img_src}; connect-src 'self'; "
            "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
        ),
        "X-Frame-Options": "DENY",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "Cross-Origin-Opener-Policy": "same-origin",
        "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
        # The files change with every deploy and are small: always revalidate.
        "Cache-Control": "no-cache",
    }


def add_page_security_headers(bp: Blueprint, img_src: str = "'self'") -> None:
    """Every answer of the blueprint's pages carries the headers."""
    headers = page_security_headers(img_src)

    @bp.after_request
    def add_security_headers(response):
        response.headers.update(headers)
        return response
