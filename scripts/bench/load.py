"""HTTP load with wrk: as fast as it goes, or paced to a rate; and the customer whose token the load carries."""
from __future__ import annotations

import os
import re
import subprocess
import uuid
from dataclasses import dataclass

import requests

from scripts.bench.config import ROOT

POST_ORDER = "post_order.lua"
GET_WITH_TOKEN = "get_with_token.lua"
_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}


@dataclass(frozen=True)
class WrkResult:
    requests: int
    rate: float  # requests per second
    p50_ms: float
    p99_ms: float
    errors: int  # non-2xx answers and socket errors

    def summary(self) -> str:
        return f"{self.rate:,.0f} req/s, p50 {self.p50_ms:.1f} ms, p99 {self.p99_ms:.1f} ms, {self.errors} errors"


def _milliseconds(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)([a-z]+)", text).groups()
    return float(number) * _UNITS_MS[unit]


def parse_wrk(out: str) -> WrkResult:
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    sockets = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    return WrkResult(
        requests=int(re.search(r"(\d+) requests in", out).group(1)),
        rate=float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        p50_ms=_milliseconds(re.search(r"^\s*50%\s+(\S+)", out, re.M).group(1)),
        p99_ms=_milliseconds(re.search(r"^\s*99%\s+(\S+)", out, re.M).group(1)),
        errors=(int(non_2xx.group(1)) if non_2xx else 0) + (sum(map(int, sockets.groups())) if sockets else 0),
    )


def wrk(url: str, script: str, token: str, seconds: int, connections: int, pace_ms: int | None = None) -> WrkResult:
    """`connections` connections for `seconds`; with `pace_ms` each waits that long between its requests."""
    env = {**os.environ, "TOKEN": token}
    if pace_ms is not None:
        env["PACE_MS"] = str(pace_ms)
    out = subprocess.run(
        ["wrk", f"-c{connections}", f"-t{min(2, connections)}", f"-d{seconds}s", "--latency", "-s",
         str(ROOT / "bench" / script), url],
        env=env, capture_output=True, text=True, check=True).stdout
    return parse_wrk(out)


# Many connections, each waiting long between requests: the response time, which comes on top of each wait,
# then lowers the achieved rate little even when other work slows the machine down.
PACED_CONNECTIONS = 32


def paced_post(url: str, token: str, rate: float, seconds: int) -> WrkResult:
    """POSTs at about `rate` per second at most: each connection waits `PACED_CONNECTIONS / rate` seconds
    before its next request (wrk has no fixed-rate mode; the achieved rate is the one reported)."""
    return wrk(url, POST_ORDER, token, seconds, PACED_CONNECTIONS,
               pace_ms=max(1, round(PACED_CONNECTIONS * 1000 / rate)))


@dataclass(frozen=True)
class Customer:
    user_id: str
    token: str

    @property
    def headers(self) -> dict:
        return {"Authorization": f"Bearer {self.token}"}


def new_customer(order_url: str, user_id: str | None = None, password: str | None = None) -> Customer:
    """A new customer, signed up and logged in; with `user_id` and `password`, that existing account logged in."""
    body = {"user_id": user_id or f"bench-{uuid.uuid4().hex[:10]}", "password": password or "bench-password"}
    if user_id is None:
        requests.post(f"{order_url}/order-ms/users", json=body, timeout=10).raise_for_status()
    token = requests.post(f"{order_url}/order-ms/login", json=body, timeout=10).json()["access_token"]
    return Customer(body["user_id"], token)
