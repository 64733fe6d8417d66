"""Where the acceptance suite finds its staff account: UAT_STAFF_USER/UAT_STAFF_PASSWORD, else the local
stack's state file; never a demo default."""
import json

import pytest

from tests.acceptance.uat.staff import NoStaffAccount, staff_credentials


@pytest.fixture(autouse=True)
def no_staff_settings(monkeypatch):
    for name in ("UAT_STAFF_USER", "UAT_STAFF_PASSWORD", "STACK_STATE"):
        monkeypatch.delenv(name, raising=False)


def test_the_environment_names_the_account(monkeypatch, tmp_path):
    monkeypatch.setenv("UAT_STAFF_USER", "ops")
    monkeypatch.setenv("UAT_STAFF_PASSWORD", "secret-password")
    monkeypatch.setenv("STACK_STATE", str(tmp_path / "absent.json"))
    assert staff_credentials() == ("ops", "secret-password")


def test_else_the_account_the_local_stack_made(monkeypatch, tmp_path):
    state = tmp_path / "state.json"
    state.write_text(json.dumps({"staff": {"user_id": "stack-staff", "password": "fresh-one"}}))
    monkeypatch.setenv("STACK_STATE", str(state))
    assert staff_credentials() == ("stack-staff", "fresh-one")


def test_no_account_anywhere_says_how_to_make_one(monkeypatch, tmp_path):
    monkeypatch.setenv("STACK_STATE", str(tmp_path / "absent.json"))
    monkeypatch.setenv("UAT_STAFF_USER", "barista")  # a user without a password is not enough
    with pytest.raises(NoStaffAccount, match="python -m services.order_ms.staff create"):
        staff_credentials()
