"""A loop of right passwords under order load: one address logs in to its own accounts as fast as it can, with and
without the device tokens its logins got. Each login is an argon2id hash of 46 MiB; unthrottled, the loop holds
every order-ms worker and orders queue. The login rates (LOGIN_MAX_PER_CLIENT, LOGIN_MAX_PER_ACCOUNT,
LOGIN_MAX_PER_DEVICE in LOGIN_RATE_WINDOW_SECONDS) must answer most of the loop with 429 before any hashing, so
no order fails and their latency stays near what it was before the loop (issue 25)."""
from __future__ import annotations

import math
import random
import threading
import time
import uuid
from collections import Counter
from http.cookiejar import DefaultCookiePolicy

import requests
from requests.adapters import HTTPAdapter

from scripts.chaos.latency import latency_summary
from scripts.chaos.scenario import Scenario, ScenarioResult
from services.order_ms.settings import load_settings

NAME = "login loop"
RATE = 30  # orders/s
BEFORE, AFTER = 5.0, 3.0  # seconds of order load around the loop
LOOPERS = 8  # threads logging in back to back: twice order-ms's workers per instance
ACCOUNTS = 3  # the looping address's own accounts; one thread in two sends its account's device token
PASSWORD = "login-loop-password"
# The order POST p99 during the loop may be this many times the p99 before it (at least P99_FLOOR_MS): a ratio,
# since the machine is shared (judged only with CHAOS_LATENCY_LIMITS, as every latency promise is).
P99_RATIO, P99_FLOOR_MS = 3.0, 250.0


class _FromAddress(HTTPAdapter):
    """Connects from one local address: the ingress sees the loop as a client of its own, not the order load's."""

    def __init__(self, address: str):
        self.address = address
        super().__init__()

    def init_poolmanager(self, *args, **kwargs):
        kwargs["source_address"] = (self.address, 0)
        super().init_poolmanager(*args, **kwargs)


def _session(address: str) -> requests.Session:
    session = requests.Session()
    session.mount("http://", _FromAddress(address))
    return session


class LoginLoop:
    """LOOPERS threads of right logins until stopped; every answer's status is counted."""

    def __init__(self, base_url: str, address: str, accounts: list[tuple[str, str]]):
        self.url = f"{base_url}/order-ms/login"
        self.address = address
        self.accounts = accounts  # (user id, device token)
        self.statuses: Counter[str] = Counter()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._loop, args=(index,), daemon=True) for index in range(LOOPERS)]

    def start(self) -> LoginLoop:
        for thread in self._threads:
            thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=30)

    def _loop(self, index: int) -> None:
        user_id, token = self.accounts[index % len(self.accounts)]
        with_device = index % 2 == 1
        with _session(self.address) as session:
            session.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))
            while not self._stop.is_set():
                try:
                    status = session.post(self.url, json={"user_id": user_id, "password": PASSWORD}, timeout=30,
                                          headers={"Device-Token": token} if with_device else {}).status_code
                    kind = f"{status} {'device' if with_device else 'no device'}"
                except requests.RequestException as exc:
                    kind = f"no answer ({type(exc).__name__})"
                with self._lock:
                    self.statuses[kind] += 1


def _loop_accounts(base_url: str, address: str) -> list[tuple[str, str]]:
    """The looping address's accounts, each signed up and logged in once from it: (user id, its device token)."""
    accounts = []
    with _session(address) as session:
        for _ in range(ACCOUNTS):
            user_id = f"chaos-looper-{uuid.uuid4().hex[:8]}"
            body = {"user_id": user_id, "password": PASSWORD}
            session.post(f"{base_url}/order-ms/users", json=body, timeout=30).raise_for_status()
            login = session.post(f"{base_url}/order-ms/login", json=body, timeout=30)
            login.raise_for_status()
            accounts.append((user_id, login.headers["Device-Token"]))
    return accounts


def _most_hashes(seconds: float) -> int:
    """The most right logins the production limits let the loop have in `seconds`: per window, the address's rate
    (bounded by its accounts' own) plus each device's, over every window the loop touched."""
    limits = load_settings()
    windows = math.ceil(seconds / limits.login_rate_window_seconds) + 1
    per_window = (min(limits.login_max_per_client, ACCOUNTS * limits.login_max_per_account)
                  + ACCOUNTS * limits.login_max_per_device)
    return windows * per_window


def run(scenario: Scenario) -> ScenarioResult:
    base_url = scenario.stack.base_url
    address = f"127.{random.randint(1, 254)}.{random.randint(0, 255)}.{random.randint(1, 254)}"
    accounts = _loop_accounts(base_url, address)
    seconds = scenario.settings.seconds(30, 10)
    orders = scenario.place_orders(int(RATE * (BEFORE + seconds + AFTER)), RATE)
    orders.wait_scheduled(int(RATE * BEFORE), timeout=BEFORE + 30)
    loop = LoginLoop(base_url, address, accounts).start()
    scenario.fault_begins()
    started = time.monotonic()
    scenario.keep_fault(seconds)
    loop.stop()
    looped = time.monotonic() - started
    scenario.fault_ends()
    result = scenario.finish(f"{LOOPERS} threads of right logins of {ACCOUNTS} accounts from one address for "
                             f"{looped:.0f} s, half with their device tokens, while orders were placed at {RATE}/s",
                             orders)
    answered = dict(sorted(loop.statuses.items()))
    hashed = sum(count for kind, count in loop.statuses.items() if kind.startswith("200"))
    refused = sum(count for kind, count in loop.statuses.items() if kind.startswith("429"))
    bound = _most_hashes(looped)
    result.details["login_loop"] = {"answers": answered, "hashed": hashed, "refused": refused, "bound": bound,
                                    "seconds": round(looped, 1)}
    result.notes.append(f"the loop's {sum(answered.values())} logins: {answered}; {hashed} hashed "
                        f"({hashed / looped:.1f}/s), at most {bound} allowed by the limits")
    if refused == 0:
        result.failures.append("a loop of right logins was never answered 429: it is not rate-limited")
    if hashed > bound:
        result.failures.append(f"the loop had {hashed} logins hashed, more than the {bound} its limits allow")
    other = {kind: count for kind, count in answered.items() if not kind.startswith(("200", "429"))}
    if other:
        result.failures.append(f"logins of the loop got answers other than 200 and 429: {other}")
    latency = latency_summary([attempt for outcome in orders.results for attempt in outcome.attempts],
                              scenario.fault_window)
    before, during = latency["before"]["p99"], latency["during"]["p99"]
    if before is not None and during is not None:
        limit = max(P99_RATIO * before, P99_FLOOR_MS)
        verdict = f"order POST p99 {before:.0f} ms before the loop, {during:.0f} ms during it ({during / before:.1f}x)"
        result.details["login_loop"]["post_p99_ms"] = {"before": round(before, 1), "during": round(during, 1)}
        if during > limit and scenario.settings.latency_limits:
            result.failures.append(f"{verdict}: over the {limit:.0f} ms promised")
        else:
            result.notes.append(verdict)
    return result
