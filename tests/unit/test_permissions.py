"""Who may do what, in process: every endpoint of both services × every kind of caller.

Callers: no token, a wrongly signed token, an expired token, the customer who owns the order, another customer,
and staff. Expected: 401 (with a login hint) for the first three; customers act only on their own orders and
deliveries (403 where the path names someone else, 404 where answering 403 would reveal that a delivery exists);
only staff change statuses; staff read everything. The acceptance suite proves the same rules through the
ingress (CASEs of tests/acceptance/test_permissions.py)."""
import base64
import hashlib
import hmac
import json
import time
from dataclasses import dataclass, replace
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from services.order_ms.token_signer import SIGNING_KEY
from services.platform.auth import TOKEN_ISSUER, issue_token
from services.platform.token_keys import ALGORITHM, SigningKey, signing_key
from tests.unit.answers import assert_problem
from tests.unit.fake_stores import order_created_events

ORDER = {"coffee_name": "jslee", "coffee_price": 2000, "coffee_qty": 2}
OWNER, OTHER, STAFF = "perm-owner", "perm-other", "barista"


@dataclass
class World:
    """An order of OWNER and its delivery, both services' clients and every caller's headers."""

    order_id: str
    delivery_id: str
    clients: dict
    headers: dict[str, dict]
    delivery_store: object


@pytest.fixture
def world(order_client, delivery_client, order_store, delivery_store, token) -> World:
    order, _ = order_store.create_order(None, OWNER, ORDER, None, None)
    delivery_store.apply_order_events(None, order_created_events([order]))
    delivery = delivery_store.list_deliveries(None, OWNER, None, 1, None)[0]
    wrongly_signed = issue_token(signing_key(Ed25519PrivateKey.generate()), 600, OWNER, "customer")
    headers = {
        "no token": {},
        "bad token": {"Authorization": f"Bearer {wrongly_signed}"},
        "expired token": token(OWNER, ttl_seconds=-60),
        "owner": token(OWNER),
        "other customer": token(OTHER),
        "staff": token(STAFF, role="staff"),
    }
    return World(order["order_id"], delivery["delivery_id"], {"order-ms": order_client, "delivery-ms": delivery_client},
                 headers, delivery_store)


def put_body(caller: str) -> dict:
    # Staff set the current status again (a 200 no-op); everyone else tries to cancel, which must never happen.
    return {"status": "CONFIRMED" if caller == "staff" else "CANCELED"}


ENDPOINTS = {
    "order create": lambda w, caller: ("POST", f"/order-ms/{OWNER}/orders", ORDER),
    "order list": lambda w, caller: ("GET", f"/order-ms/{OWNER}/orders", None),
    "order detail": lambda w, caller: ("GET", f"/order-ms/{OWNER}/orders/{w.order_id}", None),
    "order cancel": lambda w, caller: ("POST", f"/order-ms/{OWNER}/orders/{w.order_id}/cancel", None),
    "delivery list": lambda w, caller: ("GET", "/delivery-ms/deliveries", None),
    "delivery detail": lambda w, caller: ("GET", f"/delivery-ms/deliveries/{w.delivery_id}", None),
    "delivery status": lambda w, caller: ("PUT", f"/delivery-ms/deliveries/{w.delivery_id}/status", put_body(caller)),
    "delivery status alias": lambda w, caller: ("PUT", f"/delivery-ms/deliveries/{w.delivery_id}", put_body(caller)),
}

#                          no token, bad token, expired, owner, other customer, staff
MATRIX = {
    "order create":          (401, 401, 401, 201, 403, 403),  # staff read orders but place none for others
    "order list":            (401, 401, 401, 200, 403, 200),
    "order detail":          (401, 401, 401, 200, 403, 200),
    "order cancel":          (401, 401, 401, 202, 403, 202),  # staff may cancel for a customer
    "delivery list":         (401, 401, 401, 200, 200, 200),  # the other customer's list lacks this delivery
    "delivery detail":       (401, 401, 401, 200, 404, 200),
    "delivery status":       (401, 401, 401, 403, 403, 200),
    "delivery status alias": (401, 401, 401, 403, 403, 200),
}
CALLERS = ("no token", "bad token", "expired token", "owner", "other customer", "staff")
CASES = [(endpoint, caller, statuses[i]) for endpoint, statuses in MATRIX.items() for i, caller in enumerate(CALLERS)]


def call(world: World, endpoint: str, caller: str):
    method, path, body = ENDPOINTS[endpoint](world, caller)
    client = world.clients[path.split("/")[1]]
    return client.open(path, method=method, json=body, headers=world.headers[caller])


