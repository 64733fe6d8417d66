"""order-ms's settings: the platform's plus tokens, demo accounts, login throttling and proxies (README table)."""
from __future__ import annotations

import functools
from dataclasses import dataclass

from services.platform.settings import Settings, env_bool, env_int, env_str, platform_fields

DEFAULT_DATABASE = "coffee_order"


@dataclass(frozen=True)
class OrderSettings(Settings):
    jwt_ttl_seconds: int
    demo_accounts: bool
    login_max_failures: int
    login_lockout_seconds: int
    login_max_failures_per_client: int
    signup_max_per_client: int
    signup_window_seconds: int
    trusted_proxy_hops: int
    forwarded_allow_ips: str


def load_settings() -> OrderSettings:
    shared = platform_fields(db_name=DEFAULT_DATABASE)
    return OrderSettings(
        **shared,
        jwt_ttl_seconds=env_int("JWT_TTL_SECONDS", 3600),
        demo_accounts=env_bool("DEMO_ACCOUNTS", shared["app_env"] == "local"),
        login_max_failures=env_int("LOGIN_MAX_FAILURES", 5),
        login_lockout_seconds=env_int("LOGIN_LOCKOUT_SECONDS", 300),
        login_max_failures_per_client=env_int("LOGIN_MAX_FAILURES_PER_CLIENT", 50),
        signup_max_per_client=env_int("SIGNUP_MAX_PER_CLIENT", 20),
        signup_window_seconds=env_int("SIGNUP_WINDOW_SECONDS", 600),
        trusted_proxy_hops=env_int("TRUSTED_PROXY_HOPS", 1),
        # The same variable tells gunicorn whose X-Forwarded-* headers to believe.
        forwarded_allow_ips=env_str("FORWARDED_ALLOW_IPS", "127.0.0.1"),
    )


@functools.lru_cache(maxsize=1)
def get_settings() -> OrderSettings:
    """The process-wide settings, read on first use."""
    return load_settings()
