"""Keyset paging shared by the list endpoints: an opaque cursor and the RFC 8288 `Link` header."""
from __future__ import annotations

import base64
from urllib.parse import urlencode

from flask import Response, jsonify, request

from services.platform import problems
from services.platform.fields import Field

# Exactly what encode_cursor makes: "v1:" and a row id of 1-21 digits, in unpadded URL-safe base64
# (three digits make four characters; one or two left over make two or three).
_DIGITS_3 = "(?:M[DTjz]|N[DTjz]|O[DT])[AEIMQUYcgk][w-z0-5]"
_DIGITS_2 = "(?:M[DTjz]|N[DTjz]|O[DT])[AEIMQUYcgk]"
_DIGITS_1 = "(?:M[AQgw]|N[AQgw]|O[AQ])"
CURSOR = Field(str, pattern=f"djE6(?:{_DIGITS_3}){{0,6}}(?:{_DIGITS_3}|{_DIGITS_2}|{_DIGITS_1})",
               rule="a cursor from a Link header", example=base64.urlsafe_b64encode(b"v1:42").decode().rstrip("="))


def encode_cursor(row_id: int) -> str:
    return base64.urlsafe_b64encode(f"v1:{row_id}".encode()).decode().rstrip("=")


def decode_cursor() -> int | None:
    """The row id to continue below (lists are newest first), or None for the first page."""
    raw = request.args.get("cursor")
    if raw is None:
        return None
    try:
        if CURSOR.check(raw) is not None:
            raise ValueError(raw)
        decoded = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)).decode()
        version, row_id = decoded.split(":", 1)
        if version != "v1" or not (row_id.isascii() and row_id.isdigit()):
            raise ValueError(decoded)
        return int(row_id)
    except (ValueError, UnicodeDecodeError):
        raise problems.invalid_parameter(
            "cursor", "unknown cursor", "cursor is not a cursor this service issued.",
            "Drop the cursor to start from the newest item, or copy the whole next URL from the Link header.",
        ) from None


def next_link(rows: list[dict], limit: int) -> str | None:
    """The `Link: <...>; rel="next"` value when a full page suggests more rows, else None.

    `rows` carry their internal `id`; the URL keeps the request's other query parameters."""
    if len(rows) < limit:
        return None
    params = {k: v for k, v in request.args.items() if k not in {"cursor", "limit"}}
    params.update(limit=str(limit), cursor=encode_cursor(rows[-1]["id"]))
    return f'<{request.path}?{urlencode(params)}>; rel="next"'


def page_response(rows: list[dict], limit: int, view) -> Response:
    """The JSON array of `view(row)` for one page, with the Link header when a next page may exist."""
    response = jsonify([view(row) for row in rows])
    link = next_link(rows, limit)
    if link:
        response.headers["Link"] = link
    return response
