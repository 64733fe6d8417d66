"""In-memory stand-ins for the two services' stores, so the in-process route tests need no MariaDB.

Each fake has every store function its service calls, with the real one's parameters
(tests/unit/test_fake_stores.py), and answers as the real one does for what the routes rely on: ids that grow,
newest first below a cursor, an Idempotency-Key that replays or conflicts, order-ms's user ids and keys compared
byte for byte (utf8mb4_bin) with an account found by its id in any case (users.user_key), delivery-ms's ids
compared without regard to case (utf8mb4_unicode_ci), owners that see only their own deliveries, the status
rules of statuses.py. They build their answers with the real stores' views and raise the real stores' errors;
tests/integration/test_fake_stores.py runs the same checks against both them and MariaDB."""
from __future__ import annotations

import uuid
from collections import Counter

from services.contracts import order_created
from services.contracts.envelope import TypedEvent
from services.delivery_ms import lifecycle
from services.delivery_ms import store as delivery_store
from services.delivery_ms.statuses import DeliveryStatus, check_move
from services.order_ms import cancel_store
from services.order_ms import read_model as order_read_model
from services.order_ms import store as order_store
from services.platform.timefmt import iso_utc, utc_now


def order_created_events(orders: list[dict]) -> list[TypedEvent]:
    """Orders as the consumer hands them to the store: parsed OrderCreated events."""
    return [TypedEvent(order_created.EVENT_TYPE, order) for order in orders]


def _same(a: str | None, b: str | None) -> bool:
    """Equal as MariaDB compares utf8mb4_unicode_ci columns: without regard to case."""
    return a is not None and b is not None and a.casefold() == b.casefold()


def _exact(a: str | None, b: str | None) -> bool:
    """Equal as MariaDB compares utf8mb4_bin columns: byte for byte."""
    return a is not None and a == b


def _newest_first(rows: list[dict], limit: int, before_id: int | None) -> list[dict]:
    return [row for row in reversed(rows) if before_id is None or row["id"] < before_id][:limit]


