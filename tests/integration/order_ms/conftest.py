"""Fixtures of order-ms's integration tests."""
import pytest

from services import order_ms
from services.order_ms.settings import load_settings
from services.platform.web import db_pool


@pytest.fixture(scope="module")
def pool(stack):
    """The pool order-ms's processes use, as its app user on the stack's database."""
    patch = pytest.MonkeyPatch()
    for name, value in stack.app_env("order_ms").items():
        patch.setenv(name, value)
    with order_ms.create_app(load_settings()).app_context():
        made = db_pool()
    yield made
    made.close()
    patch.undo()
