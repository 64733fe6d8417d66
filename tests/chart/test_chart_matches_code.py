"""The rendered chart and the code cannot drift apart: commands, probes and Ingress paths all exist."""
from __future__ import annotations

import importlib
import re

import pytest
from werkzeug.exceptions import MethodNotAllowed, NotFound

from services.platform.metrics import HEALTH_PATH
from tests.chart.image_contents import DOCKERFILES, ROOT, ImageCode

REQUIREMENTS = (ROOT / "requirements.txt").read_text()


def pod_specs(docs: list[dict]):
    """(kind/name, pod spec) of every workload in a render, the helm test pod included."""
    for doc in docs:
        if doc["kind"] in {"Deployment", "StatefulSet", "Job"}:
            yield f"{doc['kind']}/{doc['metadata']['name']}", doc["spec"]["template"]["spec"]
        elif doc["kind"] == "Pod":
            yield f"Pod/{doc['metadata']['name']}", doc["spec"]


def our_containers(docs: list[dict]):
    """(where, container, image repository) for every container running one of the project's images."""
    for where, spec in pod_specs(docs):
        for container in [*spec.get("initContainers", []), *spec["containers"]]:
            repository = container["image"].rpartition(":")[0].rpartition("/")[2]
            if repository in DOCKERFILES:
                yield f"{where}/{container['name']}", container, repository


def app_factory(target: str):
    """`module:factory()` as gunicorn reads it, resolved to the callable."""
    module_name, _, call = target.partition(":")
    assert call.endswith("()"), f"{target}: the chart must call the app factory"
    return importlib.import_module(module_name), call[:-2]


@pytest.fixture
def build_app(monkeypatch):
    """Builds a service's Flask app the way gunicorn would, in local mode (no secret needed, nothing connects)."""
    monkeypatch.setenv("APP_ENV", "local")

    def build(target: str):
        module, factory = app_factory(target)
        return getattr(module, factory)()

    return build


def serves(app, path: str) -> bool:
    try:
        app.url_map.bind("localhost").match(path, method="GET")
    except (NotFound, MethodNotAllowed):
        return False
    return True


def env_value(container: dict, name: str) -> str | None:
    return next((str(e["value"]) for e in container.get("env", []) if e["name"] == name and "value" in e), None)


def api_ingress(docs: list[dict]) -> dict:
    """The Ingress of the API paths (the streams have one of their own, "<fullname>-streams")."""
    (ingress,) = [d for d in docs if d["kind"] == "Ingress" and not d["metadata"]["name"].endswith("-streams")]
    return ingress


def port_number(container: dict, port) -> int:
    if isinstance(port, int):
        return port
    return next(p["containerPort"] for p in container.get("ports", []) if p["name"] == port)


@pytest.mark.parametrize("values_set", ["defaults", "ci", "external", "production"])
def test_every_container_command_exists_in_its_image(rendered, values_set):
    checked = 0
    for where, container, repository in our_containers(rendered[values_set]):
        image = ImageCode(repository)
        command = container["command"]
        if command[0] == "gunicorn":
            assert "gunicorn==" in REQUIREMENTS, "gunicorn is not a pinned runtime dependency"
            config = ROOT / command[command.index("-c") + 1]
            assert image.contains(config), f"{where}: {config.name} is not copied into {image.dockerfile.name}"
            module_name = command[-1].partition(":")[0]
            module_file = image.module_file(module_name)
            assert module_file, f"{where}: {module_name} is not in {image.dockerfile.name}"
            module, factory = app_factory(command[-1])
            assert callable(getattr(module, factory, None)), f"{where}: {command[-1]} does not resolve"
        elif command[:2] == ["python", "-m"]:
            module_file = image.module_file(command[2], runnable=True)
            assert module_file, f"{where}: `python -m {command[2]}` has no module in {image.dockerfile.name}"
        elif command[:2] == ["python", "-c"]:
            compile(command[2], where, "exec")
            continue
        else:
            pytest.fail(f"{where}: unexpected command {command}")
        assert image.missing_imports(module_file) == [], f"{where}: imports code the image lacks"
        checked += 1
    assert checked >= 7, "order-ms, delivery-ms, consumer, both relays and both services' migrations"


@pytest.mark.parametrize("values_set", ["defaults", "production"])
def test_every_probe_is_served_by_its_service(rendered, values_set, build_app):
    probes = 0
    for where, container, _repository in our_containers(rendered[values_set]):
        command = container["command"]
        for kind in ("startupProbe", "readinessProbe", "livenessProbe"):
            probe = container.get(kind, {}).get("httpGet")
            if not probe:
                continue
            port = port_number(container, probe["port"])
            if command[0] == "gunicorn":
                assert env_value(container, "PORT") == str(port), f"{where}: {kind} port {port} is not gunicorn's PORT"
                assert serves(build_app(command[-1]), probe["path"]), f"{where}: {kind} {probe['path']} is not a route"
            else:
                # The consumer and the relays serve /metrics and /healthz on METRICS_PORT (serve_metrics), nothing
                # else; liveness asks /healthz, which turns 503 when the loop is stuck.
                assert env_value(container, "METRICS_PORT") == str(port), f"{where}: {kind} port is not METRICS_PORT"
                assert probe["path"] in {"/metrics", HEALTH_PATH}, f"{where}: {kind} {probe['path']} is not served"
                if kind == "livenessProbe":
                    assert probe["path"] == HEALTH_PATH, f"{where}: liveness does not ask whether the loop progresses"
            probes += 1
        if command[0] == "gunicorn":
            assert {"readinessProbe", "livenessProbe", "startupProbe"} <= container.keys(), where
            assert container["readinessProbe"]["httpGet"]["path"] == "/readyz", where
            assert container["livenessProbe"]["httpGet"]["path"] == "/healthz", where
    assert probes >= 10


