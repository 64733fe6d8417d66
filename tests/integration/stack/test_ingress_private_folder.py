"""nginx run from a clone that its worker user cannot enter (a folder made by `mktemp -d`, or a home folder
with mode 0700, with the stack started as root): large request bodies still reach the service, never
nginx's HTML 500 from a temporary file it could not write."""
import os
import subprocess

import requests

from scripts.stack.ingress import nginx_argv, render_config
from scripts.stack.waiting import http_ok
from tests.support.polling import wait_for
from tests.support.processes import free_port


def test_a_body_over_the_buffer_nginx_spools_by_default_reaches_the_service(stack, tmp_path):
    private = tmp_path / "only-its-owner"
    private.mkdir()
    private.chmod(0o700)
    order_port = int(stack.services["order-ms"].rsplit(":", 1)[1])
    ingress_port = free_port()
    config = render_config(private / "nginx", ingress_port, [order_port], [free_port()],
                           {"order-ms": [free_port()], "delivery-ms": [free_port()]})
    nginx = subprocess.Popen(nginx_argv(config), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        url = f"http://127.0.0.1:{ingress_port}"
        wait_for(lambda: http_ok(f"{url}/order-ms"), "nginx started from the private folder", timeout=20)
        # Over nginx's default 16 KiB body buffer and under its 1 MiB limit: the service answers 413 itself.
        body = b'{"padding": "' + b"x" * 100_000 + b'"}'
        response = requests.post(f"{url}/order-ms/users", data=body, headers={"Content-Type": "application/json"},
                                 timeout=10)
        assert response.status_code == 413, response.text[:300]
        assert response.headers["Content-Type"].startswith("application/problem+json")
        assert response.json()["detail"] == "The request body is larger than 64 KiB."
    finally:
        nginx.terminate()
        nginx.wait(timeout=10)
    if os.geteuid() == 0:
        # Started as root, nginx's workers ran as another user, who could not have entered this folder.
        assert private.stat().st_mode & 0o077 == 0
