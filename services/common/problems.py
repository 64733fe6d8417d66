"""RFC 9457 problem+json errors with a `hint`, and the Flask handlers that turn every failure into one."""
from __future__ import annotations

import logging

from flask import Flask, Response, g, json, request
from werkzeug.exceptions import HTTPException

from services.common.db import DatabaseUnavailable

PROBLEM_CONTENT_TYPE = "application/problem+json"
DATABASE_RETRY_AFTER_SECONDS = 5

log = logging.getLogger(__name__)


class Problem(Exception):
    """An error the caller can act on: raise it anywhere in a request and it becomes the response."""

    def __init__(
        self,
        status: int,
        slug: str,
        title: str,
        detail: str,
        hint: str,
        errors: list[dict] | None = None,
        headers: dict[str, str] | None = None,
        **extra,
    ):
        super().__init__(detail)
        self.status = status
        self.slug = slug
        self.title = title
        self.detail = detail
        self.hint = hint
        self.errors = errors
        self.headers = headers or {}
        self.extra = extra

    def to_dict(self) -> dict:
        body = {
            "type": f"/problems/{self.slug}",
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
            "hint": self.hint,
            "instance": request.path if request else None,
        }
        if self.errors is not None:
            body["errors"] = self.errors
        body.update(self.extra)
        request_id = g.get("request_id") if g else None
        if request_id:
            body["request_id"] = request_id
        return body


def problem_response(problem: Problem) -> Response:
    response = Response(json.dumps(problem.to_dict()), status=problem.status, mimetype=PROBLEM_CONTENT_TYPE)
    for name, value in problem.headers.items():
        response.headers[name] = value
    return response


def not_found(what: str, hint: str) -> Problem:
    return Problem(404, "not-found", "Not Found", f"{what} was not found.", hint)


def _from_http_exception(exc: HTTPException) -> Problem:
    code = exc.code or 500
    if code == 404:
        return Problem(
            404, "not-found", "Not Found", f"No route matches {request.method} {request.path}.",
            "Check the URL: the API lives under /order-ms and /delivery-ms (see the README's API section).",
        )
    if code == 405:
        allowed = sorted(exc.valid_methods or [])  # type: ignore[attr-defined]
        return Problem(
            405, "method-not-allowed", "Method Not Allowed",
            f"{request.method} is not allowed on {request.path}.",
            f"Use one of: {', '.join(allowed)}." if allowed else "See the README's API section.",
            headers={"Allow": ", ".join(allowed)} if allowed else None,
        )
    if code == 413:
        return Problem(
            413, "payload-too-large", "Payload Too Large", "The request body is larger than 64 KiB.",
            "Send a smaller JSON body; an order is a few hundred bytes.",
        )
    if code == 415:
        return Problem(
            415, "unsupported-media-type", "Unsupported Media Type",
            "The request body must be JSON.", "Send the header 'Content-Type: application/json'.",
        )
    if code == 400:
        return Problem(
            400, "bad-request", "Bad Request", exc.description or "The request could not be read.",
            "Send a valid JSON object with 'Content-Type: application/json'.",
        )
    return Problem(code, "http-error", exc.name, exc.description or exc.name, "See the README's API section.")


def register_error_handlers(app: Flask) -> None:
    """Every error leaves the service as problem+json; nothing leaks a stack trace."""

    @app.errorhandler(Problem)
    def _problem(problem: Problem):
        return problem_response(problem)

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):
        return problem_response(_from_http_exception(exc))

    @app.errorhandler(DatabaseUnavailable)
    def _database_down(exc: DatabaseUnavailable):
        log.warning("database unavailable: %s", exc)
        return problem_response(Problem(
            503, "database-unavailable", "Service Unavailable", "The database is not reachable right now.",
            f"Nothing was saved. Retry the same request after {DATABASE_RETRY_AFTER_SECONDS} seconds"
            " (with the same Idempotency-Key if you sent one).",
            headers={"Retry-After": str(DATABASE_RETRY_AFTER_SECONDS)},
        ))

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        log.exception("unhandled error")
        return problem_response(Problem(
            500, "internal-error", "Internal Server Error", "The service failed to handle this request.",
            "Retry later; if it keeps failing, report the request_id to the operators.",
        ))
