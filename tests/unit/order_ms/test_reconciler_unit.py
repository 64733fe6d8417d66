"""The reconciler's settings (the design's defaults, a period below one second refused) and what one check exports;
its SQL is proven on MariaDB in tests/integration/order_ms/test_reconciler.py."""
import pytest
from prometheus_client import REGISTRY

from services.order_ms import reconciler
from services.order_ms.settings import load_settings
from services.platform.settings import SettingsError

VARIABLES = ("ORDER_OVERDUE_SECONDS", "ORDER_OVERDUE_CHECK_SECONDS", "ORDER_RECONCILE_WINDOW_SECONDS")


def test_the_defaults_are_a_minute_due_checked_every_15_seconds_within_a_day(monkeypatch):
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)
    settings = load_settings()
    assert (settings.order_overdue_seconds, settings.order_overdue_check_seconds,
            settings.order_reconcile_window_seconds) == (60, 15.0, 86400)


@pytest.mark.parametrize("name", VARIABLES)
@pytest.mark.parametrize("value", ["0", "-5"])
def test_a_period_below_one_second_is_refused_naming_the_variable(monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError, match=name):
        load_settings()


def test_a_check_exports_the_overdue_count_and_counts_what_it_published_again(monkeypatch):
    results = iter([(3, 2), (1, 0)])
    monkeypatch.setattr(reconciler, "reconcile_overdue_orders", lambda pool, settings: next(results))
    worker = reconciler.OverdueOrderReconciler.__new__(reconciler.OverdueOrderReconciler)
    worker.pool, worker.settings = None, None
    before = REGISTRY.get_sample_value("orders_republished_total")
    assert worker.reconcile() == (3, 2)
    assert REGISTRY.get_sample_value("orders_overdue") == 3
    assert REGISTRY.get_sample_value("orders_republished_total") == before + 2
    assert worker.reconcile() == (1, 0)
    assert REGISTRY.get_sample_value("orders_overdue") == 1
    assert REGISTRY.get_sample_value("orders_republished_total") == before + 2
