"""The local trace backend (`make run`, or TRACING=1 for any stack): Zipkin's server with its UI, from Maven
Central into .cache/zipkin/<version>/ once, behind the OTLP/HTTP collector (scripts/stack/otlp_zipkin.py) that
every process of the stack exports to through the standard OTEL_* variables.

`python -m scripts.stack.trace_backend` installs it (scripts/setup.sh --test does, for the tracing tests)."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from scripts.stack.kafka_dist import MAVEN_REPOSITORY, java_binary
from scripts.stack.layout import ROOT, Layout
from scripts.stack.supervisor import ProcessSpec, Supervisor
from scripts.stack.waiting import http_ok, log, port_open, wait_until

ZIPKIN_VERSION = "3.5.1"
ZIPKIN_ARTIFACT = f"io.zipkin:zipkin-server:{ZIPKIN_VERSION}:jar:exec"
# Spans are kept in memory: the local backend is for looking at this session's orders, not for history.
ZIPKIN_MAX_SPANS = "200000"
ZIPKIN_HEAP = ("-Xms64m", "-Xmx384m")


@dataclass(frozen=True)
class TraceBackend:
    ui_url: str  # Zipkin's UI and API
    otlp_endpoint: str  # what OTEL_EXPORTER_OTLP_ENDPOINT names (the collector; /v1/traces is appended)

    @property
    def process_env(self) -> dict[str, str]:
        return {"OTEL_EXPORTER_OTLP_ENDPOINT": self.otlp_endpoint, "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf"}


def tracing_requested() -> bool:
    """TRACING=1 (the Makefile's default for `make run`); the stack's own default, as the product's, is off."""
    return os.environ.get("TRACING", "0").lower() in {"1", "true", "yes", "on"}


def zipkin_jar() -> Path:
    """Zipkin's executable jar, fetched with Maven unless this version is there already."""
    jar = ROOT / ".cache" / "zipkin" / ZIPKIN_VERSION / "zipkin-server-exec.jar"
    if jar.exists():
        return jar
    mvn = shutil.which("mvn")
    if mvn is None:
        raise SystemExit("Maven (mvn) is needed to fetch Zipkin: apt-get install -y maven (scripts/setup.sh does)")
    log(f"tracing: fetching Zipkin {ZIPKIN_VERSION} from Maven Central into {jar.parent}")
    started = time.monotonic()
    partial = jar.with_name("download.partial")
    shutil.rmtree(partial, ignore_errors=True)
    result = subprocess.run(
        [mvn, "-q", "-B", f"-Dmaven.repo.local={MAVEN_REPOSITORY}", "dependency:copy", f"-Dartifact={ZIPKIN_ARTIFACT}",
         f"-DoutputDirectory={partial}", "-Dmdep.stripVersion=true"],
        cwd=ROOT, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"fetching Zipkin with Maven failed:\n{result.stdout[-4000:]}{result.stderr[-4000:]}")
    # Renamed last: a jar in place is a complete one.
    (partial / "zipkin-server-exec.jar").rename(jar)
    shutil.rmtree(partial, ignore_errors=True)
    log(f"tracing: Zipkin {jar.stat().st_size / 2**20:.0f} MiB in {time.monotonic() - started:.0f}s")
    return jar


def start_trace_backend(layout: Layout, supervisor: Supervisor) -> TraceBackend:
    """Zipkin, then the collector in front of it; both supervised like every other process of the stack."""
    ui_url = f"http://127.0.0.1:{layout.zipkin_port}"
    env = {"QUERY_PORT": str(layout.zipkin_port), "STORAGE_TYPE": "mem", "MEM_MAX_SPANS": ZIPKIN_MAX_SPANS,
           # Zipkin's own scribe/Kafka/RabbitMQ collectors and self-tracing stay off: only its HTTP API is used.
           "SELF_TRACING_ENABLED": "false", "COLLECTOR_KAFKA_ENABLED": "false", "COLLECTOR_RABBITMQ_ENABLED": "false",
           "COLLECTOR_SCRIBE_ENABLED": "false"}
    supervisor.start(ProcessSpec(
        "zipkin", [java_binary(), *ZIPKIN_HEAP, "-Djava.awt.headless=true", "-jar", str(zipkin_jar()),
                   "--logging.level.root=WARN"], env,
        after_start=lambda process: wait_until(lambda: http_ok(f"{ui_url}/health"), "Zipkin", 120, process),
        health_url=f"{ui_url}/health"), wait=False)
    supervisor.start(ProcessSpec(
        "otlp-collector", [sys.executable, "-m", "scripts.stack.otlp_zipkin", "--port", str(layout.otlp_port),
                           "--zipkin", ui_url],
        after_start=lambda process: wait_until(lambda: port_open("127.0.0.1", layout.otlp_port), "OTLP collector",
                                               30, process)), wait=False)
    return TraceBackend(ui_url=ui_url, otlp_endpoint=f"http://127.0.0.1:{layout.otlp_port}")


if __name__ == "__main__":
    print(zipkin_jar())
    sys.exit(0)
