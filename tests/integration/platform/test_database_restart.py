"""A database that went away and came back costs no failed request once it is back: every pooled
connection is checked before use, so the dead ones are replaced instead of answering 503. One that stops
answering gets a 503 in bounded time."""
import requests

from tests.support.gunicorn import gunicorn
from tests.support.tcp_proxy import TcpProxy

ORDER = {"coffee_name": "jslee", "coffee_price": 2000, "coffee_qty": 1}


def test_no_503_after_the_database_comes_back(stack, customer, tmp_path):
    user_id, headers = customer.user_id, customer.headers
    env = stack.http_env_of("order_ms")
    proxy = TcpProxy(env["DB_HOST"], int(env["DB_PORT"]))
    try:
        with gunicorn("services.order_ms:create_app()", {**env, "DB_HOST": "127.0.0.1", "DB_PORT": str(proxy.port)},
                      tmp_path) as url:
            def post():
                return requests.post(f"{url}/order-ms/{user_id}/orders", json=ORDER, headers=headers, timeout=10)

            # Warm the workers' pools: their connections are idle for well under a second below.
            assert {post().status_code for _ in range(8)} == {201}
            proxy.cut()  # every pooled connection dies, as in a quick MariaDB restart
            proxy.restore()
            assert [post().status_code for _ in range(10)] == [201] * 10
            # While it is down, the answer says so and that nothing was saved.
            proxy.cut()
            down = post()
            assert down.status_code == 503 and down.json()["hint"].startswith("Nothing was saved.")
            proxy.restore()
            assert post().status_code == 201
    finally:
        proxy.close()


def test_a_database_that_stops_answering_gets_a_503_not_a_killed_worker(stack, customer, tmp_path):
    """A frozen MariaDB accepts connections and never answers. gunicorn kills a worker busy for longer than
    GUNICORN_TIMEOUT, so each statement's wait is bounded by DB_READ_TIMEOUT (and a new connection's by
    DB_CONNECT_TIMEOUT), and the caller gets a problem it can act on instead of a dropped connection."""
    user_id, headers = customer.user_id, customer.headers
    env = stack.http_env_of("order_ms")
    proxy = TcpProxy(env["DB_HOST"], int(env["DB_PORT"]))
    try:
        with gunicorn("services.order_ms:create_app()",
                      {**env, "DB_HOST": "127.0.0.1", "DB_PORT": str(proxy.port), "DB_READ_TIMEOUT": "2",
                       "DB_CONNECT_TIMEOUT": "2", "GUNICORN_TIMEOUT": "20"}, tmp_path) as url:
            def post():
                return requests.post(f"{url}/order-ms/{user_id}/orders", json=ORDER, headers=headers, timeout=30)

            assert post().status_code == 201
            proxy.stall()
            stalled = post()
            assert stalled.status_code == 503
            assert stalled.headers["Content-Type"] == "application/problem+json"
            assert stalled.json()["hint"].startswith("Nothing was saved.")
            proxy.restore()
            assert post().status_code == 201
    finally:
        proxy.close()

