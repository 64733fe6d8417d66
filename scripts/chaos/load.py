"""Load through the nginx ingress, as customers make it: orders POSTed with an Idempotency-Key and retried with
the same key when they got no answer or a 5xx, and reads of the customer's orders and deliveries. Every HTTP
attempt is recorded with its start and duration."""
from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

import requests

ORDER_BODY = {"coffee_name": "chaos latte", "coffee_price": 4200, "coffee_qty": 1}
# Per attempt: connecting through nginx is instant locally; an answer may take long during a fault.
REQUEST_TIMEOUT = (3, 15)
# A client retries sooner than Retry-After (5 s) asks, to keep the run short; every retry carries the same key.
RETRY_PAUSE = 0.5


@dataclass
class Attempt:
    """One HTTP request: when it started (time.monotonic()), how long it took, and its status (None: no answer)."""

    kind: str
    started: float
    seconds: float
    status: int | None
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


@dataclass
class OrderOutcome:
    """One order a customer meant to place: its key, every attempt, and the order_id once it got a 201."""

    key: str
    attempts: list[Attempt] = field(default_factory=list)
    order_id: str | None = None
    replayed: bool = False

    @property
    def accepted(self) -> bool:
        return self.order_id is not None


@dataclass(frozen=True)
class Customer:
    user_id: str
    headers: dict

    @classmethod
    def sign_up(cls, base_url: str, label: str) -> Customer:
        user_id = f"chaos-{label}-{uuid.uuid4().hex[:8]}"[:50]
        body = {"user_id": user_id, "password": "chaos-password"}
        requests.post(f"{base_url}/order-ms/users", json=body, timeout=10).raise_for_status()
        login = requests.post(f"{base_url}/order-ms/login", json=body, timeout=10)
        login.raise_for_status()
        return cls(user_id, {"Authorization": f"Bearer {login.json()['access_token']}"})


def _timed(
    session: requests.Session, kind: str, method: str, url: str, **kwargs
) -> tuple[Attempt, requests.Response | None]:
    started = time.monotonic()
    try:
        response = session.request(method, url, timeout=REQUEST_TIMEOUT, **kwargs)
    except requests.RequestException as exc:
        return Attempt(kind, started, time.monotonic() - started, None, f"{type(exc).__name__}: {str(exc)[:160]}"), None
    error = "" if response.ok else response.text[:200]
    return Attempt(kind, started, time.monotonic() - started, response.status_code, error), response


class PlaceOrders:
    """One order per call through the ingress, each with its own Idempotency-Key; an order that got no answer,
    a 5xx or a 429 is sent again with the same key until it is accepted or `retry_for` seconds have passed."""

    def __init__(self, base_url: str, customer: Customer, label: str = "", retry_for: float = 30.0):
        self.url = f"{base_url}/order-ms/{customer.user_id}/orders"
        self.customer = customer
        # Part of every Idempotency-Key, so that two loads of one customer never share a key.
        self.label = label
        self.retry_for = retry_for

    def __call__(self, session: requests.Session, index: int) -> OrderOutcome:
        outcome = OrderOutcome(key=f"{self.customer.user_id}-{self.label}{index}")
        headers = {**self.customer.headers, "Idempotency-Key": outcome.key}
        give_up = time.monotonic() + self.retry_for
        while True:
            attempt, response = _timed(session, "POST order", "POST", self.url, json=ORDER_BODY, headers=headers)
            outcome.attempts.append(attempt)
            if attempt.status == 201:
                outcome.order_id = response.json()["order_id"]
                outcome.replayed = response.headers.get("Idempotent-Replayed") == "true"
                return outcome
            retryable = attempt.status is None or attempt.status >= 500 or attempt.status == 429
            if not retryable or time.monotonic() + RETRY_PAUSE > give_up:
                return outcome
            time.sleep(RETRY_PAUSE)  # the client's back-off between tries, not a wait for the system


class ReadLists:
    """Each call reads the customer's newest deliveries (delivery-ms), then its newest orders (order-ms); the
    reads are not retried here, so every failure nginx could not hide shows."""

    def __init__(self, base_url: str, customer: Customer):
        self.deliveries_url = f"{base_url}/delivery-ms/deliveries?limit=5"
        self.orders_url = f"{base_url}/order-ms/{customer.user_id}/orders?limit=5"
        self.customer = customer

    def __call__(self, session: requests.Session, index: int) -> list[Attempt]:
        return [_timed(session, "GET deliveries", "GET", self.deliveries_url, headers=self.customer.headers)[0],
                _timed(session, "GET orders", "GET", self.orders_url, headers=self.customer.headers)[0]]


class PacedLoad:
    """Calls `operation(session, index)` up to `total` times at `rate` per second on `workers` threads. The
    schedule is fixed in advance (open loop): a slow answer does not slow the next customer down."""

    def __init__(self, operation: Callable, total: int, rate: float, workers: int = 24):
        self.operation = operation
        self.total = total
        self.rate = rate
        self.results: list = []
        self._workers = workers
        self._next = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._start = 0.0

    def start(self) -> PacedLoad:
        self._start = time.monotonic()
        self._threads = [threading.Thread(target=self._work, daemon=True) for _ in range(self._workers)]
        for thread in self._threads:
            thread.start()
        return self

    def stop(self) -> None:
        """Schedule nothing more; what is in flight finishes."""
        self._stop.set()

    def wait(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        return not any(thread.is_alive() for thread in self._threads)

    @property
    def finished(self) -> bool:
        return bool(self._threads) and not any(thread.is_alive() for thread in self._threads)

    @property
    def scheduled(self) -> int:
        return self._next

    def wait_scheduled(self, count: int, timeout: float) -> None:
        """Until `count` calls have been started (e.g. to inject a fault a third of the way through)."""
        deadline = time.monotonic() + timeout
        while self._next < count and not self._stop.is_set():
            if time.monotonic() > deadline:
                raise TimeoutError(f"only {self._next} of {count} calls started within {timeout:.0f}s")
            time.sleep(0.02)

    def _take(self) -> tuple[int, float] | None:
        with self._lock:
            if self._stop.is_set() or self._next >= self.total:
                return None
            index = self._next
            self._next += 1
        return index, self._start + index / self.rate

    def _work(self) -> None:
        session = requests.Session()
        while (slot := self._take()) is not None:
            index, due = slot
            # Pacing: the schedule is the load's rate, not a wait for the system under test.
            if (pause := due - time.monotonic()) > 0 and self._stop.wait(pause):
                return
            result = self.operation(session, index)
            with self._lock:
                self.results.append(result)
        session.close()
