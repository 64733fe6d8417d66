"""nginx as the stack renders it in front of two instances of a service: both serve; a request (POST included)
that meets an instance that is gone is answered by the other instance instead of failing; but a POST without an
Idempotency-Key that an instance may have read (it reset the connection, or died mid-request) is never sent to
another instance, so it can never become two orders. GETs, and POSTs with a key (a second delivery of which
order-ms answers as a replay), are still sent to the other instance."""
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
    config = render_config(tmp_path, ingress_port, ports, [free_port()],
                           {"order-ms": [free_port()], "delivery-ms": [free_port()]})
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


def replace_echo(echoes: dict, port: int, *flags: str) -> None:
    echoes[port].terminate()
    echoes[port].wait(timeout=10)
    echoes[port] = start_echo(port, *flags)


def test_a_post_met_by_a_reset_is_not_sent_again(two_instances):
    url, echoes = two_instances
    resetting, remaining = list(echoes)
    replace_echo(echoes, resetting, "--reset")
    answers = Counter((a.status_code, a.text if a.ok else "") for a in
                      (requests.post(url, json={"n": n}, timeout=5) for n in range(20)))
    # nginx cannot know whether the instance read the POST: the client gets 503 and decides (with its key).
    assert set(answers) == {(200, str(remaining)), (503, "")}, answers


@pytest.fixture
def one_dies_mid_request(two_instances, tmp_path):
    """(ingress URL, the port of the instance that stays, the file where the other notes each request it read
    before dying mid-request)."""
    url, echoes = two_instances
    dying, remaining = list(echoes)
    noted = tmp_path / "read-by-the-dying-instance"
    noted.touch()
    replace_echo(echoes, dying, "--die-mid-request", str(noted))
    return url, remaining, noted


def test_a_keyless_post_to_an_instance_that_dies_mid_request_is_never_sent_again(one_dies_mid_request):
    url, remaining, noted = one_dies_mid_request
    answers = [requests.post(url, json={"n": n}, timeout=5) for n in range(20)]
    read_by_dying = noted.read_text().split()
    assert read_by_dying and set(read_by_dying) == {"POST"}
    # Each POST the dying instance read is answered 503 and reached no other instance; the rest were served.
    failed = [a for a in answers if a.status_code != 200]
    assert [a.status_code for a in failed] == [503] * len(read_by_dying)
    assert [a.text for a in answers if a.status_code == 200] == [str(remaining)] * (20 - len(read_by_dying))
    assert all(a.headers["Content-Type"].startswith("application/problem+json") and a.headers["Retry-After"]
               for a in failed)


def test_a_get_to_an_instance_that_dies_mid_request_is_answered_by_the_other(one_dies_mid_request):
    url, remaining, noted = one_dies_mid_request
    answers = [requests.get(url, timeout=5) for _ in range(20)]
    assert [(a.status_code, a.text) for a in answers] == [(200, str(remaining))] * 20
    assert set(noted.read_text().split()) == {"GET"}


def test_a_post_with_an_idempotency_key_goes_to_the_other_instance(one_dies_mid_request):
    url, remaining, noted = one_dies_mid_request
    answers = [requests.post(url, json={"n": n}, headers={"Idempotency-Key": f"key-{n}"}, timeout=5)
               for n in range(20)]
    assert [(a.status_code, a.text) for a in answers] == [(200, str(remaining))] * 20
    assert noted.read_text().split() and set(noted.read_text().split()) == {"POST"}
