"""The tracing suite's own stack and receiver: a stack of its own (profile `tracing`, ports +17000; the variables
TRACING_TEST_PROFILE and TRACING_TEST_PORT_OFFSET move it) with its local trace backend (TRACING=1, as `make run`),
every process exporting to this suite's OTLP/HTTP receiver (OTEL_EXPORTER_OTLP_ENDPOINT), which keeps each span and
passes the request on to the stack's collector, so the trace UI shows the same trace.

The shared test stack of `make test` keeps the product's defaults (tracing off); this one differs in nothing else
but the OTEL_* variables and the export delay (OTEL_BSP_SCHEDULE_DELAY, so spans arrive within a second)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from scripts.stack.layout import Layout, environment_for_own_stack
from scripts.stack.state import StackState
from tests.acceptance.uat.catalog import check_tests
from tests.acceptance.uat.client import Api
from tests.acceptance.uat.flows import Account, log_in
from tests.support.accounts import new_customer
from tests.support.otlp_receiver import OtlpReceiver
from tests.support.stack import ROOT
from tests.support.topics import OrderProducer
from tests.tracing.cases import CATALOG, HERE

PROFILE = os.environ.get("TRACING_TEST_PROFILE", "tracing")
PORT_OFFSET = int(os.environ.get("TRACING_TEST_PORT_OFFSET", "17000"))
EXPORT_DELAY_MS = "200"


def pytest_collection_modifyitems(config, items):
    mine = [item for item in items if HERE in Path(str(item.path)).resolve().parents]
    whole = any(Path(config.invocation_params.dir, arg.split("::")[0]).resolve() in (HERE, *HERE.parents)
                for arg in config.args if "::" not in arg)
    problems = check_tests(CATALOG, mine, whole)
    if problems:
        raise pytest.UsageError("tests/tracing and its catalog disagree:\n  " + "\n  ".join(problems))


class TracingStack:
    """The suite's stack, started and stopped with `python -m scripts.stack`, read fresh from its state file."""

    def __init__(self, receiver: OtlpReceiver):
        self.layout = Layout(PROFILE, PORT_OFFSET, f"coffee_{PROFILE.replace('-', '_')}")
        # The caller's OTEL_* (if any) stay out: every process exports to this suite's receiver and nowhere else.
        base = {name: value for name, value in environment_for_own_stack().items() if not name.startswith("OTEL_")}
        self.env = {**base, "STACK_PORT_OFFSET": str(PORT_OFFSET), "STACK_PRIVATE_DB": "1",
                    "STACK_DB_PREFIX": self.layout.db_prefix, "STACK_FRESH_DATABASES": "1", "TRACING": "1",
                    "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint, "OTEL_BSP_SCHEDULE_DELAY": EXPORT_DELAY_MS}

    def command(self, *args: str) -> None:
        subprocess.run([sys.executable, "-m", "scripts.stack", *args, "--profile", PROFILE], cwd=ROOT, env=self.env,
                       check=True)

    @property
    def state(self) -> StackState:
        return StackState.read(self.layout.state_file)

    def log_lines(self, process: str) -> list[str]:
        return (self.layout.logs / f"{process}.log").read_text(errors="replace").splitlines()


@pytest.fixture(scope="session")
def receiver():
    receiver = OtlpReceiver().start()
    yield receiver
    receiver.stop()


@pytest.fixture(scope="session")
def tracing_stack(receiver):
    stack = TracingStack(receiver)
    receiver.forward_to = f"http://127.0.0.1:{stack.layout.otlp_port}"
    stack.command("down")
    stack.command("up")
    # The tools' Kafka login of this stack, for the tests that publish or read records themselves.
    saved = {name: os.environ.get(name) for name in stack.state.kafka_tools_env}
    os.environ.update(stack.state.kafka_tools_env)
    try:
        yield stack
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        stack.command("down")


@pytest.fixture(scope="session")
def api(tracing_stack):
    api = Api(tracing_stack.state.base_url)
    yield api
    api.close()


@pytest.fixture(scope="session")
def staff(tracing_stack, api) -> Account:
    user, password = tracing_stack.state.staff["user_id"], tracing_stack.state.staff["password"]
    return Account(user, password, log_in(api, user, password))


@pytest.fixture
def customer(tracing_stack) -> Account:
    return new_customer(tracing_stack.state.base_url, prefix="trace")


@pytest.fixture
def producer(tracing_stack):
    """A producer of new_orders records as another service would send them (this process traces nothing)."""
    producer = OrderProducer(tracing_stack.state.kafka_servers)
    yield producer
    producer.close()
