"""The in-memory stores of the in-process route tests (tests/unit/fake_stores.py) answer as the real ones do on
MariaDB: each check below runs against both, so a fake that drifts from its store turns red here."""
import uuid

import pytest

from services import delivery_ms, order_ms
from services.delivery_ms import store as delivery_store
from services.delivery_ms.settings import load_settings as load_delivery_settings
from services.delivery_ms.statuses import MoveNotAllowed
from services.order_ms import cancel_store
from services.order_ms import read_model as order_read_model
from services.order_ms import store as order_store
from services.order_ms.settings import load_settings as load_order_settings
from services.platform.web import db_pool
from tests.unit.fake_stores import FakeCancelStore, FakeDeliveryStore, FakeOrderStore, order_created_events

ORDER = {"coffee_name": "jslee", "coffee_price": 2000, "coffee_qty": 1}


# Each service's store, its fake, and what builds the pool its routes use.
STORES = {
    "order_ms": (order_store, FakeOrderStore, order_ms.create_app, load_order_settings),
    "delivery_ms": (delivery_store, FakeDeliveryStore, delivery_ms.create_app, load_delivery_settings),
}


def store_and_pool(kind, monkeypatch, stack, service):
    """(the store's functions, the pool to pass them): the fake with no pool, or the real store with the pool the
    service's routes get (db_pool()), on the stack's database as the service's app user."""
    real, fake, create_app, load_settings = STORES[service]
    if kind == "fake":
        yield fake(), None
        return
    for name, value in stack.app_env(service).items():
        monkeypatch.setenv(name, value)
    with create_app(load_settings()).app_context():
        pool = db_pool()
    yield real, pool
    pool.close()


@pytest.fixture(params=["MariaDB", "fake"])
def orders(request, monkeypatch, stack):
    yield from store_and_pool(request.param, monkeypatch, stack, "order_ms")


@pytest.fixture(params=["MariaDB", "fake"])
def cancels(request, monkeypatch, stack):
    """(order store, cancel store, pool, set_delivery(order_id, status) as the status consumer would write it)."""
    for orders_store, pool in store_and_pool(request.param, monkeypatch, stack, "order_ms"):
        if request.param == "fake":
            fake = FakeCancelStore(orders_store)
            yield orders_store, fake, pool, fake.set_delivery
            continue

        def set_delivery(order_id: str, status: str) -> None:
            with stack.admin_connect(stack.databases["order_ms"].database) as conn:
                conn.cursor().execute("INSERT INTO order_deliveries (order_id, delivery_id, status, version,"
                                      " updated_at) VALUES (?, UUID(), ?, 1, UTC_TIMESTAMP(6))", (order_id, status))
        yield orders_store, cancel_store, pool, set_delivery


@pytest.fixture(params=["MariaDB", "fake"])
def deliveries(request, monkeypatch, stack):
    yield from store_and_pool(request.param, monkeypatch, stack, "delivery_ms")


