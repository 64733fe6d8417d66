"""nginx as the stack renders it in front of two instances of a service: both serve, and a request (POST
included) that meets an instance that is gone, or one that resets the connection unread, is answered by the
other instance instead of failing."""
import subprocess
import sys
from collections import Counter

import pytest
import requests

from scripts.stack.ingress import nginx_argv, render_config
from scripts.stack.waiting import http_ok, port_open
from tests.support.polling import wait_for
from tests.support.processes import free_port
from tests.support.stack import ROOT


def start_echo(port: int, *flags: str) -> subprocess.Popen:
    process = subprocess.Popen([sys.executable, "-m", "tests.support.echo_server", str(port), *flags], cwd=ROOT)
    wait_for(lambda: port_open("127.0.0.1", port), f"echo server on {port}", timeout=10)
    return process


@pytest.fixture
def two_instances(tmp_path):
    """(ingress URL, {port: echo process}) with nginx routing /order-ms to both ports."""
    ports = [free_port(), free_port()]
    echoes = {port: start_echo(port) for port in ports}
    ingress_port = free_port()
    config = render_config(tmp_path, ingress_port, ports, [free_port()])
    nginx = subprocess.Popen(nginx_argv(config), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{ingress_port}/order-ms"
    try:
        wait_for(lambda: http_ok(url), "nginx routing to the instances", timeout=20)
        yield url, echoes
    finally:
        for process in [nginx, *echoes.values()]:
            process.terminate()
            process.wait(timeout=10)


def test_both_instances_serve(two_instances):
    url, echoes = two_instances
    served_by = Counter(requests.get(url, timeout=5).text for _ in range(20))
    assert set(served_by) == {str(port) for port in echoes}


def test_a_post_goes_to_the_other_instance_when_one_is_gone(two_instances):
    url, echoes = two_instances
    gone, remaining = list(echoes)
    echoes[gone].terminate()
    echoes[gone].wait(timeout=10)
    answers = [requests.post(url, json={"n": n}, timeout=5) for n in range(20)]
    assert [(a.status_code, a.text) for a in answers] == [(200, str(remaining))] * 20


def test_a_post_reset_unread_is_retried_on_the_other_instance(two_instances):
    url, echoes = two_instances
    resetting, remaining = list(echoes)
    echoes[resetting].terminate()
    echoes[resetting].wait(timeout=10)
    echoes[resetting] = start_echo(resetting, "--reset")
    answers = [requests.post(url, json={"n": n}, timeout=5) for n in range(20)]
    assert [(a.status_code, a.text) for a in answers] == [(200, str(remaining))] * 20
