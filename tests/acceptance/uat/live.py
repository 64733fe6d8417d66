"""What a user does with the live parts of issue 23: the order's view, the two streams and a cancel request."""
from __future__ import annotations

from collections.abc import Callable

from tests.acceptance.uat.checks import wait_until
from tests.acceptance.uat.client import Api
from tests.acceptance.uat.flows import Account, orders_path
from tests.acceptance.uat.streams import EventStream

ORDER_EVENT = "order-status"
BOARD_EVENT = "delivery-status"
ORDER_EVENT_FIELDS = {"order_id", "delivery_id", "status", "updated_at", "cancel"}
BOARD_EVENT_FIELDS = {"delivery_id", "order_id", "user_id", "status", "previous_status", "version", "updated_at"}
DELIVERY_VIEW_FIELDS = {"delivery_id", "status", "updated_at"}
CANCEL_VIEW_FIELDS = {"outcome", "requested_at", "reason", "decided_at"}
BOARD_STREAM_PATH = "/delivery-ms/deliveries/events"
RETRY_MILLISECONDS = 2000


def order_stream_path(user_id: str) -> str:
    return f"{orders_path(user_id)}/events"


def order_path(user_id: str, order_id: str) -> str:
    return f"{orders_path(user_id)}/{order_id}"


def open_order_stream(api: Api, user_id: str, token: str | None, *, last_event_id: str | None = None,
                      params: dict | None = None) -> EventStream:
    """The customer's order stream, as `token` opens it (refusals come back as they are: see EventStream)."""
    return EventStream(api.base_url, order_stream_path(user_id), token=token, last_event_id=last_event_id,
                       params=params, api=api)


def open_board_stream(api: Api, token: str | None, *, last_event_id: str | None = None) -> EventStream:
    return EventStream(api.base_url, BOARD_STREAM_PATH, token=token, last_event_id=last_event_id, api=api)


def following(stream: EventStream) -> EventStream:
    """An opened stream once it is subscribed (its retry field read): changes after this moment reach it."""
    stream.started()
    return stream


def order_view(api: Api, account: Account, order_id: str, token: str | None = None) -> dict:
    response = api.get(order_path(account.user_id, order_id), token=token or account.token)
    assert response.status_code == 200, f"order view: {response.status_code} {response.text[:300]}"
    return response.json()


def wait_for_view(api: Api, account: Account, order_id: str, wanted: Callable[[dict], bool], what: str) -> dict:
    """Polls the order's view until `wanted(view)`; returns that view."""
    def probe():
        view = order_view(api, account, order_id)
        return view if wanted(view) else None
    return wait_until(probe, what)


def delivery_status_is(status: str) -> Callable[[dict], bool]:
    return lambda view: (view.get("delivery") or {}).get("status") == status


def cancel_outcome_is(*outcomes: str) -> Callable[[dict], bool]:
    return lambda view: (view.get("cancel") or {}).get("outcome") in outcomes


def cancel(api: Api, user_id: str, order_id: str, token: str | None):
    """POST the cancel request (no body)."""
    return api.post(f"{order_path(user_id, order_id)}/cancel", token=token)


def of_order(order_id: str) -> Callable[[dict], bool]:
    return lambda data: data.get("order_id") == order_id


def staff_move(api: Api, staff: Account, delivery_id: str, status: str) -> dict:
    """Staff move a delivery; the move must be accepted."""
    response = api.put(f"/delivery-ms/deliveries/{delivery_id}/status", json={"status": status}, token=staff.token)
    assert response.status_code == 200, f"move to {status}: {response.status_code} {response.text[:300]}"
    return response.json()


def delivery_status_in_delivery_ms(api: Api, staff: Account, delivery_id: str) -> str:
    response = api.get(f"/delivery-ms/deliveries/{delivery_id}", token=staff.token)
    assert response.status_code == 200, f"delivery: {response.status_code} {response.text[:300]}"
    return response.json()["status"]
