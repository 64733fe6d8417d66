"""nginx as the local ingress: the same path rules as the chart's Ingress (/order-ms, /delivery-ms), each in
front of every instance of its service."""
from __future__ import annotations

from pathlib import Path

from scripts.stack.debian import ensure_debian_package
from scripts.stack.supervisor import ProcessSpec, Supervisor
from scripts.stack.waiting import http_ok, wait_until
from services.order_ms.edge_errors import EDGE_PROBLEMS, UNAVAILABLE_RETRY_AFTER, problem_body

TEMPLATE = Path(__file__).resolve().parent / "nginx.conf.template"


def upstream_servers(ports: list[int]) -> str:
    # max_fails=0: nginx never takes an instance out of rotation for fail_timeout after one error. Every request
    # tries the instances in turn instead (a refused connection costs nothing locally), so an instance that is
    # back serves at once, and a rolling restart can never leave nginx believing that no instance is alive.
    return "\n        ".join(f"server 127.0.0.1:{port} max_fails=0;" for port in ports)


def edge_problem_values() -> dict[str, str]:
    """The bodies of nginx's own answers (the same ones order-ms gives ingress-nginx in a cluster)."""
    values = {f"PROBLEM_{status}": problem_body(status) for status in EDGE_PROBLEMS}
    for status, body in values.items():
        # nginx would read a quote as the end of the string and $ as a variable.
        assert "'" not in body and "$" not in body, status
    return {**values, "UNAVAILABLE_RETRY_AFTER": str(UNAVAILABLE_RETRY_AFTER)}


def render_config(run_dir: Path, listen_port: int, order_ports: list[int], delivery_ports: list[int],
                  stream_ports: dict[str, list[int]]) -> Path:
    """nginx.conf for these ports (`stream_ports`: order-ms's and delivery-ms's stream processes), written to
    `run_dir` (which also holds nginx's pid file)."""
    run_dir.mkdir(parents=True, exist_ok=True)
    config = TEMPLATE.read_text()
    for key, value in {
        "RUN_DIR": str(run_dir),
        "INGRESS_PORT": str(listen_port),
        "ORDER_SERVERS": upstream_servers(order_ports),
        "DELIVERY_SERVERS": upstream_servers(delivery_ports),
        "ORDER_STREAM_SERVERS": upstream_servers(stream_ports["order-ms"]),
        "DELIVERY_STREAM_SERVERS": upstream_servers(stream_ports["delivery-ms"]),
        "MIME_TYPES": "/etc/nginx/mime.types",
        **edge_problem_values(),
    }.items():
        config = config.replace("${" + key + "}", value)
    path = run_dir / "nginx.conf"
    path.write_text(config)
    return path


def nginx_argv(config: Path) -> list[str]:
    nginx = ensure_debian_package("nginx", "nginx-light")
    return [nginx, "-c", str(config), "-p", str(config.parent), "-e", "stderr"]


def start_ingress(supervisor: Supervisor, run_dir: Path, listen_port: int, order_ports: list[int],
                  delivery_ports: list[int], stream_ports: dict[str, list[int]]) -> str:
    """Starts nginx and returns the base URL once it routes to order-ms."""
    config = render_config(run_dir, listen_port, order_ports, delivery_ports, stream_ports)
    base_url = f"http://127.0.0.1:{listen_port}"
    supervisor.start(ProcessSpec("ingress", nginx_argv(config), after_start=lambda process: wait_until(
        lambda: http_ok(f"{base_url}/order-ms"), "nginx ingress", 30, process)))
    return base_url
