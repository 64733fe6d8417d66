"""Reading and validating JSON request bodies into clean values, or a 422 problem naming each field."""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from flask import request

from services.common.problems import Problem

MAX_BODY_BYTES = 64 * 1024
USER_ID_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,50}$")
USER_ID_RULE = "1-50 letters, digits, '_' or '-'"


@dataclass(frozen=True)
class Field:
    """One body field: its JSON type, whether it is required, and its allowed range or length."""

    kind: type  # int or str
    required: bool = True
    minimum: int | None = None
    maximum: int | None = None
    min_length: int | None = None
    max_length: int | None = None
    pattern: re.Pattern | None = None
    choices: tuple[str, ...] | None = None
    rule: str = ""

    def check(self, value: Any) -> str | None:
        """The problem with `value`, or None when it is allowed."""
        if self.kind is int:
            # JSON true/false are bools in Python, which are ints: refuse them explicitly.
            if isinstance(value, bool) or not isinstance(value, int):
                return f"must be an integer ({self.rule})"
            if (self.minimum is not None and value < self.minimum) or (self.maximum is not None and value > self.maximum):
                return f"must be {self.rule}"
            return None
        if not isinstance(value, str):
            return f"must be a string ({self.rule})"
        if self.choices is not None and value not in self.choices:
            return f"must be one of {', '.join(self.choices)}"
        if (self.min_length is not None and len(value) < self.min_length) or (
            self.max_length is not None and len(value) > self.max_length
        ):
            return f"must be {self.rule}"
        if self.pattern is not None and not self.pattern.match(value):
            return f"must be {self.rule}"
        return None


def read_json_object(example: dict) -> dict:
    """The request body as a JSON object; 415/400 problems (with an example body) otherwise."""
    if not request.is_json:
        raise Problem(
            415, "unsupported-media-type", "Unsupported Media Type",
            f"The body must be JSON, got Content-Type {request.content_type or 'none'!r}.",
            f"Send 'Content-Type: application/json' with a body like {json.dumps(example)}.",
        )
    raw = request.get_data(cache=True)
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise Problem(
            400, "malformed-json", "Malformed JSON", "The request body is not valid JSON.",
            f"Send a JSON object like {json.dumps(example)}.",
        ) from None
    if not isinstance(body, dict):
        raise Problem(
            400, "malformed-json", "Malformed JSON", "The request body must be a JSON object.",
            f"Send a JSON object like {json.dumps(example)}.",
        )
    return body


def validate(body: dict, fields: dict[str, Field], example: dict) -> dict:
    """Check every field of `body` against `fields`; 422 with one entry per wrong field."""
    errors = []
    for name in body:
        if name not in fields:
            errors.append({"field": name, "message": f"unknown field; allowed fields are {', '.join(fields)}"})
    for name, field in fields.items():
        if name not in body or body[name] is None:
            if field.required:
                errors.append({"field": name, "message": f"is required ({field.rule})"})
            continue
        message = field.check(body[name])
        if message:
            errors.append({"field": name, "message": message})
    if errors:
        raise Problem(
            422, "validation-error", "Invalid Request Body",
            "; ".join(f"{e['field']} {e['message']}" for e in errors),
            f"Fix the fields listed in 'errors'. Example body: {json.dumps(example)}",
            errors=errors,
        )
    return {name: body[name] for name in fields if name in body}


def check_path_user_id(user_id: str) -> str:
    if not USER_ID_PATTERN.match(user_id):
        raise Problem(
            422, "validation-error", "Invalid User Id", f"user_id {user_id[:60]!r} is not allowed.",
            f"user_id must be {USER_ID_RULE}, for example USER0001.",
            errors=[{"field": "user_id", "message": f"must be {USER_ID_RULE}"}],
        )
    return user_id


def parse_limit(default: int = 50, maximum: int = 500) -> int:
    raw = request.args.get("limit")
    if raw is None:
        return default
    if not raw.isdigit() or not 1 <= int(raw) <= maximum:
        raise Problem(
            422, "validation-error", "Invalid Query Parameter", f"limit={raw[:20]!r} is not allowed.",
            f"limit must be an integer from 1 to {maximum}, for example ?limit=20.",
            errors=[{"field": "limit", "message": f"must be an integer from 1 to {maximum}"}],
        )
    return int(raw)
