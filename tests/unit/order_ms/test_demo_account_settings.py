"""DEMO_ACCOUNTS: on by default in local mode only, and refused outside it unless the loudly named override
is on (the demo passwords are public)."""
import pytest

from services.order_ms.settings import DEMO_OVERRIDE, load_settings
from services.platform.settings import SettingsError


@pytest.fixture
def production(monkeypatch):
    monkeypatch.setenv("APP_ENV", "production")
    monkeypatch.delenv("DEMO_ACCOUNTS", raising=False)
    monkeypatch.delenv(DEMO_OVERRIDE, raising=False)


def test_asking_for_them_in_production_is_refused_with_the_way_out(production, monkeypatch):
    monkeypatch.setenv("DEMO_ACCOUNTS", "true")
    with pytest.raises(SettingsError, match="python -m services.order_ms.staff create") as refused:
        load_settings()
    assert DEMO_OVERRIDE in str(refused.value)


@pytest.mark.parametrize("override", ["false", "0", ""])
def test_only_a_true_override_allows_them(production, monkeypatch, override):
    monkeypatch.setenv("DEMO_ACCOUNTS", "true")
    monkeypatch.setenv(DEMO_OVERRIDE, override)
    with pytest.raises(SettingsError):
        load_settings()
    monkeypatch.setenv(DEMO_OVERRIDE, "true")
    assert load_settings().demo_accounts is True


def test_turning_them_off_in_local_mode_is_fine(monkeypatch):
    monkeypatch.setenv("APP_ENV", "local")
    monkeypatch.setenv("DEMO_ACCOUNTS", "false")
    assert load_settings().demo_accounts is False
