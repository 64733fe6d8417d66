"""RFC 9457 problem+json errors with a `hint`, small factories for the common ones, and the Flask handlers
that turn every failure into one."""
from __future__ import annotations

import logging
from dataclasses import dataclass

from flask import Flask, Response, current_app, g, has_request_context, json, request
from werkzeug.exceptions import HTTPException

from services.platform.db import CommitOutcomeUnknown, DatabaseBusy, TransientDatabaseError

PROBLEM_CONTENT_TYPE = "application/problem+json"
DATABASE_RETRY_AFTER_SECONDS = 5
BUSY_RETRY_AFTER_SECONDS = 1

log = logging.getLogger(__name__)


class Problem(Exception):
    """An error the caller can act on: raise it anywhere in a request and it becomes the response.

    `extra` members (e.g. `order_id`) are added to the body as RFC 9457 extension members."""

    def __init__(self, *, status: int, slug: str, title: str, detail: str, hint: str,
                 errors: list[dict] | None = None, headers: dict[str, str] | None = None, **extra):
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
            "instance": request.path if has_request_context() else None,
        }
        if self.errors is not None:
            body["errors"] = self.errors
        body.update(self.extra)
        request_id = g.get("request_id") if has_request_context() else None
        if request_id:
            body["request_id"] = request_id
        return body


# --- factories: one per kind of answer, so routes name what went wrong rather than build it ---------------

def invalid_body(detail: str, hint: str, errors: list[dict], title: str = "Invalid Request Body") -> Problem:
    return Problem(status=422, slug="validation-error", title=title, detail=detail, hint=hint, errors=errors)


def invalid_parameter(
    field: str, message: str, detail: str, hint: str, title: str = "Invalid Query Parameter"
) -> Problem:
    return Problem(status=422, slug="validation-error", title=title, detail=detail, hint=hint,
                   errors=[{"field": field, "message": message}])


def malformed_json(detail: str, hint: str) -> Problem:
    return Problem(status=400, slug="malformed-json", title="Malformed JSON", detail=detail, hint=hint)


def unsupported_media_type(detail: str, hint: str) -> Problem:
    return Problem(status=415, slug="unsupported-media-type", title="Unsupported Media Type", detail=detail, hint=hint)


def unauthorized(detail: str, hint: str, realm: str) -> Problem:
    return Problem(status=401, slug="unauthorized", title="Unauthorized", detail=detail, hint=hint,
                   headers={"WWW-Authenticate": f'Bearer realm="{realm}"'})


def forbidden(detail: str, hint: str) -> Problem:
    return Problem(status=403, slug="forbidden", title="Forbidden", detail=detail, hint=hint)


def not_found(what: str, hint: str) -> Problem:
    return Problem(status=404, slug="not-found", title="Not Found", detail=f"{what} was not found.", hint=hint)


def conflict(slug: str, title: str, detail: str, hint: str, **extra) -> Problem:
    return Problem(status=409, slug=slug, title=title, detail=detail, hint=hint, **extra)


def too_many_requests(slug: str, title: str, detail: str, hint: str, retry_after: int) -> Problem:
    return Problem(status=429, slug=slug, title=title, detail=detail, hint=hint,
                   headers={"Retry-After": str(retry_after)}, retry_after=retry_after)


def problem_response(problem: Problem) -> Response:
    response = Response(json.dumps(problem.to_dict()), status=problem.status, mimetype=PROBLEM_CONTENT_TYPE)
    for name, value in problem.headers.items():
        response.headers[name] = value
    return response


@dataclass(frozen=True)
class EdgeHints:
    """The service's own words for errors raised outside its routes: an unknown path, a body too large, and
    what to do when a change may or may not have been saved."""

    unknown_route: str
    body_too_large: str
    outcome_unknown: str


EDGE_HINTS = "EDGE_HINTS"


def _from_http_exception(exc: HTTPException) -> Problem:
    code = exc.code or 500
    hints: EdgeHints = current_app.config[EDGE_HINTS]
    if code == 404:
        return Problem(status=404, slug="not-found", title="Not Found",
                       detail=f"No route matches {request.method} {request.path}.", hint=hints.unknown_route)
    if code == 405:
        allowed = sorted(exc.valid_methods or [])  # type: ignore[attr-defined]
        return Problem(
            status=405, slug="method-not-allowed", title="Method Not Allowed",
            detail=f"{request.method} is not allowed on {request.path}.",
            hint=f"Use one of: {', '.join(allowed)}." if allowed else "See the API document on its /docs page.",
            headers={"Allow": ", ".join(allowed)} if allowed else None,
        )
    if code == 413:
        return Problem(
            status=413,
            slug="payload-too-large",
            title="Payload Too Large",
            detail="The request body is larger than 64 KiB.",
            hint=hints.body_too_large,
        )
    if code == 415:
        return unsupported_media_type("The request body must be JSON.",
                                      "Send the header 'Content-Type: application/json'.")
    if code == 400:
        return Problem(status=400, slug="bad-request", title="Bad Request",
                       detail=exc.description or "The request could not be read.",
                       hint="Send a valid JSON object with 'Content-Type: application/json'.")
    return Problem(status=code, slug="http-error", title=exc.name, detail=exc.description or exc.name,
                   hint="See the API document on its /docs page.")


def database_problem(exc: TransientDatabaseError, hints: EdgeHints) -> Problem:
    """503 for a database that failed this request, saying whether anything was saved and how to retry."""
    retry_later = "(with the same Idempotency-Key if you sent one)."
    if isinstance(exc, CommitOutcomeUnknown):
        slug, retry_after = "outcome-unknown", DATABASE_RETRY_AFTER_SECONDS
        detail = "The connection to the database broke while saving: the change may or may not have been saved."
        hint = hints.outcome_unknown
    elif isinstance(exc, DatabaseBusy):
        slug, retry_after = "database-busy", BUSY_RETRY_AFTER_SECONDS
        detail = "The database was busy with a conflicting change and rolled this one back."
        hint = f"Nothing was saved. Retry the same request after {retry_after} second {retry_later}"
    else:
        slug, retry_after = "database-unavailable", DATABASE_RETRY_AFTER_SECONDS
        detail = "The database is not reachable right now."
        hint = f"Nothing was saved. Retry the same request after {retry_after} seconds {retry_later}"
    return Problem(status=503, slug=slug, title="Service Unavailable", detail=detail, hint=hint,
                   headers={"Retry-After": str(retry_after)})


def register_error_handlers(app: Flask, hints: EdgeHints) -> None:
    """Every error leaves the service as problem+json; nothing leaks a stack trace."""
    app.config[EDGE_HINTS] = hints

    @app.errorhandler(Problem)
    def _problem(problem: Problem):
        return problem_response(problem)

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):
        return problem_response(_from_http_exception(exc))

    @app.errorhandler(TransientDatabaseError)
    def _database_failed(exc: TransientDatabaseError):
        log.warning("%s: %s", type(exc).__name__, exc)
        return problem_response(database_problem(exc, hints))

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        log.exception("unhandled error")
        return problem_response(Problem(
            status=500, slug="internal-error", title="Internal Server Error",
            detail="The service failed to handle this request.",
            hint="Retry later; if it keeps failing, report the request_id to the operators.",
        ))
