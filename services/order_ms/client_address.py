"""The caller's network address, taking X-Forwarded-For only from the proxies this service is told to trust."""
from __future__ import annotations

import functools
import ipaddress

from flask import request
from werkzeug.middleware.proxy_fix import ProxyFix

from services.order_ms.settings import OrderSettings

# Anyone can get a whole /64 of IPv6 addresses, so per-client limits count the network, not the address.
IPV6_CLIENT_PREFIX = 64


class TrustedProxyFix:
    """ProxyFix for X-Forwarded-For, applied only when the direct peer is one of FORWARDED_ALLOW_IPS.

    A client that reaches the service directly cannot choose its address by sending the header itself."""

    def __init__(self, wsgi_app, hops: int, allowed: str):
        self.wsgi_app = wsgi_app
        self.fixed = ProxyFix(wsgi_app, x_for=hops, x_proto=0) if hops > 0 else wsgi_app
        self.allow_any = any(item.strip() == "*" for item in allowed.split(","))
        self.allowed = [ipaddress.ip_network(item.strip(), strict=False)
                        for item in allowed.split(",") if item.strip() and item.strip() != "*"]
        # Requests come from a handful of peers (the ingress's pods): each is parsed and looked up once.
        self._trusted = functools.lru_cache(maxsize=1024)(self._is_trusted)

    def __call__(self, environ, start_response):
        if self._trusted(environ.get("REMOTE_ADDR", "")):
            return self.fixed(environ, start_response)
        return self.wsgi_app(environ, start_response)

    def _is_trusted(self, peer: str) -> bool:
        if self.allow_any:
            return True
        try:
            address = ipaddress.ip_address(peer)
        except ValueError:
            return False
        return any(address in network for network in self.allowed)


def trust_forwarded_for(wsgi_app, settings: OrderSettings) -> TrustedProxyFix:
    return TrustedProxyFix(wsgi_app, settings.trusted_proxy_hops, settings.forwarded_allow_ips)


def client_address() -> str:
    """The client of the current request as a stable key: an IPv4 address or an IPv6 /64 network."""
    candidates = [request.remote_addr, request.environ.get("werkzeug.proxy_fix.orig", {}).get("REMOTE_ADDR")]
    for candidate in candidates:
        try:
            address = ipaddress.ip_address((candidate or "").strip())
        except ValueError:
            continue  # a proxy passed on something that is not an address: fall back to the peer
        if address.version == 6:
            if address.ipv4_mapped:
                return str(address.ipv4_mapped)
            return str(ipaddress.ip_network(f"{address}/{IPV6_CLIENT_PREFIX}", strict=False))
        return str(address)
    return "unknown"
