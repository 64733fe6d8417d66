"""What the tracing cases do again and again: a known W3C traceparent, an order placed and moved with it, and the
questions asked of the spans the receiver got."""
from __future__ import annotations

import secrets
from dataclasses import dataclass

from scripts.stack.otlp import Span
from tests.acceptance.uat.checks import wait_until
from tests.acceptance.uat.client import Api
from tests.acceptance.uat.flows import Account, orders_path, place_order, wait_for_delivery

# The processes one order's trace crosses when its delivery is moved by a client that carries the trace on.
SIX_PROCESSES = ("order-ms", "order-relay", "delivery-consumer", "delivery-ms", "delivery-relay",
                 "order-status-consumer")


@dataclass(frozen=True)
class Caller:
    """A client's own span in trace `trace_id`: what it sends as traceparent."""

    trace_id: str
    span_id: str

    @classmethod
    def new(cls) -> Caller:
        return cls(secrets.token_hex(16), secrets.token_hex(8))

    def child(self) -> Caller:
        """Another span of the same trace (the client's next call)."""
        return Caller(self.trace_id, secrets.token_hex(8))

    @property
    def traceparent(self) -> str:
        return f"00-{self.trace_id}-{self.span_id}-01"

    @property
    def headers(self) -> dict[str, str]:
        return {"traceparent": self.traceparent}


def by_service(spans: list[Span]) -> dict[str, list[Span]]:
    grouped: dict[str, list[Span]] = {}
    for span in spans:
        grouped.setdefault(span.service, []).append(span)
    return grouped


def one(spans: list[Span], what: str, **match) -> Span:
    found = [span for span in spans if all(getattr(span, key) == value for key, value in match.items())]
    assert len(found) == 1, f"expected one {what}, found {len(found)}: {[(s.service, s.name) for s in spans]}"
    return found[0]


def server_span(spans: list[Span], service: str, method: str, parent: str) -> Span:
    """The SERVER span of `service` for the request whose traceparent named `parent`."""
    return one([s for s in spans if s.service == service and s.kind == "SERVER" and s.name.startswith(method)],
               f"{method} SERVER span of {service} under {parent}", parent_span_id=parent)


def order_through(api: Api, customer: Account, staff: Account, caller: Caller, final: str = "COMPLETED") -> dict:
    """An order placed through the ingress with `caller`'s traceparent, its delivery moved to `final` by staff
    whose PUTs carry the same trace on; returns {order, delivery, puts: [Caller]}."""
    order = place_order(api, customer, headers=caller.headers)
    delivery = wait_for_delivery(api, customer.token, order["order_id"])
    puts = []
    for status in ("IN_DELIVERY", final):
        put = caller.child()
        response = move_with(api, staff, delivery["delivery_id"], status, put)
        assert response.status_code == 200, f"move to {status}: {response.status_code} {response.text[:300]}"
        puts.append(put)
    wait_until(lambda: order_status(api, customer, order["order_id"]) == final,
               f"order {order['order_id']} showing {final} to its customer")
    return {"order": order, "delivery": delivery, "puts": puts}


def move_with(api: Api, staff: Account, delivery_id: str, status: str, caller: Caller):
    return api.put(f"/delivery-ms/deliveries/{delivery_id}/status", json={"status": status}, token=staff.token,
                   headers=caller.headers)


def order_status(api: Api, customer: Account, order_id: str) -> str | None:
    response = api.get(f"{orders_path(customer.user_id)}/{order_id}", token=customer.token)
    delivery = response.json().get("delivery") if response.status_code == 200 else None
    return (delivery or {}).get("status")

