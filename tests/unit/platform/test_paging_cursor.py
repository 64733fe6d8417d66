"""The paging cursor's rule: exactly what encode_cursor makes passes (the OpenAPI document shows the same rule),
anything else is refused before it reaches a query."""
import base64

import pytest
from flask import Flask

from services.platform.paging import CURSOR, decode_cursor, encode_cursor
from services.platform.problems import Problem

app = Flask(__name__)


def decoded(cursor: str):
    with app.test_request_context(query_string={"cursor": cursor}):
        return decode_cursor()


@pytest.mark.parametrize("row_id", [0, 1, 9, 10, 99, 100, 123456, 2**63 - 1, 2**64 - 1, 10**20])
def test_every_issued_cursor_follows_the_rule_and_reads_back(row_id):
    cursor = encode_cursor(row_id)
    assert CURSOR.check(cursor) is None
    assert decoded(cursor) == row_id


@pytest.mark.parametrize("cursor", [
    encode_cursor(42) + "==",                                              # padded
    base64.urlsafe_b64encode(b"v2:42").decode().rstrip("="),                # another version
    base64.urlsafe_b64encode(b"v1:4a").decode().rstrip("="),                # not digits
    base64.urlsafe_b64encode(b"v1:" + b"1" * 22).decode().rstrip("="),      # longer than any row id
    "djE6", "", "djE6NDI!",
])
def test_anything_else_is_refused(cursor):
    assert CURSOR.check(cursor) is not None
    with pytest.raises(Problem) as refused:
        decoded(cursor)
    assert refused.value.status == 422 and refused.value.errors == [{"field": "cursor", "message": "unknown cursor"}]