@pytest.mark.parametrize("endpoint,caller,expected", CASES, ids=[f"{e} | {c} -> {s}" for e, c, s in CASES])
def test_permission_matrix(world, endpoint, caller, expected):
    response = call(world, endpoint, caller)
    if expected >= 400:
        problem = assert_problem(response, expected)
        if expected == 401:
            assert "POST /order-ms/login" in problem["hint"]
            assert response.headers["WWW-Authenticate"].startswith("Bearer")
        return
    assert response.status_code == expected, response.get_data(as_text=True)
    if endpoint == "delivery list":
        listed = {delivery["order_id"] for delivery in response.json}
        assert (world.order_id in listed) == (caller != "other customer")
    if endpoint == "delivery detail":
        assert response.json["order_id"] == world.order_id
    if endpoint in ("order list", "order detail", "order cancel"):
        orders = response.json if isinstance(response.json, list) else [response.json]
        assert orders and all(order["user_id"] == OWNER for order in orders)


def test_a_refused_customer_is_told_where_their_own_orders_are(world):
    problem = assert_problem(call(world, "order list", "other customer"), 403)
    assert f"/order-ms/{OTHER}/" in problem["hint"]
    problem = assert_problem(call(world, "order create", "other customer"), 403)
    assert f"POST /order-ms/{OTHER}/orders" in problem["hint"]


def test_forbidden_status_changes_leave_the_delivery_alone(world):
    for caller in CALLERS[:-1]:
        for endpoint in ("delivery status", "delivery status alias"):
            assert call(world, endpoint, caller).status_code in (401, 403), (caller, endpoint)
    assert world.delivery_store.get_delivery(None, world.delivery_id, None)["status"] == "CONFIRMED"


def test_an_order_of_someone_else_under_my_own_id_is_404(world):
    response = world.clients["order-ms"].get(f"/order-ms/{OTHER}/orders/{world.order_id}",
                                             headers=world.headers["other customer"])
    assert_problem(response, 404)


def test_customers_filtering_by_status_still_see_only_their_own(world):
    response = world.clients["delivery-ms"].get("/delivery-ms/deliveries?status=CONFIRMED",
                                                headers=world.headers["other customer"])
    assert response.status_code == 200 and response.json == []


def forged(signer: SigningKey, headers: dict | None = None, **overrides) -> str:
    now = int(time.time())
    claims = {"sub": OWNER, "role": "customer", "iss": TOKEN_ISSUER, "iat": now, "exp": now + 60}
    return jwt.encode({**claims, **overrides}, signer.private_key, algorithm=ALGORITHM,
                      headers={"kid": signer.kid, **(headers or {})})


def hs256_with_the_public_key(signer: SigningKey, public_keys: bytes) -> str:
    """The algorithm confusion attack: HS256 with the published public key as the HMAC secret (PyJWT refuses to
    make one, so by hand)."""
    def part(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()
    now = int(time.time())
    signed = ".".join(part(json.dumps(value).encode()) for value in (
        {"alg": "HS256", "typ": "JWT", "kid": signer.kid},
        {"sub": STAFF, "role": "staff", "iss": TOKEN_ISSUER, "iat": now, "exp": now + 60}))
    return f"{signed}.{part(hmac.new(public_keys, signed.encode(), hashlib.sha256).digest())}"


def another_key() -> SigningKey:
    return signing_key(Ed25519PrivateKey.generate())


BAD_TOKENS = {
    "another key, its own kid": lambda signer, public: forged(another_key()),
    "another key, the services' kid": lambda signer, public: forged(replace(another_key(), kid=signer.kid)),
    "no kid": lambda signer, public: jwt.encode({"sub": OWNER, "role": "customer", "iss": TOKEN_ISSUER, "iat": 1,
                                                 "exp": int(time.time()) + 60}, signer.private_key,
                                                algorithm=ALGORITHM),
    "alg none": lambda signer, public: jwt.encode({"sub": STAFF, "role": "staff", "iss": TOKEN_ISSUER, "iat": 1,
                                                   "exp": int(time.time()) + 60}, None, algorithm="none",
                                                  headers={"kid": signer.kid}),
    "HS256 with the public key as secret": hs256_with_the_public_key,
    "wrong issuer": lambda signer, public: forged(signer, iss="someone-else"),
    "unknown role": lambda signer, public: forged(signer, role="admin"),
    "expired": lambda signer, public: forged(signer, iat=int(time.time()) - 120, exp=int(time.time()) - 60),
    "garbage": lambda signer, public: "not.a.token",
    "tampered signature": lambda signer, public: forged(signer)[:-4] + "AAAA",
}


@pytest.mark.parametrize("kind", BAD_TOKENS)
def test_every_kind_of_bad_token_is_401_with_a_login_hint_in_both_services(world, order_app, order_settings, kind):
    public_keys = Path(order_settings.token_public_keys_file).read_bytes()
    headers = {"Authorization": f"Bearer {BAD_TOKENS[kind](order_app.config[SIGNING_KEY].current(), public_keys)}"}
    for service, path in (("order-ms", f"/order-ms/{OWNER}/orders"), ("delivery-ms", "/delivery-ms/deliveries")):
        problem = assert_problem(world.clients[service].get(path, headers=headers), 401)
        assert "POST /order-ms/login" in problem["hint"]
