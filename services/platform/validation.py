"""Reading request input into clean values: JSON bodies against field rules, path segments, `limit`.

Every refusal is a 4xx problem naming the field, with an example the caller can copy."""
from __future__ import annotations

import json

from flask import request

from services.platform import problems
from services.platform.fields import Field, check_fields, clean_fields

MAX_BODY_BYTES = 64 * 1024
DEFAULT_LIMIT = 50
MAX_LIMIT = 500


def read_json_object(example: dict) -> dict:
    """The request body as a JSON object; 415/400 problems (with an example body) otherwise."""
    if not request.is_json:
        raise problems.unsupported_media_type(
            f"The body must be JSON, got Content-Type {request.content_type or 'none'!r}.",
            f"Send 'Content-Type: application/json' with a body like {json.dumps(example)}.",
        )
    raw = request.get_data(cache=True)
    try:
        body = json.loads(raw)
    except RecursionError:
        raise problems.malformed_json("The request body is nested too deeply.",
                                      f"Send a flat JSON object like {json.dumps(example)}.") from None
    except UnicodeDecodeError:
        raise problems.malformed_json("The request body is not valid JSON.",
                                      f"Send a JSON object like {json.dumps(example)}.") from None
    except ValueError as exc:
        # Python refuses to read integers of thousands of digits (its int_max_str_digits limit).
        detail = ("A number in the request body has too many digits." if "digits" in str(exc)
                  else "The request body is not valid JSON.")
        raise problems.malformed_json(detail, f"Send a JSON object like {json.dumps(example)}.") from None
    if not isinstance(body, dict):
        raise problems.malformed_json("The request body must be a JSON object.",
                                      f"Send a JSON object like {json.dumps(example)}.")
    return body


def validate(body: dict, fields: dict[str, Field], example: dict) -> dict:
    """Check every field of `body` against `fields`; 422 with one entry per wrong field."""
    errors = check_fields(body, fields)
    if errors:
        raise problems.invalid_body(
            "; ".join(f"{e['field']} {e['message']}" for e in errors),
            f"Fix the fields listed in 'errors'. Example body: {json.dumps(example)}",
            errors,
        )
    return clean_fields(body, fields)


def read_body(fields: dict[str, Field], example: dict) -> dict:
    """The JSON body, checked against `fields`: what a route that takes a body calls first."""
    return validate(read_json_object(example), fields, example)


def check_path_segment(name: str, value: str, field: Field, example: str, title: str) -> str:
    """A path parameter checked against its rule; 422 naming it otherwise."""
    if field.check(value) is not None:
        raise problems.invalid_body(
            f"{name} {value[:60]!r} is not allowed.", f"{name} must be {field.rule}, for example {example}.",
            [{"field": name, "message": f"must be {field.rule}"}], title=title,
        )
    return value


def parse_limit(default: int = DEFAULT_LIMIT, maximum: int = MAX_LIMIT) -> int:
    raw = request.args.get("limit")
    if raw is None:
        return default
    # isascii(): str.isdigit() also accepts '²' and other digits int() cannot read.
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= maximum:
        raise problems.invalid_parameter(
            "limit", f"must be an integer from 1 to {maximum}", f"limit={raw[:20]!r} is not allowed.",
            f"limit must be an integer from 1 to {maximum}, for example ?limit=20.",
        )
    return int(raw)
