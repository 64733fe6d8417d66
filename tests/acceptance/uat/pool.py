"""The run's few customer accounts: signed up once, on first use, and shared by every case that needs "a customer".

The deployment allows SIGNUP_MAX_PER_CLIENT (20) sign-ups per client address in SIGNUP_WINDOW_SECONDS (10
minutes), and a QA team's runner is one client. So the suite signs up fresh accounts only where a case is
about a fresh account (sign-up, an empty order list, a lockout), and otherwise takes one from this pool:
a run signs up at most about six accounts from its address, and two runs back to back stay within the limit.
Cases that share an account never assume it holds nothing but their own data: they compare before and after."""
from __future__ import annotations

from tests.acceptance.uat.client import Api
from tests.acceptance.uat.flows import Account, log_in, sign_up

# "customer" and "other_customer" (a second one for the cases about what one customer may see of another's).
POOL_SIZE = 2


class AccountPool:
    """Signs each account up the first time it is asked for, then hands out the same one."""

    def __init__(self, base_url: str):
        self.base_url = base_url
        self._accounts: dict[int, Account] = {}

    def account(self, index: int) -> Account:
        if not 0 <= index < POOL_SIZE:
            raise IndexError(f"the pool holds {POOL_SIZE} accounts")
        if index not in self._accounts:
            client = Api(self.base_url)
            try:
                self._accounts[index] = sign_up(client)
            finally:
                client.close()
        return self._accounts[index]

    def log_in_again(self, index: int) -> Account:
        """A fresh token for a pooled account whose tokens a case revoked (a logout), for the cases after it."""
        account = self.account(index)
        client = Api(self.base_url)
        try:
            self._accounts[index] = Account(account.user_id, account.password,
                                            log_in(client, account.user_id, account.password))
        finally:
            client.close()
        return self._accounts[index]

    @property
    def signed_up(self) -> int:
        return len(self._accounts)
