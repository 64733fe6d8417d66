"""services/platform/gunicorn_conf.py: how its timeouts fit together and what its hooks do."""
import os
import runpy
import socket
from types import SimpleNamespace

import pytest

from services.platform.settings import Settings, platform_fields
from tests.support.stack import ROOT


@pytest.fixture
def config(monkeypatch, tmp_path):
    for name in ("DB_READ_TIMEOUT", "DB_CONNECT_TIMEOUT", "GUNICORN_TIMEOUT", "GUNICORN_WORKER_CLASS"):
        monkeypatch.delenv(name, raising=False)
    # The config file sets this for the process it runs in: here it must not outlive the test.
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    return runpy.run_path(str(ROOT / "services" / "platform" / "gunicorn_conf.py"))


def test_the_default_read_timeout_ends_before_gunicorn_kills_the_worker(config):
    settings = Settings(**platform_fields(db_name="any"))
    # The first statement on a pooled connection may wait twice: once there, once more on a new connection.
    assert 2 * settings.db_read_timeout + settings.db_connect_timeout < config["timeout"]


def test_a_worker_starts_no_tracing_without_an_endpoint_nor_for_an_app_that_is_no_service(config, monkeypatch):
    from flask import Flask

    from services.platform import tracing

    service_app, echo_app = Flask("service"), Flask("echo")
    service_app.config["SERVICE_NAME"] = "a-service"
    for name in ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"):
        monkeypatch.delenv(name, raising=False)
    config["post_worker_init"](SimpleNamespace(wsgi=service_app))
    assert not tracing.enabled()
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:9/")
    config["post_worker_init"](SimpleNamespace(wsgi=echo_app))
    assert not tracing.enabled()


def test_the_master_refuses_tracing_settings_that_cannot_work(config, monkeypatch):
    from services.platform.settings import SettingsError

    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")
    with pytest.raises(SettingsError, match="OTEL_EXPORTER_OTLP_PROTOCOL"):
        config["on_starting"](None)


def test_an_exiting_worker_closes_its_listening_sockets_at_once(config):
    listener = socket.create_server(("127.0.0.1", 0))
    config["worker_exit"](None, SimpleNamespace(pid=os.getpid(), sockets=[listener]))
    assert listener.fileno() == -1


def test_the_master_keeps_its_sockets_when_it_reports_a_dead_worker(config):
    listener = socket.create_server(("127.0.0.1", 0))
    try:
        config["worker_exit"](None, SimpleNamespace(pid=os.getpid() + 1, sockets=[listener]))
        assert listener.fileno() != -1
    finally:
        listener.close()


def test_a_stream_process_loads_its_app_after_gevent_patched_and_lets_in_more_than_its_streams(monkeypatch, tmp_path):
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    monkeypatch.setenv("GUNICORN_WORKER_CLASS", "gevent")
    monkeypatch.setenv("STREAM_MAX_PER_INSTANCE", "250")
    config = runpy.run_path(str(ROOT / "services" / "platform" / "gunicorn_conf.py"))
    assert config["worker_class"] == "gevent" and config["preload_app"] is False
    # The app answers the stream beyond its limit (503 with a hint); probes and scrapes still get in.
    assert config["worker_connections"] > 250


def test_the_api_keeps_the_sync_worker_and_preloads(config):
    assert config["worker_class"] == "sync" and config["preload_app"] is True
