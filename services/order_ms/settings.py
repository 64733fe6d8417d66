"""order-ms's settings: the platform's plus the token signing key, demo accounts, login throttling, proxies and the
status consumer's group and the reconciler of overdue orders (docs/configuration.md)."""
from __future__ import annotations

import functools
import ipaddress
from dataclasses import dataclass

from services.platform.settings import Settings, SettingsError, env_bool, env_float, env_int, env_str, platform_fields

DEFAULT_DATABASE = "coffee_order"
# The demo accounts' passwords are printed in the docs: outside local mode they are refused unless this is on.
DEMO_OVERRIDE = "INSECURE_DEMO_ACCOUNTS_OUTSIDE_LOCAL"


@dataclass(frozen=True)
class OrderSettings(Settings):
    # The Ed25519 private key that signs access tokens (token_signer.py); only order-ms's HTTP processes read it.
    token_signing_key_file: str
    jwt_ttl_seconds: int
    demo_accounts: bool
    login_max_failures: int
    login_lockout_seconds: int
    login_max_failures_per_client: int
    # Logins, successful ones included, per window: without a device token per client address and per account,
    # with one per (account, device); each is an argon2id hash of 46 MiB, so these bound what hashing can take.
    login_rate_window_seconds: int
    login_max_per_client: int
    login_max_per_account: int
    login_max_per_device: int
    # Password checks at once per instance (login_slots.py): the other workers stay free for everything else.
    login_concurrency: int
    device_token_ttl_seconds: int
    device_tokens_per_account: int
    signup_max_per_client: int
    signup_max_total: int
    signup_window_seconds: int
    # (network, sign-ups per address of it in the window), most specific network first.
    signup_network_limits: tuple[tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, int], ...]
    trusted_proxy_hops: int
    forwarded_allow_ips: str
    # The status consumer's group on delivery_status; its own variable, so that CONSUMER_GROUP (delivery-ms's
    # consumer) in a shared environment never puts both consumers in one group.
    status_consumer_group: str
    # Seconds the status consumer may have work without committing before its /healthz says 503.
    consumer_stall_seconds: float
    # The reconciler (reconciler.py, in the order relay's process): an order with no delivery event this long after
    # it was placed is overdue and its OrderCreated is published again, at most once per this period.
    order_overdue_seconds: int
    order_overdue_check_seconds: float
    # Only orders this young are looked at (older ones are left alone: no flood after an upgrade).
    order_reconcile_window_seconds: int


def load_settings() -> OrderSettings:
    shared = platform_fields(db_name=DEFAULT_DATABASE)
    return OrderSettings(
        **shared,
        token_signing_key_file=env_str("TOKEN_SIGNING_KEY_FILE", ""),
        jwt_ttl_seconds=env_int("JWT_TTL_SECONDS", 3600),
        demo_accounts=_demo_accounts(shared["app_env"]),
        login_max_failures=env_int("LOGIN_MAX_FAILURES", 5),
        login_lockout_seconds=env_int("LOGIN_LOCKOUT_SECONDS", 300),
        login_max_failures_per_client=env_int("LOGIN_MAX_FAILURES_PER_CLIENT", 50),
        login_rate_window_seconds=env_int("LOGIN_RATE_WINDOW_SECONDS", 60),
        login_max_per_client=env_int("LOGIN_MAX_PER_CLIENT", 60),
        login_max_per_account=env_int("LOGIN_MAX_PER_ACCOUNT", 20),
        login_max_per_device=env_int("LOGIN_MAX_PER_DEVICE", 10),
        # Half of gunicorn's request slots (services/platform/gunicorn_conf.py reads the same two variables).
        login_concurrency=env_int("LOGIN_CONCURRENCY",
                                  max(1, env_int("GUNICORN_WORKERS", 4) * env_int("GUNICORN_THREADS", 1) // 2)),
        device_token_ttl_seconds=env_int("DEVICE_TOKEN_TTL_SECONDS", 90 * 24 * 3600),
        device_tokens_per_account=env_int("DEVICE_TOKENS_PER_ACCOUNT", 10),
        signup_max_per_client=env_int("SIGNUP_MAX_PER_CLIENT", 20),
        signup_max_total=env_int("SIGNUP_MAX_TOTAL", 1000),
        signup_window_seconds=env_int("SIGNUP_WINDOW_SECONDS", 600),
        signup_network_limits=parse_network_limits(env_str("SIGNUP_NETWORK_LIMITS", "")),
        trusted_proxy_hops=env_int("TRUSTED_PROXY_HOPS", 1),
        # The same variable tells gunicorn whose X-Forwarded-* headers to believe.
        forwarded_allow_ips=env_str("FORWARDED_ALLOW_IPS", "127.0.0.1"),
        status_consumer_group=env_str("STATUS_CONSUMER_GROUP", "order-ms-status"),
        consumer_stall_seconds=env_float("CONSUMER_STALL_SECONDS", 120.0),
        order_overdue_seconds=_at_least_one("ORDER_OVERDUE_SECONDS", env_int("ORDER_OVERDUE_SECONDS", 60)),
        order_overdue_check_seconds=_at_least_one("ORDER_OVERDUE_CHECK_SECONDS",
                                                  env_float("ORDER_OVERDUE_CHECK_SECONDS", 15.0)),
        order_reconcile_window_seconds=_at_least_one("ORDER_RECONCILE_WINDOW_SECONDS",
                                                     env_int("ORDER_RECONCILE_WINDOW_SECONDS", 86400)),
    )


def parse_network_limits(text: str) -> tuple[tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, int], ...]:
    """SIGNUP_NETWORK_LIMITS, `CIDR=LIMIT` entries separated by commas (`203.0.113.0/24=200,10.0.0.0/8=100`), most
    specific network first; a malformed entry stops the process rather than leaving a network at the default."""
    limits = []
    for entry in (item.strip() for item in text.split(",")):
        if not entry:
            continue
        network, _, limit = entry.partition("=")
        try:
            limits.append((ipaddress.ip_network(network.strip(), strict=False), int(limit)))
        except ValueError:
            raise SettingsError(
                f"SIGNUP_NETWORK_LIMITS entry {entry!r} is not CIDR=LIMIT (e.g. 203.0.113.0/24=200)") from None
        if limits[-1][1] < 0:
            raise SettingsError(f"SIGNUP_NETWORK_LIMITS entry {entry!r} has a negative limit")
    return tuple(sorted(limits, key=lambda item: item[0].prefixlen, reverse=True))


def _at_least_one(name: str, value):
    """A period of 0 or less would republish every order at once, or check in a busy loop: refused."""
    if value < 1:
        raise SettingsError(f"{name} must be at least 1, got {value}")
    return value


def _demo_accounts(app_env: str) -> bool:
    """DEMO_ACCOUNTS, on by default in local mode only; asked for elsewhere without the override, refused."""
    wanted = env_bool("DEMO_ACCOUNTS", app_env == "local")
    if wanted and app_env != "local" and not env_bool(DEMO_OVERRIDE, False):
        raise SettingsError(
            f"DEMO_ACCOUNTS is on with APP_ENV={app_env}: the demo accounts' passwords are public, so they exist "
            f"only in local mode. Create real staff accounts with `python -m services.order_ms.staff create "
            f"--user-id NAME` instead (or, for a throwaway install, set {DEMO_OVERRIDE}=true)")
    return wanted


@functools.lru_cache(maxsize=1)
def get_settings() -> OrderSettings:
    """The process-wide settings, read on first use."""
    return load_settings()
