"""OpenAPI 3.1 documents built from a Flask app's routes and each service's description of its operations.

A service says what each of its endpoints takes and answers (`Operation`); the builder turns that into the
document, with field rules from `fields.Field` and paths from the app's url_map, and refuses a description
that names a route the app does not serve or leaves out one it does. It names no service."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from flask import Flask

from services.platform.auth import ROLES
from services.platform.fields import Field
from services.platform.paging import CURSOR
from services.platform.problems import PROBLEM_CONTENT_TYPE
from services.platform.validation import DEFAULT_LIMIT, MAX_LIMIT
from services.platform.web import REQUEST_ID_HEADER

OPENAPI_VERSION = "3.1.0"
JSON = "application/json"
BEARER = "bearerAuth"
# Flask adds these to every rule; they are not operations of the API.
IMPLICIT_METHODS = {"HEAD", "OPTIONS"}
_FLASK_ARGUMENT = re.compile(r"<(?:[a-z_]+:)?([A-Za-z_][A-Za-z0-9_]*)>")


class DocumentError(ValueError):
    """The operations described do not match the routes the app serves."""


# --- what a service describes ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Param:
    """A path, query or header parameter, its rule from a Field (or a JSON Schema for composed rules)."""

    name: str
    location: str
    rule: Field | dict
    description: str = ""
    required: bool = False

    def spec(self) -> dict:
        schema = self.rule.json_schema() if isinstance(self.rule, Field) else dict(self.rule)
        spec = {"name": self.name, "in": self.location, "required": self.location == "path" or self.required,
                "schema": schema}
        description = self.description or schema.get("description", "")
        if description:
            spec["description"] = description
        return spec


@dataclass(frozen=True)
class Reply:
    """One response: status, what it means, its body (a JSON Schema) and the headers it carries."""

    status: int
    description: str
    schema: dict | None = None
    content_type: str = JSON
    headers: tuple[str, ...] = ()
    example: Any = None


@dataclass(frozen=True)
class Operation:
    """One method of one Flask endpoint, as the API document shows it."""

    endpoint: str
    method: str
    operation_id: str
    summary: str
    tag: str
    replies: tuple[Reply, ...]
    description: str = ""
    secured: bool = True
    parameters: tuple[Param, ...] = ()
    body: dict | None = None
    body_example: dict | None = None


@dataclass(frozen=True)
class ApiInfo:
    title: str
    version: str
    description: str
    login: str
    tags: dict[str, str] = field(default_factory=dict)


# --- shared schemas and replies ----------------------------------------------------------------------------

def ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


ERROR_ITEM = {
    "type": "object",
    "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
    "required": ["field", "message"],
}
PROBLEM_SCHEMA = {
    "type": "object",
    "description": "RFC 9457 problem details, with a `hint` that says how to get around the error.",
    "properties": {
        "type": {"type": "string", "examples": ["/problems/validation-error"]},
        "title": {"type": "string"},
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "detail": {"type": "string"},
        "hint": {"type": "string", "description": "What to do about it."},
        "instance": {"type": "string", "description": "The request path."},
        "request_id": {"type": "string", "description": f"The request's {REQUEST_ID_HEADER}."},
        "errors": {"type": "array", "items": ERROR_ITEM, "description": "One entry per refused field."},
        "retry_after": {"type": "integer", "minimum": 0, "description": "Seconds to wait (also in Retry-After)."},
    },
    "required": ["type", "title", "status", "detail", "hint"],
}
VALIDATION_PROBLEM_SCHEMA = {
    "allOf": [ref("Problem"), {"type": "object", "required": ["errors"],
                               "properties": {"errors": {"type": "array", "items": ERROR_ITEM, "minItems": 1}}}],
}
HEALTH_SCHEMA = {"type": "object", "properties": {"status": {"type": "string"}}, "required": ["status"]}

HEADERS = {
    REQUEST_ID_HEADER: {
        "description": f"The request's id: the caller's own {REQUEST_ID_HEADER} when it is 1-100 printable"
                       " characters, else a new UUID. It is in the logs and in every problem's request_id.",
        "required": True, "schema": {"type": "string", "minLength": 1, "maxLength": 100},
    },
    "Location": {"description": "The path of the created resource.", "required": True,
                 "schema": {"type": "string", "pattern": "^/"}},
    "Link": {"description": "RFC 8288 link to the next page, present when there may be more items.",
             "schema": {"type": "string", "pattern": '^<[^>]+>; rel="next"$'}},
    "Idempotent-Replayed": {"description": "`true` when this is the order first created with the same Idempotency-Key.",
                            "schema": {"type": "string", "enum": ["true"]}},
    "Retry-After": {"description": "Seconds to wait before retrying.", "required": True,
                    "schema": {"type": "string", "pattern": "^[0-9]+$"}},
    "WWW-Authenticate": {"description": "The Bearer scheme and realm.", "required": True,
                         "schema": {"type": "string", "pattern": "^Bearer "}},
}


def problem(status: int, description: str, headers: tuple[str, ...] = ()) -> Reply:
    """A problem+json reply; 422 carries `errors`."""
    return Reply(status, description, ref("ValidationProblem" if status == 422 else "Problem"),
                 content_type=PROBLEM_CONTENT_TYPE, headers=headers)


def unauthorized() -> Reply:
    return problem(401, "No access token, or one that is expired, revoked (its account logged out, changed role or "
                        "was deleted), malformed or not signed by this system.",
                   headers=("WWW-Authenticate",))


def database_down() -> Reply:
    """What every route that reads or writes the database answers while it is unreachable."""
    return problem(503, "The database is not reachable; nothing was saved. Retry after Retry-After seconds.",
                   headers=("Retry-After",))


def body_problems() -> tuple[Reply, ...]:
    """What every route that reads a JSON body may answer before looking at the fields."""
    return (problem(400, "The body is not a JSON object."),
            problem(413, "The body is larger than 64 KiB."),
            problem(415, "The body is not sent as application/json."),
            problem(422, "Fields are missing, unknown or break their rules (see `errors`)."))


def edge_replies() -> tuple[Reply, ...]:
    """What the ingress answers itself on any operation, before or instead of the service (every operation lists
    them; an operation's own reply with the same status keeps its own description)."""
    return (problem(400, "The ingress could not read the request: its line or headers are malformed or too large."),
            problem(413, "The request body is larger than the ingress accepts (1 MiB)."),
            problem(414, "The request URI is longer than the ingress accepts (8 KiB)."),
            problem(503, "The service is not answering (or its database is not reachable); retry after"
                         " Retry-After seconds.", headers=("Retry-After",)))


def limit_param() -> Param:
    return Param("limit", "query", {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT},
                 f"Items per page, 1-{MAX_LIMIT} (default {DEFAULT_LIMIT}).")


def cursor_param() -> Param:
    return Param("cursor", "query", CURSOR,
                 "Where the next page starts: copy it from the `Link` header of the previous page.")


def object_of(fields: dict[str, Field], extra: dict[str, dict] | None = None, closed: bool = True) -> dict:
    """A JSON object whose properties follow `fields` (all present) plus `extra` ones (JSON Schemas)."""
    properties = {name: rule.json_schema() for name, rule in fields.items()}
    properties.update(extra or {})
    return {"type": "object", "properties": properties, "required": list(properties),
            "additionalProperties": not closed}


def role_schema() -> dict:
    return {"type": "string", "enum": list(ROLES)}


def health_operations(prefix: str, tag: str) -> list[Operation]:
    """The probes every service serves under its prefix (`web.create_service_app` adds them)."""
    return [
        Operation(f"healthz{prefix}", "GET", "healthz", "Alive", tag, secured=False,
                  replies=(Reply(200, "The process answers.", ref("Health"), example={"status": "ok"}),)),
        Operation(f"readyz{prefix}", "GET", "readyz", "Ready: the database answers", tag, secured=False,
                  replies=(Reply(200, "Ready to serve requests.", ref("Health"), example={"status": "ready"}),
                           problem(503, "The database is not reachable.", headers=("Retry-After",)))),
    ]


EVENT_STREAM = "text/event-stream"


def event_stream_reply(description: str, event: str, data_schema: dict) -> Reply:
    """200 with a stream of server-sent events, each named `event` with a numeric id and JSON data. As OpenAPI
    3.1 reads an event stream's `schema`, it describes one event (fields as an EventSource parses them)."""
    schema = {"type": "object", "required": ["event", "id", "data"], "properties": {
        "event": {"const": event},
        "id": {"type": "string", "pattern": "^[0-9]+$",
               "description": "Send it back as Last-Event-ID to resume after this event."},
        "data": {"type": "string", "contentMediaType": JSON, "contentSchema": data_schema},
        "retry": {"type": "integer", "minimum": 0}}}
    return Reply(200, description, schema, content_type=EVENT_STREAM)


def resume_params() -> tuple[Param, Param]:
    """Where a stream resumes: the Last-Event-ID header (an EventSource reconnecting) or the query parameter."""
    event_id = {"type": "string", "pattern": "^[0-9]{0,19}$"}
    return (Param("Last-Event-ID", "header", event_id,
                  "The id of the last event received: every later change is sent first, then the live ones."
                  " Empty or left out: the stream starts now."),
            Param("last_event_id", "query", event_id,
                  "The same for a first connect (EventSource cannot set headers); the header wins."))


def stream_unavailable() -> Reply:
    return problem(503, "This instance serves STREAM_MAX_PER_INSTANCE streams already (`too-many-streams`), or the"
                        " database is not reachable: reconnect after Retry-After seconds with Last-Event-ID.",
                   headers=("Retry-After",))


def document_operation(endpoint: str, tag: str) -> Operation:
    return Operation(endpoint, "GET", "openapi", "This OpenAPI document", tag, secured=False,
                     replies=(Reply(200, "The OpenAPI 3.1 document of this service.", {"type": "object"}),))


# --- the builder -------------------------------------------------------------------------------------------

def openapi_path(rule: str) -> str:
    """A Flask rule as an OpenAPI path: `<user_id>` becomes `{user_id}`."""
    return _FLASK_ARGUMENT.sub(r"{\1}", rule)


def served_operations(app: Flask, prefix: str, undocumented: set[str],
                      elsewhere: tuple[Flask, ...] = ()) -> dict[tuple[str, str], str]:
    """{(method, OpenAPI path): endpoint} of every route the app (and the `elsewhere` apps) serves under `prefix`
    (what the ingress routes to it), less the `undocumented` endpoints (web pages, metrics)."""
    served = {}
    for rule in _rules(app, elsewhere):
        under_prefix = rule.rule == prefix or rule.rule.startswith(f"{prefix}/")
        if not under_prefix or rule.endpoint in undocumented:
            continue
        for method in sorted((rule.methods or set()) - IMPLICIT_METHODS):
            served[(method, openapi_path(rule.rule))] = rule.endpoint
    return served


def _rules(app: Flask, elsewhere: tuple[Flask, ...]) -> list:
    return [rule for each in (app, *elsewhere) for rule in each.url_map.iter_rules()
            if each is app or rule.endpoint != "static"]


def build_document(app: Flask, prefix: str, info: ApiInfo, operations: list[Operation], undocumented: set[str],
                   schemas: dict[str, dict] | None = None, headers: dict[str, dict] | None = None,
                   elsewhere: tuple[Flask, ...] = ()) -> dict:
    """The OpenAPI 3.1 document of `app`: every route served under `prefix` but the `undocumented` endpoints
    has exactly one described operation, or DocumentError says which do not match. `headers` are the service's
    own response headers, next to the common HEADERS. `elsewhere` are the apps of the service's other processes
    behind the same prefix (its stream process), whose routes are the service's too."""
    served = served_operations(app, prefix, undocumented, elsewhere)
    rules_by_endpoint: dict[str, list[str]] = {}
    for rule in _rules(app, elsewhere):
        rules_by_endpoint.setdefault(rule.endpoint, []).append(rule.rule)
    described: dict[tuple[str, str], Operation] = {}
    problems = []
    for operation in operations:
        rules = rules_by_endpoint.get(operation.endpoint)
        if not rules:
            problems.append(f"{operation.operation_id}: no route has the endpoint {operation.endpoint!r}")
            continue
        for rule in rules:
            key = (operation.method, openapi_path(rule))
            if key not in served:
                problems.append(f"{operation.operation_id}: {operation.method} {rule} is not served")
            described[key] = operation
    problems += [f"{method} {path} ({endpoint}) is served but not described"
                 for (method, path), endpoint in sorted(served.items()) if (method, path) not in described]
    if problems:
        raise DocumentError("; ".join(problems))

    paths: dict[str, dict] = {}
    operation_ids: dict[str, int] = {}
    for (method, path), operation in sorted(described.items(), key=lambda item: (item[0][1], item[0][0])):
        # An endpoint served at two paths (an alias) is two operations: each needs its own id.
        count = operation_ids[operation.operation_id] = operation_ids.get(operation.operation_id, 0) + 1
        operation_id = operation.operation_id if count == 1 else f"{operation.operation_id}_{count}"
        paths.setdefault(path, {})[method.lower()] = _operation_spec(operation, operation_id, path)
    return {
        "openapi": OPENAPI_VERSION,
        "info": {"title": info.title, "version": info.version, "description": info.description},
        # Relative: the same document works on the service's own port and through the ingress.
        "servers": [{"url": "/"}],
        "tags": [{"name": name, "description": text} for name, text in info.tags.items()],
        "paths": paths,
        "components": {
            "schemas": {"Problem": PROBLEM_SCHEMA, "ValidationProblem": VALIDATION_PROBLEM_SCHEMA,
                        "Health": HEALTH_SCHEMA, **(schemas or {})},
            "headers": {**HEADERS, **(headers or {})},
            "securitySchemes": {BEARER: {
                "type": "http", "scheme": "bearer", "bearerFormat": "JWT",
                # Markdown would take <token> for an HTML tag and drop it.
                "description": info.login.replace("<", "&lt;"),
            }},
        },
    }


def _operation_spec(operation: Operation, operation_id: str, path: str) -> dict:
    path_names = re.findall(r"{([^}]+)}", path)
    params = [p for p in operation.parameters if p.location != "path" or p.name in path_names]
    missing = [name for name in path_names if name not in {p.name for p in params if p.location == "path"}]
    if missing:
        raise DocumentError(f"{operation_id}: path parameters {missing} of {path} are not described")
    spec: dict[str, Any] = {
        "operationId": operation_id,
        "summary": operation.summary,
        "tags": [operation.tag],
        "parameters": [p.spec() for p in params],
        "responses": {str(reply.status): _reply_spec(reply) for reply in _with_edge_replies(operation.replies)},
        "security": [{BEARER: []}] if operation.secured else [],
    }
    if operation.description:
        spec["description"] = operation.description
    if operation.body is not None:
        content: dict[str, Any] = {"schema": operation.body}
        if operation.body_example is not None:
            content["example"] = operation.body_example
        spec["requestBody"] = {"required": True, "content": {JSON: content}}
    return spec


def _with_edge_replies(replies: tuple[Reply, ...]) -> list[Reply]:
    own = {reply.status for reply in replies}
    return sorted([*replies, *(reply for reply in edge_replies() if reply.status not in own)],
                  key=lambda reply: reply.status)


def _reply_spec(reply: Reply) -> dict:
    spec: dict[str, Any] = {"description": reply.description}
    headers = (REQUEST_ID_HEADER, *reply.headers)
    spec["headers"] = {name: {"$ref": f"#/components/headers/{name}"} for name in headers}
    if reply.schema is not None:
        media: dict[str, Any] = {"schema": reply.schema}
        if reply.example is not None:
            media["example"] = reply.example
        spec["content"] = {reply.content_type: media}
    return spec
