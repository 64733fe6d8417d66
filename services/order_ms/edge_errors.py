"""The ingress's own error answers, as problem+json: the local nginx serves these bodies, and in a cluster
ingress-nginx asks order-ms for them (its custom-http-errors, with order-ms as the Ingress's default backend)."""
from __future__ import annotations

import json

from flask import Blueprint, Response, request

from services.platform.problems import PROBLEM_CONTENT_TYPE

# Seconds a client should wait when the service behind a path is not answering.
UNAVAILABLE_RETRY_AFTER = 5
DOCS_HINT = "Use a method the API documents for this path: see /order-ms/docs and /delivery-ms/docs."
EDGE_PROBLEMS = {
    400: ("bad-request", "Bad Request",
          "The ingress could not read the request: its line or headers are malformed or too large.",
          "Send a well-formed HTTP request with headers under 8 KiB."),
    404: ("not-found", "Not Found", "No service is routed at this path.",
          "The API lives under /order-ms and /delivery-ms; the web UI is at /order-ms/ui/."),
    405: ("method-not-allowed", "Method Not Allowed", "The ingress does not pass this method on to any service.",
          DOCS_HINT),
    413: ("payload-too-large", "Payload Too Large", "The request body is larger than the ingress accepts (1 MiB).",
          "Send a smaller JSON body; the API takes at most 64 KiB."),
    414: ("uri-too-long", "URI Too Long", "The request URI is longer than the ingress accepts (8 KiB).",
          "Send a shorter URL; ids are at most 50 characters and cursors come from the Link header."),
    500: ("internal-error", "Internal Server Error", "The ingress failed to handle the request.",
          "Retry; if it persists, check the ingress logs (make status shows where they are)."),
    503: ("service-unavailable", "Service Unavailable", "The service behind this path is not answering.",
          "Retry in a few seconds; if it persists, check that the stack is running (make up)."),
}
# A service that refused the connection (502) or did not answer in time (504) is told as unavailable.
TOLD_AS = {502: 503, 504: 503}
ALL_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]

bp = Blueprint("edge_errors", __name__)


def problem_body(status: int) -> str:
    """The problem+json body the ingress answers with for `status` (one of EDGE_PROBLEMS)."""
    slug, title, detail, hint = EDGE_PROBLEMS[status]
    return json.dumps({"type": f"/problems/{slug}", "title": title, "status": status, "detail": detail,
                       "hint": hint}, separators=(",", ":"))


@bp.route("/", methods=ALL_METHODS)
def edge_error():
    """ingress-nginx sends the status it met in X-Code (and the original URI in X-Original-URI); without one,
    this is a request for a path no service serves."""
    code = request.headers.get("X-Code", "")
    status = TOLD_AS.get(int(code), int(code)) if code.isdigit() else 404
    if status not in EDGE_PROBLEMS:
        status = 404
    response = Response(problem_body(status), status=status, mimetype=PROBLEM_CONTENT_TYPE)
    if status == 503:
        response.headers["Retry-After"] = str(UNAVAILABLE_RETRY_AFTER)
    return response