class FakeOrderStore:
    """order-ms's orders, accounts and throttle counters in memory, and the read model's deliveries and cancels
    (set with `follow`, as the status consumer would)."""

    FUNCTIONS = ("create_order", "list_orders", "get_order", "create_user", "get_user", "set_password",
                 "admit_login", "count_in_window", "take_back_count", "take_back_failure", "remove_stale_counters",
                 "device_vouches", "device_known", "remember_device")
    READ_MODEL_FUNCTIONS = ("delivery_and_cancel",)

    def __init__(self):
        self.orders: list[dict] = []
        self.users: list[dict] = []
        self.counters: Counter[tuple[str, str]] = Counter()
        # (token hash, account's lower-case id) -> when it last logged in, in the order they did.
        self.devices: dict[tuple[str, str], int] = {}
        self._logins = 0
        self.followed: dict[str, tuple[dict | None, dict | None]] = {}

    def install(self, monkeypatch) -> None:
        for name in self.FUNCTIONS:
            monkeypatch.setattr(order_store, name, getattr(self, name))
        self.cancels = FakeCancelStore(self)
        self.cancels.install(monkeypatch)
        for name in self.READ_MODEL_FUNCTIONS:
            monkeypatch.setattr(order_read_model, name, getattr(self, name))

    def follow(self, order_id: str, delivery: dict | None, cancel: dict | None = None) -> None:
        """What the read model knows of an order, in the views' shape."""
        self.followed[order_id] = (delivery, cancel)

    def delivery_and_cancel(self, pool, order_ids):
        return {order_id: self.followed.get(order_id, (None, None)) for order_id in order_ids}

    def create_order(self, pool, user_id, fields, idempotency_key, request_hash):
        if idempotency_key:
            existing = next((row for row in self.orders if _exact(row["user_id"], user_id)
                             and _exact(row["idempotency_key"], idempotency_key)), None)
            if existing:
                if existing["request_hash"] != request_hash:
                    raise order_store.IdempotencyConflict(order_store.order_view(existing))
                return order_store.order_view(existing), False
        row = {"id": len(self.orders) + 1, "order_id": str(uuid.uuid4()), "user_id": user_id, **fields,
               "ordered_at": utc_now(), "idempotency_key": idempotency_key, "request_hash": request_hash}
        self.orders.append(row)
        return order_store.order_view(row), True

    def list_orders(self, pool, user_id, limit, before_id):
        return _newest_first([row for row in self.orders if _exact(row["user_id"], user_id)], limit, before_id)

    def get_order(self, pool, user_id, order_id):
        row = next((row for row in self.orders if _exact(row["user_id"], user_id)
                    and _same(row["order_id"], order_id)), None)
        return order_store.order_view(row) if row else None

    def create_user(self, pool, user_id, password_hash, role):
        if self.get_user(pool, user_id):
            return None
        created_at = utc_now()
        self.users.append({"user_id": user_id, "password_hash": password_hash, "role": role})
        return {"user_id": user_id, "role": role, "created_at": iso_utc(created_at)}

    def get_user(self, pool, user_id):
        return next((dict(user) for user in self.users if _same(user["user_id"], user_id)), None)

    def set_password(self, pool, user_id, password_hash):
        for user in self.users:
            if _exact(user["user_id"], user_id):
                user["password_hash"] = password_hash

    # The throttle's counters without their clock: a window never ends within a test. Their timing (slow-downs
    # that double, windows that end) is proven against MariaDB in tests/integration/order_ms/test_auth.py.
    def count_in_window(self, pool, scope, subject, limit, window_seconds):
        self.counters[scope, subject] += 1
        return 0 if self.counters[scope, subject] <= limit else window_seconds

    def take_back_count(self, pool, scope, subject):
        self.counters[scope, subject] = max(self.counters[scope, subject] - 1, 0)

    def admit_login(self, pool, locks, rates, lockout_seconds, rate_window_seconds):
        for counters, seconds in ((locks, 1), (rates, rate_window_seconds)):
            refused = next((scope for scope, subject, limit in counters if self.counters[scope, subject] >= limit),
                           None)
            if refused:
                return seconds, refused
        for scope, subject, _limit in (*locks, *rates):
            self.counters[scope, subject] += 1
        return 0, None

    def take_back_failure(self, pool, cleared, uncounted):
        self.counters.pop(cleared, None)
        if uncounted is not None:
            scope, subject, _limit = uncounted
            self.counters[scope, subject] = max(self.counters[scope, subject] - 1, 0)

    # Device tokens never expire without a clock; how many an account keeps is kept.
    def device_vouches(self, pool, token_hash, user_id, ttl_seconds):
        return (token_hash, user_id.lower()) in self.devices

    def device_known(self, pool, token_hash, ttl_seconds):
        return any(hashed == token_hash for hashed, _account in self.devices)

    def remember_device(self, pool, token_hash, user_id, ttl_seconds, keep):
        self._logins += 1
        self.devices[token_hash, user_id.lower()] = self._logins
        mine = sorted((when, key) for key, when in self.devices.items() if key[1] == user_id.lower())
        for _when, key in mine[:-keep] if keep else mine:
            del self.devices[key]

    def remove_stale_counters(self, pool, window_seconds, batch):
        """Nothing is stale without a clock."""


class FakeCancelStore:
    """order-ms's cancel requests over a FakeOrderStore's orders, with the delivery statuses its read model would
    know (`deliveries`, set by the test as the status consumer would)."""

    FUNCTIONS = ("request_cancel",)

    def __init__(self, orders: FakeOrderStore):
        self.orders = orders
        self.requests: dict[str, dict] = {}
        self.deliveries: dict[str, dict] = {}
        # What the real store adds to its outbox: (order_id, requested_at) of every accepted request.
        self.published: list[tuple[str, str]] = []

    def install(self, monkeypatch) -> None:
        for name in self.FUNCTIONS:
            monkeypatch.setattr(cancel_store, name, getattr(self, name))

    def set_delivery(self, order_id: str, status: str) -> None:
        """The read model's row for the order, as the status consumer writes it from a DeliveryStatusChanged."""
        self.deliveries[order_id] = {"delivery_id": str(uuid.uuid4()), "status": status, "updated_at": utc_now()}

    def request_cancel(self, pool, user_id, order_id):
        row = next((row for row in self.orders.orders if _exact(row["user_id"], user_id)
                    and _same(row["order_id"], order_id)), None)
        if row is None:
            raise cancel_store.OrderNotFound(order_id)
        order = order_store.order_view(row)
        if order["order_id"] in self.requests:
            raise cancel_store.CancelAlreadyRequested(cancel_store.cancel_view(self.requests[order["order_id"]]))
        delivery = self.deliveries.get(order["order_id"])
        if delivery is not None and delivery["status"] != cancel_store.CANCELABLE_STATUS:
            raise cancel_store.CancelNotAllowed(delivery["status"])
        request = {"outcome": "PENDING", "requested_at": utc_now(), "reason": None, "decided_at": None}
        self.requests[order["order_id"]] = request
        self.published.append((order["order_id"], iso_utc(request["requested_at"])))
        return {**order, "delivery": cancel_store.delivery_view(delivery), "cancel": cancel_store.cancel_view(request)}


