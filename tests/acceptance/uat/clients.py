"""Other clients for the cases about per-client limits: requests that leave the runner from other local addresses.

A throttle counts per client address, as the deployment sees it: the local ingress (nginx) passes its peer's
address on in X-Forwarded-For, ingress-nginx does the same with its defaults, and both ignore an
X-Forwarded-For the client sends itself. So the honest way to be "another client" is another source address:
- UAT_CLIENT_ADDRESSES: local addresses of this machine, comma-separated, that the deployment sees as
  distinct clients (e.g. the extra addresses of a CI runner). Each case takes the next one.
- unset, with a loopback BASE_URL (make up, make run, make test): fresh addresses in 127.0.0.0/8, which
  Linux routes to the loopback interface as a whole, chosen at random per run so that a second run
  meets clients the first one did not throttle.
Otherwise (a remote deployment, e.g. the in-cluster Job, whose one pod is one client) those cases are
skipped, and the report says what to set."""
from __future__ import annotations

import ipaddress
import os
import random
import socket
from urllib.parse import urlsplit


class NoOtherClient(Exception):
    """The runner has no second address the deployment would see as another client."""

    REMOTE = ("BASE_URL is not on this machine: set UAT_CLIENT_ADDRESSES to local addresses that the deployment "
              "sees as distinct clients")


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(socket.gethostbyname(host)).is_loopback
    except (OSError, ValueError):
        return False


class ClientAddresses:
    """Hands out local source addresses, each used by one client of one case."""

    def __init__(self, base_url: str, configured: str | None = None):
        configured = os.environ.get("UAT_CLIENT_ADDRESSES", "") if configured is None else configured
        self.given = [address.strip() for address in configured.split(",") if address.strip()]
        self.loopback = _is_loopback(urlsplit(base_url).hostname or "")
        self.used: list[str] = []
        self._random = random.SystemRandom()

    @property
    def available(self) -> bool:
        return bool(self.given) or self.loopback

    def next(self) -> str:
        if self.given:
            if len(self.used) >= len(self.given):
                raise NoOtherClient(f"UAT_CLIENT_ADDRESSES lists {len(self.given)} addresses; the throttle cases "
                                    f"need {len(self.used) + 1} or more")
            address = self.given[len(self.used)]
        elif self.loopback:
            address = self._fresh_loopback()
        else:
            raise NoOtherClient(NoOtherClient.REMOTE)
        self.used.append(address)
        return address

    def _fresh_loopback(self) -> str:
        while True:
            address = (
                f"127.{self._random.randint(1, 254)}.{self._random.randint(0, 255)}.{self._random.randint(1, 254)}"
            )
            if address not in self.used:
                return address
