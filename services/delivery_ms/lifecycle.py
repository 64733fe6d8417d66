"""What each `new_orders` event does to its order's delivery, as a plan without SQL: the store reads the
deliveries a batch names, lets `plan_batch` apply the events in order, and writes the plan in one transaction.

- OrderCreated: a new CONFIRMED delivery (version 1). For a delivery that already exists (a redelivery, or order-ms's
  reconciler re-publishing an order it saw no delivery event for) its current state is published again, same
  version: readers that have it ignore it, a reader that missed it catches up.
- OrderCancelRequested: a CONFIRMED delivery becomes CANCELED (version + 1); a delivery staff already moved on is
  refused with the reason (OrderCancelRefused); an order whose creation was never seen gets its delivery
  CANCELED at once (version 1), so the creation arriving later is a duplicate; an already CANCELED delivery needs
  nothing. A redelivered cancel of a delivery staff moved on is refused again, same status and version: order-ms
  decides a cancel request once, so the second refusal changes nothing there.
Every creation and every change is a `DeliveryStatusChanged` event in the outbox (which the staff board's stream
reads too). A delivery keeps the trace context it was created in (its order's), and each later change continues that
trace (docs/tracing.md)."""
from __future__ import annotations

import json
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, field, replace
from datetime import datetime

from services.contracts import delivery_status_changed, order_cancel_refused, order_cancel_requested, order_created
from services.contracts.envelope import Message, TypedEvent
from services.delivery_ms.statuses import DeliveryStatus
from services.platform.ids import new_id
from services.platform.timefmt import iso_utc
from services.platform.tracing import continue_trace, item_context, traceparent

# A customer may cancel only before staff has moved the delivery on; staff may cancel later too (statuses.py).
CUSTOMER_CANCELABLE = (DeliveryStatus.CONFIRMED,)


def refusal_reason(status: str) -> str:
    return f"The delivery is already {status}; only a CONFIRMED delivery can be canceled."


@dataclass(frozen=True)
class Delivery:
    """One delivery's state as the plan sees it; `stored` when its row exists in the database already."""

    delivery_id: str
    order_id: str
    user_id: str
    status: str
    version: int
    updated_at: datetime
    previous_status: str | None = None
    order_json: str = ""
    stored: bool = True
    # The W3C traceparent the delivery was created in (its row's `traceparent`: the order's record's process span);
    # None for one created with tracing off or before deliveries kept it.
    origin_traceparent: str | None = None

    def change(self) -> dict:
        """The delivery's state as a DeliveryStatusChanged value (the change that led to it)."""
        return {"delivery_id": self.delivery_id, "order_id": self.order_id, "status": self.status,
                "previous_status": self.previous_status, "updated_at": iso_utc(self.updated_at),
                "version": self.version}

    def change_span(self):
        """While inside, the change to this state continues the trace the delivery was created in, whoever asked
        for it (a staff member's request, a customer's cancel record), linked both ways with the asking span;
        nothing for a delivery that kept no trace (the change stays in the asker's)."""
        attributes = {"delivery.id": self.delivery_id, "delivery.order_id": self.order_id,
                      "delivery.status": self.status, "delivery.previous_status": self.previous_status,
                      "delivery.version": self.version}
        return continue_trace(f"delivery {self.status}", self.origin_traceparent,
                              {name: value for name, value in attributes.items() if value is not None})


@dataclass
class Plan:
    """What a batch of events does: the deliveries (by order_id) as they end, each creation or change in order,
    the events to publish in order, and how many of the batch's events were news (the rest were redeliveries)."""

    deliveries: dict[str, Delivery]
    changes: list[Delivery] = field(default_factory=list)
    messages: list[Message] = field(default_factory=list)
    applied: int = 0
    changed_order_ids: set[str] = field(default_factory=set)

    def new_deliveries(self) -> list[Delivery]:
        return [d for d in self.deliveries.values() if not d.stored]

    def moved_deliveries(self) -> list[Delivery]:
        """Stored deliveries whose row must be updated."""
        return [d for order_id, d in self.deliveries.items() if d.stored and order_id in self.changed_order_ids]

    def record(self, delivery: Delivery) -> None:
        """A creation or a change: the delivery's new state and its event. A creation keeps the trace it is made in;
        a change continues the delivery's (`Delivery.change_span`)."""
        created = delivery.order_id not in self.deliveries
        with nullcontext() if created else delivery.change_span():
            if created and (origin := traceparent()) is not None:
                delivery = replace(delivery, origin_traceparent=origin)
            self.messages.append(delivery_status_changed.build(delivery.change()))
        self.deliveries[delivery.order_id] = delivery
        self.changed_order_ids.add(delivery.order_id)
        self.changes.append(delivery)
        self.applied += 1


def new_delivery(order: dict, status: DeliveryStatus, now: datetime, delivery_id: str) -> Delivery:
    return Delivery(delivery_id=delivery_id, order_id=order["order_id"], user_id=order["user_id"], status=status.value,
                    version=1, updated_at=now, previous_status=None, stored=False,
                    order_json=json.dumps({name: order[name] for name in order_created.FIELDS}))


def order_created_event(plan: Plan, order: dict, now: datetime, make_id: Callable[[], str]) -> None:
    delivery = plan.deliveries.get(order["order_id"])
    if delivery is None:
        plan.record(new_delivery(order, DeliveryStatus.CONFIRMED, now, make_id()))
    else:
        plan.messages.append(delivery_status_changed.build(delivery.change()))


def order_cancel_requested_event(plan: Plan, request: dict, now: datetime, make_id: Callable[[], str]) -> None:
    delivery = plan.deliveries.get(request["order_id"])
    if delivery is None:
        plan.record(new_delivery(request, DeliveryStatus.CANCELED, now, make_id()))
    elif delivery.status in CUSTOMER_CANCELABLE:
        plan.record(replace(delivery, status=DeliveryStatus.CANCELED.value, previous_status=delivery.status,
                            version=delivery.version + 1, updated_at=now))
    elif delivery.status != DeliveryStatus.CANCELED:
        plan.messages.append(order_cancel_refused.build({
            "delivery_id": delivery.delivery_id, "order_id": delivery.order_id, "status": delivery.status,
            "version": delivery.version, "reason": refusal_reason(delivery.status), "refused_at": iso_utc(now)}))
        plan.applied += 1


HANDLERS = {
    order_created.EVENT_TYPE: order_created_event,
    order_cancel_requested.EVENT_TYPE: order_cancel_requested_event,
}


def plan_batch(stored: dict[str, Delivery], events: list[TypedEvent], now: datetime,
               make_id: Callable[[], str] = new_id) -> Plan:
    """Apply `events` in order to the `stored` deliveries of their orders (by order_id). Each event's messages are
    made in the trace its record came with (when tracing is on), so they carry its order's trace on."""
    plan = Plan(deliveries=dict(stored))
    for event in events:
        with item_context(event):
            HANDLERS[event.event_type](plan, event.value, now, make_id)
    return plan
