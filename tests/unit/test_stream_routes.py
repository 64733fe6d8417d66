"""The two live streams' routes in process: who may open which stream, what is answered before a stream starts
(problem+json with a hint), and how a stream starts (retry first, then the replay of what a client missed)."""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime

import pytest

from services import delivery_ms, order_ms
from services.platform import streams
from services.platform.auth import ROLE_STAFF
from tests.unit.fake_change_log import MemoryChangeLog

CHANGED_AT = datetime(2026, 12, 7, 12, 0, 0)


def order_change(row_id: int, user_id: str = "USER0001", kind: str = "DELIVERY") -> dict:
    return {"id": row_id, "user_id": user_id, "order_id": f"order-{row_id}", "kind": kind, "delivery_id": "d-1",
            "status": "IN_DELIVERY", "cancel_outcome": "REFUSED" if kind == "CANCEL" else None,
            "reason": "already IN_DELIVERY" if kind == "CANCEL" else None, "updated_at": CHANGED_AT}


def stream_app(factory, settings, change_log_of):
    app = factory(settings)
    app.config["TESTING"] = True
    feed = app.extensions[streams.FEED]
    feed.background = False  # rows are committed before the stream opens: the replay serves them
    memory = MemoryChangeLog(feed.log.event, feed.log.scope_column)
    memory.data_of = feed.log.data_of
    feed.log = memory
    change_log_of.append(memory)
    return app


@pytest.fixture
def logs():
    return []


@pytest.fixture
def order_streams(order_settings, order_store, logs):
    order_store.create_user(None, "USER0001", "x", "customer")
    return stream_app(order_ms.create_stream_app, order_settings, logs).test_client()


@pytest.fixture
def board_streams(delivery_settings, delivery_store, logs):
    # The fake store answers the revocation check (no account has revoked anything).
    return stream_app(delivery_ms.create_stream_app, delivery_settings, logs).test_client()


def first_chunks(response, count: int) -> str:
    chunks = iter(response.response)
    text = "".join(next(chunks).decode() for _ in range(count))
    response.close()
    return text


def test_a_customer_stream_starts_with_retry_then_replays_their_changes_after_last_event_id(order_streams, logs,
                                                                                           token):
    (change_log,) = logs
    change_log.commit(order_change(1), order_change(2, "USER0002"), order_change(3, kind="CANCEL"))
    response = order_streams.get("/order-ms/USER0001/orders/events", headers={**token("USER0001"),
                                                                             "Last-Event-ID": "0"}, buffered=False)
    assert response.status_code == 200
    assert response.mimetype == "text/event-stream" and response.headers["X-Accel-Buffering"] == "no"
    text = first_chunks(response, 3)
    assert text.startswith("retry: 2000\n\n")
    assert 'event: order-status\nid: 1\ndata: {"order_id":"order-1","delivery_id":"d-1","status":"IN_DELIVERY",' \
           '"updated_at":"2026-12-07T12:00:00.000000Z","cancel":null}\n\n' in text
    assert 'id: 3\n' in text and '"cancel":{"outcome":"REFUSED","reason":"already IN_DELIVERY"}' in text
    assert "id: 2\n" not in text


def test_the_query_parameter_is_the_first_connects_last_event_id_and_the_header_wins(order_streams, logs, token):
    (change_log,) = logs
    change_log.commit(order_change(1), order_change(2))
    response = order_streams.get("/order-ms/USER0001/orders/events?last_event_id=0",
                                 headers={**token("USER0001"), "Last-Event-ID": "1"}, buffered=False)
    text = first_chunks(response, 2)
    assert "id: 2\n" in text and "id: 1\n" not in text


def test_staff_may_watch_a_customers_stream(order_streams, token):
    response = order_streams.get("/order-ms/USER0001/orders/events", headers=token("barista", ROLE_STAFF),
                                 buffered=False)
    assert response.status_code == 200
    response.close()


@pytest.mark.parametrize("headers, status, slug", [
    ({}, 401, "unauthorized"),
    ({"Authorization": "Bearer nonsense"}, 401, "unauthorized"),
])
def test_no_valid_token_is_refused_before_the_stream_starts(order_streams, board_streams, headers, status, slug):
    for client, path in ((order_streams, "/order-ms/USER0001/orders/events"),
                         (board_streams, "/delivery-ms/deliveries/events")):
        response = client.get(path, headers=headers)
        assert response.status_code == status and response.mimetype == "application/problem+json"
        assert response.json["type"] == f"/problems/{slug}" and "/order-ms/login" in response.json["hint"]


def test_another_customers_stream_is_forbidden_with_a_hint(order_streams, token):
    response = order_streams.get("/order-ms/USER0001/orders/events", headers=token("USER0002"))
    assert response.status_code == 403 and "/order-ms/USER0002/" in response.json["hint"]


def test_the_board_is_staff_only(board_streams, token):
    response = board_streams.get("/delivery-ms/deliveries/events", headers=token("USER0001"))
    assert response.status_code == 403 and "staff" in response.json["hint"]


def test_an_unknown_user_is_not_found(order_streams, token):
    response = order_streams.get("/order-ms/NOBODY/orders/events", headers=token("barista", ROLE_STAFF))
    assert response.status_code == 404 and response.json["hint"]


@pytest.mark.parametrize("header", ["abc", "-1", "1.5", "9" * 20, "١٢", "1 2"])
def test_a_last_event_id_that_is_no_event_id_is_refused(order_streams, token, header):
    response = order_streams.get("/order-ms/USER0001/orders/events", headers={**token("USER0001"),
                                                                             "Last-Event-ID": header})
    assert response.status_code == 422 and response.json["errors"][0]["field"] == "Last-Event-ID"
    assert "last event you received" in response.json["hint"]


def test_beyond_the_limit_a_stream_is_refused_with_retry_after(delivery_settings, delivery_store, logs, token):
    client = stream_app(delivery_ms.create_stream_app, replace(delivery_settings, stream_max_per_instance=1),
                        logs).test_client()
    staff = token("barista", ROLE_STAFF)
    open_stream = client.get("/delivery-ms/deliveries/events", headers=staff, buffered=False)
    refused = client.get("/delivery-ms/deliveries/events", headers=staff)
    assert refused.status_code == 503 and refused.headers["Retry-After"] == "5"
    assert refused.json["type"] == "/problems/too-many-streams" and "Last-Event-ID" in refused.json["hint"]
    open_stream.close()
    again = client.get("/delivery-ms/deliveries/events", headers=staff, buffered=False)
    assert again.status_code == 200
    again.close()


def test_a_last_event_id_ahead_of_the_feed_is_not_sent_again(order_streams, logs, token):
    """The client saw id 2, but the feed (which polls) stood at 1 when the stream opened: 2 comes from the feed
    and must not reach the client twice."""
    (change_log,) = logs
    change_log.commit(order_change(1))
    response = order_streams.get("/order-ms/USER0001/orders/events", headers={**token("USER0001"),
                                                                             "Last-Event-ID": "2"}, buffered=False)
    feed = order_streams.application.extensions[streams.FEED]
    change_log.commit(order_change(2), order_change(3))
    feed.poll_once()
    text = first_chunks(response, 2)
    assert "id: 3\n" in text and "id: 2\n" not in text


def test_an_empty_header_leaves_the_query_parameter_to_be_checked(order_streams, token):
    response = order_streams.get("/order-ms/USER0001/orders/events?last_event_id=x",
                                 headers={**token("USER0001"), "Last-Event-ID": ""})
    assert response.status_code == 422 and response.json["errors"][0]["field"] == "last_event_id"
