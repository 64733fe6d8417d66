"""Demo accounts only in local mode, created once and never updated; staff accounts made the operator's way
(`python -m services.order_ms.staff create`), never by promoting a customer. Each against a database of its own."""
import os
import subprocess
import sys

import pytest

from services.order_ms.demo_accounts import DEMO_ACCOUNTS
from services.order_ms.passwords import verify_password
from services.order_ms.settings import DEMO_OVERRIDE
from tests.support.databases import ThrowawayDatabase
from tests.support.stack import ROOT

STAFF_PASSWORD = "a-staff-password"


@pytest.fixture
def database(stack):
    database = ThrowawayDatabase(stack, "order_ms").create()
    yield database
    database.drop()


def run(database: ThrowawayDatabase, module: str, *args: str, **env: str) -> subprocess.CompletedProcess:
    """One of order-ms's commands, as its app user, with `env` over the stack's (local mode) settings."""
    environment = {**os.environ, **database.app_env(), **env}
    for name in ("DEMO_ACCOUNTS", DEMO_OVERRIDE):
        if name not in env:
            environment.pop(name, None)
    return subprocess.run([sys.executable, "-m", module, *args], cwd=ROOT, env=environment, capture_output=True,
                          text=True, timeout=120)


def users(database: ThrowawayDatabase) -> dict[str, tuple[str, str]]:
    with database.connect() as conn:
        cursor = conn.cursor()
        cursor.execute("SELECT user_id, role, password_hash FROM users")
        return {user_id: (role, password_hash) for user_id, role, password_hash in cursor.fetchall()}


def test_barista_cannot_be_created_in_production(database):
    refused = run(database, "services.order_ms.demo_accounts", APP_ENV="production", DEMO_ACCOUNTS="true")
    assert refused.returncode == 2
    assert "APP_ENV=production" in refused.stderr and "services.order_ms.staff create" in refused.stderr
    assert "Traceback" not in refused.stderr
    off = run(database, "services.order_ms.demo_accounts", APP_ENV="production")
    assert off.returncode == 0 and "nothing created" in off.stdout
    assert users(database) == {}


def test_production_services_refuse_to_start_with_demo_accounts_on(database):
    refused = run(database, "services.order_ms.migrate", APP_ENV="production", DEMO_ACCOUNTS="true")
    assert refused.returncode != 0 and "DEMO_ACCOUNTS is on with APP_ENV=production" in refused.stdout + refused.stderr


def test_the_loudly_named_override_allows_them_outside_local_mode(database):
    allowed = run(database, "services.order_ms.demo_accounts", APP_ENV="production", DEMO_ACCOUNTS="true",
                  **{DEMO_OVERRIDE: "true"})
    assert allowed.returncode == 0, allowed.stderr
    assert set(users(database)) == {user_id for user_id, _password, _role in DEMO_ACCOUNTS}


def test_demo_accounts_are_created_once_and_never_updated(database):
    assert run(database, "services.order_ms.demo_accounts").returncode == 0
    with database.connect() as conn:
        conn.cursor().execute("UPDATE users SET password_hash = 'changed-by-its-owner', role = 'customer'"
                              " WHERE user_id = 'barista'")
        conn.commit()
    again = run(database, "services.order_ms.demo_accounts")
    assert again.returncode == 0 and "exists, left as it is" in again.stdout
    assert users(database)["barista"] == ("customer", "changed-by-its-owner")


def test_demo_accounts_never_promote_a_customer_of_a_look_alike_id(database):
    with database.connect() as conn:
        conn.cursor().execute("INSERT INTO users (user_id, password_hash, role) VALUES ('Barista', 'hers', 'customer')")
        conn.commit()
    assert run(database, "services.order_ms.demo_accounts").returncode == 0
    accounts = users(database)
    assert accounts["Barista"] == ("customer", "hers") and "barista" not in accounts


def test_create_staff_makes_a_staff_account_and_keeps_it(database):
    created = run(database, "services.order_ms.staff", "create", "--user-id", "ops-1", STAFF_PASSWORD=STAFF_PASSWORD)
    assert created.returncode == 0 and "created" in created.stdout, created.stderr
    role, password_hash = users(database)["ops-1"]
    assert role == "staff" and verify_password(password_hash, STAFF_PASSWORD)
    kept = run(database, "services.order_ms.staff", "create", "--user-id", "ops-1", STAFF_PASSWORD="another-password")
    assert kept.returncode == 0 and "exists" in kept.stdout
    assert users(database)["ops-1"] == (role, password_hash)
    reset = run(database, "services.order_ms.staff", "create", "--user-id", "ops-1", "--reset-password",
                STAFF_PASSWORD="another-password")
    assert reset.returncode == 0 and "password reset" in reset.stdout
    role, password_hash = users(database)["ops-1"]
    assert role == "staff" and verify_password(password_hash, "another-password")


@pytest.mark.parametrize("asked_for", ["cust-1", "CUST-1"])
def test_create_staff_never_promotes_a_customer(database, asked_for):
    with database.connect() as conn:
        conn.cursor().execute("INSERT INTO users (user_id, password_hash, role) VALUES ('cust-1', 'h', 'customer')")
        conn.commit()
    refused = run(database, "services.order_ms.staff", "create", "--user-id", asked_for, "--reset-password",
                  STAFF_PASSWORD=STAFF_PASSWORD)
    assert refused.returncode == 1 and "taken by the customer account 'cust-1'" in refused.stderr
    assert users(database) == {"cust-1": ("customer", "h")}


@pytest.mark.parametrize("args, env, complaint", [
    (("--user-id", "ops-2"), {}, "STAFF_PASSWORD must have 8-128 characters"),
    (("--user-id", "ops 2"), {"STAFF_PASSWORD": STAFF_PASSWORD}, "is not allowed"),
    (("--user-id", "metrics"), {"STAFF_PASSWORD": STAFF_PASSWORD}, "reserved"),
])
def test_create_staff_refuses_bad_input_with_a_reason(database, args, env, complaint):
    refused = run(database, "services.order_ms.staff", "create", *args, **env)
    assert refused.returncode == 2 and complaint in refused.stderr and "Traceback" not in refused.stderr
    assert users(database) == {}