def test_every_ingress_path_reaches_a_service_port_that_serves_it(rendered, build_app):
    docs = rendered["defaults"]
    services = {d["metadata"]["name"]: d for d in docs if d["kind"] == "Service"}
    deployments = [d for d in docs if d["kind"] == "Deployment"]
    ingress = api_ingress(docs)
    paths = [p for rule in ingress["spec"]["rules"] for p in rule["http"]["paths"]]
    assert {p["path"] for p in paths} == {"/order-ms", "/delivery-ms"}
    # /metrics is for Prometheus on each pod's port: no Ingress path may lead to it.
    assert not [p for p in paths if "/metrics".startswith(p["path"].rstrip("/") or "/")]
    for path in paths:
        backend = path["backend"]["service"]
        service = services[backend["name"]]
        (service_port,) = [p for p in service["spec"]["ports"]
                           if p["name"] == backend["port"].get("name") or p["port"] == backend["port"].get("number")]
        selector = service["spec"]["selector"]
        (deployment,) = [d for d in deployments
                         if selector.items() <= d["spec"]["template"]["metadata"]["labels"].items()]
        (container,) = deployment["spec"]["template"]["spec"]["containers"]
        assert port_number(container, service_port["targetPort"]) == int(env_value(container, "PORT"))
        app = build_app(container["command"][-1])
        # No rewriting: the service itself answers the Ingress path and what lies below it.
        assert serves(app, path["path"]), f"{path['path']} is not served by {deployment['metadata']['name']}"
        assert serves(app, f"{path['path']}/healthz")
        assert not serves(app, f"{path['path']}/metrics"), f"{path['path']}/metrics would reach the outside"
        assert serves(app, "/metrics"), "Prometheus scrapes /metrics on the pod's port"


def test_the_stream_paths_reach_the_stream_processes_unbuffered_with_long_timeouts(rendered, build_app):
    docs = rendered["defaults"]
    services = {d["metadata"]["name"]: d for d in docs if d["kind"] == "Service"}
    deployments = [d for d in docs if d["kind"] == "Deployment"]
    (ingress,) = [d for d in docs if d["kind"] == "Ingress" and d["metadata"]["name"].endswith("-streams")]
    annotations = ingress["metadata"]["annotations"]
    assert annotations["nginx.ingress.kubernetes.io/proxy-buffering"] == "off"
    # Well above the heartbeat: a stream ends when its pod stops answering, never while it is idle.
    from services.platform.settings import Settings, platform_fields

    heartbeat = Settings(**platform_fields(db_name="any")).stream_heartbeat_seconds
    for timeout in ("proxy-read-timeout", "proxy-send-timeout"):
        assert int(annotations[f"nginx.ingress.kubernetes.io/{timeout}"]) >= 4 * heartbeat
    examples = {"/order-ms/[^/]+/orders/events": "/order-ms/USER0001/orders/events",
                "/delivery-ms/deliveries/events": "/delivery-ms/deliveries/events"}
    paths = [p for rule in ingress["spec"]["rules"] for p in rule["http"]["paths"]]
    assert {p["path"] for p in paths} == set(examples)
    for path in paths:
        service = services[path["backend"]["service"]["name"]]
        (deployment,) = [d for d in deployments if service["spec"]["selector"].items()
                         <= d["spec"]["template"]["metadata"]["labels"].items()]
        (container,) = deployment["spec"]["template"]["spec"]["containers"]
        assert env_value(container, "GUNICORN_WORKER_CLASS") == "gevent", deployment["metadata"]["name"]
        app = build_app(container["command"][-1])
        assert serves(app, examples[path["path"]]), f"{path['path']} is not served by {deployment['metadata']['name']}"
        assert not serves(app, "/order-ms/USER0001/orders"), "a stream process serves the streams only"


def test_probe_check_notices_a_path_the_app_does_not_serve(build_app):
    """The check above would catch a drift: a made-up probe path is not a route."""
    assert not serves(build_app("services.order_ms:create_app()"), "/ready")


def test_image_contents_come_from_the_dockerfile():
    """The delivery image has no order-ms code, so a command pointing there would be caught."""
    delivery = ImageCode("coffee-delivery")
    assert delivery.module_file("services.delivery_ms.consumer", runnable=True)
    assert delivery.module_file("services.order_ms.relay", runnable=True) is None
    # Each image holds its own service's migrations and no other's.
    assert delivery.contains(ROOT / "sql" / "delivery_ms") and not delivery.contains(ROOT / "sql" / "order_ms")
    assert ImageCode("coffee-order").contains(ROOT / "sql" / "order_ms")