class FakeDeliveryStore:
    """delivery-ms's deliveries in memory."""

    FUNCTIONS = ("apply_order_events", "list_deliveries", "get_delivery", "change_status", "count_by_status")

    def __init__(self):
        self.rows: list[dict] = []

    def install(self, monkeypatch) -> None:
        for name in self.FUNCTIONS:
            monkeypatch.setattr(delivery_store, name, getattr(self, name))

    def add(self, user_id: str, status: str = "CONFIRMED") -> dict:
        """A delivery of a new order of `user_id`, as the consumer makes it, put in `status`; its API view."""
        order = {"user_id": user_id, "order_id": str(uuid.uuid4()), "coffee_name": "jslee", "coffee_price": 2000,
                 "coffee_qty": 1, "ordered_at": iso_utc(utc_now())}
        self.apply_order_events(None, order_created_events([order]))
        self.rows[-1]["status"] = status
        return delivery_store.delivery_view(self.rows[-1])

    def apply_order_events(self, pool, events):
        """The real store's plan (lifecycle.py), applied to the rows in memory."""
        stored = {row["order_id"]: lifecycle.Delivery(
            delivery_id=row["delivery_id"], order_id=row["order_id"], user_id=row["user_id"], status=row["status"],
            version=row["version"], updated_at=row["updated_at"]) for row in self.rows}
        plan = lifecycle.plan_batch(stored, events, utc_now())
        for delivery in plan.new_deliveries():
            self.rows.append({"id": len(self.rows) + 1, "delivery_id": delivery.delivery_id,
                              "order_id": delivery.order_id, "user_id": delivery.user_id,
                              "order_json": delivery.order_json, "status": delivery.status,
                              "version": delivery.version, "created_at": delivery.updated_at,
                              "updated_at": delivery.updated_at})
        for delivery in plan.moved_deliveries():
            self._row(delivery.delivery_id).update(status=delivery.status, version=delivery.version,
                                                   updated_at=delivery.updated_at)
        return plan.applied

    def list_deliveries(self, pool, owner, status, limit, before_id):
        rows = [row for row in self.rows if (owner is None or _same(row["user_id"], owner))
                and (status is None or row["status"] == status)]
        return _newest_first(rows, limit, before_id)

    def get_delivery(self, pool, delivery_id, owner):
        row = self._row(delivery_id)
        if row is None or (owner is not None and not _same(row["user_id"], owner)):
            return None
        return delivery_store.delivery_view(row)

    def change_status(self, pool, delivery_id, wanted):
        row = self._row(delivery_id)
        if row is None:
            raise delivery_store.DeliveryNotFound(delivery_id)
        current = row["status"]
        check_move(current, wanted)
        if wanted != current:
            row.update(status=wanted, version=row["version"] + 1, updated_at=utc_now())
        return {"delivery_id": delivery_id, "status": wanted, "updated_at": iso_utc(row["updated_at"])}, current

    def count_by_status(self, pool):
        counts = Counter(row["status"] for row in self.rows)
        return {status.value: counts[status.value] for status in DeliveryStatus}

    def _row(self, delivery_id: str) -> dict | None:
        return next((row for row in self.rows if _same(row["delivery_id"], delivery_id)), None)
