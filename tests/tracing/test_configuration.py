"""OTEL_* values that cannot work stop a process at start-up, naming the variable and what to give instead, rather
than letting it run without the traces its operator asked for (CASE-0168..CASE-0171). Each process is started as
the stack starts it, against the tracing suite's stack, with one variable wrong."""
from __future__ import annotations

import re
import subprocess
import sys

import pytest

from scripts.stack.application import GUNICORN_CONFIG
from tests.acceptance.uat.catalog import Case
from tests.acceptance.uat.texts import match_text
from tests.support.processes import free_port
from tests.support.stack import ROOT
from tests.tracing.cases import CATALOG

ERROR_LINE = re.compile(r"Error: (OTEL_\w+=.*)$")
ENDPOINT = {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318"}
RELAY = [sys.executable, "-m", "services.order_ms.relay"]
ORDER_MS = [sys.executable, "-m", "gunicorn", "-c", GUNICORN_CONFIG, "services.order_ms:create_app()"]


def start_up_error(tracing_stack, tmp_path, argv: list[str], otel: dict[str, str]) -> str:
    """The error a process that refuses to start prints last: "<exception>: <error>: <hint>" from a worker process,
    "Error: <error>: <hint>" from gunicorn; either way the told text starts with the variable's name."""
    state = tracing_stack.state
    env = {name: value for name, value in tracing_stack.env.items() if not name.startswith("OTEL_")}
    for settings in (state.env, state.app_env("order_ms"), state.http_env_of("order_ms"), state.kafka_tools_env, otel):
        env.update(settings)
    env.update(METRICS_PORT=str(free_port()), PORT=str(free_port()), HOST="127.0.0.1",
               PROMETHEUS_MULTIPROC_DIR=str(tmp_path))
    result = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode != 0, f"{argv[-1]} started with {otel}"
    told = [found.group(1).strip() for found in map(ERROR_LINE.search, (result.stdout + result.stderr).splitlines())
            if found]
    assert told, f"no start-up error in the output:\n{(result.stdout + result.stderr)[-3000:]}"
    return told[-1]


def assert_told(case: Case, told: str) -> None:
    """The error line is the case's error and hint, as catalogued."""
    expected = tuple(f"{error}: {hint}" for error in case.error for hint in case.hint)
    assert match_text(expected, told) is not None, f"told {told!r}, catalogued {expected!r}"


@pytest.mark.case("CASE-0168")
@pytest.mark.parametrize("argv", [RELAY, ORDER_MS], ids=["order-relay", "order-ms"])
def test_a_protocol_other_than_http_protobuf_stops_the_process(tracing_stack, tmp_path, argv):
    told = start_up_error(tracing_stack, tmp_path, argv, {**ENDPOINT, "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"})
    assert_told(CATALOG["CASE-0168"], told)


@pytest.mark.case("CASE-0169")
def test_an_unknown_sampler_stops_the_process(tracing_stack, tmp_path):
    told = start_up_error(tracing_stack, tmp_path, RELAY, {**ENDPOINT, "OTEL_TRACES_SAMPLER": "sometimes"})
    assert_told(CATALOG["CASE-0169"], told)


@pytest.mark.case("CASE-0170")
def test_a_ratio_outside_0_to_1_stops_the_process(tracing_stack, tmp_path):
    ratio = {"OTEL_TRACES_SAMPLER": "parentbased_traceidratio", "OTEL_TRACES_SAMPLER_ARG": "1.5"}
    told = start_up_error(tracing_stack, tmp_path, RELAY, {**ENDPOINT, **ratio})
    assert_told(CATALOG["CASE-0170"], told)


@pytest.mark.case("CASE-0171")
def test_an_endpoint_that_is_not_a_url_stops_the_process(tracing_stack, tmp_path):
    told = start_up_error(tracing_stack, tmp_path, RELAY, {"OTEL_EXPORTER_OTLP_ENDPOINT": "collector:4318"})
    assert_told(CATALOG["CASE-0171"], told)
