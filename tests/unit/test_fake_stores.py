"""The in-memory stores of the route tests stay honest: every store function the service's code calls is faked, with the
real one's parameters, so a change to a store's interface turns these red before a route test can pass on a fake
that no longer matches."""
import ast
import inspect
from pathlib import Path

import pytest

from services.delivery_ms import store as delivery_store
from services.order_ms import cancel_store
from services.order_ms import read_model as order_read_model
from services.order_ms import store as order_store
from tests.unit.fake_stores import FakeCancelStore, FakeDeliveryStore, FakeOrderStore

SERVICES = Path(__file__).resolve().parents[2] / "services"
# (the store module, its fake, the service's package, the name the service's modules call it by)
PAIRS = [(order_store, FakeOrderStore, "order_ms", "store"),
         (cancel_store, FakeCancelStore, "order_ms", "cancel_store"),
         (delivery_store, FakeDeliveryStore, "delivery_ms", "store")]
IDS = [f"{package}.{name}" for *_, package, name in PAIRS]


def store_calls(package: str, module: str) -> set[str]:
    """Names of `<module>.<function>(...)` calls in the service's modules other than the store itself."""
    called = set()
    for path in (SERVICES / package).rglob("*.py"):
        if path.name == f"{module}.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and isinstance(node.func.value, ast.Name) and node.func.value.id == module):
                called.add(node.func.attr)
    return called


def make(fake):
    return fake(FakeOrderStore()) if fake is FakeCancelStore else fake()


@pytest.mark.parametrize("real,fake,package,module", PAIRS, ids=IDS)
def test_every_store_function_the_service_calls_is_faked(real, fake, package, module):
    # The ones that reach the database (a pool first); views such as order_view are pure and used as they are.
    functions = {name for name, value in vars(real).items()
                 if inspect.isfunction(value) and list(inspect.signature(value).parameters)[:1] == ["pool"]}
    missing = (store_calls(package, module) & functions) - set(fake.FUNCTIONS)
    assert not missing, f"tests/unit/fake_stores.py lacks {sorted(missing)}"


@pytest.mark.parametrize("real,fake,package,module", PAIRS, ids=IDS)
def test_each_fake_takes_the_real_functions_parameters(real, fake, package, module):
    for name in fake.FUNCTIONS:
        expected = list(inspect.signature(getattr(real, name)).parameters)
        assert list(inspect.signature(getattr(make(fake), name)).parameters) == expected, name


def test_the_read_model_fake_takes_the_real_functions_parameters():
    for name in FakeOrderStore.READ_MODEL_FUNCTIONS:
        expected = list(inspect.signature(getattr(order_read_model, name)).parameters)
        assert list(inspect.signature(getattr(FakeOrderStore(), name)).parameters) == expected, name
