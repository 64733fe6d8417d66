"""nginx as the local ingress: the same path rules as the chart's Ingress (/order-ms, /delivery-ms)."""
from __future__ import annotations

from pathlib import Path

from scripts.stack.debian import ensure_debian_package
from scripts.stack.supervisor import ProcessSpec, Supervisor
from scripts.stack.waiting import http_ok, wait_until

TEMPLATE = Path(__file__).resolve().parent / "nginx.conf.template"


def render_config(run_dir: Path, listen_port: int, order_port: int, delivery_port: int) -> Path:
    """nginx.conf for these ports, written to `run_dir` (which also holds nginx's pid file)."""
    run_dir.mkdir(parents=True, exist_ok=True)
    config = TEMPLATE.read_text()
    for key, value in {"RUN_DIR": str(run_dir), "INGRESS_PORT": str(listen_port), "ORDER_PORT": str(order_port),
                       "DELIVERY_PORT": str(delivery_port), "MIME_TYPES": "/etc/nginx/mime.types"}.items():
        config = config.replace("${" + key + "}", value)
    path = run_dir / "nginx.conf"
    path.write_text(config)
    return path


def nginx_argv(config: Path) -> list[str]:
    nginx = ensure_debian_package("nginx", "nginx-light")
    return [nginx, "-c", str(config), "-p", str(config.parent), "-e", "stderr"]


def start_ingress(supervisor: Supervisor, run_dir: Path, listen_port: int, order_port: int, delivery_port: int) -> str:
    """Starts nginx and returns the base URL once it routes to order-ms."""
    config = render_config(run_dir, listen_port, order_port, delivery_port)
    base_url = f"http://127.0.0.1:{listen_port}"
    supervisor.start(ProcessSpec("ingress", nginx_argv(config), after_start=lambda process: wait_until(
        lambda: http_ok(f"{base_url}/order-ms"), "nginx ingress", 30, process)))
    return base_url
