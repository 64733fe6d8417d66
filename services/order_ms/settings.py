"""order-ms's settings: the platform's plus the token signing key, demo accounts, login throttling, proxies and the
reconciler of overdue orders (docs/configuration.md)."""
from __future__ import annotations

import functools
from dataclasses import dataclass

from services.platform.settings import (
    Settings,
    SettingsError,
    env_bool,
    env_float,
    env_int,
    env_str,
    platform_fields,
)

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
    signup_max_per_client: int
    signup_window_seconds: int
    trusted_proxy_hops: int
    forwarded_allow_ips: str
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
        signup_max_per_client=env_int("SIGNUP_MAX_PER_CLIENT", 20),
        signup_window_seconds=env_int("SIGNUP_WINDOW_SECONDS", 600),
        trusted_proxy_hops=env_int("TRUSTED_PROXY_HOPS", 1),
        # The same variable tells gunicorn whose X-Forwarded-* headers to believe.
        forwarded_allow_ips=env_str("FORWARDED_ALLOW_IPS", "127.0.0.1"),
        order_overdue_seconds=_at_least_one("ORDER_OVERDUE_SECONDS", env_int("ORDER_OVERDUE_SECONDS", 60)),
        order_overdue_check_seconds=_at_least_one("ORDER_OVERDUE_CHECK_SECONDS",
                                                  env_float("ORDER_OVERDUE_CHECK_SECONDS", 15.0)),
        order_reconcile_window_seconds=_at_least_one("ORDER_RECONCILE_WINDOW_SECONDS",
                                                     env_int("ORDER_RECONCILE_WINDOW_SECONDS", 86400)),
    )


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
