"""The stack's HTTP instances with replicas: names, API and metrics ports, and the ingress's upstream lines."""
from scripts.stack.application import http_services
from scripts.stack.ingress import upstream_servers
from scripts.stack.layout import Layout


def test_one_replica_keeps_the_service_names_and_ports():
    instances = http_services(Layout("t", 0, "coffee_t"))
    assert [(i.name, i.group, i.port, i.metrics_port) for i in instances] == [
        ("order-ms", "order-ms", 5000, 9130), ("delivery-ms", "delivery-ms", 6000, 9140)]


def test_replicas_take_the_next_ports_and_numbered_names():
    instances = http_services(Layout("t", 100, "coffee_t"), replicas=2)
    assert [(i.name, i.group, i.port, i.metrics_port) for i in instances] == [
        ("order-ms", "order-ms", 5100, 9230), ("order-ms-2", "order-ms", 5101, 9231),
        ("delivery-ms", "delivery-ms", 6100, 9240), ("delivery-ms-2", "delivery-ms", 6101, 9241)]
    # No instance's metrics port is another process's port (relays 9101-9102, consumers 9110+, wake-ups 9201-9202).
    assert {i.metrics_port for i in instances}.isdisjoint({9201, 9202, 9301, 9302})


def test_every_instance_is_an_upstream_server_never_taken_out_of_rotation():
    assert upstream_servers([5000, 5001]).split("\n") == ["server 127.0.0.1:5000 max_fails=0;",
                                                          "        server 127.0.0.1:5001 max_fails=0;"]