def test_every_app_pod_migrates_first_and_no_hook_runs_before_the_database(rendered):
    for values_set, docs in rendered.items():
        for doc in docs:
            hooks = doc["metadata"].get("annotations", {}).get("helm.sh/hook", "")
            assert "pre-install" not in hooks and "pre-upgrade" not in hooks, f"{values_set}: {doc['metadata']['name']}"
        for doc in docs:
            if doc["kind"] == "Deployment":
                image = doc["spec"]["template"]["spec"]["containers"][0]["image"]
                service = "order_ms" if "coffee-order:" in image or "/coffee-order:" in image else "delivery_ms"
                init = doc["spec"]["template"]["spec"]["initContainers"]
                assert init[0]["command"][:3] == ["python", "-m", f"services.{service}.migrate"], doc["metadata"][
                    "name"
                ]
                assert "--wait" in init[0]["command"]


def container_env(container: dict) -> dict[str, dict]:
    return {e["name"]: e for e in container.get("env", [])}


@pytest.mark.parametrize("values_set", ["defaults", "external", "production"])
def test_migrations_log_in_as_the_owner_and_everything_else_as_the_app_user(rendered, values_set):
    """Database per service: the owner may change the schema, the app user only the data of its own database."""
    checked = 0
    for where, container, repository in our_containers(rendered[values_set]):
        env = container_env(container)
        if "DB_USER" not in env:
            assert container["command"][:2] == ["python", "-c"], f"{where} has no database login"
            continue
        database = "coffee_order" if repository == "coffee-order" else "coffee_delivery"
        role = "owner" if container["command"][2].endswith(".migrate") else "app"
        assert env["DB_NAME"]["value"] == database, where
        assert env["DB_USER"]["value"] == f"{database}_{role}", where
        assert env["DB_PASSWORD"]["valueFrom"]["secretKeyRef"]["key"] == f"{role}-password", where
        checked += 1
    assert checked >= 10, "each of the five Deployments: its migrations and its process"


def test_ingress_nginx_asks_order_ms_for_its_own_error_answers(rendered, build_app):
    from services.order_ms.edge_errors import EDGE_PROBLEMS, TOLD_AS

    docs = rendered["defaults"]
    annotations = api_ingress(docs)["metadata"]["annotations"]
    codes = [int(code) for code in annotations["nginx.ingress.kubernetes.io/custom-http-errors"].split(",")]
    assert codes == [414, 502, 503, 504]
    # Never a status the services answer with texts of their own: ingress-nginx would replace those too.
    assert not {400, 404, 413} & set(codes)
    backend = annotations["nginx.ingress.kubernetes.io/default-backend"]
    services = {d["metadata"]["name"]: d for d in docs if d["kind"] == "Service"}
    (deployment,) = [d for d in docs if d["kind"] == "Deployment"
                     and services[backend]["spec"]["selector"].items()
                     <= d["spec"]["template"]["metadata"]["labels"].items()]
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    client = build_app(container["command"][-1]).test_client()
    for code in codes:
        # The request ingress-nginx sends its default backend for an error: "/" with the status in X-Code.
        response = client.get("/", headers={"X-Code": str(code), "X-Original-URI": "/order-ms/x"})
        assert response.status_code == TOLD_AS.get(code, code) and response.status_code in EDGE_PROBLEMS
        assert response.mimetype == "application/problem+json" and response.get_json()["hint"]


def test_custom_error_answers_can_be_turned_off(render):
    ingresses = [d for d in render("--set", "global.secrets=throwaway", "--set", "ingress.customHttpErrors=null")
                 if d["kind"] == "Ingress"]
    assert len(ingresses) == 2
    assert not any("custom-http-errors" in key or "default-backend" in key
                   for ingress in ingresses for key in ingress["metadata"]["annotations"])


@pytest.mark.parametrize("values_set", ["defaults", "ci", "production"])
def test_the_ingress_never_resends_a_post_a_pod_may_have_read(rendered, values_set):
    """A keyless POST sent again after a pod died mid-request would be a second order: ingress-nginx retries
    only on a connection error (never after a timeout, never with non_idempotent), as the local nginx does."""
    from scripts.stack.ingress import TEMPLATE

    for ingress in (d for d in rendered[values_set] if d["kind"] == "Ingress"):
        annotations = ingress["metadata"]["annotations"]
        assert annotations["nginx.ingress.kubernetes.io/proxy-next-upstream"].split() == ["error"]
    annotations = api_ingress(rendered[values_set])["metadata"]["annotations"]
    conditions = annotations["nginx.ingress.kubernetes.io/proxy-next-upstream"].split()
    local = re.search(r"^\s*proxy_next_upstream\s+([^;]+);", TEMPLATE.read_text(), re.MULTILINE).group(1).split()
    assert local == conditions
    assert int(annotations["nginx.ingress.kubernetes.io/proxy-next-upstream-tries"]) >= 2
