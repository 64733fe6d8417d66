"""The one reader of the stack's state file: what the stack writes comes back typed, secrets stay private."""
from __future__ import annotations

import stat

import pytest

from scripts.stack.state import DatabaseAccounts, StackState, write_state

PROCESS = {"pid": 41, "running": True, "restarts": 2, "held": False, "started_at": 1.5, "last_exit_code": None,
           "liveness_restarts": 0, "last_probe_failure": None, "log": "/logs/order-ms.log"}
WRITTEN = {
    "profile": "t", "ready": True, "base_url": "http://127.0.0.1:18080",
    "services": {"order-ms": "http://127.0.0.1:15000"},
    "instances": {"order-ms": {"order-ms": "http://127.0.0.1:15000", "order-ms-2": "http://127.0.0.1:15001"}},
    "env": {"DB_HOST": "127.0.0.1", "DB_PORT": "13306", "KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:19092"},
    "admin": {"DB_USER": "root", "DB_PASSWORD": "admin-secret"},
    "databases": {"order_ms": {"database": "coffee_t_order", "owner_user": "o", "owner_password": "op",
                               "app_user": "a", "app_password": "ap"}},
    "service_env": {"order_ms": {"DB_NAME": "coffee_t_order", "DB_USER": "a", "DB_PASSWORD": "ap"}},
    "kafka_tools_env": {"KAFKA_SASL_USERNAME": "stack-tools"}, "kafka_credentials": None,
    "kafka_ready_seconds": 3.5, "metrics": {"order-ms": "http://127.0.0.1:15000/metrics"},
    "supervisor_pid": 40, "processes": {"order-ms": PROCESS},
}


@pytest.fixture
def state_file(tmp_path):
    path = tmp_path / "state.json"
    write_state(path, WRITTEN)
    return path


def test_what_the_stack_writes_reads_back_typed(state_file):
    state = StackState.read(state_file)
    assert state.base_url == "http://127.0.0.1:18080"
    assert state.kafka_servers == "127.0.0.1:19092"
    assert state.databases["order_ms"] == DatabaseAccounts("coffee_t_order", "o", "op", "a", "ap")
    assert state.pid("order-ms") == 41 and state.processes["order-ms"].log == "/logs/order-ms.log"
    assert state.restarts() == {"order-ms": 2}
    assert state.prometheus_url is None


def test_the_environments_of_a_service(state_file):
    state = StackState.read(state_file)
    assert state.app_env("order_ms") == {**WRITTEN["env"], "DB_NAME": "coffee_t_order", "DB_USER": "a",
                                         "DB_PASSWORD": "ap"}
    assert state.owner_env("order_ms")["DB_USER"] == "o"
    assert state.owner_env("order_ms", "scratch")["DB_NAME"] == "scratch"
    assert state.admin_env("scratch") == {**WRITTEN["env"], "DB_NAME": "scratch", "DB_USER": "root",
                                          "DB_PASSWORD": "admin-secret"}


def test_a_field_a_newer_stack_adds_does_not_break_the_reader(tmp_path):
    path = tmp_path / "state.json"
    write_state(path, {**WRITTEN, "something_new": 1, "processes": {"order-ms": {**PROCESS, "cgroup": "x"}}})
    assert StackState.read(path).pid("order-ms") == 41


def test_again_sees_the_supervisors_rewrite(state_file):
    state = StackState.read(state_file)
    write_state(state_file, {**WRITTEN, "processes": {"order-ms": {**PROCESS, "pid": 99, "restarts": 3}}})
    assert (state.pid("order-ms"), state.again().pid("order-ms")) == (41, 99)


def test_stack_state_names_the_file_and_a_missing_one_is_said_so(state_file, tmp_path, monkeypatch):
    monkeypatch.setenv("STACK_STATE", str(state_file))
    assert StackState.from_environment(tmp_path / "elsewhere.json").path == state_file
    monkeypatch.delenv("STACK_STATE")
    with pytest.raises(FileNotFoundError, match="elsewhere.json is missing"):
        StackState.from_environment(tmp_path / "elsewhere.json")


def test_the_file_holds_secrets_so_only_its_owner_reads_it(state_file):
    assert stat.S_IMODE(state_file.stat().st_mode) == 0o600
