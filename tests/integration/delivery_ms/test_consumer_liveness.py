"""Liveness follows progress: a consumer whose database freezes with an order waiting reports 503 on /healthz, the
stack's supervisor restarts it, and once the database answers again the order is delivered and /healthz is 200.

The consumer runs under its own Supervisor (the stack's class, its default probe settings) with its own group,
database and CONSUMER_STALL_SECONDS; the database is frozen through a TCP proxy, as a SIGSTOPped server would be."""
import json
import sys
import urllib.error
import urllib.request

from scripts.stack.supervisor import PROBE_FAILURES, PROBE_PERIOD_SECONDS, ProcessSpec, Supervisor
from services.platform.metrics import HEALTH_PATH
from tests.integration.delivery_ms.test_consumer_processes import wait_for_deliveries
from tests.support.polling import wait_for
from tests.support.processes import free_port
from tests.support.prometheus import sample_sum, scrape
from tests.support.tcp_proxy import TcpProxy
from tests.support.topics import OrderProducer, new_order

STALL_SECONDS = 3
# The stall limit, the probes that must fail in a row, the SIGTERM grace, a join of the group: with room.
RESTART_TIMEOUT = STALL_SECONDS + PROBE_PERIOD_SECONDS * (PROBE_FAILURES + 1) + 60


def health(port: int) -> tuple[int, dict] | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{HEALTH_PATH}", timeout=2) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as exc:
        return exc.code, json.load(exc)
    except OSError:
        return None  # restarting


def test_a_frozen_database_makes_the_consumer_unhealthy_and_the_supervisor_restarts_it(consumers, kafka_servers,
                                                                                        tmp_path):
    isolated = consumers  # its database and group only: the process runs under the supervisor below
    env = isolated.env
    proxy = TcpProxy(env["DB_HOST"], int(env["DB_PORT"]))
    port = free_port()
    supervisor = Supervisor(tmp_path, echo=False)
    producer = OrderProducer(kafka_servers)
    try:
        supervisor.start(ProcessSpec(
            "consumer", [sys.executable, "-m", "services.delivery_ms.consumer"],
            {**env, "DB_HOST": "127.0.0.1", "DB_PORT": str(proxy.port), "METRICS_PORT": str(port),
             "CONSUMER_STALL_SECONDS": str(STALL_SECONDS)},
            health_url=f"http://127.0.0.1:{port}{HEALTH_PATH}"))
        before = new_order()
        producer.send_orders([before])
        wait_for_deliveries(isolated, [before["order_id"]])
        assert health(port) == (200, {"status": "ok", "detail": "making progress"})
        first_pid = supervisor.pid("consumer")

        proxy.stall()
        during = new_order()
        producer.send_orders([during])
        status, body = wait_for(lambda: (h := health(port)) and h[0] == 503 and h, "/healthz to answer 503", 60)
        assert body["status"] == "stalled" and "no progress" in body["detail"]
        assert sample_sum(scrape(f"http://127.0.0.1:{port}/metrics"), "consumer_stalled_seconds") > STALL_SECONDS

        def restarted():
            supervisor.watch()
            child = supervisor.snapshot()["consumer"]
            return child["running"] and child["pid"] != first_pid and child

        child = wait_for(restarted, "the supervisor to restart the stalled consumer", RESTART_TIMEOUT)
        assert child["liveness_restarts"] == 1 and "HTTP 503" in child["last_probe_failure"]
        assert isolated.delivery_counts([during["order_id"]]) == {}

        proxy.restore()
        assert wait_for_deliveries(isolated, [during["order_id"]]) == {during["order_id"]: 1}
        wait_for(lambda: health(port) == (200, {"status": "ok", "detail": "making progress"}), "/healthz back to 200")
        supervisor.watch()
        assert supervisor.snapshot()["consumer"]["liveness_restarts"] == 1
    finally:
        proxy.restore()
        producer.close()
        supervisor.stop_all()
        proxy.close()