def fresh(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def test_an_idempotency_key_replays_or_conflicts_byte_for_byte(orders):
    store, pool = orders
    user_id, key = fresh("fake"), fresh("Key")
    first, created = store.create_order(pool, user_id, ORDER, key, "hash-1")
    assert created
    assert store.create_order(pool, user_id, ORDER, key, "hash-1") == (first, False)
    assert store.create_order(pool, user_id, ORDER, key.upper(), "hash-1")[1], "another case is another key"
    with pytest.raises(order_store.IdempotencyConflict) as conflict:
        store.create_order(pool, user_id, {**ORDER, "coffee_qty": 2}, key, "hash-2")
    assert conflict.value.order == first
    assert store.create_order(pool, fresh("fake"), ORDER, key, "hash-1")[1], "a key is each customer's own"


def test_orders_list_newest_first_below_a_cursor_and_show_only_under_their_user(orders):
    store, pool = orders
    user_id = fresh("fake")
    made = [store.create_order(pool, user_id, {**ORDER, "coffee_qty": qty}, None, None)[0] for qty in (1, 2, 3)]
    first_page = store.list_orders(pool, user_id, 2, None)
    assert [order_store.order_view(row) for row in first_page] == [made[2], made[1]]
    rest = store.list_orders(pool, user_id, 2, first_page[-1]["id"])
    assert [order_store.order_view(row) for row in rest] == [made[0]]
    assert store.get_order(pool, user_id, made[0]["order_id"]) == made[0]
    assert store.get_order(pool, user_id.upper(), made[0]["order_id"]) is None, "user ids compare byte for byte"
    assert store.get_order(pool, fresh("fake"), made[0]["order_id"]) is None


def test_a_user_id_is_taken_whatever_its_case(orders):
    store, pool = orders
    user_id = fresh("Fake")
    created = store.create_user(pool, user_id, "hash", "customer")
    assert (created["user_id"], created["role"]) == (user_id, "customer")
    assert store.create_user(pool, user_id.lower(), "hash", "customer") is None
    assert store.get_user(pool, user_id.lower()) == {"user_id": user_id, "password_hash": "hash", "role": "customer"}
    assert store.get_user(pool, fresh("nobody")) is None


def test_sign_ups_past_the_limit_are_told_to_wait_and_one_can_be_given_back(orders):
    store, pool = orders
    client = fresh("203.0.113")
    assert [store.count_in_window(pool, "signup", client, 2, 600) for _ in range(2)] == [0, 0]
    assert 0 < store.count_in_window(pool, "signup", client, 2, 600) <= 600
    store.take_back_count(pool, "signup", client)
    store.take_back_count(pool, "signup", client)
    assert store.count_in_window(pool, "signup", client, 2, 600) == 0


def test_a_login_is_admitted_until_a_lock_or_a_rate_is_reached_and_a_refusal_counts_nothing(orders):
    store, pool = orders
    pair, rate = ("user_client", fresh("pair")[:64], 2), ("login_account", fresh("rate")[:64], 3)
    assert [store.admit_login(pool, [pair], [rate], 300, 60) for _ in range(2)] == [(0, None), (0, None)]
    seconds, scope = store.admit_login(pool, [pair], [rate], 300, 60)
    assert scope == "user_client" and seconds > 0
    # A right password clears the pair: the rate, which counted both logins, has one left.
    store.take_back_failure(pool, pair[:2], None)
    assert store.admit_login(pool, [pair], [rate], 300, 60) == (0, None)
    store.take_back_failure(pool, pair[:2], None)
    seconds, scope = store.admit_login(pool, [pair], [rate], 300, 60)
    assert scope == "login_account" and 0 < seconds <= 60


def test_a_device_vouches_for_the_accounts_it_logged_in_to_and_an_account_keeps_its_latest(orders):
    store, pool = orders
    user_id, other = fresh("Dev"), fresh("dev")
    first, second, third = (fresh("token").ljust(64, "0")[:64] for _ in range(3))
    assert not store.device_known(pool, first, 3600)
    store.remember_device(pool, first, user_id, 3600, 2)
    assert store.device_known(pool, first, 3600) and store.device_vouches(pool, first, user_id.lower(), 3600)
    assert not store.device_vouches(pool, first, other, 3600)
    store.remember_device(pool, second, user_id, 3600, 2)
    store.remember_device(pool, third, user_id, 3600, 2)
    assert [store.device_vouches(pool, token, user_id, 3600) for token in (first, second, third)] == \
        [False, True, True]


def test_one_cancel_per_order_only_while_its_delivery_may_still_be_canceled(cancels):
    orders, store, pool, set_delivery = cancels
    user_id = fresh("fake")
    order, _ = orders.create_order(pool, user_id, ORDER, None, None)
    with pytest.raises(cancel_store.OrderNotFound):
        store.request_cancel(pool, user_id.upper(), order["order_id"])
    with pytest.raises(cancel_store.OrderNotFound):
        store.request_cancel(pool, user_id, str(uuid.uuid4()))
    accepted = store.request_cancel(pool, user_id, order["order_id"].upper())
    assert {name: accepted[name] for name in order} == order and accepted["delivery"] is None
    assert (accepted["cancel"]["outcome"], accepted["cancel"]["reason"], accepted["cancel"]["decided_at"]) == (
        "PENDING", None, None)
    with pytest.raises(cancel_store.CancelAlreadyRequested) as again:
        store.request_cancel(pool, user_id, order["order_id"])
    assert again.value.cancel == accepted["cancel"]

    confirmed, _ = orders.create_order(pool, user_id, ORDER, None, None)
    set_delivery(confirmed["order_id"], "CONFIRMED")
    assert store.request_cancel(pool, user_id, confirmed["order_id"])["delivery"]["status"] == "CONFIRMED"
    moved, _ = orders.create_order(pool, user_id, ORDER, None, None)
    set_delivery(moved["order_id"], "IN_DELIVERY")
    with pytest.raises(cancel_store.CancelNotAllowed) as refused:
        store.request_cancel(pool, user_id, moved["order_id"])
    assert refused.value.status == "IN_DELIVERY"


def new_orders(user_id: str, count: int) -> list[dict]:
    return [{**ORDER, "user_id": user_id, "order_id": str(uuid.uuid4()), "ordered_at": "2026-01-01T00:00:00.000000Z"}
            for _ in range(count)]


def test_a_redelivered_order_makes_no_second_delivery(deliveries):
    store, pool = deliveries
    first, second = new_orders(fresh("fake"), 2)
    assert store.apply_order_events(pool, order_created_events([first, first, second])) == 2
    assert store.apply_order_events(pool, order_created_events([second])) == 0


def test_deliveries_list_by_owner_and_status_newest_first_below_a_cursor(deliveries):
    store, pool = deliveries
    owner = fresh("fake")
    made = new_orders(owner, 3)
    store.apply_order_events(pool, order_created_events(made))
    listed = store.list_deliveries(pool, owner.upper(), "CONFIRMED", 2, None)
    assert [row["order_id"] for row in listed] == [made[2]["order_id"], made[1]["order_id"]]
    below = store.list_deliveries(pool, owner, None, 5, listed[-1]["id"])
    assert [row["order_id"] for row in below] == [made[0]["order_id"]]
    assert store.list_deliveries(pool, owner, "CANCELED", 5, None) == []
    delivery_id = listed[0]["delivery_id"]
    assert store.get_delivery(pool, delivery_id, None)["order"] == made[2]
    assert store.get_delivery(pool, delivery_id, fresh("fake")) is None


def test_status_changes_follow_the_rules(deliveries):
    store, pool = deliveries
    owner = fresh("fake")
    store.apply_order_events(pool, order_created_events(new_orders(owner, 1)))
    delivery_id = store.list_deliveries(pool, owner, None, 1, None)[0]["delivery_id"]
    with pytest.raises(delivery_store.DeliveryNotFound):
        store.change_status(pool, str(uuid.uuid4()), "COMPLETED")
    moved, previous = store.change_status(pool, delivery_id.upper(), "IN_DELIVERY")
    assert (moved["status"], previous) == ("IN_DELIVERY", "CONFIRMED")
    assert store.change_status(pool, delivery_id, "IN_DELIVERY")[1] == "IN_DELIVERY"
    with pytest.raises(MoveNotAllowed) as refused:
        store.change_status(pool, delivery_id, "CONFIRMED")
    assert (refused.value.current, refused.value.wanted) == ("IN_DELIVERY", "CONFIRMED")
    assert store.get_delivery(pool, delivery_id, owner)["status"] == "IN_DELIVERY"


def test_an_order_without_events_has_no_delivery_and_no_cancel(orders):
    store, pool = orders
    # The fake answers for the read model too; the real queries live in read_model.py.
    read_model = store if isinstance(store, FakeOrderStore) else order_read_model
    placed = store.create_order(pool, fresh("fake"), ORDER, None, None)[0]
    unknown = str(uuid.uuid4())
    assert read_model.delivery_and_cancel(pool, [placed["order_id"], unknown]) == {
        placed["order_id"]: (None, None), unknown: (None, None)}
    assert read_model.delivery_and_cancel(pool, []) == {}
