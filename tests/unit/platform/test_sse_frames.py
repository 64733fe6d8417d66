"""Server-sent events as the WHATWG EventSource parser reads them: one event per blank-line-ended block."""
from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.platform.sse import comment, event, retry
from tests.support.sse import parse


def test_an_event_has_its_name_id_and_json_data():
    frame = event("order-status", 42, {"order_id": "o-1", "status": "IN_DELIVERY"})
    assert frame.endswith("\n\n")
    (block,) = parse(frame)
    assert block["event"] == "order-status" and block["id"] == "42"
    assert json.loads(block["data"]) == {"order_id": "o-1", "status": "IN_DELIVERY"}


def test_retry_and_comments_are_blocks_of_their_own():
    assert parse(retry(2000)) == [{"retry": "2000"}]
    assert parse(comment("keep-alive")) == [{"comments": ["keep-alive"]}]


@pytest.mark.parametrize("name", ["order\nstatus", "a\rb", ""])
def test_an_event_name_that_would_break_the_frame_is_refused(name):
    with pytest.raises(ValueError):
        event(name, 1, {})


@given(st.dictionaries(st.text(), st.one_of(st.text(), st.integers(), st.none())), st.integers(min_value=0))
def test_any_json_value_survives_the_frame(data, event_id):
    (block,) = parse(event("x", event_id, data))
    assert json.loads(block["data"]) == data and block["id"] == str(event_id)
